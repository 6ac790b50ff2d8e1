/**
 * What the deploy does to the cluster, as API requests: every kubectl call of `scripts/deploy.sh`
 * (and the pipeline's `db-credentials` apply in `.gitlab-ci.yml`), with the API verbs kubectl 1.28
 * sends for it. The deployer's Role (main.ts) is computed from this table and the objects of the
 * environment's folder, so that it grants exactly what the deploy needs (test/guardrails.test.ts
 * proves every operation is allowed on every object and that no rule could be removed).
 *
 * kubectl call -> API verbs (kubectl 1.28 source, kubernetes/kubectl):
 *  - `get <type> -o json` (a collection, with or without `-l`): list.
 *  - `get <type> <name>`: get.
 *  - `apply --server-side`: patch (an apply patch); create when the object does not exist yet (the API
 *    server authorizes an apply patch that creates an object as `create` too: apiserver
 *    endpoints/handlers/patch.go); get when kubectl migrates client-side-apply managed fields of an
 *    object that still has the last-applied annotation (cmd/apply/apply.go, migrateToSSAIfNecessary).
 *  - `delete <type> <name>`: delete, then (`--wait`, the default) get until the object is gone, with a
 *    list + watch on its name while finalizers hold it (cmd/wait/wait.go, IsDeleted).
 *  - `rollout status deployment/<name>`: get, then list + watch on the name (cmd/rollout/rollout_status.go:
 *    Builder.Latest(), then watchtools.UntilWithSync over a ListWatch with a metadata.name field selector).
 *  - `logs job/<name> --all-containers`: get of the Job, list of its pods by its selector (watch when
 *    none is there yet), get of each container's pods/log (polymorphichelpers, GetFirstPod).
 */
import { ApiRequest, ApiVerb, resourceOf } from '../constructs/access';

/** The deploy's subcommands (`sh scripts/deploy.sh <command>`) and the pipeline's own kubectl calls. */
export type DeployCommand = 'apply' | 'smoke' | 'observe' | 'break-glass' | 'pipeline';

/** Which resources an operation touches. */
export type OperationTarget =
  /** Every kind the folder applies, in any release phase. */
  | { readonly each: 'applied-kind' }
  /** Every resource of the plan's `prune` line. */
  | { readonly each: 'prune-resource' }
  /** One resource (`resource[.group]` as kubectl takes it: `deployments.apps`, `pods/log`). */
  | { readonly resource: string }
  /** Each Secret the pipeline applies itself (named: `get` and `patch` are limited to it). */
  | { readonly each: 'pipeline-secret' };

/** When an operation happens. */
export type OperationCondition = 'always' | 'blue-green' | 'autoscaled' | 'pipeline-secrets';

/** One kubectl call of the deploy. */
export interface DeployOperation {
  readonly command: DeployCommand;
  /** The step of the script, as its comments name it. */
  readonly step: string;
  /** The kubectl call, as the script writes it. */
  readonly kubectl: string;
  readonly verbs: readonly ApiVerb[];
  readonly on: OperationTarget;
  /** When it runs: always, only where blue/green pairs exist, ... */
  readonly when: OperationCondition;
}

const SERVER_SIDE_APPLY: readonly ApiVerb[] = ['get', 'create', 'patch'];
/** A partial server-side apply of an object that exists (the hand-over, break-glass): no create. */
const PARTIAL_APPLY: readonly ApiVerb[] = ['get', 'patch'];
const DELETE_AND_WAIT: readonly ApiVerb[] = ['delete', 'get', 'list', 'watch'];

/** Every kubectl call of scripts/deploy.sh and of the pipeline's deploy jobs. */
export const DEPLOY_OPERATIONS: readonly DeployOperation[] = [
  { command: 'apply', step: 'read the cluster', kubectl: 'kubectl get services -o json', verbs: ['list'], on: { resource: 'services' }, when: 'always' },
  { command: 'apply', step: 'read the cluster', kubectl: 'kubectl get deployments.apps -o json', verbs: ['list'], on: { resource: 'deployments.apps' }, when: 'always' },
  { command: 'apply', step: '1. gate: smoke evidence', kubectl: 'kubectl get jobs.batch -l app.kubernetes.io/instance=<instance> -o json', verbs: ['list'], on: { resource: 'jobs.batch' }, when: 'blue-green' },
  { command: 'apply', step: '2. spec.replicas hand-over to the autoscaler', kubectl: 'kubectl apply --server-side --field-manager=soundcore-kcp-replicas-handover -f - (partial Deployment)', verbs: PARTIAL_APPLY, on: { resource: 'deployments.apps' }, when: 'autoscaled' },
  { command: 'apply', step: '2. spec.replicas taken back from an autoscaler', kubectl: 'kubectl get horizontalpodautoscalers.autoscaling -o json', verbs: ['list'], on: { resource: 'horizontalpodautoscalers.autoscaling' }, when: 'always' },
  { command: 'apply', step: '2. spec.replicas taken back from an autoscaler', kubectl: 'kubectl delete horizontalpodautoscaler.autoscaling <name>', verbs: DELETE_AND_WAIT, on: { resource: 'horizontalpodautoscalers.autoscaling' }, when: 'always' },
  { command: 'apply', step: '3. server-side apply of the folder', kubectl: 'kubectl apply --server-side --field-manager=soundcore-kcp-ci [--force-conflicts] -f <dir>', verbs: SERVER_SIDE_APPLY, on: { each: 'applied-kind' }, when: 'always' },
  { command: 'apply', step: '3. release break-glass fields', kubectl: 'kubectl apply --server-side --field-manager=soundcore-kcp-break-glass -f - (empty Service)', verbs: PARTIAL_APPLY, on: { resource: 'services' }, when: 'blue-green' },
  { command: 'apply', step: '3. stamp when traffic moved (bake time)', kubectl: 'kubectl annotate --overwrite service <name> deploy.soundcore-kcp.com/traffic-moved-at=<time>', verbs: ['get', 'patch'], on: { resource: 'services' }, when: 'blue-green' },
  { command: 'apply', step: '4. prune', kubectl: 'kubectl get <prune resources> -l <deploy set> -o json', verbs: ['list'], on: { each: 'prune-resource' }, when: 'always' },
  { command: 'apply', step: '4. prune', kubectl: 'kubectl delete <kind>/<name>...', verbs: DELETE_AND_WAIT, on: { each: 'prune-resource' }, when: 'always' },
  { command: 'apply', step: '5. wait for the rollouts', kubectl: 'kubectl rollout status deployment/<name>', verbs: ['get', 'list', 'watch'], on: { resource: 'deployments.apps' }, when: 'always' },
  { command: 'smoke', step: 'wait for the smoke-test Jobs', kubectl: 'kubectl get job <name> -o json', verbs: ['get'], on: { resource: 'jobs.batch' }, when: 'blue-green' },
  { command: 'smoke', step: 'log a failed smoke test', kubectl: 'kubectl logs job/<name> --all-containers=true', verbs: ['get'], on: { resource: 'jobs.batch' }, when: 'blue-green' },
  { command: 'smoke', step: 'log a failed smoke test', kubectl: 'kubectl logs job/<name> --all-containers=true', verbs: ['list', 'watch'], on: { resource: 'pods' }, when: 'blue-green' },
  { command: 'smoke', step: 'log a failed smoke test', kubectl: 'kubectl logs job/<name> --all-containers=true', verbs: ['get'], on: { resource: 'pods/log' }, when: 'blue-green' },
  { command: 'smoke', step: 'delete a failed smoke test', kubectl: 'kubectl delete job <name>', verbs: DELETE_AND_WAIT, on: { resource: 'jobs.batch' }, when: 'blue-green' },
  { command: 'observe', step: 'read the serving scale', kubectl: 'kubectl get services -o json; kubectl get deployments.apps -o json', verbs: ['list'], on: { resource: 'services' }, when: 'blue-green' },
  { command: 'observe', step: 'read the serving scale', kubectl: 'kubectl get deployments.apps -o json', verbs: ['list'], on: { resource: 'deployments.apps' }, when: 'blue-green' },
  { command: 'break-glass', step: 'read the pair', kubectl: 'kubectl get service <name> -o json', verbs: ['get'], on: { resource: 'services' }, when: 'blue-green' },
  { command: 'break-glass', step: 'read the pair', kubectl: 'kubectl get deployment <name> -o json', verbs: ['get'], on: { resource: 'deployments.apps' }, when: 'blue-green' },
  { command: 'break-glass', step: 'scale the previous colour', kubectl: 'kubectl get horizontalpodautoscaler.autoscaling <name> -o json', verbs: ['get'], on: { resource: 'horizontalpodautoscalers.autoscaling' }, when: 'blue-green' },
  { command: 'break-glass', step: 'scale the previous colour', kubectl: 'kubectl apply --server-side --field-manager=soundcore-kcp-break-glass --force-conflicts -f - (partial HorizontalPodAutoscaler)', verbs: PARTIAL_APPLY, on: { resource: 'horizontalpodautoscalers.autoscaling' }, when: 'blue-green' },
  { command: 'break-glass', step: 'scale the previous colour', kubectl: 'kubectl apply --server-side --field-manager=soundcore-kcp-break-glass --force-conflicts -f - (partial Deployment)', verbs: PARTIAL_APPLY, on: { resource: 'deployments.apps' }, when: 'blue-green' },
  { command: 'break-glass', step: 'move the traffic back', kubectl: 'kubectl apply --server-side --field-manager=soundcore-kcp-break-glass --force-conflicts -f - (partial Service)', verbs: PARTIAL_APPLY, on: { resource: 'services' }, when: 'blue-green' },
  { command: 'pipeline', step: 'db-credentials from CI/CD variables (.gitlab-ci.yml .staging-db-credentials)', kubectl: 'kubectl apply --server-side --field-manager=soundcore-kcp-ci -f - (Secret)', verbs: SERVER_SIDE_APPLY, on: { each: 'pipeline-secret' }, when: 'pipeline-secrets' },
];

/** What the deploy of one environment works on. */
export interface DeployFacts {
  /** apiVersion and kind of every object the deploy applies, in any release phase. */
  readonly applied: readonly { readonly apiVersion: string; readonly kind: string }[];
  /** The resources of the deploy plan's `prune` line (`deployments.apps`, `services`, ...). */
  readonly pruneResources: readonly string[];
  /** Whether the folder has blue/green pairs (traffic gates, smoke tests, observe, break-glass). */
  readonly blueGreen: boolean;
  /** Whether a Deployment of the folder is autoscaled (the hand-over applies spec.replicas). */
  readonly autoscaled: boolean;
  /** Secrets the pipeline applies itself, by name (staging's `db-credentials`). */
  readonly pipelineSecrets: readonly string[];
}

/** Kinds whose plural is not the regular one. */
const IRREGULAR_PLURALS = { Ingress: 'ingresses', NetworkPolicy: 'networkpolicies' };

/** `deployments.apps` -> { group: 'apps', resource: 'deployments' }; `pods/log` -> core. */
function parseResource(text: string): { group: string; resource: string } {
  const [head, sub] = text.split('/');
  const dot = head.indexOf('.');
  const resource = dot === -1 ? head : head.slice(0, dot);
  return { group: dot === -1 ? '' : head.slice(dot + 1), resource: sub === undefined ? resource : `${resource}/${sub}` };
}

/** Whether `operation` runs for an environment with these facts. */
export function operationRuns(operation: DeployOperation, facts: DeployFacts): boolean {
  switch (operation.when) {
    case 'always': return true;
    case 'blue-green': return facts.blueGreen;
    case 'autoscaled': return facts.autoscaled;
    case 'pipeline-secrets': return facts.pipelineSecrets.length > 0;
  }
}

/** The API requests of one operation for an environment (none when it does not run there). */
export function operationRequests(operation: DeployOperation, facts: DeployFacts): ApiRequest[] {
  if (!operationRuns(operation, facts)) return [];
  const on = operation.on;
  const targets: { group: string; resource: string; name?: string }[] = 'resource' in on ? [parseResource(on.resource)]
    : on.each === 'applied-kind' ? facts.applied.map((o) => resourceOf(o.apiVersion, o.kind, IRREGULAR_PLURALS))
      : on.each === 'prune-resource' ? facts.pruneResources.map(parseResource)
        : facts.pipelineSecrets.map((name) => ({ group: '', resource: 'secrets', name }));
  return targets.flatMap((t) => operation.verbs.map((verb) => ({ ...t, verb })));
}

/** Every API request the deploy of an environment makes. */
export function deployRequests(facts: DeployFacts): ApiRequest[] {
  return DEPLOY_OPERATIONS.flatMap((o) => operationRequests(o, facts));
}

/**
 * What a reviewer or on-call engineer reads (the optional read-only Role): the namespace's workloads
 * and their pods, events and logs, and the objects the deploy applies; never Secrets.
 */
export function reviewerRequests(facts: Pick<DeployFacts, 'applied'>): ApiRequest[] {
  const resources = [
    ...facts.applied.map((o) => resourceOf(o.apiVersion, o.kind, IRREGULAR_PLURALS)),
    { group: '', resource: 'pods' }, { group: '', resource: 'pods/log' }, { group: '', resource: 'events' },
    { group: 'events.k8s.io', resource: 'events' }, { group: 'apps', resource: 'replicasets' },
  ].filter((r) => r.resource !== 'secrets');
  return resources.flatMap((r) => (r.resource === 'pods/log' ? [{ ...r, verb: 'get' as const }]
    : (['get', 'list', 'watch'] as const).map((verb) => ({ ...r, verb }))));
}

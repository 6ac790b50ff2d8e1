/**
 * The deploy plan of an environment: `dist/<environment>/deploy-plan.tsv`, written with the
 * manifests and read by `scripts/deploy.sh` (which has only a shell, kubectl and jq: it cannot parse
 * YAML). It says, in lines of tab-separated fields, what the deploy must check and do around
 * `kubectl apply`:
 *
 *   namespace  <namespace>
 *   prune      <label selector>  <resource,resource,...>      what the deploy owns, and may delete
 *   object     <kind>  <name>                                  every object of the folder
 *   deployment <name>  <replicas | autoscaled>                 who owns spec.replicas
 *   traffic    <service>  <selector key>  <colour>  <deployment>  <image>  <other colour>  <other deployment>  <evidence | ->
 *   job        <name>                                          Jobs (smoke tests) to wait for
 *   rollout    <name>  <deployment | ->                        Argo Rollouts to wait for, and the Deployment
 *                                                              whose pod template each runs (workloadRef)
 *   bake       <service>  <idle deployment>  <its size in the folder>  <bake minutes>
 *
 * A `bake` line guards `finalize`: when the deploy that moved a Service's traffic stamped it (the
 * annotation {@link TRAFFIC_MOVED_AT}), a folder that shrinks the colour traffic left is refused until
 * the bake time has passed since then.
 *
 * A `traffic` line is a gate: when the Service in the cluster selects another colour than the one
 * in the folder, applying the folder moves traffic, and the deploy first checks in the cluster that
 * `<deployment>` runs `<image>`, has finished rolling out, and has at least as many ready pods as
 * `<other deployment>` serves with at that moment; with evidence `smoke:<instance>`, also that a
 * smoke-test Job of that staging attempt (label `app.kubernetes.io/instance=<instance>`) completed and
 * none failed. kubectl reads only `.yaml`, `.yml` and `.json` files of a folder, so this file is not applied.
 */
import { KubeObject } from '../synth/output';

/** A Service whose selector picks one colour of a blue/green pair. */
export interface TrafficGate {
  /** The Service that carries the traffic. */
  readonly service: string;
  /** The selector key naming the colour (e.g. `version`). */
  readonly selectorKey: string;
  /** The colour the folder selects. */
  readonly colour: string;
  /** The Deployment of that colour. */
  readonly deployment: string;
  /** The other colour. */
  readonly otherColour: string;
  /** The Deployment of the other colour (what serves while the Service still selects it). */
  readonly otherDeployment: string;
  /** Minutes after traffic moved before the colour it left may shrink. @default 0 */
  readonly bakeMinutes?: number;
  /**
   * The staging attempt whose smoke test must have passed before traffic moves to `deployment`
   * (`app.kubernetes.io/instance` of its Jobs). @default - no smoke evidence required
   */
  readonly smokeInstance?: string;
}

/** What the plan of one environment is made from. */
export interface DeployPlanInput {
  readonly environment: string;
  readonly namespace: string;
  /** The objects of the environment's folder. */
  readonly objects: readonly KubeObject[];
  readonly traffic: readonly TrafficGate[];
  /** The label every object of the folder carries and nothing else the deploy must keep does. */
  readonly pruneLabel: { readonly key: string; readonly value: string };
}

/**
 * Namespaced kinds the deploy prunes, with the resource name `kubectl get` takes. Kinds of core APIs
 * are always listed (a kind may leave the folder entirely: the last smoke-test Job after promote);
 * kinds of custom resources only while the folder has one, since a cluster without their CRD
 * answers an error. Never Secrets: the one the pipeline creates (db-credentials) is not in the folder.
 */
export const PRUNABLE: { readonly [kind: string]: { readonly resource: string; readonly core: boolean } } = {
  ConfigMap: { resource: 'configmaps', core: true },
  Service: { resource: 'services', core: true },
  Deployment: { resource: 'deployments.apps', core: true },
  Job: { resource: 'jobs.batch', core: true },
  HorizontalPodAutoscaler: { resource: 'horizontalpodautoscalers.autoscaling', core: true },
  PodDisruptionBudget: { resource: 'poddisruptionbudgets.policy', core: true },
  NetworkPolicy: { resource: 'networkpolicies.networking.k8s.io', core: true },
  Ingress: { resource: 'ingresses.networking.k8s.io', core: true },
  ServiceMonitor: { resource: 'servicemonitors.monitoring.coreos.com', core: false },
  PodMonitor: { resource: 'podmonitors.monitoring.coreos.com', core: false },
  Probe: { resource: 'probes.monitoring.coreos.com', core: false },
  PrometheusRule: { resource: 'prometheusrules.monitoring.coreos.com', core: false },
  AlertmanagerConfig: { resource: 'alertmanagerconfigs.monitoring.coreos.com', core: false },
  ExternalSecret: { resource: 'externalsecrets.external-secrets.io', core: false },
  HTTPRoute: { resource: 'httproutes.gateway.networking.k8s.io', core: false },
  Rollout: { resource: 'rollouts.argoproj.io', core: false },
  AnalysisTemplate: { resource: 'analysistemplates.argoproj.io', core: false },
};

/** The resources the deploy prunes for a folder holding `kinds`: the core ones always, custom ones while present. */
export function pruneResources(kinds: readonly string[]): string[] {
  const present = new Set(kinds);
  return Object.entries(PRUNABLE).filter(([kind, p]) => p.core || present.has(kind)).map(([, p]) => p.resource);
}

/** The annotation the deploy stamps on a Service when it moves its traffic: `<epoch seconds> <UTC time>`. */
export const TRAFFIC_MOVED_AT = 'deploy.soundcore-kcp.com/traffic-moved-at';

/** Kinds that are not namespaced: applied, never pruned by a namespace's deploy. */
const CLUSTER_SCOPED = new Set(['Namespace']);

/** A field of a plan line: no tab, newline or empty value can reach the shell. */
function field(value: string): string {
  if (value === '' || /[\t\n\r]/.test(value)) throw new Error(`deploy plan: ${JSON.stringify(value)} cannot be a field (empty, or a tab or newline in it)`);
  return value;
}

/** Renders `deploy-plan.tsv`. @throws Error when the folder holds a namespaced kind the deploy could not prune. */
export function renderDeployPlan(input: DeployPlanInput): string {
  const line = (...fields: string[]) => fields.map(field).join('\t');
  const objects = [...input.objects].sort((a, b) => (a.kind === b.kind ? (a.metadata.name < b.metadata.name ? -1 : 1) : a.kind < b.kind ? -1 : 1));
  const unprunable = [...new Set(objects.map((o) => o.kind).filter((k) => !CLUSTER_SCOPED.has(k) && PRUNABLE[k] === undefined))];
  if (unprunable.length > 0) {
    throw new Error(`${input.environment}: the deploy cannot prune ${unprunable.join(', ')}: add ${unprunable.length === 1 ? 'it' : 'them'} to PRUNABLE in release/deploy-plan.ts`);
  }
  const resources = pruneResources(objects.map((o) => o.kind));
  const autoscaled = new Set(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')
    .map((o) => (o as { spec?: { scaleTargetRef?: { kind?: string; name?: string } } }).spec?.scaleTargetRef)
    .filter((ref) => ref?.kind === 'Deployment').map((ref) => ref!.name!));
  const byName = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const lines = [
    `# Deploy plan of dist/${input.environment}/, read by scripts/deploy.sh (see release/deploy-plan.ts). Generated by \`npm run synth\`; do not edit.`,
    line('namespace', input.namespace),
    line('prune', `${input.pruneLabel.key}=${input.pruneLabel.value}`, resources.join(',')),
    ...objects.map((o) => line('object', o.kind, o.metadata.name)),
    ...objects.filter((o) => o.kind === 'Deployment').map((o) => {
      const replicas = (o as { spec?: { replicas?: number } }).spec?.replicas;
      return line('deployment', o.metadata.name, autoscaled.has(o.metadata.name) ? 'autoscaled' : String(replicas ?? 1));
    }),
    ...[...input.traffic].sort((a, b) => (a.service < b.service ? -1 : 1)).map((t) => {
      const deployment = byName('Deployment', t.deployment) as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } } | undefined;
      const image = deployment?.spec?.template?.spec?.containers?.[0]?.image;
      if (image === undefined) throw new Error(`${input.environment}: the Service ${t.service} selects ${t.deployment}, which is not in the folder`);
      return line('traffic', t.service, t.selectorKey, t.colour, t.deployment, image, t.otherColour, t.otherDeployment,
        t.smokeInstance !== undefined ? `smoke:${t.smokeInstance}` : '-');
    }),
    ...objects.filter((o) => o.kind === 'Job').map((o) => line('job', o.metadata.name)),
    ...objects.filter((o) => o.kind === 'Rollout').map((o) => {
      const ref = (o as { spec?: { workloadRef?: { kind?: string; name?: string } } }).spec?.workloadRef;
      return line('rollout', o.metadata.name, ref?.kind === 'Deployment' && ref.name !== undefined ? ref.name : '-');
    }),
    ...[...input.traffic].sort((a, b) => (a.service < b.service ? -1 : 1)).map((t) => {
      const idle = byName('Deployment', t.otherDeployment) as { spec?: { replicas?: number } } | undefined;
      const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler'
        && (o as { spec?: { scaleTargetRef?: { name?: string } } }).spec?.scaleTargetRef?.name === t.otherDeployment) as { spec?: { minReplicas?: number } } | undefined;
      return line('bake', t.service, t.otherDeployment, String(hpa?.spec?.minReplicas ?? idle?.spec?.replicas ?? 1), String(t.bakeMinutes ?? 0));
    }),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The namespace guardrails of an environment, derived from what it runs: the deployer's Role (from
 * the objects of the folder and the deploy's operations, release/deploy-operations.ts), an optional
 * read-only Role for reviewers, and a ResourceQuota and LimitRange sized for the worst moment of a
 * release. They bound the deployer, so the deployer never applies them: they are written to
 * `dist/<env>/platform/` with the Namespace, which a platform administrator applies (README
 * "Namespace guardrails"); `kubectl apply -f dist/<env>` does not descend into it.
 */
import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  AccessSubject, ContainerResources, Microservice, NamespaceAccess, NamespaceQuota, podsFootprint, QuotaFootprint, SMOKE_TEST_RESOURCES, surgePods,
} from '../constructs';
import type { ResolvedEnvironment } from '../environments';
import { pruneResources } from './deploy-plan';
import { DeployFacts, deployRequests, reviewerRequests } from './deploy-operations';

/** Kinds a platform administrator applies (`dist/<env>/platform/`), never the deployer. */
export const PLATFORM_KINDS: ReadonlySet<string> = new Set(['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'ResourceQuota', 'LimitRange']);

/** The ServiceAccount the deploy runs as (what the CI agent impersonates). */
export const DEPLOYER = 'soundcore-kcp-deployer';

/** Headroom of the quota when the environment sets none (percent). */
export const DEFAULT_HEADROOM_PERCENT = 20;

/**
 * cert-manager's HTTP-01 solver pod: its default requests and limits (cert-manager controller flags
 * `--acme-http01-solver-resource-request-cpu=10m`, `-request-memory=64Mi`, `-limit-cpu=100m`,
 * `-limit-memory=64Mi`), one pod per host being issued or renewed at a time.
 */
export const ACME_SOLVER_RESOURCES: ContainerResources = { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } };

/** What the guardrails of one environment are derived from. */
export interface GuardrailsInput {
  readonly environment: ResolvedEnvironment;
  /** The workloads, by component. */
  readonly workloads: ReadonlyMap<string, Microservice>;
  /** Hosts of the Ingress (an HTTP-01 solver pod each while its certificate is issued). */
  readonly ingressHosts: number;
  /** Secrets the pipeline applies itself (staging's `db-credentials`). */
  readonly pipelineSecrets: readonly string[];
  /** Labels of every guardrail object. */
  readonly labels: { readonly [key: string]: string };
  /** Name prefix of the guardrail objects (the project). */
  readonly prefix: string;
}

/** The deploy facts of a chart, read from its objects when the chart is synthesized. */
export function deployFactsOf(chart: Chart, workloads: ReadonlyMap<string, Microservice>, pipelineSecrets: readonly string[]): DeployFacts {
  const objects = apiObjectsOf(chart).filter((o) => !PLATFORM_KINDS.has(o.kind));
  const blueGreen = [...workloads.values()].some((w) => w.release.blueGreen !== undefined);
  // Smoke-test Jobs are in the folder only while a version is staged: the Role must not change with the phase.
  const applied = [...objects.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind })), ...(blueGreen ? [{ apiVersion: 'batch/v1', kind: 'Job' }] : [])];
  const unique = [...new Map(applied.map((a) => [`${a.apiVersion} ${a.kind}`, a])).values()];
  return {
    applied: unique,
    pruneResources: pruneResources(unique.map((a) => a.kind)),
    blueGreen,
    autoscaled: [...workloads.values()].some((w) => w.autoscalers.length > 0),
    pipelineSecrets,
  };
}

/** The worst moment of a release for each workload, its smoke test, the ACME solver and what the environment reserves. */
export function releaseFootprints(input: Pick<GuardrailsInput, 'environment' | 'workloads' | 'ingressHosts'>): QuotaFootprint[] {
  const env = input.environment;
  const footprints: QuotaFootprint[] = [];
  for (const w of input.workloads.values()) {
    const settings = env.components[w.name];
    const bg = w.release.blueGreen;
    // A colour runs at most the autoscaler's maximum (a release's size never exceeds it), or its
    // configured replicas. Never the release state's size: the quota is applied by a platform
    // administrator and must not change with a release (a size above the replicas of a component
    // without autoscaler is reported by the gate, validate/guardrails.ts).
    const each = settings.autoscaling?.maxReplicas ?? settings.replicas;
    const surge = surgePods(each);
    // An Argo Rollout runs two revisions at full size at its peak too: blue/green's preview before its
    // previous revision scales down, a canary at 100 % before the stable one is replaced.
    const deployments = bg === undefined && w.rollout === undefined ? 1 : 2;
    const basis = `${deployments === 2 ? (bg === undefined ? '2 revisions x ' : '2 colours x ') : ''}(${each}${settings.autoscaling ? ' autoscaler max' : ''} + ${surge} surge) pods`;
    footprints.push(podsFootprint(w.name, basis, deployments * (each + surge), settings.resources));
    if (bg !== undefined || w.rollout !== undefined) {
      footprints.push(podsFootprint(`${w.name} smoke test`, bg !== undefined ? '1 Job pod while staged' : '1 analysis Job pod while rolling out', 1, {
        requests: { cpu: `${SMOKE_TEST_RESOURCES.requests.cpu}m`, memory: `${SMOKE_TEST_RESOURCES.requests.memory}Mi` },
        limits: { cpu: `${SMOKE_TEST_RESOURCES.limits.cpu}m`, memory: `${SMOKE_TEST_RESOURCES.limits.memory}Mi` },
      }, { sizesDefaults: false }));
    }
  }
  if (input.ingressHosts > 0) {
    footprints.push(podsFootprint('acme-http01-solver', `${input.ingressHosts} hosts issued at once`, input.ingressHosts, ACME_SOLVER_RESOURCES, { sizesDefaults: false }));
  }
  const u = env.guardrails?.unmanaged;
  if (u !== undefined && u.pods > 0) {
    footprints.push(podsFootprint('unmanaged', `${u.pods} pods reserved by guardrails.unmanaged`, u.pods, { requests: u.requests, limits: u.limits }, { sizesDefaults: false }));
  }
  return footprints;
}

/** Adds the deployer's Role, the reviewers' Role (when groups are configured), the ResourceQuota and the LimitRange. */
export function addGuardrails(scope: Construct, input: GuardrailsInput): { deployer: NamespaceAccess; quota: NamespaceQuota; reviewers?: NamespaceAccess } {
  const env = input.environment;
  const chart = Chart.of(scope);
  const root = new Construct(scope, 'Guardrails');
  const deployer = new NamespaceAccess(root, 'Deployer', {
    name: DEPLOYER, subjects: [AccessSubject.serviceAccount(DEPLOYER)], labels: input.labels,
    requests: () => deployRequests(deployFactsOf(chart, input.workloads, input.pipelineSecrets)),
  });
  const groups = env.guardrails?.reviewerGroups ?? [];
  const reviewers = groups.length === 0 ? undefined : new NamespaceAccess(root, 'Reviewers', {
    name: `${input.prefix}-reviewer`, subjects: groups.map((g) => AccessSubject.group(g)), labels: input.labels,
    requests: () => reviewerRequests(deployFactsOf(chart, input.workloads, input.pipelineSecrets)),
  });
  const workloads = [...input.workloads.values()];
  const u = env.guardrails?.unmanaged;
  const quota = new NamespaceQuota(root, 'Quota', {
    name: input.prefix,
    labels: input.labels,
    footprints: releaseFootprints(input),
    headroomPercent: env.guardrails?.headroomPercent ?? DEFAULT_HEADROOM_PERCENT,
    budget: env.guardrails?.budget,
    objectCounts: {
      'count/deployments.apps': workloads.reduce((n, w) => n + w.deployments.length, 0) + (u?.deployments ?? 0),
      'count/horizontalpodautoscalers.autoscaling': workloads.reduce((n, w) => n + w.autoscalers.length + (w.rollout?.autoscaler === undefined ? 0 : 1), 0),
      'count/jobs.batch': workloads.filter((w) => w.release.blueGreen !== undefined).length
        + workloads.reduce((n, w) => n + (w.rollout?.maxAnalysisJobs ?? 0), 0),
      'services': workloads.reduce((n, w) => n + w.services.length, 0) + (u?.services ?? 0),
      'services.loadbalancers': 0,
      'services.nodeports': 0,
    },
  });
  return { deployer, quota, ...(reviewers !== undefined ? { reviewers } : {}) };
}

/** Every ApiObject of a chart, at any depth (`Chart.apiObjects` lists only its direct children). */
function apiObjectsOf(chart: Chart): ApiObject[] {
  return chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
}

/** Whether an object goes to the platform folder. */
export function isPlatformObject(o: { readonly kind: string }): boolean {
  return PLATFORM_KINDS.has(o.kind);
}

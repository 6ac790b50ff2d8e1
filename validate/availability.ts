/**
 * Cross-object checks of availability during voluntary disruptions (node drains, upgrades): every
 * workload that can run more than one replica is covered by a PodDisruptionBudget, every PDB covers
 * some pods, and every HorizontalPodAutoscaler scales something that exists.
 */
import { EnvironmentIndex } from './environment';
import { asObject, asString, Finding, findingAt, JsonPath, ManifestObject, valueAt } from './findings';
import { groupOf } from './registry';
import { describeLabels, describeSelector, podTemplateOf } from './workloads';

/** Kinds whose replicas a PodDisruptionBudget protects (and an HPA can scale). */
export const REPLICATED_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

function autoscalers(env: EnvironmentIndex): ManifestObject[] {
  return env.ofKind('autoscaling', 'HorizontalPodAutoscaler');
}

function targetOf(hpa: ManifestObject): { kind: string; name: string; group: string } {
  const ref = asObject(asObject(hpa.body.spec).scaleTargetRef);
  return { kind: asString(ref.kind) ?? '', name: asString(ref.name) ?? '', group: groupOf(asString(ref.apiVersion) ?? '') };
}

/** The autoscalers of `env` by the namespace, kind and name they target (in their order). */
function autoscalersByTarget(env: EnvironmentIndex): Map<string, ManifestObject[]> {
  const byTarget = new Map<string, ManifestObject[]>();
  for (const hpa of autoscalers(env)) {
    const target = targetOf(hpa);
    const key = targetKey(hpa.namespace, target.kind, target.name);
    byTarget.set(key, [...(byTarget.get(key) ?? []), hpa]);
  }
  return byTarget;
}

function targetKey(namespace: string | undefined, kind: string, name: string): string {
  return JSON.stringify([namespace ?? null, kind, name]);
}

/** The most replicas `workload` can run: its own `replicas` (default 1) or the maxReplicas of an HPA targeting it. */
function maxReplicas(byTarget: Map<string, ManifestObject[]>, workload: ManifestObject): { count: number; path: JsonPath; why: string } {
  const replicas = asObject(workload.body.spec).replicas;
  const own = typeof replicas === 'number' ? replicas : 1;
  let best = { count: own, path: ['spec', 'replicas'] as JsonPath, why: `runs ${own} replicas` };
  for (const hpa of byTarget.get(targetKey(workload.namespace, workload.kind, workload.name)) ?? []) {
    const max = asObject(hpa.body.spec).maxReplicas;
    if (typeof max === 'number' && max > best.count) best = { count: max, path: [], why: `scales up to ${max} replicas (HorizontalPodAutoscaler ${hpa.name})` };
  }
  return best;
}

/** Every workload that can run more than one replica has a PodDisruptionBudget selecting its pods. */
export function checkDisruptionBudgets(env: EnvironmentIndex): Finding[] {
  const byTarget = autoscalersByTarget(env);
  // each budget's pods, found once by label index, give each workload its budgets (in budget order)
  const budgetsOf = new Map<ManifestObject, ManifestObject[]>();
  for (const pdb of env.ofKind('policy', 'PodDisruptionBudget')) {
    for (const pod of env.podIndex(pdb.namespace).selectedBy(asObject(pdb.body.spec).selector)) {
      budgetsOf.set(pod.owner, [...(budgetsOf.get(pod.owner) ?? []), pdb]);
    }
  }
  return env.objects.filter((o) => REPLICATED_KINDS.has(o.kind)).flatMap((workload) => {
    const max = maxReplicas(byTarget, workload);
    if (max.count <= 1) return [];
    const labels = podTemplateOf(workload)?.labels ?? {};
    const covering = budgetsOf.get(workload) ?? [];
    const selector = asObject(workload.body.spec).selector;
    const pods = selector === undefined ? `labels ${describeLabels(labels) || 'none'}` : `selector ${describeSelector(selector)}`;
    if (covering.length > 1) {
      // the eviction API refuses pods selected by more than one budget, so `kubectl drain` would fail
      return [findingAt(workload, 'disruption/pdb-overlap', max.path, `its pods (${pods}) are selected by ${covering.length} `
        + `PodDisruptionBudgets (${covering.map((p) => p.name).join(', ')}); evictions fail for pods with more than one, so node drains would stall`)];
    }
    return covering.length === 1 ? [] : [findingAt(workload, 'disruption/pdb-coverage', max.path,
      `${max.why} but no PodDisruptionBudget in namespace ${workload.namespace ?? '(none)'} selects its pods (${pods}); a node drain could evict them all at once`)];
  });
}

/** Every PodDisruptionBudget selects the pods of at least one workload. */
export function checkDisruptionBudgetSelectors(env: EnvironmentIndex): Finding[] {
  return env.ofKind('policy', 'PodDisruptionBudget').flatMap((pdb) => {
    const selector = asObject(pdb.body.spec).selector;
    if (env.podIndex(pdb.namespace).anySelectedBy(selector)) return [];
    return [findingAt(pdb, 'disruption/pdb-selector', ['spec', 'selector'],
      `selects no pods: no pod template in namespace ${pdb.namespace ?? '(none)'} matches ${describeSelector(selector)}`)];
  });
}

/** Every HorizontalPodAutoscaler targets a workload of its namespace that is in the output. */
export function checkAutoscalerTargets(env: EnvironmentIndex): Finding[] {
  return autoscalers(env).flatMap((hpa) => {
    const target = targetOf(hpa);
    if (env.find(target.group, target.kind, hpa.namespace, target.name) !== undefined) return [];
    return [findingAt(hpa, 'autoscaling/target', ['spec', 'scaleTargetRef'],
      `targets ${target.kind} ${JSON.stringify(target.name)}, which is not in namespace ${hpa.namespace ?? '(none)'} of the output`)];
  });
}

/** Fields that take an integer or a percentage string (`"25%"`); any other string is rejected by the API server. */
const INT_OR_PERCENT: ReadonlyArray<{ readonly kinds: readonly string[]; readonly path: JsonPath }> = [
  { kinds: ['Deployment'], path: ['spec', 'strategy', 'rollingUpdate', 'maxSurge'] },
  { kinds: ['Deployment', 'DaemonSet'], path: ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'] },
  { kinds: ['DaemonSet'], path: ['spec', 'updateStrategy', 'rollingUpdate', 'maxSurge'] },
  { kinds: ['DaemonSet', 'StatefulSet'], path: ['spec', 'updateStrategy', 'rollingUpdate', 'maxUnavailable'] },
  { kinds: ['PodDisruptionBudget'], path: ['spec', 'minAvailable'] },
  { kinds: ['PodDisruptionBudget'], path: ['spec', 'maxUnavailable'] },
];

/** Int-or-percent fields hold an integer or a percentage such as `"25%"`, never another string (`"1"`). */
export function checkIntOrPercent(object: ManifestObject): Finding[] {
  return INT_OR_PERCENT.filter((f) => f.kinds.includes(object.kind)).flatMap(({ path }) => {
    const value = valueAt(object.body, path);
    if (typeof value !== 'string' || /^\d+%$/.test(value)) return [];
    return [findingAt(object, 'value/int-or-percent', path, `must be an integer or a percentage such as "25%", got string ${JSON.stringify(value)}`)];
  });
}

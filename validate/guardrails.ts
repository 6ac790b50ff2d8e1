/**
 * Cross-object checks of the namespace guardrails: RBAC (every RoleBinding's Role and ServiceAccount
 * subjects exist, nothing cluster-wide, no wildcard, no verb that grants more than it names) and the
 * ResourceQuota and LimitRange (the environment's workloads at the peak of a rollout fit the quota;
 * every container is within the LimitRange's maxima).
 */
import { parseQuantity } from '../constructs/quantity';
import { EnvironmentIndex, inNamespace } from './environment';
import { asArray, asObject, asString, Finding, findingAt, JsonPath, ManifestObject } from './findings';
import { containersOf } from './workloads';

/** Verbs that grant more than the objects they name (privilege escalation). */
const ESCALATING_VERBS = new Set(['*', 'escalate', 'bind', 'impersonate']);

/** Each RoleBinding refers to a Role of its namespace and to ServiceAccounts that exist; none to a ClusterRole. */
export function checkRoleBindings(env: EnvironmentIndex): Finding[] {
  const findings: Finding[] = [];
  for (const o of [...env.ofKind('rbac.authorization.k8s.io', 'ClusterRole'), ...env.ofKind('rbac.authorization.k8s.io', 'ClusterRoleBinding')]) {
    findings.push(findingAt(o, 'rbac/cluster-scoped', [], `a ${o.kind} grants access outside the namespace: the environment's access is namespaced (Role and RoleBinding)`));
  }
  for (const binding of env.ofKind('rbac.authorization.k8s.io', 'RoleBinding')) {
    const ref = asObject(binding.body.roleRef);
    const kind = asString(ref.kind) ?? '';
    const name = asString(ref.name) ?? '';
    if (kind !== 'Role') {
      findings.push(findingAt(binding, 'rbac/cluster-scoped', ['roleRef', 'kind'], `refers to a ${kind || '(no kind)'}: bind a Role of namespace ${binding.namespace ?? '(none)'} instead`));
    } else if (env.find('rbac.authorization.k8s.io', 'Role', binding.namespace, name) === undefined) {
      const roles = env.ofKindIn('rbac.authorization.k8s.io', 'Role', binding.namespace).map((r) => r.name).sort();
      findings.push(findingAt(binding, 'rbac/role-missing', ['roleRef', 'name'],
        `Role ${inNamespace(name, binding.namespace)} is not in the environment (Roles there: ${roles.join(', ') || 'none'})`));
    }
    asArray(binding.body.subjects).forEach((s, i) => {
      const subject = asObject(s);
      if (asString(subject.kind) !== 'ServiceAccount') return; // groups and users come from the cluster's authenticator
      const account = asString(subject.name) ?? '';
      const namespace = asString(subject.namespace) ?? binding.namespace;
      if (env.find('', 'ServiceAccount', namespace, account) === undefined) {
        findings.push(findingAt(binding, 'rbac/subject-missing', ['subjects', i, 'name'],
          `ServiceAccount ${inNamespace(account, namespace)} is not in the environment`));
      }
    });
  }
  return findings;
}

/** No Role grants a wildcard or an escalating verb. */
export function checkRoleRules(env: EnvironmentIndex): Finding[] {
  return env.ofKind('rbac.authorization.k8s.io', 'Role').flatMap((role) => asArray(role.body.rules).flatMap((r, i) => {
    const rule = asObject(r);
    const out: Finding[] = [];
    for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) {
      asArray(rule[field]).forEach((v, j) => {
        if (v === '*' || (typeof v === 'string' && v.endsWith('/*'))) {
          out.push(findingAt(role, 'rbac/wildcard', ['rules', i, field, j], `${JSON.stringify(v)} grants whatever exists now or later: name each one`));
        } else if (field === 'verbs' && typeof v === 'string' && ESCALATING_VERBS.has(v)) {
          out.push(findingAt(role, 'rbac/escalation', ['rules', i, field, j], `"${v}" lets the subject grant itself or act as more than this Role names`));
        }
      });
    }
    return out;
  }));
}

/** CPU in millicores and memory in MiB of one container's requests or limits (0 when unset). */
function figures(container: unknown, side: 'requests' | 'limits'): { cpu: number; memory: number } {
  const r = asObject(asObject(asObject(container).resources)[side]);
  return { cpu: Math.round((parseQuantity(r.cpu) ?? 0) * 1000), memory: Math.ceil((parseQuantity(r.memory) ?? 0) / 2 ** 20) };
}

/** The most replicas a workload (Deployment or Rollout) may run: its replicas, or its HPA's maximum when higher. */
function mostReplicas(env: EnvironmentIndex, workload: ManifestObject): number {
  const replicas = asObject(workload.body.spec).replicas;
  let most = typeof replicas === 'number' ? replicas : 1;
  for (const hpa of env.ofKindIn('autoscaling', 'HorizontalPodAutoscaler', workload.namespace)) {
    const hs = asObject(hpa.body.spec);
    const ref = asObject(hs.scaleTargetRef);
    if (asString(ref.kind) === workload.kind && asString(ref.name) === workload.name && typeof hs.maxReplicas === 'number') most = Math.max(most, hs.maxReplicas);
  }
  return most;
}

/** Pods a Deployment may run at the peak of a rollout: its most replicas (an HPA's max) plus its maxSurge. */
function deploymentPeak(env: EnvironmentIndex, deployment: ManifestObject): { pods: number; why: string } {
  const spec = asObject(deployment.body.spec);
  const most = mostReplicas(env, deployment);
  const surgeValue = asObject(asObject(spec.strategy).rollingUpdate).maxSurge ?? '25%';
  const surge = typeof surgeValue === 'number' ? surgeValue
    : typeof surgeValue === 'string' && /^\d+%$/.test(surgeValue) ? Math.ceil((most * Number(surgeValue.slice(0, -1))) / 100) : 0;
  return { pods: most + surge, why: `${most} + ${surge} surge` };
}

/**
 * The Argo Rollout running a Deployment's pod template (`spec.workloadRef`), if any: the Deployment
 * itself stays at 0 replicas and the Rollout's ReplicaSets run the pods.
 */
function rolloutOf(env: EnvironmentIndex, deployment: ManifestObject): ManifestObject | undefined {
  return env.ofKindIn('argoproj.io', 'Rollout', deployment.namespace).find((r) => {
    const ref = asObject(asObject(r.body.spec).workloadRef);
    return asString(ref.kind) === 'Deployment' && asString(ref.name) === deployment.name;
  });
}

/**
 * Pods an Argo Rollout may run at the peak of a release: its most replicas (an HPA's max) twice.
 * Both strategies reach it: blue/green scales the preview to full size before the switch and keeps
 * the old active for `scaleDownDelaySeconds` after it; a canary with traffic routing keeps the stable
 * ReplicaSet at full size while the canary grows to its last weight, 100 % at promotion.
 */
function rolloutPeak(env: EnvironmentIndex, rollout: ManifestObject): { pods: number; why: string } {
  const most = mostReplicas(env, rollout);
  return { pods: 2 * most, why: `Rollout ${rollout.name}: ${most} + ${most} of the new revision` };
}

const QUOTA_FIELDS = ['pods', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'] as const;

/**
 * The workloads of each quota's namespace at their peak (every Deployment at its most replicas plus
 * its rolling surge, a Deployment run by an Argo Rollout at twice the Rollout's most replicas, every
 * Job at its parallelism) fit the ResourceQuota's CPU, memory and pods; and
 * every container is within the namespace's LimitRange maxima.
 */
export function checkQuotas(env: EnvironmentIndex): Finding[] {
  const findings: Finding[] = [];
  for (const quota of env.ofKind('', 'ResourceQuota')) {
    const hard = asObject(asObject(quota.body.spec).hard);
    const need = { 'pods': 0, 'requests.cpu': 0, 'requests.memory': 0, 'limits.cpu': 0, 'limits.memory': 0 };
    const shares: { name: string; pods: number; why: string }[] = [];
    for (const pod of env.podsIn(quota.namespace)) {
      const owner = pod.owner;
      const rollout = owner.kind === 'Deployment' ? rolloutOf(env, owner) : undefined;
      const peak = rollout !== undefined ? rolloutPeak(env, rollout)
        : owner.kind === 'Deployment' ? deploymentPeak(env, owner)
        : owner.kind === 'Job' ? { pods: typeof asObject(owner.body.spec).parallelism === 'number' ? asObject(owner.body.spec).parallelism as number : 1, why: 'parallelism' }
          : { pods: 1, why: '1 pod' };
      shares.push({ name: `${owner.kind} ${owner.name}`, pods: peak.pods, why: peak.why });
      need.pods += peak.pods;
      for (const c of containersOf(pod).filter((x) => x.list === 'containers')) {
        const req = figures(c.container, 'requests');
        const lim = figures(c.container, 'limits');
        need['requests.cpu'] += peak.pods * req.cpu;
        need['requests.memory'] += peak.pods * req.memory;
        need['limits.cpu'] += peak.pods * lim.cpu;
        need['limits.memory'] += peak.pods * lim.memory;
      }
    }
    for (const field of QUOTA_FIELDS) {
      if (hard[field] === undefined) continue;
      const value = parseQuantity(hard[field]) ?? NaN;
      const allowed = field === 'pods' ? value : field.endsWith('cpu') ? Math.round(value * 1000) : Math.floor(value / 2 ** 20);
      if (need[field] > allowed) {
        const unit = field === 'pods' ? '' : field.endsWith('cpu') ? 'm' : 'Mi';
        findings.push(findingAt(quota, 'quota/exceeded', ['spec', 'hard', field],
          `the workloads of namespace ${quota.namespace ?? '(none)'} at the peak of a rollout need ${need[field]}${unit}, above ${String(hard[field])} `
          + `(${shares.map((s) => `${s.name}: ${s.pods} pods, ${s.why}`).join('; ')})`));
      }
    }
  }
  for (const range of env.ofKind('', 'LimitRange')) {
    for (const [i, item] of asArray(asObject(range.body.spec).limits).entries()) {
      const limit = asObject(item);
      if (asString(limit.type) !== 'Container') continue;
      const max = asObject(limit.max);
      for (const pod of env.podsIn(range.namespace)) {
        for (const c of containersOf(pod)) {
          const lim = figures(c.container, 'limits');
          for (const resource of ['cpu', 'memory'] as const) {
            if (max[resource] === undefined) continue;
            const bound = resource === 'cpu' ? Math.round((parseQuantity(max[resource]) ?? NaN) * 1000) : Math.floor((parseQuantity(max[resource]) ?? NaN) / 2 ** 20);
            if (lim[resource] > bound) {
              const path: JsonPath = [...c.path, 'resources', 'limits', resource];
              findings.push(findingAt(pod.owner, 'quota/above-limit-range', path,
                `limits.${resource} ${lim[resource]}${resource === 'cpu' ? 'm' : 'Mi'} is above the maximum ${String(max[resource])} of LimitRange ${range.name} (spec.limits[${i}].max): the API server refuses the pod`));
            }
          }
        }
      }
    }
  }
  return findings;
}

/** The guardrail checks, run on each environment by the gate (validate/index.ts). */
export const GUARDRAIL_CHECKS: readonly ((env: EnvironmentIndex) => Finding[])[] = [checkRoleBindings, checkRoleRules, checkQuotas];

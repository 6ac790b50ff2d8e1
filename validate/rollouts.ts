/**
 * Cross-object checks of Argo Rollouts (`argoproj.io`): what a Rollout names must exist and fit, as
 * the controller would otherwise find out only while rolling out (a Rollout stuck in `Degraded`,
 * an AnalysisRun in `Error`).
 *
 * - `rollout/workload-ref`: `spec.workloadRef` names a Deployment of the namespace, and the Rollout's
 *   selector matches its pod template (Argo refuses a selector that does not select the template);
 * - `rollout/service`: every Service the strategy names (blue/green `activeService`/`previewService`,
 *   canary `stableService`/`canaryService`) exists and its selector matches the Rollout's pods (the
 *   controller adds `rollouts-pod-template-hash` to it, it cannot widen it);
 * - `rollout/analysis-template`: every template an analysis references exists (an AnalysisTemplate
 *   of the namespace, a ClusterAnalysisTemplate with `clusterScope: true`);
 * - `rollout/analysis-args`: every argument of a referenced template without a `value` or
 *   `valueFrom` is supplied by the analysis' `args` (else the AnalysisRun fails to start);
 * - `rollout/canary-weights`: `setWeight` steps are integers from 0 to 100 that never decrease
 *   (traffic only moves forward; moving back is an abort);
 * - `rollout/stable-ingress`: the nginx `stableIngress` exists and routes to the `stableService`.
 *
 * That an HPA's Rollout exists is `autoscaling/target` (validate/availability.ts).
 */
import { EnvironmentIndex } from './environment';
import { asArray, asObject, asString, Finding, findingAt, isObject, JsonObject, JsonPath, ManifestObject, valueAt } from './findings';
import { describeLabels, describeSelector, labelSelectorMatches, mapSelects, podTemplateOf } from './workloads';

const ARGO = 'argoproj.io';

/** The pod labels of a Rollout: its own template's, or its workloadRef Deployment's. */
function rolloutPodLabels(env: EnvironmentIndex, rollout: ManifestObject): { readonly [key: string]: string } | undefined {
  const spec = asObject(rollout.body.spec);
  if (isObject(spec.template)) return podTemplateOf(rollout)?.labels;
  const ref = asObject(spec.workloadRef);
  const name = asString(ref.name);
  if (name === undefined) return undefined;
  const deployment = env.find('apps', asString(ref.kind) ?? 'Deployment', rollout.namespace, name);
  return deployment === undefined ? undefined : podTemplateOf(deployment)?.labels;
}

/** `spec.workloadRef` names a Deployment of the namespace whose template the Rollout's selector selects. */
export function checkRolloutWorkloadRefs(env: EnvironmentIndex): Finding[] {
  return env.ofKind(ARGO, 'Rollout').flatMap((rollout) => {
    const spec = asObject(rollout.body.spec);
    if (!isObject(spec.workloadRef)) return [];
    const ref = spec.workloadRef;
    const kind = asString(ref.kind) ?? '';
    const name = asString(ref.name) ?? '';
    if (kind !== 'Deployment' || asString(ref.apiVersion) !== 'apps/v1') {
      return [findingAt(rollout, 'rollout/workload-ref', ['spec', 'workloadRef'], `must reference an apps/v1 Deployment, got ${asString(ref.apiVersion) ?? '(no apiVersion)'} ${kind || '(no kind)'}`)];
    }
    const deployment = env.find('apps', 'Deployment', rollout.namespace, name);
    if (deployment === undefined) {
      return [findingAt(rollout, 'rollout/workload-ref', ['spec', 'workloadRef', 'name'],
        `Deployment ${JSON.stringify(name)} is not in namespace ${rollout.namespace ?? '(none)'} of the output: the Rollout has no pod template`)];
    }
    const labels = podTemplateOf(deployment)?.labels ?? {};
    if (labelSelectorMatches(spec.selector, labels)) return [];
    return [findingAt(rollout, 'rollout/workload-ref', ['spec', 'selector'],
      `${describeSelector(spec.selector)} does not select the pods of Deployment ${name} (labels ${describeLabels(labels) || 'none'}): the controller refuses it`)];
  });
}

/** The Services a Rollout's strategy names, with their paths. */
function namedServices(rollout: ManifestObject): { path: JsonPath; name: string }[] {
  const strategy = asObject(asObject(rollout.body.spec).strategy);
  const out: { path: JsonPath; name: string }[] = [];
  for (const [kind, fields] of [['blueGreen', ['activeService', 'previewService']], ['canary', ['stableService', 'canaryService']]] as const) {
    const s = asObject(strategy[kind]);
    for (const field of fields) {
      const name = asString(s[field]);
      if (name !== undefined) out.push({ path: ['spec', 'strategy', kind, field], name });
    }
  }
  return out;
}

/** Every Service a Rollout names exists and selects its pods. */
export function checkRolloutServices(env: EnvironmentIndex): Finding[] {
  return env.ofKind(ARGO, 'Rollout').flatMap((rollout) => {
    const labels = rolloutPodLabels(env, rollout);
    return namedServices(rollout).flatMap(({ path, name }) => {
      const service = env.find('', 'Service', rollout.namespace, name);
      if (service === undefined) {
        return [findingAt(rollout, 'rollout/service', path, `Service ${JSON.stringify(name)} is not in namespace ${rollout.namespace ?? '(none)'} of the output`)];
      }
      if (labels === undefined) return []; // (no pod template: rollout/workload-ref says why)
      const selector = asObject(asObject(service.body.spec).selector) as { [key: string]: string };
      if (Object.keys(selector).length > 0 && mapSelects(selector, labels)) return [];
      return [findingAt(rollout, 'rollout/service', path, `Service ${name} (selector ${describeLabels(selector) || 'none'}) does not select the Rollout's pods `
        + `(labels ${describeLabels(labels) || 'none'}); the controller only adds rollouts-pod-template-hash to its selector`)];
    });
  });
}

/** Every analysis of a Rollout (`{ templates, args }`) with its path. */
function analysesOf(rollout: ManifestObject): { path: JsonPath; analysis: JsonObject }[] {
  const strategy = asObject(asObject(rollout.body.spec).strategy);
  const out: { path: JsonPath; analysis: JsonObject }[] = [];
  const add = (path: JsonPath, value: unknown) => { if (isObject(value)) out.push({ path, analysis: value }); };
  const bg = asObject(strategy.blueGreen);
  add(['spec', 'strategy', 'blueGreen', 'prePromotionAnalysis'], bg.prePromotionAnalysis);
  add(['spec', 'strategy', 'blueGreen', 'postPromotionAnalysis'], bg.postPromotionAnalysis);
  const canary = asObject(strategy.canary);
  add(['spec', 'strategy', 'canary', 'analysis'], canary.analysis);
  asArray(canary.steps).forEach((step, i) => add(['spec', 'strategy', 'canary', 'steps', i, 'analysis'], asObject(step).analysis));
  return out;
}

/** Every template an analysis references exists, and every argument it needs is supplied. */
export function checkRolloutAnalyses(env: EnvironmentIndex): Finding[] {
  return env.ofKind(ARGO, 'Rollout').flatMap((rollout) => analysesOf(rollout).flatMap(({ path, analysis }) => {
    const findings: Finding[] = [];
    const supplied = new Set(asArray(analysis.args).map((a) => asString(asObject(a).name)).filter((n): n is string => n !== undefined));
    asArray(analysis.templates).forEach((ref, i) => {
      const r = asObject(ref);
      const name = asString(r.templateName) ?? '';
      const cluster = r.clusterScope === true;
      const template = cluster ? env.find(ARGO, 'ClusterAnalysisTemplate', undefined, name) : env.find(ARGO, 'AnalysisTemplate', rollout.namespace, name);
      if (template === undefined) {
        findings.push(findingAt(rollout, 'rollout/analysis-template', [...path, 'templates', i, 'templateName'], cluster
          ? `ClusterAnalysisTemplate ${JSON.stringify(name)} is not in the output`
          : `AnalysisTemplate ${JSON.stringify(name)} is not in namespace ${rollout.namespace ?? '(none)'} of the output`));
        return;
      }
      const missing = asArray(asObject(template.body.spec).args).map(asObject)
        .filter((a) => a.value === undefined && a.valueFrom === undefined)
        .map((a) => asString(a.name) ?? '')
        .filter((n) => !supplied.has(n));
      if (missing.length > 0) {
        findings.push(findingAt(rollout, 'rollout/analysis-args', [...path, 'args'], `must supply ${missing.map((m) => JSON.stringify(m)).join(', ')} `
          + `(argument${missing.length === 1 ? '' : 's'} of ${template.kind} ${name} without a default), got ${[...supplied].map((s) => JSON.stringify(s)).join(', ') || 'none'}`));
      }
    });
    return findings;
  }));
}

/** Canary `setWeight` steps are integers from 0 to 100 and never decrease. */
export function checkCanaryWeights(env: EnvironmentIndex): Finding[] {
  return env.ofKind(ARGO, 'Rollout').flatMap((rollout) => {
    let last = 0;
    return asArray(valueAt(rollout.body, ['spec', 'strategy', 'canary', 'steps'])).flatMap((step, i) => {
      const weight = asObject(step).setWeight;
      if (weight === undefined) return [];
      const path = ['spec', 'strategy', 'canary', 'steps', i, 'setWeight'];
      if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 100) {
        return [findingAt(rollout, 'rollout/canary-weights', path, `must be an integer from 0 to 100 (percent of the traffic), got ${JSON.stringify(weight)}`)];
      }
      if (weight < last) {
        return [findingAt(rollout, 'rollout/canary-weights', path, `must not be below the weight of an earlier step (${last}), got ${weight}: traffic only moves forward, an abort moves it back`)];
      }
      last = weight;
      return [];
    });
  });
}

/** The nginx `stableIngress` exists and has a backend that is the stable Service. */
export function checkStableIngress(env: EnvironmentIndex): Finding[] {
  return env.ofKind(ARGO, 'Rollout').flatMap((rollout) => {
    const canary = asObject(valueAt(rollout.body, ['spec', 'strategy', 'canary']));
    const name = asString(valueAt(canary, ['trafficRouting', 'nginx', 'stableIngress']));
    if (name === undefined) return [];
    const path = ['spec', 'strategy', 'canary', 'trafficRouting', 'nginx', 'stableIngress'];
    const ingress = env.find('networking.k8s.io', 'Ingress', rollout.namespace, name);
    if (ingress === undefined) {
      return [findingAt(rollout, 'rollout/stable-ingress', path, `Ingress ${JSON.stringify(name)} is not in namespace ${rollout.namespace ?? '(none)'} of the output`)];
    }
    const stable = asString(canary.stableService);
    const backends = asArray(asObject(ingress.body.spec).rules).flatMap((r) => asArray(valueAt(r, ['http', 'paths'])))
      .map((p) => asString(valueAt(p, ['backend', 'service', 'name'])));
    if (stable === undefined || backends.includes(stable)) return [];
    return [findingAt(rollout, 'rollout/stable-ingress', path, `Ingress ${name} has no path routing to the stable Service ${stable}: ingress-nginx canary has nothing to split`)];
  });
}

/** The Argo Rollouts checks, for `ENVIRONMENT_CHECKS`. */
export const ROLLOUT_CHECKS: readonly ((env: EnvironmentIndex) => Finding[])[] = [
  checkRolloutWorkloadRefs, checkRolloutServices, checkRolloutAnalyses, checkCanaryWeights, checkStableIngress,
];

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
 * - `rollout/stable-ingress`: the nginx `stableIngress` exists and routes to the `stableService`;
 * - `rollout/http-route`: every HTTPRoute the Gateway API plugin names exists in the plugin's
 *   namespace, and one of its rules lists both the `stableService` and the `canaryService` as
 *   distinct backendRefs (the plugin only finds out mid-rollout, when it sets the first weight);
 * - `rollout/canary-analysis` (warning): a canary has an `analysis` step after a `setWeight` above 0,
 *   or a background analysis (else nothing judges the canary: here the smoke test runs only as an
 *   analysis Job metric). A warning, not an error: Argo accepts such a canary, and one promoted by
 *   hand (`pause: {}`) can be deliberate; the errors are kept for what the controller would fail on.
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

/**
 * The HTTPRoutes the Gateway API plugin's configuration names, with their paths: `httpRoute` and the
 * list form `httpRoutes: [{ name, useHeaderRoutes }]` (upstream argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi,
 * `pkg/plugin/types.go` `GatewayAPITrafficRouting.HTTPRoute`/`HTTPRoutes`, and `docs/features/multiple-routes.md`).
 * Routes found by `httpRouteSelector` are not named, so not checked.
 */
function pluginHttpRoutes(config: JsonObject, base: JsonPath): { path: JsonPath; name: string }[] {
  const out: { path: JsonPath; name: string }[] = [];
  const single = asString(config.httpRoute);
  if (single !== undefined) out.push({ path: [...base, 'httpRoute'], name: single });
  asArray(config.httpRoutes).forEach((r, i) => {
    const name = asString(asObject(r).name);
    if (name !== undefined) out.push({ path: [...base, 'httpRoutes', i, 'name'], name });
  });
  return out;
}

const GATEWAY_API_PLUGIN = 'argoproj-labs/gatewayAPI';

/** The Service a backendRef names in `namespace` (a core Service by default, in the route's namespace by default), else undefined. */
function backendService(ref: JsonObject, routeNamespace: string | undefined, namespace: string | undefined): string | undefined {
  if ((asString(ref.group) ?? '') !== '' || (asString(ref.kind) ?? 'Service') !== 'Service') return undefined;
  if ((asString(ref.namespace) ?? routeNamespace) !== namespace) return undefined;
  return asString(ref.name);
}

/** Every HTTPRoute the Gateway API plugin names exists, and a rule of it lists the stable and the canary Service as two backendRefs. */
export function checkPluginHttpRoutes(env: EnvironmentIndex): Finding[] {
  return env.ofKind(ARGO, 'Rollout').flatMap((rollout) => {
    const canary = asObject(valueAt(rollout.body, ['spec', 'strategy', 'canary']));
    const config = valueAt(canary, ['trafficRouting', 'plugins', GATEWAY_API_PLUGIN]);
    if (!isObject(config)) return [];
    const namespace = asString(config.namespace) ?? rollout.namespace;
    const stable = asString(canary.stableService);
    const canaryService = asString(canary.canaryService);
    const base = ['spec', 'strategy', 'canary', 'trafficRouting', 'plugins', GATEWAY_API_PLUGIN];
    return pluginHttpRoutes(config, base).flatMap(({ path, name }) => {
      const route = env.find('gateway.networking.k8s.io', 'HTTPRoute', namespace, name);
      if (route === undefined) {
        const there = env.ofKindIn('gateway.networking.k8s.io', 'HTTPRoute', namespace).map((r) => r.name).sort();
        return [findingAt(rollout, 'rollout/http-route', path, `HTTPRoute ${JSON.stringify(name)} is not in namespace ${namespace ?? '(none)'} of the output `
          + `(HTTPRoutes there: ${there.join(', ') || 'none'}): the plugin fails at the first setWeight`)];
      }
      if (stable === undefined || canaryService === undefined) return []; // (rollout/service and the schema say why)
      const rules = asArray(asObject(route.body.spec).rules).map((rule) => asArray(asObject(rule).backendRefs)
        .map((ref) => backendService(asObject(ref), route.namespace, rollout.namespace)));
      const fits = rules.some((refs) => {
        const s = refs.indexOf(stable);
        return s >= 0 && refs.some((n, i) => n === canaryService && i !== s);
      });
      if (fits) return [];
      const listed = new Set(rules.flat());
      const missing = [stable, canaryService].filter((n) => !listed.has(n))
        .map((n) => `${n === stable ? 'stable' : 'canary'} Service ${n}`);
      const lacking = missing.length > 0 ? `no rule lists the ${missing.join(' or the ')}` : 'no single rule lists both';
      const described = rules.map((refs, i) => `rules[${i}]: ${refs.map((n) => n ?? '(not a Service of the namespace)').join(', ') || 'none'}`).join('; ');
      return [findingAt(rollout, 'rollout/http-route', path, `HTTPRoute ${name} (namespace ${namespace ?? '(none)'}) must list the stable Service ${stable} and the canary Service `
        + `${canaryService} as two backendRefs of one rule, but ${lacking} (backendRefs ${described || 'none: no rules'}): the plugin has no weights to set`)];
    });
  });
}

/** A canary has an analysis step after a `setWeight` above 0, or a background analysis: something judges it before promotion. */
export function checkCanaryAnalysis(env: EnvironmentIndex): Finding[] {
  return env.ofKind(ARGO, 'Rollout').flatMap((rollout) => {
    const canary = valueAt(rollout.body, ['spec', 'strategy', 'canary']);
    if (!isObject(canary)) return [];
    if (asArray(asObject(canary.analysis).templates).length > 0) return [];
    let weighted = false;
    for (const step of asArray(canary.steps).map(asObject)) {
      if (typeof step.setWeight === 'number' && step.setWeight > 0) weighted = true;
      else if (weighted && isObject(step.analysis)) return [];
    }
    const steps = asArray(canary.steps).map(asObject).map((s) => (s.setWeight === undefined ? Object.keys(s)[0] ?? '{}' : `setWeight ${JSON.stringify(s.setWeight)}`)).join(', ');
    return [findingAt(rollout, 'rollout/canary-analysis', ['spec', 'strategy', 'canary', 'steps'],
      `has no analysis step after a setWeight above 0, nor a background analysis (steps: ${steps || 'none'}): nothing judges the canary before it is promoted, `
      + 'and the smoke test runs only as an analysis Job metric', 'warning')];
  });
}

/** The Argo Rollouts checks, for `ENVIRONMENT_CHECKS`. */
export const ROLLOUT_CHECKS: readonly ((env: EnvironmentIndex) => Finding[])[] = [
  checkRolloutWorkloadRefs, checkRolloutServices, checkRolloutAnalyses, checkCanaryWeights, checkStableIngress, checkPluginHttpRoutes, checkCanaryAnalysis,
];

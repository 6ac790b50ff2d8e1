/**
 * The gate's Argo Rollouts checks (validate/rollouts.ts), on the committed staging folder (one Argo
 * canary, one Argo blue/green: what `npm run synth` really emits) and on that folder with one
 * mistake each. Each failing case asserts the exact finding.
 */
import * as path from 'path';
import { EnvironmentIndex } from '../../validate/environment';
import { checkAutoscalerTargets } from '../../validate/availability';
import { Finding, loadManifests, ManifestObject, readManifestTree, SchemaRegistry } from '../../validate';
import { checkPodSecurity } from '../../validate/pod-security';
import { checkSchema } from '../../validate/schema';
import {
  checkCanaryAnalysis, checkCanaryWeights, checkPluginHttpRoutes, checkRolloutAnalyses, checkRolloutServices, checkRolloutWorkloadRefs, checkStableIngress, ROLLOUT_CHECKS,
} from '../../validate/rollouts';
import { ROOT } from '../../synth/root';
import { Body, lines, objectOf } from './helpers';

let staging: readonly ManifestObject[] | undefined;

/** The committed dist/staging objects, freshly copied. */
function stagingObjects(): ManifestObject[] {
  // (only staging's files are parsed)
  const tree = new Map([...readManifestTree(path.join(ROOT, 'dist'))].filter(([file]) => file.startsWith('staging/')));
  staging ??= loadManifests(tree).objects.filter((o) => o.environment === 'staging');
  return staging.map((o) => ({ ...o, body: structuredClone(o.body) }));
}

/** The staging objects with `change` applied to the object of `kind` named `name`. */
function stagingWith(kind: string, name: string, change: (body: Body) => void): ManifestObject[] {
  const objects = stagingObjects();
  const target = objects.find((o) => o.kind === kind && o.name === name);
  if (target === undefined) throw new Error(`no ${kind} ${name} in dist/staging`);
  change(target.body);
  return objects.map((o) => (o === target ? { ...o, name: (o.body as Body).metadata.name } : o));
}

const run = (check: (env: EnvironmentIndex) => Finding[], objects: readonly ManifestObject[]) => lines(check(new EnvironmentIndex('staging', objects)));
const ROLLOUT = 'staging/90-rollout-knowledge-service.yaml Rollout soundcore-kcp-staging/knowledge-service';
const BLUE_GREEN = 'staging/90-rollout-content-service.yaml Rollout soundcore-kcp-staging/content-service';

describe('Rollout and AnalysisTemplate schemas (@kubernetes-models/argo-rollouts 0.3.2: Argo Rollouts v1.5.0 CRDs)', () => {
  test('validated with the schema pruned to the object, still name the field a typo meant and the required fields missing', () => {
    // (validate/schema-prune.ts: absent properties keep their names, not their subschemas)
    const objects = stagingWith('Rollout', 'knowledge-service', (r) => {
      r.spec.strategy.canary.canaryServce = r.spec.strategy.canary.canaryService;
      delete r.spec.strategy.canary.canaryService;
      delete r.spec.strategy.canary.steps[2].analysis.args[0].name;
    });
    expect(lines(objects.filter((o) => o.kind === 'Rollout').flatMap((o) => checkSchema(o, SchemaRegistry.default())))).toEqual([
      `${ROLLOUT} spec.strategy.canary.canaryServce: unknown field (did you mean "canaryService"?) [schema/unknown-field]`,
      `${ROLLOUT} spec.strategy.canary.steps[2].analysis.args[0].name: is required [schema/required-field]`,
    ]);
  });

  test('accept the Gateway API plugin configuration (a free-form object in the CRD)', () => {
    const objects = stagingWith('Rollout', 'knowledge-service', (r) => {
      r.spec.strategy.canary.trafficRouting = { plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'knowledge-service', namespace: 'soundcore-kcp-staging' } } };
    });
    expect(lines(objects.filter((o) => o.kind === 'Rollout').flatMap((o) => checkSchema(o, SchemaRegistry.default())))).toEqual([]);
    expect(run(checkStableIngress, objects)).toEqual([]);
  });

  test('are strict: unknown fields and wrong types are reported', () => {
    const objects = stagingWith('Rollout', 'knowledge-service', (r) => { r.spec.strategy.canary.stepz = []; r.spec.revisionHistoryLimit = 'two'; })
      .map((o) => (o.kind === 'AnalysisTemplate' && o.name === 'soundcore-kcp-slo'
        ? { ...o, body: { ...(o.body as Body), spec: { ...(o.body as Body).spec, metrics: [{ ...(o.body as Body).spec.metrics[0], sucessCondition: 'x' }] } } } : o));
    const argo = objects.filter((o) => o.apiVersion.startsWith('argoproj.io/'));
    expect(lines(argo.flatMap((o) => checkSchema(o, SchemaRegistry.default())))).toEqual([
      'staging/90-analysistemplate-soundcore-kcp-slo.yaml AnalysisTemplate soundcore-kcp-staging/soundcore-kcp-slo spec.metrics[0].sucessCondition: unknown field (did you mean "successCondition"?) [schema/unknown-field]',
      `${ROLLOUT} spec.revisionHistoryLimit: must be an integer, got string "two" [schema/type]`,
      `${ROLLOUT} spec.strategy.canary.stepz: unknown field (did you mean "steps"?) [schema/unknown-field]`,
    ]);
  });
});

describe('Argo Rollouts checks', () => {
  test('find nothing in the committed staging folder, which has both engines', () => {
    const objects = stagingObjects();
    expect(objects.filter((o) => o.kind === 'Rollout').map((o) => o.name)).toEqual(['content-service', 'knowledge-service']);
    expect(ROLLOUT_CHECKS.flatMap((check) => run(check, objects))).toEqual([]);
  });

  test('a workloadRef to a missing Deployment is reported', () => {
    const objects = stagingWith('Rollout', 'knowledge-service', (r) => { r.spec.workloadRef.name = 'knowledge'; });
    expect(run(checkRolloutWorkloadRefs, objects)).toEqual([
      `${ROLLOUT} spec.workloadRef.name: Deployment "knowledge" is not in namespace soundcore-kcp-staging of the output: the Rollout has no pod template [rollout/workload-ref]`,
    ]);
  });

  test('a selector that does not select the template is reported', () => {
    const objects = stagingWith('Rollout', 'knowledge-service', (r) => { r.spec.selector.matchLabels.app = 'knowledge'; });
    expect(run(checkRolloutWorkloadRefs, objects)).toEqual([
      `${ROLLOUT} spec.selector: app=knowledge does not select the pods of Deployment knowledge-service (labels app=knowledge-service,`
      + 'app.kubernetes.io/component=backend,app.kubernetes.io/instance=knowledge-service,app.kubernetes.io/managed-by=cdk8s,app.kubernetes.io/name=knowledge-service,'
      + 'app.kubernetes.io/part-of=soundcore-kcp,app.kubernetes.io/version=3f9c2a1e7b6d4c0a9e8f7d6c5b4a39281706f5e4,environment=staging): the controller refuses it [rollout/workload-ref]',
    ]);
  });

  test('a missing canary Service and a preview Service selecting other pods are reported', () => {
    const objects = stagingWith('Rollout', 'knowledge-service', (r) => { r.spec.strategy.canary.canaryService = 'knowledge-canary'; })
      .map((o) => (o.kind === 'Service' && o.name === 'content-service-preview'
        ? { ...o, body: { ...(o.body as Body), spec: { ...(o.body as Body).spec, selector: { app: 'content-service', version: 'green' } } } } : o));
    expect(run(checkRolloutServices, objects)).toEqual([
      `${BLUE_GREEN} spec.strategy.blueGreen.previewService: Service content-service-preview (selector app=content-service,version=green) does not select the Rollout's pods `
      + '(labels app=content-service,app.kubernetes.io/component=backend,app.kubernetes.io/instance=content-service,app.kubernetes.io/managed-by=cdk8s,'
      + 'app.kubernetes.io/name=content-service,app.kubernetes.io/part-of=soundcore-kcp,app.kubernetes.io/version=3f9c2a1e7b6d4c0a9e8f7d6c5b4a39281706f5e4,'
      + 'environment=staging); the controller only adds rollouts-pod-template-hash to its selector [rollout/service]',
      `${ROLLOUT} spec.strategy.canary.canaryService: Service "knowledge-canary" is not in namespace soundcore-kcp-staging of the output [rollout/service]`,
    ]);
  });

  test('a missing analysis template and an argument without a default left unsupplied are reported', () => {
    const objects = stagingWith('Rollout', 'content-service', (r) => {
      r.spec.strategy.blueGreen.prePromotionAnalysis.templates[0].templateName = 'content-smoke';
      r.spec.strategy.blueGreen.postPromotionAnalysis.args = [{ name: 'workload', value: 'content-service' }];
    });
    expect(run(checkRolloutAnalyses, objects)).toEqual([
      `${BLUE_GREEN} spec.strategy.blueGreen.postPromotionAnalysis.args: must supply "revision" (argument of AnalysisTemplate soundcore-kcp-slo without a default), got "workload" [rollout/analysis-args]`,
      `${BLUE_GREEN} spec.strategy.blueGreen.prePromotionAnalysis.templates[0].templateName: AnalysisTemplate "content-smoke" is not in namespace soundcore-kcp-staging of the output [rollout/analysis-template]`,
    ]);
  });

  test('canary weights above 100 or going back are reported', () => {
    const objects = stagingWith('Rollout', 'knowledge-service', (r) => { r.spec.strategy.canary.steps[3].setWeight = 5; r.spec.strategy.canary.steps[6].setWeight = 120; });
    expect(run(checkCanaryWeights, objects)).toEqual([
      `${ROLLOUT} spec.strategy.canary.steps[3].setWeight: must not be below the weight of an earlier step (10), got 5: traffic only moves forward, an abort moves it back [rollout/canary-weights]`,
      `${ROLLOUT} spec.strategy.canary.steps[6].setWeight: must be an integer from 0 to 100 (percent of the traffic), got 120 [rollout/canary-weights]`,
    ]);
  });

  test('an nginx stableIngress that does not route to the stable Service is reported', () => {
    // GIVEN staging's canary routed by ingress-nginx instead, and an Ingress routing its path to knowledge-service
    const nginx = (ingressName: string, stable = 'knowledge-service') => stagingWith('Rollout', 'knowledge-service', (r) => {
      r.spec.strategy.canary.trafficRouting = { nginx: { stableIngress: ingressName } };
      r.spec.strategy.canary.stableService = stable;
    });
    const ingress = objectOf({
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'soundcore-kcp', namespace: 'soundcore-kcp-staging' },
      spec: { rules: [{ host: 'staging-api.soundcore-kcp.com', http: { paths: [{ path: '/api/v1/knowledge', pathType: 'Prefix', backend: { service: { name: 'knowledge-service', port: { number: 8001 } } } }] } }] },
    }, 'staging/72-ingress-soundcore-kcp.yaml');
    expect(run(checkStableIngress, [...nginx('soundcore-kcp'), ingress])).toEqual([]);
    const missing = nginx('kcp');
    expect(run(checkStableIngress, missing)).toEqual([
      `${ROLLOUT} spec.strategy.canary.trafficRouting.nginx.stableIngress: Ingress "kcp" is not in namespace soundcore-kcp-staging of the output [rollout/stable-ingress]`,
    ]);
    const unrouted = [...nginx('soundcore-kcp', 'knowledge-service-canary'), ingress];
    expect(run(checkStableIngress, unrouted)).toEqual([
      `${ROLLOUT} spec.strategy.canary.trafficRouting.nginx.stableIngress: Ingress soundcore-kcp has no path routing to the stable Service knowledge-service-canary: ingress-nginx canary has nothing to split [rollout/stable-ingress]`,
    ]);
  });

  test('the Gateway API plugin\'s HTTPRoute of the committed canary fits: it lists knowledge-service and knowledge-service-canary in one rule', () => {
    const objects = stagingObjects();
    expect(objects.find((o) => o.kind === 'Rollout' && o.name === 'knowledge-service')?.body).toMatchObject({
      spec: { strategy: { canary: { trafficRouting: { plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'knowledge-service', namespace: 'soundcore-kcp-staging' } } } } } },
    });
    expect(run(checkPluginHttpRoutes, objects)).toEqual([]);
  });

  test('an HTTPRoute the Gateway API plugin names that is not in its namespace is reported, with the routes that are', () => {
    // GIVEN staging's canary naming a route that does not exist
    const objects = stagingWith('Rollout', 'knowledge-service', (r) => { r.spec.strategy.canary.trafficRouting.plugins['argoproj-labs/gatewayAPI'].httpRoute = 'no-such-route'; });
    expect(run(checkPluginHttpRoutes, objects)).toEqual([
      `${ROLLOUT} spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"].httpRoute: HTTPRoute "no-such-route" is not in namespace soundcore-kcp-staging of the output `
      + '(HTTPRoutes there: analytics-service, auth-service, content-service, frontend, knowledge-service, support-service): the plugin fails at the first setWeight [rollout/http-route]',
    ]);
  });

  test('the plugin\'s namespace, not the Rollout\'s, is where its HTTPRoute is looked up', () => {
    const objects = stagingWith('Rollout', 'knowledge-service', (r) => { r.spec.strategy.canary.trafficRouting.plugins['argoproj-labs/gatewayAPI'].namespace = 'gateway-system'; });
    expect(run(checkPluginHttpRoutes, objects)).toEqual([
      `${ROLLOUT} spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"].httpRoute: HTTPRoute "knowledge-service" is not in namespace gateway-system of the output `
      + '(HTTPRoutes there: none): the plugin fails at the first setWeight [rollout/http-route]',
    ]);
  });

  test('the plugin\'s list form httpRoutes is checked route by route', () => {
    // (upstream docs/features/multiple-routes.md: `httpRoutes: [{ name: backend-route }, { name: api-route }]`)
    const objects = stagingWith('Rollout', 'knowledge-service', (r) => {
      r.spec.strategy.canary.trafficRouting.plugins['argoproj-labs/gatewayAPI'] = { httpRoutes: [{ name: 'knowledge-service' }, { name: 'content-service', useHeaderRoutes: true }] };
    });
    expect(run(checkPluginHttpRoutes, objects)).toEqual([
      `${ROLLOUT} spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"].httpRoutes[1].name: HTTPRoute content-service (namespace soundcore-kcp-staging) must list `
      + 'the stable Service knowledge-service and the canary Service knowledge-service-canary as two backendRefs of one rule, but no rule lists the stable Service knowledge-service '
      + 'or the canary Service knowledge-service-canary (backendRefs rules[0]: content-service): the plugin has no weights to set [rollout/http-route]',
    ]);
  });

  test('an HTTPRoute without the canary backendRef is reported', () => {
    const objects = stagingWith('HTTPRoute', 'knowledge-service', (h) => { h.spec.rules[0].backendRefs.splice(1, 1); });
    expect(run(checkPluginHttpRoutes, objects)).toEqual([
      `${ROLLOUT} spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"].httpRoute: HTTPRoute knowledge-service (namespace soundcore-kcp-staging) must list `
      + 'the stable Service knowledge-service and the canary Service knowledge-service-canary as two backendRefs of one rule, but no rule lists the canary Service knowledge-service-canary '
      + '(backendRefs rules[0]: knowledge-service): the plugin has no weights to set [rollout/http-route]',
    ]);
  });

  test('an HTTPRoute listing the stable Service twice instead of the canary is reported', () => {
    const objects = stagingWith('HTTPRoute', 'knowledge-service', (h) => { h.spec.rules[0].backendRefs[1].name = 'knowledge-service'; });
    expect(run(checkPluginHttpRoutes, objects)).toEqual([
      `${ROLLOUT} spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"].httpRoute: HTTPRoute knowledge-service (namespace soundcore-kcp-staging) must list `
      + 'the stable Service knowledge-service and the canary Service knowledge-service-canary as two backendRefs of one rule, but no rule lists the canary Service knowledge-service-canary '
      + '(backendRefs rules[0]: knowledge-service, knowledge-service): the plugin has no weights to set [rollout/http-route]',
    ]);
  });

  test('stable and canary Services split over two rules, or a canary backendRef to another namespace, are reported', () => {
    const split = stagingWith('HTTPRoute', 'knowledge-service', (h) => {
      const [stable, canary] = h.spec.rules[0].backendRefs;
      h.spec.rules = [{ ...h.spec.rules[0], backendRefs: [stable] }, { ...h.spec.rules[0], backendRefs: [canary] }];
    });
    expect(run(checkPluginHttpRoutes, split)).toEqual([
      `${ROLLOUT} spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"].httpRoute: HTTPRoute knowledge-service (namespace soundcore-kcp-staging) must list `
      + 'the stable Service knowledge-service and the canary Service knowledge-service-canary as two backendRefs of one rule, but no single rule lists both '
      + '(backendRefs rules[0]: knowledge-service; rules[1]: knowledge-service-canary): the plugin has no weights to set [rollout/http-route]',
    ]);
    const elsewhere = stagingWith('HTTPRoute', 'knowledge-service', (h) => { h.spec.rules[0].backendRefs[1].namespace = 'soundcore-kcp-production'; });
    expect(run(checkPluginHttpRoutes, elsewhere)).toEqual([
      `${ROLLOUT} spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"].httpRoute: HTTPRoute knowledge-service (namespace soundcore-kcp-staging) must list `
      + 'the stable Service knowledge-service and the canary Service knowledge-service-canary as two backendRefs of one rule, but no rule lists the canary Service knowledge-service-canary '
      + '(backendRefs rules[0]: knowledge-service, (not a Service of the namespace)): the plugin has no weights to set [rollout/http-route]',
    ]);
  });

  test('a canary without an analysis step after a setWeight above 0 is a warning, unless a background analysis judges it', () => {
    // GIVEN staging's canary with its analysis steps dropped, or kept only before the first weight
    const without = stagingWith('Rollout', 'knowledge-service', (r) => {
      r.spec.strategy.canary.steps = r.spec.strategy.canary.steps.filter((s: Body) => s.analysis === undefined);
    });
    expect(run(checkCanaryAnalysis, without)).toEqual([
      `${ROLLOUT} spec.strategy.canary.steps: warning: has no analysis step after a setWeight above 0, nor a background analysis (steps: setWeight 10, pause, setWeight 50, pause, setWeight 100): `
      + 'nothing judges the canary before it is promoted, and the smoke test runs only as an analysis Job metric [rollout/canary-analysis]',
    ]);
    expect(checkCanaryAnalysis(new EnvironmentIndex('staging', without)).map((f) => f.severity)).toEqual(['warning']);
    const early = stagingWith('Rollout', 'knowledge-service', (r) => {
      const steps = r.spec.strategy.canary.steps;
      r.spec.strategy.canary.steps = [{ setWeight: 0 }, steps[2], { setWeight: 100 }];
    });
    expect(run(checkCanaryAnalysis, early)).toEqual([
      `${ROLLOUT} spec.strategy.canary.steps: warning: has no analysis step after a setWeight above 0, nor a background analysis (steps: setWeight 0, analysis, setWeight 100): `
      + 'nothing judges the canary before it is promoted, and the smoke test runs only as an analysis Job metric [rollout/canary-analysis]',
    ]);
    const background = stagingWith('Rollout', 'knowledge-service', (r) => {
      const steps = r.spec.strategy.canary.steps;
      r.spec.strategy.canary.analysis = steps[2].analysis;
      r.spec.strategy.canary.steps = steps.filter((s: Body) => s.analysis === undefined);
    });
    expect(run(checkCanaryAnalysis, background)).toEqual([]);
  });

  test('an HPA targeting a missing Rollout is reported', () => {
    const objects = stagingWith('HorizontalPodAutoscaler', 'knowledge-service', (h) => { h.spec.scaleTargetRef.name = 'knowledge'; });
    expect(run(checkAutoscalerTargets, objects)).toEqual([
      'staging/56-horizontalpodautoscaler-knowledge-service.yaml HorizontalPodAutoscaler soundcore-kcp-staging/knowledge-service spec.scaleTargetRef: '
      + 'targets Rollout "knowledge", which is not in namespace soundcore-kcp-staging of the output [autoscaling/target]',
    ]);
  });

  test('the smoke-test pods of an AnalysisTemplate are held to the restricted Pod Security Standard', () => {
    const objects = stagingWith('AnalysisTemplate', 'knowledge-service-smoke', (t) => {
      t.spec.metrics[0].provider.job.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    });
    expect(lines(objects.filter((o) => o.kind === 'AnalysisTemplate').flatMap((o) => checkPodSecurity(o)))).toEqual([
      'staging/90-analysistemplate-knowledge-service-smoke.yaml AnalysisTemplate soundcore-kcp-staging/knowledge-service-smoke '
      + 'spec.metrics[0].provider.job.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: must be false, got true (restricted: Privilege Escalation) [pod-security/privilege-escalation]',
    ]);
  });
});

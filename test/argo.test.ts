/**
 * The Argo Rollouts engines, from the same typed model as the rolling and git-driven blue/green
 * ones: one component's output under each engine asserted field by field (a fresh chart per test),
 * the eager errors of the constructs and the configuration problems of the environment files, and
 * the committed staging environment, which runs one component per Argo engine.
 */
import { ApiObject, Duration, Testing } from 'cdk8s';
import {
  CanaryStep, describeCanarySteps, Microservice, ReleaseStrategy, RolloutTrafficRouting, SloAnalysisTemplate, SloAnalysisTemplateProps,
} from '../constructs';
import { ENVIRONMENTS, ReleaseMode, serviceSlos } from '../environments';
import { configProblems, find, Obj, ofKind, synthObjects } from './helpers';
import { ORDERS } from './orders-props';

const staging = ENVIRONMENTS.find((e) => e.name === 'staging')!;
const SLO: SloAnalysisTemplateProps = {
  name: 'shop-slo', slos: serviceSlos({ namespace: 'shop', runbook: (s) => `https://runbooks.example.com/${s}` }),
  prometheusAddress: 'http://prometheus-operated.monitoring.svc:9090',
};
const analysis = { sloTemplate: SLO.name, smokePaths: ['/health', '/api/orders'] };

/** The objects of a fresh chart holding `orders` with `release` (and autoscaling when given). */
function ordersWith(release: ReleaseStrategy, autoscaling?: { maxReplicas: number }): { objects: Obj[]; workload: Microservice } {
  const chart = Testing.chart();
  const workload = new Microservice(chart, 'Orders', { ...ORDERS, replicas: 3, release, autoscaling });
  new SloAnalysisTemplate(chart, 'Slo', SLO);
  return { objects: Testing.synth(chart) as Obj[], workload };
}

describe('Argo canary of one component', () => {
  const steps = [CanaryStep.setWeight(20), CanaryStep.pause(Duration.minutes(5)), CanaryStep.analysis(), CanaryStep.setWeight(100)];
  const { objects, workload } = ordersWith(ReleaseStrategy.argoCanary({
    imageTag: 'v2.4.0', analysis, trafficRouting: RolloutTrafficRouting.nginx('shop'), steps,
  }), { maxReplicas: 6 });
  const rollout = find(objects, 'Rollout', 'orders');

  test('the Rollout references the Deployment as its template and selects its pods by app only', () => {
    expect(rollout.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(rollout.spec.workloadRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'orders' });
    expect(rollout.spec.selector).toEqual({ matchLabels: { app: 'orders' } });
    // the HPA owns the scale: no replicas in the manifest
    expect(rollout.spec.replicas).toBeUndefined();
    expect(rollout.spec.analysis).toEqual({ successfulRunHistoryLimit: 3, unsuccessfulRunHistoryLimit: 3 });
    const deployment = find(objects, 'Deployment', 'orders');
    expect(deployment.spec.replicas).toBe(0);
    expect(deployment.spec.template.spec.containers[0].image).toBe('registry.example.com/shop/orders:v2.4.0');
  });

  test('the canary strategy names the stable and canary Services, routes by nginx weight and runs the steps', () => {
    const canary = rollout.spec.strategy.canary;
    expect(canary.stableService).toBe('orders');
    expect(canary.canaryService).toBe('orders-canary');
    expect(canary.trafficRouting).toEqual({ nginx: { stableIngress: 'shop' } });
    const args = [{ name: 'workload', value: 'orders' }, { name: 'revision', valueFrom: { podTemplateHashValue: 'Latest' } }];
    expect(canary.steps).toEqual([
      { setWeight: 20 },
      { pause: { duration: '5m' } },
      { analysis: { templates: [{ templateName: 'orders-smoke' }, { templateName: 'shop-slo' }], args } },
      { setWeight: 100 },
    ]);
    expect(rollout.spec.strategy.blueGreen).toBeUndefined();
  });

  test('both Services select the pods of both revisions (Argo adds the revision hash), the route lists them with weights', () => {
    expect(find(objects, 'Service', 'orders').spec.selector).toEqual({ app: 'orders' });
    expect(find(objects, 'Service', 'orders-canary').spec.selector).toEqual({ app: 'orders' });
    expect(workload.routeBackends).toEqual([
      { serviceName: 'orders', port: 8080, weight: 100 },
      { serviceName: 'orders-canary', port: 8080, weight: 0 },
    ]);
  });

  test('the HPA targets the Rollout; the PDB selects both revisions', () => {
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'orders');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'orders' });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 6]);
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    expect(ofKind(objects, 'HorizontalPodAutoscaler')).toHaveLength(1);
    expect(find(objects, 'PodDisruptionBudget', 'orders').spec.selector).toEqual({ matchLabels: { app: 'orders' } });
  });

  test('the smoke test runs as the Job metric of an AnalysisTemplate, against the canary Service', () => {
    const smoke = find(objects, 'AnalysisTemplate', 'orders-smoke');
    expect(smoke.spec.metrics).toHaveLength(1);
    const job = smoke.spec.metrics[0].provider.job;
    expect(smoke.spec.metrics[0].name).toBe('smoke-test');
    expect(job.metadata.labels.app).toBe('smoke-test');
    expect(job.metadata.labels['app.kubernetes.io/instance']).toBeUndefined();
    const container = job.spec.template.spec.containers[0];
    expect(container.args).toEqual(['http://orders-canary:8080/health', 'http://orders-canary:8080/api/orders']);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(job.spec.template.spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(job.spec.template.metadata.labels).toEqual(job.metadata.labels);
    // no Job object of its own in the output
    expect(ofKind(objects, 'Job')).toEqual([]);
  });

  test('through Gateway API, the plugin names the component\'s HTTPRoute', () => {
    expect(RolloutTrafficRouting.gatewayApi('orders', 'shop').spec).toEqual({ plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'orders', namespace: 'shop' } } });
  });

  test('the steps read in plain words', () => {
    expect(describeCanarySteps(steps)).toBe('20 % → pause 5m → analysis → 100 %');
  });
});

describe('Argo blue/green of one component', () => {
  const { objects, workload } = ordersWith(ReleaseStrategy.argoBlueGreen({ imageTag: 'v2.4.0', analysis, previewReplicaCount: 1 }));
  const rollout = find(objects, 'Rollout', 'orders');

  test('the Rollout promotes by hand after the smoke test and SLO metrics of the preview, and checks the SLOs after', () => {
    const args = [{ name: 'workload', value: 'orders' }, { name: 'revision', valueFrom: { podTemplateHashValue: 'Latest' } }];
    expect(rollout.spec.replicas).toBe(3);
    expect(rollout.spec.strategy).toEqual({
      blueGreen: {
        activeService: 'orders',
        previewService: 'orders-preview',
        previewReplicaCount: 1,
        autoPromotionEnabled: false,
        scaleDownDelaySeconds: 30,
        prePromotionAnalysis: { templates: [{ templateName: 'orders-smoke' }, { templateName: 'shop-slo' }], args },
        postPromotionAnalysis: { templates: [{ templateName: 'shop-slo' }], args },
      },
    });
    expect(workload.routeBackends).toBeUndefined();
  });

  test('reuses the Service names of the git-driven blue/green pair, without colours', () => {
    expect(ofKind(objects, 'Service').map((s) => [s.metadata.name, s.spec.selector])).toEqual([
      ['orders', { app: 'orders' }], ['orders-preview', { app: 'orders' }],
    ]);
    expect(ofKind(objects, 'Deployment').map((d) => [d.metadata.name, d.spec.replicas])).toEqual([['orders', 0]]);
    expect(find(objects, 'AnalysisTemplate', 'orders-smoke').spec.metrics[0].provider.job.spec.template.spec.containers[0].args)
      .toEqual(['http://orders-preview:8080/health', 'http://orders-preview:8080/api/orders']);
  });
});

describe('the SLO AnalysisTemplate', () => {
  test('holds one Prometheus metric per SLO, narrowed to the revision, with the 1h row threshold and arguments without defaults', () => {
    const chart = Testing.chart();
    const t = new SloAnalysisTemplate(chart, 'Slo', { ...SLO, count: 3, failureLimit: 1, interval: Duration.seconds(30) });
    const spec = (ApiObject.of(t.resource).toJson() as Obj).spec;
    expect(spec.args).toEqual([{ name: 'workload' }, { name: 'revision' }]);
    expect(spec.metrics.map((m: Obj['spec']) => [m.name, m.interval, m.count, m.failureLimit, m.successCondition])).toEqual([
      ['errors', '30s', 3, 1, 'result[0] <= 0.0144'],
      ['latency', '30s', 3, 1, 'result[0] <= 0.72'],
    ]);
    expect(t.queryFor('errors', { workload: 'orders', revision: 'abc' })).toBe([
      '(',
      'sum (rate(http_requests_total{namespace="shop", handler!~"/health|/metrics", job="orders", rollouts_pod_template_hash="abc", status=~"5.."}[5m]))',
      '  /',
      'sum (rate(http_requests_total{namespace="shop", handler!~"/health|/metrics", job="orders", rollouts_pod_template_hash="abc"}[5m]))',
      ') >= 0 or vector(0)',
    ].join('\n'));
  });

  test.each([
    [{ failureLimit: 5 }, 'SloAnalysisTemplate shop-slo: failureLimit must be an integer from 0 to 4, got 5'],
    [{ prometheusAddress: 'prometheus:9090' }, 'SloAnalysisTemplate shop-slo: prometheusAddress must be an http(s) URL, got "prometheus:9090"'],
    [{ slos: [] }, 'SloAnalysisTemplate shop-slo: slos must name at least one SLO, got []'],
    [{ interval: Duration.millis(1500) }, 'SloAnalysisTemplate shop-slo: interval must be whole seconds, at least 1, got "1.5s"'],
  ])('throws on bad props, naming the value: %j', (change, message) => {
    expect(() => new SloAnalysisTemplate(Testing.chart(), 'Slo', { ...SLO, ...change } as SloAnalysisTemplateProps)).toThrow(message);
  });
});

describe('the engines reject bad options eagerly', () => {
  test.each([
    [() => CanaryStep.setWeight(110), 'CanaryStep.setWeight: percent must be an integer from 0 to 100, got 110'],
    [() => CanaryStep.pause(Duration.millis(500)), 'CanaryStep.pause: duration must be whole seconds, at least 1, got "0.5s"'],
    [() => ReleaseStrategy.argoCanary({
      imageTag: 'v1.0.0', analysis, trafficRouting: RolloutTrafficRouting.nginx('shop'), steps: [CanaryStep.setWeight(50), CanaryStep.setWeight(20)],
    }), 'ReleaseStrategy.argoCanary: steps[1].setWeight must not be below the weight of an earlier step (50), got 20'],
    [() => ReleaseStrategy.argoCanary({ imageTag: 'v1.0.0', analysis, trafficRouting: RolloutTrafficRouting.nginx('shop'), steps: [CanaryStep.pause()] }),
      'ReleaseStrategy.argoCanary: steps must contain at least one CanaryStep.setWeight(...), got ["pause until promoted"]'],
    [() => ReleaseStrategy.argoBlueGreen({ imageTag: 'latest', analysis }),
      'ReleaseStrategy.argoBlueGreen: imageTag must be a pinned tag'],
    [() => ReleaseStrategy.argoBlueGreen({ imageTag: 'v1.0.0', analysis, previewReplicaCount: 0 }),
      'ReleaseStrategy.argoBlueGreen: previewReplicaCount must be an integer >= 1, got 0'],
    [() => RolloutTrafficRouting.gatewayApi('Orders_Route'), 'RolloutTrafficRouting.gatewayApi: httpRoute must be'],
  ])('%#: %s', (build, message) => {
    expect(build).toThrow(message);
  });
});

describe('the environment model', () => {
  const withComponent = (component: string, override: object) => ({
    ...staging, components: { ...staging.components, [component]: { ...staging.components[component], ...override } },
  });

  test('rejects bad argo settings, naming the component, field and value (on every component, whatever its strategy)', () => {
    expect(configProblems([withComponent('support-service', {
      argo: { steps: [{ setWeight: 40 }, { pause: { duration: '5 min' } }, { setWeight: 30 }], previewReplicaCount: 3, analysis: { count: 2, failureLimit: 2 } },
    })])).toEqual([
      'staging/support-service: argo.previewReplicaCount must be an integer from 1 to 2 (replicas is 2; more preview pods than the full size serve nothing), got 3',
      'staging/support-service: argo.steps[1].pause.duration must be whole seconds, minutes or hours such as "30s", "5m" or "1h" (omit it to pause until promoted), got "5 min"',
      'staging/support-service: argo.steps[2].setWeight must not be below the weight of an earlier step (40): traffic only moves forward, an abort moves it back, got 30',
      'staging/support-service: argo.analysis.failureLimit must be an integer from 0 to 1 (below analysis.count, 2), got 2',
    ]);
  });

  test('rejects unknown keys and step shapes as the schema does for every field', () => {
    expect(configProblems([withComponent('support-service', { argo: { autoPromotionEnable: true, steps: [{ setweight: 10 }] } })])).toEqual([
      'staging/support-service: argo.steps[0] must be { setWeight: <percent> }, { pause: { duration?: \'5m\' } } or { analysis: {} }; "setweight" is an unknown field; did you mean "setWeight"?, got {"setweight":10}',
      'staging/support-service: argo.autoPromotionEnable is an unknown field; did you mean "autoPromotionEnabled"? (fields here: previewReplicaCount, autoPromotionEnabled, scaleDownDelaySeconds, steps, analysis)',
      'staging/support-service: argo.steps must contain at least one { setWeight: <percent> } step, got [{"setweight":10}]',
    ]);
  });

  const ENGINE_RULE = (engine: string, strategy: string) =>
    `is a setting of ${engine} only; this component's strategy is ${strategy}, which does not read it: remove it`;

  test('rejects a field of the other engine written on an Argo component, naming the engine it belongs to', () => {
    // GIVEN the staging canary with blue/green fields, and the staging blue/green Rollout with canary steps
    const canary = withComponent('knowledge-service', { argo: { ...staging.components['knowledge-service'].argo, previewReplicaCount: 1, autoPromotionEnabled: true } });
    const blueGreen = withComponent('content-service', { argo: { previewReplicaCount: 1, scaleDownDelaySeconds: 300, steps: [{ setWeight: 5 }] } });
    // WHEN they are checked THEN each field is one problem with its value
    expect(configProblems([canary])).toEqual([
      `staging/knowledge-service: argo.previewReplicaCount ${ENGINE_RULE('argo-blue-green', 'argo-canary')}, got 1`,
      `staging/knowledge-service: argo.autoPromotionEnabled ${ENGINE_RULE('argo-blue-green', 'argo-canary')}, got true`,
    ]);
    expect(configProblems([blueGreen])).toEqual([
      `staging/content-service: argo.steps ${ENGINE_RULE('argo-canary', 'argo-blue-green')}, got [{"setWeight":5}]`,
    ]);
    expect(configProblems([withComponent('knowledge-service', { argo: { steps: [{ setWeight: 100 }], scaleDownDelaySeconds: 60 } })])).toEqual([
      `staging/knowledge-service: argo.scaleDownDelaySeconds ${ENGINE_RULE('argo-blue-green', 'argo-canary')}, got 60`,
    ]);
  });

  test('defaults.argo serves both engines: a field only some components read is no problem; one no component takes from defaults is', () => {
    // GIVEN staging (one canary, one blue/green) with fields of both engines under defaults.argo, the canary taking its steps from there
    const both = {
      ...staging, defaults: { ...staging.defaults, argo: { steps: [{ setWeight: 100 }], autoPromotionEnabled: true } },
      components: { ...staging.components, 'knowledge-service': { ...staging.components['knowledge-service'], argo: undefined } },
    };
    // THEN the blue/green component inherits steps and the canary autoPromotionEnabled without a problem
    expect(configProblems([both])).toEqual([]);
    // GIVEN the canary setting its own steps and no component running argo-blue-green
    const unused = {
      ...both, components: { ...both.components, 'content-service': { strategy: ReleaseMode.ROLLING }, 'knowledge-service': staging.components['knowledge-service'] },
    };
    expect(configProblems([unused])).toEqual([
      'staging: defaults.argo.steps has no effect: it is a setting of argo-canary only, and no component of this environment runs argo-canary taking it from defaults; remove it, got [{"setWeight":100}]',
      'staging: defaults.argo.autoPromotionEnabled has no effect: it is a setting of argo-blue-green only, and no component of this environment runs argo-blue-green taking it from defaults; remove it, got true',
    ]);
  });

  test('bounds pause durations and the analysis interval by the 32-bit seconds of Argo Rollouts', () => {
    // Upstream: RolloutPause.DurationSeconds() returns int32(d.Seconds()) (argoproj/argo-rollouts,
    // pkg/apis/rollouts/v1alpha1/types.go), so 2^31 s wraps around to a negative pause.
    const max = (seconds: number) => `must be at most 2147483647 seconds (Argo Rollouts holds a duration in a 32-bit integer of seconds; this is ${seconds})`;
    expect(configProblems([{ ...staging, defaults: { ...staging.defaults, argo: { analysis: { interval: '35791395m' } } }, components: {
      ...staging.components,
      'knowledge-service': { ...staging.components['knowledge-service'], argo: { steps: [{ setWeight: 10 }, { pause: { duration: '2147483647s' } }, { pause: { duration: '2147483648s' } }, { pause: { duration: '596524h' } }] } },
    } }])).toEqual([
      `staging: defaults.argo.analysis.interval ${max(2147483700)}, got "35791395m"`,
      `staging/knowledge-service: argo.steps[2].pause.duration ${max(2147483648)}, got "2147483648s"`,
      `staging/knowledge-service: argo.steps[3].pause.duration ${max(2147486400)}, got "596524h"`,
    ]);
  });

  test('a canary weight written as a string is one problem: its type', () => {
    expect(configProblems([withComponent('knowledge-service', { argo: { steps: [{ setWeight: '10' }, { setWeight: 100 }] } })])).toEqual([
      'staging/knowledge-service: argo.steps[0].setWeight must be a number, got "10"',
    ]);
  });

  test('rejects Argo components asking for different SLO measurements (one AnalysisTemplate per namespace)', () => {
    expect(configProblems([withComponent('support-service', { strategy: ReleaseMode.ARGO_CANARY, argo: { analysis: { count: 3 } } })])).toEqual([
      'staging/support-service: argo.analysis must be the same as knowledge-service\'s ({"interval":"1m","count":5,"failureLimit":0}): '
      + 'every Argo component of an environment shares one SLO AnalysisTemplate; set it under defaults.argo, got {"count":3}',
    ]);
  });

  test('an Argo component owns its image tag in the environment file, as a rolling one', () => {
    expect(configProblems([withComponent('support-service', { strategy: ReleaseMode.ARGO_BLUE_GREEN, imageTag: 'latest' })])).toEqual([
      expect.stringMatching(/^staging\/support-service: imageTag must be a pinned tag/),
    ]);
  });
});

describe('the committed staging environment', () => {
  const objects = synthObjects([staging]).get('staging')!;

  test('runs knowledge-service as an Argo canary on its HTTPRoute (Gateway API) and content-service as Argo blue/green; the rest rolls', () => {
    expect(ofKind(objects, 'Rollout').map((r) => [r.metadata.name, Object.keys(r.spec.strategy)[0]])).toEqual([
      ['knowledge-service', 'canary'], ['content-service', 'blueGreen'],
    ]);
    expect(find(objects, 'Rollout', 'knowledge-service').spec.strategy.canary.trafficRouting)
      .toEqual({ plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'knowledge-service', namespace: 'soundcore-kcp-staging' } } });
    // the HTTPRoute the plugin weighs lists the stable and the canary Service (Microservice.routeBackends)
    expect(find(objects, 'HTTPRoute', 'knowledge-service').spec.rules[0].backendRefs.map((b: Obj['spec']) => [b.name, b.port, b.weight]))
      .toEqual([['knowledge-service', 8001, 100], ['knowledge-service-canary', 8001, 0]]);
    expect(find(objects, 'HTTPRoute', 'content-service').spec.rules[0].backendRefs.map((b: Obj['spec']) => b.name)).toEqual(['content-service']);
    expect(ofKind(objects, 'Deployment').filter((d) => d.spec.replicas !== 0).map((d) => d.metadata.name).sort())
      .toEqual(['analytics-service', 'auth-service', 'frontend', 'support-service']);
    expect(ofKind(objects, 'AnalysisTemplate').map((t) => t.metadata.name).sort())
      .toEqual(['content-service-smoke', 'knowledge-service-smoke', 'soundcore-kcp-slo']);
  });

  test('the ServiceMonitor carries the revision label onto the series; availability alerts skip the template Deployments', () => {
    expect(find(objects, 'ServiceMonitor', 'soundcore-kcp-monitor').spec.podTargetLabels).toEqual(['version', 'rollouts-pod-template-hash']);
    const rule = find(objects, 'PrometheusRule', 'soundcore-kcp-user-impact-alerts');
    const unavailable = rule.spec.groups.flatMap((g: Obj['spec']) => g.rules).find((r: Obj['spec']) => r.alert === 'DeploymentUnavailable');
    expect(unavailable.expr).not.toContain('deployment="knowledge-service"');
    expect(unavailable.expr).toContain('deployment="support-service"');
  });

  test('the quota holds two revisions and a smoke pod per Argo component, the HPA, the analysis Jobs; the deployer may apply Rollouts', () => {
    const quota = find(objects, 'ResourceQuota', 'soundcore-kcp').spec.hard;
    // 1 HPA (+20 % headroom, rounded up); 2 Argo components x (3 + 3 AnalysisRuns kept + 1 running) smoke Jobs (+20 %)
    expect([quota['count/horizontalpodautoscalers.autoscaling'], quota['count/jobs.batch']]).toEqual(['2', '17']);
    const { rules } = find(objects, 'Role', 'soundcore-kcp-deployer') as Obj & { rules: { apiGroups: string[] }[] };
    expect(rules.find((r) => r.apiGroups.includes('argoproj.io'))).toEqual({
      apiGroups: ['argoproj.io'], resources: ['analysistemplates', 'rollouts'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
    });
  });

  test('the smoke-test pods of the analysis may reach the Argo components, and only them', () => {
    const policy = find(objects, 'NetworkPolicy', 'smoke-test');
    expect(policy.spec.podSelector).toEqual({ matchLabels: { app: 'smoke-test' } });
    const egressPorts = policy.spec.egress.filter((e: Obj['spec']) => e.to?.[0]?.podSelector?.matchLabels?.app !== undefined)
      .map((e: Obj['spec']) => [e.to[0].podSelector.matchLabels.app, e.ports[0].port]);
    expect(egressPorts).toEqual([['knowledge-service', 8001], ['content-service', 8002]]);
  });
});

/**
 * The SLO burn-rate, availability and synthetic-probe alerts: the constructs (generic props, eager
 * validation naming the bad value) and, under promtool, the semantics the real-server test cannot
 * show in a few seconds: the short window resetting a burn-rate page while the long window is still
 * above its threshold, and absent series (a Deployment, an Endpoints object, every probe result
 * missing) alerting on purpose.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import {
  AlertSeverity, AvailabilityAlerts, PrometheusRules, SloBurnRateAlerts, SloDefinition, SRE_WORKBOOK_WINDOWS, UrlProbe,
} from '../constructs';
import type { RuleGroupSpec } from '../constructs';
import { CATALOGUE, ENVIRONMENTS, resolveEnvironments } from '../environments';
import { committedReleaseStates } from './helpers';
import { distRuleGroups, promtool, PromtoolTestGroup, writeYamlFiles } from './promtool';
import { availabilityTargets } from './stand-in-series';

/** A shop that is not the KCP: the builder knows no KCP metric, label or name. */
const CHECKOUT: SloDefinition = {
  alertPrefix: 'CheckoutErrorBurn', slo: 'checkout', promise: '99.5% of checkouts succeed', objective: 0.995,
  events: { total: { metric: 'checkout_requests_total' }, bad: { metric: 'checkout_requests_total', matchers: ['code=~"5.."'] } },
  matchers: ['env="prod"'], groupBy: ['region'], team: 'payments', runbookUrl: 'https://runbooks.example.com/checkout',
};

function rulesOf(build: (rules: PrometheusRules) => void): RuleGroupSpec[] {
  const chart = Testing.chart();
  const rules = new PrometheusRules(chart, 'Rules', { name: 'shop-alerts' });
  build(rules);
  return Testing.synth(chart)[0].spec.groups;
}

describe('SloBurnRateAlerts', () => {
  test('one alert per burn-rate row: both windows above burn rate × budget, by the SLO\'s labels', () => {
    // GIVEN a generic SLO and the default (SRE workbook) table
    // WHEN
    const [group] = rulesOf((rules) => new SloBurnRateAlerts(Testing.chart(), 'Slo', { rules, slos: [CHECKOUT] }));
    // THEN
    expect(group.name).toBe('slo-burn-rate');
    expect(group.rules!.map((r) => [r.alert, r.for, r.labels])).toEqual(SRE_WORKBOOK_WINDOWS.map((w) => [
      `CheckoutErrorBurn${w.name}`, '2m', { slo: 'checkout', severity: w.severity, team: 'payments' },
    ]));
    expect(group.rules![0].expr).toBe([
      'sum by (region) (rate(checkout_requests_total{env="prod", code=~"5.."}[1h]))',
      '  /',
      'sum by (region) (rate(checkout_requests_total{env="prod"}[1h]))',
      '  > 0.072',
      'and',
      'sum by (region) (rate(checkout_requests_total{env="prod", code=~"5.."}[5m]))',
      '  /',
      'sum by (region) (rate(checkout_requests_total{env="prod"}[5m]))',
      '  > 0.072',
    ].join('\n'));
    expect(group.rules![3].annotations!.description).toContain('At this rate a 30-day budget lasts 30 days.');
  });

  test('counts bad events as total - good when the SLO names its good events', () => {
    const slo: SloDefinition = {
      ...CHECKOUT, events: { total: { metric: 'latency_count' }, good: { metric: 'latency_bucket', matchers: ['le="0.25"'] } },
      windows: [SRE_WORKBOOK_WINDOWS[0]],
    };
    const [group] = rulesOf((rules) => new SloBurnRateAlerts(Testing.chart(), 'Slo', { rules, slos: [slo] }));
    expect(group.rules![0].expr).toContain('(sum by (region) (rate(latency_count{env="prod"}[1h])) - sum by (region) (rate(latency_bucket{env="prod", le="0.25"}[1h])))\n  /\n');
  });

  test.each([
    [{ objective: 1 }, 'SloBurnRateAlerts slo-burn-rate slos[0]: objective must be a ratio greater than 0 and less than 1 (0.999 is 99.9%), got 1'],
    [{ windows: [{ ...SRE_WORKBOOK_WINDOWS[0], burnRate: 200 }] },
      'SloBurnRateAlerts slo-burn-rate slos[0]: windows[0].burnRate must be greater than 0 and below 200 (1 / the error budget of 0.5%), or the row can never fire, got 200'],
    [{ windows: [{ ...SRE_WORKBOOK_WINDOWS[0], shortWindow: '1h' }] },
      'SloBurnRateAlerts slo-burn-rate slos[0]: windows[0].shortWindow must be shorter than longWindow (1h), got "1h"'],
    [{ matchers: ['env=prod'] },
      'SloBurnRateAlerts slo-burn-rate slos[0]: matchers[0] must be one PromQL label matcher such as status=~"5.." (label, =, !=, =~ or !~, a double-quoted value), got "env=prod"'],
    [{ events: { total: { metric: 'a' }, bad: { metric: 'b' }, good: { metric: 'c' } } },
      'SloBurnRateAlerts slo-burn-rate slos[0]: events must give total and exactly one of bad and good, got {"total":{"metric":"a"},"bad":{"metric":"b"},"good":{"metric":"c"}}'],
  ] as const)('refuses %j, naming the field and the value', (change, message) => {
    expect(() => rulesOf((rules) => new SloBurnRateAlerts(Testing.chart(), 'Slo', { rules, slos: [{ ...CHECKOUT, ...change } as SloDefinition] })))
      .toThrow(message);
  });
});

describe('AvailabilityAlerts and UrlProbe', () => {
  const common = { team: 'ops', deploymentRunbookUrl: 'https://runbooks.example.com/d', endpointsRunbookUrl: 'https://runbooks.example.com/e' };

  test('read the Deployment each Service selects, or 0 when it has no series', () => {
    const [group] = rulesOf((rules) => new AvailabilityAlerts(Testing.chart(), 'A', {
      rules, namespace: 'shop', targets: [{ service: 'orders', deployment: 'orders-green', minAvailable: 2 }], ...common,
    }));
    const sel = 'kube_deployment_status_replicas_available{namespace="shop", deployment="orders-green"}';
    expect(group.rules!.map((r) => [r.alert, r.for, r.labels])).toEqual([
      ['DeploymentUnavailable', '3m', { severity: AlertSeverity.CRITICAL, team: 'ops' }],
      ['ServiceWithoutEndpoints', '3m', { severity: AlertSeverity.CRITICAL, team: 'ops' }],
    ]);
    expect(group.rules![0].expr).toBe(`label_replace(max by (namespace, deployment) (${sel}) or absent(${sel}) * 0, "service", "orders", "", "") < 2`);
  });

  test.each([
    [() => ({ targets: [{ service: 'orders', deployment: 'orders', minAvailable: 0 }] }),
      'AvailabilityAlerts availability: targets[0].minAvailable must be an integer >= 1'],
    [() => ({ targets: [] }), 'AvailabilityAlerts availability: targets must name at least one Service, got []'],
  ])('AvailabilityAlerts refuses bad targets (%#)', (change, message) => {
    expect(() => rulesOf((rules) => new AvailabilityAlerts(Testing.chart(), 'A', { rules, namespace: 'shop', ...common, ...change() })))
      .toThrow(message);
  });

  test('a Probe of the URLs through the blackbox-exporter, and ProbeFailed, absent results included', () => {
    const chart = Testing.chart();
    const rules = new PrometheusRules(chart, 'Rules', { name: 'shop-alerts' });
    new UrlProbe(chart, 'P', { name: 'shop-probe', proberUrl: 'blackbox.monitoring.svc:9115', urls: ['https://shop.example.com/'], rules, team: 'web', runbookUrl: 'https://runbooks.example.com/p' });
    const [probe, rule] = Testing.synth(chart).sort((a, b) => a.kind.localeCompare(b.kind));
    expect(probe.spec).toEqual({
      jobName: 'shop-probe', interval: '30s', module: 'http_2xx',
      prober: { url: 'blackbox.monitoring.svc:9115', scheme: 'http', path: '/probe' },
      targets: { staticConfig: { static: ['https://shop.example.com/'] } },
    });
    expect(rule.spec.groups[0].rules[0].expr).toBe('probe_success{job="shop-probe"} == 0\nor absent(probe_success{job="shop-probe", instance="https://shop.example.com/"}) * 0');
    expect(() => new UrlProbe(Testing.chart(), 'Q', {
      name: 'shop-probe', proberUrl: 'blackbox:9115', urls: ['http://shop.example.com/'], rules, team: 'web', runbookUrl: 'https://runbooks.example.com/p',
    })).toThrow('UrlProbe shop-probe: urls[0] must be an https URL, got "http://shop.example.com/"');
  });
});

describe('the committed user-impact rules under promtool', () => {
  const env = resolveEnvironments(ENVIRONMENTS, CATALOGUE, committedReleaseStates()).find((e) => e.name === 'production')!;
  const ns = env.namespace;
  // Annotations are left out: these tests are about when and for whom each expression fires.
  const groups = distRuleGroups(env.name, 'soundcore-kcp-user-impact-alerts').map((g) => ({
    ...g, rules: (g.rules ?? []).map(({ annotations: _annotations, ...r }) => r),
  }));
  const rule = (alert: string) => groups.flatMap((g) => g.rules).find((r) => r.alert === alert)!;
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-user-impact-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(tests: PromtoolTestGroup[]) {
    writeYamlFiles(dir, { 'rules.yaml': { groups }, 'tests.yaml': { rule_files: ['rules.yaml'], evaluation_interval: '30s', tests } });
    return promtool(['test', 'rules', 'tests.yaml'], dir);
  }

  test('a burn-rate page fires during an outage and resets with its short window while the long one is still above', () => {
    // GIVEN 10 healthy minutes at 100 user requests/min, a 10-minute outage (every request 5xx), then healthy again
    const labels = `namespace="${ns}", job="knowledge-service", service="knowledge-service", handler="/api/v1/knowledge/articles", method="GET"`;
    const page = { severity: 'critical', slo: 'errors', team: 'backend', namespace: ns, job: 'knowledge-service', service: 'knowledge-service' };
    expect(rule('ErrorBudgetBurn1h').for).toBe('2m');
    // WHEN promtool evaluates ErrorBudgetBurn1h
    const result = run([{
      name: 'outage', interval: '1m',
      input_series: [
        { series: `http_requests_total{${labels}, status="2xx"}`, values: '0+100x10 1000x9 1100+100x40' },
        { series: `http_requests_total{${labels}, status="5xx"}`, values: '0x10 100+100x9 1000x40' },
      ],
      alert_rule_test: [
        // pending from 11m (the first evaluation with errors in both windows), firing after its 2m
        { eval_time: '12m', alertname: 'ErrorBudgetBurn1h', exp_alerts: [] },
        { eval_time: '14m', alertname: 'ErrorBudgetBurn1h', exp_alerts: [{ exp_labels: page, exp_annotations: {} }] },
        { eval_time: '20m', alertname: 'ErrorBudgetBurn1h', exp_alerts: [{ exp_labels: page, exp_annotations: {} }] },
        // 6 minutes after the outage: 1000 errors in 2600 requests over 1 h (38 %, far above 1.44 %),
        // but none over 5 m: silent, instead of paging for another 50 minutes
        { eval_time: '26m', alertname: 'ErrorBudgetBurn1h', exp_alerts: [] },
      ],
    }]);
    // THEN
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  test('a missing Deployment, a Service without ready address and missing probe results alert; present ones at their minimum do not', () => {
    // GIVEN kube-state-metrics reporting every Deployment at its minimum but one missing and one a pod short,
    // every Service with a ready address but one with only a not-ready one, and no probe result at all
    const targets = availabilityTargets(String(rule('DeploymentUnavailable').expr));
    const [missing, short, noEndpoint] = [targets[1], targets[2], targets[0]];
    const ksm = 'job="kube-state-metrics", instance="10.0.0.5:8080"';
    const url = /instance="([^"]+)"/.exec(String(rule('ProbeFailed').expr))![1];
    const input_series = [
      ...targets.filter((t) => t !== missing).map((t) => ({
        series: `kube_deployment_status_replicas_available{${ksm}, namespace="${ns}", deployment="${t.deployment}"}`, values: `${t === short ? t.min - 1 : t.min}x20`,
      })),
      ...targets.map((t) => ({
        series: `kube_endpoint_address{${ksm}, namespace="${ns}", endpoint="${t.service}", ip="10.1.0.7", ready="${t !== noEndpoint}"}`, values: '1x20',
      })),
    ];
    const ops = { severity: 'critical', team: 'devops' };
    // WHEN promtool evaluates them before and after their `for` (3m; ProbeFailed 2m)
    const result = run([{
      name: 'availability', interval: '30s', input_series,
      alert_rule_test: [
        { eval_time: '2m30s', alertname: 'DeploymentUnavailable', exp_alerts: [] },
        {
          eval_time: '4m', alertname: 'DeploymentUnavailable', exp_alerts: [missing, short].map((t) => ({
            exp_labels: { ...ops, namespace: ns, deployment: t.deployment, service: t.service }, exp_annotations: {},
          })),
        },
        { eval_time: '4m', alertname: 'ServiceWithoutEndpoints', exp_alerts: [{ exp_labels: { ...ops, namespace: ns, endpoint: noEndpoint.service }, exp_annotations: {} }] },
        { eval_time: '1m30s', alertname: 'ProbeFailed', exp_alerts: [] },
        {
          eval_time: '3m', alertname: 'ProbeFailed',
          exp_alerts: [{ exp_labels: { severity: 'critical', team: 'frontend', job: 'soundcore-kcp-frontend-probe', instance: url }, exp_annotations: {} }],
        },
      ],
    }]);
    // THEN
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });
});

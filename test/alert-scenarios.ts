/**
 * promtool unit tests of the six alerts, generated from an environment's tuning: for each alert,
 * synthetic series that cross its threshold (and some that stay below it, or that the seed's rules
 * got wrong), then the alerts expected just before `for` has elapsed (none) and after (exactly
 * those crossing). Annotations are expected as Prometheus renders the rules' own templates.
 */
import type { HttpServiceAlertName, HttpServiceAlertTuning, RuleGroupSpec } from '../constructs';
import { LATENCY_BUCKETS, LATENCY_QUANTILE } from '../constructs/http-alerts';
import {
  AlertRuleTest, durationSeconds, ExpectedAlert, InputSeries, PromtoolTestFile, PromtoolTestGroup, renderTemplate,
} from './promtool';

type Labels = { readonly [label: string]: string };

/** One alert scenario: inputs, when they cross the threshold, and which alerts must fire. */
interface Scenario {
  readonly name: string;
  readonly alert: HttpServiceAlertName;
  readonly series: ReadonlyArray<{ readonly metric: string; readonly labels: Labels; readonly values: (steps: number) => string }>;
  /** Second from which the inputs are past the threshold (before it they are healthy or absent). */
  readonly start: number;
  /**
   * Seconds after `start` at which the expression first crosses its threshold: 0 for a gauge step,
   * one minute for counters at a constant rate (rate() needs two samples). The checks are anchored
   * on it, so it must be exact.
   */
  readonly lag: number;
  /** The alerts expected once `for` has elapsed: their labels (without severity and team) and value. */
  readonly firing: ReadonlyArray<{ readonly labels: Labels; readonly value: number }>;
}

const MINUTE = 60;

/** `metric{a="1", b="2"}`. */
function selector(metric: string, labels: Labels): string {
  return `${metric}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
}

/** A sample value without floating-point noise (`120.00000000000003` -> `120`). */
const n = (v: number) => String(Number(v.toPrecision(12)));
/** A counter growing by `perMinute` from 0. */
const counter = (perMinute: number) => (steps: number) => `0+${n(perMinute)}x${steps}`;
/** A gauge at `value` all along. */
const gauge = (value: number) => (steps: number) => `${n(value)}x${steps}`;
/** A gauge at `before` for the first 10 minutes, then at `after`. */
const stepAt10m = (before: number, after: number) => (steps: number) => `${n(before)}x9 ${n(after)}x${steps - 10}`;
/** A counter growing by `before` per minute for 10 minutes, then by `after`. */
const counterStepAt10m = (before: number, after: number) => (steps: number) =>
  `0+${n(before)}x9 ${n(before * 10)}+${n(after)}x${steps - 10}`;

/**
 * When `rate(x[5m])` of a counter whose rate steps from `low` to `high` (as fractions of the limit)
 * at a whole minute, sampled every minute, first exceeds `threshold`, evaluated every 30 s: at a
 * whole minute k minutes after the step the window holds 5 intervals, k of them high; half a minute
 * later it holds 4 (extrapolated to the window), k of them high. Returns seconds after the step.
 * (Checked by promtool itself: a wrong crossing time fails the silent or the firing check.)
 */
function stepCrossing(low: number, high: number, threshold: number): number {
  for (let half = 1; half <= 10; half++) {
    const k = Math.floor(half / 2);
    const ratio = half % 2 === 0 ? ((5 - k) * low + k * high) / 5 : ((4 - k) * low + k * high) / 4;
    if (ratio > threshold) return half * 30;
  }
  throw new Error(`a step from ${low} to ${high} never exceeds ${threshold}; the scenario needs a threshold between them`);
}

/** The scenarios of every alert, for `namespace` and `tuning`. */
function scenarios(namespace: string, tuning: HttpServiceAlertTuning): Scenario[] {
  const other = 'another-namespace';
  const high = (threshold: number) => {
    if (threshold >= 1) throw new Error(`a ratio threshold of ${threshold} can never be exceeded; the scenarios need one below 1`);
    return (1 + threshold) / 2; // halfway between the threshold and 100%
  };

  const err = tuning.HighErrorRate.threshold;
  const app = (service: string, job = service) => ({ namespace, job, service, pod: `${service}-7d9f-abcde` });
  const api = { handler: '/api/v1/items/{item_id}', method: 'GET' };
  const probe = { handler: '/health', method: 'GET' };
  const requests = (labels: Labels, perMinute: number, errorRatio: number) => [
    { metric: 'http_requests_total', labels: { ...labels, ...api, status: '200' }, values: counter(perMinute * (1 - errorRatio)) },
    { metric: 'http_requests_total', labels: { ...labels, ...api, status: '500' }, values: counter(perMinute * errorRatio) },
  ];

  // The bucket layout of the contract (LATENCY_BUCKETS), `le` written as prometheus_client does (`1.0`).
  const bound = tuning.HighResponseTime.threshold;
  const slowAllowed = 1 - LATENCY_QUANTILE;
  const le = (b: number) => (Number.isInteger(b) ? b.toFixed(1) : String(b));
  /** `perMinute` requests of `handler`, `slowRatio` of them slower than the bound (in the next bucket), the rest fast. */
  const latency = (labels: Labels, handler: Labels, perMinute: number, slowRatio: number) => [
    ...[...LATENCY_BUCKETS, Infinity].map((b) => ({
      metric: 'http_request_duration_seconds_bucket',
      labels: { ...labels, ...handler, le: b === Infinity ? '+Inf' : le(b) },
      values: counter(b <= bound ? perMinute * (1 - slowRatio) : perMinute),
    })),
    { metric: 'http_request_duration_seconds_count', labels: { ...labels, ...handler }, values: counter(perMinute) },
  ];

  const cpu = tuning.HighCPUUsage.threshold;
  const container = (pod: string, ns = namespace) => ({ namespace: ns, pod, container: pod.split('-7d9f')[0] });
  const cpuLimit = (labels: Labels, cores: number) => ({
    metric: 'kube_pod_container_resource_limits', labels: { ...labels, resource: 'cpu', unit: 'core' }, values: gauge(cores),
  });

  const mem = tuning.HighMemoryUsage.threshold;
  const MiB = 2 ** 20;
  const memLimit = (labels: Labels, bytes: number) => [
    { metric: 'kube_pod_container_resource_limits', labels: { ...labels, resource: 'memory', unit: 'byte' }, values: gauge(bytes) },
    // cAdvisor reports a missing limit as 0: the seed divided by it.
    { metric: 'container_spec_memory_limit_bytes', labels, values: gauge(bytes) },
  ];

  const pool = tuning.DatabasePoolExhausted.threshold;

  return [
    {
      name: 'HighErrorRate fires per Service on the ratio of 5xx to all requests, not on the raw 5xx rate',
      alert: 'HighErrorRate',
      series: [
        // busy: 100 requests/s, errors well below the ratio threshold but a raw 5xx rate far above it
        ...requests(app('knowledge-service'), 6000, 0.4 * err),
        // the preview colour of the same component: little traffic, mostly failing
        ...requests({ ...app('knowledge-service-preview', 'knowledge-service'), version: 'green' }, 60, high(err)),
        ...requests(app('auth-service'), 600, high(err)),
        // kubelet probes: many fast 2xx that must not dilute auth-service's ratio
        { metric: 'http_requests_total', labels: { ...app('auth-service'), ...probe, status: '2xx' }, values: counter(60000) },
        ...requests({ ...app('auth-service'), namespace: other }, 600, 1),
      ],
      start: 0,
      lag: MINUTE,
      firing: [
        { labels: { namespace, job: 'knowledge-service', service: 'knowledge-service-preview' }, value: high(err) },
        { labels: { namespace, job: 'auth-service', service: 'auth-service' }, value: high(err) },
      ],
    },
    {
      name: 'HighResponseTime fires when more than 5% of the user requests of a Service are slower than the P95 bound',
      alert: 'HighResponseTime',
      series: [
        ...latency(app('content-service'), api, 600, high(slowAllowed)),
        ...latency(app('content-service'), probe, 60, 0),
        // half the allowed share is slow; its probes are all slow, and are no user requests
        ...latency(app('support-service'), api, 600, slowAllowed / 2),
        ...latency(app('support-service'), probe, 600, 1),
        ...latency({ ...app('content-service'), namespace: other }, api, 600, 1),
      ],
      start: 0,
      lag: MINUTE,
      firing: [{ labels: { namespace, job: 'content-service', service: 'content-service' }, value: high(slowAllowed) }],
    },
    {
      name: 'PodDown fires for a scrape target of the namespace down for longer than its duration, whatever its job',
      alert: 'PodDown',
      series: [
        { metric: 'up', labels: { ...app('analytics-service'), instance: '10.0.0.7:8004' }, values: stepAt10m(1, 0) },
        // down for one scrape only
        { metric: 'up', labels: { ...app('auth-service'), instance: '10.0.0.8:8005' }, values: (steps) => `1x9 0 1x${steps - 11}` },
        { metric: 'up', labels: { ...app('content-service'), instance: '10.0.0.9:8002' }, values: gauge(1) },
        { metric: 'up', labels: { ...app('content-service'), namespace: other, instance: '10.1.0.9:8002' }, values: gauge(0) },
      ],
      start: 10 * MINUTE,
      lag: 0,
      firing: [{ labels: { ...app('analytics-service'), instance: '10.0.0.7:8004' }, value: 0 }],
    },
    {
      name: 'HighCPUUsage fires on CPU used relative to the container CPU limit, and never without a limit',
      alert: 'HighCPUUsage',
      series: [
        // limit 0.5 cores: idle (10%) for 10 minutes, then at its limit (CFS throttles it there)
        { metric: 'container_cpu_usage_seconds_total', labels: container('knowledge-service-7d9f-aaaaa'), values: counterStepAt10m(3, 30) },
        cpuLimit(container('knowledge-service-7d9f-aaaaa'), 0.5),
        // 1.5 cores, above the seed's absolute 0.8, but half the threshold of its limit
        { metric: 'container_cpu_usage_seconds_total', labels: container('content-service-7d9f-bbbbb'), values: counter(90) },
        cpuLimit(container('content-service-7d9f-bbbbb'), 3 / cpu),
        // no limit at all
        { metric: 'container_cpu_usage_seconds_total', labels: container('support-service-7d9f-ccccc'), values: counter(240) },
        { metric: 'container_cpu_usage_seconds_total', labels: container('auth-service-7d9f-ddddd', other), values: counter(60) },
        cpuLimit(container('auth-service-7d9f-ddddd', other), 0.5),
      ],
      start: 10 * MINUTE,
      lag: stepCrossing(0.1, 1, cpu),
      firing: [{ labels: container('knowledge-service-7d9f-aaaaa'), value: 1 }],
    },
    {
      name: 'HighMemoryUsage fires on memory used relative to the limit, and never for a missing or zero limit',
      alert: 'HighMemoryUsage',
      series: [
        { metric: 'container_memory_working_set_bytes', labels: container('knowledge-service-7d9f-aaaaa'), values: stepAt10m(256 * MiB, 512 * MiB * high(mem)) },
        ...memLimit(container('knowledge-service-7d9f-aaaaa'), 512 * MiB),
        // no limit: kube-state-metrics has no series, cAdvisor says 0
        { metric: 'container_memory_working_set_bytes', labels: container('content-service-7d9f-bbbbb'), values: gauge(8192 * MiB) },
        { metric: 'container_spec_memory_limit_bytes', labels: container('content-service-7d9f-bbbbb'), values: gauge(0) },
        // a limit series of 0
        { metric: 'container_memory_working_set_bytes', labels: container('support-service-7d9f-ccccc'), values: gauge(1024 * MiB) },
        ...memLimit(container('support-service-7d9f-ccccc'), 0),
        // below the threshold
        { metric: 'container_memory_working_set_bytes', labels: container('auth-service-7d9f-ddddd'), values: gauge(512 * MiB * mem / 2) },
        ...memLimit(container('auth-service-7d9f-ddddd'), 512 * MiB),
        { metric: 'container_memory_working_set_bytes', labels: container('auth-service-7d9f-eeeee', other), values: gauge(512 * MiB) },
        ...memLimit(container('auth-service-7d9f-eeeee', other), 512 * MiB),
      ],
      start: 10 * MINUTE,
      lag: 0,
      firing: [{ labels: container('knowledge-service-7d9f-aaaaa'), value: high(mem) }],
    },
    {
      name: 'DatabasePoolExhausted fires per pod and pool on active connections relative to the pool size',
      alert: 'DatabasePoolExhausted',
      series: [
        { metric: 'db_pool_connections_active', labels: { ...app('knowledge-service'), pool: 'postgres' }, values: stepAt10m(10, 100 * high(pool)) },
        { metric: 'db_pool_connections_max', labels: { ...app('knowledge-service'), pool: 'postgres' }, values: gauge(100) },
        { metric: 'db_pool_connections_active', labels: { ...app('content-service'), pool: 'postgres' }, values: gauge(100 * pool / 2) },
        { metric: 'db_pool_connections_max', labels: { ...app('content-service'), pool: 'postgres' }, values: gauge(100) },
        // a pool without a size
        { metric: 'db_pool_connections_active', labels: { ...app('support-service'), pool: 'postgres' }, values: gauge(5) },
        { metric: 'db_pool_connections_max', labels: { ...app('support-service'), pool: 'postgres' }, values: gauge(0) },
        { metric: 'db_pool_connections_active', labels: { ...app('auth-service'), namespace: other, pool: 'postgres' }, values: gauge(100) },
        { metric: 'db_pool_connections_max', labels: { ...app('auth-service'), namespace: other, pool: 'postgres' }, values: gauge(100) },
      ],
      start: 10 * MINUTE,
      lag: 0,
      firing: [{ labels: { ...app('knowledge-service'), pool: 'postgres' }, value: high(pool) }],
    },
  ];
}

/** The evaluation interval of the rule group (seconds); crossing times are multiples of it. */
const EVALUATION = 30;

/** `90` -> `1m30s`. */
function promDuration(seconds: number): string {
  const m = Math.floor(seconds / MINUTE);
  const s = seconds % MINUTE;
  return `${m > 0 ? `${m}m` : ''}${s > 0 || m === 0 ? `${s}s` : ''}`;
}

/**
 * The promtool unit-test file for the rule groups in `ruleFile`, deployed to `namespace` with
 * `tuning`. Each alert is checked one evaluation before its `for` has elapsed since its expression
 * crossed the threshold (nothing fires yet) and when it has (exactly the expected alerts fire, with
 * their rendered annotations).
 */
export function alertTests(ruleFile: string, groups: readonly RuleGroupSpec[], namespace: string, tuning: HttpServiceAlertTuning): PromtoolTestFile {
  const rules = new Map(groups.flatMap((g) => g.rules ?? []).map((r) => [r.alert, r]));
  for (const g of groups) {
    if (durationSeconds(String(g.interval ?? '1m')) !== EVALUATION) {
      throw new Error(`the alert scenarios assume rule groups evaluated every ${EVALUATION}s (crossing times are computed for it); ${g.name} is evaluated every ${g.interval ?? '1m'}`);
    }
  }
  const tests = scenarios(namespace, tuning).map((s): PromtoolTestGroup => {
    const rule = rules.get(s.alert);
    if (rule === undefined) throw new Error(`no rule ${s.alert} in ${ruleFile}`);
    const forSeconds = Math.ceil(durationSeconds(tuning[s.alert].for) / MINUTE) * MINUTE;
    // Both checks are anchored on when the expression first crosses its threshold (start + lag, a
    // multiple of the rules' 30 s evaluation interval): the alert must still be pending one
    // evaluation before `for` has elapsed and firing once it has, which pins `for` to the evaluation.
    const crossesAt = s.start + s.lag;
    const pendingAt = crossesAt + forSeconds - EVALUATION;
    const firingAt = crossesAt + forSeconds;
    const steps = Math.ceil(firingAt / MINUTE) + 10;
    const expected = s.firing.map((f): ExpectedAlert => ({
      exp_labels: { ...f.labels, ...rule.labels },
      exp_annotations: Object.fromEntries(Object.entries(rule.annotations ?? {}).map(([k, v]) => [k, renderTemplate(v, f.labels, f.value)])),
    }));
    const checks: AlertRuleTest[] = [
      { eval_time: promDuration(pendingAt), alertname: s.alert, exp_alerts: [] },
      { eval_time: promDuration(firingAt), alertname: s.alert, exp_alerts: expected },
    ];
    return {
      name: s.name,
      interval: '1m',
      input_series: s.series.map((x): InputSeries => ({ series: selector(x.metric, x.labels), values: x.values(steps) })),
      alert_rule_test: checks,
    };
  });
  return { rule_files: [ruleFile], evaluation_interval: '1m', tests };
}

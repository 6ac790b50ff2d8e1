/**
 * File-based stand-ins for the exporters a cluster runs besides the services, served to the real
 * Prometheus of test/prometheus-server.test.ts: kube-state-metrics-shaped, cAdvisor-shaped,
 * ingress-nginx-shaped and blackbox-exporter-shaped expositions, plus instrumentator-shaped series
 * of API Services at chosen error and latency ratios. Each scenario is one label set (a Service, a
 * Deployment, a pod) designed to fire an alert, or to be its near miss: just on the silent side.
 *
 * Metric names and labels are the upstream ones:
 * - kube-state-metrics (docs/metrics/workload/deployment-metrics.md, docs/metrics/service/endpoint-metrics.md,
 *   docs/metrics/workload/pod-metrics.md): `kube_deployment_status_replicas_available{namespace, deployment}`,
 *   `kube_endpoint_address{namespace, endpoint, ip, ready}`, `kube_pod_container_resource_limits{namespace,
 *   pod, container, node, resource, unit}`; scraped with honor_labels as kube-prometheus-stack does;
 * - cAdvisor (kubelet /metrics/cadvisor): `container_cpu_usage_seconds_total`, `container_memory_working_set_bytes`,
 *   `container_spec_memory_limit_bytes{namespace, pod, container}` (0 without a limit);
 * - ingress-nginx (internal/ingress/metric/collectors/socket.go): `nginx_ingress_controller_requests{status,
 *   method, path, namespace, ingress, service, canary, host}` plus the `controller_*` constant labels,
 *   `status` the three-digit code; its `namespace` is the Ingress's and becomes `exported_namespace`
 *   under the scrape's own `namespace` label (no honor_labels, as the chart's ServiceMonitor);
 * - blackbox-exporter through a prometheus-operator Probe: `probe_success{job=<jobName>, instance=<URL>}`;
 * - prometheus-fastapi-instrumentator defaults (test/fixtures/instrumented-service/service.py):
 *   `http_requests_total{handler, method, status="2xx|5xx"}`, `http_request_duration_seconds_{bucket,count}`
 *   with the buckets 0.1, 0.5, 1.0, +Inf, and the services' `db_pool_connections_active|max`.
 *
 * Counters advance by one real 30 s interval's events per scrape, as test/prometheus-server.ts
 * explains: a counter of *events* keeps its per-interval count, a counter of *time* (CPU seconds) is a
 * timeline duration and is divided by the time factor like every other one.
 */
import { SRE_WORKBOOK_WINDOWS } from '../constructs';
import type { ResolvedEnvironment } from '../environments';
import { SLO_OBJECTIVES } from '../environments';

type Labels = { readonly [label: string]: string };

/** One designed scenario: the alert, the labels that identify its instance, and whether it must fire. */
export interface Expectation {
  readonly alert: string;
  readonly labels: Labels;
  readonly fires: boolean;
  /** What the scenario is, for the failure message and the README table. */
  readonly scenario: string;
}

/** One series of a stand-in exposition: at the n-th scrape it reads `at[n]`, else `value + perScrape × n`. */
export interface SeriesSpec {
  readonly text: string;
  readonly value?: number;
  readonly perScrape?: number;
  readonly at?: { readonly [scrape: string]: number };
}

/** What test/fixtures/exporter-stand-ins/serve.js serves, by path. */
export interface ExpositionSpec {
  readonly paths: { readonly [path: string]: { readonly failOn?: readonly number[]; readonly series: readonly SeriesSpec[] } };
}

/** The stand-in expositions, and what each scenario must do. */
export interface StandIns {
  readonly spec: ExpositionSpec;
  readonly expectations: readonly Expectation[];
}

/** Requests of one real 30 s scrape interval in the SLO scenarios: enough for ratios of 0.01 %. */
const N = 10_000;

/** A gauge, or a counter advancing by `perScrape` events (or timeline seconds) per scrape interval. */
function series(metric: string, labels: Labels, value: number, perScrape = 0): SeriesSpec {
  const l = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
  return { text: `${metric}{${l}}`, value, perScrape };
}
const counter = (metric: string, labels: Labels, perScrape: number) => series(metric, labels, 0, perScrape);

/** The burn-rate thresholds of an objective, by alert-name suffix (`1h`: 14.4 × the budget, …). */
function thresholds(objective: number): { name: string; threshold: number }[] {
  return SRE_WORKBOOK_WINDOWS.map((w) => ({ name: w.name, threshold: w.burnRate * (1 - objective) }));
}

/**
 * Five levels of a bad-event ratio for an objective: above the fastest row's threshold (every row
 * fires), then each just below one row's threshold and above the next one's (its near miss, the
 * next row fires), the last just below the slowest row's (silent everywhere).
 */
export function levels(objective: number): number[] {
  const t = thresholds(objective).map((x) => x.threshold);
  return [Math.min(0.99, t[0] * 1.25), t[0] * 0.9, t[1] * 0.9, t[2] * 0.9, t[3] * 0.9];
}

/** Expectations of one SLO's five levels: each row fires exactly when the level is above its threshold. */
function sloExpectations(prefix: string, objective: number, instances: Labels[], what: string): Expectation[] {
  return levels(objective).flatMap((ratio, i) => thresholds(objective).map((t) => ({
    alert: `${prefix}${t.name}`, labels: instances[i], fires: ratio > t.threshold,
    scenario: `${what} ${(ratio * 100).toPrecision(3)}% (threshold ${(t.threshold * 100).toPrecision(3)}%)`,
  })));
}

/** The Deployment each Service needs and its minimum, read from the committed DeploymentUnavailable rule. */
export function availabilityTargets(expr: string): { deployment: string; service: string; min: number }[] {
  return [...expr.matchAll(/deployment="([^"]+)"\}\) \* 0, "service", "([^"]+)", "", ""\) < (\d+)/g)]
    .map((m) => ({ deployment: m[1], service: m[2], min: Number(m[3]) }));
}

/** The scenarios for `env`, given its DeploymentUnavailable expression and the probed URL; `intervalSeconds` is the scaled scrape interval. */
export function standIns(env: ResolvedEnvironment, deploymentExpr: string, probedUrl: string, probeJob: string, intervalSeconds: number): StandIns {
  const ns = env.namespace;
  const expectations: Expectation[] = [];
  const apps: SeriesSpec[] = [];

  // API Services' error ratio (ErrorBudgetBurn*): user requests 2xx/5xx, probes and scrapes 2xx.
  const errorServices = levels(SLO_OBJECTIVES.errors).map((ratio, i) => {
    const labels = { namespace: ns, job: 'support-service', service: `support-service-e${i}` };
    const bad = Math.round(ratio * N);
    apps.push(
      counter('http_requests_total', { ...labels, handler: '/api/v1/support/tickets', method: 'GET', status: '2xx' }, N - bad),
      counter('http_requests_total', { ...labels, handler: '/api/v1/support/tickets', method: 'GET', status: '5xx' }, bad),
      counter('http_requests_total', { ...labels, handler: '/health', method: 'GET', status: '2xx' }, 9),
      counter('http_requests_total', { ...labels, handler: '/metrics', method: 'GET', status: '2xx' }, 1),
    );
    return labels;
  });
  expectations.push(...sloExpectations('ErrorBudgetBurn', SLO_OBJECTIVES.errors, errorServices, 'user requests failing'));

  // API Services' latency (LatencyBudgetBurn*, and HighResponseTime at 5 % over 100 ms): all 2xx.
  const latencyLevels = levels(SLO_OBJECTIVES.latency);
  const latencyServices = latencyLevels.map((ratio, i) => {
    const labels = { namespace: ns, job: 'analytics-service', service: `analytics-service-l${i}` };
    const slow = Math.round(ratio * N);
    const h = { ...labels, handler: '/api/v1/analytics/reports', method: 'GET' };
    apps.push(
      counter('http_requests_total', { ...h, status: '2xx' }, N),
      counter('http_request_duration_seconds_bucket', { ...h, le: '0.1' }, N - slow),
      counter('http_request_duration_seconds_bucket', { ...h, le: '0.5' }, N),
      counter('http_request_duration_seconds_bucket', { ...h, le: '1.0' }, N),
      counter('http_request_duration_seconds_bucket', { ...h, le: '+Inf' }, N),
      counter('http_request_duration_seconds_count', h, N),
    );
    return labels;
  });
  expectations.push(...sloExpectations('LatencyBudgetBurn', SLO_OBJECTIVES.latency, latencyServices, 'user requests slower than 100 ms'));
  latencyLevels.forEach((ratio, i) => expectations.push({
    alert: 'HighResponseTime', labels: latencyServices[i], fires: ratio > 0.05, scenario: `${(ratio * 100).toPrecision(3)}% slower than 100 ms (threshold 5%)`,
  }));

  // Database pools: 19 of 20 connections (95 % > 90 %) and 17 of 20 (85 %).
  for (const [pod, active, fires] of [['auth-service-blue-pool-hot', 19, true], ['auth-service-blue-pool-warm', 17, false]] as const) {
    const labels = { namespace: ns, job: 'auth-service', service: 'auth-service', pod, pool: 'postgres' };
    apps.push(series('db_pool_connections_active', labels, active), series('db_pool_connections_max', labels, 20));
    expectations.push({ alert: 'DatabasePoolExhausted', labels: { pod }, fires, scenario: `${active} of 20 connections (threshold 90%)` });
  }

  // The edge: API requests per backend Service (EdgeErrorBudgetBurn*: 502/503/504 only), and the frontend (all 5xx).
  const nginx: SeriesSpec[] = [];
  const nginxLabels = (host: string, service: string, status: string) => ({
    status, method: 'GET', path: '/', namespace: ns, ingress: 'soundcore-kcp', service, canary: '', host,
    controller_class: 'k8s.io/ingress-nginx', controller_namespace: 'ingress-nginx', controller_pod: 'ingress-nginx-controller-7d9c8-x2x4k',
  });
  const edgeServices = levels(SLO_OBJECTIVES.edge).map((ratio, i) => {
    const service = ['knowledge-service', 'content-service', 'support-service', 'analytics-service', 'auth-service'][i];
    const bad = Math.round(ratio * N);
    // Besides the edge's 503s, 3 % of 500s from the service itself: not the edge's to count.
    nginx.push(
      counter('nginx_ingress_controller_requests', nginxLabels(env.domains.api, service, '200'), N - bad - 300),
      counter('nginx_ingress_controller_requests', nginxLabels(env.domains.api, service, '500'), 300),
      counter('nginx_ingress_controller_requests', nginxLabels(env.domains.api, service, '503'), bad),
    );
    return { ingress: 'soundcore-kcp', host: env.domains.api, service };
  });
  expectations.push(...sloExpectations('EdgeErrorBudgetBurn', SLO_OBJECTIVES.edge, edgeServices, 'API requests answered 503 by the edge'));
  const frontendServices = levels(SLO_OBJECTIVES.frontend).map((ratio, i) => {
    const service = `frontend-f${i}`;
    const bad = Math.round(ratio * N);
    nginx.push(
      counter('nginx_ingress_controller_requests', nginxLabels(env.domains.frontend, service, '200'), N - bad),
      counter('nginx_ingress_controller_requests', nginxLabels(env.domains.frontend, service, '500'), bad),
    );
    return { ingress: 'soundcore-kcp', host: env.domains.frontend, service };
  });
  expectations.push(...sloExpectations('FrontendErrorBudgetBurn', SLO_OBJECTIVES.frontend, frontendServices, 'frontend requests answered 5xx'));

  // kube-state-metrics: the Deployment each Service selects, and the idle colour (never alerted on).
  const ksm: SeriesSpec[] = [];
  const targets = availabilityTargets(deploymentExpr);
  if (targets.length < 5) throw new Error(`expected a DeploymentUnavailable target per component, got ${JSON.stringify(targets)}`);
  const design: [string, (min: number) => number | undefined, boolean][] = [
    ['exactly the pods it needs', (min) => min, false],
    ['one pod fewer than it needs', (min) => min - 1, true],
    ['no such Deployment (no series at all)', () => undefined, true],
    ['scaled to 0 / every pod gone', () => 0, true],
    ['one pod more than it needs', (min) => min + 1, false],
  ];
  targets.forEach((t, i) => {
    const [scenario, available, fires] = design[i % design.length];
    const value = available(t.min);
    if (value !== undefined) ksm.push(series('kube_deployment_status_replicas_available', { namespace: ns, deployment: t.deployment }, value));
    const idle = t.deployment.replace(/-(blue|green)$/, (_m, c: string) => (c === 'blue' ? '-green' : '-blue'));
    if (idle !== t.deployment) ksm.push(series('kube_deployment_status_replicas_available', { namespace: ns, deployment: idle }, 0));
    expectations.push({ alert: 'DeploymentUnavailable', labels: { service: t.service, deployment: t.deployment }, fires, scenario: `${scenario} (needs ${t.min})` });
  });
  const endpointDesign: [string, { ready: number; notReady: number } | undefined, boolean][] = [
    ['3 ready addresses', { ready: 3, notReady: 0 }, false],
    ['2 addresses, none ready', { ready: 0, notReady: 2 }, true],
    ['no Endpoints object (no series at all)', undefined, true],
    ['1 ready address beside 2 not ready', { ready: 1, notReady: 2 }, false],
  ];
  targets.forEach((t, i) => {
    const [scenario, addresses, fires] = endpointDesign[i % endpointDesign.length];
    if (addresses !== undefined) {
      for (let a = 0; a < addresses.ready + addresses.notReady; a++) {
        ksm.push(series('kube_endpoint_address', { namespace: ns, endpoint: t.service, ip: `10.1.${i}.${a + 10}`, ready: String(a < addresses.ready) }, 1));
      }
    }
    expectations.push({ alert: 'ServiceWithoutEndpoints', labels: { endpoint: t.service }, fires, scenario });
  });

  // cAdvisor and the limits kube-state-metrics reports: CPU at 100 % (throttled) / 75 % of a 0.5-core limit and
  // 1.5 cores without a limit; memory at 95 % / 85 % of 512 MiB and 100 MiB without a limit.
  const cadvisor: SeriesSpec[] = [];
  const mib = 1024 * 1024;
  const cpu: [string, number, number | undefined, boolean][] = [
    ['cpu-hot', 0.5, 0.5, true], ['cpu-warm', 0.375, 0.5, false], ['cpu-no-limit', 1.5, undefined, false],
  ];
  for (const [name, cores, limit, fires] of cpu) {
    const labels = { namespace: ns, pod: `content-service-blue-${name}`, container: 'content-service' };
    // CPU seconds are timeline seconds: one scaled interval at `cores` adds cores × the scaled interval.
    cadvisor.push(counter('container_cpu_usage_seconds_total', labels, cores * intervalSeconds));
    if (limit !== undefined) ksm.push(series('kube_pod_container_resource_limits', { ...labels, node: 'node-a', resource: 'cpu', unit: 'core' }, limit));
    expectations.push({ alert: 'HighCPUUsage', labels: { pod: labels.pod }, fires, scenario: `${cores} cores of ${limit ?? 'no'} limit (threshold 80%)` });
  }
  const memory: [string, number, number | undefined, boolean][] = [
    ['mem-hot', 0.95 * 512 * mib, 512 * mib, true], ['mem-warm', 0.85 * 512 * mib, 512 * mib, false], ['mem-no-limit', 100 * mib, undefined, false],
  ];
  for (const [name, bytes, limit, fires] of memory) {
    const labels = { namespace: ns, pod: `content-service-blue-${name}`, container: 'content-service' };
    cadvisor.push(series('container_memory_working_set_bytes', labels, Math.round(bytes)), series('container_spec_memory_limit_bytes', labels, limit ?? 0));
    if (limit !== undefined) ksm.push(series('kube_pod_container_resource_limits', { ...labels, node: 'node-a', resource: 'memory', unit: 'byte' }, limit));
    expectations.push({ alert: 'HighMemoryUsage', labels: { pod: labels.pod }, fires, scenario: `${Math.round(bytes / mib)} MiB of ${limit === undefined ? 'no' : `${limit / mib} MiB`} limit (threshold 90%)` });
  }

  // Synthetic checks: the probed URL fails every check; a second URL of the same Probe fails one check only.
  const flakyUrl = `${probedUrl}flaky`;
  const probes = [
    series('probe_success', { job: probeJob, instance: probedUrl }, 0),
    { ...series('probe_success', { job: probeJob, instance: flakyUrl }, 1), at: { 3: 0 } },
  ];
  expectations.push({ alert: 'ProbeFailed', labels: { instance: probedUrl }, fires: true, scenario: 'every check fails' });
  expectations.push({ alert: 'ProbeFailed', labels: { instance: flakyUrl }, fires: false, scenario: 'one failed check' });

  return {
    spec: {
      paths: {
        '/apps': { series: apps },
        '/ingress-nginx': { series: nginx },
        '/kube-state-metrics': { series: ksm },
        '/cadvisor': { series: cadvisor },
        '/blackbox': { series: probes },
        // A pod whose scrape fails once (PodDown's near miss): an empty exposition, 503 on the third scrape.
        '/flaky-pod': { failOn: [3], series: [] },
      },
    },
    expectations,
  };
}

import { Dashboard, PanelUnit } from './grafana';

/** Options of {@link serviceOverviewDashboard}. */
export interface ServiceOverviewOptions {
  /** Stable dashboard uid. */
  readonly uid: string;
  readonly title: string;
  /** Namespace selected when the dashboard opens. */
  readonly defaultNamespace: string;
  /** @default - none */
  readonly tags?: readonly string[];
}

/**
 * The core metrics of a namespace of HTTP services scraped by a WorkloadMonitor, templated by
 * `$namespace` and `$service` (the `job`, i.e. the component; series are split by Kubernetes
 * Service, so a blue/green component shows its active and `-preview` colours side by side):
 * request rate, error ratio, latency p50/p95/p99, database pool usage, cache hit ratio, pod CPU
 * and memory.
 */
export function serviceOverviewDashboard(o: ServiceOverviewOptions): Dashboard {
  const dashboard = new Dashboard({ uid: o.uid, title: o.title, tags: o.tags });
  dashboard.addVariable({
    name: 'namespace', label: 'Namespace', query: 'label_values(http_requests_total, namespace)', defaultValue: o.defaultNamespace,
  });
  dashboard.addVariable({
    name: 'service', label: 'Service', query: 'label_values(http_requests_total{namespace="$namespace"}, job)', multi: true,
  });

  const app = 'namespace="$namespace", job=~"$service"';
  const requests = (extra = '') => `rate(http_requests_total{${app}${extra}}[$__rate_interval])`;
  // Pods are named after their Deployment: <component>-<hash> or <component>-<colour>-<hash>.
  const pods = 'namespace="$namespace", container!="", container!="POD", pod=~"$service-.+"';

  dashboard.addPanel({
    title: 'Request rate',
    description: 'HTTP requests per second, per Service.',
    unit: PanelUnit.REQUESTS_PER_SECOND,
    min: 0,
    queries: [{ expr: `sum by (service) (${requests()})`, legend: '{{service}}' }],
  });
  dashboard.addPanel({
    title: 'Error ratio',
    description: '5xx responses as a fraction of all responses, per Service (HighErrorRate fires on this).',
    unit: PanelUnit.PERCENT_UNIT,
    min: 0,
    queries: [{
      expr: `sum by (service) (${requests(', status=~"5.."')}) / sum by (service) (${requests()})`,
      legend: '{{service}}',
    }],
  });
  dashboard.addPanel({
    title: 'Latency p50 / p95 / p99',
    description: 'Request duration quantiles, per Service (HighResponseTime fires on p95).',
    unit: PanelUnit.SECONDS,
    min: 0,
    queries: [0.5, 0.95, 0.99].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (service, le) (rate(http_request_duration_seconds_bucket{${app}}[$__rate_interval])))`,
      legend: `{{service}} p${Math.round(q * 100)}`,
    })),
  });
  dashboard.addPanel({
    title: 'Database pool usage',
    description: 'Active connections as a fraction of the pool size, per pod.',
    unit: PanelUnit.PERCENT_UNIT,
    min: 0,
    max: 1,
    queries: [{
      expr: `max by (service, pod) (db_pool_connections_active{${app}}) / max by (service, pod) (db_pool_connections_max{${app}} > 0)`,
      legend: '{{pod}}',
    }],
  });
  dashboard.addPanel({
    title: 'Cache hit ratio',
    description: 'Redis keyspace hits as a fraction of lookups (redis_exporter counters) in the namespace.',
    unit: PanelUnit.PERCENT_UNIT,
    min: 0,
    max: 1,
    queries: [{
      expr: 'sum(rate(redis_keyspace_hits_total{namespace="$namespace"}[$__rate_interval]))'
        + ' / (sum(rate(redis_keyspace_hits_total{namespace="$namespace"}[$__rate_interval]))'
        + ' + sum(rate(redis_keyspace_misses_total{namespace="$namespace"}[$__rate_interval])))',
      legend: 'hit ratio',
    }],
  });
  dashboard.addPanel({
    title: 'Pod CPU',
    description: 'CPU cores used, per pod.',
    unit: PanelUnit.CORES,
    min: 0,
    queries: [{ expr: `sum by (pod) (rate(container_cpu_usage_seconds_total{${pods}}[$__rate_interval]))`, legend: '{{pod}}' }],
  });
  dashboard.addPanel({
    title: 'Pod memory',
    description: 'Working-set memory, per pod (the kernel OOM-kills at the limit).',
    unit: PanelUnit.BYTES,
    min: 0,
    queries: [{ expr: `sum by (pod) (container_memory_working_set_bytes{${pods}})`, legend: '{{pod}}' }],
  });
  return dashboard;
}

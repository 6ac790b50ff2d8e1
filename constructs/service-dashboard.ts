import { Dashboard, PanelUnit } from './grafana';
import { DEFAULT_EXCLUDED_HANDLERS, LATENCY_QUANTILE, leMatcher } from './http-alerts';

/** Options of {@link serviceOverviewDashboard}. */
export interface ServiceOverviewOptions {
  /** Stable dashboard uid. */
  readonly uid: string;
  readonly title: string;
  /** Namespace selected when the dashboard opens. */
  readonly defaultNamespace: string;
  /** @default - none */
  readonly tags?: readonly string[];
  /**
   * `handler` values left out of the error and latency panels, as the alerts leave them out.
   * @default DEFAULT_EXCLUDED_HANDLERS
   */
  readonly excludedHandlers?: readonly string[];
  /** The latency bound the alerts use (a bucket bound of http_request_duration_seconds, seconds). @default 0.1 */
  readonly latencyBound?: number;
}

/**
 * The core metrics of a namespace of HTTP services scraped by a WorkloadMonitor, templated by
 * `$namespace` and `$service` (the `job`, i.e. the component; series are split by Kubernetes
 * Service, so a blue/green component shows its active and `-preview` colours side by side):
 * request rate, error ratio and share of slow requests (the user requests the alerts judge),
 * database pool usage, available pods of each Deployment (kube-state-metrics), pod CPU and memory.
 * Every panel reads series something in a kube-prometheus-stack cluster produces: the services,
 * cAdvisor or kube-state-metrics.
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
  const excluded = o.excludedHandlers ?? DEFAULT_EXCLUDED_HANDLERS;
  const bound = o.latencyBound ?? 0.1;
  const users = excluded.length === 0 ? app : `${app}, handler!~"${excluded.join('|')}"`;
  const requests = (extra = '') => `rate(http_requests_total{${app}${extra}}[$__rate_interval])`;
  const userRate = (metric: string, extra = '') => `sum by (service) (rate(${metric}{${users}${extra}}[$__rate_interval]))`;
  const slowShare = 1 - LATENCY_QUANTILE;
  const ms = `${Number((bound * 1000).toPrecision(6))} ms`;
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
    description: `5xx responses as a fraction of the user requests (all but ${excluded.join(', ')}), per Service: HighErrorRate `
      + 'fires on this over its window; the ErrorBudgetBurn alerts compare it over a long and a short window with a multiple of the error budget.',
    unit: PanelUnit.PERCENT_UNIT,
    min: 0,
    queries: [{
      expr: `${userRate('http_requests_total', ', status=~"5.."')} / ${userRate('http_requests_total')}`,
      legend: '{{service}}',
    }],
  });
  dashboard.addPanel({
    title: `Requests slower than ${ms}`,
    description: `Share of the user requests that took longer than ${ms}, per Service, read from the bucket le="${bound}" `
      + `(no interpolation). The P${Math.round(LATENCY_QUANTILE * 100)} is above ${ms} exactly when this is above `
      + `${Math.round(slowShare * 100)}%: HighResponseTime fires on this over its window; the LatencyBudgetBurn alerts compare it `
      + `over a long and a short window with a multiple of the ${Math.round(slowShare * 100)}% budget.`,
    unit: PanelUnit.PERCENT_UNIT,
    min: 0,
    max: 1,
    queries: [{
      expr: `(${userRate('http_request_duration_seconds_count')} - ${userRate('http_request_duration_seconds_bucket', `, ${leMatcher(bound)}`)})`
        + ` / ${userRate('http_request_duration_seconds_count')}`,
      legend: '{{service}}',
    }],
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
    title: 'Available pods',
    description: 'Available replicas of each Deployment (kube-state-metrics), both colours of a blue/green pair: '
      + 'DeploymentUnavailable fires when the one its Service selects has fewer than it needs.',
    unit: PanelUnit.COUNT,
    min: 0,
    queries: [{
      expr: 'max by (deployment) (kube_deployment_status_replicas_available{namespace="$namespace", deployment=~"($service)(-blue|-green)?"})',
      legend: '{{deployment}}',
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

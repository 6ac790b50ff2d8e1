/**
 * The standard alerts of a namespace of HTTP services scraped by a {@link WorkloadMonitor}: error
 * ratio, latency, scrape failures, CPU and memory relative to the limits, and database-pool usage.
 * Expressions are structure (here); thresholds, durations, severities and teams are data (props).
 *
 * Metrics assumed: `http_requests_total{handler, status}` and the `http_request_duration_seconds`
 * histogram by `handler` with the bucket layout {@link LATENCY_BUCKETS} (what
 * prometheus-fastapi-instrumentator exports by default; `status` may be `500` or grouped `5xx`),
 * `up` of the scraped targets, cAdvisor's `container_*` series (kubelet) and kube-state-metrics'
 * `kube_pod_container_resource_limits`, and the services' own `db_pool_connections_active|max`.
 */
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import { AlertGroup, AlertRule, AlertSeverity, PrometheusRules } from './monitoring';
import { assertValid, checkDnsLabel, checkHttpsUrl, checkPromDuration, PropsError } from './validation';

/** Tuning of one threshold alert. */
export interface AlertTuning {
  /** Value the expression must exceed (a ratio from 0 to 1, or seconds for latency). */
  readonly threshold: number;
  /** How long it must be exceeded before the alert fires (Prometheus duration, e.g. `5m`). */
  readonly for: string;
  readonly severity: AlertSeverity;
  /** `team` label: who is paged. */
  readonly team: string;
}

/** Tuning of an alert without threshold. */
export type DurationAlertTuning = Omit<AlertTuning, 'threshold'>;

/** Tuning of every alert of {@link HttpServiceAlerts}, keyed by alert name. */
export interface HttpServiceAlertTuning {
  /** 5xx responses as a fraction of all responses, per Service. */
  readonly HighErrorRate: AlertTuning;
  /**
   * Bound in seconds of the 95th percentile latency, per Service: one of {@link LATENCY_BUCKETS}.
   * The alert fires when more than 5 % of the requests take longer.
   */
  readonly HighResponseTime: AlertTuning;
  /** A scrape target (pod) does not answer. */
  readonly PodDown: DurationAlertTuning;
  /** CPU used as a fraction of the container's CPU limit. */
  readonly HighCPUUsage: AlertTuning;
  /** Working-set memory as a fraction of the container's memory limit. */
  readonly HighMemoryUsage: AlertTuning;
  /** Active database connections as a fraction of the pool size, per pod. */
  readonly DatabasePoolExhausted: AlertTuning;
}

/** Name of an alert of {@link HttpServiceAlerts}. */
export type HttpServiceAlertName = keyof HttpServiceAlertTuning;

/** Every alert of {@link HttpServiceAlerts}, in evaluation order. */
export const HTTP_SERVICE_ALERTS: readonly HttpServiceAlertName[] = [
  'HighErrorRate', 'HighResponseTime', 'PodDown', 'HighCPUUsage', 'HighMemoryUsage', 'DatabasePoolExhausted',
];

/** The alerts whose threshold is a ratio (0..1); HighResponseTime's is in seconds, PodDown has none. */
export const RATIO_ALERTS = ['HighErrorRate', 'HighCPUUsage', 'HighMemoryUsage', 'DatabasePoolExhausted'] as const satisfies readonly HttpServiceAlertName[];

/**
 * The contract between the services and the latency alert: the upper bounds (seconds, `+Inf`
 * implied) of the `http_request_duration_seconds` histogram every scraped service exports. These
 * are prometheus-fastapi-instrumentator's defaults (`latency_lowr_buckets`). A histogram can only
 * tell whether a request took longer than one of its bounds, so the latency threshold must be one
 * of them: `histogram_quantile()` over these buckets never returns more than 1 (it returns the
 * highest finite bound when the quantile falls in `+Inf`), and interpolates below it.
 */
export const LATENCY_BUCKETS: readonly number[] = [0.1, 0.5, 1];

/** The latency quantile HighResponseTime bounds: more than 1 - 0.95 = 5 % of the requests slower than the threshold. */
export const LATENCY_QUANTILE = 0.95;

/**
 * `handler` label values (route templates) whose requests are no user traffic and are left out of
 * the error ratio and the latency: kubelet probes and Prometheus scrapes (about 0.33 requests/s of
 * fast 2xx per pod with the production probe periods and a 30 s scrape).
 */
export const DEFAULT_EXCLUDED_HANDLERS: readonly string[] = ['/health', '/metrics'];

/** Path segment of each alert's runbook (`{alert}` in the runbook URL pattern). */
export const RUNBOOK_SLUGS: { readonly [alert in HttpServiceAlertName]: string } = {
  HighErrorRate: 'high-error-rate',
  HighResponseTime: 'high-latency',
  PodDown: 'pod-down',
  HighCPUUsage: 'high-cpu-usage',
  HighMemoryUsage: 'high-memory-usage',
  DatabasePoolExhausted: 'database-pool-exhausted',
};

/** Placeholder of the runbook URL pattern replaced by the alert's runbook slug. */
export const RUNBOOK_PLACEHOLDER = '{alert}';

/** Properties of {@link HttpServiceAlerts}. */
export interface HttpServiceAlertsProps {
  /** Exact PrometheusRule name. */
  readonly name: string;
  /** The namespace every expression is restricted to. */
  readonly namespace: string;
  /** Thresholds, durations, severities and teams. */
  readonly tuning: HttpServiceAlertTuning;
  /** Runbook URL with `{alert}` standing for the alert's slug, e.g. `https://wiki.example.com/runbooks/{alert}`. */
  readonly runbookUrlPattern: string;
  /** Labels of the PrometheusRule, including those Prometheus selects rules by. @default - none */
  readonly labels?: LabelSet;
  /** Name of the rule group. @default 'application-alerts' */
  readonly groupName?: string;
  /** Evaluation interval of the group. @default '30s' */
  readonly evaluationInterval?: string;
  /** Range of the rate() windows. @default '5m' */
  readonly window?: string;
  /**
   * `handler` label values (route templates, e.g. the probe path) left out of HighErrorRate and
   * HighResponseTime: requests of probes and scrapes, not of users.
   * @default DEFAULT_EXCLUDED_HANDLERS (`/health`, `/metrics`)
   */
  readonly excludedHandlers?: readonly string[];
}

/** One PrometheusRule with the six standard alerts of a namespace of HTTP services. */
export class HttpServiceAlerts extends Construct {
  /** The PrometheusRule. */
  public readonly rules: PrometheusRules;
  /** The rule group holding the alerts. */
  public readonly group: AlertGroup;
  /** The namespace every expression is restricted to. */
  public readonly namespace: string;
  /** Range of the rate() windows. */
  public readonly window: string;

  constructor(scope: Construct, id: string, props: HttpServiceAlertsProps) {
    super(scope, id);
    const where = `HttpServiceAlerts ${props.name ?? id}`;
    assertValid(where, 'namespace', props.namespace, checkDnsLabel(props.namespace));
    assertValid(where, 'runbookUrlPattern', props.runbookUrlPattern, checkRunbookUrlPattern(props.runbookUrlPattern));
    this.namespace = props.namespace;
    this.window = props.window ?? '5m';
    assertValid(where, 'window', this.window, checkPromDuration(this.window));
    for (const name of HTTP_SERVICE_ALERTS) {
      if (props.tuning?.[name] === undefined) throw new PropsError(where, `tuning.${name}`, undefined, 'must be set');
    }
    for (const name of RATIO_ALERTS) {
      const t = props.tuning[name].threshold;
      assertValid(where, `tuning.${name}.threshold`, t, checkRatio(t));
    }
    const latency = props.tuning.HighResponseTime.threshold;
    assertValid(where, 'tuning.HighResponseTime.threshold', latency, checkLatencyBound(latency));
    const excluded = props.excludedHandlers ?? DEFAULT_EXCLUDED_HANDLERS;
    excluded.forEach((h, i) => assertValid(where, `excludedHandlers[${i}]`, h, checkHandlerPath(h)));

    this.rules = new PrometheusRules(this, 'Rules', { name: props.name, labels: props.labels });
    this.group = this.rules.addGroup(props.groupName ?? 'application-alerts', { interval: props.evaluationInterval ?? '30s' });
    const runbook = (alert: HttpServiceAlertName) => props.runbookUrlPattern.replace(RUNBOOK_PLACEHOLDER, RUNBOOK_SLUGS[alert]);
    const tuned = (alert: HttpServiceAlertName, rule: Pick<AlertRule, 'expr' | 'summary' | 'description'>): AlertRule => ({
      name: alert,
      for: props.tuning[alert].for,
      severity: props.tuning[alert].severity,
      team: props.tuning[alert].team,
      runbookUrl: runbook(alert),
      ...rule,
    });
    const t = props.tuning;
    const ns = `namespace="${this.namespace}"`;
    const w = this.window;
    const byService = 'sum by (namespace, job, service)';
    // User requests: probes and scrapes are fast 2xx that would dilute both ratios.
    const users = excluded.length === 0 ? ns : `${ns}, handler!~"${excluded.join('|')}"`;
    // cAdvisor also reports the pod's sandbox (`POD`) and pod totals (no container); both are skipped.
    const containers = `${ns}, container!="", container!="POD"`;

    this.group.addAlert(tuned('HighErrorRate', {
      // A ratio per Service: a busy service's few errors do not page, a quiet service's many do.
      expr: [
        `${byService} (rate(http_requests_total{${users}, status=~"5.."}[${w}]))`,
        '  /',
        `${byService} (rate(http_requests_total{${users}}[${w}]))`,
        `  > ${t.HighErrorRate.threshold}`,
      ].join('\n'),
      summary: 'High error rate in {{ $labels.service }}',
      description: `{{ $value | humanizePercentage }} of the requests to {{ $labels.service }} in {{ $labels.namespace }} `
        + `failed with a 5xx status over the last ${w} (threshold: ${percent(t.HighErrorRate.threshold)}).`,
    }));
    const bound = t.HighResponseTime.threshold;
    const slowShare = 1 - LATENCY_QUANTILE;
    const requests = `${byService} (rate(http_request_duration_seconds_count{${users}}[${w}]))`;
    this.group.addAlert(tuned('HighResponseTime', {
      // The P95 is above a bucket bound exactly when more than 5 % of the requests are in higher
      // buckets: the share slower than the bound, read from the bucket without interpolation.
      expr: [
        `(${requests}`,
        `  - ${byService} (rate(http_request_duration_seconds_bucket{${users}, ${leMatcher(bound)}}[${w}])))`,
        '  /',
        requests,
        `  > ${n(slowShare)}`,
      ].join('\n'),
      summary: 'High API response time in {{ $labels.service }}',
      description: `{{ $value | humanizePercentage }} of the requests to {{ $labels.service }} in {{ $labels.namespace }} `
        + `took longer than ${ms(bound)} over the last ${w}: its P${n(LATENCY_QUANTILE * 100)} latency is above ${ms(bound)} `
        + `(at most ${percent(slowShare)} may be slower).`,
    }));
    this.group.addAlert(tuned('PodDown', {
      // `up` of the targets the ServiceMonitor discovered in this namespace: no job name assumed.
      expr: `up{${ns}} == 0`,
      summary: 'Pod {{ $labels.pod }} is down',
      description: `Pod {{ $labels.pod }} of {{ $labels.job }} in namespace {{ $labels.namespace }} has not answered `
        + `its metrics scrape for more than ${t.PodDown.for}.`,
    }));
    this.group.addAlert(tuned('HighCPUUsage', {
      // Relative to the CPU limit (kube-state-metrics); a container without a limit has no series.
      // `max`, not `sum`: a duplicate series (a second kube-state-metrics replica, the kubelet's
      // resource endpoint besides cAdvisor) must not double the limit or the usage.
      expr: [
        `max by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{${containers}}[${w}]))`,
        '  /',
        `max by (namespace, pod, container) (kube_pod_container_resource_limits{${ns}, resource="cpu"} > 0)`,
        `  > ${t.HighCPUUsage.threshold}`,
      ].join('\n'),
      summary: 'High CPU usage in {{ $labels.pod }}',
      description: `Container {{ $labels.container }} of pod {{ $labels.pod }} uses {{ $value | humanizePercentage }} `
        + `of its CPU limit (threshold: ${percent(t.HighCPUUsage.threshold)}).`,
    }));
    this.group.addAlert(tuned('HighMemoryUsage', {
      // `> 0` drops missing (0) limits: dividing by them would give +Inf and fire for every such pod.
      expr: [
        `max by (namespace, pod, container) (container_memory_working_set_bytes{${containers}})`,
        '  /',
        `max by (namespace, pod, container) (kube_pod_container_resource_limits{${ns}, resource="memory"} > 0)`,
        `  > ${t.HighMemoryUsage.threshold}`,
      ].join('\n'),
      summary: 'High memory usage in {{ $labels.pod }}',
      description: `Container {{ $labels.container }} of pod {{ $labels.pod }} uses {{ $value | humanizePercentage }} `
        + `of its memory limit (threshold: ${percent(t.HighMemoryUsage.threshold)}).`,
    }));
    this.group.addAlert(tuned('DatabasePoolExhausted', {
      // Per pod and pool: each pod has its own pool.
      expr: [
        `db_pool_connections_active{${ns}}`,
        '  /',
        `(db_pool_connections_max{${ns}} > 0)`,
        `  > ${t.DatabasePoolExhausted.threshold}`,
      ].join('\n'),
      summary: 'Database connection pool nearly exhausted in {{ $labels.service }}',
      description: `Pod {{ $labels.pod }} of {{ $labels.service }} is using {{ $value | humanizePercentage }} `
        + `of its connection pool (threshold: ${percent(t.DatabasePoolExhausted.threshold)}).`,
    }));
  }
}

/** Rule broken by `value` as a runbook URL pattern: an https URL containing `{alert}` once. */
export function checkRunbookUrlPattern(value: unknown): string | undefined {
  if (typeof value === 'string' && checkHttpsUrl(value) === undefined && value.split(RUNBOOK_PLACEHOLDER).length === 2) {
    return undefined;
  }
  return `must be an https URL containing "${RUNBOOK_PLACEHOLDER}" once (replaced by the alert's runbook slug)`;
}

/** Rule broken by `value` as a ratio threshold. */
export function checkRatio(value: unknown): string | undefined {
  if (typeof value === 'number' && value > 0 && value <= 1) return undefined;
  return 'must be a ratio greater than 0 and at most 1 (0.05 is 5%)';
}

/** Rule broken by `value` as a latency threshold in seconds. */
export function checkSeconds(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return undefined;
  return 'must be a number of seconds greater than 0';
}

/** Rule broken by `value` as a latency threshold: one of the histogram's bucket bounds. */
export function checkLatencyBound(value: unknown): string | undefined {
  if (typeof value === 'number' && LATENCY_BUCKETS.includes(value)) return undefined;
  return `must be one of the bucket bounds of http_request_duration_seconds, in seconds: ${LATENCY_BUCKETS.join(', ')} `
    + '(the histogram cannot tell whether a request took longer than any other value)';
}

/** Rule broken by `value` as an excluded `handler`: a plain route path, matched literally. */
export function checkHandlerPath(value: unknown): string | undefined {
  if (typeof value === 'string' && /^\/[A-Za-z0-9/_-]*$/.test(value)) return undefined;
  return 'must be a route path such as "/health" (letters, digits, "/", "-", "_")';
}

/**
 * Matcher of the bucket with upper bound `bound`: prometheus_client writes `le="1.0"` where Go
 * clients (and Prometheus 3, which normalizes it at scrape time) write `le="1"`.
 */
export function leMatcher(bound: number): string {
  const go = String(bound);
  const python = Number.isInteger(bound) ? `${bound}.0` : go;
  return go === python ? `le="${go}"` : `le=~"${go}|${python.replace('.', '\\\\.')}"`;
}

/** A number without floating-point noise (`0.050000000000000044` -> `0.05`). */
function n(v: number): string {
  return String(Number(v.toPrecision(12)));
}

/** 0.1 -> `100ms`, 1 -> `1s`. */
function ms(seconds: number): string {
  return seconds < 1 ? `${n(seconds * 1000)}ms` : `${n(seconds)}s`;
}

/** 0.05 -> `5%`, 0.125 -> `12.5%`. */
function percent(ratio: number): string {
  return `${Number((ratio * 100).toFixed(4))}%`;
}

import { DEFAULT_EXCLUDED_HANDLERS, leMatcher } from '../constructs/http-alerts';
import { AlertSeverity } from '../constructs/monitoring';
import type { SloDefinition } from '../constructs/slo';
import { MonitoringSettings } from './model';

/** Where the repository's files are browsed (the runbook pages link there). */
export const REPOSITORY_BLOB_URL = 'https://gitlab.com/soundcore/kcp/infrastructure/-/blob/main';

/** Replaced by the environment's name in `runbookUrlPattern`. */
export const ENVIRONMENT_PLACEHOLDER = '{environment}';

/**
 * Monitoring every environment starts from: the seed's alert thresholds (the latency one at the
 * SLA's P95 bound), `for` durations, severities and teams, and kube-prometheus-stack's default selector label. An environment
 * overrides any of it under `monitoring` in its file (see {@link MonitoringOverrides}).
 */
export const MONITORING_DEFAULTS: MonitoringSettings = {
  // kube-prometheus-stack installed as release "prometheus": its Prometheus only loads
  // ServiceMonitors and PrometheusRules carrying this label, and ignores others without a word.
  prometheusSelector: { release: 'prometheus' },
  scrapeInterval: '30s',
  evaluationInterval: '30s',
  // At least four scrape intervals (resolve.ts checks it): rate() needs two samples in its window,
  // and one or two missed scrapes must not blank the expression out.
  rateWindow: '5m',
  metricsPort: 9090,
  // The runbook pages synth writes from the alert rules into dist/<environment>/runbooks/ (README
  // "Alert routing"); `{environment}` is replaced by the environment's name (main.ts).
  runbookUrlPattern: `${REPOSITORY_BLOB_URL}/dist/${ENVIRONMENT_PLACEHOLDER}/runbooks/{alert}.md`,
  alerts: {
    // A warning, no longer a page: the error SLO's burn-rate alerts page (ErrorBudgetBurn1h/6h,
    // kcpSlos below). 5 % for 10 minutes spends about 1 % of a 30-day 0.1 % budget, too little to
    // wake anyone; it stays as the quick signal of a sharp partial failure (it reacts in about 9
    // minutes to 6 % errors, where the 1 h burn-rate window needs about 16).
    HighErrorRate: { threshold: 0.05, for: '5m', severity: AlertSeverity.WARNING, team: 'backend' },
    // The SLA's P95 bound (100 ms), a bucket bound of http_request_duration_seconds (LATENCY_BUCKETS):
    // fires when more than 5 % of the user requests take longer. (The seed's `p95 > 1 s` could never
    // fire: with buckets 0.1, 0.5, 1, +Inf, histogram_quantile() never exceeds 1.)
    HighResponseTime: { threshold: 0.1, for: '10m', severity: AlertSeverity.WARNING, team: 'backend' },
    PodDown: { for: '2m', severity: AlertSeverity.CRITICAL, team: 'devops' },
    HighCPUUsage: { threshold: 0.8, for: '10m', severity: AlertSeverity.WARNING, team: 'devops' },
    HighMemoryUsage: { threshold: 0.9, for: '10m', severity: AlertSeverity.WARNING, team: 'devops' },
    DatabasePoolExhausted: { threshold: 0.9, for: '5m', severity: AlertSeverity.CRITICAL, team: 'backend' },
  },
};

/**
 * The SLA's objectives (../shared/seeds: error rate < 0.1 %, P95 < 100 ms, availability 99.9 %),
 * alerted on as error-budget burn rates (constructs/slo.ts, `SRE_WORKBOOK_WINDOWS`).
 */
export const SLO_OBJECTIVES = {
  /** 99.9 % of the user requests of every API Service succeed (no 5xx). */
  errors: 0.999,
  /** 95 % of the user requests of every API Service take at most `latencyBound` seconds. */
  latency: 0.95,
  /** A bucket bound of http_request_duration_seconds (LATENCY_BUCKETS): the SLA's P95 bound. */
  latencyBound: 0.1,
  /** 99.9 % of the requests through the Ingress get an answer from a backend (no 502/503/504). */
  edge: 0.999,
  /** 99.9 % of the frontend's requests through the Ingress succeed (no 5xx): it exports no metrics. */
  frontend: 0.999,
} as const;

/** Who is paged by the alerts that are not in `alerts`. */
export const SLO_TEAMS = { api: 'backend', edge: 'devops', frontend: 'frontend', availability: 'devops' } as const;

/**
 * The blackbox-exporter the cluster runs for the synthetic checks of the public URLs (the
 * prometheus-community chart `prometheus-blackbox-exporter` installed as `blackbox-exporter` in
 * `monitoring`, with its default `http_2xx` module).
 */
export const BLACKBOX_PROBER = 'blackbox-exporter-prometheus-blackbox-exporter.monitoring.svc:9115';

/**
 * The Prometheus the Argo Rollouts controller queries for the analyses: the `prometheus-operated`
 * Service the Prometheus operator creates next to every Prometheus (port 9090, `web`), in the
 * namespace Prometheus runs in (`network.prometheus.namespace`).
 */
export function prometheusUrl(namespace: string): string {
  return `http://prometheus-operated.${namespace}.svc:9090`;
}

/** Where the SLOs apply: the namespace, the Ingress and its hosts, and the runbook of an alert slug. */
export interface SloScope {
  readonly namespace: string;
  /**
   * The Ingress whose controller metrics the edge and frontend SLOs read. @default - no Ingress
   * (Gateway API routing): no edge or frontend SLO, since Gateway API defines no metrics and each
   * implementation names its own
   */
  readonly ingress?: string;
  /** Hosts of the scraped API Services. */
  readonly apiHosts: readonly string[];
  /** Hosts of components without metrics (the frontend): only the edge sees their requests. */
  readonly frontendHosts: readonly string[];
  readonly runbook: (slug: string) => string;
}

/**
 * The SLOs of the API Services' own series (`errors`, `latency`, per Service, probes and scrapes
 * left out): what the burn-rate alerts and the Argo Rollouts analyses of one revision both judge.
 */
export function serviceSlos(s: Pick<SloScope, 'namespace' | 'runbook'>): SloDefinition[] {
  const users = [`namespace="${s.namespace}"`, `handler!~"${DEFAULT_EXCLUDED_HANDLERS.join('|')}"`];
  const byService = ['namespace', 'job', 'service'];
  return [
    {
      alertPrefix: 'ErrorBudgetBurn', slo: 'errors', objective: SLO_OBJECTIVES.errors,
      promise: `${pct(SLO_OBJECTIVES.errors)} of the user requests succeed (no 5xx)`,
      events: { total: { metric: 'http_requests_total' }, bad: { metric: 'http_requests_total', matchers: ['status=~"5.."'] } },
      matchers: users, groupBy: byService, subject: '{{ $labels.service }}',
      team: SLO_TEAMS.api, runbookUrl: s.runbook('error-budget-burn'),
    },
    {
      alertPrefix: 'LatencyBudgetBurn', slo: 'latency', objective: SLO_OBJECTIVES.latency,
      promise: `${pct(SLO_OBJECTIVES.latency)} of the user requests take at most ${SLO_OBJECTIVES.latencyBound * 1000}ms`,
      events: {
        total: { metric: 'http_request_duration_seconds_count' },
        good: { metric: 'http_request_duration_seconds_bucket', matchers: [leMatcher(SLO_OBJECTIVES.latencyBound)] },
      },
      matchers: users, groupBy: byService, subject: '{{ $labels.service }}',
      team: SLO_TEAMS.api, runbookUrl: s.runbook('latency-budget-burn'),
    },
  ];
}

/**
 * The KCP's SLOs: metric names and labels of prometheus-fastapi-instrumentator (API Services, per
 * Service, probes and scrapes left out as in `DEFAULT_EXCLUDED_HANDLERS`) and of the ingress-nginx
 * controller (`nginx_ingress_controller_requests{ingress, host, service, status}`, status the
 * three-digit code; its `namespace` label is renamed `exported_namespace` by a scrape that sets its
 * own, so the Ingress and the hosts select instead).
 */
export function kcpSlos(s: SloScope): SloDefinition[] {
  const hosts = (h: readonly string[]) => `host=~"${h.map((x) => x.replace(/\./g, '\\\\.')).join('|')}"`;
  const slos = serviceSlos(s);
  if (s.ingress !== undefined && s.apiHosts.length > 0) {
    slos.push({
      alertPrefix: 'EdgeErrorBudgetBurn', slo: 'edge', objective: SLO_OBJECTIVES.edge,
      promise: `${pct(SLO_OBJECTIVES.edge)} of the API requests through the Ingress reach a backend that answers (no 502/503/504)`,
      events: {
        total: { metric: 'nginx_ingress_controller_requests' },
        bad: { metric: 'nginx_ingress_controller_requests', matchers: ['status=~"502|503|504"'] },
      },
      matchers: [`ingress="${s.ingress}"`, hosts(s.apiHosts)], groupBy: ['ingress', 'host', 'service'],
      subject: '{{ $labels.service }} at {{ $labels.host }}', team: SLO_TEAMS.edge, runbookUrl: s.runbook('edge-error-budget-burn'),
    });
  }
  if (s.ingress !== undefined && s.frontendHosts.length > 0) {
    slos.push({
      alertPrefix: 'FrontendErrorBudgetBurn', slo: 'frontend', objective: SLO_OBJECTIVES.frontend,
      promise: `${pct(SLO_OBJECTIVES.frontend)} of the frontend requests through the Ingress succeed (no 5xx)`,
      events: {
        total: { metric: 'nginx_ingress_controller_requests' },
        bad: { metric: 'nginx_ingress_controller_requests', matchers: ['status=~"5.."'] },
      },
      matchers: [`ingress="${s.ingress}"`, hosts(s.frontendHosts)], groupBy: ['ingress', 'host', 'service'],
      subject: '{{ $labels.service }} at {{ $labels.host }}', team: SLO_TEAMS.frontend, runbookUrl: s.runbook('frontend-error-budget-burn'),
    });
  }
  return slos;
}

function pct(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(6))}%`;
}

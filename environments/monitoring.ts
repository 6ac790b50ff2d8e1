import { AlertSeverity } from '../constructs/monitoring';
import { MonitoringSettings } from './model';

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
  runbookUrlPattern: 'https://wiki.soundcore-kcp.com/runbooks/{alert}',
  alerts: {
    HighErrorRate: { threshold: 0.05, for: '5m', severity: AlertSeverity.CRITICAL, team: 'backend' },
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

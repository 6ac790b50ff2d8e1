import {
  CATALOGUE, ComponentSpec, ENVIRONMENTS, EnvironmentConfig, KNOWLEDGE_SERVICE, MONITORING_DEFAULTS, MonitoringOverrides,
  resolveEnvironments,
} from '../environments';
import { production } from '../environments/production';
import { committedReleaseStates, configProblems, find, synthObjects } from './helpers';


function prodWith(monitoring: MonitoringOverrides): EnvironmentConfig {
  return { ...production, monitoring };
}

describe('monitoring configuration', () => {
  test('every environment starts from the seed\'s thresholds and kube-prometheus-stack\'s release label', () => {
    for (const env of resolveEnvironments(ENVIRONMENTS, CATALOGUE, committedReleaseStates())) {
      expect(env.monitoring).toEqual(MONITORING_DEFAULTS);
    }
    expect(MONITORING_DEFAULTS.prometheusSelector).toEqual({ release: 'prometheus' });
    expect(Object.entries(MONITORING_DEFAULTS.alerts).map(([name, a]) => [name, 'threshold' in a ? a.threshold : undefined, a.for])).toEqual([
      ['HighErrorRate', 0.05, '5m'],
      ['HighResponseTime', 0.1, '10m'],
      ['PodDown', undefined, '2m'],
      ['HighCPUUsage', 0.8, '10m'],
      ['HighMemoryUsage', 0.9, '10m'],
      ['DatabasePoolExhausted', 0.9, '5m'],
    ]);
  });

  test('an environment overrides one field of one alert; the rest keeps the defaults', () => {
    // GIVEN production with a stricter error ratio held for longer
    const env = prodWith({ alerts: { HighErrorRate: { threshold: 0.02, for: '10m' } } });
    // WHEN
    const [resolved] = resolveEnvironments([env], CATALOGUE, committedReleaseStates());
    const rules = find(synthObjects([env]).get('production')!, 'PrometheusRule', 'soundcore-kcp-alerts').spec.groups[0].rules;
    // THEN
    expect(resolved.monitoring.alerts.HighErrorRate).toEqual({ threshold: 0.02, for: '10m', severity: 'warning', team: 'backend' });
    expect(resolved.monitoring.alerts.HighResponseTime).toEqual(MONITORING_DEFAULTS.alerts.HighResponseTime);
    expect(rules[0]).toMatchObject({ alert: 'HighErrorRate', for: '10m', expr: expect.stringMatching(/> 0\.02$/) });
    expect(rules[0].annotations.description).toContain('(threshold: 2%)');
    expect(rules[1]).toMatchObject({ alert: 'HighResponseTime', for: '10m', expr: expect.stringMatching(/le="0\.1"[^]*> 0\.05$/) });
  });

  test('the Prometheus selector is one value, applied to both the ServiceMonitor and the PrometheusRule', () => {
    const objs = synthObjects([prodWith({ prometheusSelector: { release: 'kube-prometheus-stack' } })]).get('production')!;
    for (const [kind, name] of [['ServiceMonitor', 'soundcore-kcp-monitor'], ['PrometheusRule', 'soundcore-kcp-alerts']]) {
      expect(find(objs, kind, name).metadata.labels).toEqual({
        'release': 'kube-prometheus-stack', 'app.kubernetes.io/part-of': 'soundcore-kcp', 'environment': 'production',
        'deploy.soundcore-kcp.com/set': 'production',
      });
    }
  });
});

describe('bad monitoring configuration is rejected before anything is synthesized', () => {
  test('rejects a ratio threshold given as a percentage, and a latency that is no bucket bound', () => {
    expect(configProblems([prodWith({ alerts: { HighErrorRate: { threshold: 5 }, HighResponseTime: { threshold: 0.2 } } })])).toEqual([
      'production: monitoring.alerts.HighErrorRate.threshold must be a ratio greater than 0 and at most 1 (0.05 is 5%), got 5',
      'production: monitoring.alerts.HighResponseTime.threshold must be one of the bucket bounds of http_request_duration_seconds, '
        + 'in seconds: 0.1, 0.5, 1 (the histogram cannot tell whether a request took longer than any other value), got 0.2',
    ]);
  });

  test('accepts any bucket bound as the latency threshold', () => {
    // GIVEN production paging on the highest finite bucket bound
    const env = prodWith({ alerts: { HighResponseTime: { threshold: 1 } } });
    // WHEN
    const rules = find(synthObjects([env]).get('production')!, 'PrometheusRule', 'soundcore-kcp-alerts').spec.groups[0].rules;
    // THEN prometheus_client's `le="1.0"` and Prometheus 3's normalized `le="1"` both match
    expect(configProblems([env])).toEqual([]);
    expect(rules[1].expr).toContain('le=~"1|1\\\\.0"');
    expect(rules[1].annotations.description).toContain('took longer than 1s');
  });

  test('rejects durations Prometheus would not parse', () => {
    expect(configProblems([prodWith({ scrapeInterval: '30', alerts: { PodDown: { for: '2 minutes' } } })])).toEqual([
      'production: monitoring.scrapeInterval must be a positive Prometheus duration such as "30s", "5m" or "1h30m", got "30"',
      'production: monitoring.alerts.PodDown.for must be a positive Prometheus duration such as "30s", "5m" or "1h30m", got "2 minutes"',
    ]);
  });

  test('rejects an unknown alert, severity or empty team', () => {
    const alerts = { HighLatency: { for: '5m' }, HighCPUUsage: { severity: 'page', team: '' } } as unknown as MonitoringOverrides['alerts'];
    expect(configProblems([prodWith({ alerts })])).toEqual([
      'production: monitoring.alerts.HighCPUUsage.severity must be one of critical, warning, info, got "page"',
      'production: monitoring.alerts.HighLatency is an unknown field (fields here: HighErrorRate, HighResponseTime, PodDown, HighCPUUsage, HighMemoryUsage, DatabasePoolExhausted)',
      'production: monitoring.alerts.HighCPUUsage.team must be a non-empty label value (letters, digits, "-", "_" or "."), got ""',
    ]);
  });

  test('rejects an empty Prometheus selector, which would leave monitors and rules unselected', () => {
    expect(configProblems([prodWith({ prometheusSelector: {} })])).toEqual([
      'production: monitoring.prometheusSelector must name at least one label (kube-prometheus-stack selects release: <helm release name>), got {}',
    ]);
  });

  test('rejects a runbook URL pattern without the {alert} placeholder', () => {
    expect(configProblems([prodWith({ runbookUrlPattern: 'https://wiki.soundcore-kcp.com/runbooks' })])).toEqual([
      'production: monitoring.runbookUrlPattern must be an https URL containing "{alert}" once (replaced by the alert\'s runbook slug), got "https://wiki.soundcore-kcp.com/runbooks"',
    ]);
  });

  test('rejects a backend that does not expose metrics', () => {
    const unscraped: ComponentSpec = { ...KNOWLEDGE_SERVICE, exposesMetrics: false };
    expect(configProblems([production], CATALOGUE.map((c) => (c.name === 'knowledge-service' ? unscraped : c)))).toEqual([
      'catalogue/knowledge-service: exposesMetrics must be true for a backend (every backend is scraped and alerted on), got false',
    ]);
  });
});

import { Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import {
  AlertSeverity, Dashboard, GrafanaDashboard, HttpServiceAlerts, HttpServiceAlertTuning, Microservice, MicroserviceProps, PanelUnit,
  PrometheusRules, ReleaseStrategy, WorkloadMonitor,
} from '../constructs';
import { matches } from './helpers';

const TUNING: HttpServiceAlertTuning = {
  HighErrorRate: { threshold: 0.05, for: '5m', severity: AlertSeverity.CRITICAL, team: 'shop' },
  HighResponseTime: { threshold: 0.5, for: '10m', severity: AlertSeverity.WARNING, team: 'shop' },
  PodDown: { for: '2m', severity: AlertSeverity.CRITICAL, team: 'ops' },
  HighCPUUsage: { threshold: 0.8, for: '10m', severity: AlertSeverity.WARNING, team: 'ops' },
  HighMemoryUsage: { threshold: 0.9, for: '10m', severity: AlertSeverity.WARNING, team: 'ops' },
  DatabasePoolExhausted: { threshold: 0.9, for: '5m', severity: AlertSeverity.CRITICAL, team: 'shop' },
};

const BASE: MicroserviceProps = {
  name: 'orders',
  image: 'registry.example.com/shop/orders',
  release: ReleaseStrategy.rolling({ imageTag: 'v2.3.1' }),
  containerPort: 8080,
  partOf: 'shop',
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
};

/** A stand-in for the blue/green pair: a second (preview) Service inside the workload. */
function addPreviewService(workload: Microservice): kplus.Service {
  const preview = new kplus.Service(workload, 'PreviewService', {
    metadata: { name: `${workload.name}-preview`, labels: workload.objectLabels() },
    ports: [{ name: 'http', port: workload.servicePort, targetPort: workload.containerPort }],
  });
  preview.selectLabel('app', workload.name);
  return preview;
}

describe('Microservice.exposeMetrics', () => {
  test('adds a metrics port targeting the container port to every Service, the preview one included', () => {
    // GIVEN a workload with a second (preview) Service
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', BASE);
    addPreviewService(orders);
    // WHEN
    orders.exposeMetrics({ serviceLabels: { monitoring: 'scraped' } });
    // THEN
    const services = Testing.synth(chart).filter((o) => o.kind === 'Service');
    expect(services.map((s) => [s.metadata.name, s.spec.ports, s.metadata.labels.monitoring])).toEqual([
      ['orders', [{ name: 'http', port: 8080, targetPort: 8080 }, { name: 'metrics', port: 9090, targetPort: 8080 }], 'scraped'],
      ['orders-preview', [{ name: 'http', port: 8080, targetPort: 8080 }, { name: 'metrics', port: 9090, targetPort: 8080 }], 'scraped'],
    ]);
    expect(orders.exposesMetrics).toBe(true);
  });

  test('covers a Service added later when called again, and fails validation when it is not', () => {
    // GIVEN metrics exposed on port 9100 before the preview Service exists
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', BASE);
    orders.exposeMetrics({ port: 9100, serviceLabels: { monitoring: 'scraped' } });
    addPreviewService(orders);
    // THEN synthesis names the Service without the port
    expect(() => Testing.synth(chart)).toThrow(/Service orders-preview has no "metrics" port: call exposeMetrics\(\) after adding it/);
    // WHEN called again without options, the new Service gets the same port and labels
    orders.exposeMetrics();
    const services = Testing.synth(chart).filter((o) => o.kind === 'Service');
    expect(services.map((s) => [s.spec.ports[1], s.metadata.labels.monitoring])).toEqual([
      [{ name: 'metrics', port: 9100, targetPort: 8080 }, 'scraped'],
      [{ name: 'metrics', port: 9100, targetPort: 8080 }, 'scraped'],
    ]);
  });

  test('throws when the metrics port number is already a port of the Service', () => {
    const orders = new Microservice(Testing.chart(), 'Orders', { ...BASE, servicePort: 9090 });
    expect(() => orders.exposeMetrics())
      .toThrow('Microservice orders: metrics port must differ from the other ports of Service orders (http is 9090), got 9090');
  });
});

describe('WorkloadMonitor', () => {
  test('selects the scraped workloads by their labels plus the scrape label, and labels itself for Prometheus', () => {
    // GIVEN
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', BASE);
    const monitor = new WorkloadMonitor(chart, 'Monitor', {
      name: 'shop', labels: { release: 'kps' }, selectLabels: { 'app.kubernetes.io/part-of': 'shop' }, namespaces: ['shop'],
    });
    // WHEN
    monitor.scrape(orders);
    // THEN
    const objs = Testing.synth(chart);
    const sm = objs.find((o) => o.kind === 'ServiceMonitor')!;
    expect(sm.metadata).toEqual({ name: 'shop', labels: { release: 'kps' } });
    expect(sm.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/part-of': 'shop', 'monitoring': 'scraped' } });
    const svc = objs.find((o) => o.kind === 'Service')!;
    expect(matches(sm.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
    expect(monitor.workloads).toEqual([orders]);
  });

  test('fails validation when it scrapes nothing', () => {
    const chart = Testing.chart();
    new WorkloadMonitor(chart, 'Monitor', { name: 'shop', selectLabels: { 'app.kubernetes.io/part-of': 'shop' } });
    expect(() => Testing.synth(chart)).toThrow(/ServiceMonitor shop scrapes no workload: call scrape\(\) with at least one/);
  });

  test('fails validation when a scraped Service lacks a selected label', () => {
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', { ...BASE, partOf: undefined });
    new WorkloadMonitor(chart, 'Monitor', { name: 'shop', selectLabels: { 'app.kubernetes.io/part-of': 'shop' } }).scrape(orders);
    expect(() => Testing.synth(chart)).toThrow(/Service orders lacks the selected labels app.kubernetes.io\/part-of=shop/);
  });

  test.each([
    [{ interval: '30 seconds' }, 'WorkloadMonitor shop: interval must be a positive Prometheus duration such as "30s", "5m" or "1h30m", got "30 seconds"'],
    [{ path: 'metrics' }, 'WorkloadMonitor shop: path must be an absolute HTTP path, got "metrics"'],
    [{ labels: { release: 'kube prometheus' } }, 'WorkloadMonitor shop: labels.release must be a Kubernetes label value'],
  ])('throws on bad props %j', (patch, message) => {
    expect(() => new WorkloadMonitor(Testing.chart(), 'Monitor', { name: 'shop', selectLabels: {}, ...patch })).toThrow(message);
  });

  test('throws when a workload is scraped twice', () => {
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', BASE);
    const monitor = new WorkloadMonitor(chart, 'Monitor', { name: 'shop', selectLabels: {} });
    monitor.scrape(orders);
    expect(() => monitor.scrape(orders)).toThrow('WorkloadMonitor shop: workload must be scraped once, got "orders"');
  });
});

describe('PrometheusRules', () => {
  const alert = {
    name: 'OrdersDown', expr: 'up{job="orders"} == 0', for: '5m', severity: AlertSeverity.CRITICAL, team: 'shop',
    summary: 'Orders is down', description: 'No orders pod answers.', runbookUrl: 'https://wiki.example.com/runbooks/orders-down',
  };

  test('renders groups of alerts with severity and team labels and summary, description and runbook_url annotations', () => {
    const chart = Testing.chart();
    const rules = new PrometheusRules(chart, 'Rules', { name: 'shop', labels: { release: 'kps' } });
    rules.addGroup('shop', { interval: '1m' }).addAlert(alert);
    const [obj] = Testing.synth(chart);
    expect(obj.metadata.labels).toEqual({ release: 'kps' });
    expect(obj.spec.groups).toEqual([{
      name: 'shop', interval: '1m', rules: [{
        alert: 'OrdersDown', expr: 'up{job="orders"} == 0', for: '5m',
        labels: { severity: 'critical', team: 'shop' },
        annotations: { summary: 'Orders is down', description: 'No orders pod answers.', runbook_url: 'https://wiki.example.com/runbooks/orders-down' },
      }],
    }]);
  });

  test.each([
    [{ for: '5 minutes' }, 'AlertGroup shop OrdersDown: for must be a positive Prometheus duration such as "30s", "5m" or "1h30m", got "5 minutes"'],
    [{ runbookUrl: 'wiki/orders' }, 'AlertGroup shop OrdersDown: runbookUrl must be an https URL, got "wiki/orders"'],
    [{ team: '' }, 'AlertGroup shop OrdersDown: team must not be empty, got ""'],
    [{ name: 'Orders Down' }, 'AlertGroup shop: name must match [A-Za-z_][A-Za-z0-9_]*, got "Orders Down"'],
  ])('rejects an alert with %j', (patch, message) => {
    const group = new PrometheusRules(Testing.chart(), 'Rules', { name: 'shop' }).addGroup('shop');
    expect(() => group.addAlert({ ...alert, ...patch })).toThrow(message);
  });

  test('rejects a duplicate alert in a group and fails validation for an empty group', () => {
    const chart = Testing.chart();
    const rules = new PrometheusRules(chart, 'Rules', { name: 'shop' });
    const group = rules.addGroup('shop');
    expect(() => Testing.synth(chart)).toThrow(/rule group shop has no alert/);
    group.addAlert(alert);
    expect(() => group.addAlert(alert)).toThrow('AlertGroup shop: name must be unique in its group, got "OrdersDown"');
  });
});

describe('HttpServiceAlerts', () => {
  const props = {
    name: 'shop-alerts', namespace: 'shop', tuning: TUNING,
    runbookUrlPattern: 'https://wiki.example.com/runbooks/{alert}',
  };

  test('puts the configured thresholds, durations, severities and teams into the rules', () => {
    // GIVEN a stricter error ratio, a longer duration and another team
    const tuning: HttpServiceAlertTuning = {
      ...TUNING,
      HighErrorRate: { threshold: 0.01, for: '15m', severity: AlertSeverity.WARNING, team: 'payments' },
    };
    const chart = Testing.chart();
    // WHEN
    const alerts = new HttpServiceAlerts(chart, 'Alerts', { ...props, tuning });
    // THEN
    const rule = alerts.group.toSpec().rules!.find((r) => r.alert === 'HighErrorRate')!;
    expect(rule.expr).toMatch(/> 0\.01$/);
    expect(rule.for).toBe('15m');
    expect(rule.labels).toEqual({ severity: 'warning', team: 'payments' });
    expect(rule.annotations!.description).toContain('(threshold: 1%)');
    expect(rule.annotations!.runbook_url).toBe('https://wiki.example.com/runbooks/high-error-rate');
  });

  test('leaves the probe and scrape handlers out of the error ratio and the latency, or the ones given', () => {
    // GIVEN the default handlers, and a service probed on /healthz
    const group = (excludedHandlers?: readonly string[]) => new HttpServiceAlerts(Testing.chart(), 'Alerts', { ...props, excludedHandlers }).group.toSpec().rules!;
    // WHEN / THEN every selector of both alerts excludes them
    for (const [handlers, matcher] of [[undefined, 'handler!~"/health|/metrics"'], [['/healthz'], 'handler!~"/healthz"']] as const) {
      for (const rule of group(handlers).filter((r) => r.alert === 'HighErrorRate' || r.alert === 'HighResponseTime')) {
        const selectors = String(rule.expr).match(/\{[^}]*\}/g)!;
        expect(selectors.length).toBeGreaterThanOrEqual(2);
        for (const s of selectors) expect(s).toContain(matcher);
      }
    }
    // and reads the threshold's bucket: 0.5 s with at most 5% slower
    const latency = group().find((r) => r.alert === 'HighResponseTime')!;
    expect(latency.expr).toContain('le="0.5"');
    expect(latency.expr).toMatch(/> 0\.05$/);
  });

  test.each([
    ['an invalid namespace', { namespace: 'Shop' }, /^HttpServiceAlerts shop-alerts: namespace must be a DNS-1123 label/],
    ['a runbook pattern without {alert}', { runbookUrlPattern: 'https://wiki.example.com/runbooks' },
      'HttpServiceAlerts shop-alerts: runbookUrlPattern must be an https URL containing "{alert}" once (replaced by the alert\'s runbook slug), got "https://wiki.example.com/runbooks"'],
    ['a percentage where a ratio belongs',
      { tuning: { ...TUNING, HighMemoryUsage: { ...TUNING.HighMemoryUsage, threshold: 90 } } },
      'HttpServiceAlerts shop-alerts: tuning.HighMemoryUsage.threshold must be a ratio greater than 0 and at most 1 (0.05 is 5%), got 90'],
    ['a latency threshold that is no bucket bound',
      { tuning: { ...TUNING, HighResponseTime: { ...TUNING.HighResponseTime, threshold: 2 } } },
      /^HttpServiceAlerts shop-alerts: tuning.HighResponseTime.threshold must be one of the bucket bounds of http_request_duration_seconds, in seconds: 0.1, 0.5, 1 /],
    ['an excluded handler that is no route path', { excludedHandlers: ['/health', 'metrics|.*'] },
      'HttpServiceAlerts shop-alerts: excludedHandlers[1] must be a route path such as "/health" (letters, digits, "/", "-", "_"), got "metrics|.*"'],
  ])('throws on %s', (_what, patch, message) => {
    expect(() => new HttpServiceAlerts(Testing.chart(), 'Alerts', { ...props, ...patch })).toThrow(message);
  });
});

describe('GrafanaDashboard', () => {
  test('stores the dashboard JSON under <uid>.json with the sidecar label, panels laid out two per row', () => {
    const chart = Testing.chart();
    const dashboard = new Dashboard({ uid: 'shop', title: 'Shop' });
    for (const title of ['A', 'B', 'C']) {
      dashboard.addPanel({ title, description: title, unit: PanelUnit.SECONDS, queries: [{ expr: 'up', legend: '{{pod}}' }] });
    }
    new GrafanaDashboard(chart, 'Dashboard', { name: 'shop-dashboard', dashboard });
    const [cm] = Testing.synth(chart);
    expect(cm.metadata.labels).toEqual({ grafana_dashboard: '1' });
    const json = JSON.parse(cm.data['shop.json']);
    expect(json.panels.map((p: { id: number; gridPos: object }) => [p.id, p.gridPos])).toEqual([
      [1, { x: 0, y: 0, w: 12, h: 8 }], [2, { x: 12, y: 0, w: 12, h: 8 }], [3, { x: 0, y: 8, w: 12, h: 8 }],
    ]);
    expect(dashboard.queries()).toEqual(['up', 'up', 'up']);
  });

  test('throws on a uid Grafana would reject', () => {
    expect(() => new Dashboard({ uid: 'shop dashboard', title: 'Shop' }))
      .toThrow('Dashboard: uid must be 1 to 40 letters, digits, "-" or "_", got "shop dashboard"');
  });

  test.each([0, 5, 25, 1.5])('throws on %p columns, which would leave gaps or zero-width panels', (columns) => {
    expect(() => new Dashboard({ uid: 'shop', title: 'Shop', columns }))
      .toThrow(`Dashboard: columns must divide the 24-column grid (1, 2, 3, 4, 6, 8, 12 or 24), got ${columns}`);
  });
});

import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { CATALOGUE, FRONTEND, Tier } from '../environments';
import { find, matches, Obj, ofKind, synthObjects } from './helpers';
import { parseErrors, vectorSelectors } from './promql';

const objects = synthObjects();
const NAMESPACES: { [env: string]: string } = { staging: 'soundcore-kcp-staging', production: 'soundcore-kcp-prod' };
const BACKENDS = CATALOGUE.filter((c) => c.tier === Tier.BACKEND).map((c) => c.name);
const SEED_ALERTS = [
  // name, severity, team, for (the seed's values, which both environments keep, but HighErrorRate
  // is a warning: the error SLO's burn-rate alerts page)
  ['HighErrorRate', 'warning', 'backend', '5m'],
  ['HighResponseTime', 'warning', 'backend', '10m'],
  ['PodDown', 'critical', 'devops', '2m'],
  ['HighCPUUsage', 'warning', 'devops', '10m'],
  ['HighMemoryUsage', 'warning', 'devops', '10m'],
  ['DatabasePoolExhausted', 'critical', 'backend', '5m'],
];

interface RuleJson { alert: string; expr: string; for: string; labels: { [k: string]: string }; annotations: { [k: string]: string } }

function rulesOf(objs: Obj[]): RuleJson[] {
  return find(objs, 'PrometheusRule', 'soundcore-kcp-alerts').spec.groups.flatMap((g: { rules: RuleJson[] }) => g.rules);
}

/** The Services a ServiceMonitor selects in `objs`. */
function selectedServices(monitor: Obj, objs: Obj[]): Obj[] {
  return ofKind(objs, 'Service').filter((s) => monitor.spec.namespaceSelector.matchNames.includes(s.metadata.namespace)
    && matches(monitor.spec.selector.matchLabels, s.metadata.labels));
}

/** Dashboard queries as Grafana sends them for namespace `ns` and every service. */
function dashboardQueries(objs: Obj[], env: string, ns: string): string[] {
  const json = JSON.parse(find(objs, 'ConfigMap', 'soundcore-kcp-dashboard').data[`soundcore-kcp-${env}.json`]);
  return json.panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr
    .replace(/\$namespace/g, ns).replace(/\$service/g, '.+').replace(/\$__rate_interval/g, '2m')));
}

/** Pod labels copied onto series: the colour everywhere, Argo's revision where an Argo engine runs (staging). */
const PODTARGETLABELS: { [env: string]: string[] } = { staging: ['version', 'rollouts-pod-template-hash'], production: ['version'] };

describe.each(['staging', 'production'])('%s monitoring', (env) => {
  const objs = objects.get(env)!;
  const ns = NAMESPACES[env];
  const monitor = find(objs, 'ServiceMonitor', 'soundcore-kcp-monitor');
  const rule = find(objs, 'PrometheusRule', 'soundcore-kcp-alerts');

  test('the ServiceMonitor selects exactly the Services of every backend (and their preview Services), by labels they carry', () => {
    const selected = selectedServices(monitor, objs);
    // blue/green pairs: the preview Service makes the idle colour scrapeable, labelled with its colour
    // staging's Argo components: the canary Service of knowledge-service, the preview Service of content-service
    const expected = env === 'production' ? BACKENDS.flatMap((b) => [b, `${b}-preview`]) : [...BACKENDS, 'knowledge-service-canary', 'content-service-preview'];
    expect(selected.map((s) => s.metadata.name).sort()).toEqual(expected.sort());
    expect(monitor.spec.podTargetLabels).toEqual(PODTARGETLABELS[env]);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: [ns] });
    // the frontend serves no /metrics yet (FRONTEND.exposesMetrics is false): not selected
    expect(FRONTEND.exposesMetrics).toBe(false);
    expect(matches(monitor.spec.selector.matchLabels, find(objs, 'Service', 'frontend').metadata.labels)).toBe(false);
  });

  test('the ServiceMonitor scrapes a port every selected Service has, which reaches the container HTTP port', () => {
    expect(monitor.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s', scheme: 'http' }]);
    for (const service of selectedServices(monitor, objs)) {
      const port = service.spec.ports.find((p: { name: string }) => p.name === monitor.spec.endpoints[0].port);
      expect([service.metadata.name, port?.port]).toEqual([service.metadata.name, 9090]);
      const deployment = ofKind(objs, 'Deployment').find((d) => matches(service.spec.selector, d.spec.template.metadata.labels))!;
      const http = deployment.spec.template.spec.containers[0].ports.find((p: { name: string }) => p.name === 'http');
      expect([service.metadata.name, port.targetPort]).toEqual([service.metadata.name, http.containerPort]);
    }
  });

  test('series get the component name as job and the pod\'s colour as a label', () => {
    expect(monitor.spec.jobLabel).toBe('app.kubernetes.io/name');
    // where an Argo engine runs, also the revision (pod-template hash) Argo labels each pod with
    expect(monitor.spec.podTargetLabels).toEqual(PODTARGETLABELS[env]);
    for (const service of selectedServices(monitor, objs)) {
      expect(service.metadata.labels['app.kubernetes.io/name']).toBe(service.metadata.labels.app);
    }
  });

  test('the ServiceMonitor and the PrometheusRule carry the label Prometheus selects them by', () => {
    expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(rule.metadata.labels).toMatchObject({ release: 'prometheus' });
  });

  test('the ServiceMonitor and the PrometheusRule validate against the prometheus-operator CRD schemas', () => {
    expect(() => new ServiceMonitor(monitor as never).validate()).not.toThrow();
    expect(() => new PrometheusRule(rule as never).validate()).not.toThrow();
    // the validators do reject what the API server would
    const badMonitor = { ...monitor, spec: { ...monitor.spec, endpoints: [{ ...monitor.spec.endpoints[0], interval: '30 seconds' }] } };
    expect(() => new ServiceMonitor(badMonitor as never).validate()).toThrow(/endpoints\/0\/interval must match pattern/);
    const badRule = { ...rule, spec: { groups: [{ ...rule.spec.groups[0], name: undefined }] } };
    expect(() => new PrometheusRule(badRule as never).validate()).toThrow('data/spec/groups/0 must have required property name');
  });

  test('the PrometheusRule keeps the seed\'s name, group and six alerts with their severity, team and duration', () => {
    expect(rule.spec.groups.map((g: { name: string; interval: string }) => [g.name, g.interval])).toEqual([['application-alerts', '30s']]);
    expect(rulesOf(objs).map((r) => [r.alert, r.labels.severity, r.labels.team, r.for])).toEqual(SEED_ALERTS);
  });

  test('every alert carries severity, team, summary, description and a runbook URL', () => {
    for (const r of rulesOf(objs)) {
      expect(Object.keys(r.labels).sort()).toEqual(['severity', 'team']);
      expect(Object.keys(r.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(r.annotations.runbook_url).toMatch(/^https:\/\/gitlab\.com\/soundcore\/kcp\/infrastructure\/-\/blob\/main\/dist\/(staging|production)\/runbooks\/[a-z-]+\.md$/);
    }
  });

  test('every alert expression parses and reads only series of the environment namespace', () => {
    for (const r of rulesOf(objs)) {
      expect([r.alert, parseErrors(r.expr)]).toEqual([r.alert, []]);
      const selectors = vectorSelectors(r.expr);
      expect(selectors.length).toBeGreaterThan(0);
      for (const s of selectors) {
        expect([r.alert, s.metric, s.matchers]).toEqual([r.alert, s.metric, expect.arrayContaining([{ label: 'namespace', op: '=', value: ns }])]);
      }
    }
  });

  test('alert expressions fix the seed: a per-Service error ratio, no kubernetes-pods job, limits that must exist', () => {
    const expr = Object.fromEntries(rulesOf(objs).map((r) => [r.alert, r.expr]));
    expect(expr.HighErrorRate).toMatch(/^sum by \(namespace, job, service\) \(rate\(http_requests_total\{.*status=~"5\.\."\}\[5m\]\)\)\s+\/\s+sum by \(namespace, job, service\) \(rate\(http_requests_total\{[^}]*\}\[5m\]\)\)\s+> 0\.05$/);
    expect(expr.PodDown).toBe(`up{namespace="${ns}"} == 0`);
    expect(expr.HighCPUUsage).toContain('kube_pod_container_resource_limits{namespace="' + ns + '", resource="cpu"} > 0');
    expect(expr.HighMemoryUsage).toContain('kube_pod_container_resource_limits{namespace="' + ns + '", resource="memory"} > 0');
    expect(expr.HighMemoryUsage).not.toContain('container_spec_memory_limit_bytes');
  });

  test('the Grafana dashboard is a sidecar ConfigMap with valid dashboard JSON templated by namespace and service', () => {
    const cm = find(objs, 'ConfigMap', 'soundcore-kcp-dashboard');
    expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(Object.keys(cm.data)).toEqual([`soundcore-kcp-${env}.json`]);
    const dashboard = JSON.parse(cm.data[`soundcore-kcp-${env}.json`]);
    expect(dashboard).toMatchObject({ uid: `soundcore-kcp-${env}`, schemaVersion: 39, editable: false });
    expect(dashboard.templating.list.map((v: { name: string; type: string }) => [v.name, v.type])).toEqual([
      ['datasource', 'datasource'], ['namespace', 'query'], ['service', 'query'],
    ]);
    expect(dashboard.templating.list[1].current).toEqual({ text: ns, value: ns });
    expect(dashboard.panels.map((p: { title: string }) => p.title)).toEqual([
      'Request rate', 'Error ratio', 'Requests slower than 100 ms', 'Database pool usage', 'Available pods', 'Pod CPU', 'Pod memory',
    ]);
    // The latency panel shows what the latency alerts fire on: the share of user requests above the 0.1 s bucket bound.
    expect(dashboard.panels[2].targets.map((t: { expr: string }) => t.expr)).toEqual([
      `(sum by (service) (rate(http_request_duration_seconds_count{namespace="$namespace", job=~"$service", handler!~"/health|/metrics"}[$__rate_interval]))`
      + ` - sum by (service) (rate(http_request_duration_seconds_bucket{namespace="$namespace", job=~"$service", handler!~"/health|/metrics", le="0.1"}[$__rate_interval])))`
      + ` / sum by (service) (rate(http_request_duration_seconds_count{namespace="$namespace", job=~"$service", handler!~"/health|/metrics"}[$__rate_interval]))`,
    ]);
    expect(dashboard.panels[2].description).toContain('The P95 is above 100 ms exactly when this is above 5%: HighResponseTime fires on this');
    // ids unique, panels in a 24-column grid without overlap
    const panels: Array<{ id: number; gridPos: { x: number; y: number; w: number; h: number }; datasource: { uid: string } }> = dashboard.panels;
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const cells = new Set<string>();
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.datasource.uid).toBe('${datasource}');
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  test('every dashboard query parses and reads only the selected namespace', () => {
    const queries = dashboardQueries(objs, env, ns);
    expect(queries).toHaveLength(7);
    for (const q of queries) {
      expect([q, parseErrors(q)]).toEqual([q, []]);
      for (const s of vectorSelectors(q)) {
        expect([q, s.matchers]).toEqual([q, expect.arrayContaining([{ label: 'namespace', op: '=', value: ns }])]);
      }
    }
  });
});

describe('the dashboard reads only series the platform produces', () => {
  // Who exports each family: the services (prometheus-fastapi-instrumentator defaults, see
  // test/fixtures/instrumented-service/service.py; the pool gauges are the services' own), the
  // kubelet's cAdvisor and kube-state-metrics, all scraped by kube-prometheus-stack. No Redis exporter
  // runs or may be scraped (NetworkPolicy), so no redis_* family may be read.
  const PRODUCED: { readonly [metric: string]: string } = {
    http_requests_total: 'services', http_request_duration_seconds_count: 'services', http_request_duration_seconds_bucket: 'services',
    db_pool_connections_active: 'services', db_pool_connections_max: 'services',
    container_cpu_usage_seconds_total: 'cAdvisor', container_memory_working_set_bytes: 'cAdvisor',
    kube_deployment_status_replicas_available: 'kube-state-metrics',
  };

  test.each(['staging', 'production'])('%s: every panel query names a produced metric family', (env) => {
    // GIVEN the committed-config dashboard of the environment
    const objs = synthObjects().get(env)!;
    const cm = find(objs, 'ConfigMap', 'soundcore-kcp-dashboard');
    const dashboard = JSON.parse(cm.data[`soundcore-kcp-${env}.json`]);
    // WHEN every selector of every panel is listed
    const metrics = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.flatMap((t) => vectorSelectors(t.expr).map((v) => v.metric)));
    // THEN each one has a producer, and the former cache-hit panel's redis_exporter series are gone
    expect(metrics.filter((m: string) => PRODUCED[m] === undefined)).toEqual([]);
    expect(metrics).toContain('kube_deployment_status_replicas_available');
  });
});

describe('PromQL checks', () => {
  test('report a syntax error, so the parse tests can fail', () => {
    expect(parseErrors('sum(rate(http_requests_total[5m])')).not.toEqual([]);
    expect(parseErrors('up{namespace="x"} ==')).not.toEqual([]);
    expect(parseErrors('up{namespace="x"} == 0')).toEqual([]);
  });

  test('find every selector and its matchers, inside range selectors too', () => {
    expect(vectorSelectors('sum(rate(a{namespace="x", status=~"5.."}[5m])) / b')).toEqual([
      { metric: 'a', matchers: [{ label: 'namespace', op: '=', value: 'x' }, { label: 'status', op: '=~', value: '5..' }] },
      { metric: 'b', matchers: [] },
    ]);
  });
});

describe('configuration drives monitoring', () => {
  test('a frontend whose catalogue entry says it exposes metrics is scraped too', () => {
    // GIVEN the frontend declaring a /metrics endpoint
    const catalogue = CATALOGUE.map((c) => (c.name === 'frontend' ? { ...c, exposesMetrics: true } : c));
    // WHEN
    const objs = synthObjects(undefined, catalogue).get('production')!;
    // THEN its Service gets the metrics port (to container port 3000) and is selected
    const frontend = find(objs, 'Service', 'frontend');
    expect(frontend.spec.ports).toContainEqual({ name: 'metrics', port: 9090, targetPort: 3000 });
    expect(selectedServices(find(objs, 'ServiceMonitor', 'soundcore-kcp-monitor'), objs).map((s) => s.metadata.name)).toContain('frontend');
  });
});

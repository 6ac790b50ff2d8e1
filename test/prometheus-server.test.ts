/**
 * Every alert the project ships, evaluated by a real Prometheus server (Debian's
 * /usr/bin/prometheus) in one run. It scrapes two live stand-in services
 * (test/fixtures/instrumented-service/service.py): one under the `error-burst` traffic of
 * scenarios.json, where HighErrorRate must fire, and one under its near miss `busy-few-errors`,
 * where it must stay silent; and the file-based stand-ins of test/stand-in-series.ts (shaped as
 * kube-state-metrics, cAdvisor, ingress-nginx, blackbox-exporter and more instrumented Services),
 * where each alert has a label set designed to fire and one designed as its near miss. The rule
 * groups are those of the committed dist/production PrometheusRules, with every duration of the
 * timeline divided by one factor, and the traffic per scrape interval kept as it is
 * (test/prometheus-server.ts says why that keeps the rules' semantics, and what it does not keep).
 * The seed's original expressions are loaded beside them (as `Seed<alert>`) and shown failing on
 * the same series. Alerts are read from the server's own /api/v1/alerts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CATALOGUE, ENVIRONMENTS, resolveEnvironments } from '../environments';
import { committedReleaseStates } from './helpers';
import { scenarioSettings } from './instrumented-service';
import type { RuleGroupSpec } from '../constructs';
import {
  activeAlerts, ApiAlert, get, driveTraffic, ExporterStandIns, firstScrapes, LivePrometheus, freePorts, LiveService, loadRules, msDuration,
  scaleRuleGroups, sleep, startExporters, startPrometheus, startService, stop, TrafficDriver, withoutDurations,
} from './prometheus-server';
import { distRuleGroups, durationSeconds } from './promtool';
import { Expectation, standIns } from './stand-in-series';

jest.setTimeout(120_000); // every wait inside is bounded: 20 s per start, 10 s for the first scrapes and the rules, 30 s for the alerts, 5 s per request

/** Every duration of the timeline is divided by this: 30 s become 200 ms, 5 m become 2 s. */
const FACTOR = 150;

const settings = scenarioSettings();
const env = resolveEnvironments(ENVIRONMENTS, CATALOGUE, committedReleaseStates()).find((e) => e.name === 'production')!;
const appGroups = distRuleGroups(env.name, 'soundcore-kcp-alerts');
const groups = [...appGroups, ...distRuleGroups(env.name, 'soundcore-kcp-user-impact-alerts')];
const rules = new Map(groups.flatMap((g) => g.rules ?? []).map((r) => [r.alert, r]));

/** The seed's expressions (../shared/seeds/000_6fb5ab148d494887.txt), as alerts `Seed<name>` with our `for`s. */
const SEED: { readonly [alert: string]: string } = {
  HighErrorRate: 'rate(http_requests_total{status=~"5.."}[5m]) > 0.05',
  HighResponseTime: 'histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 1',
  PodDown: 'up{job="kubernetes-pods"} == 0',
  HighCPUUsage: `rate(container_cpu_usage_seconds_total{namespace="${env.namespace}"}[5m]) > 0.8`,
  HighMemoryUsage: `container_memory_working_set_bytes{namespace="${env.namespace}"} / container_spec_memory_limit_bytes > 0.9`,
};
const seedGroup: RuleGroupSpec = {
  name: 'seed', interval: appGroups[0].interval,
  rules: Object.entries(SEED).map(([alert, expr]) => ({ alert: `Seed${alert}`, expr, for: rules.get(alert)!.for })),
};
const scaled = (duration: string) => durationSeconds(duration) / FACTOR;
const FIRING = 'error-burst';
const NEAR_MISS = 'busy-few-errors';
/** The incident phase of each scenario: its traffic runs from the start (a fresh pod under it). */
const incident = (scenario: string) => settings.scenarios[scenario].phases.at(-1)!.traffic;

/** The Service each scenario's pod belongs to: the live colour fails, the preview colour is the near miss. */
const SERVICE: { readonly [scenario: string]: string } = { [FIRING]: 'knowledge-service', [NEAR_MISS]: 'knowledge-service-preview' };

describe('the rule groups scaled in time', () => {
  test('change durations only, each divided by the same factor', () => {
    const scaledGroups = scaleRuleGroups(groups, FACTOR);
    expect(scaledGroups.map((g) => g.interval)).toEqual(groups.map((g) => msDuration(scaled(g.interval!))));
    const before = groups.flatMap((g) => g.rules ?? []);
    const after = scaledGroups.flatMap((g) => g.rules ?? []);
    after.forEach((rule, i) => {
      const { expr, for: forDuration, ...rest } = rule;
      const { expr: expr0, for: for0, ...rest0 } = before[i];
      expect(rest).toEqual(rest0);
      expect(withoutDurations(String(expr))).toBe(withoutDurations(String(expr0)));
      expect(forDuration).toBe(for0 === undefined ? undefined : msDuration(scaled(for0)));
    });
    expect(String(rules.get('HighErrorRate')!.expr)).toContain(`[${env.monitoring.rateWindow}]`);
    expect(String(after.find((r) => r.alert === 'HighErrorRate')!.expr)).toContain(`[${msDuration(scaled(env.monitoring.rateWindow))}]`);
    // The burn-rate windows too: 3 days and 6 hours become 1728 s and 144 s, their ratio (12) kept.
    expect(String(rules.get('ErrorBudgetBurn3d')!.expr)).toMatch(/\[3d\][^]*\[6h\]/);
    expect(String(after.find((r) => r.alert === 'ErrorBudgetBurn3d')!.expr)).toMatch(/\[1728000ms\][^]*\[144000ms\]/);
  });
});

describe('a real Prometheus server scraping the live stand-in services and the exporters\' stand-ins', () => {
  let dir: string;
  const services: LiveService[] = [];
  const drivers: TrafficDriver[] = [];
  let starting: Promise<LivePrometheus> | undefined;
  let exporters: Promise<ExporterStandIns> | undefined;
  const startingServices: Promise<LiveService>[] = [];

  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-prometheus-')); });
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.stop()));
    await Promise.allSettled(startingServices); // a pod that started after the other failed is stopped too
    const prometheus = await starting?.catch(() => undefined);
    const standIns = await exporters?.catch(() => undefined);
    await Promise.all([...(prometheus ? [stop(prometheus.process)] : []), ...services.map((s) => stop(s.process)), ...(standIns ? [stop(standIns.process)] : [])]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every alert fires on its scenario once its for has elapsed, never on its near miss; the seed\'s expressions fail on the same series', async () => {
    const intervalMs = scaled(env.monitoring.scrapeInterval) * 1000;
    const scaledGroups = scaleRuleGroups([...groups, seedGroup], FACTOR);
    const probe = fs.readFileSync(path.join(__dirname, '..', 'dist', env.name, '90-probe-soundcore-kcp-frontend-probe.yaml'), 'utf8');
    const probedUrl = /static:\n\s+- (\S+)/.exec(probe)![1];
    const stand = standIns(env, String(rules.get('DeploymentUnavailable')!.expr), probedUrl, 'soundcore-kcp-frontend-probe', intervalMs / 1000);

    // Prometheus first: it scrapes its targets for the first time about 5 s after its start
    // (startPrometheus says why); the two pods and the exporters' stand-ins start meanwhile.
    const [prometheusPort, firingPort, nearMissPort, exportersPort, gonePort] = await freePorts(5);
    const pod = (name: string, port: number, service: string, podName: string, p?: string) => ({
      name, port, path: p,
      labels: { namespace: env.namespace, job: service.replace(/-preview$/, ''), service, endpoint: 'metrics', pod: podName },
    });
    const exporter = (name: string, p: string, honorLabels: boolean, labels: { [l: string]: string } = {}) => ({ name, port: exportersPort, path: p, honorLabels, labels });
    const launched = Date.now();
    // No rules yet: they are loaded once every target has been scraped (see below).
    starting = startPrometheus(prometheusPort, dir, [], [
      pod('live', firingPort, SERVICE[FIRING], `${SERVICE[FIRING]}-0`), pod('preview', nearMissPort, SERVICE[NEAR_MISS], `${SERVICE[NEAR_MISS]}-0`),
      // PodDown: a pod that no longer answers (nothing listens), and one whose third scrape fails.
      pod('gone', gonePort, 'auth-service', 'auth-service-blue-gone'), pod('flaky', exportersPort, 'auth-service', 'auth-service-blue-flaky', '/flaky-pod'),
      // Scraped as kube-prometheus-stack does: the exporters' labels kept, except ingress-nginx's `namespace`.
      exporter('apps', '/apps', true), exporter('kube-state-metrics', '/kube-state-metrics', true), exporter('cadvisor', '/cadvisor', true),
      exporter('blackbox', '/blackbox', true), exporter('ingress-nginx', '/ingress-nginx', false, { namespace: 'ingress-nginx' }),
    ], {
      scrapeInterval: msDuration(scaled(env.monitoring.scrapeInterval)),
      evaluationInterval: msDuration(scaled(groups[0].interval!)),
      lookbackDelta: msDuration(scaled('5m')), // Prometheus' default
    });
    fs.writeFileSync(path.join(dir, 'stand-ins.json'), JSON.stringify(stand.spec));
    exporters = startExporters(path.join(dir, 'stand-ins.json'), exportersPort);
    await exporters;
    startingServices.push(...[startService(firingPort), startService(nearMissPort)].map((p) => p.then((s) => {
      services.push(s);
      return s;
    })));
    const [firing, nearMiss] = await Promise.all(startingServices);
    const server = await starting;

    // The pods' traffic (CPU-bound: two Python services at a few hundred requests/s) starts shortly
    // before the first scrape, so it has some history by then, and no earlier.
    await sleep(Math.max(0, launched + 4000 - Date.now()));
    const start = Date.now();
    drivers.push(
      driveTraffic(firing.url, incident(FIRING), settings.slowSeconds, intervalMs),
      driveTraffic(nearMiss.url, incident(NEAR_MISS), settings.slowSeconds, intervalMs),
    );
    // The rules from the first scrape on: Prometheus 2.42 scrapes for the first time about 5 s after
    // its start, 12.5 minutes of the scaled timeline without any sample, which a real server never
    // has (it scrapes within one interval); rules evaluated then would see every absent() true.
    await firstScrapes(server);
    await loadRules(server, dir, scaledGroups);

    // The rules the server evaluates, from its own API: the scaled groups.
    const loaded = JSON.parse((await get(`${server.url}/api/v1/rules`)).body).data.groups as {
      name: string; interval: number; rules: { name: string; query: string; duration: number }[];
    }[];
    const byName = (a: (string | number)[], b: (string | number)[]) => String(a[0]).localeCompare(String(b[0]));
    expect(loaded.map((g) => [g.name, g.interval]).sort(byName)).toEqual([...groups, seedGroup].map((g) => [g.name, scaled(g.interval!)]).sort(byName));
    const loadedRules = new Map(loaded.flatMap((g) => g.rules).map((r) => [r.name, r]));
    for (const [name, rule] of rules) expect([name, loadedRules.get(name!)?.duration]).toEqual([name, scaled(String(rule.for))]);
    // HighErrorRate's rate windows, as the server prints them (e.g. `[2s]`): the scaled window.
    expect([...loadedRules.get('HighErrorRate')!.query.matchAll(/\[([^\]]+)\]/g)].map((m) => durationSeconds(m[1])))
      .toEqual([scaled(env.monitoring.rateWindow), scaled(env.monitoring.rateWindow)]);

    // What must fire, and what must not: the designed scenarios, plus the live pods and PodDown's.
    const burn = (prefix: string) => ['1h', '6h', '1d', '3d'].map((w) => `${prefix}${w}`);
    const expectations: Expectation[] = [
      ...stand.expectations,
      { alert: 'HighErrorRate', labels: { service: SERVICE[FIRING] }, fires: true, scenario: `${FIRING}: 2 of 32 user requests 5xx (6.25%)` },
      { alert: 'HighErrorRate', labels: { service: SERVICE[NEAR_MISS] }, fires: false, scenario: `${NEAR_MISS}: 2 of 64 user requests 5xx (3.1%)` },
      // Both live pods burn a 0.1 % budget far more than 14.4 times over: every row pages or tickets.
      ...[FIRING, NEAR_MISS].flatMap((sc) => burn('ErrorBudgetBurn').map((alert) => ({ alert, labels: { service: SERVICE[sc] }, fires: true, scenario: sc }))),
      { alert: 'PodDown', labels: { pod: 'auth-service-blue-gone' }, fires: true, scenario: 'nothing answers the scrape' },
      { alert: 'PodDown', labels: { pod: 'auth-service-blue-flaky' }, fires: false, scenario: 'one failed scrape' },
    ];
    const matches = (a: ApiAlert, e: Expectation) => a.labels.alertname === e.alert && Object.entries(e.labels).every(([k, v]) => a.labels[k] === v);
    // The live pods' own latency, and whether they answer a scrape within the scaled timeout (200 ms)
    // while serving a few hundred requests/s, are this machine's, not scenarios: their latency and
    // PodDown scenarios are the stand-ins'.
    const liveLatency = (a: ApiAlert) => /^(HighResponseTime|LatencyBudgetBurn|PodDown)/.test(a.labels.alertname) && Object.values(SERVICE).includes(a.labels.service);
    const mustFire = expectations.filter((e) => e.fires);
    const nearMisses = expectations.filter((e) => !e.fires);

    // Poll the API until every designed alert fires, then one more evaluation, and as long as a near
    // miss is pending (until it resolves, or fires: the test fails). The live near miss may be pending
    // briefly (a fresh pod's first samples: `rate` extrapolates each series from its own first
    // sample, the 5xx one appearing with the first error); an alert pages only when it fires. The
    // live pods' traffic stops once their alerts are settled (fired, one more evaluation, the near
    // miss not pending), leaving the CPUs to the rest; their ratios then have no new requests.
    const live = (e: Expectation) => Object.values(SERVICE).includes(e.labels.service ?? '');
    const seen: { at: number; alert: ApiAlert }[] = [];
    const deadline = start + 30_000;
    const firedAt = new Map<Expectation, number>();
    let allFiredAt: number | undefined;
    let liveFiredAt: number | undefined;
    let nearMissActive = false;
    let sent: { planned: number; answered: number }[] | undefined;
    const stopTraffic = async () => {
      sent = drivers.map((d) => ({ planned: d.planned(), answered: [...d.statuses.values()].reduce((a, b) => a + b, 0) }));
      await Promise.all(drivers.map((d) => d.stop()));
    };
    while (Date.now() < deadline && (allFiredAt === undefined || Date.now() < allFiredAt + intervalMs || nearMissActive)) {
      const now = Date.now();
      const alerts = await activeAlerts(server.url);
      for (const alert of alerts) seen.push({ at: now, alert });
      for (const e of mustFire) if (!firedAt.has(e) && alerts.some((a) => a.state === 'firing' && matches(a, e))) firedAt.set(e, now);
      nearMissActive = alerts.some((a) => nearMisses.some((e) => matches(a, e)));
      if (allFiredAt === undefined && firedAt.size === mustFire.length) allFiredAt = now;
      if (liveFiredAt === undefined && mustFire.filter(live).every((e) => firedAt.has(e))) liveFiredAt = now;
      const liveNearMiss = alerts.some((a) => nearMisses.filter(live).some((e) => matches(a, e)));
      if (sent === undefined && liveFiredAt !== undefined && now >= liveFiredAt + intervalMs && !liveNearMiss) await stopTraffic();
      await sleep(100);
    }
    const elapsed = Date.now() - start;
    if (sent === undefined) await stopTraffic();
    const [firingStatuses, nearMissStatuses] = drivers.map((d) => d.statuses);
    const firingSeen = seen.filter((x) => x.alert.state === 'firing').map((x) => x.alert);
    const key = (a: ApiAlert) => `${a.labels.alertname} ${JSON.stringify(Object.fromEntries(Object.entries(a.labels).filter(([k]) => !['alertname', 'severity', 'team', 'slo'].includes(k))))}`;

    expect(drivers.flatMap((d) => d.errors)).toEqual([]);
    // The pods kept up with the scaled traffic (about 99 % answered on schedule here, loaded or not).
    for (const { planned, answered } of sent!) expect(answered).toBeGreaterThanOrEqual(planned / 2);
    expect(firingStatuses.get(500)).toBeGreaterThan(0);
    expect(nearMissStatuses.get(500)).toBeGreaterThan(0);
    // Every designed alert fired, after `for` since it became active (Prometheus' own activeAt).
    expect(mustFire.filter((e) => !firedAt.has(e)).map((e) => `${e.alert} ${JSON.stringify(e.labels)}: ${e.scenario}`)).toEqual([]);
    for (const e of mustFire) {
      const fired = firingSeen.find((a) => matches(a, e))!;
      const forMs = scaled(String(rules.get(e.alert)!.for)) * 1000;
      expect([e.alert, e.labels, firedAt.get(e)! - Date.parse(fired.activeAt) >= forMs - 50]).toEqual([e.alert, e.labels, true]);
    }
    // No near miss ever fired.
    expect(nearMisses.filter((e) => firingSeen.some((a) => matches(a, e))).map((e) => `${e.alert} ${JSON.stringify(e.labels)}: ${e.scenario}`)).toEqual([]);
    expect(nearMissActive).toBe(false);
    // Nothing fired that was not designed to (the seed's alerts are judged below).
    const unexpected = firingSeen.filter((a) => !a.labels.alertname.startsWith('Seed') && !liveLatency(a) && !mustFire.some((e) => matches(a, e)));
    expect([...new Set(unexpected.map(key))]).toEqual([]);
    if (firedAt.size < mustFire.length) throw new Error(`not every alert fired within ${elapsed} ms:\n${server.log()}`);

    // HighErrorRate in detail: exact labels, value and description for the live Service.
    const fired = firingSeen.find((a) => a.labels.alertname === 'HighErrorRate')!;
    expect(fired.labels).toEqual({
      alertname: 'HighErrorRate', namespace: env.namespace, job: 'knowledge-service', service: SERVICE[FIRING], severity: 'warning', team: 'backend',
    });
    // 2 of 32 user requests (6.25 %), whatever the probes and scrapes: a ratio of two rates over one window.
    expect(Number(fired.value)).toBeGreaterThan(0.05);
    expect(Number(fired.value)).toBeLessThan(0.08);
    // (the value as Prometheus' humanizePercentage prints it: %.4g of the percentage; under load the
    // rates' extrapolation moves it around 6.25 %, e.g. 5.944 %)
    const percentage = `${Number((Number(fired.value) * 100).toPrecision(4))}%`;
    expect(fired.annotations.description).toMatch(new RegExp(`^${percentage.replace('.', '\\.')} of the requests to ${SERVICE[FIRING]} in ${env.namespace} failed with a 5xx status`));
    expect(seen.some((x) => x.alert.labels.alertname === 'HighErrorRate' && x.alert.state === 'pending')).toBe(true);
    // A burn-rate page in detail: the long window's ratio (1.8 %) as value, the SLO's labels.
    const page = firingSeen.find((a) => a.labels.alertname === 'ErrorBudgetBurn1h' && a.labels.service === 'support-service-e0')!;
    expect(page.labels).toEqual({
      alertname: 'ErrorBudgetBurn1h', namespace: env.namespace, job: 'support-service', service: 'support-service-e0', severity: 'critical', slo: 'errors', team: 'backend',
    });
    expect(Number(page.value)).toBeCloseTo(0.018, 6);
    // A missing Deployment reads 0 available pods, labelled with the Service that needs it.
    const missing = firingSeen.find((a) => a.labels.alertname === 'DeploymentUnavailable' && Number(a.value) === 0 && a.labels.job === undefined);
    expect(missing?.labels).toEqual(expect.objectContaining({ namespace: env.namespace, severity: 'critical', team: 'devops' }));

    // The seed's expressions on the same series: HighErrorRate pages on the near miss (a raw 5xx
    // rate, per series); HighResponseTime never fires while 90 % of a Service's requests are slow;
    // PodDown never fires for the pod that is gone; CPU pages on a container without limit that uses
    // 1.5 cores; memory divides by a 0 limit and fires on +Inf.
    const seedFired = (alert: string, label: string, value: string) => firingSeen.some((a) => a.labels.alertname === `Seed${alert}` && a.labels[label] === value);
    expect({
      HighErrorRate: seedFired('HighErrorRate', 'service', SERVICE[NEAR_MISS]),
      HighResponseTime: firingSeen.some((a) => a.labels.alertname === 'SeedHighResponseTime'),
      PodDown: firingSeen.some((a) => a.labels.alertname === 'SeedPodDown'),
      HighCPUUsage: seedFired('HighCPUUsage', 'pod', 'content-service-blue-cpu-no-limit'),
      HighMemoryUsage: seedFired('HighMemoryUsage', 'pod', 'content-service-blue-mem-no-limit'),
    }).toEqual({ HighErrorRate: true, HighResponseTime: false, PodDown: false, HighCPUUsage: true, HighMemoryUsage: true });
    // ... where ours fired for the latency and the pod gone, and stayed silent on the others.
    expect(firingSeen.some((a) => a.labels.alertname === 'HighResponseTime' && a.labels.service === 'analytics-service-l0')).toBe(true);
  });
});

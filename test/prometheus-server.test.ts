/**
 * HighErrorRate evaluated by a real Prometheus server (Debian's /usr/bin/prometheus) that scrapes
 * two live stand-in services (test/fixtures/instrumented-service/service.py): one under the
 * `error-burst` traffic of scenarios.json, where the alert must fire, and one under its near miss
 * `busy-few-errors`, where it must stay silent. The rule groups are those of the committed
 * dist/production PrometheusRule, with every duration of the timeline divided by one factor, and
 * the traffic per scrape interval kept as scenarios.json has it (test/prometheus-server.ts says why
 * that keeps the rules' semantics, and what it does not keep). Alerts are read from the server's
 * own /api/v1/alerts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CATALOGUE, ENVIRONMENTS, resolveEnvironments } from '../environments';
import { committedReleaseStates } from './helpers';
import { scenarioSettings } from './instrumented-service';
import {
  activeAlerts, ApiAlert, get, driveTraffic, LivePrometheus, freePorts, LiveService, msDuration, scaleRuleGroups, sleep, startPrometheus, startService, stop,
  TrafficDriver, withoutDurations,
} from './prometheus-server';
import { distRuleGroups, durationSeconds } from './promtool';

jest.setTimeout(90_000); // every wait inside is bounded: 20 s per start, 30 s for the alert, 5 s per request

/** Every duration of the timeline is divided by this: 30 s become 200 ms, 5 m become 2 s. */
const FACTOR = 150;

const settings = scenarioSettings();
const env = resolveEnvironments(ENVIRONMENTS, CATALOGUE, committedReleaseStates()).find((e) => e.name === 'production')!;
const groups = distRuleGroups(env.name, 'soundcore-kcp-alerts');
const rules = new Map(groups.flatMap((g) => g.rules ?? []).map((r) => [r.alert, r]));
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
  });
});

describe('a real Prometheus server scraping the live stand-in service', () => {
  let dir: string;
  const services: LiveService[] = [];
  const drivers: TrafficDriver[] = [];
  let starting: Promise<LivePrometheus> | undefined;
  const startingServices: Promise<LiveService>[] = [];

  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-prometheus-')); });
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.stop()));
    await Promise.allSettled(startingServices); // a pod that started after the other failed is stopped too
    const prometheus = await starting?.catch(() => undefined);
    await Promise.all([...(prometheus ? [stop(prometheus.process)] : []), ...services.map((s) => stop(s.process))]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`${FIRING} fires HighErrorRate once its for has elapsed; ${NEAR_MISS} never does`, async () => {
    const intervalMs = scaled(env.monitoring.scrapeInterval) * 1000;
    const forSeconds = scaled(String(rules.get('HighErrorRate')!.for));
    const scaledGroups = scaleRuleGroups(groups, FACTOR);

    // Prometheus first: it scrapes its targets for the first time about 5 s after its start
    // (startPrometheus says why); the two pods start meanwhile.
    const [prometheusPort, firingPort, nearMissPort] = await freePorts(3);
    const target = (name: string, port: number, scenario: string) => ({
      name, port,
      labels: { namespace: env.namespace, job: 'knowledge-service', service: SERVICE[scenario], endpoint: 'metrics', pod: `${SERVICE[scenario]}-0` },
    });
    const launched = Date.now();
    starting = startPrometheus(prometheusPort, dir, scaledGroups, [target('live', firingPort, FIRING), target('preview', nearMissPort, NEAR_MISS)], {
      scrapeInterval: msDuration(scaled(env.monitoring.scrapeInterval)),
      evaluationInterval: msDuration(scaled(groups[0].interval!)),
      lookbackDelta: msDuration(scaled('5m')), // Prometheus' default
    });
    startingServices.push(...[startService(firingPort), startService(nearMissPort)].map((p) => p.then((s) => {
      services.push(s);
      return s;
    })));
    const [firing, nearMiss] = await Promise.all(startingServices);
    const server = await starting;

    // The rules the server evaluates, from its own API: the scaled groups.
    const loaded = JSON.parse((await get(`${server.url}/api/v1/rules`)).body).data.groups as {
      name: string; interval: number; rules: { name: string; query: string; duration: number }[];
    }[];
    expect(loaded.map((g) => [g.name, g.interval])).toEqual(groups.map((g) => [g.name, scaled(g.interval!)]));
    const highErrorRate = loaded.flatMap((g) => g.rules).find((r) => r.name === 'HighErrorRate')!;
    expect(highErrorRate.duration).toBe(forSeconds);
    // Its rate windows, as the server prints them (e.g. `[2s]`): the scaled window.
    expect([...highErrorRate.query.matchAll(/\[([^\]]+)\]/g)].map((m) => durationSeconds(m[1])))
      .toEqual([scaled(env.monitoring.rateWindow), scaled(env.monitoring.rateWindow)]);

    // The pods' traffic (CPU-bound: two Python services at a few hundred requests/s) starts shortly
    // before that first scrape, so it has some history by then, and no earlier.
    await sleep(Math.max(0, launched + 4000 - Date.now()));
    const start = Date.now();
    drivers.push(
      driveTraffic(firing.url, incident(FIRING), settings.slowSeconds, intervalMs),
      driveTraffic(nearMiss.url, incident(NEAR_MISS), settings.slowSeconds, intervalMs),
    );

    // Poll the API until HighErrorRate fires for the failing Service, then one more evaluation, and
    // as long as the near miss is pending (until it resolves, or fires: the test fails). Both pods
    // get the same timeline (their traffic from the same instant, their first scrape on the same
    // tick), and each one's traffic is stationary, so over any window the near miss has its ratio
    // (3.1 %) as the failing one has its (6.25 %): had it been above the threshold it would have fired
    // with the failing one. It may be pending briefly (a fresh pod's first samples: `rate`
    // extrapolates each series from its own first sample, the 5xx one appearing with the first error);
    // an alert pages only when it fires.
    const seen: { at: number; alert: ApiAlert }[] = [];
    const deadline = start + 30_000;
    let firedAt: number | undefined;
    let nearMissActive = false;
    while (Date.now() < deadline && (firedAt === undefined || Date.now() < firedAt + intervalMs || nearMissActive)) {
      const now = Date.now();
      const alerts = await activeAlerts(server.url);
      for (const alert of alerts) seen.push({ at: now, alert });
      nearMissActive = alerts.some((a) => a.labels.service === SERVICE[NEAR_MISS]);
      firedAt ??= seen.find((s) => s.alert.labels.alertname === 'HighErrorRate' && s.alert.state === 'firing')?.at;
      await sleep(100);
    }
    const elapsed = Date.now() - start;
    const sent = drivers.map((d) => ({ planned: d.planned(), answered: [...d.statuses.values()].reduce((a, b) => a + b, 0) }));
    const [firingStatuses, nearMissStatuses] = drivers.map((d) => d.statuses);
    await Promise.all(drivers.map((d) => d.stop()));
    const history = () => JSON.stringify(seen.map((s) => ({ t: s.at - start, ...s.alert.labels, state: s.alert.state, value: s.alert.value })).slice(-20));

    expect(drivers.flatMap((d) => d.errors)).toEqual([]);
    // The pods kept up with the scaled traffic (about 99 % answered on schedule here, loaded or not).
    for (const { planned, answered } of sent) expect(answered).toBeGreaterThanOrEqual(planned / 2);
    expect(firingStatuses.get(500)).toBeGreaterThan(0);
    expect(nearMissStatuses.get(500)).toBeGreaterThan(0);
    if (firedAt === undefined) {
      throw new Error(`HighErrorRate did not fire within ${elapsed} ms (requests planned/answered: ${JSON.stringify(sent)}); alerts seen: ${history()}\n${server.log()}`);
    }

    const fired = seen.find((s) => s.at === firedAt && s.alert.labels.alertname === 'HighErrorRate' && s.alert.state === 'firing')!.alert;
    expect(fired.labels).toEqual({
      alertname: 'HighErrorRate', namespace: env.namespace, job: 'knowledge-service', service: SERVICE[FIRING], severity: 'critical', team: 'backend',
    });
    // 2 of 32 user requests (6.25 %), whatever the probes and scrapes: a ratio of two rates over one window.
    expect(Number(fired.value)).toBeGreaterThan(0.05);
    expect(Number(fired.value)).toBeLessThan(0.08);
    expect(fired.annotations.description).toMatch(new RegExp(`^6\\.\\d+% of the requests to ${SERVICE[FIRING]} in ${env.namespace} failed with a 5xx status`));
    // Pending first, firing once the scaled for has elapsed since it became active (Prometheus' own activeAt).
    const activeAt = Date.parse(fired.activeAt);
    expect(activeAt).toBeGreaterThanOrEqual(start);
    expect(seen.some((s) => s.alert.labels.alertname === 'HighErrorRate' && s.alert.state === 'pending' && s.at < firedAt!)).toBe(true);
    expect(firedAt - activeAt).toBeGreaterThanOrEqual(forSeconds * 1000 - 50);
    // The near miss never fired, and is not even pending any more.
    expect(seen.filter((s) => s.alert.labels.service === SERVICE[NEAR_MISS] && s.alert.state === 'firing').map((s) => s.alert)).toEqual([]);
    expect(nearMissActive).toBe(false);
    // Nothing else fired: the latency alert, PodDown (both pods answered every scrape) and the rest stayed silent.
    expect([...new Set(seen.filter((s) => s.alert.state === 'firing').map((s) => `${s.alert.labels.alertname} ${s.alert.labels.service}`))])
      .toEqual([`HighErrorRate ${SERVICE[FIRING]}`]);
  });
});

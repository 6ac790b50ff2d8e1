/**
 * HighErrorRate and HighResponseTime against what a prometheus-fastapi-instrumentator service
 * really exports: the stand-in service's recorded `/metrics` expositions
 * (test/fixtures/instrumented-service/, re-recorded by its record.py) replayed on the real 30 s
 * scrape timeline (test/instrumented-service.ts says why that keeps the rules' semantics), run by
 * `promtool test rules` against the rule groups of the committed dist/<env> PrometheusRule, unchanged.
 *
 * Each alert has a scenario where it must fire and near misses where it must stay silent; the
 * seed's expressions, and the ones these replaced, get some of them wrong.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { RuleGroupSpec } from '../constructs';
import { CATALOGUE, ENVIRONMENTS, resolveEnvironments, ResolvedEnvironment } from '../environments';
import { committedReleaseStates } from './helpers';
import {
  phaseCounts, phaseSum, phaseStart, recordScenarios, replaySeries, scenarioLength, scenarioSettings, ScenarioSettings, targetLabels,
} from './instrumented-service';
import {
  AlertRuleTest, distRuleGroups, durationSeconds, promtool, PromtoolTestFile, PromtoolTestGroup, renderTemplate, writeYamlFiles,
} from './promtool';

jest.setTimeout(60_000);

const RULE = 'soundcore-kcp-alerts';
const environments = resolveEnvironments(ENVIRONMENTS, CATALOGUE, committedReleaseStates());
const settings = scenarioSettings();

type Alert = 'HighErrorRate' | 'HighResponseTime';
const ALERTS: readonly Alert[] = ['HighErrorRate', 'HighResponseTime'];

/** The scenario (of scenarios.json) in which each alert must fire, from its second phase on; in every other it stays silent. */
const FIRES_IN: { readonly [alert in Alert]: string } = {
  HighErrorRate: 'error-burst',
  HighResponseTime: 'slow-responses',
};

/** The near misses of each alert: the scenario closest to its firing one, below its threshold. */
const NEAR_MISS: { readonly [alert in Alert]: readonly string[] } = {
  HighErrorRate: ['busy-few-errors', 'probes-only', 'slow-responses'],
  HighResponseTime: ['few-slow-responses', 'probes-only', 'error-burst'],
};

const isUser = (s: { labels: { readonly [l: string]: string } }) => s.labels.handler.startsWith('/api/');

/** The value each alert has while firing in its scenario: its ratio over a window inside the incident phase, from the recording. */
function firingValue(alert: Alert, scenario: string, bound: number): number {
  if (alert === 'HighErrorRate') {
    const requests = (extra: (s: { labels: { readonly [l: string]: string } }) => boolean) => phaseSum(scenario, settings, 1,
      (s) => s.metric === 'http_requests_total' && isUser(s) && extra(s));
    return requests((s) => s.labels.status === '5xx') / requests(() => true);
  }
  const count = phaseSum(scenario, settings, 1, (s) => s.metric === 'http_request_duration_seconds_count' && isUser(s));
  const fast = phaseSum(scenario, settings, 1, (s) => s.metric === 'http_request_duration_seconds_bucket' && isUser(s)
    && Number(s.labels.le) === bound);
  return (count - fast) / count;
}

/** `870` -> `14m30s`. */
function promDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m > 0 ? `${m}m` : ''}${s > 0 || m === 0 ? `${s}s` : ''}`;
}

/**
 * The promtool tests of every scenario: per alert, silent at every minute of a scenario it must not
 * fire in; in its firing scenario, silent until `for` has elapsed since the incident began, and
 * firing (exact labels, rendered annotations) once the rate window lies in the incident and `for` has
 * elapsed, and at the end.
 */
function replayTests(ruleFile: string, groups: readonly RuleGroupSpec[], env: ResolvedEnvironment, s: ScenarioSettings): PromtoolTestFile {
  const rules = new Map(groups.flatMap((g) => g.rules ?? []).map((r) => [r.alert, r]));
  const window = durationSeconds(env.monitoring.rateWindow);
  const tests = Object.keys(s.scenarios).map((scenario): PromtoolTestGroup => {
    const spec = s.scenarios[scenario];
    const length = scenarioLength(spec);
    const checks: AlertRuleTest[] = ALERTS.flatMap((alert): AlertRuleTest[] => {
      const silent = (t: number): AlertRuleTest => ({ eval_time: promDuration(t), alertname: alert, exp_alerts: [] });
      const minutes = (until: number) => Array.from({ length: Math.floor(until / 60) }, (_x, i) => (i + 1) * 60);
      if (FIRES_IN[alert] !== scenario) return minutes(length).map(silent);
      const rule = rules.get(alert)!;
      const onset = phaseStart(spec, 1);
      const forSeconds = durationSeconds(env.monitoring.alerts[alert].for);
      const labels = { namespace: env.namespace, job: 'knowledge-service', service: 'knowledge-service' };
      const value = firingValue(alert, scenario, env.monitoring.alerts.HighResponseTime.threshold);
      const firing = (t: number): AlertRuleTest => ({
        eval_time: promDuration(t),
        alertname: alert,
        exp_alerts: [{
          exp_labels: { ...labels, ...rule.labels },
          exp_annotations: Object.fromEntries(Object.entries(rule.annotations ?? {}).map(([k, v]) => [k, renderTemplate(v, labels, value)])),
        }],
      });
      // The first sample of the incident is scraped 30 s after it begins: nothing can fire before `for` has elapsed since.
      return [...minutes(onset + forSeconds).map(silent), firing(onset + window + forSeconds + 30), firing(length)];
    });
    return {
      name: `${scenario}: ${spec.description}`,
      interval: `${s.scrapeIntervalSeconds}s`,
      input_series: replaySeries(scenario, s, targetLabels(env.namespace)),
      alert_rule_test: checks,
    };
  });
  return { rule_files: [ruleFile], evaluation_interval: `${s.scrapeIntervalSeconds}s`, tests };
}

/** The (scenario, alert) pairs promtool reports as failed. */
function failures(output: string): string[] {
  const pairs = new Set<string>();
  let group = '';
  for (const line of output.split('\n')) {
    const name = /^\s*name: ([\w-]+):/.exec(line);
    if (name) group = name[1];
    const alert = /alertname: (\w+), time:/.exec(line);
    if (alert) pairs.add(`${group} ${alert[1]}`);
  }
  return [...pairs].sort();
}

/** `groups` with the expressions of some alerts replaced. */
function withExpressions(groups: readonly RuleGroupSpec[], exprs: { readonly [alert: string]: string }): RuleGroupSpec[] {
  return groups.map((g) => ({ ...g, rules: (g.rules ?? []).map((r) => (r.alert !== undefined && r.alert in exprs ? { ...r, expr: exprs[r.alert] } : r)) }));
}

// The firing scenarios recorded afresh from the running stand-in service, while promtool runs.
const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-recording-'));
const recorded = recordScenarios(fresh, Object.values(FIRES_IN));
recorded.catch(() => undefined); // reported by its test
afterAll(() => fs.rmSync(fresh, { recursive: true, force: true }));

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-replay-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the replay tests of `env` against `groups`. */
function run(env: ResolvedEnvironment, groups: readonly RuleGroupSpec[]) {
  writeYamlFiles(dir, { 'rules.yaml': { groups }, 'tests.yaml': replayTests('rules.yaml', groups, env, settings) });
  return promtool(['test', 'rules', 'tests.yaml'], dir);
}

test('the recordings are replayed at the scrape interval of every environment', () => {
  for (const env of environments) expect(durationSeconds(env.monitoring.scrapeInterval)).toBe(settings.scrapeIntervalSeconds);
  for (const alert of ALERTS) expect(NEAR_MISS[alert].every((s) => s in settings.scenarios && s !== FIRES_IN[alert])).toBe(true);
});

describe.each(environments.map((e) => [e.name, e] as const))('%s rules on the stand-in service\'s real exposition', (_name, env) => {
  test('fire on a 5xx burst and on slow responses, stay silent on the near misses, healthy traffic and probes only', () => {
    const result = run(env, distRuleGroups(env.name, RULE));
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });
});

describe('the replayed scenarios', () => {
  const env = environments.find((e) => e.name === 'production')!;
  const ns = env.namespace;

  test('fail for the seed\'s expressions: a raw 5xx rate pages for a busy service, a P95 above 1 s never fires', () => {
    const seed = {
      HighErrorRate: 'rate(http_requests_total{status=~"5.."}[5m]) > 0.05',
      HighResponseTime: 'histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 1',
    };
    const result = run(env, withExpressions(distRuleGroups(env.name, RULE), seed));
    expect(result.status).toBe(1);
    expect(failures(result.output)).toEqual([
      // fires per series (handler, method, status, pod), at 0.067 5xx/s: wrong labels and value
      'busy-few-errors HighErrorRate',
      'error-burst HighErrorRate',
      // the quantile of buckets 0.1, 0.5, 1, +Inf is at most 1
      'slow-responses HighResponseTime',
    ]);
  });

  test('fail for the expressions before probes and scrapes were left out and latency was read from a bucket', () => {
    const before = {
      HighErrorRate: `sum by (namespace, job, service) (rate(http_requests_total{namespace="${ns}", status=~"5.."}[5m]))\n  /\n`
        + `sum by (namespace, job, service) (rate(http_requests_total{namespace="${ns}"}[5m]))\n  > 0.05`,
      HighResponseTime: `histogram_quantile(0.95, sum by (namespace, job, service, le) (rate(http_request_duration_seconds_bucket{namespace="${ns}"}[5m])))\n  > 1`,
    };
    const result = run(env, withExpressions(distRuleGroups(env.name, RULE), before));
    expect(result.status).toBe(1);
    expect(failures(result.output)).toEqual([
      // 2 errors in 32 user requests, diluted by 10 probes and scrapes: 4.76 %
      'error-burst HighErrorRate',
      'slow-responses HighResponseTime',
    ]);
  });
});

test('the committed recordings are what the stand-in service exports today (Debian python3-fastapi, python3-uvicorn, python3-prometheus-client)', async () => {
  // GIVEN the firing scenarios recorded afresh from the running stand-in service
  await recorded;
  // THEN each phase adds the same counts to the same series (names, labels, buckets, status groups) as in the fixtures
  for (const scenario of Object.values(FIRES_IN)) {
    const counts = (from?: string) => phaseCounts(scenario, settings, from).map((p) => [...p.deltas].sort());
    expect([scenario, counts(fresh)]).toEqual([scenario, counts()]);
  }
});

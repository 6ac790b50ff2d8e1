/**
 * The Argo Rollouts analysis agrees with the alerts: the committed staging SLO AnalysisTemplate's
 * queries (dist/staging/90-analysistemplate-soundcore-kcp-slo.yaml, arguments filled in as the
 * controller does) and the committed ErrorBudgetBurn1h / LatencyBudgetBurn1h expressions
 * (dist/staging/90-prometheusrule-soundcore-kcp-user-impact-alerts.yaml) are evaluated by promtool
 * over the alert tests' scenarios: the five bad-event levels of each SLO of test/stand-in-series.ts
 * (above the fastest burn-rate row's threshold, then just below each row's), shaped as
 * prometheus-fastapi-instrumentator exports them (user requests 2xx/5xx, probes and scrapes 2xx, the
 * 0.1/0.5/1.0/+Inf buckets), on the canary revision's pods. Next to each canary runs a healthy
 * stable revision of the same job, twice as busy: an analysis reading it would be diluted.
 *
 * A revision fails the analysis (`result[0] <= threshold` false) exactly when its own series make
 * the 1h page fire; no traffic (no series, or 0 requests) passes, as the alert stays silent. One
 * promtool run holds every case.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { SLO_OBJECTIVES } from '../environments';
import { ROOT } from '../synth/root';
import { distRuleGroups, promtool } from './promtool';
import { levels } from './stand-in-series';

type Labels = { readonly [label: string]: string };

const NS = 'soundcore-kcp-staging';
const template = YAML.parse(fs.readFileSync(path.join(ROOT, 'dist', 'staging', '90-analysistemplate-soundcore-kcp-slo.yaml'), 'utf8'));
const metric = (name: string) => template.spec.metrics.find((m: { name: string }) => m.name === name);
const alertExpr = (alert: string) => distRuleGroups('staging', 'soundcore-kcp-user-impact-alerts')
  .flatMap((g) => g.rules ?? []).find((r) => r.alert === alert)!.expr as string;
/** The Argo condition `result[0] <= X` as PromQL: 1 when the measurement passes, 0 when it fails. */
const passes = (query: string, threshold: number) => `(${query}) <= bool ${threshold}`;
const fill = (query: string, workload: string, revision: string) => query.replaceAll('{{args.workload}}', workload).replaceAll('{{args.revision}}', revision);

/** Requests of one 30 s interval, as in the stand-in scenarios. */
const N = 10_000;
const series = (name: string, labels: Labels, perInterval: number) => ({
  series: `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(', ')}}`,
  values: `0+${perInterval}x140`,
});

/** One revision's instrumentator series: `bad` of `N` user requests failing (errors) or slow (latency). */
function revision(labels: Labels, slo: 'errors' | 'latency', bad: number, requests = N) {
  const user = { ...labels, handler: '/api/v1/knowledge', method: 'GET' };
  const probes = [
    series('http_requests_total', { ...labels, handler: '/health', method: 'GET', status: '2xx' }, 9),
    series('http_requests_total', { ...labels, handler: '/metrics', method: 'GET', status: '2xx' }, 1),
  ];
  if (slo === 'errors') {
    return [series('http_requests_total', { ...user, status: '2xx' }, requests - bad), series('http_requests_total', { ...user, status: '5xx' }, bad), ...probes];
  }
  return [
    series('http_requests_total', { ...user, status: '2xx' }, requests),
    series('http_request_duration_seconds_bucket', { ...user, le: '0.1' }, requests - bad),
    ...['0.5', '1.0', '+Inf'].map((le) => series('http_request_duration_seconds_bucket', { ...user, le }, requests)),
    series('http_request_duration_seconds_count', user, requests),
    ...probes,
  ];
}

interface Case {
  readonly name: string;
  readonly slo: 'errors' | 'latency';
  readonly job: string;
  readonly ratio: number;
  /** Whether the analysis passes; whether the 1h page fires for the canary Service is its negation. */
  readonly passes: boolean;
}

const ALERT = { errors: 'ErrorBudgetBurn1h', latency: 'LatencyBudgetBurn1h' } as const;
const cases: Case[] = (['errors', 'latency'] as const).flatMap((slo) => levels(SLO_OBJECTIVES[slo]).map((ratio, i) => ({
  name: `${slo} level ${i}: ${(ratio * 100).toPrecision(3)}% bad`, slo, job: `knowledge-service-${slo}-${i}`, ratio,
  // the threshold of the analysis is the 1h row's: 14.4 × the budget
  passes: ratio <= 14.4 * (1 - SLO_OBJECTIVES[slo]),
})));

let output = '';
let status: number | null = null;
let millis = 0;

beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'argo-analysis-'));
  try {
    const inputs = cases.flatMap((c) => [
      ...revision({ namespace: NS, job: c.job, service: `${c.job}-canary`, pod: `${c.job}-canary-x1`, rollouts_pod_template_hash: 'c4n4ry' }, c.slo, Math.round(c.ratio * N)),
      ...revision({ namespace: NS, job: c.job, service: c.job, pod: `${c.job}-stable-x1`, rollouts_pod_template_hash: 'st4b1e' }, c.slo, 0, 2 * N),
    ]);
    // a revision that serves requests but had none in the window: its counters stand still
    inputs.push(...revision({ namespace: NS, job: 'idle-service', service: 'idle-service-canary', pod: 'idle-x1', rollouts_pod_template_hash: 'c4n4ry' }, 'errors', 0, 0));
    const evalTime = '65m'; // the 1h window of the alert full
    const tests = [
      ...cases.flatMap((c) => {
        const m = metric(c.slo);
        const threshold = Number(/^result\[0\] <= (.+)$/.exec(m.successCondition)![1]);
        return [
          { expr: `# analysis, ${c.name}\n${passes(fill(m.provider.prometheus.query, c.job, 'c4n4ry'), threshold)}`, eval_time: evalTime, exp_samples: [{ labels: '{}', value: c.passes ? 1 : 0 }] },
          { expr: `# analysis of the healthy stable revision, ${c.name}\n${passes(fill(m.provider.prometheus.query, c.job, 'st4b1e'), threshold)}`, eval_time: evalTime, exp_samples: [{ labels: '{}', value: 1 }] },
          {
            expr: `# alert ${ALERT[c.slo]}, ${c.name}\ncount by (service) ((${alertExpr(ALERT[c.slo])}) and on (job) label_replace(vector(1), "job", "${c.job}", "", ""))`,
            eval_time: evalTime,
            exp_samples: c.passes ? [] : [{ labels: `{service="${c.job}-canary"}`, value: 1 }],
          },
        ];
      }),
      ...(['errors', 'latency'] as const).flatMap((slo) => {
        const m = metric(slo);
        const threshold = Number(/^result\[0\] <= (.+)$/.exec(m.successCondition)![1]);
        return [
          { expr: `# no series of the revision: reads 0 (${slo})\n${fill(m.provider.prometheus.query, 'knowledge-service-errors-0', 'n0p0ds')}`, eval_time: evalTime, exp_samples: [{ labels: '{}', value: 0 }] },
          { expr: `# no requests in the window: reads 0 (${slo})\n${fill(m.provider.prometheus.query, 'idle-service', 'c4n4ry')}`, eval_time: evalTime, exp_samples: [{ labels: '{}', value: 0 }] },
          { expr: `# no traffic passes (${slo})\n${passes(fill(m.provider.prometheus.query, 'idle-service', 'c4n4ry'), threshold)}`, eval_time: evalTime, exp_samples: [{ labels: '{}', value: 1 }] },
        ];
      }),
    ];
    fs.writeFileSync(path.join(dir, 'rules.yaml'), YAML.stringify({ groups: [] }));
    fs.writeFileSync(path.join(dir, 'test.yaml'), YAML.stringify({
      rule_files: ['rules.yaml'], evaluation_interval: '30s',
      tests: [{ name: 'argo analysis against the alert scenarios', interval: '30s', input_series: inputs, promql_expr_test: tests }],
    }, { lineWidth: 0 }));
    const started = Date.now();
    ({ output, status } = promtool(['test', 'rules', 'test.yaml'], dir));
    millis = Date.now() - started;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe('the SLO analysis of a revision, evaluated by promtool', () => {
  test('passes or fails every scenario exactly as designed, and the 1h page agrees with it', () => {
    // GIVEN the scenarios: 5 levels per SLO on a canary revision, a healthy stable revision beside each
    expect(cases.filter((c) => !c.passes).map((c) => c.name)).toEqual(['errors level 0: 1.80% bad', 'latency level 0: 90.0% bad']);
    // THEN promtool found every expectation met
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
    expect(millis).toBeLessThan(10_000);
  });

  test('thresholds are the 1h burn-rate row of the same SLO objectives as the alerts', () => {
    expect(metric('errors').successCondition).toBe('result[0] <= 0.0144');
    expect(metric('latency').successCondition).toBe('result[0] <= 0.72');
    // and the query window is that row's short window
    expect(metric('errors').provider.prometheus.query).toContain('[5m]');
    expect(alertExpr('ErrorBudgetBurn1h')).toContain('> 0.0144');
  });
});

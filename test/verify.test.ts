/**
 * Post-deploy verification of the git-driven blue/green path: the plan synth renders from the SLO
 * definitions of the alerts (synth/verify-plan.ts), its queries evaluated by promtool on
 * instrumentator-shaped series of a new and an old colour, scripts/verify.sh run against a stub
 * Prometheus HTTP API, and the CI jobs that run it and start the rollback on a breach.
 */
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { Colour, errorRatio } from '../constructs';
import { CATALOGUE, kcpSlos, resolveEnvironments } from '../environments';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { Action, ComponentRelease, Phase, transition } from '../release/state';
import { buildApp } from '../synth/build';
import { ROOT } from '../synth/root';
import { verifyPlans } from '../synth/verify-plan';
import { committedReleaseStates } from './helpers';
import { imagePath } from './pipeline';
import { promtool } from './promtool';

const K = 'knowledge-service';
const NS = 'soundcore-kcp-prod';
const COMMITTED = committedReleaseStates().production as { [c: string]: ComponentRelease };
const stable: ComponentRelease = { active: Colour.BLUE, phase: Phase.STABLE, tags: { blue: 'v1.0.0', green: 'v1.0.0' } };
const promoted = transition('t', transition('t', stable, Action.STAGE, 'v1.1.0'), Action.PROMOTE);

/** The verify plans of production and staging with the knowledge-service promoted to green (the others as committed). */
function plansWithPromotedKnowledge(): Map<string, string> {
  const states = { ...committedReleaseStates(), production: { ...COMMITTED, [K]: promoted } };
  return verifyPlans(buildApp(resolveEnvironments([staging, production], CATALOGUE, states), CATALOGUE));
}
const PLANS = plansWithPromotedKnowledge();
const PLAN = PLANS.get('production/verify-plan.tsv')!;
/** The `check` lines of a component, as fields. */
const checks = (plan: string, component: string) => plan.split('\n').map((l) => l.split('\t')).filter((f) => f[0] === 'check' && f[1] === component);

describe('the verify plan', () => {
  test('judges the promoted component\'s new colour on the alerts\' own SLOs: threshold the error budget, the events a verdict needs', () => {
    // GIVEN the knowledge-service promoted to green; WHEN synth renders the plan
    const [errors, latency] = checks(PLAN, K);
    // THEN one check per SLO measured on the service's own series, on green, with the SLO's budget as threshold
    expect(errors.slice(0, 7)).toEqual(['check', K, 'green', 'promoted', 'errors', '0.001', '5000']);
    expect(latency.slice(0, 7)).toEqual(['check', K, 'green', 'promoted', 'latency', '0.05', '100']);
    // and the ratio query is the alert's errorRatio() of the same SLO, narrowed to the Service and the colour
    const slo = kcpSlos({ namespace: NS, ingress: 'soundcore-kcp', apiHosts: ['api.soundcore-kcp.com'], frontendHosts: [], runbook: () => 'https://x.example/r' })[0];
    const narrowed = { ...slo, matchers: [...slo.matchers!, `service="${K}"`, 'version="green"'] };
    expect(errors[7]).toBe(`max(${errorRatio(narrowed, '10m').replace(/\s*\n\s*/g, ' ')})`);
    expect(errors[8]).toBe(`sum(increase(http_requests_total{namespace="${NS}", handler!~"/health|/metrics", service="${K}", version="green"}[10m]))`);
    expect(PLAN.split('\n')[2]).toBe('window\t10m\t600');
  });

  test('lists the stable components as not promoted, and judges the frontend (no metrics) on the edge\'s requests to its Service', () => {
    expect(checks(PLAN, 'content-service').map((f) => f.slice(0, 5))).toEqual([
      ['check', 'content-service', 'blue', 'stable', 'errors'], ['check', 'content-service', 'blue', 'stable', 'latency'],
    ]);
    const [frontend] = checks(PLAN, 'frontend');
    expect(frontend.slice(0, 7)).toEqual(['check', 'frontend', 'blue', 'stable', 'frontend', '0.001', '5000']);
    expect(frontend[8]).toBe('sum(increase(nginx_ingress_controller_requests{ingress="soundcore-kcp", host=~"soundcore-kcp\\\\.com", service="frontend"}[10m]))');
  });

  test('is rendered only where there is a blue/green component: production, not staging; the committed one is current', () => {
    expect([...PLANS.keys()]).toEqual(['production/verify-plan.tsv']);
    const committed = fs.readFileSync(path.join(ROOT, 'dist', 'production', 'verify-plan.tsv'), 'utf8');
    expect(checks(committed, K).map((f) => f.slice(0, 5))).toEqual([['check', K, 'blue', 'stable', 'errors'], ['check', K, 'blue', 'stable', 'latency']]);
  });
});

/**
 * promtool evaluates the plan's queries (promql_expr_test) over the series a scraped knowledge-service
 * exports (prometheus-fastapi-instrumentator defaults: handler, method, status "2xx"/"5xx", the
 * duration histogram with buckets 0.1, 0.5, 1, +Inf; the ServiceMonitor adds namespace, job, service,
 * pod and the colour label `version`, as in test/stand-in-series.ts). The old colour fails badly in
 * every scenario: the verdict must be the new colour's alone.
 */
describe('the plan\'s queries, evaluated by promtool', () => {
  const [errors, latency] = checks(PLAN, K);
  const PER_MINUTE = 10_000;
  const labels = (colour: string) => `namespace="${NS}", job="${K}", service="${K}", pod="${K}-${colour}-7d9f-abcde", version="${colour}"`;
  const api = 'handler="/api/v1/knowledge/search", method="GET"';
  /** A colour's series: `bad` 5xx and `slow` (over 100 ms) requests per minute of PER_MINUTE, plus probes. */
  const colourSeries = (colour: string, perMinute: number, bad: number, slow: number) => [
    { series: `http_requests_total{${labels(colour)}, ${api}, status="2xx"}`, values: `0+${perMinute - bad}x30` },
    { series: `http_requests_total{${labels(colour)}, ${api}, status="5xx"}`, values: `0+${bad}x30` },
    { series: `http_requests_total{${labels(colour)}, handler="/health", method="GET", status="2xx"}`, values: '0+12x30' },
    { series: `http_request_duration_seconds_bucket{${labels(colour)}, ${api}, le="0.1"}`, values: `0+${perMinute - slow}x30` },
    { series: `http_request_duration_seconds_bucket{${labels(colour)}, ${api}, le="+Inf"}`, values: `0+${perMinute}x30` },
    { series: `http_request_duration_seconds_count{${labels(colour)}, ${api}}`, values: `0+${perMinute}x30` },
  ];
  const scenario = (name: string, bad: number, slow: number, perMinute = PER_MINUTE) => ({
    name,
    interval: '1m',
    input_series: [...colourSeries('green', perMinute, bad, slow), ...colourSeries('blue', PER_MINUTE, PER_MINUTE / 2, PER_MINUTE / 2)],
    // (ratios as parts per million, rounded: promtool compares floats exactly)
    promql_expr_test: [
      { expr: `round(${errors[7]} * 1000000)`, eval_time: '20m', exp_samples: [{ labels: '{}', value: (1e6 * bad) / perMinute }] },
      { expr: `round(${latency[7]} * 1000000)`, eval_time: '20m', exp_samples: [{ labels: '{}', value: (1e6 * slow) / perMinute }] },
      // the verdicts as the job reads them: a sample above the threshold is a breach
      { expr: `count(${errors[7]} > ${errors[5]})`, eval_time: '20m', exp_samples: bad / perMinute > 0.001 ? [{ labels: '{}', value: 1 }] : [] },
      { expr: `count(${latency[7]} > ${latency[5]})`, eval_time: '20m', exp_samples: slow / perMinute > 0.05 ? [{ labels: '{}', value: 1 }] : [] },
      // the events a verdict needs: ten minutes of the new colour's user requests (probes left out)
      { expr: `round(${errors[8]})`, eval_time: '20m', exp_samples: [{ labels: '{}', value: 10 * perMinute }] },
    ],
  });

  test('a bad new colour breaches both objectives, a good one and a near miss breach none, and a quiet one has too few events', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-verify-promtool-'));
    try {
      fs.writeFileSync(path.join(dir, 'verify.test.yaml'), YAML.stringify({
        evaluation_interval: '1m',
        tests: [
          scenario('bad: 2% errors, 8% slower than 100 ms', 200, 800),
          scenario('good: 0.01% errors, 1% slow', 1, 100),
          scenario('near miss: 0.09% errors, 4.9% slow', 9, 490),
          scenario('quiet: 40 requests a minute, 400 in the window', 0, 0, 40),
        ],
      }, { lineWidth: 0 }));
      const result = promtool(['test', 'rules', 'verify.test.yaml'], dir);
      expect(result.output).toContain('SUCCESS');
      expect(result.status).toBe(0);
      // (the quiet scenario's 400 events are below the 5000 the errors check needs: the script's inconclusive case)
      expect(Number(errors[6])).toBeGreaterThan(400);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A stub of Prometheus' /api/v1/query: answers each query of `answers` with one sample (or none, or an error). */
async function stubPrometheus(answers: ReadonlyMap<string, string | null | 'error'>): Promise<{ url: string; queries: string[]; close: () => Promise<void> }> {
  const queries: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const query = url.searchParams.get('query') ?? '';
    queries.push(query);
    const answer = answers.get(query);
    res.setHeader('Content-Type', 'application/json');
    if (url.pathname !== '/api/v1/query' || answer === 'error') {
      res.statusCode = 400;
      res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }));
      return;
    }
    const result = answer === null || answer === undefined ? [] : [{ metric: {}, value: [1733260800, answer] }];
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, queries, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('scripts/verify.sh against a stub Prometheus', () => {
  // the script runs with only the deploy image's tools on PATH (test/pipeline.ts IMAGE_TOOLS)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-verify-'));
  const bin = imagePath(work, 'alpine/k8s:1.28.15');
  const folder = path.join(work, 'dist-production');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'verify-plan.tsv'), PLAN);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  const [errors, latency] = checks(PLAN, K);

  const REPORT = path.join(work, 'verify.env');
  function run(url: string, plan = folder): Promise<{ code: number; stdout: string; stderr: string; report: string }> {
    fs.rmSync(REPORT, { force: true });
    return new Promise((resolve) => {
      execFile('sh', [path.join(ROOT, 'scripts', 'verify.sh'), plan], {
        env: { PATH: bin, PROMETHEUS_URL: url, VERIFY_WAIT_SECONDS: '0', VERIFY_ENV: REPORT, VERIFY_TIMEOUT_SECONDS: '5' },
      }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr, report: fs.existsSync(REPORT) ? fs.readFileSync(REPORT, 'utf8') : '(none)' });
      });
    });
  }
  const answers = (errorRatio: string, slowRatio: string, events = '6000', slowEvents = '6000') => new Map([
    [errors[8], events], [errors[7], errorRatio], [latency[8], slowEvents], [latency[7], slowRatio],
  ]);
  const NOT_PROMOTED = [
    'analytics-service', 'auth-service', 'content-service',
  ].flatMap((c) => [`verify: ${c} (blue, stable): not promoted, nothing to verify (errors)`, `verify: ${c} (blue, stable): not promoted, nothing to verify (latency)`]);
  const lines = (stdout: string) => stdout.trim().split('\n');

  test('a breach fails with exit 1, naming each breached objective with its value and threshold, and writes the components to roll back', async () => {
    const prometheus = await stubPrometheus(answers('0.02', '0.08'));
    try {
      const r = await run(prometheus.url);
      expect(r.code).toBe(1);
      expect(lines(r.stdout)).toEqual([
        ...NOT_PROMOTED,
        'verify: frontend (blue, stable): not promoted, nothing to verify (frontend)',
        `verify: ${K} (green): errors: BREACHED, 2% of 6000 events bad in 10m, above the threshold 0.1%`,
        `verify: ${K} (green): latency: BREACHED, 8% of 6000 events bad in 10m, above the threshold 5%`,
        'verify: support-service (blue, stable): not promoted, nothing to verify (errors)',
        'verify: support-service (blue, stable): not promoted, nothing to verify (latency)',
        `verify: FAILED: ${K} breached an objective; roll back (release:rollback-after-verify reads ${REPORT})`,
      ]);
      expect(r.report).toBe(`RELEASE_COMPONENTS=${K}\n`);
      expect(r.stderr).toBe('');
      // it asked exactly the plan's queries of the promoted component: events first, then the ratio
      expect(prometheus.queries).toEqual([errors[8], errors[7], latency[8], latency[7]]);
    } finally {
      await prometheus.close();
    }
  });

  test('a Prometheus URL given with a trailing slash asks the same API path', async () => {
    const prometheus = await stubPrometheus(answers('0.0001', '0.01'));
    try {
      const r = await run(`${prometheus.url}/`);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(prometheus.queries).toEqual([errors[8], errors[7], latency[8], latency[7]]);
    } finally {
      await prometheus.close();
    }
  });

  test('a good new colour and a near miss pass with exit 0', async () => {
    for (const [errorRatio, slowRatio] of [['0.0001', '0.01'], ['0.00099', '0.049']]) {
      const prometheus = await stubPrometheus(answers(errorRatio, slowRatio));
      try {
        const r = await run(prometheus.url);
        expect([errorRatio, r.code]).toEqual([errorRatio, 0]);
        expect(lines(r.stdout).filter((l) => l.includes(`${K} (green)`))).toEqual([
          `verify: ${K} (green): errors: ok, ${errorRatio === '0.0001' ? '0.01%' : '0.099%'} of 6000 events bad in 10m, within the threshold 0.1%`,
          `verify: ${K} (green): latency: ok, ${slowRatio === '0.01' ? '1%' : '4.9%'} of 6000 events bad in 10m, within the threshold 5%`,
        ]);
        expect(lines(r.stdout).pop()).toBe('verify: passed: every promoted component met its objectives over 10m');
        expect(r.report).toBe('');
      } finally {
        await prometheus.close();
      }
    }
  });

  test('too little traffic is its own outcome: exit 3, inconclusive, no component to roll back', async () => {
    // 400 requests where the errors check needs 5000, 50 where the latency check needs 100
    const prometheus = await stubPrometheus(answers('0', '0.5', '400', '50'));
    try {
      const r = await run(prometheus.url);
      expect(r.code).toBe(3);
      expect(lines(r.stdout).filter((l) => l.includes(`${K} (green)`))).toEqual([
        `verify: ${K} (green): errors: inconclusive, 400 events in 10m, fewer than the 5000 a verdict needs`,
        `verify: ${K} (green): latency: inconclusive, 50 events in 10m, fewer than the 100 a verdict needs`,
      ]);
      expect(lines(r.stdout).pop()).toBe('verify: INCONCLUSIVE: too little traffic for a verdict on every check; nothing breached, nothing rolled back; retry the job once the new colour has served more');
      expect(r.report).toBe('');
      // the ratios were never asked: without enough events they decide nothing
      expect(prometheus.queries).toEqual([errors[8], latency[8]]);
    } finally {
      await prometheus.close();
    }
  });

  test('a breach beside an inconclusive check is a breach (exit 1)', async () => {
    const prometheus = await stubPrometheus(answers('0', '0.5', '400', '400'));
    try {
      const r = await run(prometheus.url);
      expect(r.code).toBe(1);
      expect(lines(r.stdout).filter((l) => l.includes(`${K} (green)`))).toEqual([
        `verify: ${K} (green): errors: inconclusive, 400 events in 10m, fewer than the 5000 a verdict needs`,
        `verify: ${K} (green): latency: BREACHED, 50% of 400 events bad in 10m, above the threshold 5%`,
      ]);
      expect(r.report).toBe(`RELEASE_COMPONENTS=${K}\n`);
    } finally {
      await prometheus.close();
    }
  });

  test('with nothing promoted (the committed plan) it passes without waiting or asking', async () => {
    const committed = path.join(work, 'committed');
    fs.mkdirSync(committed, { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'dist', 'production', 'verify-plan.tsv'), path.join(committed, 'verify-plan.tsv'));
    const prometheus = await stubPrometheus(new Map());
    try {
      const r = await run(prometheus.url, committed);
      expect({ code: r.code, stdout: r.stdout, queries: prometheus.queries }).toEqual({
        code: 0, stdout: `verify: nothing is promoted in ${committed}: nothing to verify\n`, queries: [],
      });
    } finally {
      await prometheus.close();
    }
  });

  test('no answer from Prometheus, or a refused query, is no verdict: exit 2, nothing to roll back', async () => {
    const down = await run('http://127.0.0.1:9');
    // (curl's own reason comes first)
    expect([down.code, down.stderr.trim().split('\n').pop(), down.report]).toEqual([2, 'verify: Prometheus at http://127.0.0.1:9 did not answer; no verdict (this is not a pass)', '']);
    const prometheus = await stubPrometheus(new Map([[errors[8], 'error' as const]]));
    try {
      const r = await run(prometheus.url);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`verify: Prometheus refused the query (error: parse error): ${errors[8]}\n`);
    } finally {
      await prometheus.close();
    }
  });
});

/** The CI jobs, read from .gitlab-ci.yml with `extends` resolved. */
describe('the verification in the pipeline', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const raw = YAML.parse(fs.readFileSync(path.join(ROOT, '.gitlab-ci.yml'), 'utf8'), { merge: true }) as { [k: string]: any };
  const job = (name: string) => ({ ...raw[raw[name].extends], ...raw[name] });

  test('verify:production runs after deploy:production in the deploy image; exit 3 (inconclusive) is a warning', () => {
    const verify = job('verify:production');
    expect(verify.stage).toBe('deploy');
    expect(verify.image).toEqual({ name: '$KUBECTL_IMAGE', entrypoint: [''] });
    expect(verify.needs).toEqual(['deploy:production']);
    expect(verify.rules).toEqual([{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }]);
    expect(verify.allow_failure).toEqual({ exit_codes: [3] });
    expect(verify.script).toEqual(['sh scripts/verify.sh dist/production']);
    expect(verify.artifacts).toEqual({ when: 'always', paths: ['verify.env'] });
    expect(verify.resource_group).toBe('production');
  });

  test('its failure starts release:rollback-after-verify: a rollback of the breached components, by merge request', () => {
    const rollback = job('release:rollback-after-verify');
    expect(rollback.stage).toBe('release');
    expect(rollback.needs).toEqual(['validate', 'observe:production', 'verify:production']);
    expect(rollback.rules).toEqual([{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', when: 'on_failure' }]);
    expect(rollback.variables).toEqual({ RELEASE_ACTION: 'rollback', RELEASE_TAG: '', RELEASE_SERVING_PREFIX: 'SERVING_' });
    // the release script itself is release:rollback's
    expect(rollback.script).toEqual(job('release:rollback').script);
    expect(job('release:rollback').rules).toEqual([{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', when: 'manual' }]);
  });

  /** Runs the rollback job's before_script, then prints what the release script would act on. */
  function beforeScript(verifyEnv: string | undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-verify-rollback-'));
    try {
      if (verifyEnv !== undefined) fs.writeFileSync(path.join(dir, 'verify.env'), verifyEnv);
      const lines = [...job('release:rollback-after-verify').before_script, 'echo "release script runs for: $RELEASE_COMPONENTS"'].join('\n');
      // (the whole environment: bash started with PATH alone takes a second here)
      const r = spawnSync('bash', ['-e', '-c', lines], { cwd: dir, encoding: 'utf8', env: { ...process.env, RELEASE_COMPONENTS: '' } });
      return { status: r.status, stdout: r.stdout.trim().split('\n') };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('the rollback acts on the components verify.env names, and on nothing when the failure was not a breach', () => {
    expect(beforeScript(`RELEASE_COMPONENTS=${K} auth-service\n`)).toEqual({
      status: 0, stdout: [`rolling back what verify:production found in breach: ${K} auth-service`, `release script runs for: ${K} auth-service`],
    });
    expect(beforeScript('')).toEqual({ status: 0, stdout: ['verify:production found no breach (see its log): nothing to roll back'] });
    expect(beforeScript(undefined)).toEqual({ status: 0, stdout: ['verify:production found no breach (see its log): nothing to roll back'] });
  });
});

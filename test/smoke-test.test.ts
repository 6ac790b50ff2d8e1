import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { Colour, IdleSize, Microservice, ReleaseStrategy, SmokeTest, SmokeTestProps } from '../constructs';
import { CATALOGUE } from '../environments';
import { production } from '../environments/production';
import { synthesizeObjects } from '../synth/pipeline';
import { committedReleaseStates, find, Obj } from './helpers';

/**
 * A blue/green pair, traffic on blue (v1.0.0), green at v1.1.0 at full size; with `smoke` set, green
 * is staged and smoke-tested (as main.ts does while the release state says `staged`).
 */
function pair(smoke?: Partial<SmokeTestProps>): { smoke?: SmokeTest; objs: Obj[] } {
  const chart = Testing.chart();
  const orders = new Microservice(chart, 'Orders', {
    name: 'orders', image: 'registry.example.com/shop/orders', containerPort: 8080,
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
    release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: { blue: 'v1.0.0', green: 'v1.1.0' }, idle: IdleSize.FULL }),
  });
  const test = smoke && new SmokeTest(chart, 'Smoke', { target: orders, paths: ['/health', '/api/v1/orders/'], attempt: 1, ...smoke });
  return { smoke: test, objs: Testing.synth(chart) as Obj[] };
}

/** The staged pair's smoke test and its Job. */
function stagedJob(deadlineSeconds?: number): { smoke: SmokeTest; job: Obj } {
  const { smoke, objs } = pair({ deadlineSeconds });
  return { smoke: smoke!, job: find(objs, 'Job', smoke!.name) };
}

/** Whether a Service selector selects a pod with these labels. */
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('the preview Service of a pair', () => {
  test('selects only the staged version\'s pods while it is smoke-tested, the colour alone otherwise; Deployment selectors never change', () => {
    // GIVEN the pair stable, and the same pair staged with its smoke test
    const stable = pair().objs;
    const staged = pair({}).objs;
    // THEN while staged the preview Service selects the staged tag as well as the colour
    expect(find(staged, 'Service', 'orders-preview').spec.selector).toEqual({ 'app': 'orders', 'version': 'green', 'app.kubernetes.io/version': 'v1.1.0' });
    expect(find(stable, 'Service', 'orders-preview').spec.selector).toEqual({ app: 'orders', version: 'green' });
    // so a staged pod answers and the idle colour's old pod (same colour, old tag: still ready during the rollout) does not
    const selector = find(staged, 'Service', 'orders-preview').spec.selector;
    const newPod = find(staged, 'Deployment', 'orders-green').spec.template.metadata.labels;
    expect(selects(selector, newPod)).toBe(true);
    expect(selects(selector, { ...newPod, 'app.kubernetes.io/version': 'v1.0.0' })).toBe(false);
    // and the live Service and both Deployments' (immutable) selectors are the same in both
    for (const [kind, name] of [['Service', 'orders'], ['Deployment', 'orders-blue'], ['Deployment', 'orders-green']]) {
      expect(find(staged, kind, name).spec.selector).toEqual(find(stable, kind, name).spec.selector);
    }
  });

  test('in the app: production\'s preview Service selects the staged tag while staged, and not in the committed (stable) state', () => {
    // GIVEN knowledge-service staged in production / WHEN synthesized
    const committed = committedReleaseStates().production as object;
    const staged = { active: 'blue', phase: 'staged', tags: { blue: 'v1.0.0', green: 'v1.1.0' }, previousTag: 'v1.0.0', attempt: 1 };
    const objs = synthesizeObjects([production], CATALOGUE, { production: { ...committed, 'knowledge-service': staged } } as never).get('production') as Obj[];
    // THEN
    expect(find(objs, 'Service', 'knowledge-service-preview').spec.selector)
      .toEqual({ 'app': 'knowledge-service', 'version': 'green', 'app.kubernetes.io/version': 'v1.1.0' });
    expect(find(objs, 'Service', 'content-service-preview').spec.selector).toEqual({ app: 'content-service', version: 'green' });
  });
});

interface Run { status: number | null; stdout: string; stderr: string; calls: string[]; sleeps: string[] }

/**
 * Runs the container's command and args, exactly as synthesized, with its env, under `sh` (dash here,
 * BusyBox ash in the image: both POSIX), with `curl` and `sleep` replaced on PATH by stubs: each curl
 * call answers the next of `answers` (an HTTP status; 000 is no answer, as curl reports it) and is
 * recorded, and `sleep` returns at once.
 */
function runJob(job: Obj, answers: string[]): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-'));
  try {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(dir, 'answers'), answers.join('\n') + '\n');
    // curl's last argument is the URL; --write-out '%{http_code} %{redirect_url}' is honoured
    fs.writeFileSync(path.join(bin, 'curl'), `#!/bin/sh
for a; do url=$a; done
printf '%s\\n' "$*" >> "${dir}/calls"
n=$(cat "${dir}/n" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "${dir}/n"
code=$(sed -n "\${n}p" "${dir}/answers")
case $code in
  000) printf '000 '; echo "curl: (7) Failed to connect" >&2; exit 7 ;;
  3*) printf '%s http://elsewhere.example.com/login' "$code" ;;
  *) printf '%s ' "$code" ;;
esac
`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'sleep'), `#!/bin/sh\necho "$1" >> "${dir}/sleeps"\n`, { mode: 0o755 });
    const container = job.spec.template.spec.containers[0];
    const env = Object.fromEntries((container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    const [shell, ...shellArgs] = container.command as string[];
    expect(shell).toBe('/bin/sh');
    const result = spawnSync('sh', [...shellArgs, ...container.args], {
      env: { ...env, PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8', timeout: 10_000,
    });
    const lines = (file: string) => fs.existsSync(path.join(dir, file)) ? fs.readFileSync(path.join(dir, file), 'utf8').trim().split('\n') : [];
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls: lines('calls'), sleeps: lines('sleeps') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the smoke-test Job script, run with curl stubbed', () => {
  const { job } = stagedJob();
  const urls = ['http://orders-preview:8080/health', 'http://orders-preview:8080/api/v1/orders/'];

  test('passes when every URL answers 200', () => {
    // GIVEN both URLs answer 200 / WHEN the Job runs
    const run = runJob(job, ['200', '200']);
    // THEN it exits 0 after one call each, in order, without following redirects or --fail
    expect(run.status).toBe(0);
    expect(run.calls.map((c) => c.split(' ').at(-1))).toEqual(urls);
    expect(run.calls.join('\n')).not.toMatch(/ (-L|--location|--fail)\b/);
    expect(run.calls[0]).toContain('--max-time 10');
    expect(run.stdout).toContain('smoke test passed: 2 URLs answered 2xx');
  });

  test.each(['301', '307', '404'])('fails at once on %s: only 2xx passes, redirects are not followed', (status) => {
    // GIVEN the first URL answers a redirect (curl --fail would exit 0 on it) / WHEN the Job runs
    const run = runJob(job, [status, '200', '200']);
    // THEN it exits 1 without retrying or calling the next URL, and says why
    expect(run.status).toBe(1);
    expect(run.calls).toHaveLength(1);
    expect(run.stderr).toContain(`FAIL: ${urls[0]} answered ${status}`);
    expect(run.stderr).toContain('only 2xx passes');
  });

  test('retries no answer and 5xx while the staged pods come up, then passes on 200', () => {
    // GIVEN no endpoint yet, then a 503, then 200 for both / WHEN the Job runs
    const run = runJob(job, ['000', '503', '200', '200']);
    // THEN it waited RETRY_DELAY between tries and passed
    expect(run.status).toBe(0);
    expect(run.calls).toHaveLength(4);
    expect(run.sleeps).toEqual(['5', '5']);
  });

  test('fails on a 500 that does not go away, after a bounded number of calls', () => {
    // (a 2-minute deadline: fewer calls to run than the default's)
    const { job } = stagedJob(120);
    const maxTries = Number(job.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'MAX_TRIES').value);
    // GIVEN the second URL always answers 500 / WHEN the Job runs
    const run = runJob(job, ['200', ...Array(maxTries + 5).fill('500')]);
    // THEN it gives up after MAX_TRIES calls in all, within the Job's deadline
    expect(run.status).toBe(1);
    expect([maxTries, run.calls.length]).toEqual([6, 6]);
    expect(run.stderr).toContain(`FAIL: ${urls[1]} answered 500; gave up after ${maxTries} calls in all`);
    expect(maxTries * (10 + 5)).toBeLessThan(job.spec.activeDeadlineSeconds);
  });
});

describe('the smoke-test Job name', () => {
  test('changes whenever the spec changes for the same tag and attempt, and only then', () => {
    // GIVEN the Job of attempt 1 of v1.1.0
    const base = pair({}).smoke!;
    expect(base.instance).toBe('orders-smoke-v1-1-0-1');
    expect(base.name).toMatch(/^orders-smoke-v1-1-0-1-[0-9a-f]{6}$/);
    // WHEN the same inputs are synthesized again THEN the name is the same (a re-apply finds the Job)
    expect(pair({}).smoke!.name).toBe(base.name);
    // WHEN the spec changes (a new smoke path, another image, another deadline) THEN the name changes, the instance does not
    const changed = [
      pair({ paths: ['/health', '/api/v1/orders/', '/api/v1/carts/'] }).smoke!,
      pair({ image: 'docker.io/curlimages/curl:8.12.0' }).smoke!,
      pair({ deadlineSeconds: 600 }).smoke!,
    ];
    expect(changed.map((s) => s.instance)).toEqual(Array(3).fill(base.instance));
    expect(new Set([base.name, ...changed.map((s) => s.name)]).size).toBe(4);
    // and the synthesized object carries it
    const { job } = stagedJob();
    expect([job.metadata.name, job.metadata.labels['app.kubernetes.io/instance']]).toEqual([base.name, base.instance]);
  });
});

describe('the smoke-test Job object', () => {
  test('is deleted 72 h after it finishes, runs a digest-pinned image and passes URLs as arguments', () => {
    // GIVEN / WHEN a staged pair's smoke test
    const { job } = stagedJob();
    // THEN
    expect(job.spec.ttlSecondsAfterFinished).toBe(72 * 3600);
    expect(job.spec.activeDeadlineSeconds).toBe(900);
    const container = job.spec.template.spec.containers[0];
    expect(container.image).toMatch(/^docker\.io\/curlimages\/curl:8\.11\.1@sha256:[0-9a-f]{64}$/);
    expect(container.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(container.args).toEqual(['http://orders-preview:8080/health', 'http://orders-preview:8080/api/v1/orders/']);
  });
});

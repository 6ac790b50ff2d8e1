import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { Colour, IdleSize, Microservice, ReleaseStrategy, SmokeTest } from '../constructs';
import { find, Obj } from './helpers';

/** A staged blue/green pair (green runs v1.1.0 at full size, traffic on blue) and its smoke-test Job. */
function stagedJob(deadlineSeconds?: number): { smoke: SmokeTest; job: Obj } {
  const chart = Testing.chart();
  const orders = new Microservice(chart, 'Orders', {
    name: 'orders', image: 'registry.example.com/shop/orders', containerPort: 8080,
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
    release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: { blue: 'v1.0.0', green: 'v1.1.0' }, idle: IdleSize.FULL }),
  });
  const smoke = new SmokeTest(chart, 'Smoke', { target: orders, paths: ['/health', '/api/v1/orders/'], attempt: 1, deadlineSeconds });
  return { smoke, job: find(Testing.synth(chart) as Obj[], 'Job', smoke.name) };
}

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

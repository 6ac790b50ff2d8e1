/**
 * `npm run bench`: how fast synthesis is, measured, never asserted in tests.
 *
 * 1. `npm run synth` as a user runs it (fresh processes per run, warm bundle cache): median, min
 *    and max wall time and peak RSS over several runs; then the same without npm's own start-up.
 * 2. `cdk8s synth` through the CLI (fewer runs; the CLI alone costs most of it).
 * 3. Scaling: one generated environment with 60 and 300 components synthesized in-process, to show
 *    that cost grows linearly with the number of components.
 * 4. The validation gate over dist/ (all environments): `npm run validate` as a process, and
 *    in-process (first run, which loads the schemas, then warm).
 *
 * `npm run bench -- --npm-test [runs]` instead times the whole `npm test` (type-check, lint, jest,
 * the gate) end to end, 3 runs unless told: min, median and max. Opt-in, since one run takes tens
 * of seconds; the budget is a median of at most 60 s on a quiet 2-core machine.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT, synthesize } from '../main';
import { ComponentSpec, DATASTORES, Host, Tier } from '../environments/catalogue';
import { staging } from '../environments/staging';
import { EnvironmentConfig } from '../environments/model';
import { readManifestTree, validateTree } from '../validate';

interface Sample { readonly ms: number; readonly rssMiB: number }

const RSS_HOOK = `process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));`;

/** Runs `command` once; `okCodes` are the exit codes that mean it ran (the gate exits 1 on findings). */
function runOnce(command: string, args: string[], okCodes: readonly number[] = [0]): Sample {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-bench-'));
  const hook = path.join(dir, 'rss-hook.js');
  const rssFile = path.join(dir, 'rss');
  fs.writeFileSync(hook, RSS_HOOK);
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    cwd: ROOT,
    // The cdk8s CLI's upgrade check would time a registry round trip, not synthesis (README, "Synthesis").
    env: { ...process.env, NODE_OPTIONS: `--require ${hook}`, BENCH_RSS_FILE: rssFile, CDK8S_CHECK_UPGRADE: 'false' },
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!okCodes.includes(result.status ?? -1)) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  // The hook runs in every Node process of the command; the file holds the last one's peak.
  const rssMiB = fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8')) / 1024 : NaN;
  fs.rmSync(dir, { recursive: true, force: true });
  return { ms, rssMiB };
}

function summarize(label: string, samples: Sample[]): string {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  const peak = Math.max(...samples.map((s) => s.rssMiB));
  return `${label.padEnd(38)} median ${median.toFixed(0).padStart(5)} ms  min ${ms[0].toFixed(0).padStart(5)} ms  max ${ms[ms.length - 1].toFixed(0).padStart(5)} ms  peak RSS ${peak.toFixed(0)} MiB  (${samples.length} runs)`;
}

/** A staging-like environment with `n` generated backend components. */
function generated(n: number): { env: EnvironmentConfig; catalogue: ComponentSpec[] } {
  const catalogue: ComponentSpec[] = [];
  for (let i = 0; i < n; i++) {
    catalogue.push({
      name: `svc-${String(i).padStart(3, '0')}`,
      tier: Tier.BACKEND,
      containerPort: 10000 + i,
      servicePort: 10000 + i,
      healthPath: '/health',
      routes: { host: Host.API, paths: [`/api/v1/svc-${i}`] },
      writablePaths: ['/tmp'],
      smokePaths: ['/health'],
      exposesMetrics: true,
      // like the real backends: a datastore each (all four in use) and a call to the previous service
      datastores: [DATASTORES[i % DATASTORES.length]],
      calls: i > 0 ? [catalogue[i - 1]] : [],
    });
  }
  return { env: { ...staging, name: `scale-${n}`, namespace: `scale-${n}`, components: {} }, catalogue };
}

function scaling(n: number): string {
  const { env, catalogue } = generated(n);
  synthesize([env], catalogue); // warm-up
  const times: number[] = [];
  let files = 0;
  for (let i = 0; i < 5; i++) {
    const started = process.hrtime.bigint();
    files = synthesize([env], catalogue).size;
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const median = times.sort((a, b) => a - b)[2];
  return `in-process synth, ${String(n).padStart(3)} components   median ${median.toFixed(0).padStart(5)} ms  (${files} objects, ${(median / n).toFixed(2)} ms per component)`;
}

function gateInProcess(): string {
  const dist = path.join(ROOT, 'dist');
  const time = () => {
    const started = process.hrtime.bigint();
    const result = validateTree(readManifestTree(dist));
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
  };
  const first = time();
  const warm = Array.from({ length: 5 }, () => time().ms).sort((a, b) => a - b)[2];
  return `in-process gate, all environments   first ${first.ms.toFixed(0).padStart(5)} ms (loads the schemas)  warm median ${warm.toFixed(0).padStart(4)} ms  `
    + `(${first.result.objects} objects, ${first.result.errors} errors)`;
}

function gateScaling(n: number): string {
  const { env, catalogue } = generated(n);
  const tree = synthesize([env], catalogue);
  validateTree(tree); // warm-up: loads the schemas
  const times = Array.from({ length: 5 }, () => {
    const started = process.hrtime.bigint();
    validateTree(tree);
    return Number(process.hrtime.bigint() - started) / 1e6;
  }).sort((a, b) => a - b);
  return `in-process gate, ${String(n).padStart(3)} components    median ${times[2].toFixed(0).padStart(5)} ms  (${tree.size} objects, ${(times[2] / tree.size).toFixed(2)} ms per object)`;
}

/**
 * The whole `npm test`, `runs` times in fresh processes; each run's time goes to stderr as it ends,
 * with the load average (npm test itself keeps about one core busy; much more means a busy machine).
 */
function npmTest(runs: number): string[] {
  const seconds: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync('npm', ['test'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status !== 0) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').slice(-60).join('\n');
      throw new Error(`npm test failed on run ${i} of ${runs} (exit ${result.status ?? result.signal}); the end of its output:\n${output}`);
    }
    process.stderr.write(`npm test run ${i}/${runs}: ${s.toFixed(1)} s (load average now ${os.loadavg()[0].toFixed(2)})\n`);
    seconds.push(s);
  }
  seconds.sort((a, b) => a - b);
  const f = (s: number) => `${s.toFixed(1).padStart(5)} s`;
  return [
    `npm test (tsc, eslint, jest, gate)     median ${f(seconds[Math.floor(runs / 2)])}  min ${f(seconds[0])}  max ${f(seconds[runs - 1])}  (${runs} runs)`,
  ];
}

const header = () => `node ${process.version}, ${os.cpus().length} cores, ${os.platform()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;

export function main(args: string[]): number {
  if (args[0] === '--npm-test') {
    const runs = Number(args[1] ?? 3);
    if (!Number.isInteger(runs) || runs < 1) {
      process.stderr.write(`usage: npm run bench -- --npm-test [runs]   (runs: a whole number >= 1, got "${args[1]}")\n`);
      return 64;
    }
    const lines = [header(), ...npmTest(runs)];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  const runs = Number(args[0] ?? 11);
  const node = process.execPath;
  runOnce(node, ['scripts/run.js', 'main.ts']); // warm the bundle cache, as any second synth is
  const lines = [
    header(),
    summarize('npm run synth', Array.from({ length: runs }, () => runOnce('npm', ['run', '-s', 'synth']))),
    summarize('  of which ours (node scripts/run.js)', Array.from({ length: runs }, () => runOnce(node, ['scripts/run.js', 'main.ts']))),
    // cdk8s synth runs the validation gate plugin; it exits 2 while the gate has findings.
    summarize('cdk8s synth (CLI, with the gate)', Array.from({ length: Math.max(3, Math.floor(runs / 3)) }, () => runOnce(node, ['node_modules/.bin/cdk8s', 'synth'], [0, 2]))),
    summarize('npm run validate (all environments)', Array.from({ length: runs }, () => runOnce('npm', ['run', '-s', 'validate'], [0, 1]))),
    summarize('  of which ours (node scripts/run.js)', Array.from({ length: runs }, () => runOnce(node, ['scripts/run.js', 'scripts/validate.ts'], [0, 1]))),
    gateInProcess(),
    scaling(60),
    scaling(300),
    gateScaling(300),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

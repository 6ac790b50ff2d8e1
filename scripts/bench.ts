/**
 * `npm run bench`: how fast synthesis and the validation gate are, measured, never asserted in tests.
 * Every figure is a median over at least 7 runs (11 unless told: `npm run bench -- 9`).
 *
 * 1. Processes, paired with `kubectl kustomize` rendering the same objects (both environments, from a
 *    copy of dist/ with a kustomization.yaml): each run times the synth process (which includes the
 *    in-process gate), then kustomize, then the folder gate process, and the ratio of each pair is
 *    reported, so that load from other work on the machine hits both sides alike. Then
 *    `npm run synth` with npm's start-up, `npm run validate` (the folder gate, which `cdk8s synth` ran
 *    after every synth before the gate moved in process), `cdk8s synth` (the CLI with its validation
 *    plugin), the CLI's own start-up, and the synth process at 1,000 generated components.
 * 2. Scaling: one generated environment with 60, 300, 1,000 and 2,000 components: synth (with the
 *    gate) in-process, the gate alone on the synthesized objects, and the folder gate over the
 *    rendered files.
 *
 * `npm run bench -- --npm-test [runs]` instead times the whole `npm test` (type-check, lint, jest,
 * the gate) end to end, 3 runs unless told: min, median and max. Opt-in, since one run takes tens
 * of seconds; the budget is a median of at most 60 s on a quiet 2-core machine.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthesize, synthesizeObjects } from '../synth/pipeline';
import { ROOT } from '../synth/root';
import { readReleaseStates } from '../release/files';
import { ComponentSpec, DATASTORES, Host, Tier } from '../environments/catalogue';
import { staging } from '../environments/staging';
import { EnvironmentConfig } from '../environments/model';
import { gateObjects } from '../synth/gate';
import { KubeObject } from '../synth/output';
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
  return `${label.padEnd(44)} median ${median.toFixed(0).padStart(5)} ms  min ${ms[0].toFixed(0).padStart(5)} ms  max ${ms[ms.length - 1].toFixed(0).padStart(5)} ms  peak RSS ${peak.toFixed(0)} MiB  (${samples.length} runs)`;
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
  // (without staging's quota budget, which a thousand components exceed by design: the quota itself is still computed)
  const guardrails = { ...staging.guardrails, budget: undefined };
  return { env: { ...staging, name: `scale-${n}`, namespace: `scale-${n}`, components: {}, guardrails }, catalogue };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Milliseconds `f` takes. */
function timed(f: () => void): number {
  const started = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const SCALE_RUNS = 7;

/** In-process synth (with the gate), the gate alone and the folder gate at `n` generated components: medians of warm runs. */
function scaling(n: number): string {
  const { env, catalogue } = generated(n);
  const states = readReleaseStates(ROOT, [env]);
  const tree = synthesize([env], catalogue, states); // warm-up (loads the schemas)
  const charts = synthesizeObjects([env], catalogue, states) as Map<string, KubeObject[]>;
  const synth = median(Array.from({ length: SCALE_RUNS }, () => timed(() => synthesize([env], catalogue, states))));
  const gate = median(Array.from({ length: SCALE_RUNS }, () => timed(() => gateObjects(charts))));
  const folderRuns = n >= 1000 ? 3 : SCALE_RUNS;
  const folder = median(Array.from({ length: folderRuns }, () => timed(() => validateTree(tree))));
  const objects = charts.get(env.name)?.length ?? 0;
  const f = (ms: number) => `${ms.toFixed(0).padStart(5)} ms`;
  return `${String(n).padStart(5)} components (${String(objects).padStart(4)} objects): synth with gate ${f(synth)} (${(synth / n).toFixed(2)} ms per component)  `
    + `gate alone ${f(gate)} (${(gate / objects).toFixed(3)} ms per object)  folder gate ${f(folder)} (${folderRuns} runs)`;
}

/** `--child-synth N`: one synth of N generated components (with the gate), for the process figures. */
function childSynth(n: number): number {
  const { env, catalogue } = generated(n);
  return synthesize([env], catalogue, readReleaseStates(ROOT, [env])).size > 0 ? 0 : 1;
}

/** A copy of dist/'s manifests with a kustomization.yaml listing them all (both environments). */
function kustomization(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-bench-kustomize-'));
  const resources: string[] = [];
  for (const [file, content] of readManifestTree(path.join(ROOT, 'dist'))) {
    const flat = file.replace(/\//g, '__');
    fs.writeFileSync(path.join(dir, flat), content);
    resources.push(flat);
  }
  fs.writeFileSync(path.join(dir, 'kustomization.yaml'), `resources:\n${resources.map((r) => `  - ${r}`).join('\n')}\n`);
  return dir;
}

function runOnceOutput(command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

/** The synth process, `kubectl kustomize` of the same objects and the folder gate, run in turn; medians and median ratios. */
function pairedWithKustomize(runs: number): string[] {
  if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status !== 0) {
    return ['kubectl not found: no kustomize comparison (install kubectl to get it)'];
  }
  const dir = kustomization();
  try {
    const objects = runOnceOutput('kubectl', ['kustomize', dir]).split(/^---$/m).length;
    const triples = Array.from({ length: runs }, () => ({
      synth: runOnce(process.execPath, ['scripts/run.js', 'main.ts']),
      kustomize: runOnce('kubectl', ['kustomize', dir]),
      folderGate: runOnce(process.execPath, ['scripts/run.js', 'scripts/validate.ts'], [0, 1]),
    }));
    return [
      summarize('synth process (node scripts/run.js main.ts)', triples.map((t) => t.synth)),
      summarize(`kubectl kustomize (the same ${objects} objects)`, triples.map((t) => t.kustomize)),
      summarize('folder gate process (scripts/validate.ts)', triples.map((t) => t.folderGate)),
      `  paired: synth, its gate included / kustomize = ${median(triples.map((t) => t.synth.ms / t.kustomize.ms)).toFixed(2)}x (median of ${runs} pairs)`,
      `  paired: synth + folder gate process (write, then re-read) / kustomize = ${median(triples.map((t) => (t.synth.ms + t.folderGate.ms) / t.kustomize.ms)).toFixed(2)}x`,
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The folder gate over dist/ in process: the first run (which loads the schemas), then warm runs. */
function gateInProcess(): string {
  const dist = path.join(ROOT, 'dist');
  const time = () => {
    const started = process.hrtime.bigint();
    const result = validateTree(readManifestTree(dist));
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
  };
  const first = time();
  const warm = median(Array.from({ length: SCALE_RUNS }, () => time().ms));
  return `folder gate in-process, dist/: first ${first.ms.toFixed(0)} ms (loads the schemas), warm median ${warm.toFixed(0)} ms `
    + `(${first.result.objects} objects, ${first.result.errors} errors)`;
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
  if (args[0] === '--child-synth') return childSynth(Number(args[1]));
  const runs = Number(args[0] ?? 11);
  if (!Number.isInteger(runs) || runs < 7) {
    process.stderr.write(`usage: npm run bench -- [runs]   (runs: a whole number >= 7, got "${args[0]}")\n`);
    return 64;
  }
  const node = process.execPath;
  // warm the bundle caches, as any second run is
  runOnce(node, ['scripts/run.js', 'main.ts']);
  runOnce(node, ['scripts/run.js', 'scripts/validate.ts'], [0, 1]);
  runOnce(node, ['scripts/run.js', 'scripts/bench.ts', '--child-synth', '60']);
  const lines = [
    header(),
    ...pairedWithKustomize(runs),
    summarize('npm run synth', Array.from({ length: runs }, () => runOnce('npm', ['run', '-s', 'synth']))),
    summarize('npm run validate (the folder gate)', Array.from({ length: runs }, () => runOnce('npm', ['run', '-s', 'validate'], [0, 1]))),
    // cdk8s synth runs the validation gate plugin; it exits 2 while the gate has findings.
    summarize('cdk8s synth (CLI, with the gate plugin)', Array.from({ length: runs }, () => runOnce(node, ['node_modules/.bin/cdk8s', 'synth'], [0, 2]))),
    summarize('  the CLI alone (cdk8s --version)', Array.from({ length: runs }, () => runOnce(node, ['node_modules/.bin/cdk8s', '--version']))),
    // the floor of every process figure above: Node's own start and exit
    summarize('node alone (node -e 0)', Array.from({ length: runs }, () => runOnce(node, ['-e', '0']))),
    summarize('synth process, 1,000 generated components', Array.from({ length: SCALE_RUNS }, () => runOnce(node, ['scripts/run.js', 'scripts/bench.ts', '--child-synth', '1000']))),
    gateInProcess(),
    ...[60, 300, 1000, 2000].map(scaling),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

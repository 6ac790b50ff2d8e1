/**
 * The release command changes its state file and dist/<environment>/ together or not at all:
 * refused commands change nothing (byte for byte), a process killed at every write step leaves
 * both old or both new once the next command has run, two commands at once are serialized, and an
 * invalid unrelated environment does not block a release.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { ROOT } from '../main';
import { CATALOGUE, ENVIRONMENTS, EnvironmentConfig } from '../environments';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { releaseFile } from '../release/files';
import { release, ReleaseContext } from '../scripts/release';
import { digest, InjectedFault, readTree, scratchPaths, WRITE_STEPS, WriteStep } from '../synth/transaction';

jest.setTimeout(30_000);

const K = 'knowledge-service';
const C = 'content-service';
const STAGE = ['production', K, 'stage', 'v1.1.0'];

let work: string;
let template: string;
let child: string;

type ChildResult = { code: number | null; signal: string | null; out: string };

// Every step of the write is killed in test/write-atomic.test.ts, on both swap paths, with the same
// code; here the release command itself is killed where the outcome differs: between the state file
// and dist/ (the state file new, dist/ old), with both new but uncommitted, and just after the commit.
const CRASHES: [WriteStep, string][] = [['file-replaced', 'on'], ['swapped', 'on'], ['committed', 'on']];
const crashed = new Map<WriteStep, { root: string; run: ChildResult }>();
/** Two releases started at once on one root. */
const concurrent = {} as { root: string; runs: ChildResult[] };
/** The project before and after `release STAGE`, and after staging C too, run in this process. */
const reference = {} as { before: Observed; after: Observed; both: Observed };

// The child processes (each loads and synthesizes on its own) all start at once and run while this
// process computes the reference: ~1 s in all on two cores.
beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-release-atomic-'));
  template = path.join(work, 'template');
  fs.mkdirSync(path.join(template, 'environments'), { recursive: true });
  fs.copyFileSync(releaseFile(ROOT, 'production'), releaseFile(template, 'production'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(template, 'dist'), { recursive: true });
  child = path.join(work, 'release-child.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'fixtures', 'release-child.ts')], outfile: child, bundle: true, platform: 'node',
    target: 'node20', logLevel: 'error', minifyWhitespace: true, minifySyntax: true,
    external: ['esbuild', 'typescript', '@pulumi/*', 'kubernetes-models', '@kubernetes-models/*'],
  });
  concurrent.root = makeRoot();
  const children = Promise.all([
    ...CRASHES.map(async ([step, exchange]) => {
      const root = makeRoot();
      crashed.set(step, { root, run: await runChild(root, STAGE, { KCP_FAILPOINT: step, KCP_DIR_EXCHANGE: exchange }) });
    }),
    Promise.all([runChild(concurrent.root, STAGE), runChild(concurrent.root, ['production', C, 'stage', 'v1.1.0'])])
      .then((runs) => { concurrent.runs = runs; }),
  ]);
  const root = makeRoot();
  reference.before = observe(root);
  expect(run(root, STAGE).code).toBe(0);
  reference.after = observe(root);
  expect(run(root, ['production', C, 'stage', 'v1.1.0']).code).toBe(0);
  reference.both = observe(root);
  await children;
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A fresh copy of the project's release state and dist/. */
function makeRoot(): string {
  const root = fs.mkdtempSync(path.join(work, 'root-'));
  fs.cpSync(template, root, { recursive: true });
  return root;
}

type Observed = ReturnType<typeof observe>;

/** The whole dist/ tree and the state file, byte for byte (as digests), and every entry of the root. */
function observe(root: string) {
  const state = releaseFile(root, 'production');
  return {
    dist: digest(readTree(path.join(root, 'dist'))),
    state: fs.existsSync(state) ? fs.readFileSync(state, 'utf8') : 'missing',
    entries: [...fs.readdirSync(root), ...fs.readdirSync(path.join(root, 'environments')).map((e) => `environments/${e}`)].sort(),
  };
}

/** Runs the release command in this process; returns its exit code, output and error lines. */
function run(root: string, args: readonly string[], ctx: ReleaseContext = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = release(args, { root, out: (l) => out.push(l), err: (l) => err.push(l), ...ctx });
  return { code, out, err };
}

function runChild(root: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, root, ...args], {
      env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), ...env }, timeout: 20_000,
    });
    let out = '';
    p.stdout.on('data', (d) => { out += String(d); });
    p.stderr.on('data', (d) => { out += String(d); });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

describe('a refused release changes nothing, byte for byte', () => {
  const withProblem = (env: EnvironmentConfig): EnvironmentConfig => ({ ...env, components: { ...env.components, frontend: { replicas: 0 } } });
  test.each<[string, string[], ReleaseContext, string | RegExp]>([
    ['an illegal transition', ['production', K, 'promote'], {}, `production/${K}: cannot promote while stable`],
    ['an unknown environment', ['qa', K, 'stage', 'v1.1.0'], {}, 'unknown environment "qa"; known: staging, production'],
    ['an unknown component', ['production', 'billing-service', 'stage', 'v1.1.0'], {}, 'unknown component "billing-service" in production'],
    ['a component released rolling', ['staging', 'frontend', 'stage', 'v1.1.0'], {}, 'staging/frontend is released rolling, not blue/green'],
    ['a malformed tag', ['production', K, 'stage', 'v1.1.0!'], {}, `production/${K}: stage tag must be a pinned image tag`],
    ['an unknown action', ['production', K, 'deploy'], {}, 'unknown action "deploy"; allowed: init, stage, promote, finalize, rollback, status'],
    // The tag passes as an image tag but lands in the manifests as a credential-looking value: the
    // output guard refuses it after the new state was computed, before anything is written.
    ['a tag that trips the credential guard', ['production', K, 'stage', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'], {},
      /^refusing to write \d+ credential-looking values? \(values belong in a secret store, not in manifests\):\n {2}- production\/.*long base64 value/],
    ['an invalid configuration of the environment released', STAGE, { environments: [staging, withProblem(production)] },
      'invalid configuration (1 problem):\n  - production/frontend: replicas must be an integer >= 1, got 0'],
    ['an invalid catalogue, which every environment shares', STAGE,
      { catalogue: CATALOGUE.map((c, i) => (i === 0 ? { ...c, healthPath: 'health' } : c)) },
      /^invalid configuration \(1 problem\):\n {2}- catalogue\/\S+: healthPath must be an absolute HTTP path.*, got "health"$/],
  ])('%s', (_name, args, ctx, message) => {
    const root = makeRoot();
    const before = observe(root);
    const result = run(root, args, ctx);
    expect(result.code).toBe(1);
    expect(result.err).toHaveLength(1);
    const prefix = 'release refused, nothing changed: ';
    expect(result.err[0].startsWith(prefix)).toBe(true);
    const reason = result.err[0].slice(prefix.length);
    if (typeof message === 'string') expect(reason).toContain(message);
    else expect(reason).toMatch(message);
    expect(observe(root)).toEqual(before);
  });

  test('while another release holds the lock: it waits briefly, then names it', () => {
    const root = makeRoot();
    const before = observe(root);
    const lock = scratchPaths(path.join(root, 'dist')).lock;
    const holder = { pid: process.ppid, started: new Date(2030, 0, 2, 3, 4, 5).toISOString(), command: `release production ${C} stage v1.1.0`, nonce: 'n' };
    fs.writeFileSync(lock, JSON.stringify(holder));
    const result = run(root, STAGE, { lockWaitMs: 100 });
    expect(result).toEqual({ code: 1, out: [], err: [
      `waiting for release production ${C} stage v1.1.0 (pid ${process.ppid}) to finish...`,
      `release refused, nothing changed: another release production ${C} stage v1.1.0 is running (pid ${process.ppid}, started 2030-01-02 03:04:05); try again when it finishes`,
    ] });
    expect(observe(root)).toEqual({ ...before, entries: [...before.entries, '.dist.lock'].sort() });
  });

  test('a write that fails is undone at once, and says nothing changed', () => {
    const root = makeRoot();
    const before = observe(root);
    const result = run(root, STAGE, { failpoint: (step) => { if (step === 'swapped') throw new InjectedFault(step); } });
    expect(result).toEqual({ code: 1, out: [], err: ['release failed, nothing changed: could not write dist/production: fault injected at step swapped'] });
    expect(observe(root)).toEqual(before);
  });
});

describe('a release killed (SIGKILL) while writing', () => {
  test.each(CRASHES)('at %s (KCP_DIR_EXCHANGE=%s): state file and dist/ both old or both new after the next command', (step) => {
    const { root, run: killed } = crashed.get(step)!;
    expect(killed.signal).toBe('SIGKILL');
    const { before, after } = reference;
    expect(after.dist).not.toBe(before.dist);
    const committed = step === 'committed' || step === 'cleaned';
    // The next command, whatever it is, first repairs: here a status query.
    const next = run(root, ['production', K, 'status']);
    expect(next.code).toBe(0);
    const repaired = observe(root);
    expect({ dist: repaired.dist, state: repaired.state }).toEqual(committed
      ? { dist: after.dist, state: after.state } : { dist: before.dist, state: before.state });
    expect(repaired.entries).toEqual(before.entries); // no scratch entry left
    const journaled = WRITE_STEPS.indexOf(step) >= WRITE_STEPS.indexOf('journal-written');
    expect(next.err).toEqual(journaled && !committed
      ? [expect.stringMatching(new RegExp(`^note: an earlier \`release ${STAGE.join(' ')}\` \\(pid \\d+, started [^)]+\\) was interrupted `
        + 'before it completed; restored environments/production.release.json and dist/production/ as they were before it$'))]
      : ['note: removed .dist.next left by an interrupted write (nothing to undo)']);
  });
});

describe('two releases at once', () => {
  test('run one after the other: both updates are kept', () => {
    const { root, runs } = concurrent;
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const state = JSON.parse(fs.readFileSync(releaseFile(root, 'production'), 'utf8'));
    expect([state[K].phase, state[C].phase]).toEqual(['staged', 'staged']);
    // which is what the two releases give one after the other
    expect(observe(root)).toEqual(reference.both);
  });
});

describe('an invalid unrelated environment', () => {
  const brokenStaging: EnvironmentConfig = { ...staging, components: { ...staging.components, frontend: { replicas: 0 } } };

  test('does not block a release of another one, is named, and its dist/ is not touched', () => {
    const root = makeRoot();
    const stagingDir = path.join(root, 'dist', 'staging');
    const stagingBefore = readTree(stagingDir);
    const stagingStat = fs.statSync(stagingDir);
    const productionBefore = readTree(path.join(root, 'dist', 'production'));
    const ctx = { environments: ENVIRONMENTS.map((e) => (e.name === 'staging' ? brokenStaging : e)) };

    const staged = run(root, STAGE, ctx);
    expect(staged.code).toBe(0);
    expect(staged.err).toEqual(['note: staging is invalid (1 problem; npm run synth lists them); releasing production only']);
    expect(staged.out[staged.out.length - 1]).toBe(
      'wrote environments/production.release.json and dist/production/; review and commit them. Next: promote | rollback');
    // the staged release is in dist/production; dist/staging is the same folder, untouched
    expect(readTree(path.join(root, 'dist', 'production'))).not.toEqual(productionBefore);
    expect(readTree(stagingDir)).toEqual(stagingBefore);
    expect(fs.statSync(stagingDir)).toMatchObject({ ino: stagingStat.ino, mtimeMs: stagingStat.mtimeMs });

    // and the rollback during the incident
    const rolledBack = run(root, ['production', K, 'rollback'], ctx);
    expect(rolledBack.code).toBe(0);
    expect(rolledBack.err).toEqual(['note: staging is invalid (1 problem; npm run synth lists them); releasing production only']);
    expect(readTree(stagingDir)).toEqual(stagingBefore);
  });
});

/**
 * The release command changes its state file and dist/<environment>/ together or not at all:
 * refused commands change nothing (byte for byte); a crash at every write step (the disk as it
 * leaves it, test/crash.ts, and a real SIGKILL) leaves both old or both new once the next command
 * has run; two commands at once are serialized; an invalid unrelated environment does not block a
 * release.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { build } from 'esbuild';
import { ROOT } from '../synth/root';
import { CATALOGUE, ENVIRONMENTS, EnvironmentConfig } from '../environments';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { releaseFile } from '../release/files';
import { release, ReleaseContext } from '../scripts/release';
import { acquireLock, Lock } from '../synth/lock';
import { digest, InjectedFault, readTree, scratchPaths, Step, WRITE_STEPS } from '../synth/transaction';
import { crashImages } from './crash';

jest.setTimeout(30_000);

const K = 'knowledge-service';
const C = 'content-service';
const STAGE = ['production', K, 'stage', 'v1.1.0'];

let work: string;
let template: string;
let child: string;

type ChildResult = { code: number | null; signal: string | null; out: string };

/** The project before and after `release STAGE`, and after staging C too. */
const reference = {} as { before: Observed; after: Observed; both: Observed };
/** What a crash at each write step of `release STAGE` leaves, by step (test/crash.ts). */
let images: Map<Step, string>;
/** The crash image between the state file and dist/, as it was left. */
let fileReplaced: Observed;
/** A real `release STAGE`, killed between the state file and dist/. */
let killed: { root: string; run: Promise<ChildResult> };
/** A real `release STAGE` started while a release holds the lock. */
let waiting: { root: string; first: Lock; seen: Promise<void>; run: Promise<ChildResult> };

// The child processes load and synthesize on their own, on the other core, while this process
// computes the crash images and runs the tests that need no child; the tests awaiting them come last.
beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-release-atomic-'));
  template = path.join(work, 'template');
  fs.mkdirSync(path.join(template, 'environments'), { recursive: true });
  fs.copyFileSync(releaseFile(ROOT, 'production'), releaseFile(template, 'production'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(template, 'dist'), { recursive: true });
  child = path.join(work, 'release-child.js');
  const bundled = build({
    entryPoints: [path.join(__dirname, 'fixtures', 'release-child.ts')], outfile: child, bundle: true, platform: 'node',
    target: 'node20', logLevel: 'error', minifyWhitespace: true, minifySyntax: true,
    external: ['esbuild', 'typescript', '@pulumi/*', 'kubernetes-models', '@kubernetes-models/*'],
  });

  const root = makeRoot();
  reference.before = observe(root);
  images = crashImages(root, (failpoint) => expect(run(root, STAGE, { failpoint }).code).toBe(0));
  fileReplaced = observe(images.get('file-replaced')!);
  reference.after = observe(root);
  expect(reference.after.dist).not.toBe(reference.before.dist);
  expect(run(root, ['production', C, 'stage', 'v1.1.0']).code).toBe(0);
  reference.both = observe(root);

  await bundled;
  const killedRoot = makeRoot();
  killed = { root: killedRoot, run: runChild(killedRoot, STAGE, { KCP_FAILPOINT: 'file-replaced' }) };
  // GIVEN a release holding the lock (this process, standing in for one) WHEN another one starts
  const waitingRoot = makeRoot();
  const first = acquireLock(scratchPaths(path.join(waitingRoot, 'dist')).lock, `release production ${C} stage v1.1.0`);
  let seen: () => void = () => undefined;
  waiting = {
    root: waitingRoot,
    first,
    seen: new Promise<void>((resolve) => { seen = resolve; }),
    run: runChild(waitingRoot, STAGE, {}, (text) => { if (text.includes('waiting for')) seen(); }),
  };
});
afterAll(async () => {
  waiting?.first.release(); // (in case its test failed before releasing it)
  await Promise.allSettled([killed?.run, waiting?.run]);
  fs.rmSync(work, { recursive: true, force: true });
});

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

function runChild(root: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, onOutput?: (text: string) => void): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, root, ...args], {
      env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), ...env }, timeout: 20_000,
    });
    let out = '';
    p.stdout.on('data', (d) => { out += String(d); onOutput?.(out); });
    p.stderr.on('data', (d) => { out += String(d); onOutput?.(out); });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

describe('a refused release changes nothing, byte for byte', () => {
  let refusals: string;
  beforeAll(() => { refusals = makeRoot(); });
  const withProblem = (env: EnvironmentConfig): EnvironmentConfig => ({ ...env, components: { ...env.components, frontend: { replicas: 0 } } });
  test.each<[string, string[], ReleaseContext, string | RegExp]>([
    ['an illegal transition', ['production', K, 'promote'], {}, `production/${K}: cannot promote while stable`],
    ['an unknown environment', ['qa', K, 'stage', 'v1.1.0'], {}, 'unknown environment "qa"; known: staging, production'],
    ['an unknown component', ['production', 'billing-service', 'stage', 'v1.1.0'], {}, 'unknown component "billing-service" in production'],
    ['a component released rolling', ['staging', 'frontend', 'stage', 'v1.1.0'], {}, 'staging/frontend is released rolling, not blue/green'],
    ['a malformed tag', ['production', K, 'stage', 'v1.1.0!'], {}, `production/${K}: stage tag must be a pinned image tag`],
    ['an unknown action', ['production', K, 'deploy'], {}, 'unknown action "deploy"; allowed: init, stage, promote, finalize, rollback, break-glass, status'],
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
    const root = refusals; // (a refusal changes nothing, so they share one copy)
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
    const result = run(root, STAGE, { lockWaitMs: 50 });
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

// In two steps, so that the waiting release's work overlaps the tests in between.
let inProcess: ReturnType<typeof run>;
describe('two releases at once', () => {
  test('the second waits for the first, then goes ahead', async () => {
    const { root, first, seen } = waiting;
    await seen;
    // when the first is done, this process releases content-service at the same moment the
    // waiting one goes ahead: whichever takes the lock first, the other waits for it
    first.release();
    inProcess = run(root, ['production', C, 'stage', 'v1.1.0']);
    expect(inProcess.code).toBe(0);
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

// Every step on Linux, where the exchange is used; the steps of the fallback swap run the same
// code with a smaller change in test/write-atomic.test.ts.
describe('a release crashed at every write step', () => {
  const CASES = WRITE_STEPS.filter((step) => step !== 'swap-half-done'); // (never reached with an exchange)
  const NOTE = new RegExp(`^note: an earlier \`release ${STAGE.join(' ')}\` \\(pid \\d+, started [^)]+\\) was interrupted `
    + 'before it completed; restored environments/production.release.json and dist/production/ as they were before it$');

  test.each(CASES)('at %s: state file and dist/ both old or both new after the next command', (step) => {
    const root = images.get(step)!;
    const { before, after } = reference;
    const committed = step === 'committed' || step === 'cleaned';
    // The next command, whatever it is, first repairs: here a status query.
    const next = run(root, ['production', K, 'status']);
    expect(next.code).toBe(0);
    const repaired = observe(root);
    expect({ dist: repaired.dist, state: repaired.state }).toEqual(committed
      ? { dist: after.dist, state: after.state } : { dist: before.dist, state: before.state });
    expect(repaired.entries).toEqual(before.entries); // no scratch entry left
    const journaled = WRITE_STEPS.indexOf(step) >= WRITE_STEPS.indexOf('journal-written');
    expect(next.err).toEqual(journaled && !committed ? [expect.stringMatching(NOTE)]
      : step === 'cleaned' ? []
        : ['note: removed .dist.next left by an interrupted write (nothing to undo)']);
  });

  test('a real SIGKILL between the state file and dist/ leaves what the crash image shows, and is repaired the same way', async () => {
    expect((await killed.run).signal).toBe('SIGKILL');
    const crashed = observe(killed.root);
    expect(crashed).toEqual(fileReplaced);
    expect({ dist: crashed.dist, state: crashed.state }).toEqual({ dist: reference.before.dist, state: reference.after.state });
    const next = run(killed.root, ['production', K, 'status']);
    expect(next.err).toEqual([expect.stringMatching(NOTE)]);
    expect(observe(killed.root)).toEqual(reference.before);
  });
});

describe('two releases at once, when both are done', () => {
  test('both updates are kept', async () => {
    const { code, out } = await waiting.run;
    expect(out).toMatch(new RegExp(`^waiting for release production ${C} stage v1.1.0 \\(pid ${process.pid}\\) to finish\\.\\.\\.\n`));
    expect([code, inProcess.code]).toEqual([0, 0]);
    // the same as the two releases one after the other
    expect(observe(waiting.root)).toEqual(reference.both);
  });
});

/**
 * All-or-nothing writes of dist/ and the files written with it (synth/transaction.ts): a process
 * killed at every step of a write, on both swap paths, leaves the old or the new version, and the
 * next writer's recovery leaves exactly the old one (uncommitted) or the new one (committed).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { writeTree } from '../synth/output';
import { crashImages, Mode, MODES, withExchange } from './crash';
import { exchangeDirs, exchangeUnavailable } from '../synth/exchange';
import { acquireLock, LockBusyError } from '../synth/lock';
import {
  digest, Failpoint, InjectedFault, OutputStore, readTree, RECOVERY_STEPS, RecoveryError, scratchPaths, Step, WRITE_STEPS, WriteFailedError,
} from '../synth/transaction';

jest.setTimeout(20_000);

const OLD: ReadonlyMap<string, string> = new Map([
  ['staging/00-namespace-s.yaml', 'kind: Namespace\n'], ['staging/48-deployment-a.yaml', 'image: a:v1\n'],
  ['production/00-namespace-p.yaml', 'kind: Namespace\n'], ['production/48-deployment-a.yaml', 'image: a:v1\n'],
  ['production/48-deployment-b.yaml', 'image: b:v1\n'],
]);
/** The new production folder: one file changed, one removed, one added. */
const NEW_PRODUCTION: ReadonlyMap<string, string> = new Map([
  ['00-namespace-p.yaml', 'kind: Namespace\n'], ['48-deployment-a.yaml', 'image: a:v2\n'], ['64-job-smoke.yaml', 'kind: Job\n'],
]);
const NEW: ReadonlyMap<string, string> = new Map([
  ...[...OLD].filter(([f]) => !f.startsWith('production/')),
  ...[...NEW_PRODUCTION].map(([f, c]) => [`production/${f}`, c] as const),
]);
const STATE_OLD = '{ "a": "v1" }\n';
const STATE_NEW = '{ "a": "v2" }\n';

let work: string;
let child: string;

type ChildResult = { pid: number; code: number | null; signal: string | null; out: string };
/** Real SIGKILLs, by mode and step: they run while this process runs the other tests. */
const KILLS = [['on', 'file-replaced'], ['on', 'swapped'], ['off', 'swap-half-done']] as const;
const killed = new Map<string, { root: string; run: Promise<ChildResult> }>();

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-write-'));
  child = path.join(work, 'write-child.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'fixtures', 'write-child.ts')], outfile: child, bundle: true, platform: 'node',
    target: 'node20', logLevel: 'error', minifyWhitespace: true,
  });
  for (const [exchange, step] of KILLS) {
    const root = makeRoot();
    killed.set(`${exchange} ${step}`, { root, run: runChild(root, { KCP_FAILPOINT: step, KCP_DIR_EXCHANGE: exchange }) });
  }
});
afterAll(async () => {
  await Promise.allSettled([...killed.values()].map((k) => k.run));
  fs.rmSync(work, { recursive: true, force: true });
});

/** A project root with dist/ = OLD and a state file = STATE_OLD. */
function makeRoot(): string {
  const root = fs.mkdtempSync(path.join(work, 'root-'));
  for (const [file, content] of OLD) {
    fs.mkdirSync(path.dirname(path.join(root, 'dist', file)), { recursive: true });
    fs.writeFileSync(path.join(root, 'dist', file), content);
  }
  fs.mkdirSync(path.join(root, 'environments'));
  fs.writeFileSync(stateFile(root), STATE_OLD);
  return root;
}
const stateFile = (root: string) => path.join(root, 'environments', 'production.release.json');

/** What a test compares: the whole dist/ tree, the state file, and every entry of the root. */
function observe(root: string) {
  const dist = path.join(root, 'dist');
  return {
    dist: fs.existsSync(dist) ? digest(readTree(dist)) : 'missing',
    state: fs.existsSync(stateFile(root)) ? fs.readFileSync(stateFile(root), 'utf8') : 'missing',
    entries: [...fs.readdirSync(root), ...fs.readdirSync(path.join(root, 'environments')).map((e) => `environments/${e}`)].sort(),
  };
}
const CLEAN = ['dist', 'environments', 'environments/production.release.json'];
const BEFORE = { dist: digest(OLD), state: STATE_OLD, entries: CLEAN };
const AFTER = { dist: digest(NEW), state: STATE_NEW, entries: CLEAN };

/** Runs the child; resolves with its exit status or signal and output. */
function runChild(root: string, env: NodeJS.ProcessEnv): Promise<ChildResult> {
  const spec = {
    outdir: path.join(root, 'dist'), folder: path.join(root, 'dist', 'production'), tree: [...NEW_PRODUCTION],
    files: [[stateFile(root), STATE_NEW]],
  };
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, JSON.stringify(spec)], { env: { ...process.env, ...env }, timeout: 15_000 });
    let out = '';
    p.stdout.on('data', (d) => { out += String(d); });
    p.stderr.on('data', (d) => { out += String(d); });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ pid: p.pid!, code, signal, out }));
  });
}

/** Recovers `root` in this process, as the next writer does; returns its notes. */
function recover(root: string): string[] {
  const store = OutputStore.open(path.join(root, 'dist'), { command: 'test recover', waitMs: 1000 });
  store.close();
  return store.notes;
}

const COMMITTED: readonly Step[] = ['committed', 'cleaned'];
/** Commits NEW_PRODUCTION and STATE_NEW to `root` as the release command does. */
function write(root: string, failpoint?: Failpoint): void {
  const store = OutputStore.open(path.join(root, 'dist'), { command: 'test write', failpoint });
  try {
    store.commit({ folder: path.join(root, 'dist', 'production'), tree: NEW_PRODUCTION, files: new Map([[stateFile(root), STATE_NEW]]) });
  } finally {
    store.close();
  }
}

/** Crash images of a write, by mode and step. */
const images = new Map<string, string>();
beforeAll(() => {
  for (const [, exchange] of MODES) {
    const root = makeRoot();
    const found = withExchange(exchange, () => crashImages(root, (failpoint) => write(root, failpoint)));
    for (const [step, image] of found) images.set(`${exchange} ${step}`, image);
    expect(observe(root)).toEqual(AFTER);
  }
});
/** A copy of a crash image, to be changed by a test. */
function imageCopy(exchange: Mode, step: Step): string {
  const copy = fs.mkdtempSync(path.join(work, 'copy-'));
  fs.cpSync(images.get(`${exchange} ${step}`)!, copy, { recursive: true });
  return copy;
}

const NOTE = /^an earlier `test write` \(pid \d+, started [^)]+\) was interrupted before it completed; restored environments\/production.release.json and dist\/production\/ as they were before it$/;

describe('a crash at every step of a write, on both swap paths', () => {
  const CASES = MODES.flatMap(([mode, exchange]) => WRITE_STEPS
    .filter((step) => exchange === 'off' || step !== 'swap-half-done') // (never reached with an exchange)
    .map((step) => [mode, exchange, step] as const));

  test.each(CASES)('%s (KCP_DIR_EXCHANGE=%s), crashed at %s: old or new, then the next writer leaves exactly the old or the new', (_mode, exchange, step) => {
    const root = imageCopy(exchange, step);
    const crashed = observe(root);
    // Right after the crash: dist/ is one whole tree, old or new (dist/production is missing only
    // between the two renames of the fallback), and the state file holds one whole version.
    const withoutProduction = new Map([...OLD].filter(([f]) => !f.startsWith('production/')));
    expect([digest(OLD), digest(NEW), ...(step === 'swap-half-done' ? [digest(withoutProduction)] : [])]).toContain(crashed.dist);
    expect([STATE_OLD, STATE_NEW]).toContain(crashed.state);

    const notes = withExchange(exchange, () => recover(root));
    expect(observe(root)).toEqual(COMMITTED.includes(step) ? AFTER : BEFORE);
    const journaled = WRITE_STEPS.indexOf(step) >= WRITE_STEPS.indexOf('journal-written') && !COMMITTED.includes(step);
    expect(notes).toEqual(journaled ? [expect.stringMatching(NOTE)]
      : step === 'cleaned' ? []
        : [`removed ${step === 'committed' && exchange === 'off' ? '.dist.prev' : '.dist.next'} left by an interrupted write (nothing to undo)`]);
    expect(recover(root)).toEqual([]); // nothing left to do
  });

  test.each(MODES)('%s: a crash at each step of the recovery is completed by the next one', (_mode, exchange) => {
    const root = imageCopy(exchange, 'swapped');
    expect(observe(root)).toMatchObject({ dist: digest(NEW), state: STATE_NEW });
    const found = withExchange(exchange, () => crashImages(root, (failpoint) => {
      OutputStore.open(path.join(root, 'dist'), { command: 'test recover', failpoint }).close();
    }));
    expect([...found.keys()]).toEqual(RECOVERY_STEPS);
    expect(observe(root)).toEqual(BEFORE);
    for (const image of found.values()) {
      expect(observe(image).state).toBe(STATE_OLD);
      expect(withExchange(exchange, () => recover(image))).toEqual([expect.stringMatching(NOTE)]);
      expect(observe(image)).toEqual(BEFORE);
    }
  });

  test.each(KILLS)(
    'a real SIGKILL (KCP_DIR_EXCHANGE=%s) at %s leaves what the crash image shows, and is recovered the same way', async (exchange, step) => {
      const { root, run } = killed.get(`${exchange} ${step}`)!;
      expect(await run).toMatchObject({ signal: 'SIGKILL' });
      expect(observe(root)).toEqual(observe(images.get(`${exchange} ${step}`)!));
      expect(withExchange(exchange, () => recover(root))).toEqual([expect.stringMatching(NOTE)]);
      expect(observe(root)).toEqual(BEFORE);
    });
});

describe('a write failing at every step (an exception, in process) is undone at once', () => {
  test.each(WRITE_STEPS.filter((s) => !COMMITTED.includes(s)))('failing at %s changes nothing', (step) => {
    const root = makeRoot();
    withExchange(step === 'swap-half-done' ? 'off' : 'on', () => {
      const store = OutputStore.open(path.join(root, 'dist'), {
        command: 'test', failpoint: (at) => { if (at === step) throw new InjectedFault(at); },
      });
      try {
        const commit = () => store.commit({
          folder: path.join(root, 'dist', 'production'), tree: NEW_PRODUCTION, files: new Map([[stateFile(root), STATE_NEW]]),
        });
        expect(commit).toThrow(new WriteFailedError(new InjectedFault(step), true, 'dist/production'));
        expect(commit).toThrow(`could not write dist/production: fault injected at step ${step}`);
      } finally {
        store.close();
      }
    });
    expect(observe(root)).toEqual(BEFORE);
  });
});

describe('writeTree', () => {
  test('replaces the folder in one atomic exchange on Linux: the folder never goes missing', () => {
    if (exchangeUnavailable() !== undefined) {
      expect(process.platform).not.toBe('linux'); // CI and developers run Linux: the exchange must work there
      return;
    }
    const root = makeRoot();
    const dist = path.join(root, 'dist');
    const inode = fs.statSync(dist).ino;
    expect(writeTree(dist, new Map(NEW))).toEqual({ tree: NEW, changed: true });
    expect(fs.statSync(dist).ino).not.toBe(inode); // a new folder took its place (the exchange)
    expect(readTree(dist)).toEqual(NEW);
    expect(fs.readdirSync(root).sort()).toEqual(['dist', 'environments']);
  });

  test('exchanges two directories, and says so', () => {
    const a = fs.mkdtempSync(path.join(work, 'a-'));
    const b = fs.mkdtempSync(path.join(work, 'b-'));
    fs.writeFileSync(path.join(a, 'which'), 'a');
    const swapped = exchangeDirs(a, b);
    expect(swapped).toBe(exchangeUnavailable() === undefined);
    expect(fs.existsSync(path.join(b, 'which'))).toBe(swapped);
  });

  test('is refused while another live process holds the lock, naming it; nothing changes', () => {
    const root = makeRoot();
    const lock = scratchPaths(path.join(root, 'dist')).lock;
    // The test runner's parent process is alive and is not us.
    fs.writeFileSync(lock, JSON.stringify({ pid: process.ppid, started: '2030-01-02T03:04:05Z', command: 'release production a stage v2', nonce: 'x' }));
    const waited: string[] = [];
    expect(() => writeTree(path.join(root, 'dist'), new Map(NEW), { waitMs: 100, note: (l) => waited.push(l) }))
      .toThrow(new RegExp(`^another release production a stage v2 is running \\(pid ${process.ppid}, started 2030-01-0\\d \\d\\d:\\d\\d:05\\); try again when it finishes$`));
    expect(waited).toEqual([`waiting for release production a stage v2 (pid ${process.ppid}) to finish`]);
    fs.rmSync(lock);
    expect(observe(root)).toEqual(BEFORE);
  });

  test('takes over a lock left by a process that is gone', async () => {
    const root = makeRoot();
    const lock = scratchPaths(path.join(root, 'dist')).lock;
    const gone = (await killed.get('on swapped')!.run).pid;
    fs.writeFileSync(lock, JSON.stringify({ pid: gone, started: new Date().toISOString(), command: 'synth', nonce: 'x' }));
    expect(writeTree(path.join(root, 'dist'), new Map(NEW), { waitMs: 0 }).changed).toBe(true);
    expect(observe(root)).toEqual({ ...BEFORE, dist: digest(NEW) });
  });

  test('a lock is exclusive within a process too', () => {
    const root = makeRoot();
    const file = scratchPaths(path.join(root, 'dist')).lock;
    const held = acquireLock(file, 'first');
    try {
      expect(() => acquireLock(file, 'second')).toThrow('is already held by this process');
    } finally {
      held.release();
    }
    expect(fs.existsSync(file)).toBe(false);
    expect(LockBusyError.name).toBe('LockBusyError');
  });

  test('refuses to overwrite a state file edited since the interrupted write, and changes nothing', () => {
    // GIVEN a write killed after it replaced the state file, which was then edited by hand
    const root = imageCopy('on', 'file-replaced');
    fs.writeFileSync(stateFile(root), '{ "a": "v3, edited by hand" }\n');
    const seen = observe(root);
    seen.entries = seen.entries.filter((e) => e !== '.dist.lock');
    // THEN recovery refuses, naming the file, and nothing changes
    expect(() => recover(root)).toThrow(new RecoveryError('an earlier `test write` (pid ' + JSON.parse(fs.readFileSync(path.join(root, '.dist.journal'), 'utf8')).pid
      + ') was interrupted, and environments/production.release.json was edited since (it is neither as it was before nor as it was being written). '
      + 'Nothing was changed: check environments/production.release.json and dist/ (git diff), then delete .dist.journal'));
    expect(observe(root)).toEqual(seen);
  });

  test.each([
    ['a journal of the wrong shape', {}, /\.dist\.journal is not readable \(not a journal of this version\)/],
    ['a journal naming the project root', { folder: '' }, /names paths outside dist\/ and its files; not touching them/],
    ['a journal naming a sibling folder', { folder: 'environments' }, /names paths outside dist\/ and its files; not touching them/],
  ])('refuses %s with a clear message, and deletes nothing', (_what, patch, message) => {
    const root = imageCopy('on', 'journal-written');
    const journal = JSON.parse(fs.readFileSync(path.join(root, '.dist.journal'), 'utf8'));
    fs.writeFileSync(path.join(root, '.dist.journal'), JSON.stringify(Object.keys(patch).length === 0 ? patch : { ...journal, ...patch }));
    const seen = observe(root);
    seen.entries = seen.entries.filter((e) => e !== '.dist.lock');
    expect(() => recover(root)).toThrow(RecoveryError);
    expect(() => recover(root)).toThrow(message);
    expect(observe(root)).toEqual(seen);
  });

  test('refuses to undo an interrupted write whose old tree it cannot find, and changes nothing', () => {
    const root = imageCopy('on', 'swapped');
    fs.writeFileSync(path.join(root, 'dist', 'production', '48-deployment-a.yaml'), 'edited by hand\n');
    fs.rmSync(path.join(root, '.dist.next'), { recursive: true });
    const seen = observe(root);
    seen.entries = seen.entries.filter((e) => e !== '.dist.lock'); // the crashed writer's lock, taken over
    expect(() => recover(root)).toThrow(RecoveryError);
    expect(() => recover(root)).toThrow(/^an earlier `test write` \(pid \d+\) was interrupted, and dist\/production as it was before it is neither in place nor in \.dist\.prev or \.dist\.next \(was it edited since\?\)\. Nothing was changed: restore dist\/production and environments\/production\.release\.json with git, then delete \.dist\.journal$/);
    expect(observe(root)).toEqual(seen);
  });
});

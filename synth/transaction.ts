/**
 * All-or-nothing writes of an output folder (`dist/`, or one environment's folder in it) together
 * with files that must change with it (a release state file), safe against a crash or SIGKILL at
 * any point.
 *
 * On disk, beside the output folder `<parent>/dist` (all names git-ignored):
 *
 *   .dist.lock      the lock serializing writers (synth/lock.ts)
 *   .dist.next      the new tree, written in full before anything visible changes
 *   .dist.prev      the previous tree during the fallback swap (below)
 *   .dist.journal   what a write in progress changes: each file's content before and after, and a
 *                   digest of the folder's tree before and after
 *   .<file>.tmp     a file's new content before it is renamed over the file
 *
 * A write: (1) write the new tree to `.dist.next`; (2) write the journal (temp file + rename);
 * (3) replace each file (temp file + rename); (4) swap the folder in; (5) delete the journal —
 * the commit point; (6) delete the old tree. The swap (4) is one atomic `renameat2` exchange of
 * `.dist.next` and the folder where Linux offers it (synth/exchange.ts): the folder never stops
 * existing. Elsewhere it is two renames (folder -> `.dist.prev`, `.dist.next` -> folder), and for
 * the instant between them the folder is missing.
 *
 * Recovery, run by every writer after taking the lock: with no journal, a crash came before (2) or
 * after (5), and leftover scratch folders are deleted (the folder holds the old tree in the first
 * case, the new one in the second). With a journal the write never committed and is undone: every
 * file gets its `before` content back (or is removed if it did not exist) and the folder whose
 * tree digest is `before` is put back in place, wherever the crash left it. Recovery is itself
 * idempotent, so a crash during recovery is recovered by the next run.
 *
 * So after a crash at any point, and once the next writer has run its recovery, the folder and
 * the files are either all as before or all as after, and no scratch entry is left. Before that
 * recovery, the folder itself is always one whole tree, old or new (on the fallback path it may
 * be missing until recovery puts the old one back), and a file may already hold its new content.
 * Power loss is not covered: the new tree's files are not fsynced (that would cost ~75 ms for
 * ~100 files), so after a power cut a file may be empty; the next synth rewrites it.
 *
 * Failpoints: {@link WriteOptions.failpoint}, or `KCP_FAILPOINT=<step>[:throw]` in the
 * environment, interrupts a write at a named step — by SIGKILL of the process, or by an exception
 * — so that tests can prove the above at every step deterministically.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { exchangeDirs } from './exchange';
import { acquireLock, formatTime, Lock, LockOptions } from './lock';

/** Rendered output: relative path to file content (as in synth/output.ts). */
export type Tree = ReadonlyMap<string, string>;

/** The steps at which a write or a recovery can be interrupted, in the order they happen. */
export const WRITE_STEPS = [
  /** Half the new tree is in `.dist.next`. */
  'next-partly-written',
  /** The whole new tree is in `.dist.next`. */
  'next-written',
  /** The journal is in place; nothing visible has changed. */
  'journal-written',
  /** A file's new content is in its temp file. */
  'file-temp-written',
  /** A file has its new content. */
  'file-replaced',
  /** Fallback swap only: the folder has been renamed to `.dist.prev`; no folder. */
  'swap-half-done',
  /** The new tree is in place; the journal still says "uncommitted". */
  'swapped',
  /** The journal is deleted: the write is committed; the old tree is still in a scratch folder. */
  'committed',
  /** Done; the lock is still held. */
  'cleaned',
] as const;

/** Steps of a recovery (of an uncommitted write). */
export const RECOVERY_STEPS = [
  /** The files have their content from before. */
  'recovery-files-restored',
  /** The folder holds the old tree again; the journal still exists. */
  'recovery-folder-restored',
] as const;

export type WriteStep = (typeof WRITE_STEPS)[number];
export type Step = WriteStep | (typeof RECOVERY_STEPS)[number];

/** Called at each step; throwing or killing the process there simulates a crash. */
export type Failpoint = (step: Step) => void;

/** Thrown when a failpoint of the `throw` kind fires. */
export class InjectedFault extends Error {
  constructor(public readonly step: Step) {
    super(`fault injected at step ${step}`);
    this.name = 'InjectedFault';
  }
}

/**
 * A write that could not complete. `restored` says whether everything was put back as before
 * (then nothing changed); if not, the next writer's recovery puts it back.
 */
export class WriteFailedError extends Error {
  constructor(public readonly cause: unknown, public readonly restored: boolean, what: string) {
    super(`could not write ${what}: ${cause instanceof Error ? cause.message : String(cause)}`
      + (restored ? '' : '; the next `npm run synth` or `npm run release` puts everything back as it was before'));
    this.name = 'WriteFailedError';
  }
}

/** Thrown when an interrupted write cannot be undone safely; nothing is changed, the journal is kept. */
export class RecoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecoveryError';
  }
}

/** The failpoint given by `KCP_FAILPOINT=<step>[:throw]` (default action: SIGKILL). */
export function failpointFromEnv(value: string | undefined = process.env.KCP_FAILPOINT): Failpoint | undefined {
  if (value === undefined || value === '') return undefined;
  const [at, how = 'kill'] = value.split(':');
  return (step) => {
    if (step !== at) return;
    if (how === 'throw') throw new InjectedFault(step);
    process.kill(process.pid, 'SIGKILL');
  };
}

/** Names of the scratch entries of an output folder. */
export interface ScratchPaths {
  readonly next: string;
  readonly prev: string;
  readonly journal: string;
  readonly journalTmp: string;
  readonly lock: string;
}

/** Scratch entries of output folder `outdir` (`<parent>/dist` -> `<parent>/.dist.next`, ...). */
export function scratchPaths(outdir: string): ScratchPaths {
  const dir = path.resolve(outdir);
  const at = (suffix: string) => path.join(path.dirname(dir), `.${path.basename(dir).replace(/^\.+/, '')}.${suffix}`);
  return { next: at('next'), prev: at('prev'), journal: at('journal'), journalTmp: at('journal.tmp'), lock: at('lock') };
}

/** Temp file a file's new content is written to before it is renamed over it. */
export function tempFileOf(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
}

/** Writes `content` to `file` atomically: a temp file beside it, renamed over it. */
export function writeFileAtomic(file: string, content: string, failpoint?: Failpoint): void {
  const tmp = tempFileOf(file);
  fs.writeFileSync(tmp, content);
  failpoint?.('file-temp-written');
  fs.renameSync(tmp, file);
}

/** What a write in progress changes, as recorded in the journal. */
interface Journal {
  readonly version: 1;
  readonly pid: number;
  readonly started: string;
  readonly command: string;
  /** The folder replaced, relative to the parent of the output folder. */
  readonly folder: string;
  /** Digest of its tree before (null: it did not exist) and after. */
  readonly before: string | null;
  readonly after: string;
  /** Whether the output folder itself was created by this write (removed again if left empty). */
  readonly createdOutdir: boolean;
  readonly files: readonly { readonly path: string; readonly before: string | null; readonly after: string }[];
}

/** One all-or-nothing change. */
export interface Change {
  /** The folder to replace with {@link tree}: the output folder or a folder below it. @default the output folder */
  readonly folder?: string;
  readonly tree: Tree;
  /** Files replaced together with the folder: absolute path -> new content. */
  readonly files?: ReadonlyMap<string, string>;
  /** The folder's tree now, when the caller has read it already. @default - read */
  readonly current?: Tree;
}

/** Options of {@link OutputStore.open}. */
export interface StoreOptions extends LockOptions {
  /** The command, recorded in the lock and the journal (`synth`, `release production ...`). */
  readonly command: string;
  /** Interrupts at a step (tests). @default from KCP_FAILPOINT */
  readonly failpoint?: Failpoint;
}

/**
 * Exclusive, recovered access to an output folder: {@link open} takes the lock and undoes any
 * interrupted write; {@link commit} changes the folder and files all or nothing; {@link close}
 * releases the lock.
 */
export class OutputStore {
  /** Takes the lock of `outdir` (waiting briefly) and recovers it. @throws LockBusyError, RecoveryError */
  static open(outdir: string, options: StoreOptions): OutputStore {
    // A swap would replace the link itself with a folder and leave its target stale: refuse instead.
    if (fs.lstatSync(outdir, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
      throw new RecoveryError(`${outdir} is a symbolic link: it would be replaced by a folder and its target left as it is; `
        + 'point the output at the real folder instead');
    }
    const scratch = scratchPaths(outdir);
    fs.mkdirSync(path.dirname(scratch.lock), { recursive: true });
    const lock = acquireLock(scratch.lock, options.command, options);
    try {
      const store = new OutputStore(path.resolve(outdir), scratch, lock, options);
      store.recover();
      return store;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** What recovery found and did, one line each (empty when there was nothing to recover). */
  public readonly notes: string[] = [];
  private readonly failpoint: Failpoint;

  private constructor(
    public readonly outdir: string,
    private readonly scratch: ScratchPaths,
    private readonly lock: Lock,
    private readonly options: StoreOptions,
  ) {
    this.failpoint = options.failpoint ?? failpointFromEnv() ?? (() => undefined);
  }

  /** Releases the lock. */
  close(): void {
    this.lock.release();
  }

  /**
   * Replaces `change.folder` with `change.tree` and every file of `change.files`, all or nothing.
   * On an error the change is undone at once where possible.
   * @throws WriteFailedError
   */
  commit(change: Change): void {
    const folder = path.resolve(change.folder ?? this.outdir);
    const relFolder = path.relative(this.parent, folder);
    if (folder !== this.outdir && !folder.startsWith(`${this.outdir}${path.sep}`)) {
      throw new Error(`${folder} is not ${this.outdir} or a folder in it`);
    }
    const files = [...(change.files ?? new Map<string, string>())];
    let journalWritten = false;
    try {
      this.removeScratch();
      writeTreeInto(this.scratch.next, change.tree, () => this.failpoint('next-partly-written'));
      this.failpoint('next-written');
      const createdOutdir = !fs.existsSync(this.outdir);
      const journal: Journal = {
        version: 1,
        pid: process.pid,
        started: new Date().toISOString(),
        command: this.options.command,
        folder: relFolder,
        before: fs.existsSync(folder) ? digest(change.current ?? readTree(folder)) : null,
        after: digest(change.tree),
        createdOutdir,
        files: files.map(([file, after]) => ({
          path: path.relative(this.parent, path.resolve(file)),
          before: fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null,
          after,
        })),
      };
      fs.writeFileSync(this.scratch.journalTmp, `${JSON.stringify(journal, null, 1)}\n`);
      fs.renameSync(this.scratch.journalTmp, this.scratch.journal);
      journalWritten = true;
      this.failpoint('journal-written');
      for (const [file, content] of files) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        writeFileAtomic(file, content, this.failpoint);
        this.failpoint('file-replaced');
      }
      fs.mkdirSync(path.dirname(folder), { recursive: true });
      this.swapIn(folder);
      this.failpoint('swapped');
      fs.unlinkSync(this.scratch.journal); // the commit point
    } catch (e) {
      if (!journalWritten) {
        try {
          this.removeScratch();
        } catch {
          // left for the next writer's recovery
        }
        throw new WriteFailedError(e, true, relFolder);
      }
      let restored = false;
      try {
        restored = this.recover();
      } catch {
        restored = false;
      }
      throw new WriteFailedError(e, restored, relFolder);
    }
    // Committed. A failure from here on leaves only scratch entries, which the next writer removes.
    try {
      this.failpoint('committed');
      this.removeScratch();
      this.failpoint('cleaned');
    } catch {
      // (see above)
    }
  }

  private get parent(): string {
    return path.dirname(this.outdir);
  }

  /** Puts `.next` in place of `folder`: one exchange where possible, else two renames. */
  private swapIn(folder: string): void {
    if (!fs.existsSync(folder)) {
      fs.renameSync(this.scratch.next, folder);
      return;
    }
    if (exchangeDirs(this.scratch.next, folder)) return; // `.next` now holds the old tree
    fs.renameSync(folder, this.scratch.prev);
    this.failpoint('swap-half-done');
    fs.renameSync(this.scratch.next, folder);
  }

  private removeScratch(): void {
    for (const p of [this.scratch.next, this.scratch.prev, this.scratch.journalTmp]) fs.rmSync(p, { recursive: true, force: true });
    for (const file of this.journalFiles()) fs.rmSync(tempFileOf(file), { force: true });
  }

  /** Files named by the journal, if there is one (to clean their temp files). */
  private journalFiles(): string[] {
    const journal = this.readJournal();
    return journal === undefined ? [] : journal.files.map((f) => path.resolve(this.parent, f.path));
  }

  private readJournal(): Journal | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.scratch.journal, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const unreadable = (why: string) => new RecoveryError(`${this.scratch.journal} is not readable (${why}); `
      + 'an earlier write was interrupted and cannot be undone automatically: restore the release state files and dist/ with git, then delete it');
    let journal: unknown;
    try {
      journal = JSON.parse(text);
    } catch (e) {
      throw unreadable((e as Error).message);
    }
    if (!isJournal(journal)) throw unreadable('not a journal of this version');
    return journal;
  }

  /**
   * Undoes an uncommitted write (journal present) or deletes a committed write's leftovers.
   * Returns true when the output is consistent afterwards.
   */
  private recover(): boolean {
    const journal = this.readJournal();
    if (journal === undefined) {
      const leftovers = [this.scratch.next, this.scratch.prev, this.scratch.journalTmp].filter((p) => fs.existsSync(p));
      if (leftovers.length > 0) {
        this.removeScratch();
        this.notes.push(`removed ${leftovers.map((p) => path.basename(p)).join(', ')} left by an interrupted write (nothing to undo)`);
      }
      return true;
    }
    // A journal only ever names the output folder (or one below it) and files below its parent.
    const folder = path.resolve(this.parent, journal.folder);
    const below = (p: string, dir: string) => p.startsWith(`${dir}${path.sep}`);
    const files = journal.files.map((f) => ({ ...f, abs: path.resolve(this.parent, f.path) }));
    if (!(folder === this.outdir || below(folder, this.outdir)) || files.some((f) => !below(f.abs, this.parent) || below(this.outdir, f.abs))) {
      throw new RecoveryError(`${this.scratch.journal} names paths outside ${path.basename(this.outdir)}/ and its files; not touching them: `
        + 'delete it after checking dist/');
    }
    // A file edited since the interrupted write (neither its content before nor after it) is not
    // overwritten: the edit may be the fix. Checked, like the old tree, before anything is touched.
    for (const f of files) {
      const now = fs.existsSync(f.abs) ? fs.readFileSync(f.abs, 'utf8') : null;
      if (now !== f.before && now !== f.after) {
        throw new RecoveryError(`an earlier \`${journal.command}\` (pid ${journal.pid}) was interrupted, and ${f.path} was edited since `
          + `(it is neither as it was before nor as it was being written). Nothing was changed: check ${f.path} and dist/ `
          + `(git diff), then delete ${path.basename(this.scratch.journal)}`);
      }
    }
    // Find the old tree before touching anything, so that nothing is changed when it cannot be.
    const source = this.locateOldTree(folder, journal);
    for (const f of files) {
      if (f.before === null) fs.rmSync(f.abs, { force: true });
      else if (!fs.existsSync(f.abs) || fs.readFileSync(f.abs, 'utf8') !== f.before) writeFileAtomic(f.abs, f.before);
      fs.rmSync(tempFileOf(f.abs), { force: true });
    }
    this.failpoint('recovery-files-restored');
    if (source !== undefined && source !== folder) {
      if (fs.existsSync(folder)) {
        if (!exchangeDirs(source, folder)) {
          fs.rmSync(this.scratch.journalTmp, { force: true });
          const aside = source === this.scratch.next ? this.scratch.prev : this.scratch.next;
          fs.rmSync(aside, { recursive: true, force: true });
          fs.renameSync(folder, aside);
          fs.renameSync(source, folder);
        }
      } else {
        fs.renameSync(source, folder);
      }
    } else if (source === undefined && fs.existsSync(folder)) {
      fs.rmSync(folder, { recursive: true, force: true }); // it did not exist before the write
    }
    if (journal.createdOutdir && fs.existsSync(this.outdir) && fs.readdirSync(this.outdir).length === 0) fs.rmdirSync(this.outdir);
    this.failpoint('recovery-folder-restored');
    fs.unlinkSync(this.scratch.journal);
    for (const p of [this.scratch.next, this.scratch.prev, this.scratch.journalTmp]) fs.rmSync(p, { recursive: true, force: true });
    const what = [...files.map((f) => f.path), `${journal.folder}/`];
    this.notes.push(`an earlier \`${journal.command}\` (pid ${journal.pid}, started ${formatTime(journal.started)}) was interrupted `
      + `before it completed; restored ${what.join(' and ')} as ${what.length === 1 ? 'it was' : 'they were'} before it`);
    return true;
  }

  /**
   * Where the folder's tree from before the journaled write is now: the folder itself, `.next`
   * (after an exchange) or `.prev` (after the fallback's first rename); undefined when the folder
   * did not exist before. @throws RecoveryError when no folder holds it.
   */
  private locateOldTree(folder: string, journal: Journal): string | undefined {
    if (journal.before === null) return undefined;
    for (const candidate of [folder, this.scratch.prev, this.scratch.next]) {
      if (fs.existsSync(candidate) && digest(readTree(candidate)) === journal.before) return candidate;
    }
    throw new RecoveryError(`an earlier \`${journal.command}\` (pid ${journal.pid}) was interrupted, and ${journal.folder} as it was `
      + `before it is neither in place nor in ${path.basename(this.scratch.prev)} or ${path.basename(this.scratch.next)} (was it edited since?). `
      + `Nothing was changed: restore ${journal.folder} and ${journal.files.map((f) => f.path).join(', ') || 'the release state'} `
      + `with git, then delete ${path.basename(this.scratch.journal)}`);
  }
}

/** Whether `value` has the shape of a {@link Journal} (a journal may be truncated or edited by hand). */
function isJournal(value: unknown): value is Journal {
  const j = value as { [k: string]: unknown } | null;
  const digestOrNull = (v: unknown) => v === null || typeof v === 'string';
  return j !== null && typeof j === 'object' && j.version === 1 && typeof j.pid === 'number' && typeof j.started === 'string'
    && typeof j.command === 'string' && typeof j.folder === 'string' && digestOrNull(j.before) && typeof j.after === 'string'
    && typeof j.createdOutdir === 'boolean' && Array.isArray(j.files)
    && j.files.every((f: unknown) => {
      const file = f as { [k: string]: unknown } | null;
      return file !== null && typeof file === 'object' && typeof file.path === 'string' && digestOrNull(file.before) && typeof file.after === 'string';
    });
}

/** Reads every file below `dir` into a tree (empty when `dir` does not exist). */
export function readTree(dir: string): Map<string, string> {
  const tree = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(relPath);
      else tree.set(relPath, fs.readFileSync(path.join(dir, relPath), 'utf8'));
    }
  };
  if (fs.existsSync(dir)) walk('');
  return tree;
}

/** A digest of a tree's paths and contents, independent of order. */
export function digest(tree: Tree): string {
  const hash = createHash('sha256');
  for (const file of [...tree.keys()].sort()) hash.update(`${file}\0${tree.get(file)}\0`);
  return hash.digest('hex');
}

/** Writes `tree` into a new folder `dir`; `halfway` is called once half the files are written. */
function writeTreeInto(dir: string, tree: Tree, halfway: () => void): void {
  fs.mkdirSync(dir, { recursive: true });
  let written = 0;
  for (const [file, content] of tree) {
    const abs = path.join(dir, file);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
    if (++written === Math.ceil(tree.size / 2)) halfway();
  }
  if (tree.size === 0) halfway();
}

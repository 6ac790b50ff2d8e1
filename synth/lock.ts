/**
 * An exclusive lock file serializing the commands that write `dist/` and the release state files
 * (`npm run synth`, `npm run release`): a second command waits briefly for the first, then refuses
 * with a message naming it.
 *
 * The lock is a file created exclusively (`O_CREAT | O_EXCL`) holding the holder's pid, its start
 * time and its command. A lock whose holder is gone (killed, crashed) is stale and taken over: the
 * holder is gone when its pid is not running, when the pid runs a process started at another time
 * (a reused pid, compared through /proc where there is one), or when the pid is our own (a lock
 * left by an earlier process that had our pid, as happens in containers).
 */
import * as fs from 'fs';
import * as path from 'path';

/** Who holds a lock, as recorded in the lock file. */
export interface LockHolder {
  readonly pid: number;
  /** ISO time the lock was taken. */
  readonly started: string;
  /** The holder's command, e.g. `release production knowledge-service stage v1.1.0`. */
  readonly command: string;
  /** Kernel start time of the holder process (Linux), to tell a reused pid from the holder. */
  readonly processStart?: string;
  /** Distinguishes two locks taken by processes with the same pid. */
  readonly nonce: string;
}

/** Thrown when another live process holds the lock after the wait; nothing was changed. */
export class LockBusyError extends Error {
  constructor(public readonly holder: LockHolder | undefined, public readonly file: string) {
    super(holder === undefined
      ? `another command is writing (lock ${file} is being created); try again when it finishes`
      : `another ${holder.command} is running (pid ${holder.pid}, started ${formatTime(holder.started)}); try again when it finishes`);
    this.name = 'LockBusyError';
  }
}

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /** How long to wait for a live holder before giving up. @default 10000 */
  readonly waitMs?: number;
  /** Called once when the lock is held by another live process and we start waiting. */
  readonly onWait?: (holder: LockHolder) => void;
}

/** A held lock. */
export interface Lock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

/** A lock file whose content cannot be parsed is taken to be mid-creation for this long, then stale. */
const UNREADABLE_GRACE_MS = 5_000;
const POLL_MS = 25;
/** Test hook: a pause between judging a lock stale and breaking it (`KCP_LOCK_BREAK_PAUSE_MS`). @default 0 */
const BREAK_PAUSE_MS = Number(process.env.KCP_LOCK_BREAK_PAUSE_MS ?? 0) || 0;

/**
 * Takes the lock `file` for `command`, waiting up to `waitMs` for a live holder.
 * @throws LockBusyError when another live process still holds it.
 */
export function acquireLock(file: string, command: string, options: LockOptions = {}): Lock {
  const waitMs = options.waitMs ?? 10_000;
  const deadline = Date.now() + waitMs;
  const holder: LockHolder = {
    pid: process.pid,
    started: new Date().toISOString(),
    command,
    processStart: processStartTime(process.pid),
    nonce: `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  };
  const text = `${JSON.stringify(holder)}\n`;
  const key = path.resolve(file);
  if (heldHere.has(key)) throw new Error(`${file} is already held by this process (a lock is taken once per command)`);
  let waited = false;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx');
      try {
        fs.writeSync(fd, text);
      } finally {
        fs.closeSync(fd);
      }
      heldHere.add(key);
      return lockOf(file, key, holder, text);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const seen = readLock(file);
    if (seen === undefined) continue; // removed meanwhile: try again at once
    if (isStale(seen.holder, seen.ageMs)) {
      breakStaleLock(file, seen.text);
      continue;
    }
    if (Date.now() >= deadline) throw new LockBusyError(seen.holder, file);
    if (!waited && seen.holder !== undefined) options.onWait?.(seen.holder);
    waited = true;
    sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
  }
}

/** Runs `fn` holding the lock `file`; the lock is released however `fn` ends. */
export function withLock<T>(file: string, command: string, options: LockOptions, fn: (lock: Lock) => T): T {
  const lock = acquireLock(file, command, options);
  try {
    return fn(lock);
  } finally {
    lock.release();
  }
}

/** Who holds `file` now, if anyone (a stale holder included). */
export function lockHolder(file: string): LockHolder | undefined {
  return readLock(file)?.holder;
}

/** Locks this process holds (absolute paths): taking one twice would break it as stale. */
const heldHere = new Set<string>();

function lockOf(file: string, key: string, holder: LockHolder, text: string): Lock {
  let held = true;
  return {
    file,
    holder,
    release() {
      if (!held) return;
      held = false;
      heldHere.delete(key);
      try {
        if (fs.readFileSync(file, 'utf8') === text) fs.unlinkSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    },
  };
}

function readLock(file: string): { text: string; holder: LockHolder | undefined; ageMs: number } | undefined {
  let text: string;
  let ageMs: number;
  try {
    ageMs = Date.now() - fs.statSync(file).mtimeMs;
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let holder: LockHolder | undefined;
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0) {
      holder = {
        pid: parsed.pid,
        started: String(parsed.started ?? ''),
        command: String(parsed.command ?? 'command'),
        processStart: typeof parsed.processStart === 'string' ? parsed.processStart : undefined,
        nonce: String(parsed.nonce ?? ''),
      };
    }
  } catch {
    holder = undefined;
  }
  return { text, holder, ageMs };
}

/** Whether the recorded holder is gone. */
function isStale(holder: LockHolder | undefined, ageMs: number): boolean {
  if (holder === undefined) return ageMs > UNREADABLE_GRACE_MS; // written between create and write, or garbage
  if (holder.pid === process.pid) return true; // we are not holding it: an earlier process had our pid
  if (!isRunning(holder.pid)) return true;
  const start = processStartTime(holder.pid);
  return holder.processStart !== undefined && start !== undefined && start !== holder.processStart;
}

/** Whether a process with this pid exists (one we may not signal counts as existing). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), where /proc exists. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall; fields[0] is field 3
  } catch {
    return undefined;
  }
}

/**
 * Removes a stale lock without ever removing a fresh one. Only the holder of `<lock>.break`
 * (created exclusively) may remove the lock, and only while it still holds exactly the stale text
 * judged: the lock file is never missing while live processes compete for it (moving it aside and
 * back would open a gap in which a third process takes it). A breaker killed mid-way leaves its
 * `.break` file, which is removed once its process is gone.
 */
function breakStaleLock(file: string, staleText: string): void {
  sleep(BREAK_PAUSE_MS); // (tests widen the window between judging the lock stale and breaking it)
  const breaker = `${file}.break`;
  let fd: number;
  try {
    fd = fs.openSync(breaker, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    removeDeadBreaker(breaker);
    return; // another process is breaking it: try the lock again
  }
  try {
    fs.writeSync(fd, `${process.pid}\n`);
    fs.closeSync(fd);
    if (fs.readFileSync(file, 'utf8') === staleText) fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

/** Removes `<lock>.break` when the process that created it is gone (it was killed while breaking). */
function removeDeadBreaker(breaker: string): void {
  try {
    const pid = Number(fs.readFileSync(breaker, 'utf8').trim());
    const ageMs = Date.now() - fs.statSync(breaker).mtimeMs;
    if ((Number.isInteger(pid) && pid > 0 && !isRunning(pid)) || (!(pid > 0) && ageMs > UNREADABLE_GRACE_MS)) fs.rmSync(breaker, { force: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** `2030-01-02 03:04:05` in local time, for messages. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return 'at an unknown time';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

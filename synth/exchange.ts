/**
 * Atomic exchange of two directories: Linux's `renameat2(…, RENAME_EXCHANGE)` swaps two paths in
 * one step, so neither path is ever missing. Node 20 has no binding for it (libuv's rename has no
 * flags) and an addon would need a compiler on every machine, so it is called through Perl's
 * `syscall`, which is on every Linux machine this project runs on (Debian's perl-base is
 * essential; git needs Perl too) and starts in a few milliseconds.
 *
 * Where it cannot work — not Linux, an architecture whose syscall number is not listed here, no
 * perl, a kernel older than 3.15 or a filesystem without exchange (e.g. NFS) — {@link exchangeDirs}
 * returns false having changed nothing, and the caller falls back to two renames with a journal
 * (synth/transaction.ts). Whether the swap happened is decided by comparing inode numbers before
 * and after, not by trusting the helper's exit status.
 *
 * `KCP_DIR_EXCHANGE=off` disables it (tests use it to exercise the fallback).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';

/**
 * `__NR_renameat2` by Node's `process.arch`, from the kernel's syscall tables (x86_64: 316,
 * i386: 353; arm64, riscv64 and loong64 use the generic table: 276). Architectures not listed use
 * the fallback rather than risk a wrong number.
 */
const RENAMEAT2: { readonly [arch: string]: number } = { x64: 316, ia32: 353, arm64: 276, riscv64: 276, loong64: 276 };
const AT_FDCWD = -100;
const RENAME_EXCHANGE = 2;

/** Exits 0 when swapped; otherwise prints the errno text and exits 3. Paths are passed as strings (pointers). */
const SCRIPT = `my $r = syscall(${'$'}ARGV[0], ${AT_FDCWD}, ${'$'}ARGV[1], ${AT_FDCWD}, ${'$'}ARGV[2], ${RENAME_EXCHANGE});`
  + ` if ($r == 0) { exit 0 } print STDERR "$!\\n"; exit 3;`;

let unavailable: string | undefined;

/** Why exchange is not used here, or undefined when it may be. */
export function exchangeUnavailable(): string | undefined {
  if (process.env.KCP_DIR_EXCHANGE === 'off') return 'disabled by KCP_DIR_EXCHANGE=off';
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (RENAMEAT2[process.arch] === undefined) return `no renameat2 syscall number known for ${process.arch}`;
  return unavailable;
}

/**
 * Swaps directories `a` and `b` (both must exist) in one atomic step. Returns true when swapped,
 * false when this platform cannot (then nothing changed).
 * @throws Error when the swap cannot be established either way (neither swapped nor untouched).
 */
export function exchangeDirs(a: string, b: string): boolean {
  if (exchangeUnavailable() !== undefined) return false;
  const inodeA = fs.statSync(a, { bigint: true }).ino;
  const inodeB = fs.statSync(b, { bigint: true }).ino;
  const result = spawnSync('perl', ['-e', SCRIPT, String(RENAMEAT2[process.arch]), a, b], {
    stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 10_000,
  });
  const nowA = fs.statSync(a, { bigint: true }).ino;
  const nowB = fs.statSync(b, { bigint: true }).ino;
  if (nowA === inodeB && nowB === inodeA) return true;
  if (nowA === inodeA && nowB === inodeB) {
    // Not swapped: remember why, so that later calls go straight to the fallback.
    unavailable = result.error !== undefined
      ? `perl could not run (${result.error.message})`
      : `renameat2 failed: ${(result.stderr ?? '').trim() || `exit ${result.status ?? result.signal}`}`;
    return false;
  }
  throw new Error(`exchanging ${a} and ${b} left neither the old nor the swapped directories in place`);
}

/**
 * Reads the committed `dist/` of a git revision without checking it out: one `git ls-tree` for the
 * file list and one `git cat-file --batch` for every blob.
 */
import { execFileSync } from 'child_process';

/** A git command failed; the message says which and why. */
export class GitError extends Error {}

function git(root: string, args: readonly string[], input?: string): Buffer {
  try {
    return execFileSync('git', args, { cwd: root, input, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const why = err.stderr?.toString().trim().split('\n')[0] || err.message;
    throw new GitError(`git ${args.join(' ')}: ${why}`);
  }
}

/** The full commit id of `ref`. @throws GitError when it names no commit. */
export function resolveCommit(root: string, ref: string): string {
  const fail = () => new GitError(`${JSON.stringify(ref)} names no commit of this repository (a branch, tag or commit id; CI: $CI_MERGE_REQUEST_DIFF_BASE_SHA)`);
  if (ref.startsWith('-')) throw fail();
  try {
    return git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]).toString().trim();
  } catch (e) {
    if (e instanceof GitError) throw fail();
    throw e;
  }
}

/**
 * The default branch: origin's HEAD when known, else `main` or `master`, whichever exists locally
 * (or as origin's). @throws GitError when none is found.
 */
export function defaultBranch(root: string): string {
  try {
    return git(root, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD']).toString().trim();
  } catch {
    for (const candidate of ['main', 'master', 'origin/main', 'origin/master']) {
      try {
        resolveCommit(root, candidate);
        return candidate;
      } catch { /* try the next */ }
    }
  }
  throw new GitError('cannot tell the default branch (no origin/HEAD, main or master); name the base: npm run review -- <base-ref>');
}

/** The merge base of HEAD and `ref`. */
export function mergeBase(root: string, ref: string): string {
  return git(root, ['merge-base', 'HEAD', ref]).toString().trim();
}

/**
 * Files below `folder` at `commit`, as a tree of paths relative to `folder` -> content, keeping
 * only the names `keep` accepts. Empty when the commit has no such folder.
 */
export function readTreeAt(root: string, commit: string, folder: string, keep: (file: string) => boolean): Map<string, string> {
  const listing = git(root, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', folder]).toString();
  const entries = listing.split('\0').filter((l) => l !== '').map((l) => {
    const tab = l.indexOf('\t');
    const [, type, sha] = l.slice(0, tab).split(' ');
    return { type, sha, path: l.slice(tab + 1) };
  }).filter((e) => e.type === 'blob' && keep(e.path));
  const tree = new Map<string, string>();
  if (entries.length === 0) return tree;
  const out = git(root, ['cat-file', '--batch'], `${entries.map((e) => e.sha).join('\n')}\n`);
  let pos = 0;
  for (const entry of entries) {
    const headerEnd = out.indexOf(10, pos);
    const size = Number(out.subarray(pos, headerEnd).toString().split(' ')[2]);
    tree.set(entry.path.slice(folder.length + 1), out.subarray(headerEnd + 1, headerEnd + 1 + size).toString('utf8'));
    pos = headerEnd + 1 + size + 1;
  }
  return tree;
}

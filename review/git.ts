/**
 * Reads the committed `dist/` of a git revision without checking it out, with one `git archive`.
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
  // one call: which of the candidates exist, and where origin/HEAD points
  const refs = git(root, ['for-each-ref', '--format=%(refname) %(symref:short)',
    'refs/remotes/origin/HEAD', 'refs/heads/main', 'refs/heads/master', 'refs/remotes/origin/main', 'refs/remotes/origin/master'])
    .toString().split('\n').filter((l) => l !== '').map((l) => l.split(' '));
  const originHead = refs.find(([name]) => name === 'refs/remotes/origin/HEAD')?.[1];
  if (originHead !== undefined && originHead !== '') return originHead;
  for (const candidate of ['refs/heads/main', 'refs/heads/master', 'refs/remotes/origin/main', 'refs/remotes/origin/master']) {
    if (refs.some(([name]) => name === candidate)) return candidate.replace(/^refs\/(heads|remotes)\//, '');
  }
  throw new GitError('cannot tell the default branch (no origin/HEAD, main or master); name the base: npm run review -- <base-ref>');
}

/** The merge base of HEAD and `ref`. */
export function mergeBase(root: string, ref: string): string {
  return git(root, ['merge-base', 'HEAD', ref]).toString().trim();
}

/** A tree read from git: the commit it was read from, and its files (relative path -> content). */
export interface CommittedTree {
  readonly commit: string;
  readonly files: Map<string, string>;
}

/** Reads a tar stream (ustar with pax headers, as `git archive` writes it): path -> content, and the global comment. */
function untar(tar: Buffer): { files: Map<string, Buffer>; comment?: string } {
  const files = new Map<string, Buffer>();
  let comment: string | undefined;
  let longPath: string | undefined;
  const text = (from: number, length: number) => tar.subarray(from, from + length).toString('utf8').replace(/\0.*$/s, '');
  const pax = (data: Buffer) => Object.fromEntries(data.toString('utf8').split('\n').filter((r) => r !== '')
    .map((r) => r.slice(r.indexOf(' ') + 1)).map((r) => [r.slice(0, r.indexOf('=')), r.slice(r.indexOf('=') + 1)]));
  for (let pos = 0; pos + 512 <= tar.length;) {
    if (tar[pos] === 0) break; // the end-of-archive blocks
    const size = Number.parseInt(text(pos + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(tar[pos + 156]);
    const data = tar.subarray(pos + 512, pos + 512 + size);
    const prefix = text(pos + 345, 155);
    const name = longPath ?? (prefix === '' ? text(pos, 100) : `${prefix}/${text(pos, 100)}`);
    if (type === 'g') comment = pax(data).comment;
    else if (type === 'x') longPath = pax(data).path;
    else {
      if (type === '0' || type === '\0') files.set(name, Buffer.from(data));
      longPath = undefined;
    }
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return { files, comment };
}

/**
 * The files below `folder` at revision `ref` (paths relative to `folder`) that `keep` accepts, read
 * with one `git archive` (no checkout). A revision without the folder gives no files.
 * @throws GitError when `ref` names no commit.
 */
export function readTreeAt(root: string, ref: string, folder: string, keep: (file: string) => boolean): CommittedTree {
  if (ref.startsWith('-')) resolveCommit(root, ref);
  let tar: Buffer;
  try {
    tar = git(root, ['archive', '--format=tar', ref, '--', folder]);
  } catch (e) {
    if (!(e instanceof GitError) || !e.message.includes('did not match any files')) {
      resolveCommit(root, ref); // says what is wrong with the revision; else the archive's own error stands
      throw e;
    }
    return { commit: resolveCommit(root, ref), files: new Map() };
  }
  const { files, comment } = untar(tar);
  const tree = new Map<string, string>();
  for (const [name, content] of files) {
    const relative = name.slice(folder.length + 1);
    if (keep(relative)) tree.set(relative, content.toString('utf8'));
  }
  return { commit: comment !== undefined && /^[0-9a-f]{40,64}$/.test(comment) ? comment : resolveCommit(root, ref), files: tree };
}

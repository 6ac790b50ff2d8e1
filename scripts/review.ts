/**
 * `npm run review -- [<base-ref>] [options]`: what the change to `dist/` since `<base-ref>` does in
 * each environment, in plain words, blocking and risky lines first. Compares the committed `dist/`
 * of the base (read from git, no checkout) with the working tree's `dist/`.
 *
 *   npm run review                                  (base: the merge base of HEAD and the default branch)
 *   npm run review -- main --format json
 *   npm run review -- "$CI_MERGE_REQUEST_DIFF_BASE_SHA" --write-markdown review.md --write-json review.json --fail-on blocking
 *
 * Exit status: 0; 1 when a line carries a label named by --fail-on; 2 when the command cannot run
 * (bad arguments, unknown revision, unreadable manifests).
 */
import * as fs from 'fs';
import * as path from 'path';
import { readManifestTree } from '../validate/load';
import { formatJson, formatMarkdown } from '../review/format';
import { defaultBranch, GitError, mergeBase, readTreeAt } from '../review/git';
import { Review, RISK_LABEL_MEANINGS, RISK_LABELS, RiskLabel, reviewObjects } from '../review';
import { plainLine } from '../review/model';
import { readEnvironments } from '../review/read';

/** The project root (this file runs from scripts/ in tests and from .build/ when bundled). */
const ROOT = path.resolve(__dirname, '..');

const USAGE = `usage: npm run review -- [<base-ref>] [--format markdown|json] [--write-markdown <file>] [--write-json <file>] [--fail-on <label,...>]
  Compares dist/ at <base-ref> (default: the merge base of HEAD and the default branch) with the working tree's dist/.
  labels: ${RISK_LABELS.join(', ')}`;

/** Where the command reads and writes; tests point it at a scratch repository. */
export interface ReviewCommandContext {
  /** Repository root holding `dist/`. @default the project root */
  readonly root?: string;
  readonly out?: (text: string) => void;
  readonly err?: (line: string) => void;
}

interface Options {
  readonly base?: string;
  readonly format: 'markdown' | 'json';
  readonly writeMarkdown?: string;
  readonly writeJson?: string;
  readonly failOn: readonly RiskLabel[];
}

/** A usage error; its message is printed with the usage. */
class UsageError extends Error {}

function parseArgs(args: readonly string[]): Options {
  let base: string | undefined;
  let format: Options['format'] = 'markdown';
  let writeMarkdown: string | undefined;
  let writeJson: string | undefined;
  let failOn: RiskLabel[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--format') {
      const f = value();
      if (f !== 'markdown' && f !== 'json') throw new UsageError(`--format must be markdown or json, got ${JSON.stringify(f)}`);
      format = f;
    } else if (arg === '--write-markdown') writeMarkdown = value();
    else if (arg === '--write-json') writeJson = value();
    else if (arg === '--fail-on') {
      failOn = value().split(',').map((l) => l.trim()).filter((l) => l !== '') as RiskLabel[];
      const unknown = failOn.filter((l) => !RISK_LABELS.includes(l));
      if (unknown.length > 0) throw new UsageError(`--fail-on: unknown label ${unknown.map((l) => JSON.stringify(l)).join(', ')}; known: ${RISK_LABELS.join(', ')}`);
    } else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else if (base === undefined) base = arg;
    else throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (one base revision at most)`);
  }
  return { base, format, writeMarkdown, writeJson, failOn };
}

const isManifest = (file: string) => /\.ya?ml$/i.test(file);

/** Builds the review of `dist/` since `base` (default: the merge base with the default branch). */
export function buildReview(root: string, base?: string): Review {
  let ref = base;
  let why = '';
  if (ref === undefined) {
    const branch = defaultBranch(root);
    ref = mergeBase(root, branch);
    why = ` (the merge base of HEAD and ${branch})`;
  }
  const { commit, files: baseTree } = readTreeAt(root, ref, 'dist', isManifest);
  const shown = base === undefined || commit.startsWith(base) ? commit.slice(0, 12) : `${base}, ${commit.slice(0, 12)}`;
  const headTree = readManifestTree(path.join(root, 'dist'));
  const cache = new Map();
  return reviewObjects(readEnvironments(baseTree, `dist/ at ${shown}`, cache), readEnvironments(headTree, 'dist/', cache),
    { base: `\`dist/\` at ${shown}${why}`, head: 'the working tree\'s `dist/`' });
}

/** Runs the command; returns the exit status. */
export function review(args: readonly string[], ctx: ReviewCommandContext = {}): number {
  const root = ctx.root ?? ROOT;
  const out = ctx.out ?? ((t: string) => process.stdout.write(t));
  const err = ctx.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  let options: Options;
  let result: Review;
  try {
    options = parseArgs(args);
    result = buildReview(root, options.base);
  } catch (e) {
    if (e instanceof UsageError) { err(`review: ${e.message}\n${USAGE}`); return 2; }
    // git's refusals (GitError) and unreadable manifests: the reason, never a stack trace
    if (e instanceof GitError || e instanceof Error) { err(`review: ${e.message}`); return 2; }
    throw e;
  }
  const markdown = formatMarkdown(result);
  const json = formatJson(result);
  if (options.writeMarkdown !== undefined) fs.writeFileSync(path.resolve(root, options.writeMarkdown), markdown);
  if (options.writeJson !== undefined) fs.writeFileSync(path.resolve(root, options.writeJson), json);
  out(options.format === 'json' ? json : markdown);
  const failing = result.environments.flatMap((e) => e.lines).filter((l) => l.labels.some((x) => options.failOn.includes(x)));
  if (failing.length === 0) return 0;
  err(`review: ${failing.length} line${failing.length === 1 ? '' : 's'} labelled ${options.failOn.join(' or ')} (--fail-on):`);
  for (const line of failing) err(`  [${line.labels.join(', ')}] ${plainLine(line)}`);
  for (const label of new Set(failing.flatMap((l) => l.labels).filter((l) => options.failOn.includes(l)))) err(`  ${label}: ${RISK_LABEL_MEANINGS[label]}`);
  return 1;
}

/** Entry point of `npm run review`. */
export function main(args: string[]): number {
  return review(args);
}

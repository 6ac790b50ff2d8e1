/**
 * The review engine: what a change to the synthesized manifests does, per environment, in plain
 * words with risk labels. One implementation serves `npm run review` (a merge request's report) and
 * `npm run release` (the lines it prints after each step).
 *
 *   reviewEnvironment('production', before, after).lines   // blocking and risky first
 *   reviewObjects(baseByEnvironment, headByEnvironment)     // every environment of both sides
 */
import { DiffContext } from './context';
import { coveredByExposure, exposureLines } from './exposure';
import { alertLines, blockingLines, capacityLines, fallbackLine, imageLines, objectLines, secretLines, trafficLines } from './lines';
import { rolloutReviewLines } from './rollouts';
import {
  EnvironmentReview, Manifest, ObjectChange, rankOf, Review, ReviewLine, TOPICS,
} from './model';
import { fieldChanges, keyOf, secretRedaction } from './objects';

export * from './model';
export { formatJson, formatMarkdown, formatPlain } from './format';

/** Lines in report order: most urgent label first, then topic, then the order the builders gave. */
function sortLines(lines: readonly ReviewLine[]): ReviewLine[] {
  const topic = (l: ReviewLine) => TOPICS.findIndex(([t]) => t === l.topic);
  return lines.map((line, index) => ({ line, index }))
    .sort((a, b) => rankOf(a.line.labels) - rankOf(b.line.labels) || topic(a.line) - topic(b.line) || a.index - b.index)
    .map(({ line }) => line);
}

/**
 * Reviews one environment: `before` is undefined for an environment that did not exist. Objects are
 * keyed by group/kind/namespace/name; each added, removed or changed one is listed with a
 * field-level summary, and the lines say what the change does.
 */
export function reviewEnvironment(environment: string, before: readonly Manifest[] | undefined, after: readonly Manifest[]): EnvironmentReview {
  const ctx = new DiffContext(environment, before, after);
  const semantic = [
    ...blockingLines(ctx), ...trafficLines(ctx), ...imageLines(ctx), ...capacityLines(ctx), ...exposureLines(ctx),
    ...alertLines(ctx), ...secretLines(ctx), ...objectLines(ctx), ...rolloutReviewLines(ctx),
  ];
  const objects: ObjectChange[] = [];
  const covered = new Set(semantic.map((l) => l.object).filter((o): o is string => o !== undefined));
  const fallback: ReviewLine[] = [];
  for (const pair of ctx.changed) {
    const fields = fieldChanges(pair.before, pair.after, secretRedaction(pair.after));
    objects.push({ key: pair.key, change: 'changed', fields });
    if (!covered.has(pair.key.id) && !coveredByExposure(pair.after)) {
      fallback.push(fallbackLine(ctx, pair, fields.map((f) => (f.change === 'changed' ? `${f.path} ${f.before} -> ${f.after}` : `${f.path} ${f.change}`))));
    }
  }
  const renamedFrom = new Map([...ctx.renames].map(([from, to]) => [to, from]));
  const nameOf = (id: string) => id.slice(id.lastIndexOf('/') + 1);
  for (const o of ctx.added) {
    const from = renamedFrom.get(keyOf(o).id);
    objects.push({ key: keyOf(o), change: 'added', fields: [], ...(from === undefined ? {} : { renamedFrom: nameOf(from) }) });
  }
  for (const o of ctx.removed) {
    const to = ctx.renames.get(keyOf(o).id);
    objects.push({ key: keyOf(o), change: 'removed', fields: [], ...(to === undefined ? {} : { renamedTo: nameOf(to) }) });
  }
  objects.sort((a, b) => a.key.id.localeCompare(b.key.id));
  return {
    environment,
    counts: { added: ctx.added.length, removed: ctx.removed.length, changed: ctx.changed.length, unchanged: ctx.unchanged },
    objects,
    lines: sortLines([...semantic, ...fallback]),
  };
}

/**
 * Reviews every environment of either side (environment name -> objects), in name order. An
 * environment only in `head` is new (every object added); one only in `base` is removed.
 */
export function reviewObjects(
  base: ReadonlyMap<string, readonly Manifest[]>,
  head: ReadonlyMap<string, readonly Manifest[]>,
  what: { readonly base: string; readonly head: string },
): Review {
  const names = [...new Set([...base.keys(), ...head.keys()])].sort();
  return { ...what, environments: names.map((n) => reviewEnvironment(n, base.get(n), head.get(n) ?? [])) };
}

/**
 * Review lines of the Argo Rollouts objects in plain words: how a Rollout moves traffic (its canary
 * steps, or its blue/green promotion), which analyses gate it, and what an AnalysisTemplate judges
 * (each metric's condition, window and measurements).
 *
 *   canary steps: 10 % → pause 2m → analysis → 100 %  ->  10 % → pause 5m → analysis → 50 % → 100 %
 *   analysis errors: result[0] <= 0.0144 -> result[0] <= 0.03 (less strict)
 */
import { DiffContext } from './context';
import { JsonObject, Manifest, ReviewLine } from './model';
import { arrayAt, canonical, isObject, objectAt } from './objects';

/** One canary step in plain words: `10 %`, `pause 5m`, `pause until promoted`, `analysis`. */
function describeStep(step: unknown): string {
  if (!isObject(step)) return String(step);
  if (step.setWeight !== undefined) return `${String(step.setWeight)} %`;
  if (isObject(step.pause)) return step.pause.duration === undefined ? 'pause until promoted' : `pause ${String(step.pause.duration)}`;
  if (step.analysis !== undefined) return 'analysis';
  return Object.keys(step).join(', ');
}

/** The canary steps of a Rollout in plain words, or undefined when it is not a canary. */
export function describeRolloutSteps(rollout: Manifest | undefined): string | undefined {
  if (rollout === undefined) return undefined;
  const canary = objectAt(rollout, 'spec', 'strategy', 'canary');
  if (Object.keys(canary).length === 0) return undefined;
  return arrayAt(rollout, 'spec', 'strategy', 'canary', 'steps').map(describeStep).join(' → ') || 'no steps (straight to 100 %)';
}

/** The analyses of a Rollout by where they run, each as its template names. */
function analyses(rollout: Manifest | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (rollout === undefined) return out;
  const names = (a: unknown) => (isObject(a) && Array.isArray(a.templates)
    ? a.templates.map((t) => (isObject(t) ? String(t.templateName) : '?')).join(' + ') : undefined);
  const bg = objectAt(rollout, 'spec', 'strategy', 'blueGreen');
  for (const [where, value] of [['before promotion', bg.prePromotionAnalysis], ['after promotion', bg.postPromotionAnalysis],
    ['in the background', objectAt(rollout, 'spec', 'strategy', 'canary').analysis]] as const) {
    const n = names(value);
    if (n !== undefined) out.set(where, n);
  }
  arrayAt(rollout, 'spec', 'strategy', 'canary', 'steps').forEach((s, i) => {
    const n = isObject(s) ? names(s.analysis) : undefined;
    if (n !== undefined) out.set(`at step ${i + 1}`, n);
  });
  return out;
}

/** Lines of Rollouts added or changed. */
function rolloutLines(ctx: DiffContext, before: Manifest | undefined, after: Manifest): ReviewLine[] {
  const lines: ReviewLine[] = [];
  const [sb, sa] = [describeRolloutSteps(before), describeRolloutSteps(after)];
  if (sa !== undefined && sb !== sa) {
    lines.push(ctx.line(after, sb === undefined ? `canary steps: ${sa}` : `canary steps: ${sb} -> ${sa}`, ['traffic'], 'traffic'));
  }
  const [bb, ba] = [objectAt(before, 'spec', 'strategy', 'blueGreen'), objectAt(after, 'spec', 'strategy', 'blueGreen')];
  if (Object.keys(ba).length > 0) {
    const promotion = (bg: JsonObject) => (bg.autoPromotionEnabled === true ? 'automatic once the analysis passed' : 'by hand (kubectl argo rollouts promote)');
    if (before === undefined || Object.keys(bb).length === 0) {
      lines.push(ctx.line(after, `blue/green: preview ${String(ba.previewService)}, promotion ${promotion(ba)}`, ['traffic'], 'traffic'));
    } else if (bb.autoPromotionEnabled !== ba.autoPromotionEnabled) {
      lines.push(ctx.line(after, `promotion ${promotion(bb)} -> ${promotion(ba)}`, ba.autoPromotionEnabled === true ? ['alerts-down'] : ['traffic'], 'traffic'));
    }
    for (const field of ['previewReplicaCount', 'scaleDownDelaySeconds'] as const) {
      if (before !== undefined && Object.keys(bb).length > 0 && canonical(bb[field] ?? null) !== canonical(ba[field] ?? null)) {
        lines.push(ctx.line(after, `${field} ${String(bb[field] ?? 'unset')} -> ${String(ba[field] ?? 'unset')}`, ['capacity'], 'capacity'));
      }
    }
  }
  const [ab, aa] = [analyses(before), analyses(after)];
  for (const where of [...new Set([...ab.keys(), ...aa.keys()])]) {
    const [b, a] = [ab.get(where), aa.get(where)];
    if (b === a || before === undefined) continue;
    lines.push(ctx.line(after, `analysis ${where}: ${b ?? 'none'} -> ${a ?? 'none'}`, a === undefined ? ['alerts-down'] : ['alerts'], 'alerts'));
  }
  if (before === undefined) {
    for (const [where, names] of aa) lines.push(ctx.line(after, `analysis ${where}: ${names}`, ['alerts'], 'alerts'));
  }
  return lines;
}

/** The metrics of an AnalysisTemplate by name. */
function metricsOf(template: Manifest | undefined): Map<string, JsonObject> {
  return new Map(template === undefined ? [] : arrayAt(template, 'spec', 'metrics').filter(isObject).map((m) => [String(m.name), m]));
}

/** `result[0] <= 0.0144` -> 0.0144 (the bound of a `<=` or `<` condition), else undefined. */
function upperBound(condition: unknown): number | undefined {
  const m = /^\s*result\[0\]\s*<=?\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/i.exec(String(condition ?? ''));
  return m === null ? undefined : Number(m[1]);
}

/** Lines of AnalysisTemplates changed: per metric, its condition, query and measurements. */
function templateLines(ctx: DiffContext, before: Manifest, after: Manifest): ReviewLine[] {
  const lines: ReviewLine[] = [];
  const [mb, ma] = [metricsOf(before), metricsOf(after)];
  for (const [name, m] of mb) {
    const now = ma.get(name);
    if (now === undefined) { lines.push(ctx.line(after, `analysis ${name} removed`, ['alerts-down'], 'alerts')); continue; }
    if (canonical(m) === canonical(now)) continue;
    const facts: string[] = [];
    let weaker = false;
    if (m.successCondition !== now.successCondition) {
      facts.push(`${String(m.successCondition ?? 'no success condition')} -> ${String(now.successCondition ?? 'no success condition')}`);
      const [ub, ua] = [upperBound(m.successCondition), upperBound(now.successCondition)];
      if (ub !== undefined && ua !== undefined && ua > ub) weaker = true;
    }
    const query = (x: JsonObject) => canonical(x.provider ?? null);
    if (query(m) !== query(now)) facts.push('query changed');
    for (const field of ['interval', 'count', 'failureLimit'] as const) {
      if (canonical(m[field] ?? null) === canonical(now[field] ?? null)) continue;
      facts.push(`${field} ${String(m[field] ?? 'unset')} -> ${String(now[field] ?? 'unset')}`);
      if (field === 'failureLimit' && Number(now[field] ?? 0) > Number(m[field] ?? 0)) weaker = true;
    }
    lines.push(ctx.line(after, `analysis ${name}: ${facts.join(', ')}${weaker ? ' (less strict)' : ''}`, weaker ? ['alerts-down'] : ['alerts'], 'alerts'));
  }
  for (const name of ma.keys()) if (!mb.has(name)) lines.push(ctx.line(after, `analysis ${name} added`, ['alerts'], 'alerts'));
  return lines;
}

/** Review lines of Rollouts (added or changed) and AnalysisTemplates (changed). */
export function rolloutReviewLines(ctx: DiffContext): ReviewLine[] {
  return [
    ...ctx.added.filter((o) => o.kind === 'Rollout').flatMap((o) => rolloutLines(ctx, undefined, o)),
    ...ctx.changedOfKind('Rollout').flatMap((p) => rolloutLines(ctx, p.before, p.after)),
    ...ctx.changedOfKind('AnalysisTemplate').flatMap((p) => templateLines(ctx, p.before, p.after)),
  ];
}

/**
 * Release state of the blue/green components of an environment, kept in
 * `environments/<environment>.release.json` (machine-edited by `npm run release`, reviewed like
 * any other change) and the state machine that moves it:
 *
 *   stable --stage <tag>--> staged --promote--> promoted --finalize--> stable
 *   staged --rollback--> stable                  (abort: idle colour back to its previous tag, standby)
 *   promoted --rollback--> rolled-back --finalize--> stable
 *   stable --rollback--> staged                  (after finalize: re-stage the previous colour at full
 *                                                 size; `promote` then moves traffic once it is ready)
 *
 * The idle colour runs at full size in every phase but `stable`, so traffic is only ever switched
 * to a colour that is already running at full size.
 *
 * Each component also remembers its last good version (`lastGood`: the last one promoted and finalized
 * healthy) and the versions rolled back as failed (`failed`). A failed version is never staged again,
 * never a rollback target, and `finalize` never leaves it on standby: after `rolled-back --finalize-->`
 * (and after a rollback after finalize) the idle colour is re-pointed to the last good version.
 */
import type { z } from 'zod';
import { checkImageTag, checkInteger } from '../constructs/validation';
import { Colour, IdleSize, otherColour, ReleaseStrategy } from '../constructs/release-strategy';
import { componentReleaseSchema, Phase, releaseStateSchema, shapeProblems } from '../environments/schema';

export { Phase };

/** Release state of one blue/green component (the release state schema's type). */
export type ComponentRelease = z.output<typeof componentReleaseSchema>;

/** Release state of an environment: blue/green component name -> state. */
export type ReleaseState = z.output<typeof releaseStateSchema>;

/**
 * Branch-like tags that image pipelines move from build to build: what they run changes without a
 * change to the repository, and a rollback cannot name what to go back to.
 */
export const FLOATING_TAGS: readonly string[] = [
  'main', 'master', 'develop', 'development', 'dev', 'trunk', 'head', 'stable', 'edge', 'nightly', 'canary', 'next',
  'beta', 'alpha', 'rc', 'release', 'current', 'staging', 'production', 'prod', 'test', 'testing', 'unstable',
];

/**
 * Rule broken by `value` as a tag a deployment may pin: a valid image tag (never `latest`) that is not
 * a floating, branch-like name ({@link FLOATING_TAGS}).
 */
export function checkPinnedTag(value: unknown): string | undefined {
  const rule = checkImageTag(value);
  if (rule !== undefined) return rule;
  if (FLOATING_TAGS.includes((value as string).toLowerCase())) {
    return 'must be a pinned tag (a version like v1.4.2 or a commit SHA), not a floating branch-like tag '
      + `(${FLOATING_TAGS.slice(0, 9).join(', ')}, ...): what it runs changes without a change here`;
  }
  return undefined;
}

/** The release actions. */
export enum Action {
  /** Records the tag a blue/green component runs today, when it has no release state yet. */
  INIT = 'init',
  STAGE = 'stage',
  PROMOTE = 'promote',
  FINALIZE = 'finalize',
  ROLLBACK = 'rollback',
  /**
   * Records an emergency rollback already made in the cluster (the break-glass deploy job moved the
   * Service back to the last good colour without waiting for review): traffic on the previous
   * version, the one it left marked failed, exactly like `rollback` while promoted.
   */
  BREAK_GLASS = 'break-glass',
  STATUS = 'status',
}

/** What a step needs beyond the state: the cluster's scale and the clock. */
export interface TransitionOptions {
  /**
   * Replicas the active colour serves with now, read from the cluster (`--serving <n>`): the size both
   * colours keep until the release is finalized. @default - the component's replicas
   */
  readonly serving?: number;
  /** The time of the step; recorded when traffic moves (`promotedAt`). @default - not recorded */
  readonly now?: Date;
  /** Minutes after promote before finalize may shrink the previous colour. @default 0 */
  readonly bakeMinutes?: number;
}

/** A refused transition; nothing is changed. */
export class ReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReleaseError';
  }
}

/** The state of a component that has never been released: blue active, both colours on `tag`. */
export function initialRelease(tag: string): ComponentRelease {
  return { active: Colour.BLUE, phase: Phase.STABLE, tags: { blue: tag, green: tag } };
}

/**
 * The release state of a blue/green component that has none yet (new, or switched from rolling):
 * both colours on `tag`, blue active. Refused when the component already has one.
 */
export function initRelease(where: string, existing: ComponentRelease | undefined, tag: string | undefined): ComponentRelease {
  if (existing !== undefined) {
    throw new ReleaseError(`${where}: cannot init: it already has a release state (${describePhase(existing)}); `
      + `allowed now: ${allowedActions(existing.phase).join(', ')}`);
  }
  const problem = tag === undefined ? 'is required (init <tag>: the tag it runs today)' : checkPinnedTag(tag);
  if (problem) throw new ReleaseError(`${where}: init tag ${problem}, got ${JSON.stringify(tag ?? '')}`);
  return initialRelease(tag!);
}

/** The strategy a component's release state renders as. */
export function strategyFor(release: ComponentRelease, standbyReplicas: number): ReleaseStrategy {
  return ReleaseStrategy.blueGreen({
    active: release.active,
    tags: release.tags,
    idle: release.phase === Phase.STABLE ? IdleSize.STANDBY : IdleSize.FULL,
    standbyReplicas,
    ...(release.phase !== Phase.STABLE && release.size !== undefined ? { size: release.size } : {}),
  });
}

/**
 * Actions allowed in a phase, for `status` and error messages (`break-glass` is not among them: it
 * only records an emergency rollback the pipeline has already made).
 */
export function allowedActions(phase: Phase): Action[] {
  switch (phase) {
    case Phase.STABLE: return [Action.STAGE, Action.ROLLBACK];
    case Phase.STAGED: return [Action.PROMOTE, Action.ROLLBACK];
    case Phase.PROMOTED: return [Action.FINALIZE, Action.ROLLBACK];
    case Phase.ROLLED_BACK: return [Action.FINALIZE];
  }
}

/** The last version promoted and finalized healthy: recorded, else the one the phase implies (see the schema). */
export function lastGoodOf(r: ComponentRelease): string {
  return r.lastGood ?? (r.phase === Phase.PROMOTED ? r.tags[otherColour(r.active)] : r.tags[r.active]);
}

/** Versions rolled back as failed. */
export function failedOf(r: ComponentRelease): readonly string[] {
  return r.failed ?? [];
}

/**
 * The version `rollback` would move to: the standby's when stable (brought to full size first), the
 * staged colour's previous version when staged (abort), the previous colour's when promoted; none when
 * rolled back or when the standby runs what serves.
 */
export function rollbackTarget(r: ComponentRelease): string | undefined {
  const idle = otherColour(r.active);
  switch (r.phase) {
    case Phase.STABLE: return r.tags[idle] === r.tags[r.active] ? undefined : r.tags[idle];
    case Phase.STAGED: return r.previousTag ?? r.tags[idle];
    case Phase.PROMOTED: return r.tags[idle];
    case Phase.ROLLED_BACK: return undefined;
  }
}

/**
 * Applies `action` to a component's release state. Returns the new state; throws
 * {@link ReleaseError} for an illegal transition (the caller then changes nothing).
 *
 * The last good version changes only on `finalize` (to the version then serving). A version is marked
 * failed when traffic is rolled back off it (`rollback` while promoted), or, for a rollback after
 * finalize, by the `finalize` that confirms it (until the previous version is at full size the rolled
 * back one keeps serving, and traffic is never on a failed version). A failed version is never staged
 * again, and `finalize` never leaves it on standby: the idle colour is re-pointed to the last good version.
 */
export function transition(where: string, current: ComponentRelease, action: Action, tag?: string, options: TransitionOptions = {}): ComponentRelease {
  const idle = otherColour(current.active);
  const size = options.serving !== undefined ? { size: options.serving } : {};
  // While a release is in progress its size only grows: a rollback observes a colour that may be
  // failing (fewer pods ready), and the colour traffic returns to must still match the scale that served.
  const kept = (): { size?: number } => {
    const n = Math.max(current.size ?? 0, options.serving ?? 0);
    return n > 0 ? { size: n } : {};
  };
  const movedAt = options.now !== undefined ? { promotedAt: formatTime(options.now) } : {};
  const refuse = (why: string) => new ReleaseError(
    `${where}: cannot ${action}${tag !== undefined ? ` ${tag}` : ''} while ${describePhase(current)}: ${why}; allowed now: ${allowedActions(current.phase).join(', ')}`);
  if (action !== Action.STAGE && tag !== undefined) {
    throw new ReleaseError(`${where}: ${action} takes no tag, got "${tag}"`);
  }
  const failed = failedOf(current);
  const lastGood = lastGoodOf(current);
  /** What every step carries over: attempt counter, last good version, failed versions. */
  const history = (failedNow: readonly string[] = failed, good: string = lastGood) => ({
    attempt: current.attempt, lastGood: good, ...(failedNow.length > 0 ? { failed: failedNow } : {}),
  });
  const markFailed = (version: string | undefined) => (version === undefined || failed.includes(version) ? failed : [...failed, version]);
  switch (action) {
    case Action.STAGE: {
      const problem = tag === undefined ? 'is required (stage <tag>)' : checkPinnedTag(tag);
      if (problem) throw new ReleaseError(`${where}: stage tag ${problem}, got ${JSON.stringify(tag ?? '')}`);
      if (current.phase !== Phase.STABLE) throw refuse('a release is in progress');
      if (tag === current.tags[current.active]) {
        throw new ReleaseError(`${where}: cannot stage ${tag}: the active colour ${current.active} already runs it`);
      }
      if (failed.includes(tag!)) {
        throw new ReleaseError(`${where}: cannot stage ${tag}: it was rolled back as failed (last good ${lastGood}); `
          + `build the fix under a new tag, or remove ${tag} from "failed" in environments/${where.split('/')[0]}.release.json in a reviewed change`);
      }
      return {
        active: current.active, phase: Phase.STAGED, tags: { ...current.tags, [idle]: tag! }, previousTag: current.tags[idle],
        ...history(), attempt: (current.attempt ?? 0) + 1, ...size,
      };
    }
    case Action.PROMOTE:
      if (current.phase !== Phase.STAGED) throw refuse('nothing is staged (stage <tag> first)');
      return {
        active: idle, phase: Phase.PROMOTED, tags: current.tags, ...history(),
        ...(current.rollbackFrom !== undefined ? { rollbackFrom: current.rollbackFrom } : {}),
        ...kept(), ...movedAt,
      };
    case Action.FINALIZE: {
      if (current.phase !== Phase.PROMOTED && current.phase !== Phase.ROLLED_BACK) {
        throw refuse(current.phase === Phase.STAGED ? 'the staged colour has not been promoted' : 'no release to finalize');
      }
      const bake = options.bakeMinutes ?? 0;
      if (current.phase === Phase.PROMOTED && bake > 0 && current.promotedAt !== undefined && options.now !== undefined) {
        const from = new Date(Date.parse(current.promotedAt) + bake * 60_000);
        if (options.now < from) {
          const left = Math.ceil((from.getTime() - options.now.getTime()) / 60_000);
          throw refuse(`the bake time has not passed: traffic moved to ${current.active} at ${current.promotedAt}, and ${idle} `
            + `(${current.tags[idle]}) keeps its full size for ${bake} min so that a rollback needs no new pods; `
            + `finalize from ${formatTime(from)} (in ${left} min)`);
        }
      }
      // The version serving now is healthy; a failed version never stays on standby.
      const good = current.tags[current.active];
      const failedNow = markFailed(current.rollbackFrom);
      const tags = failedNow.includes(current.tags[idle]) ? { ...current.tags, [idle]: good } : current.tags;
      return { active: current.active, phase: Phase.STABLE, tags, ...history(failedNow, good) };
    }
    case Action.ROLLBACK:
      switch (current.phase) {
        case Phase.STAGED: // abort: the idle colour goes back to its previous version, on standby
          return {
            active: current.active, phase: Phase.STABLE, tags: { ...current.tags, [idle]: current.previousTag ?? current.tags[idle] },
            ...history(),
          };
        case Phase.PROMOTED: // the previous colour still runs at full size: move traffic back now
          return {
            active: idle, phase: Phase.ROLLED_BACK, tags: current.tags, ...history(markFailed(current.tags[current.active])), ...kept(),
          };
        case Phase.STABLE: // the previous colour is on standby: bring it to full size first
          if (current.tags[idle] === current.tags[current.active]) {
            throw refuse(`both colours run ${current.tags[idle]}, there is no previous version`);
          }
          if (failed.includes(current.tags[idle])) throw refuse(`the standby runs ${current.tags[idle]}, which was rolled back as failed`);
          return {
            active: current.active, phase: Phase.STAGED, tags: current.tags, previousTag: current.tags[idle],
            ...history(), attempt: (current.attempt ?? 0) + 1, rollbackFrom: current.tags[current.active], ...size,
          };
        default:
          throw refuse('traffic is already back on the previous colour (finalize first)');
      }
    case Action.BREAK_GLASS: {
      // What the break-glass job did in the cluster: traffic on the previous version, now.
      if (current.phase === Phase.STAGED) throw refuse('traffic has not moved (rollback aborts the staged release)');
      if (current.phase === Phase.ROLLED_BACK) throw refuse('traffic is already back on the previous colour (finalize first)');
      const back = current.tags[idle];
      if (back === current.tags[current.active]) throw refuse(`both colours run ${back}, there is no previous version`);
      if (failed.includes(back)) throw refuse(`the other colour runs ${back}, which was rolled back as failed`);
      const failedNow = markFailed(current.tags[current.active]);
      // (when stable, the version serving was the last good one; the one it replaced is good again)
      return {
        active: idle, phase: Phase.ROLLED_BACK, tags: current.tags, ...history(failedNow, back), ...(current.phase === Phase.STABLE ? size : kept()),
      };
    }
    case Action.INIT:
      throw refuse('it already has a release state');
    default:
      throw new ReleaseError(`${where}: unknown action "${action}"; allowed: ${Object.values(Action).join(', ')}`);
  }
}

/** A time as the state file records it: UTC, whole seconds, e.g. `2026-12-03T17:00:00Z`. */
export function formatTime(t: Date): string {
  return `${t.toISOString().slice(0, 19)}Z`;
}

/** One line describing a component's release, e.g. `promoted: traffic on green (v1.1.0), blue (v1.0.0) at full size`. */
export function describePhase(r: ComponentRelease): string {
  const idle = otherColour(r.active);
  const on = `${r.active} (${r.tags[r.active]})`;
  const other = `${idle} (${r.tags[idle]})`;
  switch (r.phase) {
    case Phase.STABLE: return `stable: traffic on ${on}, ${other} on standby`;
    case Phase.STAGED: return `staged: ${other} at full size behind the preview Service, traffic on ${on}`;
    case Phase.PROMOTED: return `promoted: traffic on ${on}, ${other} kept at full size`;
    case Phase.ROLLED_BACK: return `rolled back: traffic on ${on}, ${other} still at full size`;
  }
}

/**
 * The release history worth a reviewer's eye, e.g. `last good v1.1.0; failed v1.2.0; rollback brings back v1.0.0`
 * when stable, `...; rollback returns traffic to v1.1.0` when promoted.
 */
export function describeHistory(r: ComponentRelease): string {
  const failed = failedOf(r);
  const target = rollbackTarget(r);
  return [
    `last good ${lastGoodOf(r)}`,
    ...(failed.length > 0 ? [`failed ${failed.join(', ')}`] : []),
    ...(r.rollbackFrom !== undefined ? [`rolling back ${r.rollbackFrom}`] : []),
    ...(r.phase === Phase.STABLE ? [target !== undefined ? `rollback brings back ${target}` : 'nothing to roll back to'] : []),
    ...(r.phase === Phase.PROMOTED ? [`rollback returns traffic to ${target}`] : []),
  ].join('; ');
}

/** The largest release size a state file may record (a Deployment's replicas are an int32; no pair runs more). */
const MAX_SIZE = 1000;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** A problem in a release state file (same shape as config problems). */
export interface ReleaseProblem {
  readonly component?: string;
  readonly field: string;
  readonly value: unknown;
  readonly rule: string;
}

/**
 * Validates a parsed release state file against the environment's blue/green components.
 * Components missing from the file start from {@link initialRelease}.
 */
export function validateReleaseState(
  raw: unknown,
  blueGreen: readonly string[],
  /** Components whose strategy is a known one (a typo in a strategy is reported where it is written). */
  withKnownStrategy: readonly string[],
  all: readonly string[],
): ReleaseProblem[] {
  const problems: ReleaseProblem[] = [];
  const at = (component: string | undefined, field: string, value: unknown, rule: string | undefined) => {
    if (rule) problems.push({ component, field, value, rule });
  };
  if (raw === undefined) return problems;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    at(undefined, 'release state', raw, 'must be an object mapping component names to their release');
    return problems;
  }
  for (const [component, value] of Object.entries(raw as { [k: string]: unknown })) {
    if (!all.includes(component)) {
      at(component, 'release state', component, `must name a catalogue component (${all.join(', ')})`);
      continue;
    }
    if (!blueGreen.includes(component)) {
      if (withKnownStrategy.includes(component)) {
        at(component, 'release state', component, 'must only hold blue-green components (this one is released rolling)');
      }
      continue;
    }
    const shape = shapeProblems(componentReleaseSchema, value);
    const reported = new Set(shape.map((p) => p.path.join('.')));
    for (const p of shape) at(component, p.path.join('.') || 'release state', p.value, p.rule);
    if (reported.has('') || reported.has('tags')) continue;
    // The rules, on every field whose type is right
    const r = value as { readonly [field: string]: unknown; readonly tags: { readonly [colour: string]: unknown } };
    const rule = (field: string, check: () => string | undefined) => {
      if (!reported.has(field)) at(component, field, field.split('.').reduce<unknown>((v, k) => (v as { [k: string]: unknown })[k], r), check());
    };
    rule('tags.blue', () => checkPinnedTag(r.tags.blue));
    rule('tags.green', () => checkPinnedTag(r.tags.green));
    if (r.previousTag !== undefined) {
      rule('previousTag', () => (r.phase === Phase.STAGED ? checkPinnedTag(r.previousTag) : 'is only kept while staged'));
    }
    if (r.attempt !== undefined) rule('attempt', () => checkInteger(r.attempt, 0));
    if (r.size !== undefined) {
      rule('size', () => checkInteger(r.size, 1, MAX_SIZE) ?? (r.phase === Phase.STABLE ? 'is only kept while a release is in progress (not stable)' : undefined));
    }
    if (r.promotedAt !== undefined) {
      rule('promotedAt', () => (r.phase !== Phase.PROMOTED ? 'is only kept while promoted'
        : TIMESTAMP.test(String(r.promotedAt)) && !Number.isNaN(Date.parse(String(r.promotedAt))) ? undefined
          : 'must be a UTC time like 2026-12-03T17:00:00Z'));
    }
    if (reported.has('active') || reported.has('phase')) continue;
    const release = value as ComponentRelease;
    const idle = otherColour(release.active);
    if (release.lastGood !== undefined) {
      const implied = lastGoodOf({ ...release, lastGood: undefined });
      rule('lastGood', () => checkPinnedTag(release.lastGood) ?? (release.lastGood === implied ? undefined
        : `must be ${implied}, the ${release.phase === Phase.PROMOTED ? 'idle' : 'active'} colour's tag while ${release.phase} (the last version promoted and finalized healthy)`));
    }
    if (release.failed !== undefined && !reported.has('failed')) {
      release.failed.forEach((version, i) => {
        const field = `failed.${i}`;
        if (reported.has(field)) return;
        const colour = [release.active, idle].find((c) => release.tags[c] === version
          && !(c === idle && release.phase === Phase.ROLLED_BACK)); // (just rolled back off: kept at full size until finalize)
        const role = colour === release.active ? 'serves traffic' : release.phase === Phase.STABLE ? 'is on standby'
          : release.phase === Phase.STAGED ? 'is staged' : 'is the rollback target';
        at(component, field, version, checkPinnedTag(version)
          ?? (release.failed!.indexOf(version) !== i ? 'is listed twice' : undefined)
          ?? (colour !== undefined ? `must not be a version the ${colour} colour runs: it ${role}` : undefined)
          ?? (version === lastGoodOf(release) ? 'must not be the last good version' : undefined));
      });
    }
    if (release.rollbackFrom !== undefined) {
      rule('rollbackFrom', () => {
        const expected = release.phase === Phase.STAGED ? release.tags[release.active] : release.phase === Phase.PROMOTED ? release.tags[idle] : undefined;
        if (expected === undefined) return 'is only kept while a rollback after finalize is staged or promoted';
        return checkPinnedTag(release.rollbackFrom) ?? (release.rollbackFrom === expected ? undefined
          : `must be ${expected}, the version being rolled back (the ${release.phase === Phase.STAGED ? 'active' : 'idle'} colour's tag)`);
      });
    }
  }
  return problems;
}

/** Serializes a release state as the file is committed: sorted by component, two-space JSON. */
export function formatReleaseState(state: ReleaseState): string {
  const sorted: { [k: string]: ComponentRelease } = {};
  for (const name of Object.keys(state).sort()) {
    const r = state[name];
    sorted[name] = { active: r.active, phase: r.phase, tags: { blue: r.tags.blue, green: r.tags.green },
      ...(r.previousTag !== undefined ? { previousTag: r.previousTag } : {}),
      ...(r.attempt !== undefined && r.attempt > 0 ? { attempt: r.attempt } : {}),
      ...(r.lastGood !== undefined ? { lastGood: r.lastGood } : {}),
      ...(r.failed !== undefined && r.failed.length > 0 ? { failed: [...r.failed] } : {}),
      ...(r.rollbackFrom !== undefined ? { rollbackFrom: r.rollbackFrom } : {}),
      ...(r.size !== undefined ? { size: r.size } : {}),
      ...(r.promotedAt !== undefined ? { promotedAt: r.promotedAt } : {}) };
  }
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

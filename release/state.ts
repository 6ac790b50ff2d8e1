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
  STATUS = 'status',
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
  });
}

/** Actions allowed in a phase, for `status` and error messages. */
export function allowedActions(phase: Phase): Action[] {
  switch (phase) {
    case Phase.STABLE: return [Action.STAGE, Action.ROLLBACK];
    case Phase.STAGED: return [Action.PROMOTE, Action.ROLLBACK];
    case Phase.PROMOTED: return [Action.FINALIZE, Action.ROLLBACK];
    case Phase.ROLLED_BACK: return [Action.FINALIZE];
  }
}

/**
 * Applies `action` to a component's release state. Returns the new state; throws
 * {@link ReleaseError} for an illegal transition (the caller then changes nothing).
 */
export function transition(where: string, current: ComponentRelease, action: Action, tag?: string): ComponentRelease {
  const idle = otherColour(current.active);
  const refuse = (why: string) => new ReleaseError(
    `${where}: cannot ${action} while ${describePhase(current)}: ${why}; allowed now: ${allowedActions(current.phase).join(', ')}`);
  if (action !== Action.STAGE && tag !== undefined) {
    throw new ReleaseError(`${where}: ${action} takes no tag, got "${tag}"`);
  }
  switch (action) {
    case Action.STAGE: {
      const problem = tag === undefined ? 'is required (stage <tag>)' : checkPinnedTag(tag);
      if (problem) throw new ReleaseError(`${where}: stage tag ${problem}, got ${JSON.stringify(tag ?? '')}`);
      if (current.phase !== Phase.STABLE) throw refuse('a release is in progress');
      if (tag === current.tags[current.active]) {
        throw new ReleaseError(`${where}: cannot stage ${tag}: the active colour ${current.active} already runs it`);
      }
      return {
        active: current.active, phase: Phase.STAGED, tags: { ...current.tags, [idle]: tag! }, previousTag: current.tags[idle],
        attempt: (current.attempt ?? 0) + 1,
      };
    }
    case Action.PROMOTE:
      if (current.phase !== Phase.STAGED) throw refuse('nothing is staged (stage <tag> first)');
      return { active: idle, phase: Phase.PROMOTED, tags: current.tags, attempt: current.attempt };
    case Action.FINALIZE:
      if (current.phase !== Phase.PROMOTED && current.phase !== Phase.ROLLED_BACK) {
        throw refuse(current.phase === Phase.STAGED ? 'the staged colour has not been promoted' : 'no release to finalize');
      }
      return { active: current.active, phase: Phase.STABLE, tags: current.tags, attempt: current.attempt };
    case Action.ROLLBACK:
      switch (current.phase) {
        case Phase.STAGED: // abort: the idle colour goes back to its previous version, on standby
          return {
            active: current.active, phase: Phase.STABLE, tags: { ...current.tags, [idle]: current.previousTag ?? current.tags[idle] },
            attempt: current.attempt,
          };
        case Phase.PROMOTED: // the previous colour still runs at full size: move traffic back now
          return { active: idle, phase: Phase.ROLLED_BACK, tags: current.tags, attempt: current.attempt };
        case Phase.STABLE: // the previous colour is on standby: bring it to full size first
          if (current.tags[idle] === current.tags[current.active]) {
            throw refuse(`both colours run ${current.tags[idle]}, there is no previous version`);
          }
          return {
            active: current.active, phase: Phase.STAGED, tags: current.tags, previousTag: current.tags[idle],
            attempt: (current.attempt ?? 0) + 1,
          };
        default:
          throw refuse('traffic is already back on the previous colour (finalize first)');
      }
    case Action.INIT:
      throw refuse('it already has a release state');
    default:
      throw new ReleaseError(`${where}: unknown action "${action}"; allowed: ${Object.values(Action).join(', ')}`);
  }
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
      ...(r.attempt !== undefined && r.attempt > 0 ? { attempt: r.attempt } : {}) };
  }
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

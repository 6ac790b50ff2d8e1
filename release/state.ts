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
import { checkImageTag, checkInteger } from '../constructs/validation';
import { Colour, IdleSize, otherColour, ReleaseStrategy } from '../constructs/release-strategy';

/** Where a blue/green component is in its release. */
export enum Phase {
  /** Active colour serves traffic at full size; idle colour on standby (previous version). */
  STABLE = 'stable',
  /** The idle colour runs the new tag at full size behind the preview Service; smoke test runs. */
  STAGED = 'staged',
  /** Traffic moved to the new colour; the old one keeps full size during verification. */
  PROMOTED = 'promoted',
  /** Traffic moved back to the previous colour; the failed colour still runs at full size. */
  ROLLED_BACK = 'rolled-back',
}

/** Release state of one blue/green component. */
export interface ComponentRelease {
  readonly active: Colour;
  readonly phase: Phase;
  readonly tags: { readonly [colour in Colour]: string };
  /** While staged: the idle colour's tag before `stage`, restored by `rollback`. */
  readonly previousTag?: string;
  /**
   * How many times a version has been staged (by `stage` or a rollback after finalize): part of the
   * smoke-test Job's name, so staging the same tag again runs a new Job. @default 0
   */
  readonly attempt?: number;
}

/** Release state of an environment: blue/green component name -> state. */
export interface ReleaseState {
  readonly [component: string]: ComponentRelease;
}

/** The release actions. */
export enum Action {
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
      const problem = tag === undefined ? 'is required (stage <tag>)' : checkImageTag(tag);
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
export function validateReleaseState(raw: unknown, blueGreen: readonly string[], all: readonly string[]): ReleaseProblem[] {
  const problems: ReleaseProblem[] = [];
  const at = (component: string | undefined, field: string, value: unknown, rule: string | undefined) => {
    if (rule) problems.push({ component, field, value, rule });
  };
  if (raw === undefined) return problems;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    at(undefined, 'release state', raw, 'must be an object mapping component names to their release');
    return problems;
  }
  const colours = Object.values(Colour) as string[];
  const phases = Object.values(Phase) as string[];
  for (const [component, value] of Object.entries(raw as { [k: string]: unknown })) {
    if (!all.includes(component)) {
      at(component, 'release state', component, `must name a catalogue component (${all.join(', ')})`);
      continue;
    }
    if (!blueGreen.includes(component)) {
      at(component, 'release state', component, 'must only hold blue-green components (this one is released rolling)');
      continue;
    }
    const r = (value ?? {}) as { [k: string]: unknown };
    at(component, 'active', r.active, colours.includes(r.active as string) ? undefined : `must be one of ${colours.join(', ')}`);
    at(component, 'phase', r.phase, phases.includes(r.phase as string) ? undefined : `must be one of ${phases.join(', ')}`);
    const tags = (r.tags ?? {}) as { [k: string]: unknown };
    for (const colour of colours) at(component, `tags.${colour}`, tags[colour], checkImageTag(tags[colour]));
    for (const key of Object.keys(tags)) {
      if (!colours.includes(key)) at(component, `tags.${key}`, tags[key], `is not a colour (${colours.join(', ')})`);
    }
    if (r.previousTag !== undefined) {
      at(component, 'previousTag', r.previousTag, r.phase === Phase.STAGED ? checkImageTag(r.previousTag) : 'is only kept while staged');
    }
    if (r.attempt !== undefined) at(component, 'attempt', r.attempt, checkInteger(r.attempt, 0));
    for (const key of Object.keys(r)) {
      if (!['active', 'phase', 'tags', 'previousTag', 'attempt'].includes(key)) {
        at(component, key, r[key], 'is not a release state field (active, phase, tags, previousTag, attempt)');
      }
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
      ...(r.attempt !== undefined && r.attempt > 0 ? { attempt: r.attempt } : {}) };
  }
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/**
 * A release is sized to the scale that serves when it starts, keeps it until finalize, and finalize
 * waits for the bake time; break-glass records an emergency rollback already made in the cluster.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Colour } from '../constructs';
import { synthesizeObjects } from '../synth/pipeline';
import { CATALOGUE } from '../environments';
import { production } from '../environments/production';
import { releaseFile } from '../release/files';
import { Action, ComponentRelease, Phase, ReleaseError, transition, validateReleaseState } from '../release/state';
import { release } from '../scripts/release';
import { committedReleaseStates, find, Obj } from './helpers';

jest.setTimeout(30_000);

const K = 'knowledge-service'; // production: 5 replicas, autoscaled up to 10
const C = 'content-service'; // production: 3 fixed replicas
const V1 = 'v1.0.0';
const V2 = 'v1.1.0';
const COMMITTED = committedReleaseStates().production as object;
const T0 = new Date('2026-12-03T12:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

const stable: ComponentRelease = { active: Colour.BLUE, phase: Phase.STABLE, tags: { blue: V1, green: V1 } };

function objectsWith(states: { [component: string]: ComponentRelease }): Obj[] {
  return synthesizeObjects([production], CATALOGUE, { production: { ...COMMITTED, ...states } }).get('production') as Obj[];
}

/** Replicas of each colour of `component`: a fixed count, or the autoscaler's minimum. */
function sizes(objs: Obj[], component: string): { [colour: string]: number } {
  const size = (colour: string) => {
    const d = find(objs, 'Deployment', `${component}-${colour}`);
    return d.spec.replicas ?? find(objs, 'HorizontalPodAutoscaler', `${component}-${colour}`).spec.minReplicas;
  };
  return { blue: size('blue'), green: size('green') };
}

describe('a release runs at the scale serving when it starts', () => {
  test('GIVEN the active colour serves with 8 pods WHEN staged with --serving 8 THEN both colours hold 8 until finalize', () => {
    const staged = transition('t', stable, Action.STAGE, V2, { serving: 8 });
    expect(staged.size).toBe(8);
    expect(sizes(objectsWith({ [K]: staged }), K)).toEqual({ blue: 8, green: 8 });

    const promoted = transition('t', staged, Action.PROMOTE, undefined, { now: T0 });
    expect(promoted).toMatchObject({ active: Colour.GREEN, size: 8, promotedAt: '2026-12-03T12:00:00Z' });
    // promote never reduces serving capacity: the new colour's autoscaler minimum is the old colour's scale
    expect(sizes(objectsWith({ [K]: promoted }), K)).toEqual({ blue: 8, green: 8 });

    const done = transition('t', promoted, Action.FINALIZE, undefined, { now: minutes(31), bakeMinutes: 30 });
    expect(done.size).toBeUndefined();
    expect(done.promotedAt).toBeUndefined();
    // stable again: the active colour autoscales from its configured minimum, the old one on standby
    expect(sizes(objectsWith({ [K]: done }), K)).toEqual({ blue: 1, green: 5 });
  });

  test('a size below the configured replicas is raised to them; without --serving the configured replicas are used', () => {
    expect(sizes(objectsWith({ [C]: transition('t', stable, Action.STAGE, V2, { serving: 2 }) }), C)).toEqual({ blue: 3, green: 3 });
    expect(sizes(objectsWith({ [C]: transition('t', stable, Action.STAGE, V2) }), C)).toEqual({ blue: 3, green: 3 });
  });

  test('a fixed-size component runs both colours at the recorded size while the release is in progress', () => {
    expect(sizes(objectsWith({ [C]: transition('t', stable, Action.STAGE, V2, { serving: 4 }) }), C)).toEqual({ blue: 4, green: 4 });
  });

  test('a size the autoscaler cannot reach is refused at synth, naming the component and the figures', () => {
    const staged = transition('t', stable, Action.STAGE, V2, { serving: 12 });
    expect(() => objectsWith({ [K]: staged })).toThrow('production/knowledge-service: Microservice release size must be <= autoscaling.maxReplicas (10): '
      + 'the release was staged at a scale the autoscaler can no longer reach, got 12');
  });

  test('a rollback observing fewer pods (the new version failing) never shrinks the colour traffic returns to', () => {
    // GIVEN staged and promoted at 6 pods; WHEN the rollback observes 1 ready pod on the failing colour
    const promoted = transition('t', transition('t', stable, Action.STAGE, V2, { serving: 6 }), Action.PROMOTE);
    const back = transition('t', promoted, Action.ROLLBACK, undefined, { serving: 1 });
    // THEN the size stays 6; a larger observation raises it
    expect(back.size).toBe(6);
    expect(sizes(objectsWith({ [K]: back }), K)).toEqual({ blue: 6, green: 6 });
    expect(transition('t', promoted, Action.BREAK_GLASS, undefined, { serving: 1 }).size).toBe(6);
    expect(transition('t', promoted, Action.ROLLBACK, undefined, { serving: 8 }).size).toBe(8);
  });

  test('an abort drops the size: the idle colour goes back to standby', () => {
    const aborted = transition('t', transition('t', stable, Action.STAGE, V2, { serving: 8 }), Action.ROLLBACK);
    expect(aborted.size).toBeUndefined();
    expect(sizes(objectsWith({ [K]: aborted }), K)).toEqual({ blue: 5, green: 1 });
  });
});

describe('finalize waits for the bake time', () => {
  const promoted = transition('t', transition('t', stable, Action.STAGE, V2, { serving: 6 }), Action.PROMOTE, undefined, { now: T0 });

  test('GIVEN promoted at 12:00 with a 30-minute bake WHEN finalize at 12:10 THEN refused, saying from when', () => {
    expect(() => transition('production/knowledge-service', promoted, Action.FINALIZE, undefined, { now: minutes(10), bakeMinutes: 30 }))
      .toThrow(new ReleaseError('production/knowledge-service: cannot finalize while promoted: traffic on green (v1.1.0), blue (v1.0.0) '
        + 'kept at full size: the bake time has not passed: traffic moved to green at 2026-12-03T12:00:00Z, and blue (v1.0.0) keeps its '
        + 'full size for 30 min so that a rollback needs no new pods; finalize from 2026-12-03T12:30:00Z (in 20 min); allowed now: finalize, rollback'));
  });

  test('at the end of the bake time finalize is allowed; a rollback is allowed at any time', () => {
    expect(transition('t', promoted, Action.FINALIZE, undefined, { now: minutes(30), bakeMinutes: 30 }).phase).toBe(Phase.STABLE);
    expect(transition('t', promoted, Action.ROLLBACK, undefined, { now: minutes(1) }).phase).toBe(Phase.ROLLED_BACK);
  });

  test('a rolled-back release finalizes at once: the failed version must not keep running at full size', () => {
    const back = transition('t', promoted, Action.ROLLBACK, undefined, { now: minutes(1) });
    expect(transition('t', back, Action.FINALIZE, undefined, { now: minutes(2), bakeMinutes: 30 }).phase).toBe(Phase.STABLE);
  });
});

describe('break-glass records an emergency rollback', () => {
  test('while promoted: traffic back on the previous colour, the new version failed, sizes kept', () => {
    const promoted = transition('t', transition('t', stable, Action.STAGE, V2, { serving: 6 }), Action.PROMOTE, undefined, { now: T0 });
    expect(transition('t', promoted, Action.BREAK_GLASS)).toEqual({
      active: Colour.BLUE, phase: Phase.ROLLED_BACK, tags: { blue: V1, green: V2 }, attempt: 1, lastGood: V1, failed: [V2], size: 6,
    });
  });

  test('after finalize: traffic on the standby\'s version (the previous good one) at the size serving, the current one failed', () => {
    const after = { active: Colour.GREEN, phase: Phase.STABLE, tags: { blue: V1, green: V2 }, lastGood: V2 } as ComponentRelease;
    const broken = transition('t', after, Action.BREAK_GLASS, undefined, { serving: 7 });
    expect(broken).toEqual({ active: Colour.BLUE, phase: Phase.ROLLED_BACK, tags: { blue: V1, green: V2 }, lastGood: V1, failed: [V2], size: 7 });
    expect(validateReleaseState({ [K]: broken }, [K], [K], [K])).toEqual([]);
    expect(sizes(objectsWith({ [K]: broken }), K)).toEqual({ blue: 7, green: 7 });
    // and finalize then puts the standby back on the last good version
    expect(transition('t', broken, Action.FINALIZE).tags).toEqual({ blue: V1, green: V1 });
  });

  test.each([
    ['staged', transition('t', stable, Action.STAGE, V2), 'traffic has not moved (rollback aborts the staged release)'],
    ['stable with one version', stable, 'both colours run v1.0.0, there is no previous version'],
    ['rolled back', transition('t', transition('t', transition('t', stable, Action.STAGE, V2), Action.PROMOTE), Action.ROLLBACK),
      'traffic is already back on the previous colour (finalize first)'],
  ])('is refused when %s', (_name, state, why) => {
    expect(() => transition('t', state, Action.BREAK_GLASS)).toThrow(new RegExp(`: ${why.replace(/[()]/g, '\\$&')}; allowed now`));
  });
});

describe('the release state file', () => {
  test.each([
    [{ ...stable, size: 4 }, 'size', 4, 'is only kept while a release is in progress (not stable)'],
    [{ ...transition('t', stable, Action.STAGE, V2), size: 0 }, 'size', 0, 'must be an integer from 1 to 1000'],
    [{ ...transition('t', stable, Action.STAGE, V2), promotedAt: '2026-12-03T12:00:00Z' }, 'promotedAt', '2026-12-03T12:00:00Z', 'is only kept while promoted'],
    [{ ...transition('t', transition('t', stable, Action.STAGE, V2), Action.PROMOTE), promotedAt: 'yesterday' }, 'promotedAt', 'yesterday',
      'must be a UTC time like 2026-12-03T17:00:00Z'],
  ])('refuses %j at %s', (state, field, value, rule) => {
    expect(validateReleaseState({ [K]: state }, [K], [K], [K])).toEqual([{ component: K, field, value, rule }]);
  });
});

describe('the release command', () => {
  let root: string;
  const lines: string[] = [];
  const errors: string[] = [];
  const run = (now: Date, ...args: string[]) => {
    lines.length = 0;
    errors.length = 0;
    return release(args, { root, out: (l) => lines.push(l), err: (l) => errors.push(l), now });
  };
  const state = () => JSON.parse(fs.readFileSync(releaseFile(root, 'production'), 'utf8'))[K];

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-release-size-'));
    fs.mkdirSync(path.join(root, 'environments'));
    fs.copyFileSync(releaseFile(path.resolve(__dirname, '..'), 'production'), releaseFile(root, 'production'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test('stage --serving records the size; promote the time; finalize before the bake time is refused and changes nothing', () => {
    expect(run(T0, 'production', K, 'stage', V2, '--serving', '8')).toBe(0);
    expect(state()).toMatchObject({ phase: 'staged', size: 8 });
    expect(run(minutes(5), 'production', K, 'promote')).toBe(0);
    expect(state()).toMatchObject({ phase: 'promoted', size: 8, promotedAt: '2026-12-03T12:05:00Z' });
    const before = fs.readFileSync(releaseFile(root, 'production'), 'utf8');
    expect(run(minutes(20), 'production', K, 'finalize')).toBe(1);
    expect(errors[0]).toContain('finalize from 2026-12-03T12:35:00Z (in 15 min)');
    expect(fs.readFileSync(releaseFile(root, 'production'), 'utf8')).toBe(before);
    expect(run(minutes(35), 'production', K, 'finalize')).toBe(0);
    expect(state()).toEqual({ active: 'green', phase: 'stable', tags: { blue: V1, green: V2 }, attempt: 1, lastGood: V2 });
  });

  test.each([
    [['stage', V2, '--serving', 'ten'], '--serving must be the number of replicas serving now, an integer from 1 to 1000, got "ten"'],
    [['stage', V2, '--serving=0'], '--serving must be the number of replicas serving now, an integer from 1 to 1000, got "0"'],
    [['stage', V2, '--serving'], '--serving must be the number of replicas serving now, an integer from 1 to 1000, got ""'],
    [['stage', V2, '--serving', '3', '--serving', '4'], '--serving is given more than once'],
    [['promote', '--serving', '3'], '--serving sizes a release that moves traffic (stage, rollback, break-glass), not promote'],
  ])('refuses %j', (args, message) => {
    expect(run(T0, 'production', K, ...args)).toBe(1);
    expect(errors[0].split('\n')[0]).toBe(`release refused, nothing changed: ${message}`);
  });
});

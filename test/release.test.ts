import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Colour } from '../constructs';
import { synthesizeObjects } from '../synth/pipeline';
import { CATALOGUE, ConfigError, ENVIRONMENTS, resolveEnvironments } from '../environments';
import { production } from '../environments/production';
import { readReleaseStates, releaseFile } from '../release/files';
import {
  Action, ComponentRelease, describeHistory, failedOf, initialRelease, lastGoodOf, Phase, ReleaseError, transition,
} from '../release/state';
import { release } from '../scripts/release';
import { committedReleaseStates, find, Obj } from './helpers';
import { assertReleaseInvariants } from './invariants';

// Runs real work (Pulumi engine under mocks, promtool, whole synths): generous on a loaded CI machine.
jest.setTimeout(30_000);

const K = 'knowledge-service'; // autoscaled in production (5..10)
const C = 'content-service'; // fixed 3 replicas in production
const V1 = 'v1.0.0';
/** The committed production release state, which the tests change component by component. */
const COMMITTED = committedReleaseStates().production as object;
const V2 = 'v1.1.0';

const stable: ComponentRelease = { active: Colour.BLUE, phase: Phase.STABLE, tags: { blue: V1, green: 'v0.9.0' } };
const staged = transition('t', stable, Action.STAGE, V2);
const promoted = transition('t', staged, Action.PROMOTE);
const rolledBack = transition('t', promoted, Action.ROLLBACK);

/** Production objects with `state` applied to both test components. */
function productionWith(state: ComponentRelease): Obj[] {
  const releases = { [K]: state, [C]: state };
  return synthesizeObjects([production], CATALOGUE, { production: { ...COMMITTED, ...releases } }).get('production') as Obj[];
}

/** A smoke-test Job name with its spec hash (6 hex digits, last) shown as `<spec>`. */
const specHashed = (text: string) => text.replace(/(-smoke-[a-z0-9-]+)-[0-9a-f]{6}\b/g, '$1-<spec>');

function view(objs: Obj[], component: string) {
  const svc = (name: string) => find(objs, 'Service', name).spec.selector.version;
  const scale = (colour: string) => {
    const d = find(objs, 'Deployment', `${component}-${colour}`);
    if (d.spec.replicas !== undefined) return d.spec.replicas;
    const hpa = find(objs, 'HorizontalPodAutoscaler', `${component}-${colour}`);
    return hpa.spec.minReplicas === hpa.spec.maxReplicas ? hpa.spec.minReplicas : `${hpa.spec.minReplicas}..${hpa.spec.maxReplicas}`;
  };
  const tag = (colour: string) => find(objs, 'Deployment', `${component}-${colour}`).spec.template.spec.containers[0].image.split(':')[1];
  return {
    traffic: svc(component),
    preview: svc(`${component}-preview`),
    blue: `${tag('blue')} x${scale('blue')}`,
    green: `${tag('green')} x${scale('green')}`,
    smokeJobs: objs.filter((o) => o.kind === 'Job' && o.metadata.labels?.['smoke-test/target'] === component).map((o) => specHashed(o.metadata.name)),
  };
}

describe('legal release transitions, as synthesized', () => {
  test.each([
    ['stable: traffic on the active colour, idle colour on standby', stable,
      { traffic: 'blue', preview: 'green', blue: `${V1} x5..10`, green: 'v0.9.0 x1', smokeJobs: [] },
      { traffic: 'blue', preview: 'green', blue: `${V1} x3`, green: 'v0.9.0 x1', smokeJobs: [] }],
    ['stage: idle colour gets the new tag at full size, preview points at it, smoke test Job appears', staged,
      { traffic: 'blue', preview: 'green', blue: `${V1} x5..10`, green: `${V2} x5`, smokeJobs: [`${K}-smoke-v1-1-0-1-<spec>`] },
      { traffic: 'blue', preview: 'green', blue: `${V1} x3`, green: `${V2} x3`, smokeJobs: [`${C}-smoke-v1-1-0-1-<spec>`] }],
    ['promote: traffic moves to the new colour, the old one keeps full size', promoted,
      { traffic: 'green', preview: 'blue', blue: `${V1} x5`, green: `${V2} x5..10`, smokeJobs: [] },
      { traffic: 'green', preview: 'blue', blue: `${V1} x3`, green: `${V2} x3`, smokeJobs: [] }],
    ['finalize: the old colour goes to standby', transition('t', promoted, Action.FINALIZE),
      { traffic: 'green', preview: 'blue', blue: `${V1} x1`, green: `${V2} x5..10`, smokeJobs: [] },
      { traffic: 'green', preview: 'blue', blue: `${V1} x3`.replace('x3', 'x1'), green: `${V2} x3`, smokeJobs: [] }],
    ['rollback after promote: traffic returns at once to the previous colour, still at full size', rolledBack,
      { traffic: 'blue', preview: 'green', blue: `${V1} x5..10`, green: `${V2} x5`, smokeJobs: [] },
      { traffic: 'blue', preview: 'green', blue: `${V1} x3`, green: `${V2} x3`, smokeJobs: [] }],
    ['finalize after rollback: the failed colour goes to standby on the last good version', transition('t', rolledBack, Action.FINALIZE),
      { traffic: 'blue', preview: 'green', blue: `${V1} x5..10`, green: `${V1} x1`, smokeJobs: [] },
      { traffic: 'blue', preview: 'green', blue: `${V1} x3`, green: `${V1} x1`, smokeJobs: [] }],
    ['rollback of a staged release: the idle colour returns to its previous tag, on standby', transition('t', staged, Action.ROLLBACK),
      { traffic: 'blue', preview: 'green', blue: `${V1} x5..10`, green: 'v0.9.0 x1', smokeJobs: [] },
      { traffic: 'blue', preview: 'green', blue: `${V1} x3`, green: 'v0.9.0 x1', smokeJobs: [] }],
    ['rollback after finalize: the previous colour is first brought to full size behind the preview, traffic stays',
      transition('t', transition('t', promoted, Action.FINALIZE), Action.ROLLBACK),
      { traffic: 'green', preview: 'blue', blue: `${V1} x5`, green: `${V2} x5..10`, smokeJobs: [`${K}-smoke-v1-0-0-2-<spec>`] },
      { traffic: 'green', preview: 'blue', blue: `${V1} x3`, green: `${V2} x3`, smokeJobs: [`${C}-smoke-v1-0-0-2-<spec>`] }],
  ])('%s', (_name, state, autoscaled, fixed) => {
    const objs = productionWith(state);
    expect(view(objs, K)).toEqual(autoscaled);
    expect(view(objs, C)).toEqual(fixed);
    assertReleaseInvariants(objs, resolveEnvironments([production], CATALOGUE, { production: { ...COMMITTED, [K]: state, [C]: state } })[0]);
  });

  test('staging the same tag again after an abort runs a new smoke-test Job, not the completed one', () => {
    const first = productionWith(staged);
    const again = productionWith(transition('t', transition('t', staged, Action.ROLLBACK), Action.STAGE, V2));
    expect(view(first, K).smokeJobs).toEqual([`${K}-smoke-v1-1-0-1-<spec>`]);
    expect(view(again, K).smokeJobs).toEqual([`${K}-smoke-v1-1-0-2-<spec>`]);
  });

  test('traffic is never switched to a colour below full size, in any reachable phase', () => {
    // every phase reachable from stable by any sequence of legal actions (bounded walk)
    const seen = new Map<string, ComponentRelease>();
    let frontier = [stable];
    for (let depth = 0; depth < 6; depth++) {
      const next: ComponentRelease[] = [];
      for (const s of frontier) {
        for (const [action, tag] of [[Action.STAGE, 'v9.9.9'], [Action.PROMOTE], [Action.FINALIZE], [Action.ROLLBACK]] as const) {
          try {
            const n = transition('t', s, action, tag);
            const k = JSON.stringify(n);
            if (!seen.has(k)) { seen.set(k, n); next.push(n); }
          } catch (e) {
            if (!(e instanceof ReleaseError)) throw e;
          }
        }
      }
      frontier = next;
    }
    expect(seen.size).toBeGreaterThanOrEqual(8);
    for (const state of seen.values()) {
      const objs = productionWith(state);
      assertReleaseInvariants(objs, resolveEnvironments([production], CATALOGUE, { production: { ...COMMITTED, [K]: state, [C]: state } })[0]);
    }
  });
});

describe('illegal release transitions are refused', () => {
  test.each([
    ['promote without a staged colour', stable, Action.PROMOTE, undefined,
      't: cannot promote while stable: traffic on blue (v1.0.0), green (v0.9.0) on standby: nothing is staged (stage <tag> first); allowed now: stage, rollback'],
    ['finalize before promote', staged, Action.FINALIZE, undefined,
      't: cannot finalize while staged: green (v1.1.0) at full size behind the preview Service, traffic on blue (v1.0.0): the staged colour has not been promoted; allowed now: promote, rollback'],
    ['finalize with no release', stable, Action.FINALIZE, undefined,
      't: cannot finalize while stable: traffic on blue (v1.0.0), green (v0.9.0) on standby: no release to finalize; allowed now: stage, rollback'],
    ['stage while staged', staged, Action.STAGE, 'v2.0.0',
      't: cannot stage v2.0.0 while staged: green (v1.1.0) at full size behind the preview Service, traffic on blue (v1.0.0): a release is in progress; allowed now: promote, rollback'],
    ['stage while promoted', promoted, Action.STAGE, 'v2.0.0',
      't: cannot stage v2.0.0 while promoted: traffic on green (v1.1.0), blue (v1.0.0) kept at full size: a release is in progress; allowed now: finalize, rollback'],
    ['promote twice', promoted, Action.PROMOTE, undefined,
      't: cannot promote while promoted: traffic on green (v1.1.0), blue (v1.0.0) kept at full size: nothing is staged (stage <tag> first); allowed now: finalize, rollback'],
    ['rollback twice', rolledBack, Action.ROLLBACK, undefined,
      't: cannot rollback while rolled back: traffic on blue (v1.0.0), green (v1.1.0) still at full size: traffic is already back on the previous colour (finalize first); allowed now: finalize'],
    ['rollback with no previous version', initialRelease(V1), Action.ROLLBACK, undefined,
      't: cannot rollback while stable: traffic on blue (v1.0.0), green (v1.0.0) on standby: both colours run v1.0.0, there is no previous version; allowed now: stage, rollback'],
    ['a malformed tag', stable, Action.STAGE, 'v1.1.0:rc', 't: stage tag must be a pinned image tag that is also a label value (at most 63 letters, digits, "_", "." or "-", starting and ending with a letter or digit; a version like v1.4.2 or a commit SHA), got "v1.1.0:rc"'],
    ['a latest tag', stable, Action.STAGE, 'latest', 't: stage tag must be a pinned tag (a version like v1.4.2 or a commit SHA), not "latest", got "latest"'],
    ['stage without a tag', stable, Action.STAGE, undefined, 't: stage tag is required (stage <tag>), got ""'],
    ['staging the tag that already serves traffic', stable, Action.STAGE, V1, 't: cannot stage v1.0.0: the active colour blue already runs it'],
    ['a tag given to promote', staged, Action.PROMOTE, 'v3', 't: promote takes no tag, got "v3"'],
  ])('rejects %s', (_name, state, action, tag, message) => {
    expect(() => transition('t', state, action, tag)).toThrow(new ReleaseError(message));
  });
});

describe('rollback goes to the last good version, never to a failed one', () => {
  const V3 = 'v1.2.0';
  // v1.0.0 -> v1.1.0 released and finalized healthy: green serves v1.1.0, blue (v1.0.0) on standby
  const released = transition('t', promoted, Action.FINALIZE);
  const v3 = transition('t', released, Action.STAGE, V3);
  const afterFailed = transition('t', transition('t', transition('t', v3, Action.PROMOTE), Action.ROLLBACK), Action.FINALIZE);

  test('a finalized release becomes the last good version', () => {
    expect([lastGoodOf(stable), lastGoodOf(staged), lastGoodOf(promoted), lastGoodOf(released)]).toEqual([V1, V1, V1, V2]);
    expect(released).toEqual({ active: 'green', phase: 'stable', tags: { blue: V1, green: V2 }, attempt: 1, lastGood: V2 });
    expect(describeHistory(released)).toBe(`last good ${V2}; rollback brings back ${V1}`);
  });

  test('stage v3, promote, rollback, finalize: v3 is marked failed and the standby runs the last good version', () => {
    const rolled = transition('t', transition('t', v3, Action.PROMOTE), Action.ROLLBACK);
    expect(rolled).toEqual({ active: 'green', phase: 'rolled-back', tags: { blue: V3, green: V2 }, attempt: 2, lastGood: V2, failed: [V3] });
    expect(afterFailed).toEqual({ active: 'green', phase: 'stable', tags: { blue: V2, green: V2 }, attempt: 2, lastGood: V2, failed: [V3] });
    expect(describeHistory(afterFailed)).toBe(`last good ${V2}; failed ${V3}; nothing to roll back to`);
    // the next rollback cannot re-ship v3
    expect(() => transition('t', afterFailed, Action.ROLLBACK)).toThrow(new ReleaseError(
      `t: cannot rollback while stable: traffic on green (${V2}), blue (${V2}) on standby: both colours run ${V2}, there is no previous version; allowed now: stage, rollback`));
  });

  test('a failed version is never staged again; a fixed build under a new tag is', () => {
    expect(() => transition('production/knowledge-service', afterFailed, Action.STAGE, V3)).toThrow(new ReleaseError(
      `production/knowledge-service: cannot stage ${V3}: it was rolled back as failed (last good ${V2}); build the fix under a new tag, `
      + `or remove ${V3} from "failed" in environments/production.release.json in a reviewed change`));
    expect(transition('t', afterFailed, Action.STAGE, 'v1.2.1').tags).toEqual({ blue: 'v1.2.1', green: V2 });
  });

  test('a rollback after finalize marks the rolled-back version failed once traffic has left it and it is finalized', () => {
    const back = transition('t', released, Action.ROLLBACK);
    expect(back).toMatchObject({ phase: 'staged', tags: { blue: V1, green: V2 }, rollbackFrom: V2, lastGood: V2 });
    expect(failedOf(back)).toEqual([]); // still serving: not failed yet
    const moved = transition('t', back, Action.PROMOTE);
    expect(moved).toMatchObject({ active: 'blue', phase: 'promoted', rollbackFrom: V2 });
    expect(describeHistory(moved)).toBe(`last good ${V2}; rolling back ${V2}; rollback returns traffic to ${V2}`);
    expect(transition('t', moved, Action.FINALIZE)).toEqual({
      active: 'blue', phase: 'stable', tags: { blue: V1, green: V1 }, attempt: 2, lastGood: V1, failed: [V2],
    });
    // aborted before promote: nothing is marked
    expect(transition('t', back, Action.ROLLBACK)).toEqual({ ...released, attempt: 2 });
    // undone after promote: the version rolled back to is the failed one, traffic returns to the last good
    expect(transition('t', moved, Action.ROLLBACK)).toMatchObject({ active: 'green', phase: 'rolled-back', lastGood: V2, failed: [V1] });
  });
});

describe('release state files are validated with the rest of the configuration', () => {
  const problems = (state: unknown) => {
    try {
      // (the other components keep their committed state, so that only these problems are reported)
      const merged = state !== null && typeof state === 'object' ? { ...COMMITTED, ...state } : state;
      resolveEnvironments(ENVIRONMENTS, CATALOGUE, { production: merged });
      return [];
    } catch (e) {
      return (e as ConfigError).problems.map((p) => `${p.component ?? ''} ${p.field} ${p.rule}`);
    }
  };

  test('accepts the committed state', () => {
    expect(problems(readReleaseStates(path.resolve(__dirname, '..'), [production]).production)).toEqual([]);
  });

  test('rejects a bad colour, phase and tag, an unknown component and stray fields', () => {
    expect(problems({
      [K]: { active: 'red', phase: 'live', tags: { blue: 'latest', green: V1, purple: V1 }, extra: 1 },
      'billing-service': initialRelease(V1),
    })).toEqual([
      `${K} production.release.json active must be one of blue, green`,
      `${K} production.release.json phase must be one of stable, staged, promoted, rolled-back`,
      `${K} production.release.json tags.purple is an unknown field (fields here: blue, green)`,
      `${K} production.release.json extra is an unknown field (fields here: active, phase, tags, previousTag, attempt, lastGood, failed, rollbackFrom, size, promotedAt)`,
      `${K} production.release.json tags.blue must be a pinned tag (a version like v1.4.2 or a commit SHA), not "latest"`,
      'billing-service production.release.json release state must name a catalogue component (frontend, knowledge-service, content-service, support-service, analytics-service, auth-service)',
    ]);
  });

  test('accepts the release history fields, and rejects a history that contradicts the tags', () => {
    const afterFailed = { active: 'blue', phase: 'stable', tags: { blue: V1, green: V1 }, lastGood: V1, failed: ['v1.2.0'] };
    expect(problems({ [K]: afterFailed })).toEqual([]);
    expect(problems({
      [K]: { ...afterFailed, tags: { blue: V1, green: 'v1.2.0' }, lastGood: V2, failed: ['v1.2.0', V1, 'v1.2.0'], rollbackFrom: V1 },
      [C]: { active: 'green', phase: 'promoted', tags: { blue: V1, green: V2 }, failed: ['latest', V1], rollbackFrom: V2 },
    })).toEqual([
      `${C} production.release.json failed.0 must be a pinned tag (a version like v1.4.2 or a commit SHA), not "latest"`,
      `${C} production.release.json failed.1 must not be a version the blue colour runs: it is the rollback target`,
      `${C} production.release.json rollbackFrom must be ${V1}, the version being rolled back (the idle colour's tag)`,
      `${K} production.release.json lastGood must be ${V1}, the active colour's tag while stable (the last version promoted and finalized healthy)`,
      `${K} production.release.json failed.0 must not be a version the green colour runs: it is on standby`,
      `${K} production.release.json failed.1 must not be a version the blue colour runs: it serves traffic`,
      `${K} production.release.json failed.2 is listed twice`,
      `${K} production.release.json rollbackFrom is only kept while a rollback after finalize is staged or promoted`,
    ]);
  });

  test('rejects release state for a component released rolling, and unparsable files', () => {
    expect(resolveEnvironments.length).toBeGreaterThan(0);
    const staging = ENVIRONMENTS.find((e) => e.name === 'staging')!;
    expect(() => resolveEnvironments([staging], CATALOGUE, { staging: { frontend: initialRelease(V1) } }))
      .toThrow('staging/frontend: staging.release.json release state must only hold blue-green components (this one is released rolling), got "frontend"');
    expect(problems('invalid JSON in production.release.json: Unexpected token')).toEqual([
      // (only that: its entries are not "missing", which `init` would then overwrite)
      ' production.release.json release state must be an object mapping component names to their release',
    ]);
  });
});

describe('the release command', () => {
  let root: string;
  const lines: string[] = [];
  const errors: string[] = [];
  // A clock an hour further on every command: each bake time has passed when the next step runs.
  let clock = 0;
  const run = (...args: string[]) => {
    lines.length = 0;
    errors.length = 0;
    clock += 3_600_000;
    return release(args, { root, out: (l) => lines.push(l), err: (l) => errors.push(l), now: new Date(clock) });
  };
  const stateFile = () => fs.readFileSync(releaseFile(root, 'production'), 'utf8');

  beforeEach(() => {
    clock = Date.parse('2026-12-03T12:00:00Z');
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-release-'));
    fs.mkdirSync(path.join(root, 'environments'));
    fs.copyFileSync(releaseFile(path.resolve(__dirname, '..'), 'production'), releaseFile(root, 'production'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test('stage edits the state file, re-synthesizes dist/ and says what changed in plain words', () => {
    expect(run('production', K, 'stage', V2)).toBe(0);
    expect(lines.map(specHashed)).toEqual([
      `production/${K}: stage ${V2} -> staged: green (${V2}) at full size behind the preview Service, traffic on blue (${V1}); last good ${V1}`,
      // the review's lines (review/), risky first: the NetworkPolicies' connectivity diff says the
      // smoke-test pods may now reach the staged component
      `  production: newly allowed: smoke-test -> ${K} TCP 8001`,
      // the preview Service now selects the staged version's pods only
      `  production/${K}-preview: preview narrowed to ${V2}`,
      `  production/${K}-green: image ${V1} -> ${V2}`,
      `  production/${K}-green: autoscaler held at 1 -> held at 5`,
      `  production: Job ${K}-smoke-v1-1-0-1-<spec> added`,
      '  production: NetworkPolicy smoke-test added',
      'wrote environments/production.release.json and dist/production/; review and commit them. Next: promote | rollback',
    ]);
    expect(JSON.parse(stateFile())[K]).toEqual({ active: 'blue', phase: 'staged', tags: { blue: V1, green: V2 }, previousTag: V1, attempt: 1, lastGood: V1 });
    expect(fs.readdirSync(path.join(root, 'dist', 'production')).filter((f) => f.includes('-job-')).map(specHashed))
      .toEqual([`64-job-${K}-smoke-v1-1-0-1-<spec>.yaml`]);
  });

  test('promote prints the traffic switch', () => {
    run('production', C, 'stage', V2);
    expect(run('production', C, 'promote')).toBe(0);
    // each colour with the version it runs
    expect(lines).toContain(`  production/${C}: traffic blue (${V1}) -> green (${V2})`);
    expect(lines).toContain(`  production/${C}-preview: preview green (${V2}) -> blue (${V1})`);
    expect(run('production', C, 'finalize')).toBe(0);
    expect(lines).toContain(`  production/${C}-blue: replicas 3 -> 1`);
  });

  test('finalize after a rollback puts the last good version on standby and refuses to stage the failed one', () => {
    for (const step of [['stage', V2], ['promote'], ['rollback'], ['finalize']]) expect(run('production', K, ...step)).toBe(0);
    expect(lines).toEqual([
      `production/${K}: finalize -> stable: traffic on blue (${V1}), green (${V1}) on standby; last good ${V1}; failed ${V2}; nothing to roll back to`,
      `  production/${K}-green: image ${V2} -> ${V1}`,
      `  production/${K}-green: autoscaler held at 5 -> held at 1`,
      'wrote environments/production.release.json and dist/production/; review and commit them. Next: stage | rollback',
    ]);
    expect(JSON.parse(stateFile())[K]).toEqual({ active: 'blue', phase: 'stable', tags: { blue: V1, green: V1 }, attempt: 1, lastGood: V1, failed: [V2] });
    const before = stateFile();
    expect(run('production', K, 'stage', V2)).toBe(1);
    expect(errors).toEqual([`release refused, nothing changed: production/${K}: cannot stage ${V2}: it was rolled back as failed (last good ${V1}); `
      + `build the fix under a new tag, or remove ${V2} from "failed" in environments/production.release.json in a reviewed change`]);
    expect(stateFile()).toBe(before);
    expect(run('production', K, 'status')).toBe(0);
    expect(lines).toEqual([`production/${K}: stable: traffic on blue (${V1}), green (${V1}) on standby; last good ${V1}; failed ${V2}; nothing to roll back to; next: stage | rollback`]);
  });

  test('init records the state of a blue/green component that has none, and writes it with dist/', () => {
    // GIVEN a state file without the knowledge-service (e.g. a component just switched to blue/green)
    const recorded = JSON.parse(stateFile());
    delete recorded[K];
    fs.writeFileSync(releaseFile(root, 'production'), JSON.stringify(recorded));
    expect(run('production', K, 'stage', V2)).toBe(1);
    expect(errors.join('\n')).toContain(`production/${K}: release state is missing from environments/production.release.json`);
    // WHEN its running tag is recorded
    expect(run('production', K, 'init', V1)).toBe(0);
    // THEN it starts from the initial state, and can be released
    expect(lines).toEqual([
      `production/${K}: init ${V1} -> stable: traffic on blue (${V1}), green (${V1}) on standby; last good ${V1}; nothing to roll back to`,
      'wrote environments/production.release.json and dist/production/; review and commit them. Next: stage | rollback',
    ]);
    expect(JSON.parse(stateFile())[K]).toEqual(initialRelease(V1));
    expect(fs.existsSync(path.join(root, 'dist', 'production', `48-deployment-${K}-blue.yaml`))).toBe(true);
    expect(run('production', K, 'init', V1)).toBe(1);
    expect(errors).toEqual([`release refused, nothing changed: production/${K}: cannot init: it already has a release state `
      + `(stable: traffic on blue (${V1}), green (${V1}) on standby); allowed now: stage, rollback`]);
    expect(run('production', K, 'stage', V2)).toBe(0);
  });

  test('init without a component records every blue/green component of a new environment at once', () => {
    // GIVEN production without a state file: every component is missing, so one init at a time cannot help
    fs.rmSync(releaseFile(root, 'production'));
    expect(run('production', K, 'init', V1)).toBe(1);
    expect(errors.join('\n')).toContain(`production/${C}: release state is missing`);
    expect(fs.existsSync(releaseFile(root, 'production'))).toBe(false);
    // WHEN all are recorded with the tag they run
    expect([run('production', 'init', V1), errors]).toEqual([0, []]);
    // THEN each starts from the initial state, in one change with dist/
    expect(lines).toEqual([
      ...CATALOGUE.map((c) => `production/${c.name}: init ${V1} -> stable: traffic on blue (${V1}), green (${V1}) on standby; last good ${V1}; nothing to roll back to`),
      'wrote environments/production.release.json and dist/production/; review and commit them. Next: stage | rollback',
    ]);
    expect(JSON.parse(stateFile())).toEqual(Object.fromEntries(CATALOGUE.map((c) => [c.name, initialRelease(V1)])));
    expect(run('production', 'init', V1)).toBe(1);
    expect(errors).toEqual(['release refused, nothing changed: production: every blue/green component already has a release state; nothing to init']);
    expect(run('production', 'init', 'develop')).toBe(1);
  });

  test('init never overwrites a state file it cannot read, and refuses a rolling component', () => {
    // GIVEN a state file left with a merge conflict
    fs.writeFileSync(releaseFile(root, 'production'), '<<<<<<< HEAD\n{}\n');
    const before = stateFile();
    // WHEN init is asked to record every component
    expect(run('production', 'init', V1)).toBe(1);
    // THEN nothing is overwritten, and the message says what to do
    expect(errors).toEqual([expect.stringMatching(/^release refused, nothing changed: environments\/production.release.json is not a release state \(invalid JSON in production.release.json: [^]*\); restore it from git before init$/)]);
    expect(stateFile()).toBe(before);
    expect(fs.existsSync(path.join(root, 'dist'))).toBe(false);
    // AND init of a component released rolling says so (staging rolls every component)
    fs.copyFileSync(releaseFile(path.resolve(__dirname, '..'), 'production'), releaseFile(root, 'production'));
    expect(run('staging', 'frontend', 'init', V1)).toBe(1);
    expect(errors).toEqual(['release refused, nothing changed: staging/frontend is released rolling, not blue/green: its tag is the imageTag in environments/staging.ts']);
  });

  test('describes the step against dist/<environment>/ as it is on disk, not a second synthesis', () => {
    // GIVEN a staged release written with its dist/, and then an object removed from that folder by hand
    run('production', C, 'stage', V2);
    fs.rmSync(path.join(root, 'dist', 'production', '28-configmap-app-config.yaml'));
    // WHEN the next step runs
    expect(run('production', C, 'promote')).toBe(0);
    // THEN what it writes back is described as the change to the folder on disk
    expect(lines).toContain('  production: ConfigMap app-config added');
    expect(lines).toContain(`  production/${C}: traffic blue (${V1}) -> green (${V2})`);
  });

  test('synthesizes the state before the step only when dist/<environment>/ is missing or cannot be read', () => {
    // GIVEN the description of a promote read from an intact dist/
    run('production', C, 'stage', V2);
    const snapshot = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-release-before-'));
    fs.cpSync(root, snapshot, { recursive: true });
    expect(run('production', C, 'promote')).toBe(0);
    const fromDisk = lines.slice();
    // WHEN the same promote runs with a file of dist/production/ that is not a manifest (a merge conflict left in it)
    fs.rmSync(root, { recursive: true, force: true });
    fs.renameSync(snapshot, root);
    fs.writeFileSync(path.join(root, 'dist', 'production', '28-configmap-app-config.yaml'), '<<<<<<< HEAD\nkind: [\n');
    clock -= 3_600_000;
    expect(run('production', C, 'promote')).toBe(0);
    // THEN the description comes from a synthesis of the recorded state, the same as from the intact folder
    expect(lines).toEqual(fromDisk);
    expect(lines).toContain(`  production/${C}: traffic blue (${V1}) -> green (${V2})`);
  });

  test('status describes every blue/green component without changing anything', () => {
    const before = stateFile();
    expect(run('production', 'status')).toBe(0);
    expect(lines).toHaveLength(CATALOGUE.length);
    expect(lines[1]).toBe(`production/${K}: stable: traffic on blue (${V1}), green (${V1}) on standby; last good ${V1}; nothing to roll back to; next: stage | rollback`);
    expect(stateFile()).toBe(before);
    expect(fs.existsSync(path.join(root, 'dist'))).toBe(false);
  });

  test.each([
    [['production', K, 'promote'], `production/${K}: cannot promote while stable`],
    [['qa', K, 'stage', V2], 'unknown environment "qa"; known: staging, production'],
    [['production', 'billing-service', 'stage', V2], 'unknown component "billing-service" in production'],
    [['staging', 'frontend', 'stage', V2], 'staging/frontend is released rolling, not blue/green'],
    [['production', K, 'stage', 'v1.1.0!'], `production/${K}: stage tag must be a pinned image tag`],
    [['production', K, 'deploy'], 'unknown action "deploy"; allowed: init, stage, promote, finalize, rollback, break-glass, status'],
  ])('refuses %j and changes nothing', (args, message) => {
    const before = stateFile();
    expect(run(...args)).toBe(1);
    expect(errors.join('\n')).toContain(`release refused, nothing changed: ${message}`);
    expect(stateFile()).toBe(before);
    expect(fs.existsSync(path.join(root, 'dist'))).toBe(false);
  });
});

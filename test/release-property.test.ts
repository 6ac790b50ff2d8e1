/**
 * Random release sequences: stage / promote / finalize / rollback (an abort while staged) /
 * break-glass on random components, with random observed scales, from the committed production
 * state, with invariants checked after every step. A failure prints the seed and the sequence that
 * broke it; `KCP_RELEASE_SEED=<n>` replays one seed.
 */
import { Testing } from 'cdk8s';
import { Microservice, otherColour } from '../constructs';
import { CATALOGUE, ComponentSettings, resolveEnvironments } from '../environments';
import { production } from '../environments/production';
import { synthesizeObjects } from '../synth/pipeline';
import {
  Action, ComponentRelease, failedOf, formatReleaseState, lastGoodOf, Phase, ReleaseError, ReleaseState, rollbackTarget, strategyFor, transition,
  validateReleaseState,
} from '../release/state';
import { committedReleaseStates, find, Obj } from './helpers';
import { assertReleaseInvariants } from './invariants';

const COMMITTED = committedReleaseStates().production as ReleaseState;
const NAMES = CATALOGUE.map((c) => c.name);
/** Few tags, so that sequences stage failed and already-running versions again. */
const TAGS = ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0', 'v2.0.0'];
const ACTIONS = [Action.STAGE, Action.PROMOTE, Action.FINALIZE, Action.ROLLBACK, Action.BREAK_GLASS];
/** Actions that record the scale serving (`--serving`), and the scales the walk observes: within every autoscaler's reach. */
const SIZED = [Action.STAGE, Action.ROLLBACK, Action.BREAK_GLASS];
const SERVING = [1, 2, 3, 5, 6];
const SETTINGS = resolveEnvironments([production], CATALOGUE, { production: COMMITTED })[0].components as { [name: string]: ComponentSettings };

/**
 * Replicas of each colour of `component` in state `r`, as the Microservice construct renders them (a
 * fixed count, or its autoscaler's minimum): built for real, one component in a fresh chart.
 */
function rendered(component: string, r: ComponentRelease): { [colour: string]: number } {
  const settings = SETTINGS[component];
  const chart = Testing.chart();
  new Microservice(chart, component, {
    name: component, image: 'registry.example.com/kcp/x', containerPort: 8000, replicas: settings.replicas, resources: settings.resources,
    autoscaling: settings.autoscaling, release: strategyFor(r, settings.standbyReplicas),
  });
  const objs = Testing.synth(chart) as Obj[];
  const min = new Map(objs.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => [o.spec.scaleTargetRef.name, o.spec.minReplicas]));
  return Object.fromEntries(objs.filter((o) => o.kind === 'Deployment')
    .map((d) => [d.metadata.name.slice(component.length + 1), d.spec.replicas ?? min.get(d.metadata.name)]));
}
const SEEDS = process.env.KCP_RELEASE_SEED !== undefined ? [Number(process.env.KCP_RELEASE_SEED)] : Array.from({ length: 150 }, (_, i) => i + 1);
const STEPS = 40;

/** mulberry32: a small seeded PRNG, so that a failing sequence can be replayed. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** What the test itself remembers of each component's history, independently of the state file. */
interface Model {
  /** Versions that served traffic at a finalize, and the initial one. */
  readonly good: Set<string>;
  /** Versions rolled back as failed. */
  readonly failed: Set<string>;
  /** The version a rollback after finalize is moving away from, until its finalize or abort. */
  pending?: string;
}

/** The invariants of one component's state after a step; `step` is the step that led there. */
function checkComponent(r: ComponentRelease, model: Model, step: { action: Action; from: ComponentRelease } | undefined): void {
  const idle = otherColour(r.active);
  const failed = failedOf(r);
  const lastGood = lastGoodOf(r);
  const expect = (ok: boolean, what: string) => { if (!ok) throw new Error(what); };
  expect(JSON.stringify([...failed].sort()) === JSON.stringify([...model.failed].sort()),
    `failed versions ${JSON.stringify(failed)}, but these were rolled back: ${JSON.stringify([...model.failed])}`);
  expect(!failed.includes(r.tags[r.active]), `traffic is on ${r.tags[r.active]}, which is marked failed`);
  const target = rollbackTarget(r);
  expect(target === undefined || !failed.includes(target), `the rollback target ${target} is marked failed`);
  expect(!failed.includes(lastGood) && model.good.has(lastGood), `last good ${lastGood} is failed or never served healthy`);
  if (r.phase === Phase.STABLE) {
    expect(lastGood === r.tags[r.active], `stable, yet traffic is on ${r.tags[r.active]}, not on the last good ${lastGood}`);
    expect(!failed.includes(r.tags[idle]) && model.good.has(r.tags[idle]), `the standby runs ${r.tags[idle]}, which is failed or never served healthy`);
    // after a failed release, the standby is the last good version (never the one just rolled back)
    if (step?.action === Action.FINALIZE && (step.from.phase === Phase.ROLLED_BACK || step.from.rollbackFrom !== undefined)) {
      expect(r.tags[idle] === lastGood, `after a rolled-back release the standby runs ${r.tags[idle]}, not the last good ${lastGood}`);
    }
  }
  if (r.phase === Phase.PROMOTED) expect(r.tags[idle] === lastGood, `promoted, yet rollback would not return to the last good ${lastGood}`);
}

/** The model's view of a legal step. */
function advance(model: Model, from: ComponentRelease, action: Action): void {
  if (action === Action.BREAK_GLASS) {
    // traffic back on the other colour now: the version it left is failed
    model.failed.add(from.tags[from.active]);
    model.pending = undefined;
  } else if (action === Action.ROLLBACK && from.phase === Phase.PROMOTED) {
    model.failed.add(from.tags[from.active]);
    model.pending = undefined;
  } else if (action === Action.ROLLBACK && from.phase === Phase.STABLE) {
    model.pending = from.tags[from.active];
  } else if (action === Action.ROLLBACK && from.phase === Phase.STAGED) {
    model.pending = undefined;
  } else if (action === Action.FINALIZE) {
    if (model.pending !== undefined) model.failed.add(model.pending);
    model.pending = undefined;
  }
}

/** Runs the sequence of `seed`, writing each step and its outcome to `log` before checking it. */
function runSequence(seed: number, log: string[] = []): { state: ReleaseState; log: string[] } {
  const random = prng(seed);
  let state: ReleaseState = { ...COMMITTED };
  const models = new Map(NAMES.map((n) => [n, { good: new Set([lastGoodOf(state[n])]), failed: new Set(failedOf(state[n])) } as Model]));
  for (let i = 0; i < STEPS; i++) {
    const component = NAMES[random(NAMES.length)];
    const action = ACTIONS[random(ACTIONS.length)];
    const tag = action === Action.STAGE ? TAGS[random(TAGS.length)] : undefined;
    const serving = SIZED.includes(action) ? SERVING[random(SERVING.length)] : undefined;
    const where = `production/${component}`;
    const from = state[component];
    let next = state;
    let outcome: string;
    try {
      next = { ...state, [component]: transition(where, from, action, tag, { serving }) };
      outcome = 'ok';
    } catch (e) {
      if (!(e instanceof ReleaseError)) throw e;
      // a refusal names the component, and the version when it is about one
      if (!e.message.startsWith(`${where}: `) || (tag !== undefined && !e.message.includes(tag))) {
        throw new Error(`refusal does not name ${where}${tag ? ` and ${tag}` : ''}: ${e.message}`);
      }
      outcome = `refused (${e.message.slice(where.length + 2)})`;
    }
    log.push(`${component} ${action}${tag ? ` ${tag}` : ''}${serving ? ` --serving ${serving}` : ''}: ${outcome}`);
    const model = models.get(component)!;
    if (outcome === 'ok') {
      advance(model, from, action);
      if (action === Action.FINALIZE) model.good.add(next[component].tags[next[component].active]);
    }
    // exactly the named component changed (nothing at all on a refusal)
    for (const name of NAMES) {
      if ((name !== component || outcome !== 'ok') && next[name] !== state[name]) throw new Error(`${name} changed`);
    }
    // traffic never moves to a colour with fewer pods than the one it leaves (as the construct renders them),
    // and a colour taking traffic runs at least the scale observed serving (break-glass scales it first)
    const to = next[component];
    if (outcome === 'ok' && to.active !== from.active) {
      const before = rendered(component, from);
      const after = rendered(component, to);
      if (after[to.active] < before[from.active]) {
        throw new Error(`traffic moved from ${from.active} (${before[from.active]} pods) to ${to.active} with ${after[to.active]}`);
      }
      if (serving !== undefined && after[to.active] < Math.min(serving, SETTINGS[component].autoscaling?.maxReplicas ?? serving)) {
        throw new Error(`traffic moved to ${to.active} with ${after[to.active]} pods, ${serving} were serving`);
      }
    }
    state = next;
    checkComponent(state[component], model, outcome === 'ok' ? { action, from } : undefined);
    // its entry stays a valid state file entry, and survives being written and read back
    const entry = { [component]: state[component] };
    const problems = validateReleaseState(entry, NAMES, NAMES, NAMES);
    if (problems.length > 0) throw new Error(`invalid state file: ${problems.map((p) => `${p.component} ${p.field} ${p.rule}`).join('; ')}`);
    const written = formatReleaseState(entry);
    if (formatReleaseState(JSON.parse(written) as ReleaseState) !== written) throw new Error('the state file does not read back as written');
  }
  return { state, log };
}

describe('random release sequences keep the release invariants after every step', () => {
  test(`${SEEDS.length} seeded sequences of ${STEPS} steps on the state machine`, () => {
    let refusals = 0;
    let steps = 0;
    let breakGlass = 0;
    const failedAtSomePoint = new Set<number>();
    for (const seed of SEEDS) {
      const log: string[] = [];
      try {
        const { state } = runSequence(seed, log);
        steps += log.length;
        refusals += log.filter((l) => l.includes('refused')).length;
        breakGlass += log.filter((l) => l.includes('break-glass') && l.endsWith(': ok')).length;
        if (NAMES.some((n) => failedOf(state[n]).length > 0)) failedAtSomePoint.add(seed);
      } catch (e) {
        throw new Error(`seed ${seed} (replay with KCP_RELEASE_SEED=${seed}): ${(e as Error).message}\n`
          + `sequence, up to the failing step:\n  ${log.join('\n  ')}`);
      }
    }
    // the walk reaches failures and refusals, not only the happy path
    expect(refusals).toBeGreaterThan(steps / 10);
    expect(failedAtSomePoint.size).toBeGreaterThan(SEEDS.length / 4);
    expect(breakGlass).toBeGreaterThan(SEEDS.length / 4);
  });

  test('the synthesized manifests of end states keep the traffic invariants and run the recorded tags', () => {
    for (const seed of SEEDS.slice(0, 4)) {
      const { state } = runSequence(seed);
      const env = resolveEnvironments([production], CATALOGUE, { production: state })[0];
      const objs = synthesizeObjects([production], CATALOGUE, { production: state }).get('production') as Obj[];
      assertReleaseInvariants(objs, env);
      for (const name of NAMES) {
        for (const colour of ['blue', 'green'] as const) {
          const image = find(objs, 'Deployment', `${name}-${colour}`).spec.template.spec.containers[0].image as string;
          expect(`${name}-${colour} ${image.slice(image.lastIndexOf(':') + 1)}`).toBe(`${name}-${colour} ${state[name].tags[colour]}`);
        }
      }
    }
  });
});

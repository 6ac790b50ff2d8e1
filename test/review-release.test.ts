import { synthesizeObjects } from '../synth/pipeline';
import { CATALOGUE } from '../environments';
import { production } from '../environments/production';
import { Manifest, plainLine, reviewEnvironment } from '../review';
import { Action, ComponentRelease, transition } from '../release/state';
import { committedReleaseStates } from './helpers';

/**
 * The review over a whole release cycle, driven in-process: the release state machine moves two
 * components (knowledge-service, autoscaled 5..10 in production; content-service, 3 fixed
 * replicas) through stage -> promote -> finalize -> rollback -> promote -> finalize, production is
 * synthesized after each step, and each step's review must say where traffic goes and what happens
 * to capacity, and never contain a blocking line (a release step must always apply).
 */

const K = 'knowledge-service';
const C = 'content-service';
const COMMITTED = committedReleaseStates().production as { [component: string]: ComponentRelease };

function synth(states: { [component: string]: ComponentRelease }): Manifest[] {
  return synthesizeObjects([production], CATALOGUE, { production: { ...COMMITTED, ...states } }).get('production')! as unknown as Manifest[];
}

/** `[labels] line` of a step's review, traffic and capacity lines only. */
function trafficAndCapacity(before: Manifest[], after: Manifest[]): string[] {
  const review = reviewEnvironment('production', before, after);
  expect(review.lines.filter((l) => l.labels.includes('blocking'))).toEqual([]);
  return review.lines.filter((l) => l.topic === 'traffic' || l.topic === 'capacity').map((l) => `[${l.labels.join(',')}] ${plainLine(l)}`);
}

describe('the review of a release cycle', () => {
  const steps: Array<[string, Action, string?]> = [
    ['stage', Action.STAGE, 'v1.1.0'],
    ['promote', Action.PROMOTE],
    ['finalize', Action.FINALIZE],
    ['rollback (after finalize: the previous version back to full size behind the preview)', Action.ROLLBACK],
    ['promote the rollback', Action.PROMOTE],
    ['finalize the rollback', Action.FINALIZE],
  ];
  // Each step's states, computed up front (the state machine is pure); objects synthesized lazily.
  const states: Array<{ [component: string]: ComponentRelease }> = [{ [K]: COMMITTED[K], [C]: COMMITTED[C] }];
  for (const [, action, tag] of steps) {
    const prev = states[states.length - 1];
    states.push({ [K]: transition(K, prev[K], action, tag), [C]: transition(C, prev[C], action, tag) });
  }
  const synthesized: Manifest[][] = [];
  const objectsAt = (i: number) => (synthesized[i] ??= synth(states[i]));

  test.each([
    ['stage', 1, [
      `[traffic] production/${K}-preview: preview narrowed to v1.1.0`,
      `[traffic] production/${C}-preview: preview narrowed to v1.1.0`,
      `[capacity-up] production/${C}-green: replicas 1 -> 3`,
      `[capacity-up] production/${K}-green: autoscaler held at 1 -> held at 5`,
    ]],
    ['promote', 2, [
      `[traffic] production/${K}: traffic blue (v1.0.0) -> green (v1.1.0)`,
      `[traffic] production/${K}-preview: preview green (v1.1.0) -> blue (v1.0.0)`,
      `[traffic] production/${C}: traffic blue (v1.0.0) -> green (v1.1.0)`,
      `[traffic] production/${C}-preview: preview green (v1.1.0) -> blue (v1.0.0)`,
      // the new colour scales; the one that stopped serving keeps its pods (held at full size)
      `[capacity-up] production/${K}-green: autoscaler held at 5 -> 5..10`,
      `[capacity] production/${K}-blue: autoscaler 5..10 -> held at 5`,
    ]],
    ['finalize', 3, [
      // the old colour goes to standby: it serves no traffic, so this is not capacity-down
      `[capacity] production/${C}-blue: replicas 3 -> 1`,
      `[capacity] production/${K}-blue: autoscaler held at 5 -> held at 1`,
    ]],
    ['rollback after finalize', 4, [
      `[traffic] production/${K}-preview: preview narrowed to v1.0.0`,
      `[traffic] production/${C}-preview: preview narrowed to v1.0.0`,
      `[capacity-up] production/${C}-blue: replicas 1 -> 3`,
      `[capacity-up] production/${K}-blue: autoscaler held at 1 -> held at 5`,
    ]],
    ['promote the rollback', 5, [
      `[traffic] production/${K}: traffic green (v1.1.0) -> blue (v1.0.0)`,
      `[traffic] production/${K}-preview: preview blue (v1.0.0) -> green (v1.1.0)`,
      `[traffic] production/${C}: traffic green (v1.1.0) -> blue (v1.0.0)`,
      `[traffic] production/${C}-preview: preview blue (v1.0.0) -> green (v1.1.0)`,
      `[capacity-up] production/${K}-blue: autoscaler held at 5 -> 5..10`,
      `[capacity] production/${K}-green: autoscaler 5..10 -> held at 5`,
    ]],
    ['finalize the rollback', 6, [
      `[capacity] production/${C}-green: replicas 3 -> 1`,
      `[capacity] production/${K}-green: autoscaler held at 5 -> held at 1`,
    ]],
  ])('%s: traffic and capacity lines', (_name, step, expected) => {
    expect(trafficAndCapacity(objectsAt(step - 1), objectsAt(step))).toEqual(expected);
  });

  test('stage lets the smoke test reach the staged components; promote takes it back', () => {
    const exposure = (from: number, to: number) => reviewEnvironment('production', objectsAt(from), objectsAt(to)).lines
      .filter((l) => l.topic === 'exposure').map(plainLine);
    expect(exposure(0, 1)).toEqual([
      `production: newly allowed: smoke-test -> ${C} TCP 8002`,
      `production: newly allowed: smoke-test -> ${K} TCP 8001`,
    ]);
    expect(exposure(1, 2)).toEqual([
      `production: newly denied: smoke-test -> ${C} TCP 8002`,
      `production: newly denied: smoke-test -> ${K} TCP 8001`,
      'production: NetworkPolicy smoke-test removed',
    ]);
  });

  test('the finalize after a failed release re-points the failed colour\'s image to the last good version', () => {
    // stage v1.1.0, promote, rollback (v1.1.0 failed), finalize
    let s = COMMITTED[K];
    const seen: ComponentRelease[] = [s];
    for (const [action, tag] of [[Action.STAGE, 'v1.1.0'], [Action.PROMOTE], [Action.ROLLBACK], [Action.FINALIZE]] as const) {
      s = transition(K, s, action, tag);
      seen.push(s);
    }
    const [rolledBack, finalized] = [synth({ [K]: seen[3] }), synth({ [K]: seen[4] })];
    expect(reviewEnvironment('production', rolledBack, finalized).lines.map((l) => `[${l.labels.join(',')}] ${plainLine(l)}`)).toEqual([
      `[image] production/${K}-green: image v1.1.0 -> v1.0.0`,
      `[capacity] production/${K}-green: autoscaler held at 5 -> held at 1`,
    ]);
  });
});

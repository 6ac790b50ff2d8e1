/**
 * The review report on Argo Rollouts changes: the committed staging environment (an Argo canary and
 * an Argo blue/green component) as "before", a copy with one deliberate change as "after".
 */
import * as path from 'path';
import { Manifest, reviewEnvironment } from '../review';
import { ROOT } from '../synth/root';
import { loadManifests, readManifestTree } from '../validate';
import { find, Obj } from './helpers';

const STAGING = loadManifests(new Map([...readManifestTree(path.join(ROOT, 'dist'))].filter(([file]) => file.startsWith('staging/')))).objects
  .filter((o) => o.environment === 'staging').map((o) => o.body as unknown as Obj);

/** `[labels] text` of each line of the staging review after `edit`. */
function lines(edit: (objs: Obj[]) => void, before: readonly Obj[] = STAGING): string[] {
  const after = structuredClone(before) as Obj[];
  edit(after);
  return reviewEnvironment('staging', before as unknown as Manifest[], after as unknown as Manifest[]).lines
    .map((l) => `[${l.labels.join(', ')}] ${l.object ?? ''}: ${l.text}`);
}

describe('the review of Argo Rollouts changes', () => {
  test('a change of canary steps reads as the steps in plain words, before and after', () => {
    expect(lines((objs) => {
      const steps = find(objs, 'Rollout', 'knowledge-service').spec.strategy.canary.steps;
      steps.splice(3, 3, { setWeight: 25 }, { pause: {} });
    })).toEqual([
      // (risky lines first: an analysis dropped)
      '[alerts-down] argoproj.io/Rollout/soundcore-kcp-staging/knowledge-service: analysis at step 6: knowledge-service-smoke + soundcore-kcp-slo -> none',
      '[traffic] argoproj.io/Rollout/soundcore-kcp-staging/knowledge-service: canary steps: '
      + '10 % → pause 2m → analysis → 50 % → pause 5m → analysis → 100 % -> 10 % → pause 2m → analysis → 25 % → pause until promoted → 100 %',
    ]);
  });

  test('a looser analysis threshold and more tolerated failures read as less strict', () => {
    expect(lines((objs) => {
      const metrics = find(objs, 'AnalysisTemplate', 'soundcore-kcp-slo').spec.metrics;
      metrics[0].successCondition = 'result[0] <= 0.03';
      metrics[1].failureLimit = 2;
    })).toEqual([
      '[alerts-down] argoproj.io/AnalysisTemplate/soundcore-kcp-staging/soundcore-kcp-slo: analysis errors: result[0] <= 0.0144 -> result[0] <= 0.03 (less strict)',
      '[alerts-down] argoproj.io/AnalysisTemplate/soundcore-kcp-staging/soundcore-kcp-slo: analysis latency: failureLimit 0 -> 2 (less strict)',
    ]);
  });

  test('automatic promotion of a blue/green Rollout is flagged', () => {
    expect(lines((objs) => { find(objs, 'Rollout', 'content-service').spec.strategy.blueGreen.autoPromotionEnabled = true; })).toEqual([
      '[alerts-down] argoproj.io/Rollout/soundcore-kcp-staging/content-service: promotion by hand (kubectl argo rollouts promote) -> automatic once the analysis passed',
    ]);
  });

  test('a new canary Rollout says its steps and analyses', () => {
    const before = STAGING.filter((o) => !(o.kind === 'Rollout' && o.metadata.name === 'knowledge-service'));
    const after = STAGING;
    const got = reviewEnvironment('staging', before as unknown as Manifest[], after as unknown as Manifest[]).lines
      .filter((l) => l.object?.includes('Rollout')).map((l) => l.text);
    expect(got).toEqual([
      'canary steps: 10 % → pause 2m → analysis → 50 % → pause 5m → analysis → 100 %',
      'analysis at step 3: knowledge-service-smoke + soundcore-kcp-slo',
      'analysis at step 6: knowledge-service-smoke + soundcore-kcp-slo',
    ]);
  });
});

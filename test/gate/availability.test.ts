import { checkAutoscalerTargets, checkDisruptionBudgets, checkDisruptionBudgetSelectors, checkIntOrPercent } from '../../validate/availability';
import { environment, goodObjects, goodWith, goodWithout, lines, objectOf } from './helpers';

const HPA = 'shop/52-horizontalpodautoscaler-api.yaml';

describe('PodDisruptionBudgets', () => {
  test('cover every replicated workload of the good fixture (a set-based selector covers both colours)', () => {
    expect(lines([...checkDisruptionBudgets(environment(goodObjects())), ...checkDisruptionBudgetSelectors(environment(goodObjects()))])).toEqual([]);
  });

  test('are required for a workload with more than one replica', () => {
    const env = environment(goodWithout('shop/56-poddisruptionbudget-web.yaml'));
    expect(lines(checkDisruptionBudgets(env))).toEqual([
      'shop/48-deployment-web-blue.yaml Deployment shop/web-blue spec.replicas: runs 2 replicas but no PodDisruptionBudget in namespace shop selects its pods (selector app=web,version=blue); a node drain could evict them all at once [disruption/pdb-coverage]',
      'shop/48-deployment-web-green.yaml Deployment shop/web-green spec.replicas: runs 2 replicas but no PodDisruptionBudget in namespace shop selects its pods (selector app=web,version=green); a node drain could evict them all at once [disruption/pdb-coverage]',
    ]);
  });

  test('are required for a one-replica workload that an autoscaler scales beyond one', () => {
    // GIVEN api has no replicas field (1) but its HPA allows 6
    const env = environment(goodWithout('shop/56-poddisruptionbudget-api.yaml'));
    expect(lines(checkDisruptionBudgets(env))).toEqual([
      'shop/48-deployment-api.yaml Deployment shop/api: scales up to 6 replicas (HorizontalPodAutoscaler api) but no PodDisruptionBudget in namespace shop selects its pods (selector app=api); a node drain could evict them all at once [disruption/pdb-coverage]',
    ]);
  });

  test('must not overlap: a pod selected by two budgets cannot be evicted, so drains would stall', () => {
    const blueOnly = objectOf({
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web-blue', namespace: 'shop' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web', version: 'blue' } } },
    }, 'shop/56-poddisruptionbudget-web-blue.yaml');
    expect(lines(checkDisruptionBudgets(environment([...goodObjects(), blueOnly])))).toEqual([
      'shop/48-deployment-web-blue.yaml Deployment shop/web-blue spec.replicas: its pods (selector app=web,version=blue) are selected by 2 PodDisruptionBudgets (web, web-blue); evictions fail for pods with more than one, so node drains would stall [disruption/pdb-overlap]',
    ]);
  });

  test('are not required for a single replica', () => {
    const objects = goodWithout('shop/56-poddisruptionbudget-web.yaml', HPA, 'shop/56-poddisruptionbudget-api.yaml')
      .map((o) => (o.kind === 'Deployment' ? goodWith(o.file, (d) => { d.spec.replicas = 1; }).find((x) => x.file === o.file)! : o));
    expect(lines(checkDisruptionBudgets(environment(objects)))).toEqual([]);
  });

  test('that select no pods are reported', () => {
    const env = environment(goodWith('shop/56-poddisruptionbudget-api.yaml', (p) => { p.spec.selector.matchLabels.app = 'apii'; }));
    expect(lines(checkDisruptionBudgetSelectors(env))).toEqual([
      'shop/56-poddisruptionbudget-api.yaml PodDisruptionBudget shop/api spec.selector: selects no pods: no pod template in namespace shop matches app=apii [disruption/pdb-selector]',
    ]);
  });
});

describe('HorizontalPodAutoscalers', () => {
  test('target workloads that exist', () => {
    expect(lines(checkAutoscalerTargets(environment(goodObjects())))).toEqual([]);
  });

  test('targeting a missing workload are reported', () => {
    const env = environment(goodWith(HPA, (h) => { h.spec.scaleTargetRef.name = 'web'; }));
    expect(lines(checkAutoscalerTargets(env))).toEqual([
      `${HPA} HorizontalPodAutoscaler shop/api spec.scaleTargetRef: targets Deployment "web", which is not in namespace shop of the output [autoscaling/target]`,
    ]);
  });
});

describe('int-or-percent fields', () => {
  test('accept integers and percentages, and report any other string as the API server would', () => {
    const deployment = 'shop/48-deployment-api.yaml';
    const pdb = 'shop/56-poddisruptionbudget-web.yaml';
    const objects = goodWith(deployment, (d) => { d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '1' } }; });
    const changed = goodWith(pdb, (p) => { delete p.spec.minAvailable; p.spec.maxUnavailable = 'one'; });
    expect(lines([
      ...checkIntOrPercent(objects.find((o) => o.file === deployment)!),
      ...checkIntOrPercent(changed.find((o) => o.file === pdb)!),
    ])).toEqual([
      `${deployment} Deployment shop/api spec.strategy.rollingUpdate.maxUnavailable: must be an integer or a percentage such as "25%", got string "1" [value/int-or-percent]`,
      `${pdb} PodDisruptionBudget shop/web spec.maxUnavailable: must be an integer or a percentage such as "25%", got string "one" [value/int-or-percent]`,
    ]);
    expect(goodObjects().flatMap((o) => checkIntOrPercent(o))).toEqual([]);
  });
});

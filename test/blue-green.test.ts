import { Testing } from 'cdk8s';
import {
  Colour, IdleSize, Microservice, MicroserviceProps, ReleaseStrategy, SmokeTest,
} from '../constructs';
import { find, Obj, ofKind } from './helpers';

const BASE: Omit<MicroserviceProps, 'release'> = {
  name: 'orders',
  image: 'registry.example.com/shop/orders',
  containerPort: 8080,
  replicas: 4,
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
};
const TAGS = { blue: 'v1.0.0', green: 'v1.1.0' };

function synth(props: Partial<MicroserviceProps> & Pick<MicroserviceProps, 'release'>): Obj[] {
  const chart = Testing.chart();
  new Microservice(chart, 'Orders', { ...BASE, ...props });
  return Testing.synth(chart) as Obj[];
}

describe('a blue/green Microservice', () => {
  test('renders both colours, a Service on the active colour and a preview Service on the idle one', () => {
    // GIVEN / WHEN
    const objs = synth({ release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: TAGS }) });
    // THEN
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/orders-blue', 'Deployment/orders-green',
      'PodDisruptionBudget/orders-blue', 'PodDisruptionBudget/orders-green',
      'Service/orders', 'Service/orders-preview',
    ]);
    expect(find(objs, 'Service', 'orders').spec.selector).toEqual({ app: 'orders', version: 'blue' });
    expect(find(objs, 'Service', 'orders-preview').spec.selector).toEqual({ app: 'orders', version: 'green' });
    for (const colour of ['blue', 'green']) {
      const d = find(objs, 'Deployment', `orders-${colour}`);
      expect(d.spec.selector).toEqual({ matchLabels: { app: 'orders', version: colour } });
      expect(d.spec.template.metadata.labels).toMatchObject({ 'app': 'orders', 'version': colour, 'app.kubernetes.io/version': TAGS[colour as Colour] });
      expect(d.spec.template.spec.containers[0].image).toBe(`registry.example.com/shop/orders:${TAGS[colour as Colour]}`);
    }
    expect(objs).toMatchSnapshot();
  });

  test('keeps the active colour at full size and the idle colour on standby (default 1)', () => {
    const objs = synth({ release: ReleaseStrategy.blueGreen({ active: Colour.GREEN, tags: TAGS }) });
    expect(find(objs, 'Deployment', 'orders-green').spec.replicas).toBe(4);
    expect(find(objs, 'Deployment', 'orders-blue').spec.replicas).toBe(1);
  });

  test('runs the idle colour at full size during a release, and honours a custom standby count', () => {
    const full = synth({ release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: TAGS, idle: IdleSize.FULL }) });
    expect(find(full, 'Deployment', 'orders-green').spec.replicas).toBe(4);
    const two = synth({ release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: TAGS, standbyReplicas: 2 }) });
    expect(find(two, 'Deployment', 'orders-green').spec.replicas).toBe(2);
  });

  test('gives every colour an HPA when autoscaled: the active one scales, the idle one is held, none pins replicas', () => {
    const objs = synth({
      release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: TAGS }),
      autoscaling: { maxReplicas: 8 },
    });
    for (const d of ofKind(objs, 'Deployment')) expect(d.spec.replicas).toBeUndefined();
    const blue = find(objs, 'HorizontalPodAutoscaler', 'orders-blue');
    const green = find(objs, 'HorizontalPodAutoscaler', 'orders-green');
    expect([blue.spec.scaleTargetRef.name, blue.spec.minReplicas, blue.spec.maxReplicas]).toEqual(['orders-blue', 4, 8]);
    expect([green.spec.scaleTargetRef.name, green.spec.minReplicas, green.spec.maxReplicas]).toEqual(['orders-green', 1, 1]);
    expect(blue.spec.metrics[0].resource.target).toEqual({ type: 'Utilization', averageUtilization: 70 });
  });

  test('covers each colour with its own PodDisruptionBudget that never blocks a drain', () => {
    const objs = synth({ release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: TAGS }) });
    const pdb = find(objs, 'PodDisruptionBudget', 'orders-green');
    expect(pdb.spec).toEqual({
      maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: { matchLabels: { app: 'orders', version: 'green' } },
    });
  });

  test('spreads each colour across nodes and zones with soft constraints', () => {
    const objs = synth({ release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: TAGS }) });
    const spread = find(objs, 'Deployment', 'orders-green').spec.template.spec.topologySpreadConstraints;
    expect(spread.map((c: { topologyKey: string; whenUnsatisfiable: string }) => [c.topologyKey, c.whenUnsatisfiable])).toEqual([
      ['kubernetes.io/hostname', 'ScheduleAnyway'], ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
    ]);
    expect(spread[0].labelSelector).toEqual({ matchLabels: { app: 'orders', version: 'green' } });
  });

  test('throws on a latest tag, a bad colour or a negative standby count', () => {
    expect(() => ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: { blue: 'v1', green: 'latest' } }))
      .toThrow('ReleaseStrategy.blueGreen: tags.green must be a pinned tag (a version like v1.4.2 or a commit SHA), not "latest", got "latest"');
    expect(() => ReleaseStrategy.blueGreen({ active: 'red' as Colour, tags: TAGS }))
      .toThrow('ReleaseStrategy.blueGreen: active must be Colour.BLUE or Colour.GREEN, got "red"');
    expect(() => ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: TAGS, standbyReplicas: -1 }))
      .toThrow('ReleaseStrategy.blueGreen: standbyReplicas must be an integer >= 0, got -1');
  });

  test('throws when an autoscaled pair would keep no standby pod (an HPA cannot hold 0)', () => {
    expect(() => synth({ release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: TAGS, standbyReplicas: 0 }), autoscaling: { maxReplicas: 6 } }))
      .toThrow('Microservice orders: standbyReplicas must be an integer >= 1 when autoscaling (an HPA cannot hold 0 replicas), got 0');
  });
});

describe('a rolling Microservice', () => {
  test('updates with zero unavailable pods and a 25% surge', () => {
    const objs = synth({ release: ReleaseStrategy.rolling({ imageTag: 'v1.0.0' }) });
    expect(find(objs, 'Deployment', 'orders').spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
  });

  test('has no PodDisruptionBudget or spread when it can only ever run one pod', () => {
    const objs = synth({ release: ReleaseStrategy.rolling({ imageTag: 'v1.0.0' }), replicas: 1 });
    expect(ofKind(objs, 'PodDisruptionBudget')).toEqual([]);
    expect(find(objs, 'Deployment', 'orders').spec.template.spec.topologySpreadConstraints).toBeUndefined();
  });

  test('gets a PodDisruptionBudget when an HPA may scale a single pod out', () => {
    const objs = synth({ release: ReleaseStrategy.rolling({ imageTag: 'v1.0.0' }), replicas: 1, autoscaling: { maxReplicas: 3 } });
    expect(find(objs, 'PodDisruptionBudget', 'orders').spec.selector).toEqual({ matchLabels: { app: 'orders' } });
    expect(find(objs, 'Deployment', 'orders').spec.replicas).toBeUndefined();
  });
});

describe('SmokeTest', () => {
  test('checks the staged colour through the preview Service, as a restricted Job named after the tag', () => {
    // GIVEN
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', { ...BASE, release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: TAGS, idle: IdleSize.FULL }) });
    // WHEN
    const smoke = new SmokeTest(chart, 'Smoke', { target: orders, paths: ['/health', '/api/v1/orders/'] });
    // THEN
    expect(smoke.name).toMatch(/^orders-smoke-v1-1-0-[0-9a-f]{6}$/);
    const job = find(Testing.synth(chart) as Obj[], 'Job', smoke.name);
    expect(smoke.urls).toEqual(['http://orders-preview:8080/health', 'http://orders-preview:8080/api/v1/orders/']);
    const container = job.spec.template.spec.containers[0];
    expect(container.args).toEqual(['http://orders-preview:8080/health', 'http://orders-preview:8080/api/v1/orders/']);
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.metadata.labels).toMatchObject({ 'app': 'smoke-test', 'smoke-test/target': 'orders', 'smoke-test/version': 'v1.1.0' });
  });

  test('names each staging attempt apart, keeping the attempt when a long tag is shortened to 63 characters', () => {
    const chart = Testing.chart();
    const sha = 'a'.repeat(40);
    const orders = new Microservice(chart, 'Orders', {
      ...BASE, release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: { blue: 'v1', green: sha }, idle: IdleSize.FULL }),
    });
    const first = new SmokeTest(chart, 'First', { target: orders, attempt: 1 });
    expect(first.instance).toBe(`orders-smoke-${sha}-1`);
    expect(first.name).toBe(`${first.instance}-${first.specHash}`);
    const long = new SmokeTest(chart, 'Twelfth', { target: orders, attempt: 12 });
    expect([long.name.length <= 63, long.instance.endsWith('-12'), long.name.endsWith(`-12-${long.specHash}`)]).toEqual([true, true, true]);
    expect(() => new SmokeTest(chart, 'Zero', { target: orders, attempt: 0 })).toThrow('SmokeTest orders: attempt must be an integer >= 1, got 0');
  });

  test('throws on a relative path', () => {
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', { ...BASE, release: ReleaseStrategy.rolling({ imageTag: 'v1' }) });
    expect(() => new SmokeTest(chart, 'Smoke', { target: orders, paths: ['health'] }))
      .toThrow('SmokeTest orders: paths must be absolute HTTP paths, got "health"');
  });
});

/**
 * The conventions a platform sets once on its chart (label keys, annotation domain, UID), read by
 * every construct below it; and the library's neutral defaults when it sets none.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import {
  Colour, Conventions, findLibraryAnnotation, Microservice, NetworkPeer, NetworkPort, ReleaseStrategy, SecureNamespace, SmokeTest, TrafficPeer,
  WorkloadMonitor, ZeroTrustNetwork,
} from '../constructs';
import { KCP_CONVENTIONS } from '../kcp';
import { ORDERS } from './orders-props';

const SHOP = new Conventions({ appLabel: 'shop.example.com/app', colourLabel: 'shop.example.com/colour', annotationDomain: 'shop.example.com', runAsUser: 1000 });

/** A chart with a namespace, its network and a blue/green `orders` in it, and a datastore run elsewhere. */
function platform(chart: Chart) {
  const namespace = new SecureNamespace(chart, 'Namespace', { name: 'shop' });
  namespace.declareOutOfBandSecret('db', ['url']);
  const network = new ZeroTrustNetwork(chart, 'Network', { namespace });
  const orders = new Microservice(chart, 'Orders', {
    ...ORDERS, network, release: ReleaseStrategy.blueGreen({ active: Colour.BLUE, tags: { blue: '1.0.0', green: '1.1.0' } }),
  });
  const db = new TrafficPeer(chart, 'Db', { network, name: 'db', peer: NetworkPeer.pods({ role: 'db' }), managedElsewhere: 'PostgreSQL, run by the DBA team' });
  orders.connectTo(db, { ports: [NetworkPort.tcp(5432)] });
  new SmokeTest(orders, 'Smoke', { target: orders, paths: ['/health'] });
  const monitor = new WorkloadMonitor(chart, 'Monitor', { name: 'shop', selectLabels: {} });
  monitor.scrape(orders);
  return Testing.synth(chart);
}

const find = (objs: ReturnType<typeof Testing.synth>, kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name)!;

describe('Conventions', () => {
  test('a platform\'s own label keys, annotation domain and UID reach every object its chart holds', () => {
    // GIVEN a chart with the shop's conventions
    const chart = Testing.chart();
    Conventions.set(chart, SHOP);
    // WHEN the platform is built on it
    const objs = platform(chart);
    // THEN selectors, colour labels, annotations and UIDs are the shop's
    expect(find(objs, 'Deployment', 'orders-blue').spec.selector.matchLabels).toEqual({ 'shop.example.com/app': 'orders', 'shop.example.com/colour': 'blue' });
    expect(find(objs, 'Service', 'orders').spec.selector).toEqual({ 'shop.example.com/app': 'orders', 'shop.example.com/colour': 'blue' });
    expect(find(objs, 'Service', 'orders-preview').spec.selector).toMatchObject({ 'shop.example.com/colour': 'green' });
    expect(find(objs, 'NetworkPolicy', 'orders').spec.podSelector).toEqual({ matchLabels: { 'shop.example.com/app': 'orders' } });
    expect(find(objs, 'NetworkPolicy', 'db').metadata.annotations).toEqual({ 'networking.shop.example.com/pods-managed-elsewhere': 'PostgreSQL, run by the DBA team' });
    expect(find(objs, 'Namespace', 'shop').metadata.annotations).toMatchObject({ 'secrets.shop.example.com/provided-out-of-band': '{"db":["url"]}' });
    expect(find(objs, 'ServiceMonitor', 'shop').spec.podTargetLabels).toEqual(['shop.example.com/colour']);
    const job = objs.find((o) => o.kind === 'Job')!;
    expect(job.spec.template.metadata.labels).toMatchObject({ 'shop.example.com/app': 'smoke-test' });
    for (const pod of [find(objs, 'Deployment', 'orders-green').spec.template.spec, job.spec.template.spec]) {
      expect(pod.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 });
      expect(pod.containers[0].securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000 });
    }
    // (no default key is left anywhere)
    expect(JSON.stringify(objs)).not.toMatch(/"app":|"version":|constructs\.internal|65532/);
  });

  test('without conventions, the library\'s neutral defaults apply: app, version, constructs.internal, UID 65532', () => {
    // GIVEN a chart without conventions
    const objs = platform(Testing.chart());
    // THEN
    expect(find(objs, 'Deployment', 'orders-blue').spec.selector.matchLabels).toEqual({ app: 'orders', version: 'blue' });
    expect(find(objs, 'NetworkPolicy', 'db').metadata.annotations).toEqual({ 'networking.constructs.internal/pods-managed-elsewhere': 'PostgreSQL, run by the DBA team' });
    expect(find(objs, 'Namespace', 'shop').metadata.annotations).toMatchObject({ 'secrets.constructs.internal/provided-out-of-band': '{"db":["url"]}' });
    expect(find(objs, 'Deployment', 'orders-blue').spec.template.spec.securityContext).toMatchObject({ runAsUser: 65532, runAsGroup: 65532 });
  });

  test('a workload\'s own runAsUser wins over the conventions', () => {
    const chart = Testing.chart();
    Conventions.set(chart, SHOP);
    new Microservice(chart, 'Orders', { ...ORDERS, runAsUser: 4242 });
    expect(find(Testing.synth(chart), 'Deployment', 'orders').spec.template.spec.securityContext).toMatchObject({ runAsUser: 4242 });
  });

  test('are read from the nearest scope that has them: two charts of one app keep their own', () => {
    // GIVEN two charts, one with conventions
    const app = Testing.app();
    const shop = new Chart(app, 'shop');
    Conventions.set(shop, SHOP);
    const other = new Chart(app, 'other');
    // THEN
    expect(Conventions.of(new Microservice(shop, 'Orders', ORDERS)).appLabel).toBe('shop.example.com/app');
    expect(Conventions.of(new Microservice(other, 'Orders', ORDERS))).toBe(Conventions.DEFAULT);
  });

  test('throws when set on a scope that already has constructs (they have read other conventions)', () => {
    const chart = Testing.chart();
    new Microservice(chart, 'Orders', ORDERS);
    expect(() => Conventions.set(chart, SHOP)).toThrow(
      'Conventions at test: scope must have no children yet (constructs read the conventions when built), got ["Orders"]');
  });

  test.each([
    [{ appLabel: 'App Label' }, 'Conventions: appLabel must be a Kubernetes label key (an optional DNS subdomain prefix and "/", then at most 63 letters, digits, "-", "_" or "."), got "App Label"'],
    [{ colourLabel: 'app' }, 'Conventions: colourLabel must differ from appLabel, got "app"'],
    [{ annotationDomain: 'Shop.com' }, 'Conventions: annotationDomain must be a DNS-1123 subdomain (dot-separated lowercase labels, at most 253 characters), got "Shop.com"'],
    [{ annotationDomain: 'shop' }, 'Conventions: annotationDomain must be a domain with at least one dot, e.g. example.com, got "shop"'],
    [{ runAsUser: 0 }, 'Conventions: runAsUser must be a non-root UID: an integer from 1 to 2147483647, got 0'],
  ])('rejects %j', (props, message) => {
    expect(() => new Conventions(props)).toThrow(message);
  });

  test('the KCP app keeps its own: app, version, soundcore-kcp.com, UID 10001', () => {
    expect(KCP_CONVENTIONS).toMatchObject({ appLabel: 'app', colourLabel: 'version', annotationDomain: 'soundcore-kcp.com', runAsUser: 10001 });
    expect(KCP_CONVENTIONS.annotationKey('podsManagedElsewhere')).toBe('networking.soundcore-kcp.com/pods-managed-elsewhere');
  });

  test('findLibraryAnnotation finds an annotation under the domain given, or under any domain', () => {
    const annotations = { 'networking.b.example/pods-managed-elsewhere': 'b', 'networking.a.example/pods-managed-elsewhere': 'a', 'secrets/provided-out-of-band': '{}' };
    expect(findLibraryAnnotation(annotations, 'podsManagedElsewhere')).toEqual({ key: 'networking.a.example/pods-managed-elsewhere', value: 'a' });
    expect(findLibraryAnnotation(annotations, 'podsManagedElsewhere', 'b.example')).toEqual({ key: 'networking.b.example/pods-managed-elsewhere', value: 'b' });
    expect(findLibraryAnnotation(annotations, 'podsManagedElsewhere', 'c.example')).toBeUndefined();
    expect(findLibraryAnnotation(annotations, 'outOfBandSecrets')).toBeUndefined();
  });

  test('the library holds no KCP name: no soundcore, no UID 10001', () => {
    const dir = path.join(__dirname, '..', 'constructs');
    const hits = fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n')
      .map((line, i) => ({ at: `constructs/${f}:${i + 1}`, line }))
      .filter(({ line }) => /soundcore|10001/i.test(line)).map(({ at }) => at));
    expect(hits).toEqual([]);
  });
});

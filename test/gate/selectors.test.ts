/**
 * The label index (validate/selectors.ts) gives the same answers as matching every selector against
 * every item (the matchers of validate/workloads.ts), on crafted cases, on generated ones and on
 * every selector of dist/.
 */
import * as path from 'path';
import { Json, LabelIndex, Labels, loadManifests, readManifestTree } from '../../validate';
import { EnvironmentIndex } from '../../validate/environment';
import { asObject } from '../../validate/findings';
import { checkServiceMonitorPorts, checkServiceMonitorSelectors } from '../../validate/traffic';
import { labelSelectorMatches, mapSelects } from '../../validate/workloads';
import { lines, objectOf } from './helpers';

interface Item { readonly id: string; readonly labels: Labels }

const ITEMS: Item[] = [
  { id: 'web-blue', labels: { app: 'web', colour: 'blue', tier: 'frontend' } },
  { id: 'web-green', labels: { app: 'web', colour: 'green', tier: 'frontend' } },
  { id: 'api', labels: { app: 'api', tier: 'backend' } },
  { id: 'worker', labels: { app: 'worker' } },
  { id: 'bare', labels: {} },
];

const index = new LabelIndex(ITEMS, (i) => i.labels);
const selected = (selector: unknown) => index.selectedBy(selector).map((i) => i.id);
const allPairs = (selector: unknown) => ITEMS.filter((i) => labelSelectorMatches(selector, i.labels)).map((i) => i.id);

describe('the label index', () => {
  test.each<[string, unknown, string[]]>([
    ['{} selects everything', {}, ['web-blue', 'web-green', 'api', 'worker', 'bare']],
    ['a missing selector selects nothing', undefined, []],
    ['a non-object selector selects nothing', 'app=web', []],
    ['matchLabels', { matchLabels: { app: 'web' } }, ['web-blue', 'web-green']],
    ['two matchLabels', { matchLabels: { app: 'web', colour: 'green' } }, ['web-green']],
    ['a matchLabels value no item has', { matchLabels: { app: 'db' } }, []],
    ['a non-string matchLabels value', { matchLabels: { app: 1 } }, []],
    ['In', { matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'worker', 'api'] }] }, ['api', 'worker']],
    ['In with no values', { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] }, []],
    ['NotIn (items without the key match)', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, ['api', 'worker', 'bare']],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, ['web-blue', 'web-green', 'api']],
    ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, ['worker', 'bare']],
    ['an unknown operator selects nothing', { matchExpressions: [{ key: 'app', operator: 'Like', values: ['web'] }] }, []],
    ['matchLabels and expressions together', {
      matchLabels: { tier: 'frontend' }, matchExpressions: [{ key: 'colour', operator: 'NotIn', values: ['blue'] }],
    }, ['web-green']],
  ])('%s, as matching every item does', (_, selector, expected) => {
    // GIVEN five items, WHEN a selector is answered by index and by every pair, THEN both agree
    expect(selected(selector)).toEqual(expected);
    expect(allPairs(selector)).toEqual(expected);
  });

  test('Service-style map selectors: an empty map selects nothing, every entry must match', () => {
    const matched = (selector: Labels) => index.matchedBy(selector).map((i) => i.id);
    expect(matched({})).toEqual([]);
    expect(matched({ app: 'web' })).toEqual(['web-blue', 'web-green']);
    expect(matched({ app: 'web', colour: 'blue' })).toEqual(['web-blue']);
    expect(matched({ app: 'web', colour: 'red' })).toEqual([]);
    for (const selector of [{}, { app: 'web' }, { tier: 'backend', app: 'api' }, { x: 'y' }] as Labels[]) {
      expect(matched(selector)).toEqual(ITEMS.filter((i) => mapSelects(selector, i.labels)).map((i) => i.id));
    }
  });

  test('agrees with every pair on 1,000 generated selectors over 200 generated items', () => {
    // GIVEN items and selectors drawn from a small alphabet (seeded, so that a failure repeats)
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor(seed / 65536) % n; // (the high bits: an LCG's low bits repeat quickly)
    };
    const keys = ['app', 'tier', 'colour', 'zone'];
    const values = ['a', 'b', 'c'];
    const labels = (): Labels => Object.fromEntries(keys.filter(() => random(3) > 0).map((k) => [k, values[random(3)]]));
    const items = Array.from({ length: 200 }, (_, i) => ({ id: String(i), labels: labels() }));
    const generated = new LabelIndex(items, (i) => i.labels);
    const operators = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
    const ids = (list: readonly Item[]) => list.map((i) => i.id).join(',');
    const disagreements: unknown[] = [];
    let nonEmpty = 0;
    for (let n = 0; n < 1000; n++) {
      const selector = {
        matchLabels: random(2) === 0 ? labels() : {},
        matchExpressions: Array.from({ length: random(3) }, () => ({
          key: keys[random(4)], operator: operators[random(4)], values: values.filter(() => random(2) === 0),
        })),
      };
      // WHEN answered both ways, THEN the same items come back in the same order
      const expected = ids(items.filter((i) => labelSelectorMatches(selector, i.labels)));
      if (ids(generated.selectedBy(selector)) !== expected) disagreements.push(selector);
      const map = labels();
      if (ids(generated.matchedBy(map)) !== ids(items.filter((i) => mapSelects(map, i.labels)))) disagreements.push(map);
      if (expected !== '') nonEmpty++;
    }
    expect(disagreements).toEqual([]);
    // (the generated selectors are not trivially empty: a good share selects something)
    expect(nonEmpty).toBeGreaterThan(100);
  });

  test('answers every selector of dist/ as matching every pod template of its namespace does', () => {
    // GIVEN the committed output of every environment
    const { objects } = loadManifests(readManifestTree(path.join(__dirname, '..', '..', 'dist')));
    let compared = 0;
    for (const name of [...new Set(objects.map((o) => o.environment))]) {
      const env = new EnvironmentIndex(name, objects.filter((o) => o.environment === name));
      for (const object of env.objects) {
        const spec = asObject(object.body.spec);
        const selectors: Array<{ selector: Json | undefined; map: boolean }> = [
          { selector: spec.podSelector, map: false }, { selector: spec.selector, map: object.kind === 'Service' },
        ];
        for (const { selector, map } of selectors.filter((s) => s.selector !== undefined)) {
          // WHEN each selector is answered by the index and by every pod template of the namespace
          const pods = env.podsIn(object.namespace);
          const expected = pods.filter((p) => (map ? mapSelects(selector as Labels, p.labels) : labelSelectorMatches(selector, p.labels)));
          const actual = map ? env.podIndex(object.namespace).matchedBy(selector as Labels) : env.podIndex(object.namespace).selectedBy(selector);
          // THEN both give the same pods
          expect(actual.map((p) => p.owner.file)).toEqual(expected.map((p) => p.owner.file));
          compared++;
        }
      }
    }
    // (every Service, Deployment, NetworkPolicy, PDB and the ServiceMonitors of both environments)
    expect(compared).toBeGreaterThan(80);
  });

  test('ServiceMonitors select Services of the namespaces their namespaceSelector names', () => {
    // GIVEN Services `web` in namespaces a and b, and ServiceMonitors in a with each kind of namespaceSelector
    const service = (ns: string) => objectOf({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns, labels: { app: 'web' } },
      spec: { selector: { app: 'web' }, ports: [{ name: ns === 'a' ? 'http' : 'metrics', port: 80 }] },
    }, `env/service-${ns}.yaml`);
    const monitor = (name: string, namespaceSelector: unknown) => objectOf({
      apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor',
      metadata: { name, namespace: 'a', labels: { release: 'prometheus' } },
      spec: { selector: { matchLabels: { app: 'web' } }, endpoints: [{ port: 'http' }], ...(namespaceSelector === undefined ? {} : { namespaceSelector }) },
    }, `env/monitor-${name}.yaml`);
    const env = new EnvironmentIndex('env', [
      service('a'), service('b'),
      monitor('own', undefined), monitor('other', { matchNames: ['b'] }), monitor('any', { any: true }), monitor('none', { matchNames: ['c'] }),
    ]);
    // WHEN the selector and port checks run
    // THEN `own` sees only a's Service (port http present), `other` only b's (no port http),
    // `any` both (b's lacks http), and `none` selects nothing
    expect(lines(checkServiceMonitorSelectors(env))).toEqual([
      'env/monitor-none.yaml ServiceMonitor a/none spec.selector: selects no Service: no Service in namespace c matches app=web [service-monitor/selector]',
    ]);
    expect(lines(checkServiceMonitorPorts(env))).toEqual([
      'env/monitor-any.yaml ServiceMonitor a/any spec.endpoints[0].port: names port "http", which Service web does not have (its named ports: metrics) [service-monitor/port]',
      'env/monitor-other.yaml ServiceMonitor a/other spec.endpoints[0].port: names port "http", which Service web does not have (its named ports: metrics) [service-monitor/port]',
    ]);
  });
});

import { ENVIRONMENT_CHECKS, OBJECT_CHECKS, SchemaRegistry } from '../../validate';
import { EnvironmentIndex } from '../../validate/environment';
import { Json, JsonPath, ManifestObject } from '../../validate/findings';
import { checkSchema } from '../../validate/schema';
import { DEFAULT_SERVICE_MONITOR_LABELS } from '../../validate/traffic';
import { Body, goodObjects } from './helpers';

/** Every path to a value inside `value`, depth first. */
function paths(value: Json, prefix: JsonPath = []): JsonPath[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: Array<[string | number, Json]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
}

/** Sets the value at `path` inside `object` (in place) and returns a function that restores the original. */
function replace(object: ManifestObject, path: JsonPath | undefined, value: Json): () => void {
  if (path === undefined) return () => undefined;
  let node: Body = object.body;
  for (const segment of path.slice(0, -1)) node = node[segment];
  const key = path[path.length - 1];
  const original = node[key];
  node[key] = value;
  return () => { node[key] = original; };
}

describe('the gate on malformed objects', () => {
  test('never throws, whatever value replaces whatever field of a valid environment', () => {
    // GIVEN the good fixture; in round k, the k-th field of every object is replaced by a value of the wrong shape
    const objects = goodObjects();
    const fields = objects.map((o) => paths(o.body));
    const rounds = Math.max(...fields.map((f) => f.length));
    const options = { registry: SchemaRegistry.default(), serviceMonitorLabels: DEFAULT_SERVICE_MONITOR_LABELS };
    for (let k = 0; k < rounds; k++) {
      for (const value of [null, 'x', []] as Json[]) {
        const restore = objects.map((o, i) => replace(o, fields[i][k], value));
        const broken = objects;
        // WHEN every check runs THEN nothing throws (a crash would fail the gate without saying where)
        for (const object of broken) for (const check of OBJECT_CHECKS) check(object, options);
        const env = new EnvironmentIndex('shop', broken);
        for (const check of ENVIRONMENT_CHECKS) check(env, options);
        restore.forEach((undo) => undo());
      }
    }
    expect(rounds).toBeGreaterThan(50);
  });

  test('reports a field of the wrong shape as a schema finding, never as a failed validator', () => {
    // GIVEN a Deployment, an Ingress and two custom resources, each field replaced in turn by a string
    const failures: string[] = [];
    for (const object of goodObjects().filter((o) => ['Deployment', 'Ingress', 'ServiceMonitor', 'ExternalSecret'].includes(o.kind))) {
      for (const path of paths(object.body)) {
        const restore = replace(object, path, 'x');
        // WHEN the schema check runs THEN it explains the problem instead of failing itself
        failures.push(...checkSchema(object).filter((f) => f.rule === 'schema/validator-failed').map((f) => f.message));
        restore();
      }
    }
    expect(failures).toEqual([]);
  });
});

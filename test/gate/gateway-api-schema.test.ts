/**
 * Which Gateway API release the gate's HTTPRoute schema is, checked against the upstream CRD the
 * clusters install: `gateway.networking.k8s.io_httproutes.yaml` of Gateway API v1.2.1, standard
 * channel, read from the team's shared reference data (../shared/schemas/crds/, never copied here).
 * The model (`@kubernetes-models/gateway-api` 0.5.1, Gateway API v1.0.0) is traced while it validates
 * an HTTPRoute holding every field of the CRD: at every depth it must declare exactly the CRD's fields
 * (validate/crds.ts states it), so the gate neither refuses a field the cluster accepts nor accepts
 * one it refuses.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { JsonObject, SchemaRegistry, validateObjects } from '../../validate';
import { traceValidation } from '../../validate/schema';
import { ROOT } from '../../synth/root';
import { goodWith, lines } from './helpers';

/** The shared reference folder (`../shared/<sub>` beside the checkout, `$KCP_SHARED_DIR`, or /work/shared). */
function referenceFile(sub: string): string {
  const candidates = [
    ...(process.env.KCP_SHARED_DIR ? [path.join(process.env.KCP_SHARED_DIR, sub)] : []),
    path.join(path.dirname(ROOT), 'shared', sub),
    path.join('/work', 'shared', sub),
  ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (found === undefined) throw new Error(`the Gateway API CRD is not in ${candidates.join(', ')}: set KCP_SHARED_DIR to the shared/ folder`);
  return found;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = { [key: string]: any };

const crd = YAML.parse(fs.readFileSync(referenceFile(path.join('schemas', 'crds', 'gateway.networking.k8s.io_httproutes.yaml')), 'utf8'));

/** An object holding every property of `schema` (one item per list), and, per object node, the CRD's property names there. */
function everyField(schema: Schema, at: string, nodes: Map<object, { at: string; fields: string[] }>): unknown {
  if (schema.type === 'array') return [everyField(schema.items ?? {}, `${at}[]`, nodes)];
  if (schema.properties !== undefined) {
    const node: { [key: string]: unknown } = {};
    for (const [name, sub] of Object.entries(schema.properties as Schema)) node[name] = everyField(sub as Schema, `${at}.${name}`, nodes);
    nodes.set(node, { at, fields: Object.keys(schema.properties).sort() });
    return node;
  }
  if (schema.type === 'integer' || schema.type === 'number') return 1;
  if (schema.type === 'boolean') return true;
  if (schema.type === 'object') return {};
  return 'x';
}

test('the CRD read is Gateway API v1.2.1, standard channel, serving HTTPRoute v1', () => {
  expect(crd.metadata.annotations).toMatchObject({ 'gateway.networking.k8s.io/bundle-version': 'v1.2.1', 'gateway.networking.k8s.io/channel': 'standard' });
  expect(crd.spec.versions.map((v: Schema) => v.name)).toEqual(['v1', 'v1beta1']);
});

test('HTTPRoute v1 of the gate declares exactly the fields of the v1.2.1 standard CRD, at every depth of spec and status', () => {
  // GIVEN an HTTPRoute with every field of the CRD
  const v1 = crd.spec.versions.find((v: Schema) => v.name === 'v1').schema.openAPIV3Schema;
  const nodes = new Map<object, { at: string; fields: string[] }>();
  const body = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' },
    spec: everyField(v1.properties.spec, 'spec', nodes), status: everyField(v1.properties.status, 'status', nodes) } as JsonObject;
  // WHEN the gate's model validates it (values are placeholders: only the fields it looks up matter)
  const registry = SchemaRegistry.default();
  const { traces } = traceValidation(registry.validator(registry.lookup('gateway.networking.k8s.io/v1', 'HTTPRoute')!), body);
  // THEN at every object node the model looked up exactly the CRD's fields
  const differences = [...nodes].flatMap(([node, { at, fields }]) => {
    const declared = [...(traces.get(node)?.accessed ?? [])].filter((f) => f !== 'length').sort();
    return JSON.stringify(declared) === JSON.stringify(fields) ? [] : [`${at}: model ${declared.join(',')} / CRD ${fields.join(',')}`];
  });
  expect(nodes.size).toBeGreaterThan(40);
  expect(differences).toEqual([]);
});

test('one bound differs, in the safe direction: at most 8 matches per rule (v1.0.0), where v1.2.1 allows 64', () => {
  const v1 = crd.spec.versions.find((v: Schema) => v.name === 'v1').schema.openAPIV3Schema;
  expect(v1.properties.spec.properties.rules.items.properties.matches.maxItems).toBe(64);
  const objects = goodWith('shop/90-httproute-api.yaml', (r) => {
    r.spec.rules[0].matches = Array.from({ length: 9 }, (_x, i) => ({ path: { type: 'PathPrefix', value: `/v${i}` } }));
  });
  expect(lines(validateObjects(objects).filter((f) => f.kind === 'HTTPRoute'))).toEqual([
    'shop/90-httproute-api.yaml HTTPRoute shop/api spec.rules[0].matches: must have at most 8 items [schema/value]',
  ]);
});

/**
 * Validating with a schema pruned to the object's own shape. The models of `@kubernetes-models`
 * base 4 (argo-rollouts 0.3.2, gateway-api 0.5.1) carry their JSON schema as data and are compiled
 * by ajv on first use: a Rollout's schema (the whole PodTemplateSpec included) took 2.3 s to compile
 * here and an AnalysisTemplate's 1.3 s, in every process that validates one. Ajv's time is the
 * schema's size, so each object is validated with a copy of the schema in which every property the
 * object does not have keeps its name but not its subschema: the same checks of what is there, the
 * same property lookups (the gate's unknown-field tracing and its suggestions depend on them), a
 * schema the size of the object. Compiled copies are kept by their content: objects of one shape
 * share one.
 */
import { createHash } from 'crypto';

type Schema = { readonly [key: string]: unknown };

/**
 * What an absent property's subschema becomes: a non-trivial schema (ajv skips a `true` one without
 * looking the property up), never evaluated since the property is absent.
 */
const ABSENT: Schema = { not: { const: '\u0000absent' } };

function isPlainObject(v: unknown): v is { readonly [key: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One value with the shape of all `values` (objects: every key; arrays: every element), for pruning an item schema. */
function mergeShapes(values: readonly unknown[]): unknown {
  const objects = values.filter(isPlainObject);
  if (objects.length > 0) {
    const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
    return Object.fromEntries(keys.map((k) => [k, mergeShapes(objects.filter((o) => Object.prototype.hasOwnProperty.call(o, k)).map((o) => o[k]))]));
  }
  const arrays = values.filter(Array.isArray) as unknown[][];
  if (arrays.length > 0) return arrays.flat();
  return values[0];
}

/** `schema` with the subschemas of properties absent from `data` replaced by {@link ABSENT}. */
export function pruneSchema(schema: unknown, data: unknown): unknown {
  if (!isPlainObject(schema) || typeof schema.$ref === 'string') return schema;
  const out: { [key: string]: unknown } = { ...schema };
  if (isPlainObject(schema.properties)) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, sub]) => [k,
      isPlainObject(data) && Object.prototype.hasOwnProperty.call(data, k) ? pruneSchema(sub, data[k]) : ABSENT]));
  }
  if (isPlainObject(schema.additionalProperties)) {
    out.additionalProperties = isPlainObject(data) ? pruneSchema(schema.additionalProperties, mergeShapes(Object.values(data))) : ABSENT;
  }
  if (isPlainObject(schema.items)) out.items = Array.isArray(data) ? pruneSchema(schema.items, mergeShapes(data)) : ABSENT;
  for (const list of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[list])) out[list] = (schema[list] as unknown[]).map((branch) => pruneSchema(branch, data));
  }
  return out;
}

/**
 * A plain copy of the top level of a traced object, read through property descriptors: the gate's
 * tracing Proxy has no trap for them, so reading the shape marks no field as looked up. (Values below
 * the top level are the Proxy's targets already.)
 */
export function untraced(data: unknown): unknown {
  if (typeof data !== 'object' || data === null) return data;
  const value = (k: string | symbol) => Object.getOwnPropertyDescriptor(data, k)?.value;
  if (Array.isArray(data)) return Array.from({ length: value('length') as number }, (_x, i) => value(String(i)));
  return Object.fromEntries(Reflect.ownKeys(data).filter((k): k is string => typeof k === 'string').map((k) => [k, value(k)]));
}

/** The package's `register` and `validate` (`@kubernetes-models/validate` 3). */
export interface SchemaStore {
  readonly register: (id: string, schema: unknown) => void;
  readonly validate: (id: string, data: unknown) => void;
}

/** Validates `data` (`this` of a model validator) against `schema` (registered as `id`) pruned to its shape. */
export function validatePruned(store: SchemaStore, id: string, schema: unknown, data: unknown): void {
  const pruned = pruneSchema(schema, untraced(data));
  const prunedId = `${id}.pruned-${createHash('sha1').update(JSON.stringify(pruned)).digest('hex').slice(0, 16)}`;
  store.register(prunedId, pruned);
  store.validate(prunedId, data);
}

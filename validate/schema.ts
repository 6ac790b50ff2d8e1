/**
 * Strict schema validation, like `kubeconform -strict`: types, enums, required fields and formats
 * from the compiled kubernetes-models validators, and unknown fields as errors.
 *
 * The compiled validators do not reject unknown fields (their schemas have no
 * `additionalProperties: false`), and they are code, not schema data that could be walked. So the
 * gate runs them over a tracing Proxy of the object: every property a validator looks up is a field
 * its schema declares; a map-typed field (labels, data, ...) is iterated instead. After validation,
 * any key of a traced object that the validator never looked up is an unknown field. An object whose
 * schema declares no properties at all (free-form, `x-kubernetes-preserve-unknown-fields`) is never
 * looked into, and is accepted as the API server accepts it.
 */
import { FIELD_DELTAS, FieldDelta, KUBERNETES_VERSION } from './kubernetes';
import {
  findingAt, Finding, isObject, Json, JsonObject, ManifestObject, Segment, valueAt,
} from './findings';
import { CRD_PACKAGES } from './crds';
import { deferRe2 } from './lazy-re2';
import { loadModule, modelValidator, ModelValidate, SchemaRegistry } from './registry';
import { closest } from './suggest';

/** An ajv error as reported by the compiled validators. */
interface AjvError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: { readonly [name: string]: unknown };
}

/** What a validator did with one object of the manifest. */
interface NodeTrace {
  /** Property names it looked up (a map validator looks up every key it iterates). */
  readonly accessed: Set<string>;
}

/** Runs `validate` over a tracing proxy of `data`; returns ajv's errors and a trace per object node. */
export function traceValidation(validate: ModelValidate, data: JsonObject): { errors: AjvError[]; traces: Map<object, NodeTrace> } {
  const traces = new Map<object, NodeTrace>();
  const proxies = new Map<object, object>();
  const wrap = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    let proxy = proxies.get(value);
    if (proxy === undefined) {
      const trace: NodeTrace = { accessed: new Set() };
      traces.set(value, trace);
      proxy = new Proxy(value, {
        get(target, property, receiver) {
          if (typeof property === 'string') trace.accessed.add(property);
          return wrap(Reflect.get(target, property, receiver));
        },
        has(target, property) {
          if (typeof property === 'string') trace.accessed.add(property);
          return Reflect.has(target, property);
        },
      });
      proxies.set(value, proxy);
    }
    return proxy;
  };
  try {
    validate.call(wrap(data));
    return { errors: [], traces };
  } catch (e) {
    const errors = (e as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) throw e;
    return { errors: errors as AjvError[], traces };
  }
}

/** The property names a model's validator declares, found by validating an empty object. */
export function declaredFields(validate: ModelValidate): Set<string> {
  const { traces } = traceValidation(validate, {});
  return [...traces.values()][0]?.accessed ?? new Set();
}

function signature(fields: Iterable<string>): string {
  return [...fields].sort().join(',');
}

/** FIELD_DELTAS entries by the field names they list, in `notIn128` and in `unchecked` (no module loaded yet). */
const deltasByField = (() => {
  const index = { notIn128: new Map<string, FieldDelta[]>(), unchecked: new Map<string, FieldDelta[]>() };
  for (const d of FIELD_DELTAS) {
    for (const list of ['notIn128', 'unchecked'] as const) {
      for (const field of d[list] ?? []) index[list].set(field, [...(index[list].get(field) ?? []), d]);
    }
  }
  return index;
})();

const typeSignatures = new Map<string, string>();

/**
 * The FIELD_DELTAS entry listing `field` in `list` whose type declares exactly the fields a traced
 * object's validator looked up (then the object was validated as that type). A type's model is
 * loaded only when an object uses a field name its entry lists, so most runs load none.
 */
function deltaFor(list: 'notIn128' | 'unchecked', field: string, accessedSignature: () => string): FieldDelta | undefined {
  const candidates = deltasByField[list].get(field);
  if (candidates === undefined) return undefined;
  const accessed = accessedSignature();
  return candidates.find((d) => {
    let declared = typeSignatures.get(d.type);
    if (declared === undefined) {
      declared = signature(declaredFields(modelValidator(`kubernetes-models/${d.type}`)));
      typeSignatures.set(d.type, declared);
    }
    return declared === accessed;
  });
}

// The API server's quantity grammar (k8s.io/apimachinery resource.ParseQuantity): decimal SI suffixes
// n u m k M G T P E, binary Ki..Ei, or a decimal exponent. kubernetes-models' own pattern also accepts
// SI prefixes such as d, h, c, Y that the API server rejects ("100d" is not a memory size).
const API_SERVER_QUANTITY = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
let quantitiesTightened = false;

/**
 * Makes the compiled validators judge quantity strings as the API server does, and compile their
 * RE2 patterns on first use (validate/lazy-re2.ts); once per process, before any validator loads.
 */
function tightenQuantityFormat(): void {
  if (quantitiesTightened) return;
  deferRe2(['kubernetes-models', ...CRD_PACKAGES.map((p) => p.package)]);
  const { formats } = loadModule('@kubernetes-models/validate') as { formats: { quantity: { validate: unknown } } };
  formats.quantity.validate = API_SERVER_QUANTITY;
  quantitiesTightened = true;
}

function pathOf(data: unknown, instancePath: string): Segment[] {
  if (instancePath === '') return [];
  const path: Segment[] = [];
  let node: unknown = data;
  for (const raw of instancePath.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const step: Segment = Array.isArray(node) && /^\d+$/.test(segment) ? Number(segment) : segment;
    path.push(step);
    node = valueAt(node, [step]);
  }
  return path;
}

/** `string "2"`, `number 2`, `a list`, ... */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

const ARTICLE: { readonly [type: string]: string } = {
  integer: 'an integer', object: 'an object', array: 'a list', string: 'a string', boolean: 'a boolean', number: 'a number',
};

function messageFor(error: AjvError, value: unknown): { rule: string; message: string } {
  const p = error.params;
  switch (error.keyword) {
    case 'type':
      return { rule: 'schema/type', message: `must be ${ARTICLE[String(p.type)] ?? String(p.type)}, got ${describeValue(value)}` };
    case 'enum':
      return {
        rule: 'schema/value',
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`,
      };
    case 'format':
      return p.format === 'quantity'
        ? { rule: 'schema/value', message: `must be a quantity such as "250m", "1.5" or "512Mi", got ${JSON.stringify(value)}` }
        : { rule: 'schema/value', message: `must be a valid ${String(p.format)}, got ${JSON.stringify(value)}` };
    case 'pattern':
      return { rule: 'schema/value', message: `must match ${String(p.pattern)}, got ${JSON.stringify(value)}` };
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum': {
      const op = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<' }[error.keyword];
      return { rule: 'schema/value', message: `must be ${op} ${String(p.limit)}, got ${JSON.stringify(value)}` };
    }
    case 'minLength': case 'maxLength': case 'minItems': case 'maxItems': case 'minProperties': case 'maxProperties': {
      const bound = error.keyword.startsWith('min') ? 'at least' : 'at most';
      const unit = /Length$/.test(error.keyword) ? 'characters' : /Items$/.test(error.keyword) ? 'items' : 'fields';
      return { rule: 'schema/value', message: `must have ${bound} ${String(p.limit)} ${unit}` };
    }
    default:
      return { rule: 'schema/value', message: `does not match the schema (${error.keyword} ${JSON.stringify(p)})` };
  }
}

/** Turns ajv errors into findings: one per problem, with int-or-string and quantity alternatives merged. */
function schemaFindings(object: ManifestObject, errors: readonly AjvError[]): Finding[] {
  const findings: Finding[] = [];
  const byPath = new Map<string, AjvError[]>();
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  for (const [instancePath, group] of byPath) {
    const path = pathOf(object.body, instancePath);
    const value = valueAt(object.body, path);
    if (group.some((e) => e.keyword === 'oneOf')) {
      // Kubernetes' two oneOf types: Quantity (number | quantity string) and IntOrString (int32 | string).
      const expected = new Set(group.map((e) => String(e.keyword === 'format' || e.keyword === 'type' ? e.params[e.keyword] : '')));
      const message = expected.has('quantity') || expected.has('number')
        ? `must be a quantity (a number, or a string such as "250m", "1.5" or "512Mi"), got ${describeValue(value)}`
        : expected.has('integer') || expected.has('int32')
          ? `must be an integer or a string, got ${describeValue(value)}`
          : `must match exactly one of its alternative schemas, got ${describeValue(value)}`;
      findings.push(findingAt(object, 'schema/type', path, message));
      continue;
    }
    for (const e of group) {
      if (e.keyword === 'required') {
        findings.push(findingAt(object, 'schema/required-field', [...path, String(e.params.missingProperty)], 'is required'));
      } else if (e.keyword === 'additionalProperties') {
        findings.push(findingAt(object, 'schema/unknown-field', [...path, String(e.params.additionalProperty)], 'unknown field'));
      } else {
        const { rule, message } = messageFor(e, value);
        findings.push(findingAt(object, rule, path, message));
      }
    }
  }
  return findings;
}

/** Fields of `node` (recursively) that no validator looked up, and fields newer than Kubernetes 1.28. */
function strictFindings(object: ManifestObject, traces: Map<object, NodeTrace>): Finding[] {
  const findings: Finding[] = [];
  const visit = (node: Json, path: Segment[]): void => {
    if (Array.isArray(node)) {
      node.forEach((item: Json, i: number) => visit(item, [...path, i]));
      return;
    }
    if (!isObject(node)) return;
    const trace = traces.get(node);
    if (trace === undefined) return; // never reached: below a free-form or unknown field
    // A node whose validator looked up fields by name declares them: any other key is unknown. (A map
    // validator reads every key it loops over, so maps never report; enumerating a node, e.g. for
    // `minProperties`, does not make a node that also declares fields free-form.)
    const strict = trace.accessed.size > 0;
    let accessed: string | undefined;
    const declaredAs = (list: 'notIn128' | 'unchecked', field: string) => deltaFor(list, field, () => (accessed ??= signature(trace.accessed)));
    for (const [field, child] of Object.entries(node)) {
      if (strict && trace.accessed.has(field)) {
        const delta = declaredAs('notIn128', field);
        if (delta !== undefined) {
          findings.push(findingAt(object, 'schema/field-not-in-1.28', [...path, field],
            `is not part of the Kubernetes ${KUBERNETES_VERSION} API (${delta.type.split('/').pop()} gained it in a later release)`));
          continue;
        }
      } else if (strict && declaredAs('unchecked', field) === undefined) {
        const guess = closest(field, [...trace.accessed]);
        findings.push(findingAt(object, 'schema/unknown-field', [...path, field],
          `unknown field${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}`));
        continue;
      }
      visit(child, [...path, field]);
    }
  };
  visit(object.body, []);
  return findings;
}

/** Validates one object against its schema, strictly. Never throws. */
export function checkSchema(object: ManifestObject, registry: SchemaRegistry = SchemaRegistry.default()): Finding[] {
  const entry = registry.lookup(object.apiVersion, object.kind);
  if (entry === undefined) {
    return [findingAt(object, 'schema/unknown-kind', ['kind'], registry.explainUnknown(object.apiVersion, object.kind))];
  }
  tightenQuantityFormat();
  try {
    // an aliased version is shown to the validator as the version whose schema it uses
    const body = entry.validatedAs === undefined ? object.body : { ...(object.body as object), apiVersion: entry.validatedAs };
    const { errors, traces } = traceValidation(registry.validator(entry), body);
    // the strict walk must visit the very objects that were traced (the aliased copy's root included)
    return [...schemaFindings(object, errors), ...strictFindings({ ...object, body }, traces)];
  } catch (e) {
    return [findingAt(object, 'schema/validator-failed', [], `the ${entry.module} validator failed: ${(e as Error).message}`)];
  }
}

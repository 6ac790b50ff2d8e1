/**
 * Keys objects by group/kind/namespace/name, pairs the two sides of a change, summarizes a change
 * field by field (never as a text diff) and recognizes renames.
 */
import { FieldChange, Json, JsonObject, Manifest, ObjectKey } from './model';

/** The key of `object`. */
export function keyOf(object: Manifest): ObjectKey {
  const slash = object.apiVersion.indexOf('/');
  const group = slash === -1 ? '' : object.apiVersion.slice(0, slash);
  const namespace = object.metadata.namespace ?? '';
  const name = object.metadata.name;
  return { group, kind: object.kind, namespace, name, id: `${group}/${object.kind}/${namespace}/${name}` };
}

/** True for a JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `path` below `root`, or `{}`. */
export function objectAt(root: unknown, ...path: string[]): JsonObject {
  let value: unknown = root;
  for (const segment of path) value = isObject(value) ? value[segment] : undefined;
  return isObject(value) ? value : {};
}

/** The array at `path` below `root`, or `[]`. */
export function arrayAt(root: unknown, ...path: string[]): readonly Json[] {
  let value: unknown = root;
  for (const segment of path) value = isObject(value) ? value[segment] : undefined;
  return Array.isArray(value) ? value : [];
}

/** The value at `path` below `root`. */
export function valueAt(root: unknown, ...path: string[]): Json | undefined {
  let value: unknown = root;
  for (const segment of path) value = isObject(value) ? value[segment] : undefined;
  return value as Json | undefined;
}

/** A map of string values (labels, a selector's matchLabels). */
export function stringMap(value: unknown): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  if (isObject(value)) for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** `app=x,version=blue` (keys sorted). */
export function describeLabels(labels: { readonly [key: string]: string }): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '(none)' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/** JSON with sorted keys and named list items sorted by name: equal for a pure reorder. */
export function canonical(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    return namedItems(value) ? items.sort((a, b) => String((a as JsonObject).name).localeCompare(String((b as JsonObject).name))) : items;
  }
  if (!isObject(value)) return value;
  const out: { [key: string]: unknown } = {};
  for (const key of Object.keys(value).sort()) out[key] = normalize(value[key]);
  return out;
}

/**
 * True for a list whose items are objects with unique string names (containers, env, ports,
 * volumes): its order carries no meaning for the API, so items are matched by name.
 */
function namedItems(list: readonly unknown[]): boolean {
  if (list.length === 0 || !list.every((i) => isObject(i) && typeof i.name === 'string')) return false;
  return new Set(list.map((i) => (i as JsonObject).name)).size === list.length;
}

/** Decides whether the value at a field path must never be shown (a Secret's data). */
export type Redaction = (path: readonly string[]) => boolean;

/** Secret values: `data` and `stringData` of a Secret, and the last-applied annotation that may copy them. */
export function secretRedaction(object: Manifest): Redaction {
  const isSecret = object.kind === 'Secret';
  return (path) => (isSecret && (path[0] === 'data' || path[0] === 'stringData' || path[0] === 'binaryData'))
    || (path[0] === 'metadata' && path[1] === 'annotations' && path[2] === 'kubectl.kubernetes.io/last-applied-configuration');
}

const HIDDEN = '(hidden)';
const MAX_VALUE = 80;

/** A short JSON rendering of a value for a field summary. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

function formatPath(segments: readonly string[]): string {
  return segments.reduce((acc, s) => (s.startsWith('[') ? `${acc}${s}` : acc === '' ? s : `${acc}.${s}`), '');
}

/**
 * The fields that differ between two versions of an object, as paths with before and after values.
 * Map keys and named list items are matched by key and name (so a pure reorder is no change);
 * other lists by position. Redacted values are shown as `(hidden)`.
 */
export function fieldChanges(before: unknown, after: unknown, redact: Redaction = () => false): FieldChange[] {
  const out: FieldChange[] = [];
  const walk = (a: unknown, b: unknown, path: string[], raw: string[]) => {
    const hidden = redact(raw);
    const render = (v: unknown) => (hidden ? HIDDEN : show(v));
    if (a === undefined && b === undefined) return;
    if (a === undefined) { out.push({ path: formatPath(path), change: 'added', after: render(b) }); return; }
    if (b === undefined) { out.push({ path: formatPath(path), change: 'removed', before: render(a) }); return; }
    if (isObject(a) && isObject(b)) {
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) walk(a[key], b[key], [...path, key], [...raw, key]);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (namedItems(a) && namedItems(b)) {
        const byName = (list: readonly Json[]) => new Map(list.map((i) => [String((i as JsonObject).name), i]));
        const [ma, mb] = [byName(a), byName(b)];
        for (const name of [...new Set([...ma.keys(), ...mb.keys()])]) walk(ma.get(name), mb.get(name), [...path, `[${name}]`], [...raw, name]);
      } else {
        for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], [...path, `[${i}]`], [...raw, String(i)]);
      }
      return;
    }
    if (canonical(a) !== canonical(b)) out.push({ path: formatPath(path), change: 'changed', before: render(a), after: render(b) });
  };
  walk(before, after, [], []);
  return out;
}

/** Leaf `path=value` facts of an object, with `from` replaced by `to` in every string (rename detection). */
function facts(value: unknown, from: string, to: string): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown, path: string) => {
    if (isObject(v)) for (const k of Object.keys(v)) walk(v[k], `${path}.${k}`);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${isObject(x) && typeof x.name === 'string' ? x.name.split(from).join(to) : i}]`));
    else out.add(`${path}=${typeof v === 'string' ? v.split(from).join(to) : JSON.stringify(v)}`);
  };
  walk(value, '');
  return out;
}

/** How alike two objects are (0..1) once the old name is read as the new one; metadata.name is left out. */
export function similarity(removed: Manifest, added: Manifest): number {
  const strip = (o: Manifest) => ({ ...o, metadata: { ...o.metadata, name: undefined } });
  const a = facts(strip(removed), removed.metadata.name, added.metadata.name);
  const b = facts(strip(added), removed.metadata.name, added.metadata.name);
  let shared = 0;
  for (const f of a) if (b.has(f)) shared += 1;
  return (2 * shared) / (a.size + b.size || 1);
}

/** Objects this alike (Dice coefficient of their leaf fields) are taken for a rename. */
export const RENAME_SIMILARITY = 0.8;

/**
 * Pairs each removed object with the added object of the same group, kind and namespace that it
 * most resembles, when they are at least {@link RENAME_SIMILARITY} alike. Returns removed id -> added id.
 */
export function findRenames(removed: readonly Manifest[], added: readonly Manifest[]): Map<string, string> {
  const candidates: Array<{ from: ObjectKey; to: ObjectKey; score: number }> = [];
  for (const r of removed) {
    const rk = keyOf(r);
    for (const a of added) {
      const ak = keyOf(a);
      if (ak.group !== rk.group || ak.kind !== rk.kind || ak.namespace !== rk.namespace) continue;
      const score = similarity(r, a);
      if (score >= RENAME_SIMILARITY) candidates.push({ from: rk, to: ak, score });
    }
  }
  candidates.sort((x, y) => y.score - x.score || x.from.id.localeCompare(y.from.id) || x.to.id.localeCompare(y.to.id));
  const pairs = new Map<string, string>();
  const taken = new Set<string>();
  for (const c of candidates) {
    if (pairs.has(c.from.id) || taken.has(c.to.id)) continue;
    pairs.set(c.from.id, c.to.id);
    taken.add(c.to.id);
  }
  return pairs;
}

/**
 * Cross-object checks of what pods and objects point at: ConfigMap and Secret references (with
 * keys) from env, envFrom and volumes, and the Namespace of every namespaced object.
 */
import { findLibraryAnnotation } from '../constructs/conventions';
import { EnvironmentIndex, inNamespace } from './environment';
import { asArray, asObject, asString, Finding, findingAt, JsonObject, JsonPath, ManifestObject } from './findings';
import { SchemaRegistry } from './registry';
import { containersOf, PodTemplate } from './workloads';

/** The keys an object provides; `any` when they cannot be known before it runs. */
type Keys = ReadonlySet<string> | 'any';

/** A reference from a pod template to a ConfigMap or Secret (and maybe some of its keys). */
interface ConfigReference {
  readonly kind: 'ConfigMap' | 'Secret';
  readonly name: string;
  readonly keys: ReadonlyArray<{ readonly key: string; readonly path: JsonPath }>;
  readonly optional: boolean;
  /** Path of the name field. */
  readonly path: JsonPath;
}

function keysOf(...maps: unknown[]): Set<string> {
  return new Set(maps.flatMap((m) => Object.keys(asObject(m))));
}

/** Secrets an ExternalSecret makes external-secrets create: its target name and the keys it will hold. */
function externalSecretTarget(object: ManifestObject): { name: string; keys: Keys } | undefined {
  const spec = asObject(object.body.spec);
  const target = asObject(spec.target);
  const policy = asString(target.creationPolicy) ?? 'Owner';
  if (policy !== 'Owner' && policy !== 'Orphan') return undefined; // Merge/None: the Secret must come from elsewhere
  const template = asObject(target.template);
  const dataKeys = asArray(spec.data).map((d) => asString(asObject(d).secretKey)).filter((k): k is string => k !== undefined);
  let keys: Keys;
  if (asArray(spec.dataFrom).length > 0 || asArray(template.templateFrom).length > 0) keys = 'any';
  else if (template.data !== undefined) keys = new Set([...keysOf(template.data), ...(template.mergePolicy === 'Merge' ? dataKeys : [])]);
  else keys = new Set(dataKeys);
  return { name: asString(target.name) ?? object.name, keys };
}

/**
 * The out-of-band Secrets a Namespace declares in its `secrets.<annotation domain>/provided-out-of-band`
 * annotation (the library's `outOfBandSecrets`, whatever domain the platform chose), with the key it
 * was found under, or the reason the annotation is malformed (then it declares nothing).
 */
function outOfBandSecrets(ns: ManifestObject): { secrets: { [name: string]: string[] }; key?: string; problem?: string } {
  const found = findLibraryAnnotation(asObject(asObject(ns.body.metadata).annotations), 'outOfBandSecrets');
  const raw = asString(found?.value);
  if (found === undefined || raw === undefined) return { secrets: {} };
  const key = found.key;
  const problem = 'must be JSON mapping Secret names to their keys, e.g. {"db-credentials":["postgres-url"]}';
  try {
    const parsed: unknown = JSON.parse(raw);
    const entries = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.entries(parsed) : undefined;
    if (entries === undefined || !entries.every(([, keys]) => Array.isArray(keys) && keys.length > 0 && keys.every((k) => typeof k === 'string'))) {
      return { secrets: {}, key, problem };
    }
    return { secrets: Object.fromEntries(entries) as { [name: string]: string[] }, key };
  } catch {
    return { secrets: {}, key, problem };
  }
}

/** A Namespace's out-of-band Secrets annotation must be well-formed, or it silently declares nothing. */
export function checkOutOfBandSecretsAnnotation(env: EnvironmentIndex): Finding[] {
  return env.ofKind('', 'Namespace').flatMap((ns) => {
    const { key, problem } = outOfBandSecrets(ns);
    return problem === undefined || key === undefined ? []
      : [findingAt(ns, 'reference/out-of-band-secrets', ['metadata', 'annotations', key], problem)];
  });
}

/** ConfigMaps and Secrets available in each namespace of `env`, with their keys. */
function available(env: EnvironmentIndex): { ConfigMap: Map<string, Keys>; Secret: Map<string, Keys> } {
  const at = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;
  const configMaps = new Map<string, Keys>();
  for (const cm of env.ofKind('', 'ConfigMap')) configMaps.set(at(cm.namespace, cm.name), keysOf(cm.body.data, cm.body.binaryData));
  const secrets = new Map<string, Keys>();
  for (const s of env.ofKind('', 'Secret')) secrets.set(at(s.namespace, s.name), keysOf(s.body.data, s.body.stringData));
  for (const es of env.ofKind('external-secrets.io', 'ExternalSecret')) {
    const target = externalSecretTarget(es);
    if (target !== undefined) secrets.set(at(es.namespace, target.name), target.keys);
  }
  // Secrets the Namespace declares as created out of band (by CI or an operator), with their keys.
  for (const ns of env.ofKind('', 'Namespace')) {
    for (const [name, keys] of Object.entries(outOfBandSecrets(ns).secrets)) secrets.set(at(ns.name, name), new Set(keys));
  }
  return { ConfigMap: configMaps, Secret: secrets };
}

/** Secrets available in each namespace of `env` (`<namespace>/<name>`), with their keys ('any' when they cannot be known). */
export function providedSecrets(env: EnvironmentIndex): ReadonlyMap<string, ReadonlySet<string> | 'any'> {
  return available(env).Secret;
}

function itemKeys(source: JsonObject, path: JsonPath): Array<{ key: string; path: JsonPath }> {
  return asArray(source.items).flatMap((item, i) => {
    const key = asString(asObject(item).key);
    return key === undefined ? [] : [{ key, path: [...path, 'items', i, 'key'] }];
  });
}

/** Every ConfigMap/Secret reference of a pod template: env valueFrom, envFrom, volumes and projected volumes. */
function referencesOf(pod: PodTemplate): ConfigReference[] {
  const refs: ConfigReference[] = [];
  for (const c of containersOf(pod)) {
    asArray(c.container.env).forEach((e, i) => {
      const from = asObject(asObject(e).valueFrom);
      for (const [field, kind] of [['configMapKeyRef', 'ConfigMap'], ['secretKeyRef', 'Secret']] as const) {
        if (from[field] === undefined) continue;
        const ref = asObject(from[field]);
        const path: JsonPath = [...c.path, 'env', i, 'valueFrom', field];
        refs.push({
          kind, name: asString(ref.name) ?? '', optional: ref.optional === true, path: [...path, 'name'],
          keys: [{ key: asString(ref.key) ?? '', path: [...path, 'key'] }],
        });
      }
    });
    asArray(c.container.envFrom).forEach((e, i) => {
      for (const [field, kind] of [['configMapRef', 'ConfigMap'], ['secretRef', 'Secret']] as const) {
        const source = asObject(e)[field];
        if (source === undefined) continue;
        const ref = asObject(source);
        refs.push({ kind, name: asString(ref.name) ?? '', optional: ref.optional === true, path: [...c.path, 'envFrom', i, field, 'name'], keys: [] });
      }
    });
  }
  asArray(pod.spec.volumes).forEach((v, i) => {
    const volume = asObject(v);
    const base: JsonPath = [...pod.path, 'spec', 'volumes', i];
    if (volume.configMap !== undefined) {
      const s = asObject(volume.configMap);
      refs.push({ kind: 'ConfigMap', name: asString(s.name) ?? '', optional: s.optional === true, path: [...base, 'configMap', 'name'], keys: itemKeys(s, [...base, 'configMap']) });
    }
    if (volume.secret !== undefined) {
      const s = asObject(volume.secret);
      refs.push({ kind: 'Secret', name: asString(s.secretName) ?? '', optional: s.optional === true, path: [...base, 'secret', 'secretName'], keys: itemKeys(s, [...base, 'secret']) });
    }
    asArray(asObject(volume.projected).sources).forEach((src, j) => {
      for (const [field, kind] of [['configMap', 'ConfigMap'], ['secret', 'Secret']] as const) {
        const source = asObject(src)[field];
        if (source === undefined) continue;
        const s = asObject(source);
        const path: JsonPath = [...base, 'projected', 'sources', j, field];
        refs.push({ kind, name: asString(s.name) ?? '', optional: s.optional === true, path: [...path, 'name'], keys: itemKeys(s, path) });
      }
    });
  });
  return refs;
}

/**
 * Every ConfigMap and Secret a pod template references exists in its namespace with the keys it
 * names, unless the reference is `optional: true`. A Secret exists when a Secret object or an
 * ExternalSecret targeting that name is in the output, or when its Namespace declares it as created
 * out of band (with its keys).
 */
export function checkConfigReferences(env: EnvironmentIndex): Finding[] {
  const provided = available(env);
  return env.podTemplates.flatMap((pod) => referencesOf(pod).flatMap((ref) => {
    if (ref.optional) return [];
    const rule = ref.kind === 'ConfigMap' ? 'reference/config-map' : 'reference/secret';
    const keys = provided[ref.kind].get(`${pod.owner.namespace ?? ''}/${ref.name}`);
    if (keys === undefined) {
      const how = ref.kind === 'Secret' ? ' (neither a Secret nor an ExternalSecret creating it)' : '';
      return [findingAt(pod.owner, rule, ref.path,
        `${ref.kind} ${inNamespace(ref.name, pod.owner.namespace)} is not in the output${how}; pods would fail to start (mark the reference optional if that is intended)`)];
    }
    if (keys === 'any') return [];
    return ref.keys.filter(({ key }) => !keys.has(key)).map(({ key, path }) => findingAt(pod.owner, rule, path,
      `key ${JSON.stringify(key)} is not in ${ref.kind} ${JSON.stringify(ref.name)} (its keys: ${[...keys].sort().join(', ') || 'none'})`));
  }));
}

/**
 * Every namespaced object names its namespace, and that Namespace is in the output. A cluster-scoped
 * object with a namespace gets a warning (the API server ignores it).
 */
export function checkNamespaces(env: EnvironmentIndex, registry: SchemaRegistry = SchemaRegistry.default()): Finding[] {
  const namespaces = new Set(env.ofKind('', 'Namespace').map((n) => n.name));
  return env.objects.flatMap((object) => {
    const entry = registry.lookup(object.apiVersion, object.kind);
    if (entry === undefined) return [];
    if (!entry.namespaced) {
      return object.namespace === undefined ? [] : [findingAt(object, 'namespace/cluster-scoped', ['metadata', 'namespace'],
        `is ignored: ${object.kind} is cluster-scoped`, 'warning')];
    }
    if (object.namespace === undefined) {
      return [findingAt(object, 'namespace/exists', ['metadata', 'namespace'],
        `is required: ${object.kind} is namespaced, and without it kubectl applies it to whatever namespace the current context uses`)];
    }
    if (namespaces.has(object.namespace)) return [];
    return [findingAt(object, 'namespace/exists', ['metadata', 'namespace'],
      `Namespace ${JSON.stringify(object.namespace)} is not in the output (Namespaces there: ${[...namespaces].sort().join(', ') || 'none'})`)];
  });
}

/**
 * Which schema validates which apiVersion/kind: the Kubernetes 1.28 kinds of `kubernetes-models`
 * plus every model of the registered `@kubernetes-models/*` CRD packages. Models are loaded lazily,
 * on first use of their kind, from node_modules (never bundled, never copied into the repository).
 */
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import { CRD_PACKAGES, CrdPackage } from './crds';
import { SchemaStore, validatePruned } from './schema-prune';
import { CLUSTER_SCOPED_KINDS, KUBERNETES_KINDS, KUBERNETES_VERSION } from './kubernetes';
import { closest } from './suggest';

/** A compiled validator of kubernetes-models: throws an error carrying ajv `errors` when `this` is invalid. */
export type ModelValidate = (this: unknown) => void;

/** Where the schema of one apiVersion/kind comes from. */
export interface SchemaEntry {
  readonly apiVersion: string;
  readonly kind: string;
  /** Module specifier of the model, e.g. `kubernetes-models/apps/v1/Deployment`. */
  readonly module: string;
  /** Whether objects of this kind live in a namespace. */
  readonly namespaced: boolean;
  /** What the schema describes, e.g. `Kubernetes 1.28`. */
  readonly source: string;
  /** The apiVersion the validator is given, when it is not `apiVersion` (a CRD alias). @default - apiVersion */
  readonly validatedAs?: string;
}

const nodeRequire = createRequire(__filename);

/** Loads a module from node_modules at run time (the esbuild bundle keeps these packages external). */
export function loadModule(specifier: string): unknown {
  return nodeRequire(specifier);
}

/**
 * The validator of the exported model class of `module` whose static apiVersion/kind match (when
 * given; otherwise the first class). Never falls back to a class of another kind.
 * @throws when no exported class matches or has a validator
 */
export function modelValidator(module: string, apiVersion?: string, kind?: string): ModelValidate {
  const exports = loadModule(module);
  const classes = Object.values(exports as { [name: string]: unknown })
    .filter((v): v is { prototype: { validate?: unknown }; apiVersion?: unknown; kind?: unknown } => typeof v === 'function');
  const match = apiVersion === undefined && kind === undefined ? classes[0]
    : classes.find((c) => (apiVersion === undefined || c.apiVersion === apiVersion) && (kind === undefined || c.kind === kind));
  if (match === undefined) throw new Error(`${module} exports no model of ${apiVersion ?? '*'} ${kind ?? '*'}`);
  const validate = match.prototype.validate;
  if (typeof validate !== 'function') throw new Error(`${module} exports no model with a validator`);
  return schemaBoundValidator(module, match.prototype) ?? validate as ModelValidate;
}

/**
 * The validator of a model whose `validate()` looks its schema up by an id kept on the model's
 * prototype under a symbol (`@kubernetes-models/base` 4, e.g. `@kubernetes-models/gateway-api`
 * 0.5): called on plain data, that lookup finds nothing and validates nothing. It is bound here to
 * the schema: registered as the model would, then checked with the package's own ajv instance.
 * (Models with compiled validators, base 5 and later, need none of this: `undefined`.)
 */
function schemaBoundValidator(module: string, prototype: object): ModelValidate | undefined {
  const values = Object.getOwnPropertySymbols(prototype).map((s) => (prototype as { [key: symbol]: unknown })[s]);
  const id = values.find((v): v is string => typeof v === 'string');
  const addSchema = values.find((v): v is () => void => typeof v === 'function');
  if (id === undefined || addSchema === undefined) return undefined;
  const store = createRequire(nodeRequire.resolve(module))('@kubernetes-models/validate') as SchemaStore & { register: SchemaStore['register'] };
  // The model's own schema, caught as its addSchema() registers it (it is not exported otherwise).
  let schema: unknown;
  const register = store.register;
  store.register = (registered: string, s: unknown) => {
    if (registered === id) schema = s;
    register(registered, s);
  };
  try {
    addSchema();
  } finally {
    store.register = register;
  }
  if (schema === undefined) {
    const { validate } = store;
    return function (this: unknown) { validate(id, this); };
  }
  // (compiling the whole schema costs seconds for the large ones: see validate/schema-prune.ts)
  return function (this: unknown) { validatePruned(store, id, schema, this); };
}

function key(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

/** Reads `version` from a package's package.json ('unknown' when unreadable). */
function packageVersion(dir: string): string {
  try {
    const json: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const version = (json as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Every `<group>/<version>/<Kind>.js` model of a CRD package. */
function crdEntries(pkg: CrdPackage): SchemaEntry[] {
  const dir = path.dirname(nodeRequire.resolve(pkg.package));
  const source = `${pkg.package}@${packageVersion(dir)}`;
  const clusterScoped = new Set(pkg.clusterScoped ?? []);
  const entries: SchemaEntry[] = [];
  const subdirectories = (d: string) => fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const group of subdirectories(dir).filter((g) => g.includes('.'))) {
    for (const version of subdirectories(path.join(dir, group))) {
      for (const file of fs.readdirSync(path.join(dir, group, version)).sort()) {
        if (!file.endsWith('.js') || file === 'index.js') continue;
        const kind = file.slice(0, -3);
        entries.push({
          apiVersion: `${group}/${version}`,
          kind,
          module: `${pkg.package}/${group}/${version}/${kind}`,
          namespaced: !clusterScoped.has(kind),
          source,
        });
      }
    }
  }
  for (const alias of pkg.aliases ?? []) {
    for (const kind of alias.kinds) {
      const target = entries.find((e) => e.apiVersion === alias.validatedAs && e.kind === kind);
      if (target === undefined) throw new Error(`${pkg.package}: alias ${alias.apiVersion} ${kind} -> ${alias.validatedAs} has no model to use`);
      entries.push({ ...target, apiVersion: alias.apiVersion, validatedAs: alias.validatedAs, source: `${source} (${alias.reason})` });
    }
  }
  return entries;
}

/** Looks up schemas by apiVersion and kind and explains what exists when one is missing. */
export class SchemaRegistry {
  /** The registry of Kubernetes 1.28 built-in kinds plus the CRD packages of validate/crds.ts. */
  public static default(): SchemaRegistry {
    SchemaRegistry.cached ??= new SchemaRegistry([
      ...Object.entries(KUBERNETES_KINDS).flatMap(([apiVersion, kinds]) => kinds.map((kind) => ({
        apiVersion,
        kind,
        module: `kubernetes-models/${apiVersion}/${kind}`,
        namespaced: !CLUSTER_SCOPED_KINDS.has(kind),
        source: `Kubernetes ${KUBERNETES_VERSION}`,
      }))),
      ...CRD_PACKAGES.flatMap(crdEntries),
    ]);
    return SchemaRegistry.cached;
  }

  private static cached: SchemaRegistry | undefined;

  private readonly entries = new Map<string, SchemaEntry>();
  private readonly validators = new Map<string, ModelValidate>();

  constructor(entries: readonly SchemaEntry[]) {
    for (const entry of entries) this.entries.set(key(entry.apiVersion, entry.kind), entry);
  }

  /** The schema of `apiVersion`/`kind`, if any. */
  public lookup(apiVersion: string, kind: string): SchemaEntry | undefined {
    return this.entries.get(key(apiVersion, kind));
  }

  /** The compiled validator of `entry` (loaded on first use). */
  public validator(entry: SchemaEntry): ModelValidate {
    const k = key(entry.apiVersion, entry.kind);
    let validate = this.validators.get(k);
    if (validate === undefined) {
      validate = modelValidator(entry.module, entry.validatedAs ?? entry.apiVersion, entry.kind);
      this.validators.set(k, validate);
    }
    return validate;
  }

  /** apiVersions that serve `kind`, sorted. */
  public versionsOf(kind: string): string[] {
    return [...this.entries.values()].filter((e) => e.kind === kind).map((e) => e.apiVersion).sort();
  }

  /** Kinds served at `apiVersion`, sorted. */
  public kindsOf(apiVersion: string): string[] {
    return [...this.entries.values()].filter((e) => e.apiVersion === apiVersion).map((e) => e.kind).sort();
  }

  /** API groups with at least one schema ('' is the core group). */
  public groups(): string[] {
    return [...new Set([...this.entries.values()].map((e) => groupOf(e.apiVersion)))].sort();
  }

  /** Why `apiVersion`/`kind` has no schema, naming what does exist. */
  public explainUnknown(apiVersion: string, kind: string): string {
    const versions = this.versionsOf(kind);
    if (versions.length > 0) {
      return `${kind} is not served as ${apiVersion} by Kubernetes ${KUBERNETES_VERSION} or the registered CRDs; `
        + `it exists as ${versions.join(', ')}`;
    }
    const kinds = this.kindsOf(apiVersion);
    if (kinds.length > 0) {
      const guess = closest(kind, kinds);
      return `unknown kind ${JSON.stringify(kind)} in ${apiVersion}${guess === undefined ? '' : ` (did you mean ${guess}?)`}; `
        + `its kinds are ${kinds.join(', ')}`;
    }
    const group = groupOf(apiVersion);
    const groupVersions = [...new Set([...this.entries.values()].filter((e) => groupOf(e.apiVersion) === group).map((e) => e.apiVersion))].sort();
    if (groupVersions.length > 0) {
      return `unknown apiVersion ${JSON.stringify(apiVersion)}; group ${group || 'core'} exists as ${groupVersions.join(', ')}`;
    }
    return `no schema for ${apiVersion} ${kind}: not a Kubernetes ${KUBERNETES_VERSION} API and no registered CRD package serves `
      + `group ${JSON.stringify(group)} (register its @kubernetes-models package in validate/crds.ts)`;
  }
}

/** The API group of an apiVersion (`apps/v1` -> `apps`, `v1` -> ''). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

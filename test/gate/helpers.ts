import * as path from 'path';
import * as YAML from 'yaml';
import { compareFindings, Finding, formatFinding, loadManifests, ManifestObject, readManifestTree } from '../../validate';
import { EnvironmentIndex } from '../../validate/environment';

/** Hand-written manifests for the gate's own tests. */
export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'gate');

/** A manifest body for mutation in tests (deep paths are read and written freely). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

let good: readonly ManifestObject[] | undefined;

/** The objects of the good fixture (one valid environment, `shop`, using every kind), freshly copied. */
export function goodObjects(): ManifestObject[] {
  good ??= loadManifests(readManifestTree(path.join(FIXTURES, 'good'))).objects;
  return good.map((o) => ({ ...o, body: structuredClone(o.body) }));
}

/** The good fixture with `change` applied to the object of `file` (e.g. `shop/44-service-web.yaml`). */
export function goodWith(file: string, change: (body: Body) => void): ManifestObject[] {
  const objects = goodObjects();
  const target = objects.find((o) => o.file === file);
  if (target === undefined) throw new Error(`no object in ${file}; files: ${objects.map((o) => o.file).join(', ')}`);
  change(target.body);
  return objects.map((o) => (o === target ? reread(o) : o));
}

/** The good fixture without the objects of `files`. */
export function goodWithout(...files: string[]): ManifestObject[] {
  return goodObjects().filter((o) => !files.includes(o.file));
}

/** Re-derives name/namespace/kind after a body change, as loading the file would. */
function reread(o: ManifestObject): ManifestObject {
  const body = o.body as Body;
  return { ...o, apiVersion: body.apiVersion, kind: body.kind, name: body.metadata?.name ?? '', namespace: body.metadata?.namespace };
}

/** The object of one inline YAML manifest, as if read from `file`. */
export function manifest(yaml: string, file = 'env/object.yaml'): ManifestObject {
  const { objects, findings } = loadManifests(new Map([[file, yaml]]));
  if (findings.length > 0 || objects.length !== 1) throw new Error(`bad test manifest: ${findings.map(formatFinding).join('; ')}`);
  return objects[0];
}

/** A ManifestObject from a JS object (for tests that build manifests in code). */
export function objectOf(body: Body, file = 'env/object.yaml'): ManifestObject {
  return manifest(YAML.stringify(body), file);
}

/** The environment index of `objects` (the good fixture's environment is `shop`). */
export function environment(objects: readonly ManifestObject[]): EnvironmentIndex {
  return new EnvironmentIndex('shop', objects);
}

/** Sorted one-line renderings of findings, for exact comparison. */
export function lines(findings: readonly Finding[]): string[] {
  return [...findings].sort(compareFindings).map(formatFinding);
}

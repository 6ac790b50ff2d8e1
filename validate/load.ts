/**
 * Reads manifest files into objects. Never throws: malformed YAML, empty documents, documents that
 * are not objects and objects without apiVersion/kind become findings, and the remaining documents
 * are still checked.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { Finding, isObject, ManifestObject } from './findings';

/** Result of {@link loadManifests}. */
export interface LoadedManifests {
  /** Every document that parsed into an object with a string apiVersion and kind. */
  readonly objects: readonly ManifestObject[];
  /** Problems with the files themselves. */
  readonly findings: readonly Finding[];
}

/** Files the gate reads; anything else in the folder (README, .gitkeep) is ignored. */
export function isManifestFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/** The environment of a file: its first folder, or '' for a file at the top of the tree. */
export function environmentOf(file: string): string {
  const slash = file.indexOf('/');
  return slash === -1 ? '' : file.slice(0, slash);
}

// kubectl parses manifests as YAML 1.1 (`yes`/`on` are booleans, `0755` is octal), so the gate does
// too; like kubectl (go-yaml), it keeps timestamp-looking and base-60 scalars (`09:00`) as strings.
const PARSE_OPTIONS: YAML.ParseOptions & YAML.DocumentOptions & YAML.SchemaOptions = {
  version: '1.1',
  customTags: (tags) => tags.filter((t) => typeof t === 'string'
    || (t.tag !== 'tag:yaml.org,2002:timestamp' && (t as { format?: string }).format !== 'TIME')),
};

/** Orders parser messages ending in `at line L, column C` by position. */
function byPosition(a: string, b: string): number {
  const pos = (m: string) => {
    const match = / at line (\d+), column (\d+)$/.exec(m);
    return match === null ? [Infinity, Infinity] : [Number(match[1]), Number(match[2])];
  };
  const [pa, pb] = [pos(a), pos(b)];
  return pa[0] - pb[0] || pa[1] - pb[1] || a.localeCompare(b);
}

function fileFinding(file: string, rule: string, message: string, severity: Finding['severity'] = 'error'): Finding {
  return { severity, rule, file, environment: environmentOf(file), path: '', message };
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** The object in one parsed YAML document, or the finding that explains why there is none. */
function readDocument(file: string, doc: YAML.Document.Parsed, index: number, where: string): ManifestObject | Finding {
  if (doc.errors.length > 0) {
    // The first error says where the document went wrong; the rest are usually its echoes.
    const first = doc.errors.map((e) => e.message.split('\n')[0].replace(/:$/, '')).sort(byPosition)[0];
    return fileFinding(file, 'yaml/syntax', `${where}invalid YAML: ${first}`);
  }
  let value: unknown;
  try {
    // A JSON copy, so that an aliased node (`*anchor`) is its own object in each place it is used:
    // the strict schema check traces objects, and two places must not share one trace.
    value = JSON.parse(JSON.stringify(doc.toJS({ maxAliasCount: 100 })));
  } catch (e) {
    return fileFinding(file, 'yaml/syntax', `${where}cannot be read: ${(e as Error).message}`);
  }
  return readValue(file, value, index, where);
}

/** The object in one document's value (a JSON copy no other document shares), or the finding that explains why there is none. */
function readValue(file: string, value: unknown, index: number, where: string): ManifestObject | Finding {
  if (value === null || value === undefined) {
    return fileFinding(file, 'yaml/empty-document', `${where}empty document (kubectl skips it)`, 'warning');
  }
  if (!isObject(value)) {
    const got = Array.isArray(value) ? 'a list' : `${typeof value} ${JSON.stringify(value)}`;
    return fileFinding(file, 'yaml/not-an-object', `${where}must be a Kubernetes object (a mapping), got ${got}`);
  }
  const { apiVersion, kind } = value;
  const metadata = isObject(value.metadata) ? value.metadata : {};
  if (!nonEmpty(apiVersion) || !nonEmpty(kind)) {
    const missing = [nonEmpty(apiVersion) ? '' : 'apiVersion', nonEmpty(kind) ? '' : 'kind'].filter((m) => m !== '').join(' and ');
    return {
      ...fileFinding(file, 'schema/type-meta', `${where}${missing} must be a non-empty string; without it no schema applies`),
      ...(nonEmpty(kind) ? { kind } : {}),
      ...(typeof metadata.name === 'string' ? { name: metadata.name } : {}),
    };
  }
  return {
    file,
    document: index,
    environment: environmentOf(file),
    apiVersion,
    kind,
    name: typeof metadata.name === 'string' ? metadata.name : '',
    namespace: typeof metadata.namespace === 'string' ? metadata.namespace : undefined,
    body: value,
  };
}

/** Parses every manifest file of `tree` (relative path -> content). */
export function loadManifests(tree: ReadonlyMap<string, string>): LoadedManifests {
  const objects: ManifestObject[] = [];
  const findings: Finding[] = [];
  for (const [file, content] of [...tree.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (!isManifestFile(file)) continue;
    let documents: YAML.Document.Parsed[];
    try {
      documents = YAML.parseAllDocuments(content, PARSE_OPTIONS) as YAML.Document.Parsed[];
    } catch (e) {
      findings.push(fileFinding(file, 'yaml/syntax', `cannot be parsed: ${(e as Error).message}`));
      continue;
    }
    if (documents.length === 0) findings.push(fileFinding(file, 'yaml/empty-document', 'contains no document', 'warning'));
    documents.forEach((doc, index) => {
      const read = readDocument(file, doc, index, documents.length > 1 ? `document ${index + 1}: ` : '');
      if ('body' in read) objects.push(read);
      else findings.push(read);
    });
  }
  return { objects, findings };
}

/** One synthesized object and the file it is written to (relative to the output folder), e.g. `staging/48-deployment-frontend.yaml`. */
export interface SynthesizedManifest {
  readonly file: string;
  /** The object as synthesized (JSON-shaped: what the file's YAML reads back as). */
  readonly object: unknown;
}

/**
 * Reads synthesized objects as {@link loadManifests} reads the files they are written to, without
 * writing or parsing YAML: each object is copied with JSON semantics (so that the checks never share
 * or change the caller's objects, and `undefined` fields are dropped as the YAML writer drops them),
 * and checked for apiVersion/kind like a parsed document. With `unshared`, the caller vouches that
 * the objects already are such copies (see {@link ManifestOptions}) and they are read as they are. Files come in the order
 * {@link loadManifests} reads them; two objects of one file are its documents, in the given order.
 */
export function manifestsOf(manifests: Iterable<SynthesizedManifest>, options: { readonly unshared?: boolean } = {}): LoadedManifests {
  const objects: ManifestObject[] = [];
  const findings: Finding[] = [];
  const byFile = new Map<string, unknown[]>();
  for (const { file, object } of manifests) {
    if (!isManifestFile(file)) continue;
    const list = byFile.get(file);
    if (list === undefined) byFile.set(file, [object]);
    else list.push(object);
  }
  for (const [file, values] of [...byFile.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    values.forEach((object, index) => {
      const copy: unknown = object === undefined ? null : options.unshared === true ? object : JSON.parse(JSON.stringify(object));
      const read = readValue(file, copy, index, values.length > 1 ? `document ${index + 1}: ` : '');
      if ('body' in read) objects.push(read);
      else findings.push(read);
    });
  }
  return { objects, findings };
}

/**
 * Reads every manifest file below `dir` into a tree (relative path -> content); empty when `dir`
 * does not exist. (synth/output.ts has a readTree too, but importing it would load cdk8s, which
 * costs the gate's command line a tenth of a second for nothing.)
 */
export function readManifestTree(dir: string): Map<string, string> {
  const tree = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const relPath = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(relPath);
      else if (isManifestFile(entry.name)) tree.set(relPath, fs.readFileSync(path.join(dir, relPath), 'utf8'));
    }
  };
  if (fs.existsSync(dir)) walk('');
  return tree;
}

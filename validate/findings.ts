/**
 * What the gate reports: one finding per problem, naming the file, the object, the JSON path inside
 * it and what is wrong. Findings are plain data so that tests compare them exactly and the CLI, the
 * jest suite and the cdk8s plugin all print the same thing.
 */

/** A JSON value as parsed from a manifest. */
export type Json = null | boolean | number | string | readonly Json[] | JsonObject;

/** A JSON object as parsed from a manifest. */
export interface JsonObject {
  readonly [key: string]: Json;
}

/** One step of a path inside an object: a property name or an array index. */
export type Segment = string | number;

/** A path inside an object, e.g. `['spec', 'template', 'spec', 'containers', 0]`. */
export type JsonPath = readonly Segment[];

/** `error` fails the gate; `warning` is printed but does not. */
export type Severity = 'error' | 'warning';

/** One problem found in the manifests. */
export interface Finding {
  /** Whether the finding fails the gate. */
  readonly severity: Severity;
  /** Stable rule id, `<family>/<rule>`, e.g. `pod-security/run-as-user`. */
  readonly rule: string;
  /** File relative to the validated folder, e.g. `staging/48-deployment-frontend.yaml`. */
  readonly file: string;
  /** Environment: the first folder of `file` ('' for a file at the top). */
  readonly environment: string;
  /** Kind of the object, when the document parsed into one. */
  readonly kind?: string;
  /** `metadata.name` of the object, when it has one. */
  readonly name?: string;
  /** `metadata.namespace` of the object, when it has one. */
  readonly namespace?: string;
  /** JSON path inside the object (`spec.ports[0].targetPort`); '' for the object or document as a whole. */
  readonly path: string;
  /** What is wrong and, where useful, what is allowed. */
  readonly message: string;
}

/** A parsed Kubernetes object and where it came from. */
export interface ManifestObject {
  /** File relative to the validated folder. */
  readonly file: string;
  /** 0-based index of the YAML document within the file. */
  readonly document: number;
  /** Environment: the first folder of `file` ('' for a file at the top). */
  readonly environment: string;
  readonly apiVersion: string;
  readonly kind: string;
  /** `metadata.name`, or '' when missing. */
  readonly name: string;
  /** `metadata.namespace`, when set. */
  readonly namespace: string | undefined;
  /** The whole object as parsed. */
  readonly body: JsonObject;
}

/** True for a JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` if it is a JSON object, else an empty one: lets checks walk malformed input safely. */
export function asObject(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

/** `value` if it is an array, else an empty one. */
export function asArray(value: unknown): readonly Json[] {
  return Array.isArray(value) ? value : [];
}

/** `value` if it is a string, else undefined. */
export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The value at `path` below `root`, or undefined when any step is missing. */
export function valueAt(root: unknown, path: JsonPath): unknown {
  let node: unknown = root;
  for (const segment of path) {
    if (typeof segment === 'number') node = Array.isArray(node) ? node[segment] : undefined;
    else node = isObject(node) ? node[segment] : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** Renders a path for humans: `spec.containers[0].env[1].name`, `metadata.labels["app.kubernetes.io/name"]`. */
export function formatPath(path: JsonPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** A finding about `object` at `path`. */
export function findingAt(
  object: ManifestObject, rule: string, path: JsonPath, message: string, severity: Severity = 'error',
): Finding {
  return {
    severity,
    rule,
    file: object.file,
    environment: object.environment,
    kind: object.kind,
    name: object.name,
    namespace: object.namespace,
    path: formatPath(path),
    message,
  };
}

/** `Kind namespace/name` (or `Kind name` for cluster-scoped objects). */
export function describeObject(f: Pick<Finding, 'kind' | 'name' | 'namespace'>): string {
  if (f.kind === undefined) return '(no object)';
  const name = f.name === undefined || f.name === '' ? '(unnamed)' : f.name;
  return f.namespace === undefined ? `${f.kind} ${name}` : `${f.kind} ${f.namespace}/${name}`;
}

/** One line per finding: `file Kind ns/name path: message [rule]` (tests compare these); file-level findings name no object. */
export function formatFinding(f: Finding): string {
  const where = f.path === '' ? '' : ` ${f.path}`;
  const level = f.severity === 'warning' ? 'warning: ' : '';
  const object = f.kind === undefined ? '' : ` ${describeObject(f)}`;
  return `${f.file}${object}${where}: ${level}${f.message} [${f.rule}]`;
}

const SEVERITY_ORDER: { readonly [s in Severity]: number } = { error: 0, warning: 1 };

/** Orders findings by file, object, path, rule and message, so output never depends on check order. */
export function compareFindings(a: Finding, b: Finding): number {
  return a.file.localeCompare(b.file)
    || (a.kind ?? '').localeCompare(b.kind ?? '')
    || (a.name ?? '').localeCompare(b.name ?? '')
    || a.path.localeCompare(b.path)
    || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]
    || a.rule.localeCompare(b.rule)
    || a.message.localeCompare(b.message);
}

/**
 * Names the API server validates beyond the schema: object names per kind, label keys and values,
 * port names, and one object per apiVersion group/kind/namespace/name. The rules are written here
 * from the Kubernetes validation code, independently of constructs/validation.ts, so that a mistake
 * in the constructs' validators cannot hide itself.
 */
import { EnvironmentIndex } from './environment';
import { asArray, asObject, asString, Finding, findingAt, JsonPath, ManifestObject, valueAt } from './findings';
import { groupOf } from './registry';
import { containersOf, podTemplateOf } from './workloads';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Why `name` is not a DNS-1123 subdomain (Deployment, ConfigMap, ... names), or undefined. */
export function dns1123Subdomain(name: string): string | undefined {
  return name.length <= 253 && name.split('.').every((l) => DNS1123_LABEL.test(l)) ? undefined
    : 'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters';
}

/** Why `name` is not a DNS-1123 label (Namespace names), or undefined. */
export function dns1123Label(name: string): string | undefined {
  return name.length <= 63 && DNS1123_LABEL.test(name) ? undefined
    : 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters';
}

/** Why `name` is not a DNS-1035 label (Service names: they become DNS names, so they start with a letter), or undefined. */
export function dns1035Label(name: string): string | undefined {
  return name.length <= 63 && DNS1035_LABEL.test(name) ? undefined
    : 'must be a DNS-1035 label: lowercase letters, digits and "-", starting with a letter, ending with a letter or digit, at most 63 characters';
}

/** Why `name` is not a valid path segment (RBAC object names such as `system:aggregate-to-view`), or undefined. */
export function pathSegmentName(name: string): string | undefined {
  return name !== '.' && name !== '..' && !/[/%]/.test(name) ? undefined : 'must not be "." or ".." and must not contain "/" or "%"';
}

/** Why `name` is not an IANA service name (named container ports), or undefined. */
export function ianaServiceName(name: string): string | undefined {
  return name.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) && /[a-z]/.test(name) && !name.includes('--') ? undefined
    : 'must be an IANA service name: at most 15 lowercase letters, digits and "-", with a letter, no "--", starting and ending with a letter or digit';
}

/** Name rule per kind (anything not listed is a DNS-1123 subdomain), as in the API server's validation. */
export const NAME_RULES: { readonly [kind: string]: (name: string) => string | undefined } = {
  Namespace: dns1123Label,
  Service: dns1035Label,
  Role: pathSegmentName,
  ClusterRole: pathSegmentName,
  RoleBinding: pathSegmentName,
  ClusterRoleBinding: pathSegmentName,
  // A CronJob's name plus an 11-character suffix names its Jobs, which label their pods with it.
  CronJob: (name) => dns1123Subdomain(name) ?? (name.length <= 52 ? undefined : 'must be at most 52 characters (its Jobs append an 11-character suffix)'),
  // The API server copies a Job's name into its pods' `job-name` labels, whose values are at most 63.
  Job: (name) => dns1123Subdomain(name) ?? (name.length <= 63 ? undefined : 'must be at most 63 characters (it becomes the job-name label of its pods)'),
};

/** Every object has a name valid for its kind. */
export function checkObjectName(object: ManifestObject): Finding[] {
  if (object.name === '') {
    return [findingAt(object, 'names/object-name', ['metadata', 'name'], 'is required (kubectl apply cannot create objects from generateName)')];
  }
  const rule = (NAME_RULES[object.kind] ?? dns1123Subdomain)(object.name);
  return rule === undefined ? [] : [findingAt(object, 'names/object-name', ['metadata', 'name'], `${rule}, got ${JSON.stringify(object.name)}`)];
}

/** Why `key` is not a valid label key (`[prefix/]name`), or undefined. */
export function labelKey(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix === '' || dns1123Subdomain(prefix) !== undefined)) return 'must have a DNS-1123 subdomain prefix before "/"';
  return name.length <= 63 && LABEL_NAME.test(name) ? undefined
    : 'must be at most 63 letters, digits, "-", "_" or "." (after an optional "prefix/"), starting and ending with a letter or digit';
}

/** Why `value` is not a valid label value, or undefined. */
export function labelValue(value: string): string | undefined {
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value)) ? undefined
    : 'must be empty or at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
}

/** Every label (of the object and of its pod template) has a valid key and value. */
export function checkLabels(object: ManifestObject): Finding[] {
  const sets: JsonPath[] = [['metadata', 'labels']];
  const pod = podTemplateOf(object);
  if (pod !== undefined && pod.path.length > 0) sets.push([...pod.path, 'metadata', 'labels']);
  return sets.flatMap((path) => Object.entries(asObject(valueAt(object.body, path))).flatMap(([key, value]) => {
    const keyProblem = labelKey(key);
    const valueProblem = typeof value === 'string' ? labelValue(value) : undefined;
    return [
      ...(keyProblem === undefined ? [] : [findingAt(object, 'names/label', [...path, key], `label key ${keyProblem}, got ${JSON.stringify(key)}`)]),
      ...(valueProblem === undefined ? [] : [findingAt(object, 'names/label', [...path, key], `label value ${valueProblem}, got ${JSON.stringify(value)}`)]),
    ];
  }));
}

/**
 * Container port names are IANA service names; Service port names are DNS labels and named target
 * ports IANA names; a probe naming a port names one of its container's ports.
 */
export function checkPortNames(object: ManifestObject): Finding[] {
  const findings: Finding[] = [];
  const check = (name: unknown, path: JsonPath, rule: (n: string) => string | undefined) => {
    if (typeof name !== 'string') return;
    const problem = rule(name);
    if (problem !== undefined) findings.push(findingAt(object, 'names/port-name', path, `${problem}, got ${JSON.stringify(name)}`));
  };
  const pod = podTemplateOf(object);
  if (pod !== undefined) {
    for (const c of containersOf(pod)) {
      asArray(c.container.ports).forEach((p, i) => check(asObject(p).name, [...c.path, 'ports', i, 'name'], ianaServiceName));
      // A named probe port resolves against the container's own ports only; a typo keeps the pod unready.
      const declared = asArray(c.container.ports).map((p) => asString(asObject(p).name)).filter((n): n is string => n !== undefined);
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        for (const handler of ['httpGet', 'tcpSocket']) {
          const port = asString(asObject(asObject(c.container[probe])[handler]).port);
          if (port !== undefined && !declared.includes(port)) {
            findings.push(findingAt(object, 'names/probe-port', [...c.path, probe, handler, 'port'],
              `names port ${JSON.stringify(port)}, which container ${JSON.stringify(c.container.name ?? '')} does not declare (its named ports: ${declared.join(', ') || 'none'})`));
          }
        }
      }
    }
  }
  if (object.kind === 'Service' && object.apiVersion === 'v1') {
    asArray(asObject(object.body.spec).ports).forEach((p, i) => {
      const port = asObject(p);
      check(port.name, ['spec', 'ports', i, 'name'], dns1123Label);
      check(asString(port.targetPort), ['spec', 'ports', i, 'targetPort'], ianaServiceName);
    });
  }
  return findings;
}

/** No two objects of an environment share API group, kind, namespace and name (the later ones are reported). */
export function checkDuplicates(env: EnvironmentIndex): Finding[] {
  const seen = new Map<string, ManifestObject>();
  return env.objects.flatMap((object) => {
    const identity = `${groupOf(object.apiVersion)}/${object.kind}/${object.namespace ?? ''}/${object.name}`;
    const first = seen.get(identity);
    if (first === undefined) {
      seen.set(identity, object);
      return [];
    }
    return [findingAt(object, 'names/duplicate', ['metadata', 'name'],
      `${object.kind} ${JSON.stringify(object.name)} is already defined in ${first.file}${first.file === object.file ? ` (document ${first.document + 1})` : ''}; the later one would overwrite it`)];
  });
}

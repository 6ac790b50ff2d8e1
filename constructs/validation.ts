/**
 * Validators shared by the constructs (eager prop checks) and the environment config checks.
 * Each returns `undefined` when the value is fine, or the rule it breaks as a phrase that completes
 * "<field> ...", e.g. `must be an integer >= 1`.
 */

import { isIP } from 'net';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// A Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}) that is also a label value, since the tag becomes the
// `app.kubernetes.io/version` label: at most 63 characters, alphanumeric at both ends.
const IMAGE_TAG = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

// Quantities have their own module; these are re-exported for the config checks that import them from here.
export { checkQuantity, parseQuantity } from './quantity';

/** `must be a DNS-1123 label ...` unless `value` is a valid label (Service, Deployment, namespace names). */
export function checkDnsLabel(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length <= 63 && DNS_LABEL.test(value)) return undefined;
  return 'must be a DNS-1123 label (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)';
}

/** Rule broken by `value` as a DNS-1123 subdomain (host names, Secret and ConfigMap names). */
export function checkDnsSubdomain(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0 && value.length <= 253
    && value.split('.').every((label) => DNS_LABEL.test(label))) {
    return undefined;
  }
  return 'must be a DNS-1123 subdomain (dot-separated lowercase labels, at most 253 characters)';
}

/**
 * Rule broken by `value` as an image tag; `latest` and empty tags are never accepted. The tag also
 * becomes the `app.kubernetes.io/version` label, so it must be a valid label value too.
 */
export function checkImageTag(value: unknown): string | undefined {
  if (typeof value === 'string' && value.toLowerCase() === 'latest') {
    return 'must be a pinned tag (a version like v1.4.2 or a commit SHA), not "latest"';
  }
  if (typeof value === 'string' && IMAGE_TAG.test(value)) return undefined;
  return 'must be a pinned image tag that is also a label value (at most 63 letters, digits, "_", "." or "-", '
    + 'starting and ending with a letter or digit; a version like v1.4.2 or a commit SHA)';
}

/** The largest value of the 32-bit integer fields of the Kubernetes API (replicas, ports, seconds...). */
export const INT32_MAX = 2 ** 31 - 1;

/** Rule broken by `value` as an integer within `[min, max]` (by default, up to {@link INT32_MAX}). */
export function checkInteger(value: unknown, min: number, max = INT32_MAX): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return undefined;
  if (max === INT32_MAX) {
    return typeof value === 'number' && value > max ? `must be an integer from ${min} to ${max} (a 32-bit integer)` : `must be an integer >= ${min}`;
  }
  return `must be an integer from ${min} to ${max}`;
}

/** Rule broken by `value` as a TCP port number. */
export function checkPort(value: unknown): string | undefined {
  return checkInteger(value, 1, 65535);
}

// The duration syntax of the prometheus-operator CRDs (`for`, `interval`), without the bare `0`.
const PROM_DURATION = /^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$/;
const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Rule broken by `value` as a positive Prometheus duration (`30s`, `5m`, `1h30m`). */
export function checkPromDuration(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '' && PROM_DURATION.test(value) && /[1-9]/.test(value)) return undefined;
  return 'must be a positive Prometheus duration such as "30s", "5m" or "1h30m"';
}

/** Rule broken by `value` as a Kubernetes label key (`app`, `app.kubernetes.io/name`). */
export function checkLabelKey(value: unknown): string | undefined {
  if (typeof value === 'string' && value.split('/').pop()!.length <= 63 && value.length <= 317 && LABEL_NAME.test(value)) return undefined;
  return 'must be a Kubernetes label key (an optional DNS subdomain prefix and "/", then at most 63 letters, digits, "-", "_" or ".")';
}

/** Rule broken by `value` as a Kubernetes label value. */
export function checkLabelValue(value: unknown): string | undefined {
  if (typeof value === 'string' && LABEL_VALUE.test(value)) return undefined;
  return 'must be a Kubernetes label value (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)';
}

/** Rule broken by `value` as a key of a Secret or ConfigMap. */
export function checkSecretKey(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(value)) return undefined;
  return 'must be a Secret key ([-._a-zA-Z0-9]+, at most 253 characters)';
}

/** Rule broken by `value` as an absolute https URL with a path (`https://host/...`). */
export function checkHttpsUrl(value: unknown): string | undefined {
  if (typeof value === 'string' && /^https:\/\/[^\s/]+\/\S*$/.test(value)) return undefined;
  return 'must be an https URL';
}

/** Thrown for invalid construct props: names the construct, the field, the bad value and the rule. */
export class PropsError extends Error {
  /**
   * @param where the construct, e.g. `Microservice knowledge-service`
   * @param field the prop, e.g. `resources.requests.cpu`
   * @param value the bad value
   * @param rule what is allowed, completing "<field> ..."
   */
  constructor(public readonly where: string, public readonly field: string, public readonly value: unknown, public readonly rule: string) {
    super(`${where}: ${field} ${rule}, got ${JSON.stringify(value)}`);
    this.name = 'PropsError';
  }
}

/** Throws a {@link PropsError} when `rule` is defined; returns silently otherwise. */
export function assertValid(where: string, field: string, value: unknown, rule: string | undefined): void {
  if (rule !== undefined) throw new PropsError(where, field, value, rule);
}

/**
 * Rule broken by `value` as a label selector (`matchLabels`): a map of at least one valid label.
 * An empty selector would match every pod, which is never what a traffic rule means.
 */
export function checkPodLabels(value: unknown): string | undefined {
  const rule = 'must be a non-empty map of Kubernetes labels (keys [prefix/]name, values of at most 63 characters of [A-Za-z0-9_.-])';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return rule;
  const entries = Object.entries(value);
  if (entries.length === 0) return rule;
  return entries.every(([k, v]) => checkLabelKey(k) === undefined && checkLabelValue(v) === undefined) ? undefined : rule;
}

/**
 * Rule broken by `value` as the CIDR of a NetworkPolicy `ipBlock` (IPv4 `10.0.0.0/16` or IPv6
 * `fd00::/64`). The catch-all ranges `0.0.0.0/0` and `::/0` are refused: an edge is to named addresses.
 */
export function checkCidr(value: unknown): string | undefined {
  const rule = 'must be an IPv4 or IPv6 CIDR such as "10.20.0.0/16", narrower than the whole address space';
  if (typeof value !== 'string') return rule;
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return rule;
  const version = isIP(address);
  const prefix = Number(bits);
  if (version === 0 || prefix < 1 || prefix > (version === 4 ? 32 : 128)) return rule;
  return undefined;
}

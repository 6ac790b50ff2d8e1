/**
 * The review report's data: objects keyed by group/kind/namespace/name, their field-level changes,
 * and the plain-words lines a reviewer reads first, each with its risk labels.
 */

/** A JSON value as parsed from a manifest. */
export type Json = null | boolean | number | string | readonly Json[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  readonly [key: string]: Json;
}

/** A Kubernetes object as synthesized or read from `dist/` (only what keying needs is typed). */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/**
 * Risk labels, from the most to the least urgent. A line carries one or more; the report puts lines
 * with a {@link BLOCKING_LABELS blocking} or {@link RISKY_LABELS risky} label first.
 */
export const RISK_LABELS = [
  'blocking', 'deletes-data', 'stops-traffic', 'rename', 'capacity-down', 'exposure-up', 'alerts-down', 'secrets',
  'traffic', 'image', 'capacity-up', 'capacity', 'exposure-down', 'alerts', 'change',
] as const;

/** One of {@link RISK_LABELS}. */
export type RiskLabel = typeof RISK_LABELS[number];

/** What each label means, for `--help`, the Markdown legend and error messages. */
export const RISK_LABEL_MEANINGS: { readonly [label in RiskLabel]: string } = {
  'blocking': 'kubectl apply will refuse it (an immutable field changed): the object must be deleted and re-created',
  'deletes-data': 'removes an object that holds data or everything in a namespace',
  'stops-traffic': 'requests that work today will fail: a Service, route or port removed, a Service selecting no pods, replicas 0',
  'rename': 'an object removed and a similar one added: a new object, not an update',
  'capacity-down': 'fewer replicas, lower autoscaler bounds, a looser or removed disruption budget, or smaller requests/limits for pods that serve traffic',
  'exposure-up': 'the NetworkPolicies allow flows they did not, a new namespace or IP-block peer, a Service or host exposed further',
  'alerts-down': 'an alert removed or made less sensitive (higher threshold, longer for, lower severity)',
  'secrets': 'which secrets and keys pods read, or where a secret comes from (values are never shown)',
  'traffic': 'where requests go: a Service moving between colours or versions, the preview, Ingress and HTTPRoute routes',
  'image': 'the image (version) a component runs',
  'capacity-up': 'more replicas, higher autoscaler bounds or larger requests/limits',
  'capacity': 'a capacity change of pods that serve no live traffic (an idle colour)',
  'exposure-down': 'the NetworkPolicies deny flows they allowed',
  'alerts': 'alert rules added or changed',
  'change': 'any other change, summarized by field',
};

/** Labels that fail the merge-request pipeline. */
export const BLOCKING_LABELS: readonly RiskLabel[] = ['blocking'];

/** Labels a reviewer must look at before anything else (after the blocking ones). */
export const RISKY_LABELS: readonly RiskLabel[] = ['deletes-data', 'stops-traffic', 'rename', 'capacity-down', 'exposure-up', 'alerts-down', 'secrets'];

/** What a line is about; the report groups lines by topic within an environment. */
export type Topic = 'blocking' | 'traffic' | 'images' | 'capacity' | 'exposure' | 'alerts' | 'secrets' | 'objects';

/** Topics in report order, with their headings. */
export const TOPICS: ReadonlyArray<readonly [Topic, string]> = [
  ['blocking', 'Refused by kubectl apply'],
  ['traffic', 'Traffic'],
  ['images', 'Images and versions'],
  ['capacity', 'Capacity'],
  ['exposure', 'Exposure'],
  ['alerts', 'Alerts'],
  ['secrets', 'Secrets'],
  ['objects', 'Other changes'],
];

/** One plain-words line of the report, e.g. `production/knowledge-service: traffic blue (v1.0.0) -> green (v1.1.0)`. */
export interface ReviewLine {
  readonly environment: string;
  /** `<environment>/<object name>` or `<environment>` for a line about the environment. */
  readonly subject: string;
  readonly text: string;
  readonly labels: readonly RiskLabel[];
  readonly topic: Topic;
  /** {@link ObjectKey.id} of the object the line is about, when it is about one. */
  readonly object?: string;
}

/** Identity of an object in an environment: API group (`''` for the core group), kind, namespace, name. */
export interface ObjectKey {
  readonly group: string;
  readonly kind: string;
  /** `''` for a cluster-scoped object. */
  readonly namespace: string;
  readonly name: string;
  /** `<group>/<kind>/<namespace>/<name>`, unique per environment. */
  readonly id: string;
}

/** One changed field of an object. Values are shown as short JSON; secret values as `(hidden)`. */
export interface FieldChange {
  /** `spec.template.spec.containers[knowledge-service].image`: named list items by name, others by index. */
  readonly path: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly before?: string;
  readonly after?: string;
}

/** An object added, removed or changed. */
export interface ObjectChange {
  readonly key: ObjectKey;
  readonly change: 'added' | 'removed' | 'changed';
  /** Field-level summary of a change (empty for added and removed objects). */
  readonly fields: readonly FieldChange[];
  /** For a removed object that looks renamed: the name of the added object that replaces it, and vice versa. */
  readonly renamedTo?: string;
  readonly renamedFrom?: string;
}

/** The review of one environment. */
export interface EnvironmentReview {
  readonly environment: string;
  readonly counts: { readonly added: number; readonly removed: number; readonly changed: number; readonly unchanged: number };
  readonly objects: readonly ObjectChange[];
  /** Blocking and risky lines first, then by topic. */
  readonly lines: readonly ReviewLine[];
}

/** The whole report. */
export interface Review {
  /** What was compared: e.g. `dist/ at 1a2b3c4 (merge base with main)` and `the working tree`. */
  readonly base: string;
  readonly head: string;
  readonly environments: readonly EnvironmentReview[];
}

/** Urgency rank of a label (0 = most urgent); a line ranks by its most urgent label. */
export function rankOf(labels: readonly RiskLabel[]): number {
  return Math.min(...labels.map((l) => RISK_LABELS.indexOf(l)), RISK_LABELS.length);
}

/** True for a line that must be read first (blocking or risky). */
export function isUrgent(line: ReviewLine): boolean {
  return line.labels.some((l) => BLOCKING_LABELS.includes(l) || RISKY_LABELS.includes(l));
}

/** `production/knowledge-service: traffic blue -> green` (labels are not part of the plain text). */
export function plainLine(line: ReviewLine): string {
  return `${line.subject}: ${line.text}`;
}

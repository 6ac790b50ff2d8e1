/**
 * Where pods come from: the pod template of every workload kind, its containers, and label
 * selector matching as the API server does it.
 */
import { asArray, asObject, asString, isObject, JsonObject, JsonPath, ManifestObject, valueAt } from './findings';

/** Where each workload kind keeps its pod template (the object with `metadata` and `spec`). */
export const POD_TEMPLATE_PATHS: { readonly [kind: string]: JsonPath } = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
  PodTemplate: ['template'],
};

/** The pod template of a workload. */
export interface PodTemplate {
  /** The workload. */
  readonly owner: ManifestObject;
  /** Path of the template inside the owner (`[]` for a Pod). */
  readonly path: JsonPath;
  /** Labels of the pods (`metadata.labels` of the template). */
  readonly labels: { readonly [key: string]: string };
  /** Annotations of the pods. */
  readonly annotations: { readonly [key: string]: string };
  /** The pod spec (`{}` when missing or malformed). */
  readonly spec: JsonObject;
}

/** One container of a pod template, with its path inside the owner. */
export interface ContainerRef {
  readonly container: JsonObject;
  readonly path: JsonPath;
  /** `containers`, `initContainers` or `ephemeralContainers`. */
  readonly list: string;
}

function stringMap(value: unknown): { readonly [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(asObject(value))) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The pod template of `object`, or undefined for kinds that run no pods. */
export function podTemplateOf(object: ManifestObject): PodTemplate | undefined {
  const path = object.apiVersion.startsWith('argoproj.io/') ? argoTemplatePath(object) : POD_TEMPLATE_PATHS[object.kind];
  if (path === undefined) return undefined;
  const template = asObject(valueAt(object.body, path));
  const metadata = asObject(template.metadata);
  return {
    owner: object,
    path,
    labels: stringMap(metadata.labels),
    annotations: stringMap(metadata.annotations),
    spec: asObject(template.spec),
  };
}

/**
 * The pod template of an Argo Rollouts object. Argo Rollouts runs the pods of an AnalysisTemplate's Job metric (`spec.metrics[].provider.job`) in
 * the template's namespace: the first such metric's pod template is checked like a Job's (Pod
 * Security, references, the selectors of NetworkPolicies). A template with a second Job metric has
 * only its first checked.
 */
function argoTemplatePath(object: ManifestObject): JsonPath | undefined {
  // a Rollout's own template (none with a workloadRef: its Deployment's template is the pods')
  if (object.kind === 'Rollout') return isObject(valueAt(object.body, ['spec', 'template'])) ? ['spec', 'template'] : undefined;
  if (object.kind !== 'AnalysisTemplate' && object.kind !== 'ClusterAnalysisTemplate') return undefined;
  const metrics = asArray(valueAt(object.body, ['spec', 'metrics']));
  const i = metrics.findIndex((m) => isObject(valueAt(m, ['provider', 'job'])));
  return i < 0 ? undefined : ['spec', 'metrics', i, 'provider', 'job', 'spec', 'template'];
}

/** Every container of a pod template: regular, init and ephemeral. */
export function containersOf(pod: PodTemplate): ContainerRef[] {
  const refs: ContainerRef[] = [];
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    asArray(pod.spec[list]).forEach((c, i) => {
      if (isObject(c)) refs.push({ container: c, path: [...pod.path, 'spec', list, i], list });
    });
  }
  return refs;
}

/** `ownerKind/name` of a pod template, for messages. */
export function ownerName(pod: PodTemplate): string {
  return `${pod.owner.kind}/${pod.owner.name}`;
}

/** True when every label of a Service-style selector (a plain map) is on `labels`. An empty map selects nothing. */
export function mapSelects(selector: { readonly [key: string]: string }, labels: { readonly [key: string]: string }): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/**
 * True when a metav1.LabelSelector (matchLabels + matchExpressions) selects `labels`. An empty
 * selector (`{}`) selects everything; a missing one (undefined) selects nothing.
 */
export function labelSelectorMatches(selector: unknown, labels: { readonly [key: string]: string }): boolean {
  if (!isObject(selector)) return false;
  for (const [k, v] of Object.entries(asObject(selector.matchLabels))) {
    if (labels[k] !== v) return false;
  }
  for (const expression of asArray(selector.matchExpressions)) {
    const e = asObject(expression);
    const key = asString(e.key) ?? '';
    const values = asArray(e.values).filter((v): v is string => typeof v === 'string');
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (e.operator) {
      case 'In': if (!has || !values.includes(labels[key])) return false; break;
      case 'NotIn': if (has && values.includes(labels[key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** Renders a label map for messages: `app=frontend,version=blue`. */
export function describeLabels(labels: unknown): string {
  return Object.entries(asObject(labels)).map(([k, v]) => `${k}=${String(v)}`).join(',');
}

/** Renders a metav1.LabelSelector for messages: `app=frontend,tier In (a,b)`; `{}` selects everything. */
export function describeSelector(selector: unknown): string {
  const s = asObject(selector);
  const parts = [
    ...Object.entries(asObject(s.matchLabels)).map(([k, v]) => `${k}=${String(v)}`),
    ...asArray(s.matchExpressions).map((x) => {
      const e = asObject(x);
      const values = asArray(e.values).join(',');
      return `${String(e.key)} ${String(e.operator)}${values === '' ? '' : ` (${values})`}`;
    }),
  ];
  return parts.length === 0 ? '{} (everything)' : parts.join(',');
}

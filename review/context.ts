/**
 * Both sides of one environment's change, indexed for the line builders: objects by key, the pod
 * templates of each side, and the added, removed and changed objects.
 */
import { JsonObject, Manifest, ObjectKey, ReviewLine, RiskLabel, Topic } from './model';
import { arrayAt, canonical, findRenames, isObject, keyOf, objectAt, stringMap } from './objects';

/**
 * Naming conventions of the blue/green construct (constructs/microservice.ts; imported there from
 * cdk8s code, which this module must not load to stay fast): the colour label on pods, the
 * version label, and the preview Service's name suffix. test/review.test.ts pins them to the
 * construct's constants.
 */
export const COLOUR_LABEL = 'version';
export const VERSION_LABEL = 'app.kubernetes.io/version';
export const PREVIEW_SUFFIX = '-preview';

/** Where each workload kind keeps its pod template. */
const POD_TEMPLATE_PATHS: { readonly [kind: string]: readonly string[] } = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The pods a workload runs, as its template describes them. */
export interface PodTemplate {
  readonly owner: Manifest;
  readonly namespace: string;
  readonly labels: { readonly [key: string]: string };
  /** The pod spec. */
  readonly spec: JsonObject;
}

/** The pod template of a workload, or undefined for other kinds. */
export function podTemplateOf(object: Manifest): PodTemplate | undefined {
  if (object.kind === 'Pod') {
    return { owner: object, namespace: object.metadata.namespace ?? '', labels: stringMap(objectAt(object, 'metadata').labels), spec: objectAt(object, 'spec') };
  }
  const path = POD_TEMPLATE_PATHS[object.kind];
  if (path === undefined) return undefined;
  const template = objectAt(object, ...path);
  return { owner: object, namespace: object.metadata.namespace ?? '', labels: stringMap(objectAt(template, 'metadata').labels), spec: objectAt(template, 'spec') };
}

/** Containers (and init containers) of a pod spec. */
export function containersOf(spec: JsonObject): JsonObject[] {
  return [...arrayAt(spec, 'initContainers'), ...arrayAt(spec, 'containers')].filter(isObject);
}

/** The image tag (or digest) of a reference: `registry/x:v1.0.0` -> `v1.0.0`. */
export function tagOf(image: string): string {
  const at = image.indexOf('@');
  const withoutDigest = at === -1 ? image : image.slice(0, at);
  const colon = withoutDigest.lastIndexOf(':');
  const tag = colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(colon + 1) : 'latest';
  return at === -1 ? tag : `${tag}@${image.slice(at + 1, at + 20)}…`;
}

/** The repository of an image reference (without tag and digest). */
export function repositoryOf(image: string): string {
  const at = image.indexOf('@');
  const withoutDigest = at === -1 ? image : image.slice(0, at);
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** The version pods run: their version label, else their first container's image tag. */
export function versionOfPods(pod: PodTemplate): string | undefined {
  const label = pod.labels[VERSION_LABEL];
  if (label !== undefined) return label;
  const image = containersOf(pod.spec).map((c) => c.image).find((i): i is string => typeof i === 'string');
  return image === undefined ? undefined : tagOf(image);
}

/** True when every label of `selector` is on `labels` (a map selector, as a Service's). */
export function mapSelects(selector: { readonly [key: string]: string }, labels: { readonly [key: string]: string }): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** One side (before or after) of an environment. */
export class Side {
  public readonly byId = new Map<string, Manifest>();
  public readonly pods: readonly PodTemplate[];

  public constructor(public readonly objects: readonly Manifest[]) {
    for (const o of objects) this.byId.set(keyOf(o).id, o);
    this.pods = objects.map(podTemplateOf).filter((p): p is PodTemplate => p !== undefined);
  }

  /** Objects of a kind. */
  public ofKind(kind: string): Manifest[] {
    return this.objects.filter((o) => o.kind === kind);
  }

  /** Pod templates a Service selector picks in `namespace` (none for an empty selector). */
  public podsSelectedBy(namespace: string, selector: { readonly [key: string]: string }): PodTemplate[] {
    if (Object.keys(selector).length === 0) return [];
    return this.pods.filter((p) => p.namespace === namespace && mapSelects(selector, p.labels));
  }

  /**
   * True when a Service that is not a preview Service selects pods of `workload`, or when no
   * Service selects them at all (a worker): its capacity is live capacity.
   */
  public servesLiveTraffic(workload: Manifest): boolean {
    const pod = podTemplateOf(workload);
    if (pod === undefined) return false;
    const services = this.ofKind('Service').filter((s) => (s.metadata.namespace ?? '') === pod.namespace
      && Object.keys(stringMap(objectAt(s, 'spec').selector)).length > 0 && mapSelects(stringMap(objectAt(s, 'spec').selector), pod.labels));
    return services.length === 0 || services.some((s) => !s.metadata.name.endsWith(PREVIEW_SUFFIX));
  }
}

/** A pair of versions of one object. */
export interface Pair {
  readonly key: ObjectKey;
  readonly before: Manifest;
  readonly after: Manifest;
}

/** Everything the line builders need about one environment's change. */
export class DiffContext {
  public readonly before: Side;
  public readonly after: Side;
  /** Objects present on both sides with a different canonical form. */
  public readonly changed: readonly Pair[];
  public readonly added: readonly Manifest[];
  public readonly removed: readonly Manifest[];
  /** Removed id -> added id, for objects that look renamed. */
  public readonly renames: ReadonlyMap<string, string>;
  public readonly unchanged: number;
  /** True when there was no `before` at all (a new environment). */
  public readonly newEnvironment: boolean;

  public constructor(public readonly environment: string, before: readonly Manifest[] | undefined, after: readonly Manifest[]) {
    this.newEnvironment = before === undefined;
    this.before = new Side(before ?? []);
    this.after = new Side(after);
    const changed: Pair[] = [];
    const added: Manifest[] = [];
    let unchanged = 0;
    for (const [id, now] of this.after.byId) {
      const prev = this.before.byId.get(id);
      if (prev === undefined) added.push(now);
      // (a file unchanged between the sides is read once: the very same object on both)
      else if (prev !== now && canonical(prev) !== canonical(now)) changed.push({ key: keyOf(now), before: prev, after: now });
      else unchanged += 1;
    }
    this.changed = changed;
    this.added = added;
    this.removed = [...this.before.byId].filter(([id]) => !this.after.byId.has(id)).map(([, o]) => o);
    this.renames = findRenames(this.removed, this.added);
    this.unchanged = unchanged;
  }

  /** Changed pairs of a kind. */
  public changedOfKind(kind: string): Pair[] {
    return this.changed.filter((p) => p.key.kind === kind);
  }

  /** A line about `object` (subject `<environment>/<name>`) or about the environment. */
  public line(object: Manifest | undefined, text: string, labels: readonly RiskLabel[], topic: Topic): ReviewLine {
    const subject = object === undefined ? this.environment : `${this.environment}/${object.metadata.name}`;
    return { environment: this.environment, subject, text, labels, topic, ...(object === undefined ? {} : { object: keyOf(object).id }) };
  }
}

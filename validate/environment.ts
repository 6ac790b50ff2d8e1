/**
 * The objects of one environment (one folder of dist/, applied together), indexed for the
 * cross-object checks: by kind, by identity, by namespace and, for label selectors, by label
 * (validate/selectors.ts), so that every check is linear in the number of objects.
 */
import { asObject, ManifestObject } from './findings';
import { groupOf } from './registry';
import { Labels, LabelIndex } from './selectors';
import { PodTemplate, podTemplateOf } from './workloads';

function labelsOfObject(object: ManifestObject): Labels {
  const out: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(asObject(asObject(object.body.metadata).labels))) if (typeof v === 'string') out[k] = v;
  return out;
}

/** One environment's objects, indexed. */
export class EnvironmentIndex {
  /** The pod templates of every workload. */
  public readonly podTemplates: readonly PodTemplate[];
  private readonly byKind = new Map<string, ManifestObject[]>();
  private readonly byIdentity = new Map<string, ManifestObject>();
  private readonly podsByNamespace = new Map<string | undefined, PodTemplate[]>();
  private readonly podIndexes = new Map<string | undefined, LabelIndex<PodTemplate>>();
  private readonly labelIndexes = new Map<string, LabelIndex<ManifestObject>>();

  constructor(
    /** Environment name (the folder). */
    public readonly name: string,
    /** Every object of the environment. */
    public readonly objects: readonly ManifestObject[],
  ) {
    for (const o of objects) {
      const k = kindKey(groupOf(o.apiVersion), o.kind);
      const list = this.byKind.get(k);
      if (list === undefined) this.byKind.set(k, [o]);
      else list.push(o);
      const id = identity(k, o.namespace, o.name);
      if (!this.byIdentity.has(id)) this.byIdentity.set(id, o);
    }
    this.podTemplates = objects.map(podTemplateOf).filter((p): p is PodTemplate => p !== undefined);
    for (const pod of this.podTemplates) {
      const list = this.podsByNamespace.get(pod.owner.namespace);
      if (list === undefined) this.podsByNamespace.set(pod.owner.namespace, [pod]);
      else list.push(pod);
    }
  }

  /** Objects of `kind` in API group `group` ('' = core). */
  public ofKind(group: string, kind: string): ManifestObject[] {
    return this.byKind.get(kindKey(group, kind)) ?? [];
  }

  /** Objects of `kind` in API group `group` whose `metadata.namespace` is exactly `namespace`. */
  public ofKindIn(group: string, kind: string, namespace: string | undefined): ManifestObject[] {
    return this.ofKind(group, kind).filter((o) => o.namespace === namespace);
  }

  /** The object of `kind` named `name` in `namespace`, if present (the first one, when duplicated). */
  public find(group: string, kind: string, namespace: string | undefined, name: string): ManifestObject | undefined {
    return this.byIdentity.get(identity(kindKey(group, kind), namespace, name));
  }

  /** Pod templates of workloads in `namespace`. */
  public podsIn(namespace: string | undefined): PodTemplate[] {
    return [...(this.podsByNamespace.get(namespace) ?? [])];
  }

  /** The pod templates of `namespace`, indexed by their labels. */
  public podIndex(namespace: string | undefined): LabelIndex<PodTemplate> {
    let index = this.podIndexes.get(namespace);
    if (index === undefined) {
      index = new LabelIndex(this.podsByNamespace.get(namespace) ?? [], (pod) => pod.labels);
      this.podIndexes.set(namespace, index);
    }
    return index;
  }

  /** Objects of `kind` in API group `group` ('' = core), indexed by their own `metadata.labels`. */
  public labelIndex(group: string, kind: string): LabelIndex<ManifestObject> {
    const key = kindKey(group, kind);
    let index = this.labelIndexes.get(key);
    if (index === undefined) {
      index = new LabelIndex(this.ofKind(group, kind), labelsOfObject);
      this.labelIndexes.set(key, index);
    }
    return index;
  }
}

function kindKey(group: string, kind: string): string {
  return `${group}/${kind}`;
}

function identity(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}\u0000${namespace ?? '\u0001'}\u0000${name}`;
}

/** `"x" in namespace ns` / `"x" (no namespace)`, for messages. */
export function inNamespace(name: string, namespace: string | undefined): string {
  return namespace === undefined ? `${JSON.stringify(name)} (no namespace)` : `${JSON.stringify(name)} in namespace ${namespace}`;
}

/**
 * The objects of one environment (one folder of dist/, applied together), indexed for the
 * cross-object checks.
 */
import { ManifestObject } from './findings';
import { groupOf } from './registry';
import { PodTemplate, podTemplateOf } from './workloads';

/** One environment's objects, indexed. */
export class EnvironmentIndex {
  /** The pod templates of every workload. */
  public readonly podTemplates: readonly PodTemplate[];
  private readonly byKind = new Map<string, ManifestObject[]>();

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
    }
    this.podTemplates = objects.map(podTemplateOf).filter((p): p is PodTemplate => p !== undefined);
  }

  /** Objects of `kind` in API group `group` ('' = core). */
  public ofKind(group: string, kind: string): ManifestObject[] {
    return this.byKind.get(kindKey(group, kind)) ?? [];
  }

  /** Objects of `kind` in API group `group` whose `metadata.namespace` is exactly `namespace`. */
  public ofKindIn(group: string, kind: string, namespace: string | undefined): ManifestObject[] {
    return this.ofKind(group, kind).filter((o) => o.namespace === namespace);
  }

  /** The object of `kind` named `name` in `namespace`, if present. */
  public find(group: string, kind: string, namespace: string | undefined, name: string): ManifestObject | undefined {
    return this.ofKind(group, kind).find((o) => o.namespace === namespace && o.name === name);
  }

  /** Pod templates of workloads in `namespace`. */
  public podsIn(namespace: string | undefined): PodTemplate[] {
    return this.podTemplates.filter((p) => p.owner.namespace === namespace);
  }
}

function kindKey(group: string, kind: string): string {
  return `${group}/${kind}`;
}

/** `"x" in namespace ns` / `"x" (no namespace)`, for messages. */
export function inNamespace(name: string, namespace: string | undefined): string {
  return namespace === undefined ? `${JSON.stringify(name)} (no namespace)` : `${JSON.stringify(name)} in namespace ${namespace}`;
}

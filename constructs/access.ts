import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import { assertValid, checkDnsLabel, checkDnsSubdomain, PropsError } from './validation';

/** The API verbs a rule may grant: never `*`, never `escalate`, `bind` or `impersonate`. */
export const API_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;

/** One API verb (see {@link API_VERBS}). */
export type ApiVerb = (typeof API_VERBS)[number];

/**
 * One request an operation makes to the API server, as the RBAC authorizer sees it: a verb on a
 * resource of an API group, optionally of one subresource (`pods/log`) and one object name.
 */
export interface ApiRequest {
  /** API group; '' is the core group. */
  readonly group: string;
  /** Resource, lower-case plural, with its subresource when there is one: `deployments`, `pods/log`. */
  readonly resource: string;
  readonly verb: ApiVerb;
  /**
   * The only object the operation ever names. The rule granting it is then limited to it by
   * `resourceNames` (except for `create` and `list`/`watch` of a collection, which RBAC cannot limit
   * that way: see the Kubernetes RBAC documentation, "Referring to resources").
   * @default - any object of the resource
   */
  readonly name?: string;
}

/** An RBAC PolicyRule (rbac.authorization.k8s.io/v1). */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly ApiVerb[];
  /** The only objects the rule applies to. @default - every object of the resources */
  readonly resourceNames?: readonly string[];
}

/** Verbs RBAC cannot limit by `resourceNames` (the request carries no name when it is authorized). */
const UNNAMEABLE_VERBS: ReadonlySet<ApiVerb> = new Set(['create', 'list', 'watch', 'deletecollection']);

/**
 * The fewest rules granting exactly `requests`: one rule per API group, object name and verb set,
 * listing every resource that needs exactly those verbs. Deterministic (sorted), never a wildcard.
 */
export function rulesFor(requests: readonly ApiRequest[]): PolicyRule[] {
  const verbsOf = new Map<string, Set<ApiVerb>>();
  for (const r of requests) {
    const name = r.name !== undefined && !UNNAMEABLE_VERBS.has(r.verb) ? r.name : '';
    const key = JSON.stringify([r.group, r.resource, name]);
    verbsOf.set(key, (verbsOf.get(key) ?? new Set()).add(r.verb));
  }
  const grouped = new Map<string, { group: string; name: string; verbs: ApiVerb[]; resources: string[] }>();
  for (const [key, verbs] of verbsOf) {
    const [group, resource, name] = JSON.parse(key) as [string, string, string];
    const ordered = API_VERBS.filter((v) => verbs.has(v));
    const ruleKey = JSON.stringify([group, name, ordered]);
    const rule = grouped.get(ruleKey) ?? { group, name, verbs: ordered, resources: [] };
    rule.resources.push(resource);
    grouped.set(ruleKey, rule);
  }
  return [...grouped.values()]
    .map((r) => ({ apiGroups: [r.group], resources: r.resources.sort(), verbs: r.verbs, ...(r.name !== '' ? { resourceNames: [r.name] } : {}) }))
    .sort((a, b) => JSON.stringify([a.apiGroups, a.resources, a.resourceNames ?? []]).localeCompare(JSON.stringify([b.apiGroups, b.resources, b.resourceNames ?? []])));
}

/** Whether `rules` allow `request`, as the RBAC authorizer decides (no wildcards: none are ever rendered). */
export function rulesAllow(rules: readonly PolicyRule[], request: ApiRequest): boolean {
  return rules.some((rule) => rule.apiGroups.includes(request.group) && rule.resources.includes(request.resource)
    && rule.verbs.includes(request.verb)
    && (rule.resourceNames === undefined || rule.resourceNames.length === 0
      || (request.name !== undefined && rule.resourceNames.includes(request.name))));
}

/**
 * The resource of a kind as the API serves it: `{ group: 'apps', resource: 'deployments' }` for
 * `apps/v1` `Deployment`. The plural is the API's rule for every kind the library renders (lower
 * case; `y` -> `ies`; `s`, `x`, `ch` -> `es`); `irregular` maps a kind whose plural differs.
 */
export function resourceOf(apiVersion: string, kind: string, irregular: { readonly [kind: string]: string } = {}): { group: string; resource: string } {
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const lower = kind.toLowerCase();
  const resource = irregular[kind]
    ?? (/[^aeiou]y$/.test(lower) ? `${lower.slice(0, -1)}ies` : /(s|x|ch)$/.test(lower) ? `${lower}es` : `${lower}s`);
  return { group, resource };
}

/** Who a {@link NamespaceAccess} grants its Role to. */
export class AccessSubject {
  /** A ServiceAccount of the namespace, created with the Role (e.g. what a CI agent impersonates). */
  public static serviceAccount(name: string): AccessSubject {
    assertValid('AccessSubject', 'serviceAccount', name, checkDnsSubdomain(name));
    return new AccessSubject('ServiceAccount', name);
  }

  /** A group the cluster's authenticator asserts (e.g. an OIDC group of on-call engineers). */
  public static group(name: string): AccessSubject {
    if (typeof name !== 'string' || name.trim() === '') throw new PropsError('AccessSubject', 'group', name, 'must be a non-empty group name');
    return new AccessSubject('Group', name);
  }

  private constructor(
    /** `ServiceAccount` or `Group`. */
    public readonly kind: 'ServiceAccount' | 'Group',
    /** Its name. */
    public readonly name: string,
  ) {}
}

/** Properties of a {@link NamespaceAccess}. */
export interface NamespaceAccessProps {
  /** Name of the Role and RoleBinding. */
  readonly name: string;
  /**
   * Every API request the subjects' operations make, asked for at synthesis, so that it can be
   * computed from the objects of the whole chart (those added after this construct included).
   */
  readonly requests: () => readonly ApiRequest[];
  /** Who is granted the Role. A ServiceAccount subject is created in the namespace. */
  readonly subjects: readonly AccessSubject[];
  /** Labels of every object. @default - none */
  readonly labels?: LabelSet;
}

/**
 * A namespaced Role whose rules are exactly what `requests` need ({@link rulesFor}: no wildcard,
 * nothing cluster-scoped), a RoleBinding granting it to `subjects`, and the ServiceAccount subjects.
 */
export class NamespaceAccess extends Construct {
  /** Name of the Role and RoleBinding. */
  public readonly name: string;
  /** The subjects. */
  public readonly subjects: readonly AccessSubject[];
  /** The Role. */
  public readonly role: ApiObject;
  /** The RoleBinding. */
  public readonly binding: ApiObject;
  private readonly requests: () => readonly ApiRequest[];

  constructor(scope: Construct, id: string, props: NamespaceAccessProps) {
    super(scope, id);
    const where = `NamespaceAccess ${props.name ?? id}`;
    assertValid(where, 'name', props.name, checkDnsLabel(props.name));
    if (!Array.isArray(props.subjects) || props.subjects.length === 0) {
      throw new PropsError(where, 'subjects', props.subjects, 'must name at least one subject (a Role bound to nobody grants nothing)');
    }
    this.name = props.name;
    this.subjects = props.subjects;
    this.requests = props.requests;
    const metadata = { name: props.name, ...(props.labels !== undefined ? { labels: { ...props.labels } } : {}) };
    for (const s of props.subjects.filter((x) => x.kind === 'ServiceAccount')) {
      new ApiObject(this, `ServiceAccount${s.name}`, {
        apiVersion: 'v1', kind: 'ServiceAccount', metadata: { ...metadata, name: s.name }, automountServiceAccountToken: false,
      });
    }
    this.role = new ApiObject(this, 'Role', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata,
      rules: Lazy.any({ produce: () => this.rules() }),
    });
    this.binding = new ApiObject(this, 'RoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: props.name },
      subjects: Lazy.any({
        produce: () => props.subjects.map((s) => (s.kind === 'ServiceAccount'
          ? { kind: s.kind, name: s.name, namespace: this.role.metadata.namespace }
          : { apiGroup: 'rbac.authorization.k8s.io', kind: s.kind, name: s.name })),
      }),
    });
    this.node.addValidation({ validate: () => (this.rules().length === 0 ? [`${where}: its operations need no API request: remove it`] : []) });
  }

  /** The Role's rules, computed from the requests now. */
  public rules(): PolicyRule[] {
    return rulesFor(this.requests());
  }
}

/**
 * A small NetworkPolicy evaluator (networking.k8s.io/v1 semantics): "may A open a connection to B
 * on port P?". The traffic-matrix tests (test/traffic.test.ts) check the synthesized policies with it,
 * and the review report (review/exposure.ts) computes the connectivity diff of a change with it.
 *
 * - A pod is isolated for egress (ingress) once any policy of its namespace selects it with
 *   `Egress` (`Ingress`) in its policyTypes; a non-isolated direction allows everything.
 * - An isolated direction allows exactly the union of the rules of the policies that select the
 *   pod for that direction. A connection needs the source's egress and the target's ingress.
 * - policyTypes defaults to `Ingress`, plus `Egress` when the policy has egress rules.
 * - In a rule, absent or empty `from`/`to` matches every peer and absent or empty `ports` every port.
 * - A peer with only `podSelector` selects pods of the policy's namespace; only `namespaceSelector`
 *   every pod of the selected namespaces; both in one peer, pods matching both (AND). Separate peers
 *   are alternatives (OR). `ipBlock` matches addresses outside the cluster only (whether it applies
 *   to pod IPs is implementation-defined, so the evaluator never relies on it).
 * - A port without protocol is TCP; a port without number is every port of the protocol; `endPort`
 *   makes a range. Named ports are not supported (the evaluator throws rather than guess).
 */

/** Labels of a pod or namespace. */
export interface Labels {
  readonly [key: string]: string;
}

/** A pod in the cluster. */
export interface Pod {
  readonly kind: 'pod';
  /** A name for reports. */
  readonly name: string;
  readonly namespace: string;
  readonly labels: Labels;
}

/** An address outside the cluster (a managed database, the internet). */
export interface Address {
  readonly kind: 'address';
  readonly name: string;
  /** IPv4 address. */
  readonly ip: string;
}

/** Either end of a connection. */
export type Endpoint = Pod | Address;

/** A destination port. */
export interface Port {
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly port: number;
}

interface Requirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

interface Selector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: readonly Requirement[];
}

interface PolicyPeer {
  readonly podSelector?: Selector;
  readonly namespaceSelector?: Selector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

interface PolicyPort {
  readonly protocol?: string;
  readonly port?: number | string;
  readonly endPort?: number;
}

interface Rule {
  readonly from?: readonly PolicyPeer[];
  readonly to?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}

/** A NetworkPolicy as synthesized (only the fields the semantics use). */
export interface Policy {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec: {
    readonly podSelector: Selector;
    readonly policyTypes?: readonly string[];
    readonly ingress?: readonly Rule[];
    readonly egress?: readonly Rule[];
  };
}

/** The cluster the policies are evaluated in: namespace labels and every NetworkPolicy. */
export interface Cluster {
  /** Labels of each namespace (include `kubernetes.io/metadata.name`, as the API server does). */
  readonly namespaces: { readonly [name: string]: Labels };
  readonly policies: readonly Policy[];
}

/** `TCP 8001`-style port. */
export function tcp(port: number): Port {
  return { protocol: 'TCP', port };
}

/** A UDP port. */
export function udp(port: number): Port {
  return { protocol: 'UDP', port };
}

/** True when `selector` matches `labels` (an empty selector matches everything). */
export function selects(selector: Selector, labels: Labels): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((r) => {
    switch (r.operator) {
      case 'In': return r.key in labels && (r.values ?? []).includes(labels[r.key]);
      case 'NotIn': return !(r.key in labels) || !(r.values ?? []).includes(labels[r.key]);
      case 'Exists': return r.key in labels;
      case 'DoesNotExist': return !(r.key in labels);
      default: throw new Error(`unsupported selector operator ${String((r as Requirement).operator)}`);
    }
  });
  return byLabels && byExpressions;
}

function ipv4(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`the evaluator supports IPv4 only, got ${ip}`);
  }
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

/** True when `ip` is inside `cidr`. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4(base) / size) * size;
  const value = ipv4(ip);
  return value >= start && value < start + size;
}

function peerMatches(peer: PolicyPeer, policyNamespace: string, endpoint: Endpoint, cluster: Cluster): boolean {
  if (peer.ipBlock !== undefined) {
    return endpoint.kind === 'address' && inCidr(endpoint.ip, peer.ipBlock.cidr)
      && !(peer.ipBlock.except ?? []).some((e) => inCidr(endpoint.ip, e));
  }
  if (endpoint.kind !== 'pod') return false;
  if (peer.podSelector === undefined && peer.namespaceSelector === undefined) {
    throw new Error('a policy peer needs podSelector, namespaceSelector or ipBlock');
  }
  const namespaceOk = peer.namespaceSelector === undefined
    ? endpoint.namespace === policyNamespace
    : selects(peer.namespaceSelector, cluster.namespaces[endpoint.namespace] ?? {});
  const podOk = peer.podSelector === undefined || selects(peer.podSelector, endpoint.labels);
  return namespaceOk && podOk;
}

function portMatches(rulePort: PolicyPort, port: Port): boolean {
  if ((rulePort.protocol ?? 'TCP') !== port.protocol) return false;
  if (rulePort.port === undefined) return true;
  if (typeof rulePort.port === 'string') throw new Error(`named port ${rulePort.port} is not supported by the evaluator`);
  return rulePort.endPort === undefined
    ? rulePort.port === port.port
    : port.port >= rulePort.port && port.port <= rulePort.endPort;
}

function ruleMatches(rule: Rule, peers: readonly PolicyPeer[] | undefined, policyNamespace: string, other: Endpoint, port: Port, cluster: Cluster): boolean {
  const peerOk = peers === undefined || peers.length === 0 || peers.some((p) => peerMatches(p, policyNamespace, other, cluster));
  const portOk = rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((p) => portMatches(p, port));
  return peerOk && portOk;
}

function policyTypes(policy: Policy): readonly string[] {
  if (policy.spec.policyTypes !== undefined && policy.spec.policyTypes.length > 0) return policy.spec.policyTypes;
  return (policy.spec.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** The policies that select `pod` for `direction`. */
export function policiesFor(cluster: Cluster, pod: Pod, direction: 'Ingress' | 'Egress'): Policy[] {
  return cluster.policies.filter((p) => (p.metadata.namespace ?? 'default') === pod.namespace
    && selects(p.spec.podSelector, pod.labels)
    && policyTypes(p).includes(direction));
}

function directionAllows(cluster: Cluster, pod: Pod, other: Endpoint, port: Port, direction: 'Ingress' | 'Egress'): boolean {
  const policies = policiesFor(cluster, pod, direction);
  if (policies.length === 0) return true;
  return policies.some((policy) => {
    const rules = (direction === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];
    const namespace = policy.metadata.namespace ?? 'default';
    return rules.some((r) => ruleMatches(r, direction === 'Ingress' ? r.from : r.to, namespace, other, port, cluster));
  });
}

/** May `from` open a connection to `to` on `port`? (Egress of the source and ingress of the target.) */
export function isAllowed(cluster: Cluster, from: Endpoint, to: Endpoint, port: Port): boolean {
  const egress = from.kind !== 'pod' || directionAllows(cluster, from, to, port, 'Egress');
  const ingress = to.kind !== 'pod' || directionAllows(cluster, to, from, port, 'Ingress');
  return egress && ingress;
}

/**
 * Zero-trust networking for one namespace, built from a declared traffic graph.
 *
 * A {@link ZeroTrustNetwork} makes its namespace default-deny for ingress and egress, lets every pod
 * query DNS, and turns each declared edge (`frontend.connectTo(knowledge)`) into both of its sides: an
 * egress rule on the source's pods and an ingress rule on the target's pods, on the target's pod
 * port (NetworkPolicy ports are pod ports, never Service ports). The same edges render the traffic
 * diagram, so the policies and the picture cannot disagree.
 */
import { Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { Conventions } from './conventions';
import { LabelSet } from './labels';
import { SecureNamespace } from './namespace';
import { assertValid, checkCidr, checkDnsLabel, checkPodLabels, checkPort, PropsError } from './validation';

/** Label every namespace carries (Kubernetes >= 1.22): how a namespace is selected by name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Transport protocols of a {@link NetworkPort}. */
export enum NetworkProtocol {
  TCP = 'TCP',
  UDP = 'UDP',
}

/** A port and protocol on a pod (or address), e.g. `NetworkPort.tcp(8001)`. */
export class NetworkPort {
  /** A TCP port. */
  public static tcp(port: number): NetworkPort {
    return new NetworkPort(NetworkProtocol.TCP, port);
  }

  /** A UDP port. */
  public static udp(port: number): NetworkPort {
    return new NetworkPort(NetworkProtocol.UDP, port);
  }

  private constructor(
    /** The protocol. */
    public readonly protocol: NetworkProtocol,
    /** The port number (1-65535). */
    public readonly port: number,
  ) {
    assertValid('NetworkPort', 'port', port, checkPort(port));
  }

  /** True when both name the same port and protocol. */
  public equals(other: NetworkPort): boolean {
    return this.protocol === other.protocol && this.port === other.port;
  }

  /** `TCP 8001`. */
  public toString(): string {
    return `${this.protocol} ${this.port}`;
  }

  /** This port as a NetworkPolicy port. */
  public toPolicyPort(): k8s.NetworkPolicyPort {
    return { port: k8s.IntOrString.fromNumber(this.port), protocol: this.protocol };
  }
}

/**
 * Where traffic comes from or goes to: pods selected by labels (in the network's own namespace or in
 * a named one), or addresses outside the cluster.
 */
export class NetworkPeer {
  /** Pods with all of `labels` in the network's own namespace. */
  public static pods(labels: LabelSet): NetworkPeer {
    assertValid('NetworkPeer', 'labels', labels, checkPodLabels(labels));
    return new NetworkPeer(labels, undefined, undefined);
  }

  /**
   * Pods with all of `labels` in namespace `namespace`. The namespace is selected by its
   * `kubernetes.io/metadata.name` label *in the same peer* as the pod selector, so both must match
   * (a pod selector alone only ever selects pods of the policy's own namespace).
   */
  public static podsInNamespace(namespace: string, labels: LabelSet): NetworkPeer {
    assertValid('NetworkPeer', 'namespace', namespace, checkDnsLabel(namespace));
    assertValid('NetworkPeer', 'labels', labels, checkPodLabels(labels));
    return new NetworkPeer(labels, namespace, undefined);
  }

  /** Addresses outside the cluster (e.g. a managed database), as CIDRs. */
  public static ipBlocks(cidrs: readonly string[]): NetworkPeer {
    if (cidrs.length === 0) throw new PropsError('NetworkPeer', 'cidrs', cidrs, 'must list at least one CIDR');
    for (const cidr of cidrs) assertValid('NetworkPeer', 'cidrs', cidr, checkCidr(cidr));
    return new NetworkPeer(undefined, undefined, [...cidrs]);
  }

  private constructor(
    /** Labels selecting the pods, or `undefined` for an IP block. */
    public readonly podLabels: LabelSet | undefined,
    /** Namespace of the pods, or `undefined` for the network's own namespace (or an IP block). */
    public readonly namespace: string | undefined,
    /** CIDRs of an IP block, or `undefined` for pods. */
    public readonly cidrs: readonly string[] | undefined,
  ) {}

  /** True when these are pods of `namespace` (where policies for them can be written). */
  public isPodsIn(namespace: string): boolean {
    return this.podLabels !== undefined && (this.namespace === undefined || this.namespace === namespace);
  }

  /** The NetworkPolicy peers (`from`/`to` entries) of this peer, for a policy in `policyNamespace`. */
  public toPolicyPeers(policyNamespace: string): k8s.NetworkPolicyPeer[] {
    if (this.cidrs !== undefined) return this.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
    const podSelector = { matchLabels: { ...this.podLabels } };
    if (this.isPodsIn(policyNamespace)) return [{ podSelector }];
    return [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: this.namespace! } }, podSelector }];
  }

  /** `app=frontend`, `app=prometheus in monitoring` or `10.0.0.0/24`: for diagrams and errors. */
  public describe(): string {
    const selector = this.describeSelector();
    return this.namespace === undefined ? selector : `${selector} in ${this.namespace}`;
  }

  /** The labels (`app=frontend`) or CIDRs, without the namespace. */
  public describeSelector(): string {
    if (this.cidrs !== undefined) return this.cidrs.join(', ');
    return Object.entries(this.podLabels!).map(([k, v]) => `${k}=${v}`).join(', ');
  }
}

/** How the traffic diagram draws an endpoint. */
export enum EndpointRole {
  /** A service or job (rounded box). */
  WORKLOAD = 'workload',
  /** A datastore (cylinder). */
  DATASTORE = 'datastore',
}

/** Something in a {@link ZeroTrustNetwork} that traffic flows from or to. */
export interface INetworkEndpoint extends IConstruct {
  /** Unique name in the network: the NetworkPolicy of a local endpoint, and its diagram node. */
  readonly name: string;
  /** The pods (or addresses) it stands for. */
  readonly networkPeer: NetworkPeer;
  /** Ports it accepts connections on: the default ports of an edge to it. */
  readonly servingPorts: readonly NetworkPort[];
  /** How the diagram draws it. @default EndpointRole.WORKLOAD */
  readonly role?: EndpointRole;
  /**
   * Who runs its pods when they are in the namespace but not in these manifests (e.g. a datastore
   * run by the platform team); recorded on its NetworkPolicy. @default - its pods are in the manifests
   */
  readonly managedElsewhere?: string;
}

/** Options of an edge (`source.connectTo(target, options)`). */
export interface ConnectOptions {
  /** Ports on the target's pods. @default - every port the target serves (`servingPorts`) */
  readonly ports?: readonly NetworkPort[];
  /** What the connection is for, shown in the diagram, e.g. `metrics`. @default - the ports only */
  readonly description?: string;
}

/** One declared flow: `source` may open connections to `target` on `ports`. */
export interface TrafficEdge {
  readonly source: INetworkEndpoint;
  readonly target: INetworkEndpoint;
  readonly ports: readonly NetworkPort[];
  /** What the connection is for. @default - the ports only */
  readonly description?: string;
}

/** Properties of a {@link ZeroTrustNetwork}. */
export interface ZeroTrustNetworkProps {
  /** The namespace whose traffic this network governs; every policy is written into it. */
  readonly namespace: SecureNamespace;
  /** DNS servers every pod may query. @default - pods `k8s-app: kube-dns` in namespace `kube-system` */
  readonly dns?: NetworkPeer;
  /** Port of the DNS servers' pods, allowed over UDP and TCP. @default 53 */
  readonly dnsPort?: number;
  /** Labels of every NetworkPolicy. @default - none */
  readonly labels?: LabelSet;
}

/** Name of the policy that isolates every pod of the namespace in both directions. */
export const DEFAULT_DENY_POLICY = 'default-deny';
/** Name of the policy that lets every pod of the namespace query DNS. */
export const ALLOW_DNS_POLICY = 'allow-dns';

/**
 * The traffic graph of one namespace and the NetworkPolicies that enforce it:
 * - `default-deny` selects every pod for ingress and egress with no rule, so nothing is allowed
 *   unless another policy allows it (policies are additive);
 * - `allow-dns` lets every pod reach the DNS servers on UDP and TCP;
 * - one policy per endpoint of the namespace that takes part in an edge, named after it, holding its
 *   ingress rules (one per source) and egress rules (one per target).
 *
 * Endpoints join with `network` in their props ({@link TrafficPeer}, `Microservice`); edges are
 * declared on them with `connectTo()`. An endpoint outside the namespace (the ingress controller,
 * Prometheus, an external database) only contributes the side that lives here.
 */
export class ZeroTrustNetwork extends Construct {
  /** Name of the governed namespace. */
  public readonly namespace: string;
  /** DNS servers every pod may query. */
  public readonly dns: NetworkPeer;
  /** Port of the DNS servers' pods. */
  public readonly dnsPort: number;

  private readonly labels: LabelSet | undefined;
  private readonly endpointList: INetworkEndpoint[] = [];
  private readonly edgeList: TrafficEdge[] = [];
  private readonly policies = new Set<INetworkEndpoint>();

  constructor(scope: Construct, id: string, props: ZeroTrustNetworkProps) {
    super(scope, id);
    this.namespace = props.namespace.name;
    this.dns = props.dns ?? NetworkPeer.podsInNamespace('kube-system', { 'k8s-app': 'kube-dns' });
    this.dnsPort = props.dnsPort ?? 53;
    this.labels = props.labels;
    assertValid(this.where, 'dnsPort', this.dnsPort, checkPort(this.dnsPort));
    if (this.dns.isPodsIn(this.namespace)) {
      throw new PropsError(this.where, 'dns', this.dns.describe(), 'must select pods of another namespace (such as kube-system) or addresses');
    }

    new k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: this.metadata(DEFAULT_DENY_POLICY),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
    new k8s.KubeNetworkPolicy(this, 'AllowDns', {
      metadata: this.metadata(ALLOW_DNS_POLICY),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{
          to: this.dns.toPolicyPeers(this.namespace),
          ports: this.dnsPorts().map((p) => p.toPolicyPort()),
        }],
      },
    });
  }

  /** Every endpoint, in the order they joined. */
  public get endpoints(): readonly INetworkEndpoint[] {
    return [...this.endpointList];
  }

  /** Every declared edge, in declaration order. */
  public get edges(): readonly TrafficEdge[] {
    return [...this.edgeList];
  }

  /** Adds an endpoint (done by the endpoint's constructor when given this network). */
  public addEndpoint(endpoint: INetworkEndpoint): void {
    assertValid(this.where, 'endpoint name', endpoint.name, checkDnsLabel(endpoint.name));
    if ([DEFAULT_DENY_POLICY, ALLOW_DNS_POLICY].includes(endpoint.name)) {
      throw new PropsError(this.where, 'endpoint name', endpoint.name, `must not be a reserved policy name (${DEFAULT_DENY_POLICY}, ${ALLOW_DNS_POLICY})`);
    }
    if (this.endpointList.some((e) => e.name === endpoint.name)) {
      throw new PropsError(this.where, 'endpoint name', endpoint.name, 'must be unique in the network');
    }
    this.endpointList.push(endpoint);
  }

  /**
   * Allows `source` to open connections to `target`: an egress rule on the source's pods and an
   * ingress rule on the target's pods, for whichever of them are in this namespace. Prefer
   * `source.connectTo(target)`, which calls this.
   */
  public allow(source: INetworkEndpoint, target: INetworkEndpoint, options: ConnectOptions = {}): TrafficEdge {
    for (const [field, endpoint] of [['source', source], ['target', target]] as const) {
      if (!this.endpointList.includes(endpoint)) {
        throw new PropsError(this.where, field, endpoint.name, 'must have joined this network (pass it as the `network` prop)');
      }
    }
    const ports = options.ports ?? target.servingPorts;
    const edgeName = `${source.name} -> ${target.name}`;
    if (ports.length === 0) {
      throw new PropsError(this.where, `ports of ${edgeName}`, [], `must name at least one port (${target.name} serves none by default)`);
    }
    const sourceLocal = source.networkPeer.isPodsIn(this.namespace);
    const targetLocal = target.networkPeer.isPodsIn(this.namespace);
    if (!sourceLocal && !targetLocal) {
      throw new PropsError(this.where, 'edge', edgeName, `must have its source or its target in namespace ${this.namespace}`);
    }
    for (const port of ports) {
      const twice = this.edgeList.some((e) => e.source === source && e.target === target && e.ports.some((p) => p.equals(port)))
        || ports.filter((p) => p.equals(port)).length > 1;
      if (twice) throw new PropsError(this.where, 'edge', `${edgeName} ${port}`, 'must be declared once');
    }
    const edge: TrafficEdge = { source, target, ports: [...ports], description: options.description };
    this.edgeList.push(edge);
    if (sourceLocal) this.ensurePolicy(source);
    if (targetLocal) this.ensurePolicy(target);
    return edge;
  }

  /**
   * The allowed-traffic graph as a Mermaid flowchart: the namespace's endpoints in one box, other
   * namespaces in theirs, one arrow per edge labelled with its purpose and ports, and DNS.
   */
  public renderMermaid(): string {
    const lines = ['flowchart LR'];
    const node = (e: INetworkEndpoint) => {
      const label = `${e.name}<br/>${e.networkPeer.describeSelector()}`.replace(/"/g, '#quot;');
      return e.role === EndpointRole.DATASTORE ? `${nodeId(e.name)}[("${label}")]` : `${nodeId(e.name)}("${label}")`;
    };
    const local = this.endpointList.filter((e) => e.networkPeer.isPodsIn(this.namespace));
    lines.push(`  subgraph _ns_local["namespace ${this.namespace}"]`);
    for (const e of local) lines.push(`    ${node(e)}`);
    lines.push('    _every_pod{{"every pod"}}', '  end');

    const remote = this.endpointList.filter((e) => !local.includes(e));
    const namespaces = [...new Set(remote.map((e) => e.networkPeer.namespace).filter((n): n is string => n !== undefined))];
    const dnsNamespace = this.dns.namespace;
    if (dnsNamespace !== undefined && !namespaces.includes(dnsNamespace)) namespaces.push(dnsNamespace);
    for (const ns of namespaces) {
      lines.push(`  subgraph _ns_${nodeId(ns)}["namespace ${ns}"]`);
      for (const e of remote.filter((r) => r.networkPeer.namespace === ns)) lines.push(`    ${node(e)}`);
      if (ns === dnsNamespace) lines.push(`    _dns("DNS<br/>${this.dns.describeSelector()}")`);
      lines.push('  end');
    }
    for (const e of remote.filter((r) => r.networkPeer.namespace === undefined)) lines.push(`  ${node(e)}`);
    if (dnsNamespace === undefined) lines.push(`  _dns("DNS<br/>${this.dns.describeSelector()}")`);

    for (const edge of this.edgeList) {
      lines.push(`  ${nodeId(edge.source.name)} -->|"${edgeLabel(edge).replace(/"/g, '#quot;')}"| ${nodeId(edge.target.name)}`);
    }
    lines.push(`  _every_pod -.->|"DNS: ${this.dnsPorts().join(', ')}"| _dns`);
    return `${lines.join('\n')}\n`;
  }

  /**
   * A Markdown page for reviewers: what is enforced, the Mermaid diagram, and every edge as a table
   * row (so a new edge is one added line in a diff).
   */
  public renderMarkdown(title: string): string {
    const rows = this.edgeList.map((e) => `| ${e.source.name} | ${e.target.name} | ${e.ports.join(', ')} | ${e.description ?? ''} |`);
    return [
      `# Allowed traffic: ${title}`,
      '',
      `Every pod in namespace \`${this.namespace}\` is denied all ingress and egress (\`${DEFAULT_DENY_POLICY}\`) except`,
      `DNS to ${this.dns.describe()} on ${this.dnsPorts().join(' and ')} (\`${ALLOW_DNS_POLICY}\`) and the edges below. Each edge is`,
      'an egress rule on its source and an ingress rule on its target, on the target\'s pod port.',
      '',
      '```mermaid',
      this.renderMermaid().trimEnd(),
      '```',
      '',
      '| from | to | pod ports | purpose |',
      '|---|---|---|---|',
      ...rows,
      '',
    ].join('\n');
  }

  private get where(): string {
    return `ZeroTrustNetwork ${this.namespace}`;
  }

  private dnsPorts(): NetworkPort[] {
    return [NetworkPort.udp(this.dnsPort), NetworkPort.tcp(this.dnsPort)];
  }

  private metadata(name: string) {
    return { name, namespace: this.namespace, labels: this.labels };
  }

  /** Creates the policy of a local endpoint on its first edge; its rules are rendered at synthesis. */
  private ensurePolicy(endpoint: INetworkEndpoint): void {
    if (this.policies.has(endpoint)) return;
    this.policies.add(endpoint);
    const metadata = this.metadata(endpoint.name);
    new k8s.KubeNetworkPolicy(endpoint, 'NetworkPolicy', {
      metadata: endpoint.managedElsewhere === undefined ? metadata
        : { ...metadata, annotations: { [Conventions.of(this).annotationKey('podsManagedElsewhere')]: endpoint.managedElsewhere } },
      spec: Lazy.any({ produce: () => this.policySpec(endpoint) }),
    });
  }

  private policySpec(endpoint: INetworkEndpoint): k8s.NetworkPolicySpec {
    const ingress = this.rules(this.edgeList.filter((e) => e.target === endpoint), (e) => e.source);
    const egress = this.rules(this.edgeList.filter((e) => e.source === endpoint), (e) => e.target);
    return {
      podSelector: { matchLabels: { ...endpoint.networkPeer.podLabels } },
      policyTypes: [...(ingress.length > 0 ? ['Ingress'] : []), ...(egress.length > 0 ? ['Egress'] : [])],
      ingress: ingress.length > 0 ? ingress.map((r) => ({ from: r.peers, ports: r.ports })) : undefined,
      egress: egress.length > 0 ? egress.map((r) => ({ to: r.peers, ports: r.ports })) : undefined,
    };
  }

  /** One rule per peer endpoint (first-declared order) with the ports of all its edges. */
  private rules(edges: TrafficEdge[], peerOf: (e: TrafficEdge) => INetworkEndpoint) {
    const byPeer = new Map<INetworkEndpoint, NetworkPort[]>();
    for (const edge of edges) {
      const ports = byPeer.get(peerOf(edge)) ?? [];
      for (const port of edge.ports) if (!ports.some((p) => p.equals(port))) ports.push(port);
      byPeer.set(peerOf(edge), ports);
    }
    return [...byPeer.entries()].map(([peer, ports]) => ({
      peers: peer.networkPeer.toPolicyPeers(this.namespace),
      ports: ports.map((p) => p.toPolicyPort()),
    }));
  }
}

/** Properties of a {@link TrafficPeer}. */
export interface TrafficPeerProps {
  /** The network it joins. */
  readonly network: ZeroTrustNetwork;
  /** Unique name in the network (DNS-1123 label): its NetworkPolicy's name when its pods are local. */
  readonly name: string;
  /** Its pods or addresses. */
  readonly peer: NetworkPeer;
  /** Ports it accepts connections on. @default - none: it is only a source, or edges to it name their ports */
  readonly ports?: readonly NetworkPort[];
  /** How the diagram draws it. @default EndpointRole.WORKLOAD */
  readonly role?: EndpointRole;
  /** Who runs its pods, when they are local but not in these manifests. @default - its pods are in the manifests */
  readonly managedElsewhere?: string;
}

/**
 * An endpoint that is not a Microservice of this project: the ingress controller, Prometheus, DNS,
 * a datastore, or a Job such as the in-cluster smoke test (`NetworkPeer.pods({ app: 'smoke-test' })`).
 * It creates no object itself; pods of the network's namespace get a NetworkPolicy once they take
 * part in an edge.
 */
export class TrafficPeer extends Construct implements INetworkEndpoint {
  public readonly name: string;
  public readonly networkPeer: NetworkPeer;
  public readonly servingPorts: readonly NetworkPort[];
  public readonly role: EndpointRole;
  /** Who runs its pods, when they are local but not in these manifests. */
  public readonly managedElsewhere: string | undefined;
  /** The network it belongs to. */
  public readonly network: ZeroTrustNetwork;

  constructor(scope: Construct, id: string, props: TrafficPeerProps) {
    super(scope, id);
    this.name = props.name;
    this.networkPeer = props.peer;
    this.servingPorts = [...(props.ports ?? [])];
    this.role = props.role ?? EndpointRole.WORKLOAD;
    this.managedElsewhere = props.managedElsewhere;
    this.network = props.network;
    props.network.addEndpoint(this);
  }

  /** Allows this peer to open connections to `target` (on its serving ports unless `options.ports`). */
  public connectTo(target: INetworkEndpoint, options: ConnectOptions = {}): TrafficEdge {
    return this.network.allow(this, target, options);
  }
}

/** Mermaid node id of an endpoint name (DNS labels never start with "_", so ids of our own nodes cannot clash). */
function nodeId(name: string): string {
  const id = name.replace(/[^A-Za-z0-9]/g, '_');
  return id === 'end' ? 'end_' : id;
}

function edgeLabel(edge: TrafficEdge): string {
  const ports = edge.ports.join(', ');
  return edge.description === undefined ? ports : `${edge.description}: ${ports}`;
}

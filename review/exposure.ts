/**
 * Exposure: the connectivity diff of an environment's NetworkPolicies, evaluated with the project's
 * own NetworkPolicy evaluator (validate/netpol.ts, the one the traffic-matrix tests trust), plus new
 * namespace and IP-block peers and Services exposed further.
 *
 * Both sides are evaluated over one world: every pod the workloads of either side run, the pods the
 * policies select or name as peers (datastores, the ingress controller, Prometheus, DNS: a pod is
 * made up from each selector, in the namespace it selects), an address inside each IP block, and
 * look-alikes (an unlabelled pod of the namespace, a pod of another namespace, an outside address);
 * and every port the policies name or the pods declare, plus one port nobody names ("any other
 * port"). A flow is newly allowed when the after side allows it and the before side did not. A
 * workload added with no policy change therefore shows no flow: the diff is the policies' diff.
 */
import { Cluster, Endpoint, isAllowed, Labels, Policy, Port, selects } from '../validate/netpol';
import { containersOf, DiffContext } from './context';
import { JsonObject, Manifest, ReviewLine } from './model';
import { arrayAt, canonical, describeLabels, isObject, objectAt, stringMap } from './objects';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const OTHER_NAMESPACE = 'another-namespace';
const OUTSIDE_ADDRESS = '203.0.113.10'; // TEST-NET-3 (RFC 5737): outside every private block
/** A port no policy or pod names, standing for "any other port" of its protocol. */
const OTHER_PORT = 1;

interface Member {
  readonly endpoint: Endpoint;
  /** How the report names it; members sharing a name (the colours of a component) are reported together. */
  readonly display: string;
}

/** A label selector as the evaluator reads it. */
type Selector = Parameters<typeof selects>[0];

/** Labels that satisfy `selector` (one made-up pod it selects), or undefined when none can be made. */
function labelsFor(selector: unknown): Labels | undefined {
  const s = isObject(selector) ? selector : {};
  const labels: { [k: string]: string } = { ...stringMap(s.matchLabels) };
  for (const r of arrayAt(s, 'matchExpressions').filter(isObject)) {
    const values = arrayAt(r, 'values').filter((v): v is string => typeof v === 'string');
    if (r.operator === 'In' && values.length > 0) labels[String(r.key)] = values[0];
    if (r.operator === 'Exists') labels[String(r.key)] = 'any';
  }
  return selects(s as Selector, labels) ? labels : undefined;
}

/** `knowledge-service`, `ingress-nginx/ingress-nginx`, `(any other pod)`. */
function podName(namespace: string, labels: Labels, home: string): string {
  const own = labels.app ?? labels['app.kubernetes.io/name'] ?? labels['k8s-app']
    ?? (Object.keys(labels).length === 0 ? 'any pod' : describeLabels(labels));
  return namespace === home ? own : `${namespace}/${own}`;
}

function ipInside(cidr: string, except: readonly string[]): string | undefined {
  const [base, bits] = cidr.split('/');
  const parts = base.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p))) return undefined; // IPv6: not evaluated
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(parts.reduce((a, p) => a * 256 + p, 0) / size) * size;
  const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
  // the first address of the block outside its exceptions (tries a few, which is enough for real blocks)
  for (const offset of [Math.min(size - 1, 10), 1, 0, size - 2, Math.floor(size / 2) + 1]) {
    if (offset < 0 || offset >= size) continue;
    const ip = toIp(start + offset);
    if (!except.some((e) => inBlock(ip, e))) return ip;
  }
  return undefined;
}

function inBlock(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const value = (a: string) => a.split('.').map(Number).reduce((acc, p) => acc * 256 + p, 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(value(ip) / size) === Math.floor(value(base) / size);
}

function peersOf(policy: Manifest): JsonObject[] {
  return [...arrayAt(policy, 'spec', 'ingress'), ...arrayAt(policy, 'spec', 'egress')].filter(isObject)
    .flatMap((rule) => [...arrayAt(rule, 'from'), ...arrayAt(rule, 'to')].filter(isObject));
}

function portsOf(policy: Manifest): JsonObject[] {
  return [...arrayAt(policy, 'spec', 'ingress'), ...arrayAt(policy, 'spec', 'egress')].filter(isObject)
    .flatMap((rule) => arrayAt(rule, 'ports').filter(isObject));
}

/** The world both sides are evaluated in. */
function worldOf(ctx: DiffContext, policies: readonly Manifest[]): { members: Member[]; ports: Port[]; namespaces: { [ns: string]: Labels } } {
  const home = [...ctx.after.objects, ...ctx.before.objects].find((o) => o.metadata.namespace !== undefined)?.metadata.namespace ?? 'default';
  const members: Member[] = [];
  const namespaces: { [ns: string]: Labels } = {};
  const addNamespace = (ns: string, labels: Labels = {}) => { namespaces[ns] = { ...namespaces[ns], ...labels, [NAMESPACE_NAME_LABEL]: ns }; };
  for (const o of [...ctx.before.ofKind('Namespace'), ...ctx.after.ofKind('Namespace')]) addNamespace(o.metadata.name, stringMap(objectAt(o, 'metadata').labels));
  const seen = new Set<string>();
  const addPod = (namespace: string, labels: Labels, name: string, display: string) => {
    const id = `${namespace} ${canonical(labels)}`;
    if (seen.has(id)) return;
    seen.add(id);
    addNamespace(namespace);
    members.push({ endpoint: { kind: 'pod', name, namespace, labels }, display });
  };
  for (const pod of [...ctx.before.pods, ...ctx.after.pods]) {
    addPod(pod.namespace || home, pod.labels, pod.owner.metadata.name, podName(pod.namespace || home, pod.labels, home));
  }
  const podsIn = (ns: string, selector: unknown) => members.some((m) => m.endpoint.kind === 'pod' && m.endpoint.namespace === ns
    && selects(selector as Selector, m.endpoint.labels));
  const addSelected = (ns: string, selector: unknown) => {
    if (podsIn(ns, selector)) return;
    const labels = labelsFor(selector);
    if (labels !== undefined) addPod(ns, labels, podName(ns, labels, home), podName(ns, labels, home));
  };
  const addresses = new Set<string>();
  for (const policy of policies) {
    const ns = policy.metadata.namespace ?? home;
    addSelected(ns, objectAt(policy, 'spec', 'podSelector'));
    for (const peer of peersOf(policy)) {
      if (peer.ipBlock !== undefined) {
        const block = objectAt(peer, 'ipBlock');
        const ip = ipInside(String(block.cidr), arrayAt(block, 'except').map(String));
        if (ip !== undefined && !addresses.has(ip)) {
          addresses.add(ip);
          members.push({ endpoint: { kind: 'address', name: String(block.cidr), ip }, display: `addresses in ${String(block.cidr)}` });
        }
        continue;
      }
      if (peer.namespaceSelector === undefined) { addSelected(ns, peer.podSelector ?? {}); continue; }
      const nsLabels = labelsFor(peer.namespaceSelector);
      if (nsLabels === undefined) continue;
      const target = nsLabels[NAMESPACE_NAME_LABEL] ?? Object.keys(namespaces).find((n) => selects(peer.namespaceSelector as Selector, namespaces[n]))
        ?? `namespace-${describeLabels(nsLabels)}`;
      addNamespace(target, nsLabels);
      addSelected(target, peer.podSelector ?? {});
    }
  }
  addPod(home, {}, 'any other pod', 'any other pod');
  addPod(OTHER_NAMESPACE, {}, 'a pod of another namespace', 'a pod of another namespace');
  members.push({ endpoint: { kind: 'address', name: 'an outside address', ip: OUTSIDE_ADDRESS }, display: 'an outside address' });

  const ports = new Map<string, Port>();
  const addPort = (protocol: unknown, port: unknown) => {
    if (typeof port !== 'number') return;
    const p = String(protocol ?? 'TCP') as Port['protocol'];
    ports.set(`${p} ${port}`, { protocol: p, port });
  };
  for (const policy of policies) for (const p of portsOf(policy)) addPort(p.protocol, p.port);
  for (const pod of [...ctx.before.pods, ...ctx.after.pods]) {
    for (const c of containersOf(pod.spec)) for (const p of arrayAt(c, 'ports').filter(isObject)) addPort(p.protocol, p.containerPort);
  }
  for (const protocol of new Set(['TCP', ...[...ports.values()].map((p) => p.protocol)])) addPort(protocol, OTHER_PORT);
  return { members, ports: [...ports.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port), namespaces };
}

/** Policies as the evaluator reads them. Named ports are refused by the evaluator: reported, not guessed. */
function asPolicies(policies: readonly Manifest[]): Policy[] {
  return policies as unknown as Policy[];
}

const portText = (p: Port) => (p.port === OTHER_PORT ? `${p.protocol} (any other port)` : `${p.protocol} ${p.port}`);

/** The NetworkPolicies of an environment's namespace-scoped side, in a comparable form. */
function policySet(objects: readonly Manifest[]): string {
  return canonical(objects.map((o) => [o.metadata.namespace, o.metadata.name, o.spec]).sort((a, b) => canonical(a).localeCompare(canonical(b))));
}

/** `namespace monitoring, pods app.kubernetes.io/name=prometheus` / `IP block 10.0.0.0/8`. */
function describePeer(peer: JsonObject): string | undefined {
  if (peer.ipBlock !== undefined) {
    const block = objectAt(peer, 'ipBlock');
    const except = arrayAt(block, 'except').map(String);
    return `IP block ${String(block.cidr)}${except.length > 0 ? ` except ${except.join(', ')}` : ''}`;
  }
  if (peer.namespaceSelector === undefined) return undefined;
  const ns = objectAt(peer, 'namespaceSelector');
  const nsLabels = stringMap(ns.matchLabels);
  const which = Object.keys(ns).length === 0 ? 'every namespace'
    : nsLabels[NAMESPACE_NAME_LABEL] !== undefined && Object.keys(nsLabels).length === 1 ? `namespace ${nsLabels[NAMESPACE_NAME_LABEL]}`
      : `namespaces ${describeLabels(nsLabels)}${arrayAt(ns, 'matchExpressions').length > 0 ? ' (and expressions)' : ''}`;
  const pods = peer.podSelector === undefined ? 'every pod' : `pods ${describeLabels(stringMap(objectAt(peer, 'podSelector').matchLabels))}`;
  return `${which}, ${pods}`;
}

/** Exposure: flows newly allowed and newly denied, new namespace and IP-block peers. */
export function exposureLines(ctx: DiffContext): ReviewLine[] {
  const before = ctx.before.ofKind('NetworkPolicy');
  const after = ctx.after.ofKind('NetworkPolicy');
  // (objects of files unchanged between the sides are the very same objects)
  if (before.length === after.length && before.every((p, i) => p === after[i])) return [];
  if (policySet(before) === policySet(after)) return [];
  const lines: ReviewLine[] = [];

  // new namespace and IP-block peers, per policy
  const peerSet = (policies: readonly Manifest[]) => new Set(policies.flatMap((p) => peersOf(p).map(describePeer).filter((d): d is string => d !== undefined)));
  const known = peerSet(before);
  for (const policy of after) {
    for (const peer of new Set(peersOf(policy).map(describePeer).filter((d): d is string => d !== undefined))) {
      if (!known.has(peer) && !ctx.newEnvironment) lines.push(ctx.line(policy, `new peer: ${peer}`, ['exposure-up'], 'exposure'));
    }
  }

  const { members, ports, namespaces } = worldOf(ctx, [...before, ...after]);
  const clusters: [Cluster, Cluster] = [{ namespaces, policies: asPolicies(before) }, { namespaces, policies: asPolicies(after) }];
  // Only flows with an end in a namespace these policies govern can change.
  const governed = new Set([...before, ...after].map((p) => p.metadata.namespace ?? ''));
  const local = (e: Endpoint) => e.kind === 'pod' && governed.has(e.namespace);
  // changed flows, per display pair and port: how many member pairs changed, and how many there are
  const changes = new Map<string, { from: string; to: string; port: Port; allowed: boolean; pairs: Array<[Member, Member]> }>();
  const pairCount = new Map<string, number>();
  try {
    for (const from of members) {
      for (const to of members) {
        if (from === to || !(local(from.endpoint) || local(to.endpoint))) continue;
        const pairKey = `${from.display}\u0000${to.display}`;
        pairCount.set(pairKey, (pairCount.get(pairKey) ?? 0) + 1);
        for (const port of ports) {
          const was = !ctx.newEnvironment && isAllowed(clusters[0], from.endpoint, to.endpoint, port);
          const is = isAllowed(clusters[1], from.endpoint, to.endpoint, port);
          if (was === is) continue;
          const k = `${pairKey}\u0000${portText(port)}\u0000${is}`;
          const entry = changes.get(k) ?? { from: from.display, to: to.display, port, allowed: is, pairs: [] };
          entry.pairs.push([from, to]);
          changes.set(k, entry);
        }
      }
    }
  } catch (e) {
    return [...lines, ctx.line(undefined, `NetworkPolicies changed; connectivity not computed: ${(e as Error).message}`, ['exposure-up'], 'exposure')];
  }
  // one line per (from, to, direction) with its ports; display names when every member pair changed alike
  const flows = new Map<string, { from: string; to: string; allowed: boolean; ports: Port[] }>();
  for (const c of changes.values()) {
    const whole = c.pairs.length === pairCount.get(`${c.from}\u0000${c.to}`);
    const named: Array<[string, string]> = whole ? [[c.from, c.to]] : c.pairs.map(([f, t]) => [f.endpoint.name, t.endpoint.name]);
    for (const [from, to] of named) {
      const k = `${from}\u0000${to}\u0000${c.allowed}`;
      const flow = flows.get(k) ?? { from, to, allowed: c.allowed, ports: [] };
      if (!flow.ports.some((p) => p.protocol === c.port.protocol && p.port === c.port.port)) flow.ports.push(c.port);
      flows.set(k, flow);
    }
  }
  const sorted = [...flows.values()].sort((a, b) => Number(b.allowed) - Number(a.allowed) || a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  for (const f of sorted) {
    const text = `${f.allowed ? 'newly allowed' : 'newly denied'}: ${f.from} -> ${f.to} ${f.ports.map(portText).join(', ')}`;
    lines.push(ctx.line(undefined, text, [f.allowed ? 'exposure-up' : 'exposure-down'], 'exposure'));
  }
  if (sorted.length === 0 && lines.length === 0) {
    lines.push(ctx.line(undefined, 'NetworkPolicies changed; connectivity unchanged', ['change'], 'exposure'));
  }
  return lines;
}

/** True for objects whose change the exposure lines account for (no separate "changed" line). */
export function coveredByExposure(object: Manifest): boolean {
  return object.kind === 'NetworkPolicy';
}

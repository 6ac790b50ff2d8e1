import { Chart, Testing } from 'cdk8s';
import {
  EndpointRole, Microservice, MicroserviceProps, NetworkPeer, NetworkPort, ReleaseStrategy, SecureNamespace, TrafficPeer,
  ZeroTrustNetwork,
} from '../constructs';
import { Cluster, isAllowed, Pod, Policy, tcp, udp } from './netpol';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const RESOURCES: MicroserviceProps['resources'] = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } };

/** A chart with namespace `shop`, its network, and two workloads: orders (8080) and payments (8090). */
function shop() {
  const chart = Testing.chart();
  const namespace = new SecureNamespace(chart, 'Namespace', { name: 'shop' });
  const network = new ZeroTrustNetwork(chart, 'Network', { namespace });
  const service = (id: string, name: string, containerPort: number) => new Microservice(chart, id, {
    name, image: `registry.example.com/shop/${name}`, release: ReleaseStrategy.rolling({ imageTag: 'v1.0.0' }), containerPort, servicePort: 80, resources: RESOURCES, network,
  });
  return { chart, network, orders: service('Orders', 'orders', 8080), payments: service('Payments', 'payments', 8090) };
}

function policies(chart: Chart): Json[] {
  return Testing.synth(chart).filter((o) => o.kind === 'NetworkPolicy');
}

function policy(chart: Chart, name: string): Json {
  const found = policies(chart).filter((p) => p.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one NetworkPolicy ${name}, found ${found.length}`);
  return found[0];
}

describe('ZeroTrustNetwork', () => {
  test('makes the namespace default-deny in both directions and lets every pod query kube-dns over UDP and TCP', () => {
    // GIVEN / WHEN
    const { chart } = shop();
    // THEN
    expect(policy(chart, 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(policy(chart, 'allow-dns').spec).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{
        to: [{
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        }],
        ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
      }],
    });
    expect(policies(chart).map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['shop/default-deny', 'shop/allow-dns']);
  });

  test('turns one edge into egress on the source and ingress on the target, on the target\'s container port', () => {
    // GIVEN
    const { chart, orders, payments } = shop();
    // WHEN
    const edge = orders.connectTo(payments);
    // THEN
    expect(edge.ports.map(String)).toEqual(['TCP 8090']);
    expect(policy(chart, 'orders').spec).toEqual({
      podSelector: { matchLabels: { app: 'orders' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'payments' } } }], ports: [{ port: 8090, protocol: 'TCP' }] }],
    });
    expect(policy(chart, 'payments').spec).toEqual({
      podSelector: { matchLabels: { app: 'payments' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'orders' } } }], ports: [{ port: 8090, protocol: 'TCP' }] }],
    });
  });

  test('selects peers of another namespace with the namespace and pod selectors in one peer', () => {
    const { chart, network, orders } = shop();
    const controller = new TrafficPeer(chart, 'Controller', {
      network, name: 'ingress-controller', peer: NetworkPeer.podsInNamespace('ingress-nginx', { app: 'ingress-nginx' }),
    });
    controller.connectTo(orders, { description: 'routes' });
    expect(policy(chart, 'orders').spec.ingress).toEqual([{
      from: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
        podSelector: { matchLabels: { app: 'ingress-nginx' } },
      }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    }]);
    // the controller is not ours: no policy is written for it
    expect(policies(chart).map((p) => p.metadata.name)).toEqual(['default-deny', 'allow-dns', 'orders']);
  });

  test('writes only the egress side for addresses outside the cluster, and merges ports per peer', () => {
    const { chart, network, orders } = shop();
    const db = new TrafficPeer(chart, 'Db', {
      network, name: 'db', peer: NetworkPeer.ipBlocks(['10.40.0.0/24', '10.41.0.0/24']),
      ports: [NetworkPort.tcp(5432)], role: EndpointRole.DATASTORE,
    });
    orders.connectTo(db);
    orders.connectTo(db, { ports: [NetworkPort.tcp(5433)], description: 'replica' });
    expect(policy(chart, 'orders').spec.egress).toEqual([{
      to: [{ ipBlock: { cidr: '10.40.0.0/24' } }, { ipBlock: { cidr: '10.41.0.0/24' } }],
      ports: [{ port: 5432, protocol: 'TCP' }, { port: 5433, protocol: 'TCP' }],
    }]);
  });

  test('lets an in-namespace Job selected by labels (the smoke test) reach the workloads it checks, in every colour', () => {
    // GIVEN the smoke test's pods and a green pod of orders behind a preview Service
    const { chart, network, orders, payments } = shop();
    const smoke = new TrafficPeer(chart, 'SmokeTest', { network, name: 'smoke-test', peer: NetworkPeer.pods({ app: 'smoke-test' }) });
    // WHEN
    smoke.connectTo(orders, { description: 'smoke test' });
    // THEN
    const cluster: Cluster = { namespaces: { shop: {}, 'kube-system': { 'kubernetes.io/metadata.name': 'kube-system' } }, policies: policies(chart) as Policy[] };
    const pod = (name: string, labels: { [k: string]: string }): Pod => ({ kind: 'pod', name, namespace: 'shop', labels });
    const smokePod = pod('smoke', { 'app': 'smoke-test', 'job-name': 'smoke-test' });
    const dns: Pod = { kind: 'pod', name: 'dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
    expect(isAllowed(cluster, smokePod, pod('orders-green', { app: 'orders', version: 'green' }), tcp(8080))).toBe(true);
    expect(isAllowed(cluster, smokePod, pod('orders-blue', { app: 'orders', version: 'blue' }), tcp(8080))).toBe(true);
    expect(isAllowed(cluster, smokePod, pod('payments', { app: 'payments' }), tcp(8090))).toBe(false);
    expect(isAllowed(cluster, pod('orders', { app: 'orders' }), smokePod, tcp(8080))).toBe(false);
    expect(isAllowed(cluster, smokePod, dns, udp(53))).toBe(true);
    expect(policy(chart, 'smoke-test').spec).toEqual({
      podSelector: { matchLabels: { app: 'smoke-test' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'orders' } } }], ports: [{ port: 8080, protocol: 'TCP' }] }],
    });
    expect(payments.network).toBe(network);
  });

  test('renders the graph as a Mermaid diagram and a Markdown table from the same edges', () => {
    const { network, orders, payments, chart } = shop();
    const prometheus = new TrafficPeer(chart, 'Prometheus', {
      network, name: 'prometheus', peer: NetworkPeer.podsInNamespace('monitoring', { 'app.kubernetes.io/name': 'prometheus' }),
    });
    orders.connectTo(payments, { description: 'charge' });
    prometheus.connectTo(orders, { description: 'metrics' });
    const mermaid = network.renderMermaid();
    expect(mermaid).toContain('  subgraph _ns_local["namespace shop"]\n    orders("orders<br/>app=orders")\n');
    expect(mermaid).toContain('  subgraph _ns_monitoring["namespace monitoring"]\n    prometheus("prometheus<br/>app.kubernetes.io/name=prometheus")\n  end');
    expect(mermaid).toContain('  orders -->|"charge: TCP 8090"| payments\n  prometheus -->|"metrics: TCP 8080"| orders\n');
    expect(mermaid).toContain('  _every_pod -.->|"DNS: UDP 53, TCP 53"| _dns\n');
    const markdown = network.renderMarkdown('shop');
    expect(markdown).toContain('| orders | payments | TCP 8090 | charge |\n| prometheus | orders | TCP 8080 | metrics |\n');
    expect(markdown).toMatchSnapshot();
  });

  test('throws when a workload without a network declares traffic', () => {
    const chart = Testing.chart();
    const lone = new Microservice(chart, 'Lone', { name: 'lone', image: 'r.example.com/lone', release: ReleaseStrategy.rolling({ imageTag: 'v1' }), containerPort: 8080, resources: RESOURCES });
    const { payments } = shop();
    expect(() => lone.connectTo(payments)).toThrow('Microservice lone: network must be set to declare traffic (connectTo payments), got undefined');
  });

  test('throws on an edge declared twice', () => {
    const { orders, payments } = shop();
    orders.connectTo(payments);
    expect(() => orders.connectTo(payments)).toThrow('ZeroTrustNetwork shop: edge must be declared once, got "orders -> payments TCP 8090"');
  });

  test('throws on an endpoint from another network', () => {
    const { orders } = shop();
    const { payments: foreign } = shop();
    expect(() => orders.connectTo(foreign)).toThrow('ZeroTrustNetwork shop: target must have joined this network (pass it as the `network` prop), got "payments"');
  });

  test('throws on an edge with neither end in the namespace', () => {
    const { chart, network } = shop();
    const prometheus = new TrafficPeer(chart, 'P', { network, name: 'prometheus', peer: NetworkPeer.podsInNamespace('monitoring', { app: 'prometheus' }) });
    const db = new TrafficPeer(chart, 'D', { network, name: 'database', peer: NetworkPeer.ipBlocks(['10.0.0.0/8']), ports: [NetworkPort.tcp(5432)] });
    expect(() => prometheus.connectTo(db)).toThrow('ZeroTrustNetwork shop: edge must have its source or its target in namespace shop, got "prometheus -> database"');
  });

  test('throws on an edge to an endpoint that serves no port when none is given', () => {
    const { chart, network, orders } = shop();
    const smoke = new TrafficPeer(chart, 'SmokeTest', { network, name: 'smoke-test', peer: NetworkPeer.pods({ app: 'smoke-test' }) });
    expect(() => orders.connectTo(smoke)).toThrow('ZeroTrustNetwork shop: ports of orders -> smoke-test must name at least one port (smoke-test serves none by default), got []');
  });

  test('throws on a duplicate or reserved endpoint name', () => {
    const { chart, network } = shop();
    expect(() => new TrafficPeer(chart, 'Again', { network, name: 'orders', peer: NetworkPeer.pods({ app: 'x' }) }))
      .toThrow('ZeroTrustNetwork shop: endpoint name must be unique in the network, got "orders"');
    expect(() => new TrafficPeer(chart, 'Dns', { network, name: 'allow-dns', peer: NetworkPeer.pods({ app: 'x' }) }))
      .toThrow('ZeroTrustNetwork shop: endpoint name must not be a reserved policy name (default-deny, allow-dns), got "allow-dns"');
  });

  test('throws on DNS servers inside the governed namespace', () => {
    const chart = Testing.chart();
    const namespace = new SecureNamespace(chart, 'Ns', { name: 'shop' });
    expect(() => new ZeroTrustNetwork(chart, 'Network', { namespace, dns: NetworkPeer.pods({ app: 'dns' }) }))
      .toThrow('ZeroTrustNetwork shop: dns must select pods of another namespace (such as kube-system) or addresses, got "app=dns"');
  });

  test.each([
    [() => NetworkPeer.pods({}), /^NetworkPeer: labels must be a non-empty map of Kubernetes labels .*, got \{\}$/],
    [() => NetworkPeer.podsInNamespace('Bad_NS', { app: 'x' }), /^NetworkPeer: namespace must be a DNS-1123 label .*, got "Bad_NS"$/],
    [() => NetworkPeer.ipBlocks(['0.0.0.0/0']), /^NetworkPeer: cidrs must be an IPv4 or IPv6 CIDR .*, got "0.0.0.0\/0"$/],
    [() => NetworkPeer.ipBlocks([]), /^NetworkPeer: cidrs must list at least one CIDR, got \[\]$/],
    [() => NetworkPort.tcp(0), /^NetworkPort: port must be an integer from 1 to 65535, got 0$/],
  ])('rejects bad peers and ports (%#)', (make, message) => {
    expect(make).toThrow(message);
  });
});

import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import {
  CATALOGUE, ComponentSpec, CONTENT_SERVICE, ENVIRONMENTS, EnvironmentConfig, FRONTEND, KNOWLEDGE_SERVICE, PlatformService,
  ResolvedEnvironment, resolveEnvironments, RoutingMode, usedDatastores,
} from '../environments';
import { staging } from '../environments/staging';
import { ACME_SOLVER } from '../kcp';
import { synthesizeObjects } from '../synth/pipeline';
import { ROOT } from '../synth/root';
import { readReleaseStates } from '../release/files';
import { committedReleaseStates, find, Obj, ofKind, synthObjects } from './helpers';
import { Address, Cluster, Endpoint, isAllowed, Pod, Policy, Port, tcp, udp } from './netpol';

/**
 * The traffic matrix of each environment, evaluated from the synthesized NetworkPolicies with
 * Kubernetes semantics and compared with the graph declared in the catalogue. The expectation is
 * computed from the catalogue and the environment config, not from the network construct.
 */

/** A place traffic can come from or go to, with the role it plays in the declared graph. */
interface Member {
  readonly role: string;
  readonly endpoint: Endpoint;
}

interface World {
  readonly env: ResolvedEnvironment;
  readonly cluster: Cluster;
  readonly members: readonly Member[];
  readonly ports: readonly Port[];
}

const pod = (name: string, namespace: string, labels: { [k: string]: string }): Pod => ({ kind: 'pod', name, namespace, labels });

/**
 * The public edge of an environment, from its config: the ingress controller (routing `ingress`,
 * which also reaches cert-manager's solver pods) or the Gateway implementation's proxies (`gateway`).
 */
function edgeOf(env: ResolvedEnvironment) {
  return env.routing.mode === RoutingMode.GATEWAY
    ? { name: 'gateway', ...env.routing.dataPlane, acme: false }
    : { name: 'ingress-controller', ...env.network.ingressController, acme: true };
}
const portName = (p: Port) => `${p.protocol} ${p.port}`;

/** Every pod and address of an environment, its namespaces and its policies. */
function worldOf(env: ResolvedEnvironment, objs: readonly Obj[], catalogue: readonly ComponentSpec[]): World {
  const net = env.network;
  const edge = edgeOf(env);
  const members: Member[] = [];
  // Workload pods as synthesized (any number of Deployments per component, e.g. blue and green).
  for (const d of ofKind(objs, 'Deployment')) {
    const labels = d.spec.template.metadata.labels;
    members.push({ role: labels.app, endpoint: pod(d.metadata.name, env.namespace, labels) });
  }
  for (const store of usedDatastores(catalogue)) {
    const location = net.datastores[store.name];
    members.push({
      role: store.name,
      endpoint: 'cidrs' in location
        ? { kind: 'address', name: store.name, ip: location.cidrs[0].replace(/\.\d+\/\d+$/, '.10') }
        : pod(store.name, location.namespace ?? env.namespace, location.podLabels),
    });
  }
  members.push(
    { role: 'edge', endpoint: pod(edge.name, edge.namespace, edge.podLabels) },
    { role: 'prometheus', endpoint: pod('prometheus', net.prometheus.namespace, net.prometheus.podLabels) },
    { role: 'dns', endpoint: pod('coredns', net.dns.namespace, net.dns.podLabels) },
    { role: ACME_SOLVER.name, endpoint: pod('acme-solver', env.namespace, ACME_SOLVER.podLabels) },
    // Look-alikes: the right labels in the wrong namespace, and pods nobody declared.
    { role: 'intruder', endpoint: pod('intruder', env.namespace, { app: 'intruder' }) },
    { role: 'edge-lookalike', endpoint: pod('edge-lookalike', env.namespace, edge.podLabels) },
    // the other edge's pods: never let in
    ...(edge.acme ? [] : [{ role: 'retired-ingress-controller', endpoint: pod('retired-ingress-controller', net.ingressController.namespace, net.ingressController.podLabels) }]),
    { role: 'prometheus-lookalike', endpoint: pod('prometheus-lookalike', env.namespace, net.prometheus.podLabels) },
    { role: 'stranger', endpoint: pod('stranger', 'elsewhere', { app: FRONTEND.name }) },
    { role: 'internet', endpoint: { kind: 'address', name: 'internet', ip: '203.0.113.10' } as Address },
  );
  const namespaces: { [name: string]: { [k: string]: string } } = {};
  for (const m of members) {
    if (m.endpoint.kind === 'pod') namespaces[m.endpoint.namespace] = { 'kubernetes.io/metadata.name': m.endpoint.namespace };
  }
  const portNumbers = new Set<number>([
    ...catalogue.map((c) => c.containerPort), ...usedDatastores(catalogue).map((d) => d.port),
    edge.httpsPort, net.ingressController.httpsPort, net.dns.port, ACME_SOLVER.port, 22, 80, 9090,
  ]);
  const ports = [...[...portNumbers].sort((a, b) => a - b).map(tcp), udp(net.dns.port)];
  return { env, cluster: { namespaces, policies: ofKind(objs, 'NetworkPolicy') as unknown as Policy[] }, members, ports };
}

/** `source -> target PROTO port` for every flow the catalogue and the environment declare. */
function declaredFlows(world: World, catalogue: readonly ComponentSpec[]): Set<string> {
  const net = world.env.network;
  const edge = edgeOf(world.env);
  const flows = new Set<string>();
  const add = (source: string, target: string, port: Port) => flows.add(`${source} -> ${target} ${portName(port)}`);
  for (const c of catalogue) {
    if (c.routes.paths.length > 0) add('edge', c.name, tcp(c.containerPort));
    if (c.exposesMetrics === true) add('prometheus', c.name, tcp(c.containerPort));
    for (const callee of c.calls ?? []) {
      if (callee === PlatformService.INGRESS_CONTROLLER) add(c.name, 'edge', tcp(edge.httpsPort));
      else add(c.name, callee.name, tcp(catalogue.find((x) => x.name === callee.name)!.containerPort));
    }
    for (const d of c.datastores ?? []) add(c.name, d.name, tcp(d.port));
  }
  if (edge.acme) add('edge', ACME_SOLVER.name, tcp(ACME_SOLVER.port));
  for (const m of world.members) {
    if (m.endpoint.kind === 'pod' && m.endpoint.namespace === world.env.namespace) {
      add(m.role, 'dns', udp(net.dns.port));
      add(m.role, 'dns', tcp(net.dns.port));
    }
  }
  return flows;
}

/** True when at least one side is a pod of the environment's namespace (the only policies we write). */
function governed(world: World, a: Endpoint, b: Endpoint): boolean {
  const local = (e: Endpoint) => e.kind === 'pod' && e.namespace === world.env.namespace;
  return local(a) || local(b);
}

/** The allowed and the expected flows over every governed pair and probe port. */
function matrix(world: World, catalogue: readonly ComponentSpec[]) {
  const declared = declaredFlows(world, catalogue);
  const allowed: string[] = [];
  const expected: string[] = [];
  let checks = 0;
  for (const from of world.members) {
    for (const to of world.members) {
      if (from === to || !governed(world, from.endpoint, to.endpoint)) continue;
      for (const port of world.ports) {
        checks += 1;
        const flow = `${from.endpoint.name} -> ${to.endpoint.name} ${portName(port)}`;
        if (isAllowed(world.cluster, from.endpoint, to.endpoint, port)) allowed.push(flow);
        if (declared.has(`${from.role} -> ${to.role} ${portName(port)}`)) expected.push(flow);
      }
    }
  }
  return { allowed, expected, checks };
}

const resolved = resolveEnvironments(ENVIRONMENTS, CATALOGUE, committedReleaseStates());
const objects = synthObjects();

describe.each(resolved.map((env) => [env.name, env] as const))('%s traffic', (name, env) => {
  const objs = objects.get(name)!;
  const world = worldOf(env, objs, CATALOGUE);
  // a component's first pod (the matrix test covers every colour of a pair)
  const member = (n: string) => world.members.find((m) => m.role === n || m.endpoint.name === n)!.endpoint;
  const allowed = (from: string, to: string, port: Port) => isAllowed(world.cluster, member(from), member(to), port);

  test('allows exactly the declared graph over the full matrix of pods, addresses and ports', () => {
    const { allowed: actual, expected, checks } = matrix(world, CATALOGUE);
    expect(checks).toBeGreaterThan(2000);
    expect(expected.length).toBeGreaterThan(40);
    expect(actual).toEqual(expected);
  });

  test('is default-deny for ingress and egress, with DNS for every pod, and one policy per local endpoint', () => {
    const policies = ofKind(objs, 'NetworkPolicy');
    expect(find(objs, 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(policies.map((p) => p.metadata.name).sort()).toEqual([
      ...(edgeOf(env).acme ? ['acme-http01-solver'] : []), 'allow-dns', 'analytics-service', 'auth-service', 'content-service', 'default-deny', 'frontend',
      'knowledge-service', 'mongodb', 'neo4j', 'postgres', 'redis',
      // the analysis Job pods of staging's Argo components (knowledge-service, content-service)
      ...(name === 'staging' ? ['smoke-test'] : []), 'support-service',
    ]);
    for (const p of policies) expect(() => new NetworkPolicy(p as never).validate()).not.toThrow();
  });

  test('lets the ingress controller, and nothing else, reach cert-manager\'s HTTP-01 solver pods (routing ingress only)', () => {
    expect(allowed('edge', ACME_SOLVER.name, tcp(ACME_SOLVER.port))).toBe(edgeOf(env).acme);
    expect(allowed('edge-lookalike', ACME_SOLVER.name, tcp(ACME_SOLVER.port))).toBe(false);
    expect(allowed(FRONTEND.name, ACME_SOLVER.name, tcp(ACME_SOLVER.port))).toBe(false);
    expect(allowed(ACME_SOLVER.name, 'postgres', tcp(5432))).toBe(false);
  });

  test('lets the frontend reach knowledge-service on 8001 and content-service on 8002, as in the seed', () => {
    expect(allowed(FRONTEND.name, KNOWLEDGE_SERVICE.name, tcp(8001))).toBe(true);
    expect(allowed(FRONTEND.name, CONTENT_SERVICE.name, tcp(8002))).toBe(true);
    expect(allowed(FRONTEND.name, KNOWLEDGE_SERVICE.name, tcp(8002))).toBe(false);
    expect(allowed(FRONTEND.name, 'support-service', tcp(8003))).toBe(false);
  });

  test('lets the edge (ingress controller or Gateway proxies), from its own namespace only, reach every routed component on its container port', () => {
    for (const c of CATALOGUE) {
      expect([c.name, allowed('edge', c.name, tcp(c.containerPort))]).toEqual([c.name, true]);
      expect([c.name, allowed('edge-lookalike', c.name, tcp(c.containerPort))]).toEqual([c.name, false]);
    }
    expect(allowed('edge', 'frontend', tcp(80))).toBe(false);
    expect(allowed('edge', 'postgres', tcp(5432))).toBe(false);
  });


  test('denies pairs that are not declared: the frontend to a datastore, content-service to auth-service', () => {
    for (const store of usedDatastores(CATALOGUE)) {
      expect([store.name, allowed(FRONTEND.name, store.name, tcp(store.port))]).toEqual([store.name, false]);
    }
    expect(allowed('content-service', 'auth-service', tcp(8005))).toBe(false);
    expect(allowed('support-service', 'postgres', tcp(5432))).toBe(false);
    expect(allowed('knowledge-service', 'mongodb', tcp(27017))).toBe(false);
    expect(allowed('intruder', 'knowledge-service', tcp(8001))).toBe(false);
    expect(allowed('stranger', 'frontend', tcp(3000))).toBe(false);
    expect(allowed('internet', 'frontend', tcp(3000))).toBe(false);
    expect(allowed('frontend', 'internet', tcp(443))).toBe(false);
  });

  test('lets every backend reach exactly the datastores the catalogue gives it', () => {
    for (const c of CATALOGUE) {
      for (const store of usedDatastores(CATALOGUE)) {
        const uses = (c.datastores ?? []).includes(store);
        expect([c.name, store.name, allowed(c.name, store.name, tcp(store.port))]).toEqual([c.name, store.name, uses]);
      }
    }
  });

  test('resolves names from every pod of the namespace, over UDP and TCP', () => {
    const local = world.members.filter((m) => m.endpoint.kind === 'pod' && m.endpoint.namespace === env.namespace);
    expect(local.length).toBeGreaterThan(10);
    for (const m of local) {
      expect([m.endpoint.name, isAllowed(world.cluster, m.endpoint, member('coredns'), udp(53)),
        isAllowed(world.cluster, m.endpoint, member('coredns'), tcp(53))]).toEqual([m.endpoint.name, true, true]);
      expect([m.endpoint.name, isAllowed(world.cluster, m.endpoint, member('coredns'), tcp(80))]).toEqual([m.endpoint.name, false]);
    }
  });

  test('lets Prometheus reach every metrics port and nothing else', () => {
    for (const c of CATALOGUE) {
      // only components serving /metrics (the frontend does not yet) are open to Prometheus
      expect([c.name, allowed('prometheus', c.name, tcp(c.containerPort))]).toEqual([c.name, c.exposesMetrics === true]);
      expect([c.name, allowed('prometheus', c.name, tcp(9090))]).toEqual([c.name, false]);
      expect([c.name, allowed('prometheus-lookalike', c.name, tcp(c.containerPort))]).toEqual([c.name, false]);
    }
    for (const store of usedDatastores(CATALOGUE)) expect(allowed('prometheus', store.name, tcp(store.port))).toBe(false);
  });
});

describe('staging routed by Gateway API', () => {
  // GIVEN staging, whose routing is `gateway`: its edge is the Gateway's proxies
  const env = resolved.find((e) => e.name === 'staging')!;
  const world = worldOf(env, objects.get('staging')!, CATALOGUE);
  const member = (n: string) => world.members.find((m) => m.role === n || m.endpoint.name === n)!.endpoint;
  const allowed = (from: string, to: string, port: Port) => isAllowed(world.cluster, member(from), member(to), port);

  test('lets in the Gateway\'s proxies and not the ingress controller, and the frontend calls the proxies\' HTTPS port', () => {
    expect(env.routing.mode).toBe(RoutingMode.GATEWAY);
    for (const c of CATALOGUE) {
      expect([c.name, allowed('gateway', c.name, tcp(c.containerPort))]).toEqual([c.name, true]);
      expect([c.name, allowed('retired-ingress-controller', c.name, tcp(c.containerPort))]).toEqual([c.name, false]);
    }
    expect(allowed(FRONTEND.name, 'gateway', tcp(10443))).toBe(true);
    expect(allowed(FRONTEND.name, 'retired-ingress-controller', tcp(env.network.ingressController.httpsPort))).toBe(false);
  });
});

describe('an environment with datastores elsewhere and another ingress controller', () => {
  // GIVEN PostgreSQL outside the cluster, MongoDB in a shared namespace and a differently labelled controller
  const qa: EnvironmentConfig = {
    ...staging,
    name: 'qa',
    namespace: 'soundcore-kcp-qa',
    routing: { mode: RoutingMode.INGRESS },
    tls: { clusterIssuer: 'letsencrypt-staging', frontendSecretName: 'qa-tls', apiSecretName: 'qa-api-tls' },
    network: {
      ingressController: { namespace: 'ingress', podLabels: { 'app.kubernetes.io/instance': 'public-nginx' } },
      prometheus: { namespace: 'observability' },
      datastores: {
        ...staging.network.datastores,
        postgres: { cidrs: ['10.40.0.0/24'] },
        mongodb: { namespace: 'shared-data', podLabels: { 'app.kubernetes.io/name': 'mongodb' } },
      },
    },
  };
  const [env] = resolveEnvironments([qa], CATALOGUE, committedReleaseStates());
  const objs = synthObjects([qa]).get('qa')!;
  const world = worldOf(env, objs, CATALOGUE);

  test('still allows exactly the declared graph', () => {
    const { allowed, expected } = matrix(world, CATALOGUE);
    expect(allowed).toEqual(expected);
    expect(allowed).toContain('knowledge-service -> postgres TCP 5432');
    expect(allowed).toContain('support-service -> mongodb TCP 27017');
    expect(allowed).toContain('ingress-controller -> frontend TCP 3000');
  });

  test('writes egress to the external and cross-namespace datastores but no policy for them', () => {
    const names = ofKind(objs, 'NetworkPolicy').map((p) => p.metadata.name);
    expect(names).not.toContain('postgres');
    expect(names).not.toContain('mongodb');
    expect(names).toContain('redis');
    const egress = find(objs, 'NetworkPolicy', 'support-service').spec.egress;
    expect(egress).toEqual([{
      to: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shared-data' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mongodb' } },
      }],
      ports: [{ port: 27017, protocol: 'TCP' }],
    }]);
    expect(find(objs, 'NetworkPolicy', 'auth-service').spec.egress[0]).toEqual({
      to: [{ ipBlock: { cidr: '10.40.0.0/24' } }], ports: [{ port: 5432, protocol: 'TCP' }],
    });
  });
});

describe('the smoke test of a staged release', () => {
  // GIVEN knowledge-service staged in production
  const production = ENVIRONMENTS.find((e) => e.name === 'production')!;
  const recorded = readReleaseStates(ROOT, [production]).production as object;
  const states = { production: { ...recorded, 'knowledge-service': { active: 'blue', phase: 'staged', tags: { blue: 'v1.0.0', green: 'v1.1.0' }, previousTag: 'v1.0.0' } } };
  const env = resolveEnvironments([production], CATALOGUE, states)[0];
  // WHEN it is synthesized
  const objs = synthesizeObjects([production], CATALOGUE, states).get('production')! as Obj[];
  const world = worldOf(env, objs, CATALOGUE);
  const job = objs.find((o) => o.kind === 'Job' && o.metadata.labels?.['app.kubernetes.io/instance'] === 'knowledge-service-smoke-v1-1-0')!;
  const smoke = pod('smoke-test', env.namespace, job.spec.template.metadata.labels);
  const podOf = (deployment: string) => pod(deployment, env.namespace, find(objs, 'Deployment', deployment).spec.template.metadata.labels);

  test('lets the smoke-test pods reach the staged component, and resolve names', () => {
    expect(isAllowed(world.cluster, smoke, podOf('knowledge-service-green'), tcp(KNOWLEDGE_SERVICE.containerPort))).toBe(true);
    const dns = world.members.find((m) => m.role === 'dns')!.endpoint;
    expect(isAllowed(world.cluster, smoke, dns, udp(53))).toBe(true);
  });

  test('lets them reach nothing else', () => {
    expect(isAllowed(world.cluster, smoke, podOf('content-service-blue'), tcp(CONTENT_SERVICE.containerPort))).toBe(false);
    expect(isAllowed(world.cluster, smoke, podOf('knowledge-service-green'), tcp(9090))).toBe(false);
    expect(isAllowed(world.cluster, smoke, { kind: 'address', name: 'internet', ip: '203.0.113.10' }, tcp(443))).toBe(false);
  });

  test('has no policy while nothing is staged', () => {
    expect(ofKind(objects.get('production')!, 'NetworkPolicy').map((p) => p.metadata.name)).not.toContain('smoke-test');
    expect(ofKind(objs, 'NetworkPolicy').map((p) => p.metadata.name)).toContain('smoke-test');
  });
});

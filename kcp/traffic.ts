/**
 * The environment's traffic graph, declared from the catalogue: who may reach whom, which the
 * ZeroTrustNetwork turns into NetworkPolicies and `allowed-traffic.md`.
 */
import { Construct } from 'constructs';
import { EndpointRole, Microservice, NetworkPeer, NetworkPort, TrafficPeer, ZeroTrustNetwork } from '../constructs';
import { ComponentSpec, DatastoreLocation, PlatformService, ResolvedEnvironment, usedDatastores } from '../environments';
import { PublicEdge } from './edge';

/**
 * Declares the environment's traffic graph from the catalogue, each edge once: the public edge (the
 * ingress controller or the Gateway's proxies) to whatever its routes send to; each component to what it `calls` and to its `datastores`;
 * Prometheus to every component's metrics port (the container port serving `/metrics`).
 */
export function declareTraffic(
  scope: Construct,
  network: ZeroTrustNetwork,
  env: ResolvedEnvironment,
  catalogue: readonly ComponentSpec[],
  workloads: ReadonlyMap<string, Microservice>,
  edge: PublicEdge,
): void {
  const prom = env.network.prometheus;
  const ingressController = new TrafficPeer(scope, edge.servesAcmeSolver ? 'IngressController' : 'Gateway', {
    network,
    name: edge.peerName,
    peer: NetworkPeer.podsInNamespace(edge.pods.namespace, edge.pods.podLabels),
    ports: [NetworkPort.tcp(edge.httpsPort)],
  });
  const prometheus = new TrafficPeer(scope, 'Prometheus', {
    network, name: 'prometheus', peer: NetworkPeer.podsInNamespace(prom.namespace, prom.podLabels),
  });
  const datastoreScope = new Construct(scope, 'Datastores');
  const datastores = new Map(usedDatastores(catalogue).map((d) => [d.name, new TrafficPeer(datastoreScope, d.title, {
    network,
    name: d.name,
    peer: datastorePeer(env.network.datastores[d.name], env.namespace),
    ports: [NetworkPort.tcp(d.port)],
    role: EndpointRole.DATASTORE,
    managedElsewhere: `${d.title}, run in this namespace outside these manifests`,
  })]));

  for (const backend of edge.router.backends) ingressController.connectTo(backend, { description: edge.backendDescription });
  for (const spec of catalogue) {
    const workload = workloads.get(spec.name)!;
    for (const callee of spec.calls ?? []) {
      if (callee === PlatformService.INGRESS_CONTROLLER) {
        workload.connectTo(ingressController, { description: 'public API origin' });
      } else {
        workload.connectTo(workloads.get(callee.name)!, { description: 'API call' });
      }
    }
    for (const datastore of spec.datastores ?? []) {
      workload.connectTo(datastores.get(datastore.name)!, { description: datastore.title });
    }
  }
  // Prometheus scrapes exactly the components that serve metrics (the ServiceMonitor's set).
  for (const spec of catalogue.filter((c) => c.exposesMetrics === true)) {
    prometheus.connectTo(workloads.get(spec.name)!, { description: 'metrics scrape' });
  }
  // cert-manager answers HTTP-01 challenges from a solver pod it starts in this namespace, reached
  // through the ingress controller: without this edge, certificates could be neither issued nor renewed.
  // (A Gateway's certificates, and their solver pods, live with the Gateway, outside this namespace.)
  if (!edge.servesAcmeSolver) return;
  const acmeSolver = new TrafficPeer(scope, 'AcmeHttp01Solver', {
    network,
    name: ACME_SOLVER.name,
    peer: NetworkPeer.pods(ACME_SOLVER.podLabels),
    ports: [NetworkPort.tcp(ACME_SOLVER.port)],
    managedElsewhere: 'cert-manager HTTP-01 solver, started while a certificate is issued or renewed',
  });
  ingressController.connectTo(acmeSolver, { description: 'ACME HTTP-01 challenge' });
}

/** The pods cert-manager starts to answer ACME HTTP-01 challenges (labels and port are cert-manager's). */
export const ACME_SOLVER = { name: 'acme-http01-solver', podLabels: { 'acme.cert-manager.io/http01-solver': 'true' }, port: 8089 } as const;

function datastorePeer(location: DatastoreLocation, namespace: string): NetworkPeer {
  if ('cidrs' in location) return NetworkPeer.ipBlocks(location.cidrs);
  return location.namespace === undefined || location.namespace === namespace
    ? NetworkPeer.pods(location.podLabels)
    : NetworkPeer.podsInNamespace(location.namespace, location.podLabels);
}


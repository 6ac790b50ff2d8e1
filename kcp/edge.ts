/**
 * The public edge of an environment, as its `routing` says: the router the catalogue's routes are
 * declared on (an Ingress or Gateway API HTTPRoutes), and the pods that carry the public requests
 * to the workloads (the ingress controller, or the Gateway implementation's proxies), which the
 * NetworkPolicies let in. The routes themselves come from the catalogue either way.
 */
import { Construct } from 'constructs';
import {
  GatewayHttpRoutes, IHttpRouter, LabelSet, Microservice, RouteBackend, TlsIngress,
} from '../constructs';
import { ComponentSpec, Host, PodSelection, ResolvedEnvironment, RoutingMode } from '../environments';

/** The public edge of an environment. */
export interface PublicEdge {
  /** Where the routes are declared. */
  readonly router: IHttpRouter;
  /** Name of the edge in the traffic graph (`ingress-controller`, `gateway`). */
  readonly peerName: string;
  /** The edge's pods: they reach the routed workloads; the frontend's server side calls their HTTPS port. */
  readonly pods: PodSelection;
  /** Port of the edge's pods serving HTTPS. */
  readonly httpsPort: number;
  /** What a route backend edge is called in the traffic graph. */
  readonly backendDescription: string;
  /** Name of the Ingress, whose controller metrics the edge SLOs read. @default - no Ingress (Gateway API) */
  readonly ingressName?: string;
  /**
   * Whether cert-manager's HTTP-01 solver pods in this namespace are reached through the edge: with
   * the Ingress, which holds the certificates; not with a Gateway, whose certificates (and solver
   * pods) live with the Gateway, in the platform's namespace.
   */
  readonly servesAcmeSolver: boolean;
}

/** Properties of {@link publicEdge}. */
export interface PublicEdgeProps {
  readonly environment: ResolvedEnvironment;
  readonly catalogue: readonly ComponentSpec[];
  readonly workloads: ReadonlyMap<string, Microservice>;
  /** Name of the Ingress (routing `ingress`). */
  readonly ingressName: string;
  /** Labels of the Ingress or HTTPRoutes. */
  readonly labels: LabelSet;
  /**
   * The Services each component's route sends to, with their weights (e.g. a canary's stable and
   * canary Services). @default - each component's own Service on its port
   */
  readonly backends?: ReadonlyMap<string, readonly RouteBackend[]>;
}

/** The public host of each `Host` of the catalogue in `env`. */
export function publicHosts(env: ResolvedEnvironment): { readonly [host in Host]: string } {
  return { [Host.FRONTEND]: env.domains.frontend, [Host.API]: env.domains.api };
}

/** Builds the environment's router, declares every catalogue route on it, and says what the edge is. */
export function publicEdge(scope: Construct, props: PublicEdgeProps): PublicEdge {
  const env = props.environment;
  const hosts = publicHosts(env);
  const routing = env.routing;
  let edge: PublicEdge;
  if (routing.mode === RoutingMode.GATEWAY) {
    const router = new GatewayHttpRoutes(scope, 'HttpRoutes', { gateway: routing.gateway, labels: props.labels });
    edge = {
      router, peerName: 'gateway', pods: routing.dataPlane, httpsPort: routing.dataPlane.httpsPort,
      backendDescription: 'HTTPRoute backend', servesAcmeSolver: false,
    };
  } else {
    // (resolve checked that an environment routed by an Ingress has its tls settings)
    const tls = env.tls!;
    const ingress = new TlsIngress(scope, 'Ingress', { name: props.ingressName, clusterIssuer: tls.clusterIssuer, labels: props.labels });
    ingress.addHost(env.domains.frontend, tls.frontendSecretName);
    ingress.addHost(env.domains.api, tls.apiSecretName);
    const ic = env.network.ingressController;
    edge = {
      router: ingress, peerName: 'ingress-controller', pods: ic, httpsPort: ic.httpsPort,
      backendDescription: 'Ingress backend', ingressName: ingress.ingress.name, servesAcmeSolver: true,
    };
  }
  for (const spec of props.catalogue) {
    const backends = props.backends?.get(spec.name);
    for (const prefix of spec.routes.paths) {
      edge.router.route(hosts[spec.routes.host], prefix, props.workloads.get(spec.name)!, backends === undefined ? undefined : { backends });
    }
  }
  return edge;
}

/**
 * What public HTTP routing needs from a router and from what it routes to, whatever serves the
 * routes: an Ingress ({@link TlsIngress}) or Gateway API HTTPRoutes ({@link GatewayHttpRoutes}).
 * A chart declares its routes once against {@link IHttpRouter}; which router it builds is a choice
 * of the environment, and nothing specific to one router (an nginx annotation, a TLS Secret) is
 * part of this contract.
 */
import * as kplus from 'cdk8s-plus-28';
import { INetworkEndpoint } from './network';
import { assertValid, checkDnsLabel, checkInteger, checkPort, PropsError } from './validation';

/** Largest backend weight Gateway API accepts (HTTPBackendRef.weight, 0 to 1,000,000). */
export const MAX_BACKEND_WEIGHT = 1_000_000;

/** One Service a route sends requests to. */
export interface RouteBackend {
  /** Name of the Service, in the route's namespace. */
  readonly serviceName: string;
  /** Port of the Service. */
  readonly port: number;
  /**
   * Share of the rule's requests, relative to the other backends' weights (0 sends none).
   * @default 1 (the Gateway API default)
   */
  readonly weight?: number;
}

/**
 * A workload a route may point at: its name (the route's name where a router makes one object per
 * target), its Service and port (the default backend), and the endpoint of its pods, which the
 * router's pods must be allowed to reach. {@link Microservice} is one.
 */
export interface IRouteTarget extends INetworkEndpoint {
  /** Name of the workload, e.g. `knowledge-service`. */
  readonly name: string;
  /** The Service that serves it. */
  readonly service: kplus.Service;
  /** Port of that Service. */
  readonly servicePort: number;
  /**
   * The Services its route sends to, when the workload splits traffic itself (an Argo Rollouts
   * canary: its stable Service and its canary Service). Routers that can split traffic use it.
   * @default - one backend: its Service on its port
   */
  readonly routeBackends?: readonly RouteBackend[];
}

/** Options of one route. */
export interface RouteOptions {
  /**
   * The Services the requests go to, with their weights, e.g. a stable Service at 100 and a canary
   * at 0. A router that cannot split traffic (an Ingress) accepts only the default.
   * @default - one backend: the target's Service on its port
   */
  readonly backends?: readonly RouteBackend[];
}

/** Something that serves public HTTP routes: an Ingress, or a set of Gateway API HTTPRoutes. */
export interface IHttpRouter {
  /** Routes requests for `host` whose path starts with `pathPrefix` to `target`. */
  route(host: string, pathPrefix: string, target: IRouteTarget, options?: RouteOptions): void;
  /** The workloads routed to, each once, in the order first routed (e.g. to let the edge reach them). */
  readonly backends: readonly IRouteTarget[];
}

/**
 * The backends of a route, checked: `options.backends`, else (where `splits`) the target's own
 * `routeBackends`, else the target's Service on its port.
 */
export function routeBackends(where: string, target: IRouteTarget, options: RouteOptions = {}, splits = true): readonly RouteBackend[] {
  const backends = options.backends ?? (splits ? target.routeBackends : undefined) ?? [{ serviceName: target.service.name, port: target.servicePort }];
  if (backends.length === 0) throw new PropsError(where, 'backends', [], 'must list at least one Service');
  backends.forEach((b, i) => {
    assertValid(where, `backends[${i}].serviceName`, b.serviceName, checkDnsLabel(b.serviceName));
    assertValid(where, `backends[${i}].port`, b.port, checkPort(b.port));
    if (b.weight !== undefined) assertValid(where, `backends[${i}].weight`, b.weight, checkInteger(b.weight, 0, MAX_BACKEND_WEIGHT));
    if (backends.findIndex((o) => o.serviceName === b.serviceName && o.port === b.port) !== i) {
      throw new PropsError(where, `backends[${i}]`, b, 'must name each Service and port once');
    }
  });
  // All weights 0 sends every request nowhere: Gateway API implementations answer them with 500.
  if (backends.every((b) => b.weight === 0)) {
    throw new PropsError(where, 'backends', backends, 'must give at least one backend a weight above 0 (with every weight 0 each request is answered 500)');
  }
  return backends;
}

/** Checks a path prefix of a route: absolute, no `//`, no query or fragment. */
export function checkPathPrefix(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/[^?#\s]*$/.test(value) && !value.includes('//')
    ? undefined : 'must be an absolute path starting with "/" (no "//", query, fragment or space)';
}

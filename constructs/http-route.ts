/**
 * Gateway API v1 HTTPRoutes: the routes of {@link IHttpRouter}, one HTTPRoute per workload, attached
 * to a Gateway run by the platform. TLS terminates at the Gateway (its listener holds the
 * certificate), so a route has no TLS field and no Secret: a route only says which hostnames and
 * paths go to which Services, with which weights.
 */
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import { IHttpRouter, IRouteTarget, RouteBackend, RouteOptions, checkPathPrefix, routeBackends } from './routing';
import { assertValid, checkDnsLabel, checkDnsSubdomain, PropsError } from './validation';

/** The Gateway the routes attach to. */
export interface GatewayReference {
  /** Name of the Gateway. */
  readonly name: string;
  /** Namespace of the Gateway (it must allow routes from the routes' namespace). @default - the routes' namespace */
  readonly namespace?: string;
  /** Listener of the Gateway to attach to, e.g. `https`. @default - every listener that accepts the routes */
  readonly sectionName?: string;
}

/** Properties of {@link GatewayHttpRoutes}. */
export interface GatewayHttpRoutesProps {
  /** The Gateway every route attaches to (its parentRef). */
  readonly gateway: GatewayReference;
  /** Labels of every HTTPRoute. @default - none */
  readonly labels?: LabelSet;
}

/** What one target is routed on. */
interface TargetRoutes {
  readonly target: IRouteTarget;
  /** Path prefixes by host, in the order routed. */
  readonly prefixes: Map<string, string[]>;
  backends: readonly RouteBackend[];
  /** Whether `backends` were given (not the default). */
  explicit: boolean;
}

/**
 * One Gateway API `HTTPRoute` per routed workload, named after it: its hostnames, one rule matching
 * each of its path prefixes (`PathPrefix`), and the Services of its route as weighted backendRefs.
 * An HTTPRoute's hostnames apply to all of its rules, so a workload routed on several hosts must
 * be routed with the same prefixes on each (checked at synth).
 */
export class GatewayHttpRoutes extends Construct implements IHttpRouter {
  private readonly routes = new Map<string, TargetRoutes>();
  private readonly where: string;

  constructor(scope: Construct, id: string, private readonly props: GatewayHttpRoutesProps) {
    super(scope, id);
    this.where = `GatewayHttpRoutes ${id}`;
    const g = props.gateway;
    assertValid(this.where, 'gateway.name', g.name, checkDnsSubdomain(g.name));
    if (g.namespace !== undefined) assertValid(this.where, 'gateway.namespace', g.namespace, checkDnsLabel(g.namespace));
    if (g.sectionName !== undefined) assertValid(this.where, 'gateway.sectionName', g.sectionName, checkDnsSubdomain(g.sectionName));
    this.node.addValidation({ validate: () => this.checkHostsAgree() });
  }

  /** The workloads routed to, each once, in the order first routed. */
  public get backends(): readonly IRouteTarget[] {
    return [...this.routes.values()].map((r) => r.target);
  }

  /**
   * Routes requests for `host` whose path starts with `pathPrefix` to the Services of `target`'s
   * route: `options.backends`, else the target's own `routeBackends` (a canary), else its Service.
   */
  public route(host: string, pathPrefix: string, target: IRouteTarget, options?: RouteOptions): void {
    assertValid(this.where, 'host', host, checkDnsSubdomain(host));
    assertValid(this.where, 'pathPrefix', pathPrefix, checkPathPrefix(pathPrefix));
    const where = `${this.where} route ${target.name}`;
    const backends = routeBackends(where, target, options);
    let routes = this.routes.get(target.name);
    if (routes === undefined) {
      assertValid(this.where, 'target.name', target.name, checkDnsSubdomain(target.name));
      routes = { target, prefixes: new Map(), backends, explicit: options?.backends !== undefined || target.routeBackends !== undefined };
      this.routes.set(target.name, routes);
      this.emit(routes);
    } else if (routes.target !== target) {
      throw new PropsError(this.where, 'target.name', target.name, 'must name one workload: another target of that name is already routed (one HTTPRoute per name)');
    } else if (options?.backends !== undefined) {
      if (routes.explicit && JSON.stringify(routes.backends) !== JSON.stringify(backends)) {
        throw new PropsError(where, 'backends', backends, `must be the same on every route of ${target.name} (one HTTPRoute, one set of backends), first given ${JSON.stringify(routes.backends)}`);
      }
      routes.backends = backends;
      routes.explicit = true;
    }
    const prefixes = routes.prefixes.get(host) ?? [];
    if (prefixes.includes(pathPrefix)) throw new PropsError(where, 'pathPrefix', pathPrefix, `must be routed once on ${host}`);
    routes.prefixes.set(host, [...prefixes, pathPrefix]);
  }

  private emit(routes: TargetRoutes): void {
    const g = this.props.gateway;
    const spec = (): IHTTPRoute['spec'] => ({
      parentRefs: [{
        group: 'gateway.networking.k8s.io', kind: 'Gateway', name: g.name,
        ...(g.namespace === undefined ? {} : { namespace: g.namespace }),
        ...(g.sectionName === undefined ? {} : { sectionName: g.sectionName }),
      }],
      hostnames: [...routes.prefixes.keys()],
      rules: [ruleOf(routes)],
    });
    new ApiObject(this, routes.target.name, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: routes.target.name, labels: this.props.labels },
      // (produced at synth: a workload's further routes are added after its HTTPRoute is created)
      spec: Lazy.any({ produce: spec }),
    });
  }

  /** Every host of a workload has the same prefixes: an HTTPRoute's hostnames apply to all its rules. */
  private checkHostsAgree(): string[] {
    return [...this.routes.values()].flatMap((r) => {
      const [first, ...others] = [...r.prefixes.entries()];
      return others.filter(([, p]) => [...p].sort().join(' ') !== [...first[1]].sort().join(' ')).map(([host, p]) =>
        `HTTPRoute ${r.target.name}: host ${host} is routed with prefixes ${p.join(', ')} and host ${first[0]} with ${first[1].join(', ')}; `
        + 'the hostnames of one HTTPRoute share its rules, so route each host with the same prefixes');
    });
  }
}

type HttpRouteRule = NonNullable<NonNullable<IHTTPRoute['spec']>['rules']>[number];

function ruleOf(routes: TargetRoutes): HttpRouteRule {
  const prefixes = [...new Set([...routes.prefixes.values()].flat())];
  return {
    matches: prefixes.map((value) => ({ path: { type: 'PathPrefix', value } })),
    backendRefs: routes.backends.map((b) => ({
      group: '', kind: 'Service', name: b.serviceName, port: b.port, ...(b.weight === undefined ? {} : { weight: b.weight }),
    })),
  };
}

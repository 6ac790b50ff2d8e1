import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import { IHttpRouter, IRouteTarget, RouteOptions, routeBackends } from './routing';
import { assertValid, checkDnsSubdomain, PropsError } from './validation';

/** Properties of a {@link TlsIngress}. */
export interface TlsIngressProps {
  /** Exact Ingress name. */
  readonly name: string;
  /** IngressClass that serves it. @default 'nginx' */
  readonly className?: string;
  /** cert-manager ClusterIssuer that issues the host certificates. @default - certificates are provided out of band */
  readonly clusterIssuer?: string;
  /** Labels of the Ingress. @default - none */
  readonly labels?: LabelSet;
}

/**
 * An Ingress that serves HTTPS only: every host added gets a TLS entry, and plain HTTP is
 * redirected. Routes point at workloads ({@link IRouteTarget}), never at Service names. An Ingress
 * sends each route to one Service: weighted backends need a router that splits traffic
 * ({@link GatewayHttpRoutes}).
 */
export class TlsIngress extends Construct implements IHttpRouter {
  /** The underlying cdk8s-plus Ingress. */
  public readonly ingress: kplus.Ingress;
  private readonly hosts = new Set<string>();
  private readonly targets: IRouteTarget[] = [];

  constructor(scope: Construct, id: string, props: TlsIngressProps) {
    super(scope, id);
    const annotations: { [key: string]: string } = {
      'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
      'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true',
    };
    if (props.clusterIssuer !== undefined) annotations['cert-manager.io/cluster-issuer'] = props.clusterIssuer;
    this.ingress = new kplus.Ingress(this, 'Resource', {
      metadata: { name: props.name, labels: props.labels, annotations },
      className: props.className ?? 'nginx',
    });
  }

  /** The workloads it routes to, each once, in the order first routed (e.g. to allow the controller to reach them). */
  public get backends(): readonly IRouteTarget[] {
    return [...this.targets];
  }

  /** Serves `host` over TLS with the certificate in Secret `tlsSecretName`. */
  public addHost(host: string, tlsSecretName: string): void {
    assertValid('TlsIngress', 'host', host, checkDnsSubdomain(host));
    assertValid('TlsIngress', 'tlsSecretName', tlsSecretName, checkDnsSubdomain(tlsSecretName));
    if (this.hosts.has(host)) throw new PropsError('TlsIngress', 'host', host, 'must be added once');
    this.hosts.add(host);
    const secret = kplus.Secret.fromSecretName(this, `Tls${this.hosts.size}`, tlsSecretName);
    this.ingress.addTls([{ hosts: [host], secret }]);
  }

  /**
   * Routes requests for `host` whose path starts with `pathPrefix` to `target`'s Service. `backends`
   * may only name that Service on its port: an Ingress cannot split traffic (it ignores the target's
   * own `routeBackends`; an ingress-nginx canary is a second Ingress, the canary engine's).
   */
  public route(host: string, pathPrefix: string, target: IRouteTarget, options?: RouteOptions): void {
    if (!this.hosts.has(host)) {
      throw new PropsError('TlsIngress', 'host', host, `must be added with addHost() before routing to it (hosts: ${[...this.hosts].join(', ')})`);
    }
    if (!pathPrefix.startsWith('/')) throw new PropsError('TlsIngress', 'pathPrefix', pathPrefix, 'must start with "/"');
    const backends = routeBackends(`TlsIngress route ${target.name}`, target, options, false);
    if (backends.length !== 1 || backends[0].serviceName !== target.service.name || backends[0].port !== target.servicePort) {
      throw new PropsError(`TlsIngress route ${target.name}`, 'backends', backends,
        `must be the target's Service ${target.service.name} on port ${target.servicePort} alone: an Ingress sends a route to one Service (weighted backends need Gateway API routing)`);
    }
    this.ingress.addHostRule(host, pathPrefix,
      kplus.IngressBackend.fromService(target.service, { port: target.servicePort }),
      kplus.HttpIngressPathType.PREFIX);
    if (!this.targets.includes(target)) this.targets.push(target);
  }
}

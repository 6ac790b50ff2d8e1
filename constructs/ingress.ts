import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import { Microservice } from './microservice';
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
 * redirected. Routes point at {@link Microservice} objects, never at Service names.
 */
export class TlsIngress extends Construct {
  /** The underlying cdk8s-plus Ingress. */
  public readonly ingress: kplus.Ingress;
  private readonly hosts = new Set<string>();
  private readonly targets: Microservice[] = [];

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
  public get backends(): readonly Microservice[] {
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

  /** Routes requests for `host` whose path starts with `pathPrefix` to `target`'s Service. */
  public route(host: string, pathPrefix: string, target: Microservice): void {
    if (!this.hosts.has(host)) {
      throw new PropsError('TlsIngress', 'host', host, `must be added with addHost() before routing to it (hosts: ${[...this.hosts].join(', ')})`);
    }
    if (!pathPrefix.startsWith('/')) throw new PropsError('TlsIngress', 'pathPrefix', pathPrefix, 'must start with "/"');
    this.ingress.addHostRule(host, pathPrefix,
      kplus.IngressBackend.fromService(target.service, { port: target.servicePort }),
      kplus.HttpIngressPathType.PREFIX);
    if (!this.targets.includes(target)) this.targets.push(target);
  }
}

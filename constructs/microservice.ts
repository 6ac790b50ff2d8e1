import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LabelSet, recommendedLabels, selectorLabels } from './labels';
import { ConnectOptions, INetworkEndpoint, NetworkPeer, NetworkPort, TrafficEdge, ZeroTrustNetwork } from './network';
import { hardenPodTemplate, restrictedContainerSecurity, restrictedPodSecurity } from './security';
import {
  assertValid, checkDnsLabel, checkDnsSubdomain, checkImageTag, checkInteger, checkPort, checkQuantity,
  parseQuantity, PropsError,
} from './validation';

/** CPU and memory as Kubernetes quantities, e.g. `{ cpu: '250m', memory: '256Mi' }`. */
export interface ResourceQuantities {
  readonly cpu: string;
  readonly memory: string;
}

/** Requests and limits of a container; every request must be <= its limit. */
export interface ContainerResources {
  readonly requests: ResourceQuantities;
  readonly limits: ResourceQuantities;
}

/** Timings of one HTTP probe, in seconds (Kubernetes field names). */
export interface ProbeTimings {
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
}

/** Kubernetes' own probe defaults. */
const K8S_PROBE_DEFAULTS: ProbeTimings = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 };

/** Properties of a {@link Microservice}. */
export interface MicroserviceProps {
  /** Exact name of the Deployment, Service, container and `app` label (DNS-1123 label). */
  readonly name: string;
  /** Image repository without tag, e.g. `registry.gitlab.com/soundcore/kcp/frontend`. */
  readonly image: string;
  /** Image tag; `latest` and empty tags are rejected. */
  readonly imageTag: string;
  /** Port the container serves HTTP, health and metrics on. */
  readonly containerPort: number;
  /** Port of the Service. @default - same as `containerPort` */
  readonly servicePort?: number;
  /** Requests and limits of the container (both are required: no unbounded pods). */
  readonly resources: ContainerResources;
  /** Desired replicas. @default 2 */
  readonly replicas?: number;
  /** HTTP path of the liveness and readiness probes. @default '/health' */
  readonly healthPath?: string;
  /** Liveness probe timings. @default - Kubernetes defaults (0 s delay, 10 s period, 1 s timeout, 3 failures) */
  readonly liveness?: ProbeTimings;
  /** Readiness probe timings. @default - Kubernetes defaults (0 s delay, 10 s period, 1 s timeout, 3 failures) */
  readonly readiness?: ProbeTimings;
  /** Environment variables of the container. @default - none */
  readonly env?: { readonly [name: string]: kplus.EnvValue };
  /** `app.kubernetes.io/component` label. @default 'backend' */
  readonly component?: string;
  /** `app.kubernetes.io/part-of` label. @default - not set */
  readonly partOf?: string;
  /** Extra labels on every object and pod (never in selectors), e.g. `environment`. @default - none */
  readonly labels?: LabelSet;
  /** Paths the process writes to; each gets its own emptyDir (the root filesystem is read-only). @default ['/tmp'] */
  readonly writablePaths?: readonly string[];
  /** Size limit of each writable emptyDir. @default Size.mebibytes(256) */
  readonly writableSizeLimit?: Size;
  /** Numeric non-root UID/GID the pod runs as. @default 10001 */
  readonly runAsUser?: number;
  /** Extra surge pods during a rolling update (maxUnavailable is always 0). @default '25%' */
  readonly maxSurge?: kplus.PercentOrAbsolute;
  /**
   * The namespace's traffic graph. The workload joins it (selected by its `app` label, serving its
   * container port), gets a NetworkPolicy from its edges, and can declare edges with `connectTo()`.
   * @default - not in a network: no NetworkPolicy, and connectTo() throws
   */
  readonly network?: ZeroTrustNetwork;
}

/** One Deployment of a {@link Microservice}: the single rolling one, or one colour of a pair. */
export interface WorkloadVariant {
  /** Exact Deployment name. */
  readonly name: string;
  /** Image tag this variant runs. */
  readonly imageTag: string;
  /** Replicas, or `undefined` when an autoscaler owns the scale. */
  readonly replicas: number | undefined;
  /** Labels added to the selector and pods of this variant only (e.g. `version: blue`). */
  readonly variantLabels: LabelSet;
}

/**
 * An HTTP workload: a Deployment running one hardened container (restricted Pod Security, probes,
 * requests and limits, writable emptyDirs) and a ClusterIP Service in front of it, all with the exact
 * human `name`. The Deployment selects pods by `app: <name>` only, so release metadata can never leak
 * into its immutable selector.
 */
export class Microservice extends Construct implements INetworkEndpoint {
  /** Exact name of the workload. */
  public readonly name: string;
  /** Image repository without tag. */
  public readonly image: string;
  /** Port the container listens on. */
  public readonly containerPort: number;
  /** Port of the Service. */
  public readonly servicePort: number;
  /** Desired replicas. */
  public readonly replicas: number;
  /** HTTP path of the probes. */
  public readonly healthPath: string;
  /** Labels every pod of this workload carries and every Service/PDB selects by. */
  public readonly selector: LabelSet;
  /** The Service in front of the workload. */
  public readonly service: kplus.Service;
  /** The Deployments of the workload (one for a rolling workload). */
  public readonly deployments: kplus.Deployment[] = [];
  /** The traffic graph it belongs to, if any. */
  public readonly network: ZeroTrustNetwork | undefined;
  /** Its pods as a traffic peer: `app: <name>`, which every variant (colour) of the workload carries. */
  public readonly networkPeer: NetworkPeer;
  /** Ports its pods accept connections on: the container port (HTTP, health and metrics). */
  public readonly servingPorts: readonly NetworkPort[];

  private readonly props: MicroserviceProps;

  constructor(scope: Construct, id: string, props: MicroserviceProps) {
    super(scope, id);
    const where = `Microservice ${props.name ?? id}`;
    assertValid(where, 'name', props.name, checkDnsLabel(props.name));
    assertValid(where, 'image', props.image, checkDnsSubdomain(props.image?.split('/')[0]));
    assertValid(where, 'imageTag', props.imageTag, checkImageTag(props.imageTag));
    assertValid(where, 'containerPort', props.containerPort, checkPort(props.containerPort));
    assertValid(where, 'servicePort', props.servicePort, props.servicePort === undefined ? undefined : checkPort(props.servicePort));
    assertValid(where, 'replicas', props.replicas, props.replicas === undefined ? undefined : checkInteger(props.replicas, 1));
    validateResources(where, props.resources);

    this.props = props;
    this.name = props.name;
    this.image = props.image;
    this.containerPort = props.containerPort;
    this.servicePort = props.servicePort ?? props.containerPort;
    this.replicas = props.replicas ?? 2;
    this.healthPath = props.healthPath ?? '/health';
    this.selector = selectorLabels(props.name);
    this.network = props.network;
    this.networkPeer = NetworkPeer.pods(this.selector);
    this.servingPorts = [NetworkPort.tcp(this.containerPort)];

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name: this.name, labels: this.objectLabels() },
      ports: [{ name: 'http', port: this.servicePort, targetPort: this.containerPort }],
    });
    this.selectPods(this.service, {});

    this.addVariant(this, 'Deployment', {
      name: this.name, imageTag: props.imageTag, replicas: this.replicas, variantLabels: {},
    });
    props.network?.addEndpoint(this);
  }

  /**
   * Allows this workload's pods to open connections to `target` on its serving ports (or
   * `options.ports`): egress here, ingress there, as far as each side is in the network's namespace.
   * @throws when the workload was not given a `network`.
   */
  public connectTo(target: INetworkEndpoint, options: ConnectOptions = {}): TrafficEdge {
    if (this.network === undefined) {
      throw new PropsError(`Microservice ${this.name}`, 'network', undefined, `must be set to declare traffic (connectTo ${target.name})`);
    }
    return this.network.allow(this, target, options);
  }

  /** Labels of the objects of this workload (Service, Deployment metadata), without version. */
  public objectLabels(extra: LabelSet = {}): LabelSet {
    return {
      ...this.selector,
      ...recommendedLabels({
        name: this.name, component: this.props.component ?? 'backend', partOf: this.props.partOf,
      }),
      ...this.props.labels,
      ...extra,
    };
  }

  /** Makes `service` select the pods of this workload, narrowed by `variantLabels`. */
  protected selectPods(service: kplus.Service, variantLabels: LabelSet): void {
    for (const [key, value] of Object.entries({ ...this.selector, ...variantLabels })) {
      service.selectLabel(key, value);
    }
  }

  /**
   * Adds one Deployment running the hardened pod template with `variant`'s name, tag, replicas and
   * labels. Used once for a rolling workload, once per colour for a blue/green pair.
   */
  protected addVariant(scope: Construct, id: string, variant: WorkloadVariant): kplus.Deployment {
    const p = this.props;
    const podLabels = {
      ...this.objectLabels(variant.variantLabels),
      'app.kubernetes.io/version': variant.imageTag,
    };
    const deployment = new kplus.Deployment(scope, id, {
      metadata: { name: variant.name, labels: podLabels },
      podMetadata: { labels: podLabels },
      select: false,
      replicas: variant.replicas,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: p.maxSurge ?? kplus.PercentOrAbsolute.percent(25),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      securityContext: restrictedPodSecurity({ user: p.runAsUser, group: p.runAsUser }),
      automountServiceAccountToken: false,
    });
    deployment.select(kplus.LabelSelector.of({ labels: { ...this.selector, ...variant.variantLabels } }));

    const probe = (t: ProbeTimings | undefined) => {
      const timings = t ?? K8S_PROBE_DEFAULTS;
      return kplus.Probe.fromHttpGet(this.healthPath, {
        port: this.containerPort,
        initialDelaySeconds: Duration.seconds(timings.initialDelaySeconds),
        periodSeconds: Duration.seconds(timings.periodSeconds),
        timeoutSeconds: Duration.seconds(timings.timeoutSeconds),
        failureThreshold: timings.failureThreshold,
      });
    };
    const container = deployment.addContainer({
      name: this.name,
      image: `${this.image}:${variant.imageTag}`,
      ports: [{ number: this.containerPort, name: 'http' }],
      // Tags are pinned, so a node's cached image is the right one.
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      resources: {
        cpu: {
          request: kplus.Cpu.millis(millicores(p.resources.requests.cpu)),
          limit: kplus.Cpu.millis(millicores(p.resources.limits.cpu)),
        },
        memory: {
          request: memorySize(p.resources.requests.memory),
          limit: memorySize(p.resources.limits.memory),
        },
      },
      liveness: probe(p.liveness),
      readiness: probe(p.readiness),
      securityContext: restrictedContainerSecurity({ user: p.runAsUser, group: p.runAsUser }),
    });
    for (const [name, value] of Object.entries(p.env ?? {})) {
      container.env.addVariable(name, value);
    }
    for (const path of p.writablePaths ?? ['/tmp']) {
      const volumeName = volumeNameFor(path);
      const volume = kplus.Volume.fromEmptyDir(deployment, volumeName, volumeName, {
        sizeLimit: p.writableSizeLimit ?? Size.mebibytes(256),
      });
      container.mount(path, volume);
    }
    hardenPodTemplate(deployment);
    this.deployments.push(deployment);
    return deployment;
  }
}

function validateResources(where: string, r: ContainerResources | undefined): void {
  if (!r?.requests || !r?.limits) {
    throw new PropsError(where, 'resources', r, 'must set requests and limits for cpu and memory');
  }
  for (const kind of ['cpu', 'memory'] as const) {
    assertValid(where, `resources.requests.${kind}`, r.requests[kind], checkQuantity(r.requests[kind], kind));
    assertValid(where, `resources.limits.${kind}`, r.limits[kind], checkQuantity(r.limits[kind], kind));
    if ((parseQuantity(r.requests[kind]) ?? 0) > (parseQuantity(r.limits[kind]) ?? 0)) {
      throw new PropsError(where, `resources.requests.${kind}`, r.requests[kind],
        `must not exceed resources.limits.${kind} (${r.limits[kind]})`);
    }
  }
}

function millicores(q: string): number {
  return Math.round((parseQuantity(q) ?? 0) * 1000);
}

function memorySize(q: string): Size {
  const bytes = parseQuantity(q) ?? 0;
  const mib = bytes / 2 ** 20;
  return Number.isInteger(mib) ? Size.mebibytes(mib) : Size.kibibytes(Math.ceil(bytes / 1024));
}

/** `/app/.next/cache` -> `app-next-cache`: a DNS label naming the emptyDir of a writable path. */
function volumeNameFor(path: string): string {
  return path.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'root';
}

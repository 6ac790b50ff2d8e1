import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { RolloutRouteBackend } from './argo-rollouts';
import { ArgoRollout } from './rollout';
import { Conventions } from './conventions';
import { LabelSet, recommendedLabels } from './labels';
import { Colour, IdleSize, otherColour, ReleaseStrategy } from './release-strategy';
import { ConnectOptions, INetworkEndpoint, NetworkPeer, NetworkPort, TrafficEdge, ZeroTrustNetwork } from './network';
import { hardenPodTemplate, restrictedContainerSecurity, restrictedPodSecurity } from './security';
import { checkQuantity, checkQuantityNotAbove, ContainerResources, renderResourceQuantity, ResourceQuantities } from './quantity';
import {
  assertValid, checkDnsLabel, checkDnsSubdomain, checkInteger, checkPort, PropsError,
} from './validation';

/** (Defined with the quantities they hold; exported here too, where they have always been.) */
export type { ContainerResources, ResourceQuantities } from './quantity';

/** The pod label carrying the image tag a pod runs (never in a Deployment selector). */
const VERSION_LABEL = 'app.kubernetes.io/version';

/**
 * Options of the HorizontalPodAutoscalers of a {@link Microservice}. When autoscaling is on, no
 * Deployment of the workload pins `spec.replicas`: removing that field later (e.g. when traffic moves
 * to a colour) would make `kubectl apply` reset the Deployment to 1 replica. Instead every Deployment
 * has its own HPA: a rolling Deployment or the active colour scales between `replicas` and
 * `maxReplicas`; the idle colour's HPA holds it at exactly its standby (or, during a release, full)
 * size, so only the active colour is autoscaled.
 */
export interface AutoscalingOptions {
  /** Upper bound of replicas; the lower bound is the workload's `replicas` (its full size). */
  readonly maxReplicas: number;
  /** Average CPU utilisation (percent of the request) the HPA aims for. @default 70 */
  readonly targetCpuUtilization?: number;
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
  /** Image repository without tag, e.g. `ghcr.io/acme/orders`. */
  readonly image: string;
  /** How the workload is released, and the image tag(s) it runs (`latest` is rejected). */
  readonly release: ReleaseStrategy;
  /** Port the container serves HTTP, health and metrics on. */
  readonly containerPort: number;
  /** Port of the Service. @default - same as `containerPort` */
  readonly servicePort?: number;
  /** Requests and limits of the container (both are required: no unbounded pods). */
  readonly resources: ContainerResources;
  /**
   * Full size: replicas of a rolling Deployment or of the active colour (and of the idle colour while
   * a release is in progress). With `autoscaling` it is the HPA's minimum instead. @default 2
   */
  readonly replicas?: number;
  /** A HorizontalPodAutoscaler on the Deployment (the active colour of a pair). @default - no HPA */
  readonly autoscaling?: AutoscalingOptions;
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
  /**
   * Size limit of each writable emptyDir: a `Size` or a memory quantity string (`'512Mi'`, `'1G'`),
   * greater than 0 and in whole bytes, rendered exactly. @default Size.mebibytes(256)
   */
  readonly writableSizeLimit?: Size | string;
  /** Numeric non-root UID/GID the pod runs as. @default - `Conventions.of(scope).runAsUser` (65532 unless the platform sets its own) */
  readonly runAsUser?: number;
  /** Extra surge pods during a rolling update (maxUnavailable is always 0). @default '25%' */
  readonly maxSurge?: kplus.PercentOrAbsolute;
  /**
   * How long a terminating pod (scaled down, or replaced by a rollout) keeps serving before its
   * process gets SIGTERM: a `preStop` hook `sleep <seconds>`, covering the time the ingress controller
   * and kube-proxy take to drop the pod from their endpoints. ingress-nginx applies endpoint changes
   * without a reload at most every ~3.3 s (`--sync-rate-limit` 0.3/s) and its workers pick them up
   * within 1 s; the default leaves margin for the watch and a busy controller. The image must contain
   * `sleep` (Kubernetes 1.28 has no built-in sleep action). Whole seconds from 0 (no hook) to 300.
   * @default Duration.seconds(10)
   */
  readonly preStopDelay?: Duration;
  /**
   * Time the process has after SIGTERM to finish its in-flight requests. The pod's
   * `terminationGracePeriodSeconds` is `preStopDelay + shutdownTimeout` (the grace period includes the
   * hook). Whole seconds from 1 to 3600.
   * @default Duration.seconds(30)
   */
  readonly shutdownTimeout?: Duration;
  /**
   * The namespace's traffic graph. The workload joins it (selected by its `app` label, serving its
   * container port), gets a NetworkPolicy from its edges, and can declare edges with `connectTo()`.
   * @default - not in a network: no NetworkPolicy, and connectTo() throws
   */
  readonly network?: ZeroTrustNetwork;
}

/** Options of {@link Microservice.exposeMetrics}. */
export interface MetricsOptions {
  /**
   * Number of the `metrics` port on each Service; it targets the container port (metrics are served
   * on the HTTP port) and must differ from the Service's other port numbers.
   * @default 9090
   */
  readonly port?: number;
  /** Labels added to every Service that exposes metrics, e.g. what a ServiceMonitor selects by. @default - none */
  readonly serviceLabels?: LabelSet;
}

/** One Deployment of a {@link Microservice}: the single rolling one, or one colour of a pair. */
export interface WorkloadVariant {
  /** Exact Deployment name. */
  readonly name: string;
  /** Image tag this variant runs. */
  readonly imageTag: string;
  /** Replicas: the fixed count, or the autoscaler's minimum. */
  readonly replicas: number;
  /** Autoscaler maximum; when set, an HPA owns the scale and `replicas` is its minimum. @default - no HPA */
  readonly maxReplicas?: number;
  /**
   * The most pods this Deployment can run at any point of its release cycle (a colour on standby
   * today may be active tomorrow); above 1 it gets spread constraints and a PodDisruptionBudget,
   * which therefore never appear or vanish with a release phase.
   */
  readonly peakReplicas: number;
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
  /** The conventions of its scope (label keys, UID), read once when built. */
  public readonly conventions: Conventions;
  /** How the workload is released. */
  public readonly release: ReleaseStrategy;
  /** The Service in front of the workload (the active colour of a pair). */
  public readonly service: kplus.Service;
  /** The Service selecting the idle colour of a pair (or Argo's preview revision), for smoke tests before promotion. */
  public readonly previewService?: kplus.Service;
  /** The canary Service `<name>-canary` of an Argo canary (Argo points it at the canary revision). */
  public readonly canaryService?: kplus.Service;
  /** The Argo Rollout releasing the workload, when its strategy is an Argo engine. */
  public readonly rollout?: ArgoRollout;
  /**
   * The Services a route to this workload lists as backends when it splits its own traffic: for an
   * Argo canary the stable Service `<name>` (weight 100) and the canary Service `<name>-canary`
   * (weight 0), whose weights Argo Rollouts moves (`IRouteTarget.routeBackends`).
   * @default - none: a route sends to its Service
   */
  public readonly routeBackends?: readonly RolloutRouteBackend[];
  /** The Deployments of the workload (one for a rolling workload, blue then green for a pair). */
  public readonly deployments: kplus.Deployment[] = [];
  /** The Deployment receiving traffic. */
  public readonly activeDeployment: kplus.Deployment;
  /** The HPA of each Deployment when autoscaling is on (see {@link AutoscalingOptions}). */
  public readonly autoscalers: kplus.HorizontalPodAutoscaler[] = [];
  /** One PodDisruptionBudget per Deployment that can run more than one replica. */
  public readonly disruptionBudgets: kplus.k8s.KubePodDisruptionBudget[] = [];
  /** The traffic graph it belongs to, if any. */
  public readonly network: ZeroTrustNetwork | undefined;
  /** Its pods as a traffic peer: `app: <name>`, which every variant (colour) of the workload carries. */
  public readonly networkPeer: NetworkPeer;
  /** Ports its pods accept connections on: the container port (HTTP, health and metrics). */
  public readonly servingPorts: readonly NetworkPort[];

  /** Seconds a terminating pod keeps serving before SIGTERM (its `preStop` sleep; 0: no hook). */
  public readonly preStopSeconds: number;
  /** Seconds the process has after SIGTERM; the grace period is `preStopSeconds + shutdownSeconds`. */
  public readonly shutdownSeconds: number;

  private readonly props: MicroserviceProps;
  /** UID/GID its pods run as. */
  private get runAsUser(): number {
    return this.props.runAsUser ?? this.conventions.runAsUser;
  }
  private metrics?: { readonly port: number; readonly serviceLabels: LabelSet };

  constructor(scope: Construct, id: string, props: MicroserviceProps) {
    super(scope, id);
    const where = `Microservice ${props.name ?? id}`;
    assertValid(where, 'name', props.name, checkDnsLabel(props.name));
    assertValid(where, 'image', props.image, checkDnsSubdomain(props.image?.split('/')[0]));
    assertValid(where, 'containerPort', props.containerPort, checkPort(props.containerPort));
    assertValid(where, 'servicePort', props.servicePort, props.servicePort === undefined ? undefined : checkPort(props.servicePort));
    assertValid(where, 'replicas', props.replicas, props.replicas === undefined ? undefined : checkInteger(props.replicas, 1));
    if (!(props.release instanceof ReleaseStrategy)) {
      throw new PropsError(where, 'release', props.release, 'must be ReleaseStrategy.rolling(...), .blueGreen(...), .argoBlueGreen(...) or .argoCanary(...)');
    }
    validateResources(where, props.resources);
    validateWritablePaths(where, props.writablePaths ?? ['/tmp']);
    const sizeLimit = writableSizeLimitText(props.writableSizeLimit);
    assertValid(where, 'writableSizeLimit', sizeLimit, checkQuantity(sizeLimit, 'memory'));
    this.preStopSeconds = wholeSeconds(where, 'preStopDelay', props.preStopDelay ?? Duration.seconds(10), 0, 300);
    this.shutdownSeconds = wholeSeconds(where, 'shutdownTimeout', props.shutdownTimeout ?? Duration.seconds(30), 1, 3600);

    this.props = props;
    this.name = props.name;
    this.image = props.image;
    this.release = props.release;
    this.containerPort = props.containerPort;
    this.servicePort = props.servicePort ?? props.containerPort;
    this.replicas = props.replicas ?? 2;
    this.healthPath = props.healthPath ?? '/health';
    this.conventions = Conventions.of(this);
    this.selector = this.conventions.selectorLabels(props.name);
    if (props.autoscaling !== undefined) {
      const a = props.autoscaling;
      assertValid(where, 'autoscaling.maxReplicas', a.maxReplicas, checkInteger(a.maxReplicas, this.replicas));
      assertValid(where, 'autoscaling.targetCpuUtilization', a.targetCpuUtilization,
        a.targetCpuUtilization === undefined ? undefined : checkInteger(a.targetCpuUtilization, 1, 100));
    }
    const maxReplicas = props.autoscaling?.maxReplicas;
    if (this.release.blueGreen && maxReplicas !== undefined) {
      // (blueGreen() already checked it is an integer >= 0)
      assertValid(where, 'standbyReplicas', this.release.blueGreen.standbyReplicas, this.release.blueGreen.standbyReplicas >= 1
        ? undefined : 'must be an integer >= 1 when autoscaling (an HPA cannot hold 0 replicas)');
    }
    this.network = props.network;
    this.networkPeer = NetworkPeer.pods(this.selector);
    this.servingPorts = [NetworkPort.tcp(this.containerPort)];

    this.service = this.addService('Service', this.name);
    const bg = this.release.blueGreen;
    const argo = this.release.argo;
    if (argo !== undefined) {
      // The Rollout owns the pods; the Deployment is its template (workloadRef), held at 0 replicas.
      // Its PDB and spread select `app` only, so they cover both revisions (see argo-rollouts.ts).
      this.activeDeployment = this.addVariant(this, 'Deployment', {
        name: this.name, imageTag: argo.imageTag, replicas: 0, peakReplicas: maxReplicas ?? this.replicas, variantLabels: {},
      });
      this.selectPods(this.service, {});
      const second = argo.blueGreen !== undefined
        ? (this.previewService = this.addService('PreviewService', `${this.name}-preview`))
        : (this.canaryService = this.addService('CanaryService', `${this.name}-canary`));
      // Argo adds the revision's rollouts-pod-template-hash to both selectors at run time.
      this.selectPods(second, {});
      this.rollout = new ArgoRollout(this, 'Rollout', {
        workload: this, template: this.activeDeployment, secondService: second, replicas: this.replicas,
        autoscaling: props.autoscaling === undefined ? undefined
          : { maxReplicas: props.autoscaling.maxReplicas, targetCpuUtilization: props.autoscaling.targetCpuUtilization ?? 70 },
        labels: this.objectLabels(),
      });
      if (argo.canary !== undefined) this.routeBackends = this.rollout.routeBackends;
    } else if (bg === undefined) {
      this.activeDeployment = this.addVariant(this, 'Deployment', {
        name: this.name, imageTag: this.release.imageTag!, replicas: this.replicas, maxReplicas,
        peakReplicas: maxReplicas ?? this.replicas, variantLabels: {},
      });
      this.selectPods(this.service, {});
    } else {
      const idle = otherColour(bg.active);
      this.previewService = this.addService('PreviewService', `${this.name}-preview`);
      const byColour = new Map<Colour, kplus.Deployment>();
      // While a release is in progress both colours run at its size: at least the scale the active
      // colour served with when it started, so traffic never moves to fewer pods than it leaves.
      const full = bg.idle === IdleSize.FULL ? Math.max(this.replicas, bg.size ?? 0) : this.replicas;
      if (maxReplicas !== undefined && full > maxReplicas) {
        assertValid(where, 'release size', full, `must be <= autoscaling.maxReplicas (${maxReplicas}): the release was staged at a scale the autoscaler can no longer reach`);
      }
      for (const colour of [Colour.BLUE, Colour.GREEN]) {
        const isActive = colour === bg.active;
        const replicas = isActive || bg.idle === IdleSize.FULL ? full : bg.standbyReplicas;
        byColour.set(colour, this.addVariant(new Construct(this, colour === Colour.BLUE ? 'Blue' : 'Green'), 'Deployment', {
          name: `${this.name}-${colour}`,
          imageTag: bg.tags[colour],
          replicas,
          // the idle colour's HPA holds it at exactly its size; only the active colour autoscales
          maxReplicas: maxReplicas === undefined ? undefined : (isActive ? maxReplicas : replicas),
          peakReplicas: Math.max(maxReplicas ?? full, bg.standbyReplicas),
          variantLabels: { [this.conventions.colourLabel]: colour },
        }));
      }
      this.activeDeployment = byColour.get(bg.active)!;
      this.selectPods(this.service, { [this.conventions.colourLabel]: bg.active });
      this.selectPods(this.previewService, { [this.conventions.colourLabel]: idle });
    }
    // one endpoint per workload: its peer selects `app` only, so it covers both colours
    props.network?.addEndpoint(this);
  }

  /**
   * Every Service of the workload: the main one, the preview one of a pair, and any Service a
   * caller added inside this construct.
   */
  public get services(): kplus.Service[] {
    return this.node.findAll().filter((c): c is kplus.Service => c instanceof kplus.Service);
  }

  /** Name of the Service port Prometheus scrapes. */
  public static readonly METRICS_PORT_NAME = 'metrics';

  /** Whether {@link exposeMetrics} was called: every Service has a `metrics` port. */
  public get exposesMetrics(): boolean {
    return this.metrics !== undefined;
  }

  /**
   * Declares that the container serves Prometheus metrics on its HTTP port: every Service of the
   * workload gets a port named `metrics` (number `options.port`, target the container port) and
   * `options.serviceLabels`. Calling it again (without options: the port and labels of the earlier
   * calls) covers Services added since; a Service still lacking the port at synthesis fails validation.
   */
  public exposeMetrics(options: MetricsOptions = {}): void {
    const port = options.port ?? this.metrics?.port ?? 9090;
    const where = `Microservice ${this.name}`;
    assertValid(where, 'metrics port', port, checkPort(port));
    if (this.metrics !== undefined && this.metrics.port !== port) {
      throw new PropsError(where, 'metrics port', port, `must stay ${this.metrics.port}, the port metrics are already exposed on`);
    }
    if (this.metrics === undefined) {
      this.node.addValidation({ validate: () => this.services
        .filter((s) => !s.ports.some((p) => p.name === Microservice.METRICS_PORT_NAME))
        .map((s) => `Service ${s.name} has no "${Microservice.METRICS_PORT_NAME}" port: call exposeMetrics() after adding it`) });
    }
    this.metrics = { port, serviceLabels: { ...this.metrics?.serviceLabels, ...options.serviceLabels } };
    for (const service of this.services) {
      for (const [key, value] of Object.entries(this.metrics.serviceLabels)) service.metadata.addLabel(key, value);
      if (service.ports.some((p) => p.name === Microservice.METRICS_PORT_NAME)) continue;
      const clash = service.ports.find((p) => p.port === port);
      if (clash !== undefined) {
        throw new PropsError(where, 'metrics port', port, `must differ from the other ports of Service ${service.name} (${clash.name} is ${port})`);
      }
      service.bind(port, { name: Microservice.METRICS_PORT_NAME, targetPort: this.containerPort });
    }
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

  private addService(id: string, name: string): kplus.Service {
    return new kplus.Service(this, id, {
      metadata: { name, labels: this.objectLabels() },
      ports: [{ name: 'http', port: this.servicePort, targetPort: this.containerPort }],
    });
  }

  /**
   * Narrows the preview Service of a blue/green pair to the idle colour's pods that run its tag (the
   * `app.kubernetes.io/version` label every pod carries), for as long as a version is staged there
   * (the smoke test calls this; see `SmokeTest`). The stage is applied together with the new
   * image, and with `maxUnavailable: 0` the idle colour's old pod stays ready until a new one is: a
   * colour-only selector would let the smoke test pass against it. Only this Service selector
   * changes, never the Deployment's immutable one, and it goes back to the colour alone when nothing
   * is staged.
   * @throws when the workload is not a blue/green pair.
   */
  public selectStagedVersionOnPreview(): void {
    const bg = this.release.blueGreen;
    if (bg === undefined || this.previewService === undefined) {
      throw new PropsError(`Microservice ${this.name}`, 'release', 'rolling', 'must be blue/green to narrow a preview Service to the staged version');
    }
    this.previewService.selectLabel(VERSION_LABEL, bg.tags[otherColour(bg.active)]);
  }

  /** Makes `service` select the pods of this workload, narrowed by `variantLabels`. */
  protected selectPods(service: kplus.Service, variantLabels: LabelSet): void {
    for (const [key, value] of Object.entries({ ...this.selector, ...variantLabels })) {
      service.selectLabel(key, value);
    }
  }

  /**
   * Adds one Deployment running the hardened pod template with `variant`'s name, tag, replicas and
   * labels. Used once for a rolling workload, once per colour for a blue/green pair. When the
   * Deployment can run more than one replica (`maxReplicas`), its pods are spread across nodes and
   * zones and a PodDisruptionBudget allowing one disruption at a time covers them.
   */
  protected addVariant(scope: Construct, id: string, variant: WorkloadVariant): kplus.Deployment {
    const p = this.props;
    const podLabels = {
      ...this.objectLabels(variant.variantLabels),
      [VERSION_LABEL]: variant.imageTag,
    };
    const deployment = new kplus.Deployment(scope, id, {
      metadata: { name: variant.name, labels: podLabels },
      podMetadata: { labels: podLabels },
      select: false,
      // an HPA, when present, owns the scale: the manifest must not pin it too
      replicas: variant.maxReplicas === undefined ? variant.replicas : undefined,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: p.maxSurge ?? kplus.PercentOrAbsolute.percent(25),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      securityContext: restrictedPodSecurity({ user: this.runAsUser, group: this.runAsUser }),
      automountServiceAccountToken: false,
      terminationGracePeriod: Duration.seconds(this.preStopSeconds + this.shutdownSeconds),
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
      // written exactly by hardenPodTemplate: cdk8s-plus only writes whole mebibytes
      resources: {},
      liveness: probe(p.liveness),
      readiness: probe(p.readiness),
      securityContext: restrictedContainerSecurity({ user: this.runAsUser, group: this.runAsUser }),
      // keeps serving until the endpoints no longer list the pod, then SIGTERM
      lifecycle: this.preStopSeconds > 0 ? { preStop: kplus.Handler.fromCommand(['sleep', String(this.preStopSeconds)]) } : undefined,
    });
    for (const [name, value] of Object.entries(p.env ?? {})) {
      container.env.addVariable(name, value);
    }
    const sizeLimit = renderResourceQuantity(writableSizeLimitText(p.writableSizeLimit), 'memory');
    const sizeLimits: { [volumeName: string]: string } = {};
    for (const path of p.writablePaths ?? ['/tmp']) {
      const volumeName = volumeNameFor(path);
      // its sizeLimit is written exactly by hardenPodTemplate
      const volume = kplus.Volume.fromEmptyDir(deployment, volumeName, volumeName);
      container.mount(path, volume);
      sizeLimits[volumeName] = sizeLimit;
    }
    if (variant.maxReplicas !== undefined) {
      this.autoscalers.push(new kplus.HorizontalPodAutoscaler(scope, 'Autoscaler', {
        metadata: { name: variant.name, labels: this.objectLabels(variant.variantLabels) },
        target: deployment,
        minReplicas: variant.replicas,
        maxReplicas: variant.maxReplicas,
        metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(p.autoscaling?.targetCpuUtilization ?? 70))],
      }));
    }
    const podSelector = { ...this.selector, ...variant.variantLabels };
    const render = (q: ResourceQuantities): ResourceQuantities => ({
      cpu: renderResourceQuantity(q.cpu, 'cpu'), memory: renderResourceQuantity(q.memory, 'memory'),
    });
    hardenPodTemplate(deployment, {
      spreadSelector: variant.peakReplicas > 1 ? podSelector : undefined,
      resources: { requests: render(p.resources.requests), limits: render(p.resources.limits) },
      emptyDirSizeLimits: sizeLimits,
    });
    if (variant.peakReplicas > 1) {
      this.disruptionBudgets.push(new kplus.k8s.KubePodDisruptionBudget(scope, 'DisruptionBudget', {
        metadata: { name: variant.name, labels: this.objectLabels(variant.variantLabels) },
        spec: {
          // One pod at a time, never zero: a drain always makes progress, and pods that are not
          // ready (crash-looping) may always be evicted.
          maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
          selector: { matchLabels: podSelector },
        },
      }));
    }
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
    assertValid(where, `resources.requests.${kind}`, r.requests[kind],
      checkQuantityNotAbove(r.requests[kind], r.limits[kind], `resources.limits.${kind}`));
  }
}

/** `d` in whole seconds from `min` to `max`. @throws PropsError naming `field` otherwise */
function wholeSeconds(where: string, field: string, d: Duration, min: number, max: number): number {
  const ms = d instanceof Duration ? d.toMilliseconds() : NaN;
  const seconds = ms / 1000;
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new PropsError(where, field, Number.isFinite(ms) ? (Number.isInteger(seconds) ? `${seconds}s` : `${ms}ms`) : d,
      `must be whole seconds from ${min} to ${max}`);
  }
  return seconds;
}

/** The emptyDir size limit as a quantity string: a `Size` as its exact quantity (`256Mi`), or the string given. */
function writableSizeLimitText(limit: Size | string | undefined): string {
  return limit instanceof Size ? limit.asString() : limit ?? Size.mebibytes(256).asString();
}

/** `/app/.next/cache` -> `app-next-cache`: a DNS label naming the emptyDir of a writable path. */
/** Each writable path is absolute and gets an emptyDir of its own (volume names must not collide). */
function validateWritablePaths(where: string, paths: readonly string[]): void {
  const volumes = new Map<string, string>();
  for (const p of paths) {
    assertValid(where, 'writablePaths', p, typeof p === 'string' && /^\/\S*$/.test(p) ? undefined : 'must be absolute paths without spaces');
    const volume = volumeNameFor(p);
    const other = volumes.get(volume);
    if (other !== undefined) {
      throw new PropsError(where, 'writablePaths', p, `must each get a volume of their own ("${other}" already gets the emptyDir "${volume}")`);
    }
    volumes.set(volume, p);
  }
}

function volumeNameFor(path: string): string {
  return path.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'root';
}

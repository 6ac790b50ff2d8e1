/**
 * The Argo Rollouts engine (`argoproj.io/v1alpha1`, controller >= 1.8), its data: a Microservice
 * released by a `Rollout` (blue/green or canary) instead of by the git-driven release state, with
 * `AnalysisTemplate`s whose Prometheus queries and thresholds come from the same SLO definitions
 * as the burn-rate alerts (`slo-analysis.ts`), and a smoke-test Job metric built by {@link SmokeTest}.
 *
 * The L1 classes are typed by `@kubernetes-models/argo-rollouts` (types only: nothing from that
 * package is loaded at synthesis; the gate validates the output with its schemas).
 *
 * **workloadRef, not its own template.** The Rollout points at the component's Deployment
 * (`spec.workloadRef`), which keeps the pod template and is held at 0 replicas; the Rollout owns the
 * pods (its ReplicaSets copy that template and add `rollouts-pod-template-hash`). So the pod template
 * is built once, by the same hardened code path as the rolling and git-driven engines (restricted
 * Pod Security, probes, resources, preStop, spread), and every check that reads pod templates
 * (the gate's Pod Security, reference, selector and quota checks; the NetworkPolicy and PDB
 * selectors) reads it unchanged. Switching an environment between engines changes which object owns
 * the pods, never the template. The cost: one more object, and a Deployment that must stay at 0
 * (the manifest pins `replicas: 0`; `workloadRef.scaleDown` is not emitted, since the gate's schema,
 * Argo Rollouts v1.5.0, has no such field).
 */
import type { IAnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import type { IRollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { ApiObject, ApiObjectMetadata, Duration, GroupVersionKind } from 'cdk8s';
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import type { RouteBackend } from './routing';
import { assertValid, checkDnsSubdomain, checkInteger, PropsError } from './validation';

/** `spec` of a Rollout, as the CRD defines it. */
export type RolloutSpec = IRollout['spec'];
/** `spec` of an AnalysisTemplate, as the CRD defines it. */
export type AnalysisTemplateSpec = IAnalysisTemplate['spec'];
type RolloutStrategySpec = NonNullable<RolloutSpec['strategy']>;
type CanarySpec = NonNullable<RolloutStrategySpec['canary']>;
type TrafficRoutingSpec = NonNullable<CanarySpec['trafficRouting']>;

/** The API version of the Argo Rollouts kinds. */
export const ARGO_ROLLOUTS_API_VERSION = 'argoproj.io/v1alpha1';
/** The pod label Argo Rollouts puts on the pods of each revision (ReplicaSet) of a Rollout. */
export const ROLLOUT_REVISION_POD_LABEL = 'rollouts-pod-template-hash';
/** The same label on Prometheus series, as a ServiceMonitor's `podTargetLabels` writes it. */
export const ROLLOUT_REVISION_METRIC_LABEL = 'rollouts_pod_template_hash';
/** The name of the Argo Rollouts Gateway API traffic router plugin (argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi). */
export const GATEWAY_API_PLUGIN = 'argoproj-labs/gatewayAPI';

/** AnalysisRuns a Rollout keeps of each outcome (successful, unsuccessful): Argo's default is 5. */
export const ANALYSIS_RUN_HISTORY = 3;

/** Properties of a {@link KubeRollout}. */
export interface KubeRolloutProps {
  /** Object metadata. @default - cdk8s generates a name */
  readonly metadata?: ApiObjectMetadata;
  /** The Rollout spec. */
  readonly spec: RolloutSpec;
}

/** An `argoproj.io/v1alpha1` Rollout. */
export class KubeRollout extends ApiObject {
  /** Group, version and kind of the resource. */
  public static readonly GVK: GroupVersionKind = { apiVersion: ARGO_ROLLOUTS_API_VERSION, kind: 'Rollout' };

  constructor(scope: Construct, id: string, props: KubeRolloutProps) {
    super(scope, id, { ...KubeRollout.GVK, ...props });
  }
}

/** Properties of a {@link KubeAnalysisTemplate}. */
export interface KubeAnalysisTemplateProps {
  /** Object metadata. @default - cdk8s generates a name */
  readonly metadata?: ApiObjectMetadata;
  /** The AnalysisTemplate spec. */
  readonly spec: AnalysisTemplateSpec;
}

/** An `argoproj.io/v1alpha1` AnalysisTemplate. */
export class KubeAnalysisTemplate extends ApiObject {
  /** Group, version and kind of the resource. */
  public static readonly GVK: GroupVersionKind = { apiVersion: ARGO_ROLLOUTS_API_VERSION, kind: 'AnalysisTemplate' };

  constructor(scope: Construct, id: string, props: KubeAnalysisTemplateProps) {
    super(scope, id, { ...KubeAnalysisTemplate.GVK, ...props });
  }
}

/** What one step of a canary does. */
export enum CanaryStepKind {
  SET_WEIGHT = 'setWeight',
  PAUSE = 'pause',
  ANALYSIS = 'analysis',
}

/**
 * One step of an Argo canary: send a share of the traffic to the new revision, wait, or run the
 * analysis (smoke test and SLO metrics of the new revision; a failure aborts the rollout and sends
 * all traffic back to the stable revision).
 */
export class CanaryStep {
  /** Sends `percent` (an integer from 0 to 100) of the traffic to the new revision. */
  public static setWeight(percent: number): CanaryStep {
    assertValid('CanaryStep.setWeight', 'percent', percent, checkInteger(percent, 0, 100));
    return new CanaryStep(CanaryStepKind.SET_WEIGHT, percent, undefined);
  }

  /** Waits `duration` (whole seconds, at least 1), or until promoted by hand when omitted. */
  public static pause(duration?: Duration): CanaryStep {
    if (duration === undefined) return new CanaryStep(CanaryStepKind.PAUSE, undefined, undefined);
    const ms = duration instanceof Duration ? duration.toMilliseconds() : NaN;
    assertValid('CanaryStep.pause', 'duration', Number.isFinite(ms) ? `${ms / 1000}s` : duration,
      Number.isInteger(ms / 1000) && ms >= 1000 ? undefined : 'must be whole seconds, at least 1');
    return new CanaryStep(CanaryStepKind.PAUSE, undefined, ms / 1000);
  }

  /** Runs the analysis (smoke test, then the SLO metrics) against the new revision. */
  public static analysis(): CanaryStep {
    return new CanaryStep(CanaryStepKind.ANALYSIS, undefined, undefined);
  }

  private constructor(
    /** What the step does. */
    public readonly kind: CanaryStepKind,
    /** The traffic share of a `setWeight` step. */
    public readonly weight: number | undefined,
    /** Seconds of a timed pause (undefined: an untimed pause, or not a pause). */
    public readonly pauseSeconds: number | undefined,
  ) {}

  /** The step in plain words: `10 %`, `pause 5m`, `pause until promoted`, `analysis`. */
  public describe(): string {
    switch (this.kind) {
      case CanaryStepKind.SET_WEIGHT: return `${this.weight} %`;
      case CanaryStepKind.PAUSE: return this.pauseSeconds === undefined ? 'pause until promoted' : `pause ${argoDuration(this.pauseSeconds)}`;
      default: return 'analysis';
    }
  }
}

/**
 * The canary steps when none are given: 10 % of the traffic, 2 minutes for requests to arrive, the
 * analysis; 50 %, 5 minutes, the analysis again; then 100 %.
 */
export const DEFAULT_CANARY_STEPS: readonly CanaryStep[] = [
  CanaryStep.setWeight(10), CanaryStep.pause(Duration.minutes(2)), CanaryStep.analysis(),
  CanaryStep.setWeight(50), CanaryStep.pause(Duration.minutes(5)), CanaryStep.analysis(),
  CanaryStep.setWeight(100),
];

/** `canary steps: 10 % → pause 2m → analysis → 100 %`: the steps in plain words, joined by arrows. */
export function describeCanarySteps(steps: readonly CanaryStep[]): string {
  return steps.map((s) => s.describe()).join(' → ');
}

/**
 * Checks canary steps: at least one `setWeight`, weights never decreasing (traffic only moves
 * forward; going back is an abort), each from 0 to 100.
 * @throws PropsError naming the step and its weight
 */
export function checkCanarySteps(where: string, steps: readonly CanaryStep[]): void {
  if (!Array.isArray(steps) || steps.length === 0 || !steps.some((s) => s instanceof CanaryStep && s.kind === CanaryStepKind.SET_WEIGHT)) {
    throw new PropsError(where, 'steps', Array.isArray(steps) ? steps.map((s) => (s instanceof CanaryStep ? s.describe() : s)) : steps,
      'must contain at least one CanaryStep.setWeight(...)');
  }
  let last = 0;
  steps.forEach((s, i) => {
    if (!(s instanceof CanaryStep)) throw new PropsError(where, `steps[${i}]`, s, 'must be a CanaryStep (CanaryStep.setWeight, .pause or .analysis)');
    if (s.kind !== CanaryStepKind.SET_WEIGHT) return;
    assertValid(where, `steps[${i}].setWeight`, s.weight, s.weight! >= last ? undefined : `must not be below the weight of an earlier step (${last})`);
    last = s.weight!;
  });
}

/** `300` -> `5m`, `90` -> `90s`, `7200` -> `2h`: a duration as Argo Rollouts writes one. */
export function argoDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** How the traffic of an Argo canary is split by weight. */
export class RolloutTrafficRouting {
  /**
   * ingress-nginx canary: Argo Rollouts creates a canary copy of `stableIngress` (the Ingress routing
   * to the stable Service) with the `canary-weight` annotation.
   */
  public static nginx(stableIngress: string): RolloutTrafficRouting {
    assertValid('RolloutTrafficRouting.nginx', 'stableIngress', stableIngress, checkDnsSubdomain(stableIngress));
    return new RolloutTrafficRouting({ nginx: { stableIngress } }, `ingress-nginx canary of Ingress ${stableIngress}`);
  }

  /**
   * Gateway API: the Argo Rollouts Gateway API plugin sets the weights of the backendRefs of
   * `httpRoute` (which lists the stable and the canary Service, see {@link Microservice.routeBackends}).
   */
  public static gatewayApi(httpRoute: string, namespace?: string): RolloutTrafficRouting {
    assertValid('RolloutTrafficRouting.gatewayApi', 'httpRoute', httpRoute, checkDnsSubdomain(httpRoute));
    return new RolloutTrafficRouting(
      { plugins: { [GATEWAY_API_PLUGIN]: { httpRoute, ...(namespace === undefined ? {} : { namespace }) } } },
      `Gateway API HTTPRoute ${httpRoute} (plugin ${GATEWAY_API_PLUGIN})`,
    );
  }

  private constructor(
    /** `spec.strategy.canary.trafficRouting`. */
    public readonly spec: TrafficRoutingSpec,
    /** In plain words. */
    public readonly description: string,
  ) {}
}

/** Names of the arguments of an SLO AnalysisTemplate (`SloAnalysisTemplate`). */
export const SLO_ANALYSIS_ARGS = {
  /** The value of the workload label (`job`) of the series to read. */
  workload: 'workload',
  /** The `rollouts-pod-template-hash` of the revision under analysis. */
  revision: 'revision',
} as const;

/** The analysis of an Argo engine: the SLO template (shared by the namespace) and the smoke test's paths. */
export interface RolloutAnalysisOptions {
  /**
   * Name of the AnalysisTemplate of the SLO metrics (an `SloAnalysisTemplate`): one serves every
   * Rollout of a namespace, so it is created once beside them; the gate checks that it exists and
   * that the Rollout supplies its arguments.
   */
  readonly sloTemplate: string;
  /** HTTP paths the smoke-test Job metric calls on the new revision. @default - the workload's health path */
  readonly smokePaths?: readonly string[];
  /** Labels of the smoke-test Job's pods (e.g. `environment`). @default - none */
  readonly smokeLabels?: LabelSet;
}

/** Options of {@link ReleaseStrategy.argoBlueGreen}. */
export interface ArgoBlueGreenOptions {
  /** Image tag of the Deployment template the Rollout runs. */
  readonly imageTag: string;
  /** The analyses: smoke test and SLO metrics before promotion, SLO metrics after it. */
  readonly analysis: RolloutAnalysisOptions;
  /** Pods of the preview revision before promotion. @default - the full size (the Rollout's replicas) */
  readonly previewReplicaCount?: number;
  /** Promote as soon as the pre-promotion analysis passed, without a person. @default false */
  readonly autoPromotionEnabled?: boolean;
  /** Seconds the previous revision keeps running after promotion, for a fast rollback. @default 30 */
  readonly scaleDownDelaySeconds?: number;
}

/** Options of {@link ReleaseStrategy.argoCanary}. */
export interface ArgoCanaryOptions {
  /** Image tag of the Deployment template the Rollout runs. */
  readonly imageTag: string;
  /** The analyses run by the `analysis` steps (smoke test, then SLO metrics). */
  readonly analysis: RolloutAnalysisOptions;
  /** How the traffic is split by weight. */
  readonly trafficRouting: RolloutTrafficRouting;
  /** The steps. @default DEFAULT_CANARY_STEPS */
  readonly steps?: readonly CanaryStep[];
}

/** The resolved options of an Argo engine (see {@link ReleaseStrategy.argo}). */
export interface ArgoEngine {
  /** Image tag of the template. */
  readonly imageTag: string;
  readonly analysis: RolloutAnalysisOptions;
  /** Set for Argo blue/green. @default - not blue/green */
  readonly blueGreen?: {
    readonly previewReplicaCount: number | undefined;
    readonly autoPromotionEnabled: boolean;
    readonly scaleDownDelaySeconds: number;
  };
  /** Set for an Argo canary. @default - not a canary */
  readonly canary?: {
    readonly steps: readonly CanaryStep[];
    readonly trafficRouting: RolloutTrafficRouting;
  };
}

/** One backend of a component's route (the routers' `RouteBackend`): a Service, its port and its share of the traffic. */
export type RolloutRouteBackend = RouteBackend;

import {
  ArgoBlueGreenOptions, ArgoCanaryOptions, ArgoEngine, checkCanarySteps, DEFAULT_CANARY_STEPS, RolloutTrafficRouting,
} from './argo-rollouts';
import { assertValid, checkDnsSubdomain, checkImageTag, checkInteger, PropsError } from './validation';

/** The two colours of a blue/green pair (the pod label `version`). */
export enum Colour {
  BLUE = 'blue',
  GREEN = 'green',
}

/** The other colour of a pair. */
export function otherColour(colour: Colour): Colour {
  return colour === Colour.BLUE ? Colour.GREEN : Colour.BLUE;
}

/** How big the idle colour of a blue/green pair runs. */
export enum IdleSize {
  /** The standby count: kept warm so that a rollback can be staged immediately. */
  STANDBY = 'standby',
  /** Full size: while a release is staged, promoted or rolled back. */
  FULL = 'full',
}

/** Options of {@link ReleaseStrategy.rolling}. */
export interface RollingOptions {
  /** Image tag of the single Deployment. */
  readonly imageTag: string;
}

/** Options of {@link ReleaseStrategy.blueGreen}. */
export interface BlueGreenOptions {
  /** The colour the Service sends traffic to. */
  readonly active: Colour;
  /** Image tag of each colour. */
  readonly tags: { readonly [colour in Colour]: string };
  /** How big the idle colour runs. @default IdleSize.STANDBY */
  readonly idle?: IdleSize;
  /** Replicas of the idle colour when it is on standby. @default 1 */
  readonly standbyReplicas?: number;
  /**
   * Replicas of both colours while a release is in progress (`idle: IdleSize.FULL`): the scale the
   * active colour served with when the release started, so that the colour traffic moves to is never
   * smaller than the one it leaves, and neither shrinks (nor its autoscaler's minimum) until the
   * release is finalized. Raised to the workload's `replicas` when below. @default - the workload's `replicas`
   */
  readonly size?: number;
}

/**
 * How a {@link Microservice} is released: one Deployment updated in place (`rolling`), a
 * blue/green pair where traffic moves only by changing the Service selector (`blueGreen`, driven by
 * the release state in git), or an Argo Rollouts `Rollout` (`argoBlueGreen`, `argoCanary`) whose
 * controller moves traffic and runs the analyses.
 */
export class ReleaseStrategy {
  /** One Deployment, rolled in place with zero unavailable pods. */
  public static rolling(options: RollingOptions): ReleaseStrategy {
    assertValid('ReleaseStrategy.rolling', 'imageTag', options.imageTag, checkImageTag(options.imageTag));
    return new ReleaseStrategy(undefined, options.imageTag);
  }

  /** Two Deployments, `<name>-blue` and `<name>-green`; the Service selects the active one. */
  public static blueGreen(options: BlueGreenOptions): ReleaseStrategy {
    const where = 'ReleaseStrategy.blueGreen';
    assertValid(where, 'active', options.active,
      Object.values(Colour).includes(options.active) ? undefined : 'must be Colour.BLUE or Colour.GREEN');
    for (const colour of Object.values(Colour)) {
      assertValid(where, `tags.${colour}`, options.tags?.[colour], checkImageTag(options.tags?.[colour]));
    }
    const standbyReplicas = options.standbyReplicas ?? 1;
    assertValid(where, 'standbyReplicas', standbyReplicas, checkInteger(standbyReplicas, 0));
    if (options.size !== undefined) assertValid(where, 'size', options.size, checkInteger(options.size, 1));
    return new ReleaseStrategy({
      active: options.active,
      tags: { ...options.tags },
      idle: options.idle ?? IdleSize.STANDBY,
      standbyReplicas,
      size: options.size,
    }, undefined);
  }

  /**
   * An Argo Rollouts blue/green Rollout: the active Service `<name>` and the preview Service
   * `<name>-preview`; before promotion the smoke test and the SLO metrics of the preview revision
   * are analysed, after it the SLO metrics of the new active one.
   */
  public static argoBlueGreen(options: ArgoBlueGreenOptions): ReleaseStrategy {
    const where = 'ReleaseStrategy.argoBlueGreen';
    checkArgoCommon(where, options.imageTag, options.analysis?.sloTemplate);
    if (options.previewReplicaCount !== undefined) {
      assertValid(where, 'previewReplicaCount', options.previewReplicaCount, checkInteger(options.previewReplicaCount, 1));
    }
    const scaleDownDelaySeconds = options.scaleDownDelaySeconds ?? 30;
    assertValid(where, 'scaleDownDelaySeconds', scaleDownDelaySeconds, checkInteger(scaleDownDelaySeconds, 0));
    const autoPromotionEnabled = options.autoPromotionEnabled ?? false;
    assertValid(where, 'autoPromotionEnabled', autoPromotionEnabled, typeof autoPromotionEnabled === 'boolean' ? undefined : 'must be true or false');
    return new ReleaseStrategy(undefined, options.imageTag, {
      imageTag: options.imageTag,
      analysis: options.analysis,
      blueGreen: { previewReplicaCount: options.previewReplicaCount, autoPromotionEnabled, scaleDownDelaySeconds },
    });
  }

  /**
   * An Argo Rollouts canary: the stable Service `<name>` and the canary Service `<name>-canary`,
   * traffic split by weight (`trafficRouting`), `steps` with analyses whose failure aborts the
   * rollout and sends all traffic back to the stable revision.
   */
  public static argoCanary(options: ArgoCanaryOptions): ReleaseStrategy {
    const where = 'ReleaseStrategy.argoCanary';
    checkArgoCommon(where, options.imageTag, options.analysis?.sloTemplate);
    if (!(options.trafficRouting instanceof RolloutTrafficRouting)) {
      throw new PropsError(where, 'trafficRouting', options.trafficRouting, 'must be RolloutTrafficRouting.nginx(...) or RolloutTrafficRouting.gatewayApi(...)');
    }
    const steps = options.steps ?? DEFAULT_CANARY_STEPS;
    checkCanarySteps(where, steps);
    return new ReleaseStrategy(undefined, options.imageTag, {
      imageTag: options.imageTag,
      analysis: options.analysis,
      canary: { steps: [...steps], trafficRouting: options.trafficRouting },
    });
  }

  private constructor(
    /** The resolved blue/green options, or undefined for a rolling release. */
    public readonly blueGreen: Required<Omit<BlueGreenOptions, 'size'>> & Pick<BlueGreenOptions, 'size'> | undefined,
    /** The image tag of a rolling release (and of an Argo engine's template). */
    public readonly imageTag: string | undefined,
    /** The resolved options of an Argo Rollouts engine. @default - not released by Argo Rollouts */
    public readonly argo: ArgoEngine | undefined = undefined,
  ) {}

  /** True for a blue/green pair. */
  public get isBlueGreen(): boolean {
    return this.blueGreen !== undefined;
  }
}

function checkArgoCommon(where: string, imageTag: string, sloTemplate: string | undefined): void {
  assertValid(where, 'imageTag', imageTag, checkImageTag(imageTag));
  assertValid(where, 'analysis.sloTemplate', sloTemplate, checkDnsSubdomain(sloTemplate));
}

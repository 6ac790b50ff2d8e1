/**
 * The Argo Rollouts engines of an environment, from its typed settings: each Argo component's
 * {@link ReleaseStrategy} (resolved before the chart, with the other strategies, by
 * release/strategies.ts). The chart creates the SLO AnalysisTemplate the strategies name
 * (kcp/argo.ts), from the same settings.
 */
import { Duration } from 'cdk8s';
import { CanaryStep, DEFAULT_CANARY_STEPS, LabelSet, ReleaseStrategy, RolloutTrafficRouting } from '../constructs';
import { argoDurationSeconds } from '../environments/argo';
import type { ArgoSettings, ComponentSettings, ResolvedEnvironment } from '../environments/model';
import { ReleaseMode } from '../environments/schema';
import { SLO_ANALYSIS_TEMPLATE } from '../kcp/argo';

/** How an environment's public traffic reaches its components: what an Argo canary splits. */
export enum TrafficEntry {
  /** The nginx Ingress: ingress-nginx canary (`trafficRouting.nginx.stableIngress`). */
  INGRESS = 'ingress',
  /** Gateway API HTTPRoutes named after each component: the Argo Rollouts Gateway API plugin. */
  GATEWAY_API = 'gateway-api',
}

/** True when `strategy` is released by Argo Rollouts. */
export function isArgoMode(strategy: string): boolean {
  return strategy === ReleaseMode.ARGO_BLUE_GREEN || strategy === ReleaseMode.ARGO_CANARY;
}

/** What an Argo strategy needs besides the component's settings. */
export interface ArgoStrategyContext {
  /** How traffic enters the environment. @default TrafficEntry.INGRESS */
  readonly traffic?: TrafficEntry;
  /** Name of the Ingress routing to the stable Services (for {@link TrafficEntry.INGRESS}). */
  readonly stableIngress: string;
  /** Paths the smoke-test Job metric calls. @default - the health path */
  readonly smokePaths?: readonly string[];
  /** Labels of the smoke-test pods. @default - none */
  readonly smokeLabels?: LabelSet;
}

/** The strategy of an Argo component of `env` (settings resolved and validated). */
export function argoStrategy(component: string, settings: ComponentSettings, env: ResolvedEnvironment, context: ArgoStrategyContext): ReleaseStrategy {
  const argo: ArgoSettings = settings.argo ?? {};
  const analysis = { sloTemplate: SLO_ANALYSIS_TEMPLATE, smokePaths: context.smokePaths, smokeLabels: context.smokeLabels };
  if (settings.strategy === ReleaseMode.ARGO_BLUE_GREEN) {
    return ReleaseStrategy.argoBlueGreen({
      imageTag: settings.imageTag!, analysis,
      previewReplicaCount: argo.previewReplicaCount,
      autoPromotionEnabled: argo.autoPromotionEnabled,
      scaleDownDelaySeconds: argo.scaleDownDelaySeconds,
    });
  }
  return ReleaseStrategy.argoCanary({
    imageTag: settings.imageTag!, analysis,
    trafficRouting: context.traffic === TrafficEntry.GATEWAY_API
      // the HTTPRoute of component <c> is named <c> (the contract with the HTTPRoute's generator)
      ? RolloutTrafficRouting.gatewayApi(component, env.namespace)
      : RolloutTrafficRouting.nginx(context.stableIngress),
    steps: argo.steps === undefined ? DEFAULT_CANARY_STEPS : argo.steps.map((s) => {
      if ('setWeight' in s) return CanaryStep.setWeight(s.setWeight);
      if ('pause' in s) return CanaryStep.pause(s.pause.duration === undefined ? undefined : Duration.seconds(argoDurationSeconds(s.pause.duration)!));
      return CanaryStep.analysis();
    }),
  });
}

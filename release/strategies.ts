/**
 * The release of every component of an environment, resolved before its chart is built: the
 * strategy its workload gets (rolling on its pinned tag, the blue/green pair its release state
 * describes, or an Argo Rollouts engine) and the smoke-test facts of the state's phase. The chart (kcp/) only builds what it is
 * given and never reads the release state itself.
 */
import { ReleaseStrategy } from '../constructs';
import { ComponentSpec, ReleaseMode, ResolvedEnvironment, RoutingMode } from '../environments';
import type { ResolvedRelease, ResolvedReleases } from '../kcp';
import { PROJECT } from '../kcp/project';
import { argoStrategy, isArgoMode, TrafficEntry } from './argo-engine';
import { Phase, strategyFor } from './state';

/** The resolved release of each component of `env` (resolved and validated: every tag is present). */
export function resolveReleases(env: ResolvedEnvironment, catalogue: readonly ComponentSpec[] = []): ResolvedReleases {
  const releases: { [component: string]: ResolvedRelease } = {};
  for (const [component, settings] of Object.entries(env.components)) {
    if (isArgoMode(settings.strategy)) {
      // Argo Rollouts engines (README "Argo Rollouts"): the smoke test runs as an analysis Job metric.
      const spec = catalogue.find((c) => c.name === component);
      releases[component] = {
        strategy: argoStrategy(component, settings, env, {
          traffic: env.routing.mode === RoutingMode.GATEWAY ? TrafficEntry.GATEWAY_API : TrafficEntry.INGRESS,
          stableIngress: PROJECT, smokePaths: spec?.smokePaths, smokeLabels: { environment: env.name },
        }),
      };
      continue;
    }
    if (settings.strategy !== ReleaseMode.BLUE_GREEN) {
      // (required for rolling components: resolve checked it)
      releases[component] = { strategy: ReleaseStrategy.rolling({ imageTag: settings.imageTag! }) };
      continue;
    }
    const state = env.releases[component];
    releases[component] = {
      strategy: strategyFor(state, settings.standbyReplicas),
      // A staged version is smoke-tested through its preview Service before `promote`; a promoted
      // one moves traffic only once that attempt's smoke test has passed.
      ...(state.phase === Phase.STAGED ? { smokeTest: { phase: 'staged', attempt: state.attempt } } : {}),
      ...(state.phase === Phase.PROMOTED ? { smokeTest: { phase: 'promoted', attempt: state.attempt } } : {}),
    };
  }
  return releases;
}

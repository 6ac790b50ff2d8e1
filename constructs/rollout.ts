/**
 * The Rollout of a Microservice released by an Argo Rollouts engine (see `argo-rollouts.ts` for the
 * engine's options and why the Rollout references the Deployment instead of carrying a template).
 */
import { ApiObject, App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  ANALYSIS_RUN_HISTORY, ARGO_ROLLOUTS_API_VERSION, argoDuration, CanaryStepKind, KubeAnalysisTemplate, KubeRollout, RolloutAnalysisOptions,
  RolloutRouteBackend, RolloutSpec, SLO_ANALYSIS_ARGS,
} from './argo-rollouts';
import { LabelSet } from './labels';
import { SmokeTest, SmokeTestTarget } from './smoke-test';
import { Conventions } from './conventions';

type RolloutStrategySpec = NonNullable<RolloutSpec['strategy']>;
type CanarySpec = NonNullable<RolloutStrategySpec['canary']>;
type CanaryStepSpec = NonNullable<CanarySpec['steps']>[number];
type RolloutAnalysisSpec = NonNullable<NonNullable<RolloutStrategySpec['blueGreen']>['prePromotionAnalysis']>;

/** What an {@link ArgoRollout} needs of its workload (a `Microservice`). */
export interface RolloutWorkload extends SmokeTestTarget {
  /** Labels every pod of the workload carries (the Rollout's selector). */
  readonly selector: LabelSet;
}

/** Properties of an {@link ArgoRollout}. */
export interface ArgoRolloutProps {
  /** The workload released. */
  readonly workload: RolloutWorkload;
  /** Its Deployment: the pod template (`workloadRef`), held at 0 replicas. */
  readonly template: kplus.Deployment;
  /** Its second Service: the preview (blue/green) or canary Service. */
  readonly secondService: kplus.Service;
  /** The Rollout's replicas (the HPA's minimum when autoscaled). */
  readonly replicas: number;
  /** HPA on the Rollout. @default - none */
  readonly autoscaling?: { readonly maxReplicas: number; readonly targetCpuUtilization: number };
  /** Labels of the Rollout, the smoke-test template and the HPA. */
  readonly labels: LabelSet;
}

/**
 * The Rollout of a {@link Microservice} released by an Argo engine, its smoke-test AnalysisTemplate
 * and, when autoscaled, its HPA (which targets the Rollout). Built by the Microservice.
 */
export class ArgoRollout extends Construct {
  /** The Rollout. */
  public readonly rollout: KubeRollout;
  /** The AnalysisTemplate `<name>-smoke`: the smoke-test Job metric against the new revision's Service. */
  public readonly smokeTemplate: KubeAnalysisTemplate;
  /** The HPA targeting the Rollout, when autoscaled. */
  public readonly autoscaler?: kplus.k8s.KubeHorizontalPodAutoscalerV2;
  /** The Services its route sends traffic to, with weights for a canary. */
  public readonly routeBackends: readonly RolloutRouteBackend[];
  /** The URLs the smoke-test Job metric calls. */
  public readonly smokeUrls: readonly string[];
  /**
   * The most smoke-test Jobs of this Rollout that exist at once: one per AnalysisRun the Rollout
   * keeps (`spec.analysis`: {@link ANALYSIS_RUN_HISTORY} successful and as many unsuccessful ones)
   * plus the one running; a Job lives as long as its AnalysisRun (or its TTL).
   */
  public readonly maxAnalysisJobs = 2 * ANALYSIS_RUN_HISTORY + 1;

  constructor(scope: Construct, id: string, props: ArgoRolloutProps) {
    super(scope, id);
    const w = props.workload;
    const engine = w.release.argo!;
    const name = w.name;
    const smokeName = `${name}-smoke`;
    const smoke = smokeJob(this, w, props.secondService, engine.analysis);
    this.smokeUrls = smoke.urls;
    this.smokeTemplate = new KubeAnalysisTemplate(this, 'SmokeTemplate', {
      metadata: { name: smokeName, labels: props.labels },
      spec: {
        metrics: [{
          name: 'smoke-test',
          // one Job per run: it passes when the Job completes (its script exits 0 only on 2xx answers)
          provider: { job: { metadata: { labels: smoke.labels }, spec: smoke.spec as never } },
        }],
      },
    });
    const args = (revision: string) => [
      { name: SLO_ANALYSIS_ARGS.workload, value: name },
      { name: SLO_ANALYSIS_ARGS.revision, valueFrom: { podTemplateHashValue: revision } },
    ];
    const analysis = (withSmoke: boolean): RolloutAnalysisSpec => ({
      templates: [...(withSmoke ? [{ templateName: smokeName }] : []), { templateName: engine.analysis.sloTemplate }],
      // `Latest`: the revision being rolled out (preview before promotion, canary during a canary,
      // the new active one after promotion)
      args: args('Latest'),
    });
    const strategy: RolloutStrategySpec = engine.blueGreen !== undefined
      ? {
        blueGreen: {
          activeService: w.service.name,
          previewService: props.secondService.name,
          ...(engine.blueGreen.previewReplicaCount === undefined ? {} : { previewReplicaCount: engine.blueGreen.previewReplicaCount }),
          autoPromotionEnabled: engine.blueGreen.autoPromotionEnabled,
          scaleDownDelaySeconds: engine.blueGreen.scaleDownDelaySeconds,
          prePromotionAnalysis: analysis(true),
          postPromotionAnalysis: analysis(false),
        },
      }
      : {
        canary: {
          stableService: w.service.name,
          canaryService: props.secondService.name,
          trafficRouting: engine.canary!.trafficRouting.spec,
          steps: engine.canary!.steps.map((s): CanaryStepSpec => {
            switch (s.kind) {
              case CanaryStepKind.SET_WEIGHT: return { setWeight: s.weight };
              case CanaryStepKind.PAUSE: return { pause: s.pauseSeconds === undefined ? {} : { duration: argoDuration(s.pauseSeconds) } };
              default: return { analysis: analysis(true) };
            }
          }),
        },
      };
    this.rollout = new KubeRollout(this, 'Resource', {
      metadata: { name, labels: props.labels },
      spec: {
        // an HPA, when present, owns the scale: the manifest must not pin it too
        ...(props.autoscaling === undefined ? { replicas: props.replicas } : {}),
        selector: { matchLabels: { ...w.selector } },
        // bounds the AnalysisRuns kept, and with them the smoke-test Jobs (see maxAnalysisJobs)
        analysis: { successfulRunHistoryLimit: ANALYSIS_RUN_HISTORY, unsuccessfulRunHistoryLimit: ANALYSIS_RUN_HISTORY },
        workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.template.name },
        strategy,
      },
    });
    if (props.autoscaling !== undefined) {
      this.autoscaler = new kplus.k8s.KubeHorizontalPodAutoscalerV2(this, 'Autoscaler', {
        metadata: { name, labels: props.labels },
        spec: {
          scaleTargetRef: { apiVersion: ARGO_ROLLOUTS_API_VERSION, kind: 'Rollout', name },
          minReplicas: props.replicas,
          maxReplicas: props.autoscaling.maxReplicas,
          metrics: [{
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: props.autoscaling.targetCpuUtilization } },
          }],
        },
      });
    }
    this.routeBackends = engine.canary !== undefined
      ? [
        { serviceName: w.service.name, port: w.servicePort, weight: 100 },
        { serviceName: props.secondService.name, port: w.servicePort, weight: 0 },
      ]
      : [{ serviceName: w.service.name, port: w.servicePort }];
  }
}

/**
 * The smoke test's Job (labels and spec) against `service`, built by {@link SmokeTest} in a chart
 * of its own that is never synthesized: the Job metric runs the same hardened pod, script and image
 * as the git-driven engine's promotion gate, without a Job object of its own in the output.
 */
function smokeJob(scope: Construct, w: RolloutWorkload, service: kplus.Service, analysis: RolloutAnalysisOptions): { labels: LabelSet; spec: unknown; urls: readonly string[] } {
  const scratch = new Chart(new App(), 'SmokeTestTemplate');
  // (built off the tree, so it is given the conventions of the Rollout's scope)
  Conventions.set(scratch, Conventions.of(scope));
  const test = new SmokeTest(scratch, 'SmokeTest', { target: w, service, paths: analysis.smokePaths, labels: analysis.smokeLabels });
  const job = ApiObject.of(test.job).toJson() as { metadata: { labels: LabelSet }; spec: unknown };
  // the instance label names a tag and attempt of the git-driven engine: here every run is a new Job
  const labels = Object.fromEntries(Object.entries(job.metadata.labels).filter(([k]) => k !== 'app.kubernetes.io/instance'));
  const spec = job.spec as { template: { metadata: { labels: LabelSet } } };
  spec.template.metadata.labels = labels;
  return { labels, spec, urls: test.urls };
}

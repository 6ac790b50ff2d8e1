/**
 * The SLO AnalysisTemplate the Argo Rollouts engines of an environment name: one per namespace, from
 * the environment's service SLOs (the definitions its burn-rate alerts use), its Prometheus and the
 * `argo.analysis` measurements its Argo components share (resolve.ts requires them equal).
 */
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { Microservice, SloAnalysisTemplate, SloAnalysisTemplateProps } from '../constructs';
import { argoDurationSeconds } from '../environments/argo';
import type { ArgoSettings, ResolvedEnvironment } from '../environments/model';
import { prometheusUrl, serviceSlos } from '../environments/monitoring';
import { PROJECT } from './project';

/** Name of the SLO AnalysisTemplate of every environment using an Argo engine. */
export const SLO_ANALYSIS_TEMPLATE = `${PROJECT}-slo`;

/** The props of the SLO AnalysisTemplate of `env`, with the measurements of `argo.analysis`. */
export function sloAnalysisProps(env: ResolvedEnvironment, argo: ArgoSettings, name = SLO_ANALYSIS_TEMPLATE): SloAnalysisTemplateProps {
  const a = argo.analysis ?? {};
  return {
    name,
    labels: { 'app.kubernetes.io/part-of': PROJECT },
    slos: serviceSlos({ namespace: env.namespace, runbook: (slug) => slug }),
    prometheusAddress: prometheusUrl(env.network.prometheus.namespace),
    interval: Duration.seconds(argoDurationSeconds(a.interval ?? '1m')!),
    count: a.count,
    failureLimit: a.failureLimit,
  };
}

/**
 * Creates the SLO AnalysisTemplate the Argo workloads name, when there is one.
 * @throws Error when they name different templates (one per namespace)
 */
export function addSloAnalysisTemplate(scope: Construct, env: ResolvedEnvironment, workloads: Iterable<Microservice>): SloAnalysisTemplate | undefined {
  const argo = [...workloads].filter((w) => w.release.argo !== undefined);
  if (argo.length === 0) return undefined;
  const names = [...new Set(argo.map((w) => w.release.argo!.analysis.sloTemplate))];
  if (names.length > 1) throw new Error(`the Argo components of ${env.name} name ${names.length} SLO AnalysisTemplates (${names.join(', ')}); one serves a namespace`);
  return new SloAnalysisTemplate(scope, 'SloAnalysis', sloAnalysisProps(env, env.components[argo[0].name].argo ?? {}, names[0]));
}

/**
 * The SLO AnalysisTemplates the Argo Rollouts engines of an environment name: one per name the
 * workloads' strategies give (every Argo component of an environment names the same one), created
 * once here because a namespace shares it.
 */
import { Construct } from 'constructs';
import { Microservice, SloAnalysisTemplate, SloAnalysisTemplateProps } from '../constructs';

/** Creates the SLO AnalysisTemplate of every Argo workload, once per name. @throws Error when two workloads give one name different props */
export function addSloAnalysisTemplates(scope: Construct, workloads: Iterable<Microservice>): SloAnalysisTemplate[] {
  const byName = new Map<string, { props: SloAnalysisTemplateProps; first: string }>();
  for (const w of workloads) {
    const props = w.release.argo?.analysis.slo;
    if (props === undefined) continue;
    const seen = byName.get(props.name);
    if (seen === undefined) byName.set(props.name, { props, first: w.name });
    else if (JSON.stringify(seen.props) !== JSON.stringify(props)) {
      throw new Error(`${w.name}: argo.analysis must be the same as ${seen.first}'s: every Argo component of an environment shares the AnalysisTemplate ${props.name} (set it under defaults.argo)`);
    }
  }
  return [...byName.values()].map(({ props }) => new SloAnalysisTemplate(scope, `SloAnalysis-${props.name}`, props));
}

import { ResolvedEnvironment } from '../environments';
import { find, matches, Obj, ofKind } from './helpers';

/**
 * The release invariants every synthesized environment must keep, whatever phase its releases are in:
 * - each Service selects the pods of exactly one Deployment (so exactly one colour of a pair);
 * - the colour a main Service sends traffic to runs at least its full size (fixed replicas, or an HPA
 *   whose minimum is the full size);
 * - both colours of a pair exist and expose the Service's target port;
 * - each PodDisruptionBudget selects the pods of exactly its own Deployment, and each HPA targets the
 *   Deployment (or the Argo Rollout) of its own name;
 * - under an Argo engine the Deployment is the Rollout's template (workloadRef) and the Rollout's
 *   replicas (or its HPA's minimum) are the pods the Service's traffic goes to; the canary Service is
 *   checked like the preview one.
 * Throws with a description of the first broken invariant.
 */
export function assertReleaseInvariants(objs: Obj[], env: ResolvedEnvironment): void {
  const deployments = ofKind(objs, 'Deployment');
  const podsOf = (selector: { [k: string]: string }) =>
    deployments.filter((d) => matches(selector, d.spec.template.metadata.labels));
  const fail = (message: string): never => { throw new Error(`${env.name}: ${message}`); };

  for (const svc of ofKind(objs, 'Service')) {
    const selected = podsOf(svc.spec.selector);
    if (selected.length !== 1) fail(`Service ${svc.metadata.name} selects ${selected.length} Deployments (${selected.map((d) => d.metadata.name).join(', ')})`);
    const [target] = selected;
    for (const port of svc.spec.ports) {
      const exposed = target.spec.template.spec.containers.some((c: { ports?: Array<{ containerPort: number }> }) =>
        c.ports?.some((p) => p.containerPort === port.targetPort));
      if (!exposed) fail(`Service ${svc.metadata.name} targets port ${port.targetPort} that ${target.metadata.name} does not expose`);
    }
    const component = svc.metadata.name.replace(/-(preview|canary)$/, '');
    const settings = env.components[component];
    if (settings === undefined) continue;
    if (component === svc.metadata.name) {
      // the pods' owner: the Rollout whose template the Deployment is, else the Deployment itself
      const rollout = ofKind(objs, 'Rollout').find((r) => r.spec.workloadRef?.name === target.metadata.name);
      const owner = rollout ?? target;
      const hpa = objs.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec.scaleTargetRef.kind === owner.kind && o.spec.scaleTargetRef.name === owner.metadata.name);
      const floor = owner.spec.replicas ?? hpa?.spec.minReplicas ?? 1;
      if (floor < settings.replicas) fail(`traffic of ${component} goes to ${target.metadata.name}, which runs ${floor} < full size ${settings.replicas}`);
    }
    if (target.spec.selector.matchLabels.version !== undefined) {
      for (const colour of ['blue', 'green']) {
        const d = find(objs, 'Deployment', `${component}-${colour}`);
        const ports = d.spec.template.spec.containers.flatMap((c: { ports?: Array<{ containerPort: number }> }) => c.ports ?? []).map((p: { containerPort: number }) => p.containerPort);
        for (const port of svc.spec.ports) {
          if (!ports.includes(port.targetPort)) fail(`${d.metadata.name} does not expose port ${port.targetPort} of Service ${svc.metadata.name}`);
        }
      }
    }
  }
  for (const pdb of ofKind(objs, 'PodDisruptionBudget')) {
    const selected = podsOf(pdb.spec.selector.matchLabels).map((d) => d.metadata.name);
    if (selected.length !== 1 || selected[0] !== pdb.metadata.name) fail(`PodDisruptionBudget ${pdb.metadata.name} selects ${selected.join(', ') || 'nothing'}`);
  }
  for (const hpa of ofKind(objs, 'HorizontalPodAutoscaler')) {
    if (hpa.spec.scaleTargetRef.name !== hpa.metadata.name) fail(`HPA ${hpa.metadata.name} targets ${hpa.spec.scaleTargetRef.name}`);
    find(objs, hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name);
  }
}

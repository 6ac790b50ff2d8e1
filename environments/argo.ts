/**
 * The rules of the `argo` settings of an environment's components (the Argo Rollouts engines), checked
 * on every component whatever its strategy (as `standbyReplicas` is), so that switching a component
 * to an Argo engine never reveals an old mistake.
 */
import { checkInteger } from '../constructs/validation';
import type { ArgoSettings, ComponentSettings } from './model';

/** A problem of one `argo` field: its path under the component, the value and what is allowed. */
export interface ArgoSettingProblem {
  readonly field: string;
  readonly value: unknown;
  readonly rule: string;
}

/** An Argo Rollouts duration: whole seconds, minutes or hours (`30s`, `5m`, `1h`), greater than 0. */
const ARGO_DURATION = /^([1-9][0-9]*)(s|m|h)$/;

/** Seconds of an Argo duration (`5m` -> 300), or undefined when it is not one. */
export function argoDurationSeconds(value: unknown): number | undefined {
  const m = typeof value === 'string' ? ARGO_DURATION.exec(value) : null;
  return m === null ? undefined : Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}

/** The longest scale-down delay: a day. */
const MAX_SCALE_DOWN_DELAY_SECONDS = 86400;

/** Every problem of `argo` for a component of `replicas` pods. */
export function validateArgoSettings(argo: ArgoSettings | undefined, replicas: unknown): ArgoSettingProblem[] {
  const problems: ArgoSettingProblem[] = [];
  const at = (field: string, value: unknown, rule: string | undefined) => {
    if (rule !== undefined) problems.push({ field: `argo.${field}`, value, rule });
  };
  if (argo === undefined) return problems;
  const full = typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 1 ? replicas : undefined;
  if (argo.previewReplicaCount !== undefined) {
    at('previewReplicaCount', argo.previewReplicaCount, full === undefined
      ? checkInteger(argo.previewReplicaCount, 1)
      : checkInteger(argo.previewReplicaCount, 1, full)?.replace(/$/, ` (replicas is ${full}; more preview pods than the full size serve nothing)`));
  }
  if (argo.scaleDownDelaySeconds !== undefined) {
    at('scaleDownDelaySeconds', argo.scaleDownDelaySeconds, checkInteger(argo.scaleDownDelaySeconds, 0, MAX_SCALE_DOWN_DELAY_SECONDS));
  }
  if (argo.steps !== undefined) {
    if (!argo.steps.some((s) => 'setWeight' in s)) at('steps', argo.steps, 'must contain at least one { setWeight: <percent> } step');
    let last = 0;
    argo.steps.forEach((step, i) => {
      if ('setWeight' in step) {
        const rule = checkInteger(step.setWeight, 0, 100)
          ?? (step.setWeight < last ? `must not be below the weight of an earlier step (${last}): traffic only moves forward, an abort moves it back` : undefined);
        at(`steps[${i}].setWeight`, step.setWeight, rule);
        if (rule === undefined) last = step.setWeight;
      } else if ('pause' in step && step.pause.duration !== undefined) {
        at(`steps[${i}].pause.duration`, step.pause.duration, argoDurationSeconds(step.pause.duration) === undefined
          ? 'must be whole seconds, minutes or hours such as "30s", "5m" or "1h" (omit it to pause until promoted)' : undefined);
      }
    });
  }
  const a = argo.analysis;
  if (a !== undefined) {
    if (a.interval !== undefined) {
      at('analysis.interval', a.interval, argoDurationSeconds(a.interval) === undefined ? 'must be whole seconds, minutes or hours such as "30s", "1m"' : undefined);
    }
    if (a.count !== undefined) at('analysis.count', a.count, checkInteger(a.count, 1, 100));
    if (a.failureLimit !== undefined) {
      const count = typeof a.count === 'number' && Number.isInteger(a.count) && a.count >= 1 ? a.count : 5;
      at('analysis.failureLimit', a.failureLimit, checkInteger(a.failureLimit, 0, count - 1)?.replace(/$/, ` (below analysis.count, ${count})`));
    }
  }
  return problems;
}

/**
 * Every Argo component of an environment shares the namespace's SLO AnalysisTemplate, so their
 * `argo.analysis` must be the same (set it under `defaults.argo`): a problem per component that differs
 * from the first one.
 */
export function validateSharedAnalysis(components: { readonly [name: string]: ComponentSettings }, isArgo: (strategy: string) => boolean): (ArgoSettingProblem & { component: string })[] {
  const argo = Object.entries(components).filter(([, s]) => isArgo(s.strategy));
  if (argo.length === 0) return [];
  const [first, settings] = argo[0];
  const norm = (a: ArgoSettings['analysis']) => JSON.stringify({ interval: a?.interval ?? '1m', count: a?.count ?? 5, failureLimit: a?.failureLimit ?? 0 });
  return argo.slice(1).filter(([, s]) => norm(s.argo?.analysis) !== norm(settings.argo?.analysis)).map(([component, s]) => ({
    component, field: 'argo.analysis', value: s.argo?.analysis,
    rule: `must be the same as ${first}'s (${norm(settings.argo?.analysis)}): every Argo component of an environment shares one SLO AnalysisTemplate; set it under defaults.argo`,
  }));
}

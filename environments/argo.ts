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

/**
 * The longest duration Argo Rollouts can hold: 2^31 - 1 seconds. Its controller reads a pause as int32
 * seconds (`RolloutPause.DurationSeconds() int32` returns `int32(d.Seconds())`, so a longer one wraps
 * around: argoproj/argo-rollouts, pkg/apis/rollouts/v1alpha1/types.go); the analysis interval is held
 * to the same bound.
 */
export const MAX_ARGO_DURATION_SECONDS = 2147483647;

/** Rule broken by `value` as an Argo duration (`formats` names the examples), or undefined. */
function checkArgoDuration(value: unknown, formats: string): string | undefined {
  const seconds = argoDurationSeconds(value);
  if (seconds === undefined) return `must be whole seconds, minutes or hours such as ${formats}`;
  return seconds > MAX_ARGO_DURATION_SECONDS
    ? `must be at most ${MAX_ARGO_DURATION_SECONDS} seconds (Argo Rollouts holds a duration in a 32-bit integer of seconds; this is ${seconds})`
    : undefined;
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
        at(`steps[${i}].pause.duration`, step.pause.duration,
          checkArgoDuration(step.pause.duration, '"30s", "5m" or "1h" (omit it to pause until promoted)'));
      }
    });
  }
  const a = argo.analysis;
  if (a !== undefined) {
    if (a.interval !== undefined) {
      at('analysis.interval', a.interval, checkArgoDuration(a.interval, '"30s", "1m"'));
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

/** The engine that reads each engine-specific field of `argo` (`analysis` is read by both). */
const ENGINE_OF_FIELD: { readonly [field: string]: string } = {
  previewReplicaCount: 'argo-blue-green',
  autoPromotionEnabled: 'argo-blue-green',
  scaleDownDelaySeconds: 'argo-blue-green',
  steps: 'argo-canary',
};

/** A component as the engine rule sees it: its strategy and the `argo` written on the component itself. */
export interface ArgoEngineUse {
  readonly strategy: string;
  /** `components.<c>.argo` as written (not merged with `defaults.argo`). */
  readonly own: ArgoSettings | undefined;
}

/**
 * Fields of `argo` that the engine cannot read: on an Argo component, a field of the other engine
 * written on the component itself; in `defaults.argo`, a field that no component takes from there
 * with the engine that reads it. A field a component inherits from `defaults` is not its mistake
 * (the defaults serve both engines), and components that are not released by Argo are not checked
 * here (their `argo` is validated but unused until they switch).
 */
export function validateArgoEngines(
  defaults: ArgoSettings | undefined,
  components: { readonly [name: string]: ArgoEngineUse },
  isArgo: (strategy: string) => boolean,
): (ArgoSettingProblem & { component?: string })[] {
  const problems: (ArgoSettingProblem & { component?: string })[] = [];
  for (const [component, { strategy, own }] of Object.entries(components)) {
    if (!isArgo(strategy) || own === undefined) continue;
    for (const [field, value] of Object.entries(own)) {
      const engine = ENGINE_OF_FIELD[field];
      if (engine === undefined || engine === strategy || value === undefined) continue;
      problems.push({ component, field: `argo.${field}`, value,
        rule: `is a setting of ${engine} only; this component's strategy is ${strategy}, which does not read it: remove it` });
    }
  }
  for (const [field, value] of Object.entries(defaults ?? {})) {
    const engine = ENGINE_OF_FIELD[field];
    if (engine === undefined || value === undefined) continue;
    const takers = Object.values(components).filter((c) => c.strategy === engine && c.own?.[field as keyof ArgoSettings] === undefined);
    if (takers.length === 0) {
      problems.push({ field: `defaults.argo.${field}`, value,
        rule: `has no effect: it is a setting of ${engine} only, and no component of this environment runs ${engine} taking it from defaults; remove it` });
    }
  }
  return problems;
}

/**
 * Post-deploy verification from the same SLO definitions as the burn-rate alerts (./slo.ts): for a
 * new revision (the series matching extra label matchers, e.g. a Service and the colour label), the
 * share of its bad events over one window, against the objective's error budget. An alert and a
 * verification therefore always agree on what a bad event is; they differ only in the window and in
 * how much of the budget may burn (an alert waits for a burn to matter, a verification judges the
 * first minutes of one revision).
 */
import { CounterSelector, errorRatio, SloDefinition } from './slo';
import { assertValid, checkPromDuration, PropsError } from './validation';

/** Options of {@link sloVerificationChecks}. */
export interface SloVerificationOptions {
  /** The window judged (Prometheus duration), e.g. `10m`: the first minutes of the new revision's traffic. */
  readonly window: string;
  /** Label matchers selecting the new revision's series, e.g. `service="orders"`, `version="green"`. */
  readonly matchers: readonly string[];
  /**
   * How fast the revision may spend the error budget, as a multiple of the sustainable rate: 1 asks
   * the revision to meet the objective itself over the window (errors at most the budget).
   * @default 1
   */
  readonly maxBurnRate?: number;
  /**
   * Bad events the threshold must amount to before a verdict is given: with fewer events in the
   * window, one or two unlucky requests would decide, so the check is inconclusive instead.
   * @default 5
   */
  readonly minBadEventsAtThreshold?: number;
}

/** One verification check: a query returning one ratio, its threshold, and the traffic it needs. */
export interface SloVerificationCheck {
  /** The SLO's `slo` label, e.g. `errors`. */
  readonly slo: string;
  /** What the SLO promises, in words. */
  readonly promise: string;
  /** PromQL (one line) returning the bad-event ratio of the revision over the window (no sample without events). */
  readonly ratioQuery: string;
  /** Largest ratio that passes: the error budget × `maxBurnRate`. */
  readonly threshold: number;
  /** PromQL (one line) returning the revision's events over the window. */
  readonly eventsQuery: string;
  /** Events below which the check is inconclusive. */
  readonly minEvents: number;
}

const MATCHER = /^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"(?:[^"\\]|\\.)*"$/;

/** The verification checks of `slos` for the revision `options.matchers` selects. */
export function sloVerificationChecks(slos: readonly SloDefinition[], options: SloVerificationOptions): SloVerificationCheck[] {
  const where = 'sloVerificationChecks';
  assertValid(where, 'window', options.window, checkPromDuration(options.window));
  if (options.matchers.length === 0) throw new PropsError(where, 'matchers', [], 'must select the revision (e.g. its Service and colour)');
  options.matchers.forEach((m, i) => assertValid(where, `matchers[${i}]`, m, MATCHER.test(m) ? undefined : 'must be one PromQL label matcher such as version="green"'));
  const burnRate = options.maxBurnRate ?? 1;
  const minBad = options.minBadEventsAtThreshold ?? 5;
  assertValid(where, 'minBadEventsAtThreshold', minBad, Number.isInteger(minBad) && minBad >= 1 ? undefined : 'must be an integer >= 1');
  return slos.map((slo) => {
    const threshold = Number((burnRate * (1 - slo.objective)).toPrecision(12));
    assertValid(where, 'maxBurnRate', burnRate, burnRate > 0 && threshold < 1
      ? undefined : `must be greater than 0 and keep the threshold of SLO ${slo.slo} below 100% (its budget is ${1 - slo.objective})`);
    const scoped: SloDefinition = { ...slo, matchers: [...slo.matchers ?? [], ...options.matchers] };
    return {
      slo: slo.slo,
      promise: slo.promise,
      ratioQuery: oneLine(`max(${errorRatio(scoped, options.window)})`),
      threshold,
      eventsQuery: `sum(increase(${selector(slo.events.total, scoped.matchers ?? [])}[${options.window}]))`,
      minEvents: Math.ceil(minBad / threshold - 1e-9),
    };
  });
}

function selector(c: CounterSelector, extra: readonly string[]): string {
  const matchers = [...extra, ...(c.matchers ?? [])];
  return matchers.length === 0 ? c.metric : `${c.metric}{${matchers.join(', ')}}`;
}

function oneLine(query: string): string {
  return query.replace(/\s*\n\s*/g, ' ');
}

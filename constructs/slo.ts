/**
 * Service-level objectives and their multi-window, multi-burn-rate alerts (Google SRE workbook,
 * "Alerting on SLOs", chapter 5). Nothing here knows a metric or a service: an SLO is a ratio of
 * *bad* to *all* events, each a counter selector given as props, grouped by the labels that name
 * one alert instance.
 *
 * The error budget of an objective `o` is `1 - o` (99.9 % leaves 0.1 % of the events to fail).
 * A burn rate `b` is the speed at which it is spent: an error ratio of `b × (1 - o)` spends the
 * budget of the whole SLO period in `period / b`. An alert row fires when the error ratio over its
 * long window AND over its short window (1/12 of it) are both above `b × (1 - o)`: the long window
 * makes it significant (at least `b × long / period` of the budget is gone), the short one makes
 * it current (it resets minutes after the burn stops instead of staying up for the long window).
 */
import { Construct } from 'constructs';
import { AlertSeverity, PrometheusRules } from './monitoring';
import { assertValid, checkHttpsUrl, checkLabelValue, checkPromDuration, PropsError } from './validation';

/** One row of the burn-rate table: when an SLO's budget burns too fast to wait. */
export interface BurnRateWindow {
  /** Suffix of the alert name, e.g. `1h` gives `<SLO alert prefix>1h` (letters and digits). */
  readonly name: string;
  /** Multiple of the error budget's sustainable rate (1 spends the budget in exactly one period). */
  readonly burnRate: number;
  /** Long window (Prometheus duration): how much of the budget must be gone. */
  readonly longWindow: string;
  /** Short window (Prometheus duration, shorter than the long one): the burn is still going on. */
  readonly shortWindow: string;
  /** How long both windows must stay above before the alert fires. */
  readonly for: string;
  /** `severity` label: a page (`critical`) or a ticket (`warning`). */
  readonly severity: AlertSeverity;
}

/**
 * The burn-rate table for a 30-day SLO period: the workbook's two pages (2 % of the budget gone
 * in 1 h, 5 % in 6 h) and two tickets (10 % in 1 d, 10 % in 3 d: its single 1× ticket split in two
 * so a slow burn is seen within a day instead of three), each with a short window of 1/12 of the
 * long one. `for: 2m` everywhere only absorbs one odd evaluation: the short window already keeps
 * the alert from firing on a burn that is over, and a longer `for` would only delay the page.
 */
export const SRE_WORKBOOK_WINDOWS: readonly BurnRateWindow[] = [
  { name: '1h', burnRate: 14.4, longWindow: '1h', shortWindow: '5m', for: '2m', severity: AlertSeverity.CRITICAL },
  { name: '6h', burnRate: 6, longWindow: '6h', shortWindow: '30m', for: '2m', severity: AlertSeverity.CRITICAL },
  { name: '1d', burnRate: 3, longWindow: '1d', shortWindow: '2h', for: '2m', severity: AlertSeverity.WARNING },
  { name: '3d', burnRate: 1, longWindow: '3d', shortWindow: '6h', for: '2m', severity: AlertSeverity.WARNING },
];

/** A counter series selector: the metric name and label matchers in PromQL syntax. */
export interface CounterSelector {
  /** Counter name, e.g. `http_requests_total`. */
  readonly metric: string;
  /** Label matchers, each as PromQL writes it, e.g. `status=~"5.."`. @default - none */
  readonly matchers?: readonly string[];
}

/**
 * The events of an SLO. `bad` or `good` is given: with `good` (e.g. the histogram bucket of the
 * requests at most as slow as the bound), bad events are `total - good`.
 */
export interface SloEvents {
  /** Every event. */
  readonly total: CounterSelector;
  /** The failed events. @default - `total - good` */
  readonly bad?: CounterSelector;
  /** The successful events. @default - `total - bad` */
  readonly good?: CounterSelector;
}

/** One service-level objective and how its alerts read, route and explain. */
export interface SloDefinition {
  /** Prefix of the alert names (a burn-rate row's name is appended): letters, digits. */
  readonly alertPrefix: string;
  /** `slo` label on every alert of this SLO (a label value). */
  readonly slo: string;
  /** What the SLO promises, in words, for the description (e.g. `99.9% of the requests succeed`). */
  readonly promise: string;
  /** Target share of good events, greater than 0 and less than 1 (0.999 is 99.9 %). */
  readonly objective: number;
  /** The events. */
  readonly events: SloEvents;
  /** Label matchers added to every selector (e.g. the namespace). @default - none */
  readonly matchers?: readonly string[];
  /** Labels that name one alert instance (the sum keeps these). */
  readonly groupBy: readonly string[];
  /** `team` label. */
  readonly team: string;
  /** `runbook_url` annotation. */
  readonly runbookUrl: string;
  /** Template of the subject in summaries and descriptions. @default - the groupBy labels */
  readonly subject?: string;
  /** The burn-rate table. @default SRE_WORKBOOK_WINDOWS */
  readonly windows?: readonly BurnRateWindow[];
}

/** Properties of {@link SloBurnRateAlerts}. */
export interface SloBurnRateAlertsProps {
  /** The PrometheusRule the group is added to. */
  readonly rules: PrometheusRules;
  /** The objectives. */
  readonly slos: readonly SloDefinition[];
  /** Name of the rule group. @default 'slo-burn-rate' */
  readonly groupName?: string;
  /** Evaluation interval of the group. @default '30s' */
  readonly evaluationInterval?: string;
}

const IDENT = /^[A-Za-z][A-Za-z0-9]*$/;
const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MATCHER = /^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"(?:[^"\\]|\\.)*"$/;

/** One rule group with the burn-rate alerts of every SLO: one alert per SLO and burn-rate row. */
export class SloBurnRateAlerts extends Construct {
  /** The alert names, in evaluation order. */
  public readonly alertNames: readonly string[];

  constructor(scope: Construct, id: string, props: SloBurnRateAlertsProps) {
    super(scope, id);
    const groupName = props.groupName ?? 'slo-burn-rate';
    const where = `SloBurnRateAlerts ${groupName}`;
    if (props.slos.length === 0) throw new PropsError(where, 'slos', [], 'must name at least one SLO');
    const group = props.rules.addGroup(groupName, { interval: props.evaluationInterval ?? '30s' });
    const names: string[] = [];
    props.slos.forEach((slo, i) => {
      const at = `${where} slos[${i}]`;
      checkSlo(at, slo);
      const budget = 1 - slo.objective;
      for (const w of slo.windows ?? SRE_WORKBOOK_WINDOWS) {
        const threshold = w.burnRate * budget;
        const ratio = (window: string) => errorRatio(slo, window);
        const subject = slo.subject ?? slo.groupBy.map((l) => `{{ $labels.${l} }}`).join(' ');
        group.addAlert({
          name: `${slo.alertPrefix}${w.name}`,
          expr: [
            ratio(w.longWindow),
            `  > ${num(threshold)}`,
            'and',
            ratio(w.shortWindow),
            `  > ${num(threshold)}`,
          ].join('\n'),
          for: w.for,
          severity: w.severity,
          team: slo.team,
          runbookUrl: slo.runbookUrl,
          labels: { slo: slo.slo },
          summary: `${subject} burns the error budget of its ${slo.slo} SLO ${num(w.burnRate)}× too fast`,
          description: `${slo.promise} is the objective; over the last ${w.longWindow} {{ $value | humanizePercentage }} `
            + `of the events of ${subject} were bad (at most ${percent(threshold)}, ${num(w.burnRate)}× the budget of `
            + `${percent(budget)}, over ${w.longWindow} and ${w.shortWindow}). At this rate a 30-day budget lasts `
            + `${days(30 / w.burnRate)}.`,
        });
        names.push(`${slo.alertPrefix}${w.name}`);
      }
    });
    this.alertNames = names;
  }
}

/** Options of {@link errorRatio}. */
export interface ErrorRatioOptions {
  /** Labels kept by the sums; `[]` sums everything into one value. @default - the SLO's `groupBy` */
  readonly groupBy?: readonly string[];
  /** Label matchers added to every selector after the SLO's own (e.g. one revision of a Rollout). @default - none */
  readonly matchers?: readonly string[];
}

/** The SLO's bad events as a fraction of all its events over `window`, per `groupBy`. */
export function errorRatio(slo: SloDefinition, window: string, options: ErrorRatioOptions = {}): string {
  const groupBy = options.groupBy ?? slo.groupBy;
  const by = groupBy.length === 0 ? 'sum' : `sum by (${groupBy.join(', ')})`;
  const rate = (c: CounterSelector) => `${by} (rate(${selector(c, [...slo.matchers ?? [], ...options.matchers ?? []])}[${window}]))`;
  const total = rate(slo.events.total);
  const bad = slo.events.bad !== undefined ? rate(slo.events.bad) : `(${total} - ${rate(slo.events.good!)})`;
  return `${bad}\n  /\n${total}`;
}

function selector(c: CounterSelector, extra: readonly string[]): string {
  const matchers = [...extra, ...(c.matchers ?? [])];
  return matchers.length === 0 ? c.metric : `${c.metric}{${matchers.join(', ')}}`;
}

function checkSlo(at: string, slo: SloDefinition): void {
  assertValid(at, 'alertPrefix', slo.alertPrefix, IDENT.test(slo.alertPrefix ?? '') ? undefined : 'must be letters and digits, starting with a letter');
  assertValid(at, 'slo', slo.slo, slo.slo !== '' ? checkLabelValue(slo.slo) : 'must not be empty');
  assertValid(at, 'objective', slo.objective,
    typeof slo.objective === 'number' && slo.objective > 0 && slo.objective < 1 ? undefined : 'must be a ratio greater than 0 and less than 1 (0.999 is 99.9%)');
  assertValid(at, 'promise', slo.promise, (slo.promise ?? '').trim() === '' ? 'must describe the objective' : undefined);
  const e = slo.events;
  assertValid(at, 'events', e, e !== undefined && (e.bad === undefined) !== (e.good === undefined) ? undefined : 'must give total and exactly one of bad and good');
  for (const [key, c] of Object.entries(e) as [string, CounterSelector | undefined][]) {
    if (c === undefined) continue;
    assertValid(at, `events.${key}.metric`, c.metric, METRIC.test(c.metric ?? '') ? undefined : 'must be a Prometheus metric name');
    (c.matchers ?? []).forEach((m, j) => assertValid(at, `events.${key}.matchers[${j}]`, m, checkMatcher(m)));
  }
  (slo.matchers ?? []).forEach((m, j) => assertValid(at, `matchers[${j}]`, m, checkMatcher(m)));
  assertValid(at, 'groupBy', slo.groupBy, slo.groupBy?.length > 0 ? undefined : 'must name at least one label');
  slo.groupBy.forEach((l, j) => assertValid(at, `groupBy[${j}]`, l, LABEL.test(l) ? undefined : 'must be a Prometheus label name'));
  assertValid(at, 'team', slo.team, slo.team !== '' ? checkLabelValue(slo.team) : 'must not be empty');
  assertValid(at, 'runbookUrl', slo.runbookUrl, checkHttpsUrl(slo.runbookUrl));
  const windows = slo.windows ?? SRE_WORKBOOK_WINDOWS;
  assertValid(at, 'windows', windows, windows.length > 0 ? undefined : 'must have at least one row');
  windows.forEach((w, j) => {
    const f = `windows[${j}]`;
    assertValid(at, `${f}.name`, w.name, /^[A-Za-z0-9]+$/.test(w.name) ? undefined : 'must be letters and digits');
    if (windows.findIndex((o) => o.name === w.name) !== j) throw new PropsError(at, `${f}.name`, w.name, 'must be unique');
    assertValid(at, `${f}.longWindow`, w.longWindow, checkPromDuration(w.longWindow));
    assertValid(at, `${f}.shortWindow`, w.shortWindow, checkPromDuration(w.shortWindow));
    assertValid(at, `${f}.for`, w.for, checkPromDuration(w.for));
    assertValid(at, `${f}.shortWindow`, w.shortWindow,
      seconds(w.shortWindow) < seconds(w.longWindow) ? undefined : `must be shorter than longWindow (${w.longWindow})`);
    // A threshold of 100 % or more can never be exceeded by a ratio: the row could never fire.
    assertValid(at, `${f}.burnRate`, w.burnRate, typeof w.burnRate === 'number' && w.burnRate > 0 && w.burnRate * (1 - slo.objective) < 1
      ? undefined : `must be greater than 0 and below ${num(1 / (1 - slo.objective))} (1 / the error budget of ${percent(1 - slo.objective)}), or the row can never fire`);
  });
}

function checkMatcher(m: unknown): string | undefined {
  return typeof m === 'string' && MATCHER.test(m) ? undefined : 'must be one PromQL label matcher such as status=~"5.." (label, =, !=, =~ or !~, a double-quoted value)';
}

/** Seconds of a Prometheus duration already checked by checkPromDuration. */
function seconds(d: string): number {
  const unit: { [u: string]: number } = { y: 31536000, w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };
  return [...d.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)].reduce((s, m) => s + Number(m[1]) * unit[m[2]], 0);
}

function num(v: number): string {
  return String(Number(v.toPrecision(12)));
}

function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(6))}%`;
}

function days(d: number): string {
  return d >= 1 ? `${num(Number(d.toPrecision(3)))} days` : `${num(Number((d * 24).toPrecision(3)))} hours`;
}

/**
 * The AnalysisTemplate of the Argo Rollouts engines that judges one revision by the SLOs: the same
 * {@link SloDefinition}s, `errorRatio` expressions and burn-rate thresholds as the burn-rate alerts
 * (`slo.ts`), narrowed to the revision's own series.
 */
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { argoDuration, KubeAnalysisTemplate, ROLLOUT_REVISION_METRIC_LABEL, SLO_ANALYSIS_ARGS } from './argo-rollouts';
import type { AnalysisTemplateSpec } from './argo-rollouts';
import { LabelSet } from './labels';
import { BurnRateWindow, errorRatio, SloDefinition, SRE_WORKBOOK_WINDOWS } from './slo';
import { assertValid, checkDnsSubdomain, checkInteger, checkLabelKey, checkPromDuration, PropsError } from './validation';

type AnalysisMetricSpec = AnalysisTemplateSpec['metrics'][number];

/** Properties of an {@link SloAnalysisTemplate}. */
export interface SloAnalysisTemplateProps {
  /** Exact name of the AnalysisTemplate. */
  readonly name: string;
  /** The SLOs judged, each one metric named by its `slo`; their selectors must name the workload and revision labels' series. */
  readonly slos: readonly SloDefinition[];
  /** URL of the Prometheus the Argo Rollouts controller queries, e.g. `http://prometheus-operated.monitoring.svc:9090`. */
  readonly prometheusAddress: string;
  /**
   * The burn-rate row whose short window and threshold a measurement uses: a revision fails when its
   * own bad ratio over `shortWindow` is above `burnRate × (1 − objective)`, i.e. when its own
   * traffic meets that row's paging condition. @default SRE_WORKBOOK_WINDOWS[0] (14.4× over 5m)
   */
  readonly window?: BurnRateWindow;
  /** Time between measurements. @default Duration.minutes(1) */
  readonly interval?: Duration;
  /** Measurements per run (an analysis step ends after them). @default 5 */
  readonly count?: number;
  /** Failed measurements tolerated; one more fails the analysis and aborts the rollout. @default 0 */
  readonly failureLimit?: number;
  /** The label naming the workload on every series (a ServiceMonitor's `jobLabel` makes it `job`). @default 'job' */
  readonly workloadLabel?: string;
  /** Labels of the AnalysisTemplate. @default - none */
  readonly labels?: LabelSet;
}

/** One metric of an {@link SloAnalysisTemplate}. */
export interface SloAnalysisMetric {
  /** Metric name (the SLO's `slo`). */
  readonly name: string;
  /** The revision's bad ratio; no traffic (no series, or 0 requests) reads 0, as the alert reads it: not bad. */
  readonly query: string;
  /** Highest passing ratio: `burnRate × (1 − objective)`. */
  readonly threshold: number;
  /** The Argo condition: `result[0] <= <threshold>`. */
  readonly successCondition: string;
}

/**
 * An AnalysisTemplate judging one revision of a Rollout by the SLOs: per SLO, the bad ratio of
 * that revision's own series (by the `rollouts_pod_template_hash` label, which the ServiceMonitor
 * copies from the pods) over the short window of a burn-rate row, against that row's threshold.
 * The expression is the burn-rate alert's `errorRatio`, narrowed to the revision: the analysis and
 * the alert cannot disagree about what "bad" is. Arguments: `workload` and `revision`, no defaults.
 */
export class SloAnalysisTemplate extends Construct {
  /** Exact name. */
  public readonly name: string;
  /** The metrics, in the SLOs' order. */
  public readonly metrics: readonly SloAnalysisMetric[];
  /** The burn-rate row used. */
  public readonly window: BurnRateWindow;
  /** The AnalysisTemplate. */
  public readonly resource: KubeAnalysisTemplate;

  constructor(scope: Construct, id: string, props: SloAnalysisTemplateProps) {
    super(scope, id);
    const where = `SloAnalysisTemplate ${props.name ?? id}`;
    assertValid(where, 'name', props.name, checkDnsSubdomain(props.name));
    if (!Array.isArray(props.slos) || props.slos.length === 0) throw new PropsError(where, 'slos', props.slos, 'must name at least one SLO');
    assertValid(where, 'prometheusAddress', props.prometheusAddress,
      typeof props.prometheusAddress === 'string' && /^https?:\/\/[^\s/]+(\/\S*)?$/.test(props.prometheusAddress) ? undefined : 'must be an http(s) URL');
    this.window = props.window ?? SRE_WORKBOOK_WINDOWS[0];
    assertValid(where, 'window.shortWindow', this.window.shortWindow, checkPromDuration(this.window.shortWindow));
    const interval = wholeSeconds(where, 'interval', props.interval ?? Duration.minutes(1));
    const count = props.count ?? 5;
    assertValid(where, 'count', count, checkInteger(count, 1));
    const failureLimit = props.failureLimit ?? 0;
    assertValid(where, 'failureLimit', failureLimit, checkInteger(failureLimit, 0, count - 1));
    const workloadLabel = props.workloadLabel ?? 'job';
    assertValid(where, 'workloadLabel', workloadLabel, checkLabelKey(workloadLabel));
    this.name = props.name;
    const revision = [
      `${workloadLabel}="{{args.${SLO_ANALYSIS_ARGS.workload}}}"`,
      `${ROLLOUT_REVISION_METRIC_LABEL}="{{args.${SLO_ANALYSIS_ARGS.revision}}}"`,
    ];
    this.metrics = props.slos.map((slo, i) => {
      assertValid(where, `slos[${i}].objective`, slo.objective,
        typeof slo.objective === 'number' && slo.objective > 0 && slo.objective < 1 ? undefined : 'must be a ratio greater than 0 and less than 1');
      const threshold = Number((this.window.burnRate * (1 - slo.objective)).toPrecision(12));
      // `>= 0` drops NaN (no requests in the window), `or vector(0)` answers no series at all: both
      // read 0, as the alert reads them (it never fires without traffic).
      const query = `(\n${errorRatio(slo, this.window.shortWindow, { groupBy: [], matchers: revision })}\n) >= 0 or vector(0)`;
      return { name: slo.slo, query, threshold, successCondition: `result[0] <= ${threshold}` };
    });
    if (new Set(this.metrics.map((m) => m.name)).size !== this.metrics.length) {
      throw new PropsError(where, 'slos', this.metrics.map((m) => m.name), 'must each have a distinct slo name (the metric names)');
    }
    this.resource = new KubeAnalysisTemplate(this, 'Resource', {
      metadata: { name: props.name, labels: props.labels },
      spec: {
        args: [{ name: SLO_ANALYSIS_ARGS.workload }, { name: SLO_ANALYSIS_ARGS.revision }],
        metrics: this.metrics.map((m): AnalysisMetricSpec => ({
          name: m.name,
          interval: argoDuration(interval),
          count,
          failureLimit,
          successCondition: m.successCondition,
          provider: { prometheus: { address: props.prometheusAddress, query: m.query } },
        })),
      },
    });
  }

  /** The query of metric `name` with its arguments filled in, as the controller sends it. */
  public queryFor(name: string, args: { readonly workload: string; readonly revision: string }): string {
    const metric = this.metrics.find((m) => m.name === name);
    if (metric === undefined) throw new PropsError(`SloAnalysisTemplate ${this.name}`, 'metric', name, `must be one of ${this.metrics.map((m) => m.name).join(', ')}`);
    return metric.query
      .replaceAll(`{{args.${SLO_ANALYSIS_ARGS.workload}}}`, args.workload)
      .replaceAll(`{{args.${SLO_ANALYSIS_ARGS.revision}}}`, args.revision);
  }
}

function wholeSeconds(where: string, field: string, d: Duration): number {
  const ms = d instanceof Duration ? d.toMilliseconds() : NaN;
  assertValid(where, field, Number.isFinite(ms) ? `${ms / 1000}s` : d, Number.isInteger(ms / 1000) && ms >= 1000 ? undefined : 'must be whole seconds, at least 1');
  return ms / 1000;
}

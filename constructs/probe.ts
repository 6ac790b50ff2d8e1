/**
 * Synthetic checks of public URLs: a prometheus-operator `Probe` that has Prometheus ask a
 * blackbox-exporter to fetch each URL, and an alert when a URL fails. It covers what no scrape of
 * the application can: a component without metrics (a Next.js frontend), the Ingress, TLS and DNS
 * on the way, and an outage at a time without user traffic (no requests, no error ratio).
 *
 * The cluster must run a blackbox-exporter (e.g. the prometheus-community chart
 * `prometheus-blackbox-exporter`) reachable at `proberUrl`, with the `module` configured (its
 * default configuration has `http_2xx`), and Prometheus must select Probes by the given labels
 * (kube-prometheus-stack: `probeSelector`, by default the same `release` label as ServiceMonitors).
 * blackbox-exporter answers `probe_success` (1 or 0) per target; prometheus-operator labels it `instance`
 * (the URL) and `job` (the Probe's `jobName`).
 */
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import { AlertSeverity, PrometheusRules } from './monitoring';
import { KubeProbe } from './prometheus-operator';
import { assertValid, checkDnsSubdomain, checkHttpsUrl, checkLabelValue, checkPromDuration, PropsError } from './validation';

/** Properties of {@link UrlProbe}. */
export interface UrlProbeProps {
  /** Exact Probe name; also its `job` label. */
  readonly name: string;
  /** Labels of the Probe (those Prometheus selects Probes by). @default - none */
  readonly labels?: LabelSet;
  /** The blackbox-exporter, as `host:port`. */
  readonly proberUrl: string;
  /** blackbox-exporter module. @default 'http_2xx' */
  readonly module?: string;
  /** The https URLs to check. */
  readonly urls: readonly string[];
  /** How often each URL is checked. @default '30s' */
  readonly interval?: string;
  /** The PrometheusRule the `ProbeFailed` alert group is added to. */
  readonly rules: PrometheusRules;
  /** How long a URL must fail before the alert fires. @default '2m' */
  readonly for?: string;
  /** @default AlertSeverity.CRITICAL */
  readonly severity?: AlertSeverity;
  /** `team` label. */
  readonly team: string;
  /** `runbook_url` annotation. */
  readonly runbookUrl: string;
  /** Name of the rule group. @default 'synthetic-probes' */
  readonly groupName?: string;
  /** Evaluation interval. @default '30s' */
  readonly evaluationInterval?: string;
}

/** A Probe over `urls` and the `ProbeFailed` alert on its results. */
export class UrlProbe extends Construct {
  /** The Probe. */
  public readonly resource: KubeProbe;
  /** The `job` label of the probe's series. */
  public readonly job: string;

  constructor(scope: Construct, id: string, props: UrlProbeProps) {
    super(scope, id);
    const where = `UrlProbe ${props.name ?? id}`;
    assertValid(where, 'name', props.name, checkDnsSubdomain(props.name));
    assertValid(where, 'proberUrl', props.proberUrl, /^[a-z0-9.-]+:[0-9]{1,5}$/.test(props.proberUrl ?? '') ? undefined : 'must be host:port of the blackbox-exporter');
    if (props.urls.length === 0) throw new PropsError(where, 'urls', [], 'must name at least one URL');
    props.urls.forEach((u, i) => assertValid(where, `urls[${i}]`, u, checkHttpsUrl(u)));
    const interval = props.interval ?? '30s';
    const forDuration = props.for ?? '2m';
    assertValid(where, 'interval', interval, checkPromDuration(interval));
    assertValid(where, 'for', forDuration, checkPromDuration(forDuration));
    assertValid(where, 'team', props.team, props.team !== '' ? checkLabelValue(props.team) : 'must not be empty');
    assertValid(where, 'runbookUrl', props.runbookUrl, checkHttpsUrl(props.runbookUrl));
    this.job = props.name;

    this.resource = new KubeProbe(this, 'Resource', {
      metadata: { name: props.name, labels: props.labels },
      spec: {
        jobName: this.job,
        interval,
        module: props.module ?? 'http_2xx',
        prober: { url: props.proberUrl, scheme: 'http', path: '/probe' },
        targets: { staticConfig: { static: [...props.urls] } },
      },
    });

    const job = `job="${this.job}"`;
    const group = props.rules.addGroup(props.groupName ?? 'synthetic-probes', { interval: props.evaluationInterval ?? '30s' });
    group.addAlert({
      name: 'ProbeFailed',
      // A URL whose check fails, and, deliberately, every URL when there are no results at all (no
      // blackbox-exporter, or the Probe not selected): then nothing watches those URLs.
      expr: [
        `probe_success{${job}} == 0`,
        ...props.urls.map((u) => `or absent(probe_success{${job}, instance="${u}"}) * 0`),
      ].join('\n'),
      for: forDuration,
      severity: props.severity ?? AlertSeverity.CRITICAL,
      team: props.team,
      runbookUrl: props.runbookUrl,
      summary: '{{ $labels.instance }} fails its synthetic check',
      description: `{{ $labels.instance }} has failed its ${props.module ?? 'http_2xx'} check from the blackbox-exporter for more than ${forDuration} `
        + '(or no check result exists: the blackbox-exporter does not run or the Probe is not selected).',
    });
  }
}

/**
 * Prometheus monitoring as constructs: a ServiceMonitor that scrapes {@link Microservice} objects
 * (never Service names), and PrometheusRule alert groups whose every alert carries the labels and
 * annotations an on-call engineer needs.
 */
import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { Conventions } from './conventions';
import { LabelSet } from './labels';
import { Microservice } from './microservice';
import {
  KubePrometheusRule, KubeServiceMonitor, RuleGroupSpec, RuleSpec, ServiceMonitorEndpoint,
} from './prometheus-operator';
import {
  assertValid, checkDnsLabel, checkDnsSubdomain, checkHttpsUrl, checkLabelKey, checkLabelValue, checkPromDuration, PropsError,
} from './validation';

/** Properties of a {@link WorkloadMonitor}. */
export interface WorkloadMonitorProps {
  /** Exact ServiceMonitor name. */
  readonly name: string;
  /**
   * Labels of the ServiceMonitor itself: put the labels Prometheus selects monitors by here
   * (kube-prometheus-stack: `release: <helm release>`), or Prometheus ignores the monitor.
   * @default - none
   */
  readonly labels?: LabelSet;
  /** Labels every scraped Service already carries, e.g. `app.kubernetes.io/part-of`; part of the selector. */
  readonly selectLabels: LabelSet;
  /**
   * Labels added to the Services of every scraped workload and also part of the selector, so only
   * workloads passed to {@link WorkloadMonitor.scrape} are selected.
   * @default { monitoring: 'scraped' }
   */
  readonly scrapeLabels?: LabelSet;
  /** Namespaces whose Services are selected. @default - the ServiceMonitor's own namespace */
  readonly namespaces?: readonly string[];
  /** Scrape interval (Prometheus duration). @default '30s' */
  readonly interval?: string;
  /** HTTP path of the metrics. @default '/metrics' */
  readonly path?: string;
  /**
   * Service label whose value becomes the `job` of every series: with the default, the active and
   * the preview Service of a blue/green component share one job, the component name.
   * @default 'app.kubernetes.io/name'
   */
  readonly jobLabel?: string;
  /**
   * Pod labels copied onto every series of the pod; the default labels each series of a blue/green
   * pair with its colour.
   * @default - [the colour label of `Conventions.of(scope)`] (`['version']` by default)
   */
  readonly podTargetLabels?: readonly string[];
  /** Service port number of the `metrics` port added to scraped Services. @default 9090 */
  readonly metricsPort?: number;
}

/**
 * A ServiceMonitor selecting, by label, the Services of every workload passed to {@link scrape}
 * and scraping their port named `metrics` (added to each of those Services, targeting the
 * container's HTTP port, where the app serves `/metrics`).
 */
export class WorkloadMonitor extends Construct {
  /** Exact ServiceMonitor name. */
  public readonly name: string;
  /** The label selector of the ServiceMonitor (`spec.selector.matchLabels`). */
  public readonly selector: LabelSet;
  /** Labels added to the Services of scraped workloads. */
  public readonly scrapeLabels: LabelSet;
  /** Scrape interval. */
  public readonly interval: string;
  /** HTTP path of the metrics. */
  public readonly path: string;
  /** Service label that names the `job`. */
  public readonly jobLabel: string;
  /** Service port number of the `metrics` port. */
  public readonly metricsPort: number;
  /** The underlying ServiceMonitor. */
  public readonly resource: KubeServiceMonitor;
  private readonly scraped: Microservice[] = [];

  constructor(scope: Construct, id: string, props: WorkloadMonitorProps) {
    super(scope, id);
    const where = `WorkloadMonitor ${props.name ?? id}`;
    assertValid(where, 'name', props.name, checkDnsSubdomain(props.name));
    this.name = props.name;
    this.scrapeLabels = props.scrapeLabels ?? { monitoring: 'scraped' };
    this.selector = { ...props.selectLabels, ...this.scrapeLabels };
    this.interval = props.interval ?? '30s';
    this.path = props.path ?? '/metrics';
    this.jobLabel = props.jobLabel ?? 'app.kubernetes.io/name';
    this.metricsPort = props.metricsPort ?? 9090;
    const podTargetLabels = props.podTargetLabels ?? [Conventions.of(this).colourLabel];

    checkLabels(where, 'labels', props.labels ?? {});
    checkLabels(where, 'selectLabels', this.selector);
    assertValid(where, 'interval', this.interval, checkPromDuration(this.interval));
    assertValid(where, 'path', this.path, this.path.startsWith('/') ? undefined : 'must be an absolute HTTP path');
    assertValid(where, 'jobLabel', this.jobLabel, checkLabelKey(this.jobLabel));
    for (const label of podTargetLabels) assertValid(where, 'podTargetLabels', label, checkLabelKey(label));
    for (const ns of props.namespaces ?? []) assertValid(where, 'namespaces', ns, checkDnsLabel(ns));

    const endpoint: ServiceMonitorEndpoint = {
      port: Microservice.METRICS_PORT_NAME,
      path: this.path,
      interval: this.interval,
      scheme: 'http',
    };
    this.resource = new KubeServiceMonitor(this, 'Resource', {
      metadata: { name: props.name, labels: props.labels },
      spec: {
        jobLabel: this.jobLabel,
        podTargetLabels: [...podTargetLabels],
        selector: { matchLabels: { ...this.selector } },
        namespaceSelector: props.namespaces === undefined ? undefined : { matchNames: [...props.namespaces] },
        endpoints: [endpoint],
      },
    });

    this.node.addValidation({ validate: () => this.problems() });
  }

  /** The workloads scraped, in the order they were added. */
  public get workloads(): readonly Microservice[] {
    return [...this.scraped];
  }

  /**
   * Scrapes `workload`: every Service it has gets the `metrics` port and the scrape labels (see
   * {@link Microservice.exposeMetrics}), and so is selected by this monitor.
   */
  public scrape(workload: Microservice): void {
    if (this.scraped.includes(workload)) {
      throw new PropsError(`WorkloadMonitor ${this.name}`, 'workload', workload.name, 'must be scraped once');
    }
    workload.exposeMetrics({ port: this.metricsPort, serviceLabels: this.scrapeLabels });
    this.scraped.push(workload);
  }

  private problems(): string[] {
    if (this.scraped.length === 0) return [`ServiceMonitor ${this.name} scrapes no workload: call scrape() with at least one`];
    const problems: string[] = [];
    for (const workload of this.scraped) {
      for (const service of workload.services) {
        const label = (key: string) => service.metadata.getLabel(key);
        const missing = Object.entries(this.selector).filter(([k, v]) => label(k) !== v).map(([k, v]) => `${k}=${v}`);
        if (missing.length > 0) problems.push(`Service ${service.name} lacks the selected labels ${missing.join(', ')}`);
        if (label(this.jobLabel) === undefined) problems.push(`Service ${service.name} lacks the job label ${this.jobLabel}`);
      }
    }
    return problems;
  }
}

/** Severity of an alert (the `severity` label Alertmanager routes by). */
export enum AlertSeverity {
  CRITICAL = 'critical',
  WARNING = 'warning',
  INFO = 'info',
}

/** One alerting rule. Everything an on-call engineer needs is required. */
export interface AlertRule {
  /** Alert name, e.g. `HighErrorRate` (letters, digits and `_`). */
  readonly name: string;
  /** PromQL expression; every series it returns is an alert instance. */
  readonly expr: string;
  /** How long the expression must hold before the alert fires (Prometheus duration). */
  readonly for: string;
  /** `severity` label. */
  readonly severity: AlertSeverity;
  /** `team` label: who is paged. */
  readonly team: string;
  /** `summary` annotation (Go template, e.g. `High error rate in {{ $labels.service }}`). */
  readonly summary: string;
  /** `description` annotation (Go template). */
  readonly description: string;
  /** `runbook_url` annotation: an https URL. */
  readonly runbookUrl: string;
  /** Further labels. @default - none */
  readonly labels?: LabelSet;
  /** Further annotations. @default - none */
  readonly annotations?: { readonly [key: string]: string };
}

/** Options of {@link PrometheusRules.addGroup}. */
export interface AlertGroupOptions {
  /** Evaluation interval of the group (Prometheus duration). @default - Prometheus's global evaluation interval */
  readonly interval?: string;
}

const ALERT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A rule group of a {@link PrometheusRules}; alerts are evaluated in the order they are added. */
export class AlertGroup {
  /** The alerts of the group. */
  private readonly rules: AlertRule[] = [];

  /** @param name group name, unique in its PrometheusRule. @param interval evaluation interval. */
  constructor(public readonly name: string, public readonly interval: string | undefined) {}

  /** The alerts added so far. */
  public get alerts(): readonly AlertRule[] {
    return [...this.rules];
  }

  /** Adds an alert; throws on an invalid or duplicate one. */
  public addAlert(alert: AlertRule): void {
    const where = `AlertGroup ${this.name}`;
    assertValid(where, 'name', alert.name, ALERT_NAME.test(alert.name) ? undefined : 'must match [A-Za-z_][A-Za-z0-9_]*');
    if (this.rules.some((r) => r.name === alert.name)) throw new PropsError(where, 'name', alert.name, 'must be unique in its group');
    const at = `${where} ${alert.name}`;
    assertValid(at, 'expr', alert.expr, alert.expr.trim() === '' ? 'must be a PromQL expression' : undefined);
    assertValid(at, 'for', alert.for, checkPromDuration(alert.for));
    assertValid(at, 'severity', alert.severity,
      Object.values(AlertSeverity).includes(alert.severity) ? undefined : `must be one of ${Object.values(AlertSeverity).join(', ')}`);
    assertValid(at, 'team', alert.team, checkLabelValue(alert.team) ?? (alert.team === '' ? 'must not be empty' : undefined));
    assertValid(at, 'summary', alert.summary, alert.summary.trim() === '' ? 'must not be empty' : undefined);
    assertValid(at, 'description', alert.description, alert.description.trim() === '' ? 'must not be empty' : undefined);
    assertValid(at, 'runbookUrl', alert.runbookUrl, checkHttpsUrl(alert.runbookUrl));
    checkLabels(at, 'labels', alert.labels ?? {});
    this.rules.push(alert);
  }

  /** The group as the CRD spells it. */
  public toSpec(): RuleGroupSpec {
    return {
      name: this.name,
      interval: this.interval,
      rules: this.rules.map((a): RuleSpec => ({
        alert: a.name,
        expr: a.expr,
        for: a.for,
        labels: { ...a.labels, severity: a.severity, team: a.team },
        annotations: { ...a.annotations, summary: a.summary, description: a.description, runbook_url: a.runbookUrl },
      })),
    };
  }
}

/** Properties of a {@link PrometheusRules}. */
export interface PrometheusRulesProps {
  /** Exact PrometheusRule name. */
  readonly name: string;
  /**
   * Labels of the PrometheusRule: put the labels Prometheus selects rules by here
   * (kube-prometheus-stack: `release: <helm release>`), or Prometheus ignores the rules silently.
   * @default - none
   */
  readonly labels?: LabelSet;
}

/** A PrometheusRule made of {@link AlertGroup}s. */
export class PrometheusRules extends Construct {
  /** Exact PrometheusRule name. */
  public readonly name: string;
  /** The underlying PrometheusRule. */
  public readonly resource: KubePrometheusRule;
  private readonly groupList: AlertGroup[] = [];

  constructor(scope: Construct, id: string, props: PrometheusRulesProps) {
    super(scope, id);
    const where = `PrometheusRules ${props.name ?? id}`;
    assertValid(where, 'name', props.name, checkDnsSubdomain(props.name));
    checkLabels(where, 'labels', props.labels ?? {});
    this.name = props.name;
    this.resource = new KubePrometheusRule(this, 'Resource', {
      metadata: { name: props.name, labels: props.labels },
      spec: { groups: Lazy.any({ produce: () => this.groupList.map((g) => g.toSpec()) }) },
    });
    this.node.addValidation({
      validate: () => (this.groupList.length === 0 ? [`PrometheusRule ${this.name} has no rule group`] : [])
        .concat(this.groupList.filter((g) => g.alerts.length === 0).map((g) => `rule group ${g.name} has no alert`)),
    });
  }

  /** The groups added so far. */
  public get groups(): readonly AlertGroup[] {
    return [...this.groupList];
  }

  /** Adds a rule group named `name` (unique in this PrometheusRule). */
  public addGroup(name: string, options: AlertGroupOptions = {}): AlertGroup {
    const where = `PrometheusRules ${this.name}`;
    assertValid(where, 'group name', name, name.trim() === '' ? 'must not be empty' : undefined);
    if (this.groupList.some((g) => g.name === name)) throw new PropsError(where, 'group name', name, 'must be unique');
    if (options.interval !== undefined) assertValid(`${where} ${name}`, 'interval', options.interval, checkPromDuration(options.interval));
    const group = new AlertGroup(name, options.interval);
    this.groupList.push(group);
    return group;
  }
}

function checkLabels(where: string, field: string, labels: LabelSet): void {
  for (const [key, value] of Object.entries(labels)) {
    assertValid(where, `${field} key`, key, checkLabelKey(key));
    assertValid(where, `${field}.${key}`, value, checkLabelValue(value));
  }
}

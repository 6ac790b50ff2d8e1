/**
 * Alert routing for the alerts of a namespace: a prometheus-operator `AlertmanagerConfig`
 * (`monitoring.coreos.com/v1alpha1`) routing by `team` and `severity` to Slack and e-mail receivers
 * whose credentials are read from Secrets (never written), with grouping, repeat intervals and the
 * inhibition of warnings by a critical alert for the same service. It also reads every
 * PrometheusRule of its chart and refuses a rule whose team no route sends anywhere.
 */
import type { IAlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig';
import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { AlertSeverity } from './monitoring';
import { assertValid, checkDnsSubdomain, PropsError } from './validation';

/** A key of a Secret in the namespace of the AlertmanagerConfig (the operator reads it from there). */
export interface SecretKey {
  /** Secret name. */
  readonly name: string;
  /** Key in the Secret. */
  readonly key: string;
}

/** A Slack incoming webhook. */
export interface SlackTarget {
  /** Where the webhook URL is. */
  readonly webhookUrl: SecretKey;
  /** Channel, e.g. `#alerts`. */
  readonly channel: string;
  /**
   * Mentions prefixed to the message (`<!here>`, `<!subteam^ID>`): what makes a Slack message page.
   * @default - none: the message notifies the channel and pages nobody
   */
  readonly mentions?: readonly string[];
}

/** An e-mail destination through an authenticated SMTP relay. */
export interface EmailTarget {
  /** Recipient address. */
  readonly to: string;
  /** Sender address. */
  readonly from: string;
  /** SMTP relay `host:port`. */
  readonly smarthost: string;
  /** SMTP user. */
  readonly username: string;
  /** Where the SMTP password is. */
  readonly password: SecretKey;
}

/** A receiver: where notifications go. */
export interface AlertReceiver {
  /** Receiver name (unique in the config). */
  readonly name: string;
  /** Slack destination. @default - none */
  readonly slack?: SlackTarget;
  /** E-mail destination. @default - none */
  readonly email?: EmailTarget;
}

/** A route: alerts of a team (and optionally a severity) go to a receiver. */
export interface AlertRoute {
  /** Value of the `team` label. */
  readonly team: string;
  /** Value of the `severity` label. @default - any severity */
  readonly severity?: AlertSeverity;
  /** Name of a receiver of the config. */
  readonly receiver: string;
  /** How often a firing group is notified again. @default - the config's `repeatInterval` */
  readonly repeatInterval?: string;
}

/** Properties of {@link AlertRouting}. */
export interface AlertRoutingProps {
  /** Name of the AlertmanagerConfig. */
  readonly name: string;
  /** Labels of the AlertmanagerConfig (the Alertmanager's `alertmanagerConfigSelector`). @default - none */
  readonly labels?: { readonly [key: string]: string };
  /** The receivers. */
  readonly receivers: readonly AlertReceiver[];
  /** The routes, most specific first (the first that matches wins). */
  readonly routes: readonly AlertRoute[];
  /** Receiver of alerts no route matches. */
  readonly defaultReceiver: string;
  /** Labels alerts are grouped by. @default ['alertname', 'team', 'service'] */
  readonly groupBy?: readonly string[];
  /** Wait before the first notification of a group. @default '30s' */
  readonly groupWait?: string;
  /** Wait before notifying a group of new alerts. @default '5m' */
  readonly groupInterval?: string;
  /** Wait before notifying a still-firing group again. @default '4h' */
  readonly repeatInterval?: string;
  /** Labels a critical alert must share with a warning to silence it. @default ['namespace', 'service'] */
  readonly inhibitEqual?: readonly string[];
  /** Where the rules are, for error messages (e.g. the environment). @default - the chart's id */
  readonly context?: string;
}

/** One alerting rule as a PrometheusRule states it. */
export interface RuleAlert {
  /** Alert name. */
  readonly alert: string;
  /** PromQL expression. */
  readonly expr: string;
  /** How long the expression must hold. @default - fires at once */
  readonly for?: string;
  /** Labels (`severity`, `team`). */
  readonly labels: { readonly [key: string]: string };
  /** Annotations (`summary`, `description`, `runbook_url`). */
  readonly annotations: { readonly [key: string]: string };
  /** The PrometheusRule holding it. */
  readonly ruleName: string;
}

const DURATION = /^(\d+(ms|s|m|h))+$/;

/** Every alerting rule of the PrometheusRules of a chart, in construct order. */
export function alertsOf(chart: Chart): RuleAlert[] {
  return chart.node.findAll()
    .filter((c): c is ApiObject => c instanceof ApiObject && c.kind === 'PrometheusRule')
    .flatMap((o) => {
      const json = o.toJson() as { spec?: { groups?: { rules?: { alert?: string; expr: string; for?: string; labels?: { [k: string]: string }; annotations?: { [k: string]: string } }[] }[] } };
      return (json.spec?.groups ?? []).flatMap((g) => (g.rules ?? []).filter((r) => r.alert !== undefined).map((r) => ({
        alert: r.alert!, expr: String(r.expr), ...(r.for !== undefined ? { for: r.for } : {}),
        labels: r.labels ?? {}, annotations: r.annotations ?? {}, ruleName: o.name,
      })));
    });
}

/** Routes the alerts of its chart's namespace; add it after every PrometheusRule of the chart. */
export class AlertRouting extends Construct {
  /** The AlertmanagerConfig. */
  public readonly resource: ApiObject;
  /** Every Secret key a receiver reads, by Secret name (sorted keys). */
  public readonly secretKeys: ReadonlyMap<string, readonly string[]>;

  constructor(scope: Construct, id: string, props: AlertRoutingProps) {
    super(scope, id);
    const where = `AlertRouting ${props.name}`;
    assertValid(where, 'name', props.name, checkDnsSubdomain(props.name));
    const names = props.receivers.map((r) => r.name);
    props.receivers.forEach((r, i) => {
      if (names.indexOf(r.name) !== i) throw new PropsError(where, `receivers[${i}].name`, r.name, 'must be unique');
      if (r.slack === undefined && r.email === undefined) throw new PropsError(where, `receivers[${i}]`, r.name, 'must have a slack or an email target');
    });
    const known = (field: string, receiver: string) => {
      if (!names.includes(receiver)) throw new PropsError(where, field, receiver, `must name a receiver (receivers: ${names.join(', ') || 'none'})`);
    };
    known('defaultReceiver', props.defaultReceiver);
    props.routes.forEach((r, i) => {
      known(`routes[${i}].receiver`, r.receiver);
      if (r.repeatInterval !== undefined && !DURATION.test(r.repeatInterval)) throw new PropsError(where, `routes[${i}].repeatInterval`, r.repeatInterval, 'must be a duration such as 4h or 30m');
    });
    for (const [field, value] of [['groupWait', props.groupWait], ['groupInterval', props.groupInterval], ['repeatInterval', props.repeatInterval]] as const) {
      if (value !== undefined && !DURATION.test(value)) throw new PropsError(where, field, value, 'must be a duration such as 4h or 30m');
    }

    // Every team a rule of the chart names has a route: an alert nobody receives is a synth error.
    const chart = Chart.of(this);
    const context = props.context ?? chart.node.id;
    const routed = new Set(props.routes.map((r) => r.team));
    for (const a of alertsOf(chart)) {
      const team = a.labels.team;
      if (team === undefined || !routed.has(team)) {
        throw new PropsError(where, 'routes', [...routed].sort(),
          `have no route for team ${JSON.stringify(team ?? '(no team label)')} of alert ${a.alert} (PrometheusRule ${a.ruleName}) in ${context}: add a route and a receiver for it`);
      }
    }

    const secrets = new Map<string, Set<string>>();
    const use = (s: SecretKey) => {
      secrets.set(s.name, (secrets.get(s.name) ?? new Set()).add(s.key));
      return { name: s.name, key: s.key };
    };
    const eq = (name: string, value: string) => ({ name, value, matchType: '=' as const });
    const spec: NonNullable<IAlertmanagerConfig['spec']> = {
      route: {
        receiver: props.defaultReceiver,
        groupBy: [...(props.groupBy ?? ['alertname', 'team', 'service'])],
        groupWait: props.groupWait ?? '30s',
        groupInterval: props.groupInterval ?? '5m',
        repeatInterval: props.repeatInterval ?? '4h',
        routes: props.routes.map((r) => ({
          receiver: r.receiver,
          matchers: [eq('team', r.team), ...(r.severity !== undefined ? [eq('severity', r.severity)] : [])],
          ...(r.repeatInterval !== undefined ? { repeatInterval: r.repeatInterval } : {}),
        })),
      },
      receivers: props.receivers.map((r) => ({
        name: r.name,
        ...(r.slack !== undefined ? {
          slackConfigs: [{
            apiURL: use(r.slack.webhookUrl),
            channel: r.slack.channel,
            sendResolved: true,
            title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }}, team {{ .CommonLabels.team }})',
            text: `${(r.slack.mentions ?? []).map((m) => `${m} `).join('')}{{ range .Alerts }}{{ .Annotations.summary }} <{{ .Annotations.runbook_url }}|runbook>\n{{ end }}`,
          }],
        } : {}),
        ...(r.email !== undefined ? {
          emailConfigs: [{
            to: r.email.to, from: r.email.from, smarthost: r.email.smarthost, authUsername: r.email.username,
            authPassword: use(r.email.password), requireTLS: true, sendResolved: true,
          }],
        } : {}),
      })),
      inhibitRules: [{
        sourceMatch: [eq('severity', AlertSeverity.CRITICAL)],
        targetMatch: [eq('severity', AlertSeverity.WARNING)],
        equal: [...(props.inhibitEqual ?? ['namespace', 'service'])],
      }],
    };
    this.secretKeys = new Map([...secrets].map(([name, keys]) => [name, [...keys].sort()]));
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'AlertmanagerConfig',
      metadata: { name: props.name, ...(props.labels !== undefined ? { labels: { ...props.labels } } : {}) },
      spec,
    });
  }
}

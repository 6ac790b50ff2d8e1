/**
 * Availability alerts read from kube-state-metrics: whether the Deployment a Service sends its
 * traffic to has the pods it needs, and whether the Service has a ready endpoint at all. They see
 * what a scrape-based alert cannot (`up == 0` needs a target): pods that are pending, deleted, scaled
 * to 0, or a Service whose selector matches nothing.
 *
 * Metric names and labels are kube-state-metrics' (docs/metrics/workload/deployment-metrics.md and
 * docs/metrics/service/endpoint-metrics.md upstream): `kube_deployment_status_replicas_available
 * {namespace, deployment}` and `kube_endpoint_address{namespace, endpoint, ip, ready}` (one series
 * per address: a Service without ready address has no `ready="true"` series at all).
 *
 * Absent series are handled on purpose: `absent(<selector>) * 0` stands for a series that does not
 * exist, with the selector's equality labels, so a Deployment that is missing entirely (or a Service
 * without any address) reads as 0 and alerts. The same happens when kube-state-metrics itself is not
 * scraped: then nothing can confirm the service is available, which is worth a page as well; the
 * description says both causes.
 */
import { Construct } from 'constructs';
import { AlertSeverity, PrometheusRules } from './monitoring';
import { assertValid, checkDnsLabel, checkDnsSubdomain, checkHttpsUrl, checkInteger, checkLabelValue, checkPromDuration, PropsError } from './validation';

/** One Service and the Deployment it currently selects. */
export interface AvailabilityTarget {
  /** The Service name (its Endpoints object has the same name). */
  readonly service: string;
  /**
   * The Deployment whose pods the Service selects (for blue/green: the active colour's).
   * @default - none: only `ServiceWithoutEndpoints` (e.g. pods owned by an Argo Rollout)
   */
  readonly deployment?: string;
  /** Fewest available pods the Service needs (e.g. the autoscaler's minimum), at least 1. */
  readonly minAvailable: number;
}

/** Properties of {@link AvailabilityAlerts}. */
export interface AvailabilityAlertsProps {
  /** The PrometheusRule the group is added to. */
  readonly rules: PrometheusRules;
  /** The namespace of the Services and Deployments. */
  readonly namespace: string;
  /** What to watch. */
  readonly targets: readonly AvailabilityTarget[];
  /** How long the condition must hold. @default '3m' */
  readonly for?: string;
  /** @default AlertSeverity.CRITICAL */
  readonly severity?: AlertSeverity;
  /** `team` label. */
  readonly team: string;
  /** Runbook URL of `DeploymentUnavailable`. */
  readonly deploymentRunbookUrl: string;
  /** Runbook URL of `ServiceWithoutEndpoints`. */
  readonly endpointsRunbookUrl: string;
  /** Name of the rule group. @default 'availability' */
  readonly groupName?: string;
  /** Evaluation interval. @default '30s' */
  readonly evaluationInterval?: string;
}

/** `DeploymentUnavailable` and `ServiceWithoutEndpoints` for each target. */
export class AvailabilityAlerts extends Construct {
  constructor(scope: Construct, id: string, props: AvailabilityAlertsProps) {
    super(scope, id);
    const groupName = props.groupName ?? 'availability';
    const where = `AvailabilityAlerts ${groupName}`;
    assertValid(where, 'namespace', props.namespace, checkDnsLabel(props.namespace));
    if (props.targets.length === 0) throw new PropsError(where, 'targets', [], 'must name at least one Service');
    props.targets.forEach((t, i) => {
      assertValid(where, `targets[${i}].service`, t.service, checkDnsLabel(t.service));
      if (t.deployment !== undefined) assertValid(where, `targets[${i}].deployment`, t.deployment, checkDnsSubdomain(t.deployment));
      assertValid(where, `targets[${i}].minAvailable`, t.minAvailable, checkInteger(t.minAvailable, 1));
      if (props.targets.findIndex((o) => o.service === t.service) !== i) throw new PropsError(where, `targets[${i}].service`, t.service, 'must be unique');
    });
    const forDuration = props.for ?? '3m';
    assertValid(where, 'for', forDuration, checkPromDuration(forDuration));
    assertValid(where, 'team', props.team, props.team !== '' ? checkLabelValue(props.team) : 'must not be empty');
    assertValid(where, 'deploymentRunbookUrl', props.deploymentRunbookUrl, checkHttpsUrl(props.deploymentRunbookUrl));
    assertValid(where, 'endpointsRunbookUrl', props.endpointsRunbookUrl, checkHttpsUrl(props.endpointsRunbookUrl));

    const ns = `namespace="${props.namespace}"`;
    const group = props.rules.addGroup(groupName, { interval: props.evaluationInterval ?? '30s' });
    const common = { for: forDuration, severity: props.severity ?? AlertSeverity.CRITICAL, team: props.team };
    // Per target: the available replicas (max over duplicate kube-state-metrics replicas), or 0 when
    // the series does not exist, labelled with the Service that needs them, below its minimum.
    const deployments = props.targets.filter((t): t is AvailabilityTarget & { deployment: string } => t.deployment !== undefined);
    if (deployments.length > 0) group.addAlert({
      ...common,
      name: 'DeploymentUnavailable',
      expr: deployments.map((t) => {
        const sel = `kube_deployment_status_replicas_available{${ns}, deployment="${t.deployment}"}`;
        return `label_replace(max by (namespace, deployment) (${sel}) or absent(${sel}) * 0, "service", "${t.service}", "", "") < ${t.minAvailable}`;
      }).join('\nor\n'),
      runbookUrl: props.deploymentRunbookUrl,
      summary: 'Service {{ $labels.service }} lacks available pods',
      description: 'Deployment {{ $labels.deployment }}, which Service {{ $labels.service }} in {{ $labels.namespace }} sends its '
        + `traffic to, has {{ $value }} available pods, fewer than it needs, for more than ${forDuration}. `
        + '0 also when kube-state-metrics reports no such Deployment (deleted, never applied) or is not scraped.',
    });
    group.addAlert({
      ...common,
      name: 'ServiceWithoutEndpoints',
      // No ready address means no `ready="true"` series: absent() yields the selector's labels then
      // (namespace, endpoint; `ready="true"` is dropped, it would read as the opposite of the alert).
      expr: props.targets.map((t) => `label_replace(absent(kube_endpoint_address{${ns}, endpoint="${t.service}", ready="true"}), "ready", "", "", "")`)
        .join('\nor\n'),
      runbookUrl: props.endpointsRunbookUrl,
      summary: 'Service {{ $labels.endpoint }} has no ready endpoint',
      description: `Service {{ $labels.endpoint }} in {{ $labels.namespace }} has had no ready endpoint for more than ${forDuration}: `
        + 'every request to it fails (the edge answers 502/503). Its selector matches no ready pod, or kube-state-metrics is not scraped.',
    });
  }
}

/**
 * L1 constructs for the prometheus-operator custom resources (`monitoring.coreos.com/v1`), typed by
 * the CRD-generated TypeScript types of `@kubernetes-models/prometheus-operator` (types only: nothing
 * from that package is loaded at synthesis). Their `spec` is written exactly as the CRD spells it.
 */
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IProbe } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Probe';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { ApiObject, ApiObjectMetadata, GroupVersionKind } from 'cdk8s';
import { Construct } from 'constructs';

/** `spec` of a ServiceMonitor, as the CRD defines it. */
export type ServiceMonitorSpec = IServiceMonitor['spec'];
/** One scrape endpoint of a ServiceMonitor (`spec.endpoints[]`). */
export type ServiceMonitorEndpoint = ServiceMonitorSpec['endpoints'][number];
/** `spec` of a PrometheusRule, as the CRD defines it. */
export type PrometheusRuleSpec = IPrometheusRule['spec'];
/** One rule group of a PrometheusRule (`spec.groups[]`). */
export type RuleGroupSpec = NonNullable<PrometheusRuleSpec['groups']>[number];
/** One alerting or recording rule (`spec.groups[].rules[]`). */
export type RuleSpec = NonNullable<RuleGroupSpec['rules']>[number];

/** Properties of a {@link KubeServiceMonitor}. */
export interface KubeServiceMonitorProps {
  /** Object metadata. @default - cdk8s generates a name */
  readonly metadata?: ApiObjectMetadata;
  /** The ServiceMonitor spec. */
  readonly spec: ServiceMonitorSpec;
}

/** A `monitoring.coreos.com/v1` ServiceMonitor: which Services Prometheus scrapes, and how. */
export class KubeServiceMonitor extends ApiObject {
  /** Group, version and kind of the resource. */
  public static readonly GVK: GroupVersionKind = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' };

  constructor(scope: Construct, id: string, props: KubeServiceMonitorProps) {
    super(scope, id, { ...KubeServiceMonitor.GVK, ...props });
  }
}

/** Properties of a {@link KubePrometheusRule}. */
export interface KubePrometheusRuleProps {
  /** Object metadata. @default - cdk8s generates a name */
  readonly metadata?: ApiObjectMetadata;
  /** The PrometheusRule spec. */
  readonly spec: PrometheusRuleSpec;
}

/** A `monitoring.coreos.com/v1` PrometheusRule: rule groups Prometheus loads and evaluates. */
export class KubePrometheusRule extends ApiObject {
  /** Group, version and kind of the resource. */
  public static readonly GVK: GroupVersionKind = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' };

  constructor(scope: Construct, id: string, props: KubePrometheusRuleProps) {
    super(scope, id, { ...KubePrometheusRule.GVK, ...props });
  }
}

/** `spec` of a Probe, as the CRD defines it. */
export type ProbeSpec = IProbe['spec'];

/** Properties of a {@link KubeProbe}. */
export interface KubeProbeProps {
  /** Object metadata. @default - cdk8s generates a name */
  readonly metadata?: ApiObjectMetadata;
  /** The Probe spec. */
  readonly spec: ProbeSpec;
}

/** A `monitoring.coreos.com/v1` Probe: targets Prometheus checks through a prober (blackbox-exporter). */
export class KubeProbe extends ApiObject {
  /** Group, version and kind of the resource. */
  public static readonly GVK: GroupVersionKind = { apiVersion: 'monitoring.coreos.com/v1', kind: 'Probe' };

  constructor(scope: Construct, id: string, props: KubeProbeProps) {
    super(scope, id, { ...KubeProbe.GVK, ...props });
  }
}

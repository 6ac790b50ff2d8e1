/**
 * The typed shape of an environment: everything that differs between staging, production and any
 * environment added later. An environment file is one object of type {@link EnvironmentConfig}; it never
 * builds constructs. The types of what users write are inferred from the schema in `schema.ts`, which
 * synthesis also checks at run time; `resolveEnvironments` fills in the `defaults` block and checks
 * the rules that need a value's meaning.
 */
import type { z } from 'zod';
import type { HttpServiceAlertTuning } from '../constructs/http-alerts';
import type { LabelSet } from '../constructs/labels';
import type { ContainerResources, ProbeTimings } from '../constructs/microservice';
import type { RemoteRef } from '../constructs/secrets';
import type { ReleaseState } from '../release/state';
import {
  argoSettingsSchema, componentDefaultsSchema, componentOverridesSchema, environmentSchema, monitoringOverridesSchema, networkSettingsSchema,
  ReleaseMode, RoutingMode, routingSettingsSchema, secretSettingsSchema, SecretMode,
} from './schema';

export { ReleaseMode, RoutingMode, SecretMode };
export type { ProbeTimings, RemoteRef };

/** One environment, as written in its file (the schema's input type). */
export type EnvironmentConfig = z.input<typeof environmentSchema>;
/** The `defaults` block of an environment file. */
export type ComponentDefaults = z.input<typeof componentDefaultsSchema>;
/** What an environment may override per component; anything omitted comes from `defaults`. */
export type ComponentOverrides = z.input<typeof componentOverridesSchema>;
/** What an environment may override of the monitoring defaults, down to one field of one alert. */
export type MonitoringOverrides = z.input<typeof monitoringOverridesSchema>;
/** Network settings of an environment, as written. */
export type NetworkSettings = z.input<typeof networkSettingsSchema>;
/** Where the environment's database credentials come from; never the values themselves. */
export type SecretSettings = z.input<typeof secretSettingsSchema>;
/** `db-credentials` is materialized by the external-secrets operator. */
export type ExternalSecretSettings = Extract<SecretSettings, { readonly mode: SecretMode.EXTERNAL_SECRET }>;
/** `db-credentials` is created out of band; the manifests only reference it. */
export type ExistingSecretSettings = Extract<SecretSettings, { readonly mode: SecretMode.EXISTING_SECRET }>;
/** Where a datastore runs: in the cluster or at fixed addresses outside it. */
export type DatastoreLocation = NetworkSettings['datastores'][string];
/** A datastore running in the cluster, selected by pod labels. */
export type InClusterDatastore = Extract<DatastoreLocation, { readonly podLabels: LabelSet }>;
/** A datastore outside the cluster (e.g. a managed database), reached at these addresses. */
export type ExternalDatastore = Extract<DatastoreLocation, { readonly cidrs: readonly string[] }>;

/** Options of the Argo Rollouts engines, as written (merged over `defaults.argo`). */
export type ArgoSettings = z.input<typeof argoSettingsSchema>;

/** Requests and limits of a container (the library's type). Every request must be <= its limit. */
export type ResourceSettings = ContainerResources;

/** Liveness and readiness probe timings. */
export interface ProbeSettings {
  readonly liveness: ProbeTimings;
  readonly readiness: ProbeTimings;
}

/** A HorizontalPodAutoscaler for a component; its minimum is the component's `replicas`. */
export interface AutoscalingSettings {
  readonly maxReplicas: number;
  /** Average CPU utilisation target, percent of the request. */
  readonly targetCpuUtilization: number;
}

/** Per-component settings of one environment, fully resolved. */
export interface ComponentSettings {
  /** Full size: pods of the Deployment, or of the active colour (HPA minimum when autoscaled). */
  readonly replicas: number;
  /** Rolling Deployment or blue/green pair. */
  readonly strategy: ReleaseMode;
  /** Pods of the idle colour outside a release (blue/green only), kept for an immediate rollback. */
  readonly standbyReplicas: number;
  /** Optional HPA on the Deployment (the active colour of a pair). */
  readonly autoscaling?: AutoscalingSettings;
  /** Blue/green: minutes after `promote` before `finalize` may shrink the previous colour. */
  readonly bakeMinutes: number;
  readonly resources: ResourceSettings;
  /**
   * Image tag of a rolling component, or the initial tag of both colours of a blue/green component
   * that has no release state yet (`undefined` when the environment file sets none).
   */
  readonly imageTag?: string;
  readonly probes: ProbeSettings;
  /** Options of the Argo Rollouts engines (`defaults.argo` with the component's fields over it). */
  readonly argo: ArgoSettings;
}

/** What serves the environment's public routes, as written. */
export type RoutingSettings = z.input<typeof routingSettingsSchema>;
/** Routes served by Gateway API HTTPRoutes attached to a platform Gateway. */
export type GatewayRoutingSettings = Extract<RoutingSettings, { readonly mode: RoutingMode.GATEWAY }>;

/** Hosts served by the environment's Ingress. */
export type DomainSettings = EnvironmentConfig['domains'];
/** TLS for the Ingress hosts. */
export type TlsSettings = EnvironmentConfig['tls'];

/** Monitoring of an environment, fully resolved (see `MONITORING_DEFAULTS` in `monitoring.ts`). */
export interface MonitoringSettings {
  /**
   * Labels the cluster's Prometheus selects ServiceMonitors and PrometheusRules by; put on both.
   * kube-prometheus-stack selects `release: <helm release name>`.
   */
  readonly prometheusSelector: LabelSet;
  /** How often every component is scraped (Prometheus duration). */
  readonly scrapeInterval: string;
  /** How often the alert rules are evaluated (Prometheus duration). */
  readonly evaluationInterval: string;
  /** Range of the alerts' rate() windows and histogram quantiles: at least four scrape intervals. */
  readonly rateWindow: string;
  /** Number of the `metrics` port of every scraped Service (it targets the container port). */
  readonly metricsPort: number;
  /** Runbook URL of each alert; `{alert}` is replaced by the alert's slug (`high-error-rate`). */
  readonly runbookUrlPattern: string;
  /** Threshold, `for` duration, severity and team of each alert. */
  readonly alerts: HttpServiceAlertTuning;
}

/** Pods of another namespace, selected by the namespace's name and the pods' labels. */
export interface PodSelection {
  /** Namespace the pods run in. */
  readonly namespace: string;
  /** Labels the pods carry (all must match). */
  readonly podLabels: LabelSet;
}

/** The ingress controller: it reaches what the Ingress routes to; the frontend calls its HTTPS port. */
export interface IngressControllerSettings extends PodSelection {
  /** Port of the controller's pods serving HTTPS. */
  readonly httpsPort: number;
}

/** The cluster DNS, which every pod may query over UDP and TCP. */
export interface DnsSettings extends PodSelection {
  /** Port of the DNS pods. */
  readonly port: number;
}

/** Network settings with every default filled in. */
export interface ResolvedNetworkSettings {
  readonly ingressController: IngressControllerSettings;
  readonly prometheus: PodSelection;
  readonly dns: DnsSettings;
  readonly datastores: { readonly [datastore: string]: DatastoreLocation };
}

/** An environment with every component's settings filled in from `defaults`. */
export interface ResolvedEnvironment extends Omit<EnvironmentConfig, 'components' | 'monitoring' | 'network' | 'defaults' | 'routing'> {
  readonly components: { readonly [component: string]: ComponentSettings };
  /** Release state of every blue/green component (from the release state file, or initial). */
  readonly releases: ReleaseState;
  readonly monitoring: MonitoringSettings;
  readonly network: ResolvedNetworkSettings;
  /** What serves the public routes (`{ mode: 'ingress' }` when the file says nothing). */
  readonly routing: RoutingSettings;
}

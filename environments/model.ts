/**
 * The typed shape of an environment: everything that differs between staging, production and any
 * environment added later. An environment file is one object of type {@link EnvironmentConfig}; it never
 * builds constructs. `resolveEnvironment` fills in the `defaults` block and `validateEnvironment`
 * checks the result as a whole.
 */

import type { HttpServiceAlertTuning } from '../constructs/http-alerts';
import type { LabelSet } from '../constructs/labels';
import { ContainerResources, ProbeTimings } from '../constructs/microservice';

import { ReleaseState } from '../release/state';

export type { ProbeTimings };

/** Requests and limits of a container (the library's type). Every request must be <= its limit. */
export type ResourceSettings = ContainerResources;

/** Liveness and readiness probe timings. */
export interface ProbeSettings {
  readonly liveness: ProbeTimings;
  readonly readiness: ProbeTimings;
}

/** How a component is released in an environment. */
export enum ReleaseMode {
  /** One Deployment updated in place (maxUnavailable 0). */
  ROLLING = 'rolling',
  /** A blue/green pair driven by the release state file (`npm run release`). */
  BLUE_GREEN = 'blue-green',
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
  readonly resources: ResourceSettings;
  /**
   * Image tag, never `latest`: a release version (`v1.4.2`) or a commit SHA. For a blue/green
   * component the release state file owns the colours' tags; this is only their initial value.
   */
  readonly imageTag: string;
  readonly probes: ProbeSettings;
}

/** What an environment may override per component; anything omitted comes from `defaults`. */
export interface ComponentOverrides {
  readonly replicas?: number;
  readonly strategy?: ReleaseMode;
  readonly standbyReplicas?: number;
  readonly autoscaling?: AutoscalingSettings;
  readonly resources?: Partial<ResourceSettings>;
  readonly imageTag?: string;
  readonly probes?: Partial<ProbeSettings>;
}

/** Hosts served by the environment's Ingress. */
export interface DomainSettings {
  /** Host of the web frontend, e.g. `staging.soundcore-kcp.com`. */
  readonly frontend: string;
  /** Host of the public API, e.g. `staging-api.soundcore-kcp.com`. */
  readonly api: string;
}

/** TLS for the Ingress hosts. */
export interface TlsSettings {
  /** cert-manager ClusterIssuer that issues the certificates (annotation on the Ingress). */
  readonly clusterIssuer: string;
  /** Secret receiving the certificate of the frontend host. */
  readonly frontendSecretName: string;
  /** Secret receiving the certificate of the API host. */
  readonly apiSecretName: string;
}

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
  /** Runbook URL of each alert; `{alert}` is replaced by the alert's slug (`high-error-rate`). */
  readonly runbookUrlPattern: string;
  /** Threshold, `for` duration, severity and team of each alert. */
  readonly alerts: HttpServiceAlertTuning;
}

/** What an environment may override of the monitoring defaults, down to one field of one alert. */
export interface MonitoringOverrides {
  /** Replaces the default selector labels as a whole. */
  readonly prometheusSelector?: LabelSet;
  readonly scrapeInterval?: string;
  readonly evaluationInterval?: string;
  readonly runbookUrlPattern?: string;
  readonly alerts?: { readonly [A in keyof HttpServiceAlertTuning]?: Partial<HttpServiceAlertTuning[A]> };
}

/** One environment, as written in its file. */
export interface EnvironmentConfig {
  /** Short name, also the folder under `dist/` and the `environment` label: `staging`. */
  readonly name: string;
  /** Namespace every object of the environment lives in. */
  readonly namespace: string;
  readonly domains: DomainSettings;
  readonly tls: TlsSettings;
  /** `NODE_ENV` of the frontend. */
  readonly nodeEnv: string;
  /** `log_level` in the `app-config` ConfigMap, read by the FastAPI services. */
  readonly logLevel: 'debug' | 'info' | 'warning' | 'error';
  /** Settings every component starts from (the common block). */
  readonly defaults: ComponentSettings;
  /** Per-component overrides, keyed by component name from the catalogue. */
  readonly components: { readonly [component: string]: ComponentOverrides };
  /** Overrides of the monitoring defaults (thresholds, durations, selector labels). @default - the defaults */
  readonly monitoring?: MonitoringOverrides;
}

/** An environment with every component's settings filled in from `defaults`. */
export interface ResolvedEnvironment extends Omit<EnvironmentConfig, 'components' | 'monitoring'> {
  readonly components: { readonly [component: string]: ComponentSettings };
  /** Release state of every blue/green component (from the release state file, or initial). */
  readonly releases: ReleaseState;
  readonly monitoring: MonitoringSettings;
}

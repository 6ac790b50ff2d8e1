/**
 * The typed shape of an environment: everything that differs between staging, production and any
 * environment added later. An environment file is one object of type {@link EnvironmentConfig}; it never
 * builds constructs. `resolveEnvironment` fills in the `defaults` block and `validateEnvironment`
 * checks the result as a whole.
 */

import type { HttpServiceAlertTuning } from '../constructs/http-alerts';
import type { LabelSet } from '../constructs/labels';
import { ContainerResources, ProbeTimings } from '../constructs/microservice';
import { ExternalSecretApiVersion, RemoteRef, SecretStoreKind } from '../constructs/secrets';

import { ReleaseState } from '../release/state';

export type { ProbeTimings, RemoteRef };

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

/** A datastore running in the cluster, selected by pod labels. */
export interface InClusterDatastore {
  /** Namespace of its pods. @default - the environment's namespace */
  readonly namespace?: string;
  /** Labels its pods carry. */
  readonly podLabels: LabelSet;
}

/** A datastore outside the cluster (e.g. a managed database), reached at these addresses. */
export interface ExternalDatastore {
  /** Its addresses as CIDRs, e.g. `10.20.30.0/24`. */
  readonly cidrs: readonly string[];
}

/** Where a datastore runs. */
export type DatastoreLocation = InClusterDatastore | ExternalDatastore;

/** Network settings of an environment (see README "Network policy"). */
export interface NetworkSettings {
  /**
   * The ingress controller's pods; fields left out take the default.
   * @default namespace `ingress-nginx`, pods `app.kubernetes.io/name: ingress-nginx` and `app.kubernetes.io/component: controller`, HTTPS port 443
   */
  readonly ingressController?: Partial<IngressControllerSettings>;
  /**
   * Prometheus' pods, which scrape every component's metrics port; fields left out take the default.
   * @default namespace `monitoring`, pods `app.kubernetes.io/name: prometheus`
   */
  readonly prometheus?: Partial<PodSelection>;
  /** The cluster DNS; fields left out take the default. @default namespace `kube-system`, pods `k8s-app: kube-dns`, port 53 */
  readonly dns?: Partial<DnsSettings>;
  /** Where each datastore the catalogue uses runs, keyed by datastore name (`postgres`, `mongodb`, ...). */
  readonly datastores: { readonly [datastore: string]: DatastoreLocation };
}

/** Network settings with every default filled in. */
export interface ResolvedNetworkSettings {
  readonly ingressController: IngressControllerSettings;
  readonly prometheus: PodSelection;
  readonly dns: DnsSettings;
  readonly datastores: { readonly [datastore: string]: DatastoreLocation };
}

/** How the `db-credentials` Secret reaches an environment's namespace. */
export enum SecretMode {
  /** An ExternalSecret in the manifests; the external-secrets operator creates the Secret from a store. */
  EXTERNAL_SECRET = 'external-secret',
  /** Created out of band (by CI or an operator) before the manifests are applied; they only reference it. */
  EXISTING_SECRET = 'existing-secret',
}

/** `db-credentials` is materialized by the external-secrets operator. */
export interface ExternalSecretSettings {
  readonly mode: SecretMode.EXTERNAL_SECRET;
  /** The (Cluster)SecretStore the values are read from. */
  readonly store: { readonly kind: SecretStoreKind; readonly name: string };
  /** Where each datastore's connection string lives in the store, keyed by datastore name. */
  readonly remoteRefs: { readonly [datastore: string]: RemoteRef };
  /** API version of the ExternalSecret (match the installed operator). @default ExternalSecretApiVersion.V1 */
  readonly apiVersion?: ExternalSecretApiVersion;
}

/** `db-credentials` is created out of band; the manifests only reference it. */
export interface ExistingSecretSettings {
  readonly mode: SecretMode.EXISTING_SECRET;
}

/** Where the environment's database credentials come from; never the values themselves. */
export type SecretSettings = ExternalSecretSettings | ExistingSecretSettings;

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
  /** Where the platform's peers and the datastores run, for the NetworkPolicies. */
  readonly network: NetworkSettings;
  /** Where `db-credentials` comes from. */
  readonly secrets: SecretSettings;
}

/** An environment with every component's settings filled in from `defaults`. */
export interface ResolvedEnvironment extends Omit<EnvironmentConfig, 'components' | 'monitoring' | 'network'> {
  readonly components: { readonly [component: string]: ComponentSettings };
  /** Release state of every blue/green component (from the release state file, or initial). */
  readonly releases: ReleaseState;
  readonly monitoring: MonitoringSettings;
  readonly network: ResolvedNetworkSettings;
}

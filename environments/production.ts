import { SecretStoreKind } from '../constructs/secrets';
import { EnvironmentConfig, ReleaseMode, SecretMode } from './model';

/**
 * Production: deployed from release tags (`vX.Y.Z`). Frontend sizes, knowledge-service's five
 * replicas and the probe timings are the seed's; the other backends run three replicas so that one
 * node drain never takes a service below two pods. The datastores run in the namespace (the seed's
 * `postgres.soundcore-kcp-prod.svc` hosts); `db-credentials` is materialized by the external-secrets
 * operator from the platform's ClusterSecretStore (README "Secrets").
 */
export const production: EnvironmentConfig = {
  name: 'production',
  namespace: 'soundcore-kcp-prod',
  domains: { frontend: 'soundcore-kcp.com', api: 'api.soundcore-kcp.com' },
  tls: {
    clusterIssuer: 'letsencrypt-prod',
    frontendSecretName: 'soundcore-kcp-tls',
    apiSecretName: 'soundcore-kcp-api-tls',
  },
  nodeEnv: 'production',
  logLevel: 'info',
  defaults: {
    // Every component is a blue/green pair driven by production.release.json (npm run release).
    strategy: ReleaseMode.BLUE_GREEN,
    standbyReplicas: 1,
    replicas: 3,
    // No imageTag: every component's tags are in production.release.json (a new component
    // without an entry there sets its first tag under components).
    resources: {
      requests: { cpu: '250m', memory: '512Mi' },
      limits: { cpu: '1000m', memory: '1Gi' },
    },
    probes: {
      liveness: { initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
      readiness: { initialDelaySeconds: 5, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
    },
  },
  components: {
    'frontend': {
      resources: {
        requests: { cpu: '250m', memory: '256Mi' },
        limits: { cpu: '500m', memory: '512Mi' },
      },
      autoscaling: { maxReplicas: 6, targetCpuUtilization: 70 },
    },
    // The busiest service: 5 pods at all times, up to 10 under load.
    'knowledge-service': { replicas: 5, autoscaling: { maxReplicas: 10, targetCpuUtilization: 70 } },
    'content-service': {},
    'support-service': {},
    'analytics-service': {},
    'auth-service': {},
  },
  network: {
    datastores: {
      postgres: { podLabels: { app: 'postgres' } },
      mongodb: { podLabels: { app: 'mongodb' } },
      redis: { podLabels: { app: 'redis' } },
      neo4j: { podLabels: { app: 'neo4j' } },
    },
  },
  secrets: {
    mode: SecretMode.EXTERNAL_SECRET,
    store: { kind: SecretStoreKind.CLUSTER_SECRET_STORE, name: 'soundcore-kcp-secrets' },
    remoteRefs: {
      postgres: { key: 'soundcore-kcp/production/db-credentials', property: 'postgres-url' },
      mongodb: { key: 'soundcore-kcp/production/db-credentials', property: 'mongodb-uri' },
      redis: { key: 'soundcore-kcp/production/db-credentials', property: 'redis-url' },
      neo4j: { key: 'soundcore-kcp/production/db-credentials', property: 'neo4j-uri' },
    },
  },
  guardrails: {
    // Reserved for the four datastores that run in the namespace outside these manifests (one pod
    // each, at most these requests and limits): raise it with their charts' sizes.
    unmanaged: {
      pods: 4, requests: { cpu: '1', memory: '4Gi' }, limits: { cpu: '2', memory: '8Gi' }, services: 4, deployments: 4,
    },
    // What the platform grants the namespace: a component change whose release peak (plus the
    // headroom) does not fit is a synth error (README "Namespace guardrails").
    budget: { requests: { cpu: '32', memory: '64Gi' }, limits: { cpu: '96', memory: '128Gi' }, pods: 128 },
  },
};

import { EnvironmentConfig, ReleaseMode, RoutingMode, SecretMode } from './model';

/**
 * Staging: deployed from the default branch. Images are pinned to the commit SHA that the
 * image-build pipeline pushed (never `:latest`, so what runs is what this file says).
 * Frontend values are the seed's; backends use the same shape with FastAPI-sized memory.
 * The datastores run in the namespace (the seed's `postgres.<namespace>.svc` hosts), and
 * `db-credentials` is created by the deploy job from GitLab CI/CD variables (README "Secrets").
 */
export const staging: EnvironmentConfig = {
  name: 'staging',
  namespace: 'soundcore-kcp-staging',
  domains: { frontend: 'staging.soundcore-kcp.com', api: 'staging-api.soundcore-kcp.com' },
  // Gateway API HTTPRoutes on the platform's Gateway, which terminates TLS (README "Routing design").
  // Its implementation is Envoy Gateway: the proxies of a Gateway run in envoy-gateway-system, labelled
  // with the Gateway's name and namespace, and serve a listener's port 443 on 10443 (a privileged
  // port shifted by 10000, so that they run as non-root).
  routing: {
    mode: RoutingMode.GATEWAY,
    gateway: { name: 'public', namespace: 'gateway-system', sectionName: 'https' },
    dataPlane: {
      namespace: 'envoy-gateway-system',
      podLabels: { 'gateway.envoyproxy.io/owning-gateway-name': 'public', 'gateway.envoyproxy.io/owning-gateway-namespace': 'gateway-system' },
      httpsPort: 10443,
    },
  },
  nodeEnv: 'staging',
  logLevel: 'debug',
  defaults: {
    // Staging rolls each Deployment in place (but for its Argo components); blue/green is for production (see README).
    strategy: ReleaseMode.ROLLING,
    standbyReplicas: 1,
    replicas: 2,
    imageTag: '3f9c2a1e7b6d4c0a9e8f7d6c5b4a39281706f5e4',
    resources: {
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    },
    // Seed timings; timeout and failure threshold are the Kubernetes defaults the seed relied on.
    probes: {
      liveness: { initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 },
      readiness: { initialDelaySeconds: 5, periodSeconds: 5, timeoutSeconds: 1, failureThreshold: 3 },
    },
  },
  components: {
    'frontend': {
      resources: {
        requests: { cpu: '100m', memory: '128Mi' },
        limits: { cpu: '250m', memory: '256Mi' },
      },
    },
    // The two Argo Rollouts engines run here first (README "Argo Rollouts"): a canary with traffic
    // weights on its HTTPRoute (the Gateway API plugin), autoscaled (the HPA targets the Rollout), and a blue/green Rollout.
    'knowledge-service': {
      strategy: ReleaseMode.ARGO_CANARY,
      autoscaling: { maxReplicas: 4, targetCpuUtilization: 70 },
      argo: { steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }, { analysis: {} }, { setWeight: 50 }, { pause: { duration: '5m' } }, { analysis: {} }, { setWeight: 100 }] },
    },
    'content-service': { strategy: ReleaseMode.ARGO_BLUE_GREEN, argo: { previewReplicaCount: 1, scaleDownDelaySeconds: 300 } },
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
  secrets: { mode: SecretMode.EXISTING_SECRET },
  guardrails: {
    // Reserved for the four datastores that run in the namespace outside these manifests.
    unmanaged: {
      pods: 4, requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' }, services: 4, deployments: 4,
    },
    budget: { requests: { cpu: '8', memory: '16Gi' }, limits: { cpu: '24', memory: '24Gi' }, pods: 48 },
  },
};

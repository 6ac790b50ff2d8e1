/**
 * The component catalogue: what each KCP workload *is*, the same in every environment (ports, health
 * endpoint, public routes, writable paths). What differs per environment (replicas, resources, image
 * tag, probe timings) lives in the environment files.
 *
 * To add a component: add one entry here and list it in `CATALOGUE`; every environment then gets it
 * with its `defaults`, and may override them under `components`.
 */

/** Which Ingress host a component's routes are served on. */
export enum Host {
  FRONTEND = 'frontend',
  API = 'api',
}

/** The tier of a component (the `app.kubernetes.io/component` label). */
export enum Tier {
  FRONTEND = 'frontend',
  BACKEND = 'backend',
}

/** One workload of the platform. */
export interface ComponentSpec {
  /** DNS-1123 name: Deployment, Service, `app` label and image repository name. */
  readonly name: string;
  readonly tier: Tier;
  /** Port the container listens on (HTTP, health and metrics). */
  readonly containerPort: number;
  /** Port of the ClusterIP Service in front of it. */
  readonly servicePort: number;
  /** HTTP path answering liveness and readiness probes. */
  readonly healthPath: string;
  /** Public Ingress routes (path prefixes) and the host they are served on. */
  readonly routes: { readonly host: Host; readonly paths: readonly string[] };
  /** Paths the process writes to; each gets an emptyDir because the root filesystem is read-only. */
  readonly writablePaths: readonly string[];
  /** Paths the in-cluster smoke test calls on a staged version: health plus one real endpoint. */
  readonly smokePaths: readonly string[];
  /**
   * Whether the container serves Prometheus metrics at `/metrics` on `containerPort`; such
   * components are scraped and alerted on. Every backend must. @default false
   */
  readonly exposesMetrics?: boolean;
}

const HEALTH = '/health';

/** Next.js web frontend. */
export const FRONTEND: ComponentSpec = {
  name: 'frontend',
  tier: Tier.FRONTEND,
  containerPort: 3000,
  servicePort: 80,
  healthPath: HEALTH,
  routes: { host: Host.FRONTEND, paths: ['/'] },
  // Next.js standalone keeps its image-optimisation and ISR cache under .next/cache.
  writablePaths: ['/tmp', '/app/.next/cache'],
  smokePaths: [HEALTH, '/'],
  // The Next.js server has no /metrics endpoint yet; set to true once it serves one.
  exposesMetrics: false,
};

/** FastAPI backend: knowledge base and search. */
export const KNOWLEDGE_SERVICE: ComponentSpec = backend('knowledge-service', 8001, ['/api/v1/knowledge'], '/api/v1/knowledge/');
/** FastAPI backend: content generation. */
export const CONTENT_SERVICE: ComponentSpec = backend('content-service', 8002, ['/api/v1/content'], '/api/v1/content/');
/** FastAPI backend: support conversations. */
export const SUPPORT_SERVICE: ComponentSpec = backend('support-service', 8003, ['/api/v1/support'], '/api/v1/support/');
/** FastAPI backend: analytics and platform statistics. */
export const ANALYTICS_SERVICE: ComponentSpec = backend('analytics-service', 8004, ['/api/v1/analytics', '/api/v1/stats'], '/api/v1/stats/');
/** FastAPI backend: authentication. */
export const AUTH_SERVICE: ComponentSpec = backend('auth-service', 8005, ['/api/v1/auth'], '/api/v1/auth/.well-known/jwks.json');

/** Every component, in the order they appear in reports. */
export const CATALOGUE: readonly ComponentSpec[] = [
  FRONTEND,
  KNOWLEDGE_SERVICE,
  CONTENT_SERVICE,
  SUPPORT_SERVICE,
  ANALYTICS_SERVICE,
  AUTH_SERVICE,
];

/** Image repository of every component: `registry.gitlab.com/soundcore/kcp/<component>`. */
export const IMAGE_REGISTRY = 'registry.gitlab.com/soundcore/kcp';

function backend(name: string, port: number, paths: readonly string[], smokeEndpoint: string): ComponentSpec {
  // FastAPI services expose their HTTP API, /health and /metrics on one port; the Service keeps it.
  return {
    name,
    tier: Tier.BACKEND,
    containerPort: port,
    servicePort: port,
    healthPath: HEALTH,
    routes: { host: Host.API, paths },
    writablePaths: ['/tmp'],
    smokePaths: [HEALTH, smokeEndpoint],
    exposesMetrics: true,
  };
}

/**
 * The component catalogue: what each KCP workload *is*, the same in every environment (ports, health
 * endpoint, public routes, writable paths, whom it calls and which datastores it uses). What differs
 * per environment (replicas, resources, image tag, probe timings, where datastores run) lives in the
 * environment files.
 *
 * To add a component: add one entry here and list it in `CATALOGUE`; every environment then gets it
 * with its `defaults`, and may override them under `components`.
 *
 * The traffic graph is declared here too, once per edge: `calls` (component -> component or platform
 * service) and `datastores` (component -> datastore). The ingress controller reaches whatever the
 * Ingress routes to, Prometheus reaches every component's metrics port, and every pod reaches DNS;
 * everything else is denied (see README "Network policy").
 */

import type { z } from 'zod';
import { componentSpecSchema, datastoreSpecSchema, Host, PlatformService, Tier } from './schema';

export { Host, PlatformService, Tier };

/** A datastore the backends use. Where it runs (and how its pods are selected) is environment config. */
export type DatastoreSpec = z.input<typeof datastoreSpecSchema>;

/** One workload of the platform (the catalogue schema's input type). */
export type ComponentSpec = z.input<typeof componentSpecSchema>;

/** PostgreSQL: relational data (knowledge metadata, users, analytics aggregates). */
export const POSTGRES: DatastoreSpec = { name: 'postgres', title: 'PostgreSQL', port: 5432, secretKey: 'postgres-url', envVar: 'POSTGRES_URL' };
/** MongoDB: documents (generated content, support conversations). */
export const MONGODB: DatastoreSpec = { name: 'mongodb', title: 'MongoDB', port: 27017, secretKey: 'mongodb-uri', envVar: 'MONGODB_URI' };
/** Redis: caches, sessions and job queues. */
export const REDIS: DatastoreSpec = { name: 'redis', title: 'Redis', port: 6379, secretKey: 'redis-url', envVar: 'REDIS_URL' };
/** Neo4j: the knowledge graph (Bolt protocol). */
export const NEO4J: DatastoreSpec = { name: 'neo4j', title: 'Neo4j', port: 7687, secretKey: 'neo4j-uri', envVar: 'NEO4J_URI' };

/** Every datastore, in the order of the keys of `db-credentials`. */
export const DATASTORES: readonly DatastoreSpec[] = [POSTGRES, MONGODB, REDIS, NEO4J];

/** Name of the Secret holding every datastore connection string (one key per datastore). */
export const DB_CREDENTIALS_SECRET = 'db-credentials';

const HEALTH = '/health';

/** FastAPI backend: knowledge base and search (documents, knowledge graph, search cache). */
export const KNOWLEDGE_SERVICE: ComponentSpec = backend({
  name: 'knowledge-service', port: 8001, paths: ['/api/v1/knowledge'], smokeEndpoint: '/api/v1/knowledge/',
  datastores: [POSTGRES, REDIS, NEO4J],
});
/** FastAPI backend: content generation (content documents, generation queue). */
export const CONTENT_SERVICE: ComponentSpec = backend({
  name: 'content-service', port: 8002, paths: ['/api/v1/content'], smokeEndpoint: '/api/v1/content/',
  datastores: [MONGODB, REDIS],
});
/** FastAPI backend: support conversations. */
export const SUPPORT_SERVICE: ComponentSpec = backend({
  name: 'support-service', port: 8003, paths: ['/api/v1/support'], smokeEndpoint: '/api/v1/support/',
  datastores: [MONGODB],
});
/** FastAPI backend: analytics and platform statistics (aggregates, counters). */
export const ANALYTICS_SERVICE: ComponentSpec = backend({
  name: 'analytics-service', port: 8004, paths: ['/api/v1/analytics', '/api/v1/stats'], smokeEndpoint: '/api/v1/stats/',
  datastores: [POSTGRES, REDIS],
});
/** FastAPI backend: authentication (users, sessions). */
export const AUTH_SERVICE: ComponentSpec = backend({
  name: 'auth-service', port: 8005, paths: ['/api/v1/auth'], smokeEndpoint: '/api/v1/auth/.well-known/jwks.json',
  datastores: [POSTGRES, REDIS],
});

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
  // The seed's direct calls from the server side, plus the public API origin (API_BASE_URL).
  calls: [KNOWLEDGE_SERVICE, CONTENT_SERVICE, PlatformService.INGRESS_CONTROLLER],
};

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

interface BackendOptions {
  readonly name: string;
  readonly port: number;
  readonly paths: readonly string[];
  /** The real endpoint the smoke test calls besides /health. */
  readonly smokeEndpoint: string;
  readonly datastores: readonly DatastoreSpec[];
}

function backend(o: BackendOptions): ComponentSpec {
  // FastAPI services expose their HTTP API, /health and /metrics on one port; the Service keeps it.
  return {
    name: o.name,
    tier: Tier.BACKEND,
    containerPort: o.port,
    servicePort: o.port,
    healthPath: HEALTH,
    routes: { host: Host.API, paths: o.paths },
    writablePaths: ['/tmp'],
    smokePaths: [HEALTH, o.smokeEndpoint],
    exposesMetrics: true,
    datastores: o.datastores,
  };
}

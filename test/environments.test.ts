import {
  CATALOGUE, ComponentSpec, ENVIRONMENTS, EnvironmentConfig, ExternalSecretSettings, FRONTEND, KNOWLEDGE_SERVICE,
  resolveEnvironments, SecretMode,
} from '../environments';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { committedReleaseStates, configProblems } from './helpers';

function prodWith(components: EnvironmentConfig['components']): EnvironmentConfig {
  return { ...production, components: { ...production.components, ...components } };
}

describe('environment registry', () => {
  test('staging and production are valid and resolve every catalogue component', () => {
    const resolved = resolveEnvironments(ENVIRONMENTS, CATALOGUE, committedReleaseStates());
    expect(resolved.map((e) => e.name)).toEqual(['staging', 'production']);
    for (const env of resolved) {
      expect(Object.keys(env.components)).toEqual(CATALOGUE.map((c) => c.name));
    }
  });

  test('component overrides win over the defaults block, field by field', () => {
    const [stg, prod] = resolveEnvironments(ENVIRONMENTS, CATALOGUE, committedReleaseStates());
    expect(prod.components['knowledge-service'].replicas).toBe(5);
    expect(prod.components['content-service'].replicas).toBe(3);
    expect(stg.components.frontend.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(stg.components.frontend.probes).toEqual(staging.defaults.probes);
  });
});

describe('bad input is reported as a whole, naming environment, component, field, value and rule', () => {
  test('rejects replicas below 1', () => {
    expect(configProblems([prodWith({ 'knowledge-service': { replicas: 0 } })])).toEqual([
      'production/knowledge-service: replicas must be an integer >= 1, got 0',
    ]);
  });

  test('rejects replicas that are not integers', () => {
    expect(configProblems([prodWith({ 'auth-service': { replicas: 2.5 } })])).toEqual([
      'production/auth-service: replicas must be an integer >= 1, got 2.5',
    ]);
  });

  test('rejects a request above its limit', () => {
    expect(configProblems([prodWith({
      frontend: { resources: { requests: { cpu: '750m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } } },
    })])).toEqual([
      'production/frontend: resources.requests.cpu must not exceed resources.limits.cpu (500m), got "750m"',
    ]);
  });

  test('rejects malformed quantities', () => {
    expect(configProblems([prodWith({
      'content-service': { resources: { requests: { cpu: '250 millicores', memory: '512MB' } } },
    })])).toEqual([
      'production/content-service: resources.requests.cpu must be a CPU quantity such as "250m" or "1", got "250 millicores"',
      'production/content-service: resources.requests.memory must be a memory quantity such as "256Mi" or "1Gi", got "512MB"',
    ]);
  });

  test('rejects "latest" and empty image tags', () => {
    expect(configProblems([{ ...staging, components: { ...staging.components, 'frontend': { imageTag: 'latest' }, 'auth-service': { imageTag: '' } } }])).toEqual([
      'staging/frontend: imageTag must be a pinned tag (a version like v1.4.2 or a commit SHA), not "latest", got "latest"',
      'staging/auth-service: imageTag must be a pinned image tag that is also a label value (at most 63 letters, digits, "_", "." or "-", starting and ending with a letter or digit; a version like v1.4.2 or a commit SHA), got ""',
    ]);
  });

  test('rejects "latest" in staging too, and malformed tags', () => {
    const bad: EnvironmentConfig = { ...staging, defaults: { ...staging.defaults, imageTag: 'LATEST' } };
    // (reported once, where it is written: every component takes it from defaults)
    expect(configProblems([bad])).toEqual([
      'staging: defaults.imageTag must be a pinned tag (a version like v1.4.2 or a commit SHA), not "latest", got "LATEST"',
    ]);
    expect(configProblems([{ ...staging, components: { ...staging.components, frontend: { imageTag: 'v1:2' } } }])).toEqual([
      'staging/frontend: imageTag must be a pinned image tag that is also a label value (at most 63 letters, digits, "_", "." or "-", starting and ending with a letter or digit; a version like v1.4.2 or a commit SHA), got "v1:2"',
    ]);
  });

  test('rejects an unknown component', () => {
    expect(configProblems([prodWith({ 'billing-service': { replicas: 2 } })])).toEqual([
      'production/billing-service: components must name a catalogue component (frontend, knowledge-service, content-service, support-service, analytics-service, auth-service), got "billing-service"',
    ]);
  });

  test('rejects invalid DNS names for namespace and hosts', () => {
    expect(configProblems([{ ...production, namespace: 'Soundcore_KCP', domains: { frontend: 'soundcore-kcp.com', api: 'api..soundcore-kcp.com' } }])).toEqual([
      'production: namespace must be a DNS-1123 label (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters), got "Soundcore_KCP"',
      'production: domains.api must be a DNS-1123 subdomain (dot-separated lowercase labels, at most 253 characters), got "api..soundcore-kcp.com"',
    ]);
  });

  test('rejects a duplicate component and a duplicate port in the catalogue', () => {
    const clash: ComponentSpec = { ...KNOWLEDGE_SERVICE, name: 'search-service' };
    expect(configProblems([production], [...CATALOGUE, KNOWLEDGE_SERVICE, clash])).toEqual(expect.arrayContaining([
      'catalogue: name must be unique, got "knowledge-service"',
      'catalogue/knowledge-service: containerPort must be unique in the catalogue (already used by knowledge-service), got 8001',
      'catalogue/search-service: containerPort must be unique in the catalogue (already used by knowledge-service), got 8001',
    ]));
  });

  test('rejects two environments with the same name or namespace', () => {
    expect(configProblems([production, { ...staging, name: 'production', namespace: 'soundcore-kcp-prod' }])).toEqual(expect.arrayContaining([
      'registry: name must be unique, got "production"',
      'registry: namespace must be unique, got "soundcore-kcp-prod"',
    ]));
  });

  test('rejects bad probe timings', () => {
    expect(configProblems([prodWith({
      'support-service': { probes: { liveness: { initialDelaySeconds: -1, periodSeconds: 0, timeoutSeconds: 1, failureThreshold: 3 } } },
    })])).toEqual([
      'production/support-service: probes.liveness.initialDelaySeconds must be an integer >= 0, got -1',
      'production/support-service: probes.liveness.periodSeconds must be an integer >= 1, got 0',
    ]);
  });

  test('reports every problem of every environment at once', () => {
    const badStaging: EnvironmentConfig = { ...staging, components: { ...staging.components, frontend: { replicas: 0 } } };
    const badProd = prodWith({ 'knowledge-service': { replicas: 0 } });
    const found = configProblems([badStaging, badProd]);
    expect(found).toEqual([
      'staging/frontend: replicas must be an integer >= 1, got 0',
      'production/knowledge-service: replicas must be an integer >= 1, got 0',
    ]);
  });
});

describe('network and secret settings are validated with the rest', () => {
  const withNetwork = (network: Partial<EnvironmentConfig['network']>): EnvironmentConfig => ({
    ...production, network: { ...production.network, ...network },
  });
  const withoutNeo4j = Object.fromEntries(Object.entries(production.network.datastores).filter(([name]) => name !== 'neo4j'));

  test('resolves the platform peers from their defaults, field by field', () => {
    const [resolved] = resolveEnvironments([withNetwork({ ingressController: { namespace: 'ingress' } })], CATALOGUE, committedReleaseStates());
    expect(resolved.network.ingressController).toEqual({
      namespace: 'ingress',
      podLabels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
      httpsPort: 443,
    });
    expect(resolved.network.prometheus).toEqual({ namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } });
    expect(resolved.network.dns).toEqual({ namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' }, port: 53 });
  });

  test('rejects a datastore the catalogue uses but the environment does not place', () => {
    expect(configProblems([withNetwork({ datastores: withoutNeo4j })])).toEqual([
      'production: network.datastores.neo4j must say where neo4j runs: { podLabels, namespace? } in the cluster or { cidrs } outside it',
    ]);
  });

  test('rejects an unknown datastore, an ambiguous location, empty labels and catch-all CIDRs', () => {
    expect(configProblems([withNetwork({
      datastores: {
        ...withoutNeo4j,
        neo4j: { podLabels: { app: 'neo4j' }, cidrs: ['10.0.0.0/8'] } as never,
        mysql: { podLabels: { app: 'mysql' } },
        postgres: { podLabels: {} },
        redis: { cidrs: ['0.0.0.0/0'] },
      },
    })])).toEqual([
      'production: network.datastores.neo4j must be { podLabels, namespace? } (in the cluster) or { cidrs } (outside it), with no other field, got {"podLabels":{"app":"neo4j"},"cidrs":["10.0.0.0/8"]}',
      'production: network.datastores must name datastores the catalogue uses (postgres, mongodb, redis, neo4j), got "mysql"',
      'production: network.datastores.postgres.podLabels must be a non-empty map of Kubernetes labels (keys [prefix/]name, values of at most 63 characters of [A-Za-z0-9_.-]), got {}',
      'production: network.datastores.redis.cidrs must be an IPv4 or IPv6 CIDR such as "10.20.0.0/16", narrower than the whole address space, got "0.0.0.0/0"',
    ]);
  });

  test('rejects platform peers in the environment\'s own namespace, bad selectors and ports', () => {
    expect(configProblems([withNetwork({
      ingressController: { namespace: 'soundcore-kcp-prod', httpsPort: 0 },
      prometheus: { podLabels: { 'app kubernetes': 'prometheus' } },
    })])).toEqual([
      'production: network.ingressController.namespace must differ from the environment\'s namespace (default-deny there would isolate its pods), got "soundcore-kcp-prod"',
      'production: network.prometheus.podLabels must be a non-empty map of Kubernetes labels (keys [prefix/]name, values of at most 63 characters of [A-Za-z0-9_.-]), got {"app kubernetes":"prometheus"}',
      'production: network.ingressController.httpsPort must be an integer from 1 to 65535, got 0',
    ]);
  });

  test('rejects an unknown secrets mode', () => {
    expect(configProblems([{ ...production, secrets: { mode: 'sealed-secret' } as never }])).toEqual([
      'production: secrets.mode must be one of external-secret, existing-secret, got "sealed-secret"',
    ]);
  });

  test('rejects an external secret without a store or a remote key per datastore', () => {
    const secrets = production.secrets as ExternalSecretSettings;
    const refs = Object.fromEntries(Object.entries(secrets.remoteRefs).filter(([name]) => name !== 'redis'));
    expect(configProblems([{
      ...production,
      secrets: { ...secrets, store: { kind: 'Vault' as never, name: '' }, remoteRefs: { ...refs, mysql: { key: 'x' }, neo4j: { key: '' } } },
    }])).toEqual([
      'production: secrets.store.kind must be one of ClusterSecretStore, SecretStore, got "Vault"',
      'production: secrets.store.name must be a DNS-1123 subdomain (dot-separated lowercase labels, at most 253 characters), got ""',
      'production: secrets.remoteRefs must name datastores the catalogue uses (postgres, mongodb, redis, neo4j), got "mysql"',
      'production: secrets.remoteRefs.redis must give the remote key of redis\'s connection string ({ key, property? })',
      'production: secrets.remoteRefs.neo4j must give the remote key of neo4j\'s connection string ({ key, property? }), got {"key":""}',
    ]);
  });

  test('accepts an existing Secret with no store at all', () => {
    expect(configProblems([{ ...production, secrets: { mode: SecretMode.EXISTING_SECRET } }])).toEqual([]);
  });

  test('rejects calls to unknown components, to the component itself and twice', () => {
    const billing: ComponentSpec = { ...KNOWLEDGE_SERVICE, name: 'billing-service', containerPort: 8009 };
    const looping: ComponentSpec = { ...FRONTEND, calls: [billing, FRONTEND, KNOWLEDGE_SERVICE, KNOWLEDGE_SERVICE] };
    expect(configProblems([production], [looping, ...CATALOGUE.slice(1)])).toEqual([
      'catalogue/frontend: calls must name catalogue components or platform services (frontend, knowledge-service, content-service, support-service, analytics-service, auth-service, ingress-controller), got "billing-service"',
      'catalogue/frontend: calls must not include the component itself, got "frontend"',
      'catalogue/frontend: calls must list each callee once, got "knowledge-service"',
    ]);
  });
});

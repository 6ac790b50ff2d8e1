import { CATALOGUE, FRONTEND, IMAGE_REGISTRY, Tier } from '../environments';
import { find, matches, Obj, ofKind, synthObjects } from './helpers';

const objects = synthObjects();
const staging = objects.get('staging')!;
const production = objects.get('production')!;
const NAMESPACES: { [env: string]: string } = { staging: 'soundcore-kcp-staging', production: 'soundcore-kcp-prod' };

/** Every container of every pod template in `objs`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function podTemplates(objs: Obj[]): Array<{ owner: string; spec: any; metadata: any }> {
  return objs.filter((o) => o.spec?.template?.spec).map((o) => ({
    owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec, metadata: o.spec.template.metadata,
  }));
}

describe.each(['staging', 'production'])('%s manifests', (env) => {
  const objs = objects.get(env)!;

  test('match the reviewed snapshot', () => {
    expect(objs).toMatchSnapshot();
  });

  test('have a restricted Namespace labelled with environment and project', () => {
    const ns = find(objs, 'Namespace', NAMESPACES[env]);
    expect(ns.metadata.namespace).toBeUndefined();
    expect(ns.metadata.labels).toMatchObject({
      'environment': env,
      'project': 'soundcore-kcp',
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'v1.28',
    });
  });

  test('put every namespaced object in the environment namespace', () => {
    for (const o of objs.filter((x) => x.kind !== 'Namespace')) {
      expect([`${o.kind}/${o.metadata.name}`, o.metadata.namespace]).toEqual([`${o.kind}/${o.metadata.name}`, NAMESPACES[env]]);
    }
  });

  test('have the app-config ConfigMap with the API base URL', () => {
    const cm = find(objs, 'ConfigMap', 'app-config');
    expect(cm.data.api_base_url).toBe(env === 'staging' ? 'https://staging-api.soundcore-kcp.com' : 'https://api.soundcore-kcp.com');
  });

  test.each(CATALOGUE.map((c) => [c.name, c] as const))('%s has a Deployment and Service with the exact seed name', (_name, spec) => {
    const deployment = find(objs, 'Deployment', spec.name);
    const service = find(objs, 'Service', spec.name);
    const pod = deployment.spec.template;
    const container = pod.spec.containers[0];

    // labels: app, environment and the recommended set, on objects and pods
    for (const labels of [deployment.metadata.labels, service.metadata.labels, pod.metadata.labels]) {
      expect(labels).toMatchObject({
        'app': spec.name,
        'environment': env,
        'app.kubernetes.io/name': spec.name,
        'app.kubernetes.io/component': spec.tier,
        'app.kubernetes.io/part-of': 'soundcore-kcp',
        'app.kubernetes.io/managed-by': 'cdk8s',
      });
    }
    // selectors: the Deployment's immutable selector is the stable app label only
    expect(deployment.spec.selector).toEqual({ matchLabels: { app: spec.name } });
    expect(matches(deployment.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    expect(service.spec.selector).toEqual({ app: spec.name });
    expect(matches(service.spec.selector, pod.metadata.labels)).toBe(true);
    // ports
    expect(container.ports).toEqual([{ containerPort: spec.containerPort, name: 'http' }]);
    expect(service.spec.ports).toEqual([{ name: 'http', port: spec.servicePort, targetPort: spec.containerPort }]);
    // image
    expect(container.image).toMatch(new RegExp(`^${IMAGE_REGISTRY}/${spec.name}:[A-Za-z0-9_][A-Za-z0-9_.-]*$`));
    expect(container.image).not.toMatch(/:latest$/);
    // probes on /health of the HTTP port
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      expect(probe.httpGet).toEqual({ path: '/health', port: spec.containerPort, scheme: 'HTTP' });
    }
    // zero-downtime rolling update
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  test('never leave a hash-derived label or name in the output', () => {
    const text = JSON.stringify(objs);
    expect(text).not.toContain('cdk8s.io/metadata.addr');
    for (const o of objs) expect(o.metadata.name).not.toMatch(/-c8[0-9a-f]{6,}$/);
  });

  test('run every pod under the restricted Pod Security Standard', () => {
    const pods = podTemplates(objs);
    expect(pods.length).toBeGreaterThanOrEqual(CATALOGUE.length);
    for (const { owner, spec } of pods) {
      expect([owner, spec.automountServiceAccountToken]).toEqual([owner, false]);
      expect([owner, spec.securityContext]).toEqual([owner, expect.objectContaining({
        runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' },
      })]);
      expect(spec.hostNetwork ?? false).toBe(false);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect([owner, c.name, c.securityContext]).toEqual([owner, c.name, {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsGroup: 10001,
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        }]);
        expect(c.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
        expect(c.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
        // /tmp is writable through an emptyDir, since the root filesystem is read-only
        const tmp = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
        expect(spec.volumes.find((v: { name: string }) => v.name === tmp.name).emptyDir).toBeDefined();
      }
    }
  });

  test('serve the frontend and API hosts over TLS through the nginx Ingress', () => {
    const ingress = find(objs, 'Ingress', 'soundcore-kcp');
    const hosts = env === 'staging'
      ? ['staging.soundcore-kcp.com', 'staging-api.soundcore-kcp.com']
      : ['soundcore-kcp.com', 'api.soundcore-kcp.com'];
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls.map((t: { hosts: string[] }) => t.hosts).flat()).toEqual(hosts);
    expect(ingress.spec.rules.map((r: { host: string }) => r.host)).toEqual(hosts);
    expect(ingress.metadata.annotations['nginx.ingress.kubernetes.io/force-ssl-redirect']).toBe('true');
    const routes = Object.fromEntries(ingress.spec.rules.flatMap((r: { host: string; http: { paths: Array<{ path: string; backend: { service: { name: string; port: { number: number } } } }> } }) =>
      r.http.paths.map((p) => [`${r.host}${p.path}`, `${p.backend.service.name}:${p.backend.service.port.number}`])));
    expect(routes).toEqual({
      [`${hosts[0]}/`]: 'frontend:80',
      [`${hosts[1]}/api/v1/knowledge`]: 'knowledge-service:8001',
      [`${hosts[1]}/api/v1/content`]: 'content-service:8002',
      [`${hosts[1]}/api/v1/support`]: 'support-service:8003',
      [`${hosts[1]}/api/v1/analytics`]: 'analytics-service:8004',
      [`${hosts[1]}/api/v1/stats`]: 'analytics-service:8004',
      [`${hosts[1]}/api/v1/auth`]: 'auth-service:8005',
    });
  });
});

describe('per-environment values from the seed', () => {
  const container = (objs: Obj[], name: string) => find(objs, 'Deployment', name).spec.template.spec.containers[0];

  test('frontend runs 2 small replicas in staging and 3 larger ones in production', () => {
    expect(find(staging, 'Deployment', 'frontend').spec.replicas).toBe(2);
    expect(container(staging, 'frontend').resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '250m', memory: '256Mi' },
    });
    expect(find(production, 'Deployment', 'frontend').spec.replicas).toBe(3);
    expect(container(production, 'frontend').resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' },
    });
  });

  test('knowledge-service runs 5 replicas in production', () => {
    expect(find(production, 'Deployment', 'knowledge-service').spec.replicas).toBe(5);
  });

  test('probe timings follow the seed per environment', () => {
    expect(container(staging, 'frontend').livenessProbe).toMatchObject({ initialDelaySeconds: 30, periodSeconds: 10 });
    expect(container(staging, 'frontend').readinessProbe).toMatchObject({ initialDelaySeconds: 5, periodSeconds: 5 });
    expect(container(production, 'frontend').livenessProbe).toMatchObject({
      initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3,
    });
    expect(container(production, 'frontend').readinessProbe).toMatchObject({
      initialDelaySeconds: 5, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3,
    });
  });

  test('frontend gets NODE_ENV and API_BASE_URL from app-config; backends get their environment and datastore URLs', () => {
    expect(container(production, 'frontend').env).toEqual([
      { name: 'NODE_ENV', value: 'production' },
      { name: 'API_BASE_URL', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'api_base_url' } } },
    ]);
    for (const spec of CATALOGUE.filter((c) => c.tier === Tier.BACKEND)) {
      expect(container(staging, spec.name).env.map((e: { name: string }) => e.name))
        .toEqual(['ENVIRONMENT', 'LOG_LEVEL', ...(spec.datastores ?? []).map((d) => d.envVar)]);
    }
  });

  test('production images are release tags and staging images commit SHAs', () => {
    expect(container(production, FRONTEND.name).image).toBe(`${IMAGE_REGISTRY}/frontend:v1.0.0`);
    expect(container(staging, FRONTEND.name).image).toMatch(/:[0-9a-f]{40}$/);
  });

  test('every environment has exactly the expected object set', () => {
    for (const objs of [staging, production]) {
      expect(ofKind(objs, 'Deployment')).toHaveLength(CATALOGUE.length);
      expect(ofKind(objs, 'Service')).toHaveLength(CATALOGUE.length);
    }
  });
});

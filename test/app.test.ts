import { ROOT } from '../synth/root';
import { CATALOGUE, ENVIRONMENTS, FRONTEND, IMAGE_REGISTRY, resolveEnvironments, Tier } from '../environments';
import { readReleaseStates } from '../release/files';
import { DEPLOY_SET_LABEL } from '../kcp';
import { find, matches, Obj, ofKind, synthObjects } from './helpers';
import { assertReleaseInvariants } from './invariants';

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

  test('label every object with its environment and its deploy set (what the deploy prunes by)', () => {
    const unlabelled = objs.filter((o) => o.metadata.labels?.environment !== env || o.metadata.labels?.[DEPLOY_SET_LABEL] !== env);
    expect(unlabelled.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    expect(DEPLOY_SET_LABEL).toBe('deploy.soundcore-kcp.com/set');
  });

  test('pin every container image by tag and pull it only when absent', () => {
    const containers = podTemplates(objs).flatMap(({ owner, spec }) => [...spec.containers, ...(spec.initContainers ?? [])]
      .map((c: { name: string; image: string; imagePullPolicy: string }) => [`${owner}/${c.name}`, c.imagePullPolicy, /:[^:/]+$/.test(c.image)]));
    expect(containers.length).toBeGreaterThan(0);
    expect(containers.filter(([, policy, tagged]) => policy !== 'IfNotPresent' || !tagged)).toEqual([]);
  });

  test('probe the public URL of every component without metrics through the blackbox exporter', () => {
    const probe = find(objs, 'Probe', 'soundcore-kcp-frontend-probe');
    // (the frontend serves no /metrics: the catalogue's exposesMetrics)
    expect(probe.spec).toEqual({
      interval: '30s', jobName: 'soundcore-kcp-frontend-probe', module: 'http_2xx',
      prober: { path: '/probe', scheme: 'http', url: 'blackbox-exporter-prometheus-blackbox-exporter.monitoring.svc:9115' },
      targets: { staticConfig: { static: [env === 'staging' ? 'https://staging.soundcore-kcp.com/' : 'https://soundcore-kcp.com/'] } },
    });
    expect(probe.metadata.labels).toMatchObject({ release: 'prometheus' });
  });

  test('name the dashboard after the environment', () => {
    const dashboard = JSON.parse(find(objs, 'ConfigMap', 'soundcore-kcp-dashboard').data[`soundcore-kcp-${env}.json`]);
    expect([dashboard.title, dashboard.tags]).toEqual([`Soundcore KCP services (${env})`, ['soundcore-kcp', env]]);
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

  test.each(CATALOGUE.map((c) => [c.name, c] as const))('%s has its Deployments and a Service with the exact seed names', (_name, spec) => {
    const service = find(objs, 'Service', spec.name);
    const names = ofKind(objs, 'Deployment').filter((d) => d.metadata.labels?.app === spec.name).map((d) => d.metadata.name);
    expect(names).toEqual(env === 'staging' ? [spec.name] : [`${spec.name}-blue`, `${spec.name}-green`]);
    for (const name of names) {
      const deployment = find(objs, 'Deployment', name);
      const colour = env === 'staging' ? {} : { version: name.slice(spec.name.length + 1) };
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
      // selectors: the Deployment's immutable selector is the stable app label (plus its colour)
      expect(deployment.spec.selector).toEqual({ matchLabels: { app: spec.name, ...colour } });
      expect(matches(deployment.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
      expect(pod.metadata.labels['app.kubernetes.io/version']).toBe(container.image.split(':')[1]);
      // ports
      expect(container.ports).toEqual([{ containerPort: spec.containerPort, name: 'http' }]);
      expect(service.spec.ports).toEqual([
        { name: 'http', port: spec.servicePort, targetPort: spec.containerPort },
        // metrics are served on the HTTP port; the Service names it for the ServiceMonitor
        ...(spec.exposesMetrics ? [{ name: 'metrics', port: 9090, targetPort: spec.containerPort }] : []),
      ]);
      // image
      expect(container.image).toMatch(new RegExp(`^${IMAGE_REGISTRY}/${spec.name}:[A-Za-z0-9_][A-Za-z0-9_.-]*$`));
      expect(container.image).not.toMatch(/:latest$/);
      // probes on /health of the HTTP port
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        expect(probe.httpGet).toEqual({ path: '/health', port: spec.containerPort, scheme: 'HTTP' });
      }
      // zero-downtime rolling update
      expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    }
    // the Service selects the pods of its component (the active colour in production)
    expect(service.spec.selector).toEqual(env === 'staging' ? { app: spec.name } : { app: spec.name, version: 'blue' });
    expect(matches(service.spec.selector, find(objs, 'Deployment', names[0]).spec.template.metadata.labels)).toBe(true);
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

  test('route the frontend and API hosts to the catalogue\'s Services: through the nginx Ingress (production) or HTTPRoutes (staging)', () => {
    const hosts = env === 'staging'
      ? ['staging.soundcore-kcp.com', 'staging-api.soundcore-kcp.com']
      : ['soundcore-kcp.com', 'api.soundcore-kcp.com'];
    const expected = {
      [`${hosts[0]}/`]: 'frontend:80',
      [`${hosts[1]}/api/v1/knowledge`]: 'knowledge-service:8001',
      [`${hosts[1]}/api/v1/content`]: 'content-service:8002',
      [`${hosts[1]}/api/v1/support`]: 'support-service:8003',
      [`${hosts[1]}/api/v1/analytics`]: 'analytics-service:8004',
      [`${hosts[1]}/api/v1/stats`]: 'analytics-service:8004',
      [`${hosts[1]}/api/v1/auth`]: 'auth-service:8005',
    };
    if (env === 'staging') {
      // GIVEN staging routed by Gateway API: one HTTPRoute per component, TLS at the Gateway, no Ingress
      expect(ofKind(objs, 'Ingress')).toEqual([]);
      const routes = ofKind(objs, 'HTTPRoute');
      expect(routes.map((r) => r.metadata.name).sort()).toEqual(CATALOGUE.map((c) => c.name).sort());
      const served: { [url: string]: string } = {};
      for (const r of routes) {
        expect(r.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateway-system', sectionName: 'https' }]);
        expect(JSON.stringify(r.spec)).not.toMatch(/tls|nginx|secret/i);
        expect(r.metadata.annotations).toBeUndefined();
        for (const host of r.spec.hostnames) {
          for (const rule of r.spec.rules) {
            for (const m of rule.matches) {
              expect(m.path.type).toBe('PathPrefix');
              served[`${host}${m.path.value}`] = rule.backendRefs.map((b: { name: string; port: number }) => `${b.name}:${b.port}`).join(' ');
            }
          }
        }
      }
      // the Argo canary's route lists its canary Service too (weight 0 until the plugin moves it)
      expect(served).toEqual({ ...expected, [`${hosts[1]}/api/v1/knowledge`]: 'knowledge-service:8001 knowledge-service-canary:8001' });
      return;
    }
    const ingress = find(objs, 'Ingress', 'soundcore-kcp');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls.map((t: { hosts: string[] }) => t.hosts).flat()).toEqual(hosts);
    expect(ingress.spec.rules.map((r: { host: string }) => r.host)).toEqual(hosts);
    expect(ingress.metadata.annotations['nginx.ingress.kubernetes.io/force-ssl-redirect']).toBe('true');
    // certificates from the ClusterIssuer the environment file names
    expect(ingress.metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt-prod');
    const routes = Object.fromEntries(ingress.spec.rules.flatMap((r: { host: string; http: { paths: Array<{ path: string; backend: { service: { name: string; port: { number: number } } } }> } }) =>
      r.http.paths.map((p) => [`${r.host}${p.path}`, `${p.backend.service.name}:${p.backend.service.port.number}`])));
    expect(routes).toEqual(expected);
    expect(ofKind(objs, 'HTTPRoute')).toEqual([]);
  });
});

describe('per-environment values from the seed', () => {
  /** The Deployment serving traffic for a component: the rolling one, or the active (blue) colour. */
  const serving = (objs: Obj[], name: string) => find(objs, 'Deployment', objs === production ? `${name}-blue` : name);
  const container = (objs: Obj[], name: string) => serving(objs, name).spec.template.spec.containers[0];
  const fullSize = (objs: Obj[], name: string) => serving(objs, name).spec.replicas
    ?? find(objs, 'HorizontalPodAutoscaler', serving(objs, name).metadata.name).spec.minReplicas;

  test('frontend runs 2 small replicas in staging and 3 larger ones in production', () => {
    expect(fullSize(staging, 'frontend')).toBe(2);
    expect(container(staging, 'frontend').resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '250m', memory: '256Mi' },
    });
    expect(fullSize(production, 'frontend')).toBe(3);
    expect(container(production, 'frontend').resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' },
    });
  });

  test('knowledge-service runs 5 replicas in production', () => {
    expect(fullSize(production, 'knowledge-service')).toBe(5);
    expect(find(production, 'HorizontalPodAutoscaler', 'knowledge-service-blue').spec.maxReplicas).toBe(10);
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
    expect(ofKind(staging, 'Deployment')).toHaveLength(CATALOGUE.length);
    // + the canary Service of the Argo canary and the preview Service of the Argo blue/green component
    expect(ofKind(staging, 'Service')).toHaveLength(CATALOGUE.length + 2);
    expect(ofKind(staging, 'Rollout').map((r) => r.metadata.name).sort()).toEqual(['content-service', 'knowledge-service']);
    expect(ofKind(staging, 'PodDisruptionBudget')).toHaveLength(CATALOGUE.length);
    expect(ofKind(production, 'Deployment')).toHaveLength(2 * CATALOGUE.length);
    expect(ofKind(production, 'Service')).toHaveLength(2 * CATALOGUE.length);
    expect(ofKind(production, 'PodDisruptionBudget')).toHaveLength(2 * CATALOGUE.length);
    expect(ofKind(production, 'HorizontalPodAutoscaler').map((h) => h.metadata.name).sort())
      .toEqual(['frontend-blue', 'frontend-green', 'knowledge-service-blue', 'knowledge-service-green']);
  });
});

describe('release invariants of the committed environments', () => {
  const resolved = resolveEnvironments(ENVIRONMENTS, CATALOGUE, readReleaseStates(ROOT, ENVIRONMENTS));
  test.each(resolved.map((e) => [e.name, e] as const))('%s keeps every Service on exactly one full-size colour, with PDBs and HPAs on their own pods', (name, env) => {
    expect(() => assertReleaseInvariants(objects.get(name)!, env)).not.toThrow();
  });

  test('the invariant check catches traffic on an under-sized colour', () => {
    const env = resolved.find((e) => e.name === 'production')!;
    const broken = production.map((o) => (o.kind === 'Service' && o.metadata.name === 'content-service'
      ? { ...o, spec: { ...o.spec, selector: { app: 'content-service', version: 'green' } } } : o));
    expect(() => assertReleaseInvariants(broken, env)).toThrow('production: traffic of content-service goes to content-service-green, which runs 1 < full size 3');
  });

  test('production runs every component as a blue/green pair and staging as rolling Deployments', () => {
    for (const spec of CATALOGUE) {
      expect(find(production, 'Service', spec.name).spec.selector).toEqual({ app: spec.name, version: 'blue' });
      expect(find(production, 'Service', `${spec.name}-preview`).spec.selector).toEqual({ app: spec.name, version: 'green' });
      expect(find(staging, 'Service', spec.name).spec.selector).toEqual({ app: spec.name });
    }
  });
});

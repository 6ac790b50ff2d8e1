import { KCP_CONVENTIONS } from '../kcp';
import { formatJson, formatMarkdown, Manifest, plainLine, reviewEnvironment, reviewObjects, ReviewLine } from '../review';
import { PREVIEW_SUFFIX, COLOUR_LABEL as REVIEW_COLOUR_LABEL } from '../review/context';
import { find, Obj, synthObjects } from './helpers';

/**
 * The review's lines on crafted before/after pairs. "Before" is the committed production (or
 * staging) environment, synthesized in memory; "after" is a copy with one deliberate change.
 */

const objects = synthObjects();
const PROD = objects.get('production')!;
const STAGING = objects.get('staging')!;

/** A deep copy of an environment, changed by `edit`. */
function changed(base: readonly Obj[], edit: (objs: Obj[]) => Obj[] | void): Obj[] {
  const copy = structuredClone(base) as Obj[];
  return edit(copy) ?? copy;
}

/** `[labels] subject: text` of each line, for exact assertions. */
function lines(before: readonly Obj[], after: readonly Obj[], env = 'production'): string[] {
  return reviewEnvironment(env, before as unknown as Manifest[], after as unknown as Manifest[]).lines.map(show);
}

/** Gives an object another name (metadata is read-only in the object type). */
function rename(o: Obj, name: string): void {
  (o.metadata as { name: string }).name = name;
}

const show = (l: ReviewLine) => `[${l.labels.join(',')}] ${plainLine(l)}`;

describe('the review of a change to the manifests', () => {
  test('reports nothing for a pure reorder: objects, map keys and named list items in another order', () => {
    // GIVEN production with every object in reverse order, every map's keys reversed, and the
    // containers' env variables and the Services' ports in reverse order
    const reverseKeys = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(reverseKeys);
      if (v === null || typeof v !== 'object') return v;
      return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]));
    };
    const after = changed(PROD, (objs) => {
      for (const d of objs.filter((o) => o.kind === 'Deployment')) d.spec.template.spec.containers[0].env.reverse();
      for (const s of objs.filter((o) => o.kind === 'Service')) s.spec.ports.reverse();
      return objs.reverse().map((o) => reverseKeys(o) as Obj);
    });
    expect(JSON.stringify(after)).not.toEqual(JSON.stringify(PROD));
    // WHEN reviewed THEN no line and no object change
    const review = reviewEnvironment('production', PROD as unknown as Manifest[], after as unknown as Manifest[]);
    expect(review.lines).toEqual([]);
    expect(review.counts).toEqual({ added: 0, removed: 0, changed: 0, unchanged: PROD.length });
  });

  test('flags a rename as a removed and an added object, both labelled rename', () => {
    // GIVEN the ConfigMap app-config renamed to app-settings, its content unchanged
    const after = changed(PROD, (objs) => { rename(find(objs, 'ConfigMap', 'app-config'), 'app-settings'); });
    const review = reviewEnvironment('production', PROD as unknown as Manifest[], after as unknown as Manifest[]);
    expect(review.lines.map(show)).toEqual([
      '[rename] production: ConfigMap app-settings added, renamed from app-config: a new object, not an update',
      '[rename] production: ConfigMap app-config removed, renamed to app-settings',
    ]);
    expect(review.objects.filter((o) => o.change !== 'changed')).toEqual([
      { key: { group: '', kind: 'ConfigMap', namespace: 'soundcore-kcp-prod', name: 'app-config', id: '/ConfigMap/soundcore-kcp-prod/app-config' }, change: 'removed', fields: [], renamedTo: 'app-settings' },
      { key: { group: '', kind: 'ConfigMap', namespace: 'soundcore-kcp-prod', name: 'app-settings', id: '/ConfigMap/soundcore-kcp-prod/app-settings' }, change: 'added', fields: [], renamedFrom: 'app-config' },
    ]);
  });

  test('a renamed Service is flagged and its removal stops traffic; unrelated objects are no rename', () => {
    const after = changed(PROD, (objs) => {
      rename(find(objs, 'Service', 'support-service'), 'support');
      return objs.filter((o) => !(o.kind === 'ConfigMap' && o.metadata.name === 'app-config'));
    });
    expect(lines(PROD, after)).toEqual([
      '[rename,stops-traffic] production: Service support-service removed, renamed to support (its clients lose it)',
      '[rename] production: Service support added, renamed from support-service: a new object, not an update',
      '[change] production: ConfigMap app-config removed',
    ]);
  });

  test('a changed Deployment selector is blocking: kubectl apply refuses it', () => {
    // GIVEN the frontend's blue Deployment selecting on an extra label (pods labelled to match)
    const after = changed(PROD, (objs) => {
      const d = find(objs, 'Deployment', 'frontend-blue');
      d.spec.selector.matchLabels.tier = 'web';
      d.spec.template.metadata.labels.tier = 'web';
    });
    expect(lines(PROD, after)).toEqual([
      '[blocking] production/frontend-blue: Deployment selector app=frontend,version=blue -> app=frontend,tier=web,version=blue: '
        + 'kubectl apply will refuse it (spec.selector is immutable); delete and re-create the Deployment, or give it a new name',
    ]);
  });

  test('a changed Job pod template is blocking; a Job under a new name is not', () => {
    const job: Obj = {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: 'soundcore-kcp-prod' },
      spec: { template: { metadata: { labels: { app: 'migrate' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'registry.example/migrate:v1' }] } } },
    };
    const next = structuredClone(job);
    next.spec.template.spec.containers[0].image = 'registry.example/migrate:v2';
    expect(lines([...PROD, job], [...PROD, next])).toEqual([
      '[blocking] production/migrate: Job pod template changed: kubectl apply will refuse it (spec.template is immutable); delete and re-create the Job, or give it a new name',
      '[image] production/migrate: image v1 -> v2',
    ]);
  });

  test('a widened NetworkPolicy lists exactly the flows it newly allows', () => {
    // GIVEN support-service may now call content-service on its port (an edge the catalogue does not declare)
    const after = changed(PROD, (objs) => {
      find(objs, 'NetworkPolicy', 'content-service').spec.ingress.push({ from: [{ podSelector: { matchLabels: { app: 'support-service' } } }], ports: [{ port: 8002, protocol: 'TCP' }] });
      find(objs, 'NetworkPolicy', 'support-service').spec.egress = [{ to: [{ podSelector: { matchLabels: { app: 'content-service' } } }], ports: [{ port: 8002, protocol: 'TCP' }] },
        ...find(objs, 'NetworkPolicy', 'support-service').spec.egress];
    });
    // THEN one flow is newly allowed (both colours of each pair: reported by component); nothing else
    expect(lines(PROD, after)).toEqual(['[exposure-up] production: newly allowed: support-service -> content-service TCP 8002']);
  });

  test('a policy opened to every namespace lists the new peer and the outside flows; a narrowed one the denied flows', () => {
    const after = changed(PROD, (objs) => {
      // every pod of every namespace may reach auth-service on 8005
      find(objs, 'NetworkPolicy', 'auth-service').spec.ingress.push({ from: [{ namespaceSelector: {} }], ports: [{ port: 8005, protocol: 'TCP' }] });
      // the frontend may no longer call content-service
      const frontend = find(objs, 'NetworkPolicy', 'frontend');
      frontend.spec.egress = frontend.spec.egress.filter((r: { ports: Array<{ port: number }> }) => r.ports[0].port !== 8002);
    });
    expect(lines(PROD, after)).toEqual([
      '[exposure-up] production/auth-service: new peer: every namespace, every pod',
      '[exposure-up] production: newly allowed: a pod of another namespace -> auth-service TCP 8005',
      // (the ingress controller and Prometheus reached it on 8005 already: routed and scraped)
      '[exposure-up] production: newly allowed: kube-system/kube-dns -> auth-service TCP 8005',
      '[exposure-down] production: newly denied: frontend -> content-service TCP 8002',
    ]);
  });

  test('an IP-block peer is named, with the flows to addresses in it', () => {
    const after = changed(STAGING, (objs) => {
      find(objs, 'NetworkPolicy', 'analytics-service').spec.egress.push({ to: [{ ipBlock: { cidr: '10.40.0.0/24' } }], ports: [{ port: 5432, protocol: 'TCP' }] });
    });
    expect(lines(STAGING, after, 'staging')).toEqual([
      '[exposure-up] staging/analytics-service: new peer: IP block 10.40.0.0/24',
      '[exposure-up] staging: newly allowed: analytics-service -> addresses in 10.40.0.0/24 TCP 5432',
    ]);
  });

  test('a policy with a named port is reported as changed, its connectivity not guessed', () => {
    const after = changed(STAGING, (objs) => {
      find(objs, 'NetworkPolicy', 'frontend').spec.ingress[0].ports = [{ port: 'http', protocol: 'TCP' }];
    });
    expect(lines(STAGING, after, 'staging')).toEqual([
      '[exposure-up] staging: NetworkPolicies changed; connectivity not computed: named port http is not supported by the evaluator',
    ]);
  });

  test('a Secret change names keys, never values', () => {
    // GIVEN a Secret whose value changes and which gains a key (the values are made up for the test)
    const secret = (data: { [k: string]: string }): Obj => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'api-keys', namespace: 'soundcore-kcp-prod' }, type: 'Opaque', data });
    const OLD = Buffer.from('old-token-4711').toString('base64');
    const NEW = Buffer.from('new-token-0815').toString('base64');
    const before = [...PROD, secret({ 'search-key': OLD })];
    const after = [...PROD, secret({ 'search-key': NEW, 'mail-key': NEW })];
    const review = reviewEnvironment('production', before as unknown as Manifest[], after as unknown as Manifest[]);
    expect(review.lines.map(show)).toEqual(['[secrets] production/api-keys: keys added: mail-key; values changed: search-key (values not shown)']);
    expect(review.objects[0].fields).toEqual([
      { path: 'data.mail-key', change: 'added', after: '(hidden)' },
      { path: 'data.search-key', change: 'changed', before: '(hidden)', after: '(hidden)' },
    ]);
    // THEN no rendering holds a value, encoded or not
    const all = reviewObjects(new Map([['production', before as unknown as Manifest[]]]), new Map([['production', after as unknown as Manifest[]]]), { base: 'a', head: 'b' });
    for (const text of [formatMarkdown(all), formatJson(all), JSON.stringify(review)]) {
      for (const value of [OLD, NEW, 'old-token-4711', 'new-token-0815']) expect(text).not.toContain(value);
    }
  });

  test('secret references: a workload reading a new key, an ExternalSecret reading from another remote key', () => {
    const after = changed(PROD, (objs) => {
      find(objs, 'Deployment', 'support-service-blue').spec.template.spec.containers[0].env.push(
        { name: 'REDIS_URL', valueFrom: { secretKeyRef: { key: 'redis-url', name: 'db-credentials' } } });
      find(objs, 'ExternalSecret', 'db-credentials').spec.data[0].remoteRef.key = 'soundcore-kcp/production/db-credentials-v2';
    });
    expect(lines(PROD, after)).toEqual([
      '[secrets] production/support-service-blue: reads secret db-credentials key redis-url as REDIS_URL',
      '[secrets] production/db-credentials: key postgres-url: from soundcore-kcp/production/db-credentials#postgres-url -> from soundcore-kcp/production/db-credentials-v2#postgres-url',
    ]);
  });

  test('traffic: a Service moving between colours names the versions; routes per host and path', () => {
    const after = changed(PROD, (objs) => {
      find(objs, 'Deployment', 'knowledge-service-green').spec.template.metadata.labels['app.kubernetes.io/version'] = 'v1.1.0';
      find(objs, 'Deployment', 'knowledge-service-green').spec.template.spec.containers[0].image = 'registry.gitlab.com/soundcore/kcp/knowledge-service:v1.1.0';
      find(objs, 'Service', 'knowledge-service').spec.selector.version = 'green';
      const ingress = find(objs, 'Ingress', 'soundcore-kcp');
      const api = ingress.spec.rules[1].http.paths;
      api.find((p: Obj) => p.path === '/api/v1/stats').backend.service = { name: 'support-service', port: { number: 8003 } };
      ingress.spec.rules[1].http.paths = api.filter((p: Obj) => p.path !== '/api/v1/support');
      ingress.spec.rules[1].http.paths.push({ path: '/api/v2/knowledge', pathType: 'Prefix', backend: { service: { name: 'knowledge-service', port: { number: 8001 } } } });
    });
    expect(lines(PROD, after)).toEqual([
      '[stops-traffic] production/soundcore-kcp: route api.soundcore-kcp.com/api/v1/support -> support-service:8003 removed',
      '[traffic] production/knowledge-service: traffic blue (v1.0.0) -> green (v1.1.0)',
      '[traffic] production/soundcore-kcp: route api.soundcore-kcp.com/api/v1/stats: analytics-service:8004 -> support-service:8003',
      '[traffic] production/soundcore-kcp: route api.soundcore-kcp.com/api/v2/knowledge -> knowledge-service:8001 added',
      '[image] production/knowledge-service-green: image v1.0.0 -> v1.1.0',
    ]);
  });

  test('traffic stops when a Service selects no pods or loses a port', () => {
    const after = changed(STAGING, (objs) => {
      find(objs, 'Service', 'frontend').spec.selector.app = 'web';
      find(objs, 'Service', 'auth-service').spec.ports = find(objs, 'Service', 'auth-service').spec.ports.filter((p: Obj) => p.name !== 'metrics');
    });
    const tag = find(STAGING, 'Deployment', 'frontend').spec.template.metadata.labels['app.kubernetes.io/version'];
    expect(lines(STAGING, after, 'staging')).toEqual([
      `[stops-traffic] staging/frontend: traffic stops: the selector app=web selects no pods (was frontend (${tag}))`,
      '[stops-traffic] staging/auth-service: port 9090 (metrics) removed',
    ]);
  });

  test('images: another repository is shown in full', () => {
    const after = changed(STAGING, (objs) => {
      find(objs, 'Deployment', 'frontend').spec.template.spec.containers[0].image = 'ghcr.io/soundcore/frontend:2024.1';
    });
    const line = lines(STAGING, after, 'staging');
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(/^\[image\] staging\/frontend: image registry\.gitlab\.com\/soundcore\/kcp\/frontend:[0-9a-f]{40} -> ghcr\.io\/soundcore\/frontend:2024\.1$/);
  });

  test('capacity: replicas, autoscaler bounds and target, disruption budget, requests and limits', () => {
    const after = changed(PROD, (objs) => {
      find(objs, 'Deployment', 'content-service-blue').spec.replicas = 2; // live colour
      find(objs, 'Deployment', 'content-service-green').spec.replicas = 2; // idle colour: standby 1 -> 2
      const hpa = find(objs, 'HorizontalPodAutoscaler', 'knowledge-service-blue');
      hpa.spec.maxReplicas = 8;
      hpa.spec.metrics[0].resource.target.averageUtilization = 85;
      find(objs, 'PodDisruptionBudget', 'auth-service-blue').spec.maxUnavailable = 2;
      const c = find(objs, 'Deployment', 'auth-service-blue').spec.template.spec.containers[0];
      c.resources.limits.memory = '512Mi';
      c.resources.requests.cpu = '0.5';
      return objs.filter((o) => !(o.kind === 'PodDisruptionBudget' && o.metadata.name === 'support-service-blue'));
    });
    const before = find(PROD, 'Deployment', 'auth-service-blue').spec.template.spec.containers[0].resources;
    expect(lines(PROD, after)).toEqual([
      '[capacity-down] production/content-service-blue: replicas 3 -> 2',
      '[capacity-down] production/knowledge-service-blue: autoscaler 5..10 -> 5..8',
      '[capacity-down] production/knowledge-service-blue: autoscaler target cpu 70% -> 85%',
      '[capacity-down] production/auth-service-blue: disruption budget maxUnavailable 1 -> 2 (looser)',
      `[capacity-down] production/auth-service-blue: requests cpu ${before.requests.cpu} -> 0.5, limits memory ${before.limits.memory} -> 512Mi`,
      '[capacity-down] production: PodDisruptionBudget support-service-blue removed (a node drain may evict all its pods at once)',
      '[capacity-up] production/content-service-green: replicas 1 -> 2',
    ]);
  });

  test('capacity of an idle colour is labelled capacity, not capacity-down', () => {
    // GIVEN the committed state: green is the idle colour of the frontend, its HPA held at its standby size
    const hpa = find(PROD, 'HorizontalPodAutoscaler', 'frontend-green').spec;
    expect(hpa.minReplicas).toBe(hpa.maxReplicas);
    // WHEN its lower bound drops
    const after = changed(PROD, (objs) => { find(objs, 'HorizontalPodAutoscaler', 'frontend-green').spec.minReplicas = 0; });
    // THEN it is a capacity line, not a risky one: no Service but the preview sends it requests
    expect(lines(PROD, after)).toEqual([`[capacity] production/frontend-green: autoscaler held at ${hpa.minReplicas} -> 0..${hpa.maxReplicas}`]);
  });

  test('alerts: a raised threshold and a longer for are less sensitive; removed and added rules', () => {
    const after = changed(PROD, (objs) => {
      const rules = find(objs, 'PrometheusRule', 'soundcore-kcp-alerts').spec.groups[0].rules;
      const errors = rules.find((r: Obj) => r.alert === 'HighErrorRate');
      errors.expr = errors.expr.replace(/> 0\.05$/, '> 0.1');
      rules.find((r: Obj) => r.alert === 'PodDown').for = '5m';
      rules.find((r: Obj) => r.alert === 'HighCPUUsage').labels.severity = 'critical';
      const i = rules.findIndex((r: Obj) => r.alert === 'HighMemoryUsage');
      rules.splice(i, 1, { alert: 'HighRestartRate', expr: 'increase(kube_pod_container_status_restarts_total[15m]) > 3', for: '5m', labels: { severity: 'warning' } });
    });
    expect(lines(PROD, after)).toEqual([
      '[alerts-down] production/soundcore-kcp-alerts: alert HighErrorRate: threshold > 0.05 -> > 0.1',
      '[alerts-down] production/soundcore-kcp-alerts: alert PodDown: for 2m -> 5m',
      '[alerts-down] production/soundcore-kcp-alerts: alert HighMemoryUsage removed',
      '[alerts] production/soundcore-kcp-alerts: alert HighCPUUsage: severity warning -> critical',
      '[alerts] production/soundcore-kcp-alerts: alert HighRestartRate added',
    ]);
  });

  test('deletions: a Namespace deletes data, an ExternalSecret its Secret, a Deployment stops its pods', () => {
    const after = PROD.filter((o) => !['Namespace', 'ExternalSecret'].includes(o.kind) && o.metadata.name !== 'frontend-green');
    expect(lines(PROD, after).filter((l) => !l.includes('newly') && !l.includes('HorizontalPodAutoscaler') && !l.includes('PodDisruptionBudget'))).toEqual([
      '[deletes-data,secrets] production: ExternalSecret db-credentials removed (the Secret it owns is deleted with it)',
      '[deletes-data,secrets] production: ExternalSecret alertmanager-receivers removed (the Secret it owns is deleted with it)',
      '[deletes-data] production: Namespace soundcore-kcp-prod removed (deleting a namespace deletes everything in it)',
      '[stops-traffic] production: Deployment frontend-green removed (its pods stop)',
    ]);
  });

  test('any other change is summarized by field, blocking and risky lines first', () => {
    const after = changed(STAGING, (objs) => {
      find(objs, 'ConfigMap', 'app-config').data.log_level = 'warning';
      find(objs, 'Deployment', 'frontend').spec.replicas = 1;
      const d = find(objs, 'Deployment', 'content-service');
      d.spec.selector.matchLabels.track = 'stable';
      d.spec.template.metadata.labels.track = 'stable';
    });
    const before = find(STAGING, 'ConfigMap', 'app-config').data.log_level;
    const replicas = find(STAGING, 'Deployment', 'frontend').spec.replicas;
    expect(lines(STAGING, after, 'staging')).toEqual([
      expect.stringMatching(/^\[blocking\] staging\/content-service: Deployment selector app=content-service -> app=content-service,track=stable: /),
      `[capacity-down] staging/frontend: replicas ${replicas} -> 1`,
      `[change] staging/app-config: ConfigMap changed: data.log_level ${before} -> warning`,
    ]);
  });
});

describe('the review\'s conventions', () => {
  test('match the blue/green construct: colour label and preview Service name', () => {
    expect(REVIEW_COLOUR_LABEL).toBe(KCP_CONVENTIONS.colourLabel);
    const previews = PROD.filter((o) => o.kind === 'Service' && o.metadata.name.endsWith(PREVIEW_SUFFIX)).map((o) => o.metadata.name);
    expect(previews.sort()).toEqual(PROD.filter((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-blue'))
      .map((o) => `${o.metadata.name.replace(/-blue$/, '')}${PREVIEW_SUFFIX}`).sort());
  });
});

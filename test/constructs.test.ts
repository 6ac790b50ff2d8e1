import { Testing } from 'cdk8s';
import { checkImageTag, Microservice, MicroserviceProps, ReleaseStrategy, SecureNamespace, TlsIngress } from '../constructs';
import { ORDERS } from './orders-props';

const BASE: MicroserviceProps = ORDERS;

describe('Microservice', () => {
  test('renders a hardened Deployment and a Service with exact names and stable selectors', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const svc = new Microservice(chart, 'Orders', { ...BASE, replicas: 3, labels: { team: 'shop' } });
    // THEN
    const objs = Testing.synth(chart);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Service/orders', 'Deployment/orders', 'PodDisruptionBudget/orders']);
    const deployment = objs[1];
    expect(deployment.spec.selector).toEqual({ matchLabels: { app: 'orders' } });
    expect(deployment.spec.template.metadata.labels).toMatchObject({ 'app': 'orders', 'team': 'shop', 'app.kubernetes.io/version': 'v2.3.1' });
    expect(deployment.spec.replicas).toBe(3);
    expect(objs[0].spec.selector).toEqual({ app: 'orders' });
    expect(svc.servicePort).toBe(8080);
    expect(JSON.stringify(objs)).not.toContain('cdk8s.io/metadata.addr');
    expect(objs).toMatchSnapshot();
  });

  test('defaults to 2 replicas, /health probes with Kubernetes timings and a /tmp emptyDir', () => {
    const chart = Testing.chart();
    const svc = new Microservice(chart, 'Orders', BASE);
    const [, deployment] = Testing.synth(chart);
    const container = deployment.spec.template.spec.containers[0];
    expect(svc.replicas).toBe(2);
    expect(container.livenessProbe).toEqual({
      httpGet: { path: '/health', port: 8080, scheme: 'HTTP' },
      initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3,
    });
    expect(container.volumeMounts).toEqual([{ mountPath: '/tmp', name: 'tmp' }]);
  });

  test.each([
    [{ name: 'Orders_Service' }, /^Microservice Orders_Service: name must be a DNS-1123 label .*, got "Orders_Service"$/],
    [{ replicas: 0 }, /^Microservice orders: replicas must be an integer >= 1, got 0$/],
    [{ containerPort: 70000 }, /^Microservice orders: containerPort must be an integer from 1 to 65535, got 70000$/],
    [{ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } } },
      /^Microservice orders: resources.requests.cpu must not exceed resources.limits.cpu \(500m\), got "1"$/],
  ])('throws on bad props %j', (patch, message) => {
    expect(() => new Microservice(Testing.chart(), 'Orders', { ...BASE, ...patch })).toThrow(message);
  });
});

describe('SecureNamespace', () => {
  test('enforces restricted Pod Security and is cluster-scoped even inside a namespaced chart', () => {
    const chart = Testing.chart();
    new SecureNamespace(chart, 'Ns', { name: 'shop', labels: { team: 'shop' } });
    const [ns] = Testing.synth(chart);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(ns.metadata.namespace).toBeUndefined();
  });
});

describe('TlsIngress', () => {
  test('throws when routing to a host that was not added', () => {
    const chart = Testing.chart();
    const ingress = new TlsIngress(chart, 'Ingress', { name: 'shop' });
    const orders = new Microservice(chart, 'Orders', BASE);
    expect(() => ingress.route('shop.example.com', '/', orders))
      .toThrow('TlsIngress: host must be added with addHost() before routing to it (hosts: ), got "shop.example.com"');
  });

  test('adds a TLS entry per host and routes by prefix to the service port', () => {
    const chart = Testing.chart();
    const ingress = new TlsIngress(chart, 'Ingress', { name: 'shop', clusterIssuer: 'letsencrypt' });
    const orders = new Microservice(chart, 'Orders', { ...BASE, servicePort: 80 });
    ingress.addHost('shop.example.com', 'shop-tls');
    ingress.route('shop.example.com', '/orders', orders);
    const obj = Testing.synth(chart).find((o) => o.kind === 'Ingress');
    expect(obj.spec.tls).toEqual([{ hosts: ['shop.example.com'], secretName: 'shop-tls' }]);
    expect(obj.spec.rules[0].http.paths[0]).toEqual({
      path: '/orders', pathType: 'Prefix', backend: { service: { name: 'orders', port: { number: 80 } } },
    });
    expect(() => ingress.addHost('shop.example.com', 'x')).toThrow('must be added once');
  });
});

describe('checkImageTag', () => {
  const RULE = 'must be a pinned image tag that is also a label value (at most 63 letters, digits, "_", "." or "-", '
    + 'starting and ending with a letter or digit; a version like v1.4.2 or a commit SHA)';

  test.each([
    'v1.4.2', '0d7f3c4e9b2a8f1e6d5c4b3a2f1e0d9c8b7a6f5e', '1', 'v', 'v1.4.2-rc.1', 'release_2024.06', 'V2', `v${'1'.repeat(62)}`,
  ])('GIVEN the tag %j WHEN checked THEN it is accepted', (tag) => {
    expect(checkImageTag(tag)).toBeUndefined();
  });

  test.each([
    // a valid Docker tag, but not a label value: too long, or not alphanumeric at both ends
    [`v${'1'.repeat(63)}`], ['a'.repeat(128)], ['_v1'], ['v1-'], ['v1.'], ['v1_'], ['.v1'], ['-v1'],
    // not a Docker tag either
    [''], ['v1:2'], ['v1 2'], ['v1/2'], ['v1@sha256'], ['ü1'], [1.4], [null], [undefined],
  ])('GIVEN the tag %p WHEN checked THEN the rule states the 63 limit', (tag) => {
    expect(checkImageTag(tag)).toBe(RULE);
  });

  test.each(['latest', 'LATEST', 'Latest'])('GIVEN %j WHEN checked THEN it is refused as floating', (tag) => {
    expect(checkImageTag(tag)).toBe('must be a pinned tag (a version like v1.4.2 or a commit SHA), not "latest"');
  });

  test('GIVEN a 64-character tag WHEN a rolling release is declared with it THEN it throws before the tag becomes a label', () => {
    const tag = `v${'1'.repeat(63)}`;
    expect(() => ReleaseStrategy.rolling({ imageTag: tag })).toThrow(`ReleaseStrategy.rolling: imageTag ${RULE}, got "${tag}"`);
  });
});

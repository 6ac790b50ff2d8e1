import { Testing } from 'cdk8s';
import { Microservice, MicroserviceProps } from '../constructs';
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

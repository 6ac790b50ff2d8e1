import { Testing } from 'cdk8s';
import { Microservice, MicroserviceProps, TlsIngress } from '../constructs';
import { ORDERS } from './orders-props';

const BASE: MicroserviceProps = ORDERS;

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

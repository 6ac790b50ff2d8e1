/**
 * Gateway API routing: the HTTPRoute construct (one route per workload, weighted backends, TLS at
 * the Gateway), the Ingress behind the same router interface, and the environment's `routing` choice.
 */
import { Testing } from 'cdk8s';
import { GatewayHttpRoutes, IHttpRouter, Microservice, TlsIngress } from '../constructs';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { configProblems, ofKind, synthObjects } from './helpers';
import { ORDERS } from './orders-props';

const GATEWAY = { name: 'public', namespace: 'gateway-system', sectionName: 'https' };

describe('GatewayHttpRoutes', () => {
  test('renders one HTTPRoute per workload: parentRef, hostnames, PathPrefix matches, its Service as backend, no TLS field', () => {
    // GIVEN two workloads, one routed on two prefixes
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', ORDERS);
    const web = new Microservice(chart, 'Web', { ...ORDERS, name: 'web', containerPort: 3000, servicePort: 80 });
    const routes = new GatewayHttpRoutes(chart, 'Routes', { gateway: GATEWAY, labels: { team: 'shop' } });
    // WHEN
    routes.route('api.shop.example', '/orders', orders);
    routes.route('api.shop.example', '/carts', orders);
    routes.route('shop.example', '/', web);
    // THEN
    const objs = Testing.synth(chart).filter((o) => o.kind === 'HTTPRoute');
    expect(objs).toEqual([
      {
        apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute',
        metadata: { name: 'orders', labels: { team: 'shop' } },
        spec: {
          parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateway-system', sectionName: 'https' }],
          hostnames: ['api.shop.example'],
          rules: [{
            matches: [{ path: { type: 'PathPrefix', value: '/orders' } }, { path: { type: 'PathPrefix', value: '/carts' } }],
            backendRefs: [{ group: '', kind: 'Service', name: 'orders', port: 8080 }],
          }],
        },
      },
      {
        apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute',
        metadata: { name: 'web', labels: { team: 'shop' } },
        spec: {
          parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateway-system', sectionName: 'https' }],
          hostnames: ['shop.example'],
          rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }] }],
        },
      },
    ]);
    expect(routes.backends).toEqual([orders, web]);
  });

  test('takes the Services of a route with their weights: a canary\'s stable Service at 100 and its canary at 0', () => {
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', ORDERS);
    const routes = new GatewayHttpRoutes(chart, 'Routes', { gateway: { name: 'public' } });
    const backends = [{ serviceName: 'orders', port: 8080, weight: 100 }, { serviceName: 'orders-canary', port: 8080, weight: 0 }];
    routes.route('api.shop.example', '/orders', orders, { backends });
    const [route] = Testing.synth(chart).filter((o) => o.kind === 'HTTPRoute');
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public' }]);
    expect(route.spec.rules[0].backendRefs).toEqual([
      { group: '', kind: 'Service', name: 'orders', port: 8080, weight: 100 },
      { group: '', kind: 'Service', name: 'orders-canary', port: 8080, weight: 0 },
    ]);
  });

  test.each([
    [{ backends: [{ serviceName: 'orders', port: 8080, weight: 0 }, { serviceName: 'orders-canary', port: 8080, weight: 0 }] },
      'GatewayHttpRoutes Routes route orders: backends must give at least one backend a weight above 0 (with every weight 0 each request is answered 500), '
      + 'got [{"serviceName":"orders","port":8080,"weight":0},{"serviceName":"orders-canary","port":8080,"weight":0}]'],
    [{ backends: [{ serviceName: 'orders', port: 8080, weight: 1_000_001 }] },
      'GatewayHttpRoutes Routes route orders: backends[0].weight must be an integer from 0 to 1000000, got 1000001'],
    [{ backends: [{ serviceName: 'Orders', port: 8080 }] },
      /^GatewayHttpRoutes Routes route orders: backends\[0\]\.serviceName must be a DNS-1123 label .*, got "Orders"$/],
    [{ backends: [] }, 'GatewayHttpRoutes Routes route orders: backends must list at least one Service, got []'],
  ])('refuses the backends %j', (options, message) => {
    const chart = Testing.chart();
    const routes = new GatewayHttpRoutes(chart, 'Routes', { gateway: GATEWAY });
    expect(() => routes.route('api.shop.example', '/orders', new Microservice(chart, 'Orders', ORDERS), options)).toThrow(message);
  });

  test('refuses a relative prefix, a bad Gateway name and a prefix routed twice', () => {
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', ORDERS);
    const routes = new GatewayHttpRoutes(chart, 'Routes', { gateway: GATEWAY });
    expect(() => routes.route('api.shop.example', 'orders', orders)).toThrow(
      'GatewayHttpRoutes Routes: pathPrefix must be an absolute path starting with "/" (no "//", query, fragment or space), got "orders"');
    routes.route('api.shop.example', '/orders', orders);
    expect(() => routes.route('api.shop.example', '/orders', orders)).toThrow(
      'GatewayHttpRoutes Routes route orders: pathPrefix must be routed once on api.shop.example, got "/orders"');
    expect(() => new GatewayHttpRoutes(chart, 'Bad', { gateway: { name: 'Public_GW' } })).toThrow(
      /^GatewayHttpRoutes Bad: gateway.name must be a DNS-1123 subdomain.*, got "Public_GW"$/);
  });

  test('refuses, at synth, a workload routed on two hosts with different prefixes (one HTTPRoute shares its rules across its hostnames)', () => {
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', ORDERS);
    const routes = new GatewayHttpRoutes(chart, 'Routes', { gateway: GATEWAY });
    routes.route('api.shop.example', '/orders', orders);
    routes.route('shop.example', '/api/orders', orders);
    expect(routes.node.validate()).toEqual([
      'HTTPRoute orders: host shop.example is routed with prefixes /api/orders and host api.shop.example with /orders; '
      + 'the hostnames of one HTTPRoute share its rules, so route each host with the same prefixes',
    ]);
  });
});

describe('TlsIngress behind the router interface', () => {
  test('routes like the HTTPRoutes do, and refuses weighted backends: an Ingress sends a route to one Service', () => {
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', ORDERS);
    const ingress = new TlsIngress(chart, 'Ingress', { name: 'shop' });
    ingress.addHost('api.shop.example', 'api-tls');
    const router: IHttpRouter = ingress;
    router.route('api.shop.example', '/orders', orders, { backends: [{ serviceName: 'orders', port: 8080 }] });
    expect(router.backends).toEqual([orders]);
    expect(() => router.route('api.shop.example', '/carts', orders, {
      backends: [{ serviceName: 'orders', port: 8080, weight: 100 }, { serviceName: 'orders-canary', port: 8080, weight: 0 }],
    })).toThrow('TlsIngress route orders: backends must be the target\'s Service orders on port 8080 alone: an Ingress sends a route to one Service '
      + '(weighted backends need Gateway API routing), got [{"serviceName":"orders","port":8080,"weight":100},{"serviceName":"orders-canary","port":8080,"weight":0}]');
  });
});

describe('routing in an environment file', () => {
  const gatewayRouting = staging.routing!;

  test('the committed environments: staging routes with Gateway API (no tls), production keeps the Ingress', () => {
    expect(gatewayRouting.mode).toBe('gateway');
    expect(staging.tls).toBeUndefined();
    expect(production.routing).toBeUndefined();
    expect(production.tls).toBeDefined();
  });

  test('an unknown routing mode names the allowed ones, an unknown key the known ones', () => {
    expect(configProblems([{ ...staging, routing: { mode: 'mesh' } as never }])).toEqual([
      'staging: routing.mode must be one of ingress, gateway, got "mesh"',
    ]);
    expect(configProblems([{ ...staging, routing: { ...gatewayRouting, gateway: { name: 'public', namespace: 'gateway-system', sectionNme: 'https' } } as never }])).toEqual([
      'staging: routing.gateway.sectionNme is an unknown field; did you mean "sectionName"? (fields here: name, namespace, sectionName)',
    ]);
  });

  test('gateway routing: names, namespace and port are checked, tls and the ingress controller have no effect', () => {
    const env = {
      ...staging,
      tls: production.tls,
      network: { ...staging.network, ingressController: { namespace: 'ingress-nginx' } },
      routing: {
        mode: gatewayRouting.mode,
        gateway: { name: 'Public', namespace: 'gateway-system' },
        dataPlane: { namespace: 'soundcore-kcp-staging', podLabels: {}, httpsPort: 70000 },
      },
    } as typeof staging;
    expect(configProblems([env])).toEqual([
      `staging: tls has no effect with routing gateway: TLS terminates at the Gateway (its listener holds the certificate); remove it, got ${JSON.stringify(production.tls)}`,
      'staging: routing.gateway.name must be a DNS-1123 subdomain (dot-separated lowercase labels, at most 253 characters), got "Public"',
      'staging: routing.dataPlane.namespace must differ from the environment\'s namespace (default-deny there would isolate its pods), got "soundcore-kcp-staging"',
      'staging: routing.dataPlane.podLabels must be a non-empty map of Kubernetes labels (keys [prefix/]name, values of at most 63 characters of [A-Za-z0-9_.-]), got {}',
      'staging: routing.dataPlane.httpsPort must be an integer from 1 to 65535, got 70000',
      'staging: network.ingressController has no effect with routing gateway: the edge is routing.dataPlane; remove it, got {"namespace":"ingress-nginx"}',
    ]);
  });

  test('ingress routing (the default) needs tls', () => {
    const withoutTls = { ...production };
    delete withoutTls.tls;
    expect(configProblems([withoutTls])).toEqual([
      'production: tls is required with routing ingress (the Ingress terminates TLS with these Secrets): { clusterIssuer, frontendSecretName, apiSecretName }',
    ]);
  });
});

describe('a target that splits its own traffic', () => {
  test('gives the HTTPRoute its backends (an Argo canary\'s stable and canary Services); the Ingress keeps to its Service', () => {
    const chart = Testing.chart();
    const orders = new Microservice(chart, 'Orders', ORDERS);
    const canary = Object.assign(Object.create(orders) as Microservice, {
      routeBackends: [{ serviceName: 'orders', port: 8080, weight: 100 }, { serviceName: 'orders-canary', port: 8080, weight: 0 }],
    });
    new GatewayHttpRoutes(chart, 'Routes', { gateway: GATEWAY }).route('api.shop.example', '/orders', canary);
    const ingress = new TlsIngress(chart, 'Ingress', { name: 'shop' });
    ingress.addHost('api.shop.example', 'api-tls');
    ingress.route('api.shop.example', '/orders', canary);
    const objs = Testing.synth(chart);
    expect(objs.find((o) => o.kind === 'HTTPRoute')!.spec.rules[0].backendRefs.map((b: { name: string; weight: number }) => `${b.name}=${b.weight}`))
      .toEqual(['orders=100', 'orders-canary=0']);
    expect(objs.find((o) => o.kind === 'Ingress')!.spec.rules[0].http.paths[0].backend).toEqual({ service: { name: 'orders', port: { number: 8080 } } });
  });
});

describe('monitoring of an environment routed by Gateway API', () => {
  test('has no edge or frontend SLO alerts (they read ingress-nginx metrics, which a Gateway does not export); production keeps them', () => {
    const objects = synthObjects();
    const alerts = (env: string) => ofKind(objects.get(env)!, 'PrometheusRule')
      .flatMap((r) => r.spec.groups.flatMap((g: { rules: { alert: string }[] }) => g.rules.map((x) => x.alert)))
      .filter((a: string) => /^(Edge|Frontend)ErrorBudgetBurn/.test(a));
    expect(alerts('staging')).toEqual([]);
    expect(alerts('production')).toEqual([
      'EdgeErrorBudgetBurn1h', 'EdgeErrorBudgetBurn6h', 'EdgeErrorBudgetBurn1d', 'EdgeErrorBudgetBurn3d',
      'FrontendErrorBudgetBurn1h', 'FrontendErrorBudgetBurn6h', 'FrontendErrorBudgetBurn1d', 'FrontendErrorBudgetBurn3d',
    ]);
    // the frontend is still watched in staging: by the synthetic probe of its public URL
    expect(ofKind(objects.get('staging')!, 'Probe').map((p) => p.spec.targets.staticConfig.static)).toEqual([['https://staging.soundcore-kcp.com/']]);
  });
});

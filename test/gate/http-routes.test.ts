import { checkHttpRouteBackends, checkHttpRouteWeights, checkRouteConflicts } from '../../validate/http-routes';
import { validateObjects } from '../../validate';
import { Body, environment, goodObjects, goodWith, lines, objectOf } from './helpers';

const ROUTE = 'shop/90-httproute-api.yaml';
const INGRESS = 'shop/72-ingress-shop.yaml';

/** A second HTTPRoute of the shop, as its own file. */
function secondRoute(spec: Body, file = 'shop/90-httproute-web.yaml') {
  return objectOf({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'shop' }, spec }, file);
}

describe('HTTPRoute checks on the good fixture', () => {
  test('find nothing to report, and the gate as a whole validates the HTTPRoute against its schema without a finding', () => {
    const env = environment(goodObjects());
    expect(lines([...checkHttpRouteBackends(env), ...checkHttpRouteWeights(env), ...checkRouteConflicts(env)])).toEqual([]);
    expect(lines(validateObjects(goodObjects()).filter((f) => f.kind === 'HTTPRoute'))).toEqual([]);
  });
});

describe('HTTPRoute schema (Gateway API v1, @kubernetes-models/gateway-api)', () => {
  // (the models of this package version validate through a schema id on the model's prototype: before
  // the registry bound it, the gate validated no HTTPRoute at all, and this test failed with no finding)
  test('reports an unknown field and a wrong path match type, as the API server would', () => {
    const objects = goodWith(ROUTE, (r) => {
      r.spec.rules[0].matches[0].path.type = 'Prefix';
      r.spec.rules[0].timeout = '5s';
    });
    expect(lines(validateObjects(objects).filter((f) => f.kind === 'HTTPRoute'))).toEqual([
      `${ROUTE} HTTPRoute shop/api spec.rules[0].matches[0].path.type: must be one of "Exact", "PathPrefix", "RegularExpression", got "Prefix" [schema/value]`,
      `${ROUTE} HTTPRoute shop/api spec.rules[0].timeout: unknown field (did you mean "timeouts"?) [schema/unknown-field]`,
    ]);
  });
});

describe('HTTPRoute backends', () => {
  test('reports a backendRef naming a Service that is not in the output', () => {
    const env = environment(goodWith(ROUTE, (r) => { r.spec.rules[0].backendRefs[1].name = 'api-canary'; }));
    expect(lines(checkHttpRouteBackends(env))).toEqual([
      `${ROUTE} HTTPRoute shop/api spec.rules[0].backendRefs[1].name: names Service "api-canary" in namespace shop, which is not in the output (Services there: api, web, web-preview) [httproute/backend]`,
    ]);
  });

  test('reports a port the Service does not serve, and a Service backendRef without a port', () => {
    const env = environment(goodWith(ROUTE, (r) => {
      r.spec.rules[0].backendRefs[0].port = 80;
      delete r.spec.rules[0].backendRefs[1].port;
    }));
    expect(lines(checkHttpRouteBackends(env))).toEqual([
      `${ROUTE} HTTPRoute shop/api spec.rules[0].backendRefs[0].port: Service "api" has no port 80 (its ports: 8001 "http") [httproute/backend]`,
      `${ROUTE} HTTPRoute shop/api spec.rules[0].backendRefs[1].port: must name the port of Service "web-preview" (a Service backendRef needs one) [httproute/backend]`,
    ]);
  });

  test('leaves backendRefs to other kinds alone (an implementation\'s own backend)', () => {
    const env = environment(goodWith(ROUTE, (r) => { r.spec.rules[0].backendRefs[1] = { group: 'example.io', kind: 'Bucket', name: 'static', weight: 0 }; }));
    expect(lines(checkHttpRouteBackends(env))).toEqual([]);
  });
});

describe('HTTPRoute weights', () => {
  test('reports a rule whose backends all weigh 0: every request of it would be answered 500', () => {
    const env = environment(goodWith(ROUTE, (r) => { r.spec.rules[0].backendRefs[0].weight = 0; }));
    expect(lines(checkHttpRouteWeights(env))).toEqual([
      `${ROUTE} HTTPRoute shop/api spec.rules[0].backendRefs: the weights of the rule's backends sum to 0 (api=0, web-preview=0): the Gateway answers every request of this rule with 500; give the serving backend a weight above 0 [httproute/weights]`,
    ]);
  });

  test('counts an unset weight as 1, the Gateway API default', () => {
    const env = environment(goodWith(ROUTE, (r) => { delete r.spec.rules[0].backendRefs[0].weight; }));
    expect(lines(checkHttpRouteWeights(env))).toEqual([]);
  });
});

describe('route conflicts', () => {
  test('reports a second HTTPRoute claiming the same hostname and path prefix', () => {
    const objects = [...goodObjects(), secondRoute({
      parentRefs: [{ name: 'public', namespace: 'gateway-system' }],
      hostnames: ['api.shop.example.com', 'www.shop.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/v2' } }, { path: { type: 'PathPrefix', value: '/v3' } }], backendRefs: [{ name: 'web', port: 80 }] }],
    })];
    expect(lines(checkRouteConflicts(environment(objects)))).toEqual([
      'shop/90-httproute-web.yaml HTTPRoute shop/web spec.rules[0].matches[0]: PathPrefix /v2 on host api.shop.example.com is also routed by HTTPRoute api (shop/90-httproute-api.yaml): '
      + 'one route per hostname and path, or which backend answers is not decided by these manifests [httproute/conflict]',
    ]);
  });

  test('reports an HTTPRoute serving a hostname and path the Ingress also serves (two edges for one URL)', () => {
    const env = environment(goodWith(ROUTE, (r) => { r.spec.hostnames = ['shop.example.com']; r.spec.rules[0].matches[0].path.value = '/api'; }));
    expect(lines(checkRouteConflicts(env))).toEqual([
      `${ROUTE} HTTPRoute shop/api spec.rules[0].matches[0]: PathPrefix /api on host shop.example.com is also routed by Ingress shop (${INGRESS}): `
      + 'one route per hostname and path, or which backend answers is not decided by these manifests [httproute/conflict]',
    ]);
  });

  test('does not report the same path on another hostname, or a match narrowed by a header', () => {
    const objects = [...goodObjects(), secondRoute({
      parentRefs: [{ name: 'public' }],
      hostnames: ['api.shop.example.com', 'beta-api.shop.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/v1' }, headers: [{ name: 'x-canary', value: 'true' }] }], backendRefs: [{ name: 'web', port: 80 }] }],
    }), secondRoute({
      parentRefs: [{ name: 'public' }], hostnames: ['beta-api.shop.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/v1' } }], backendRefs: [{ name: 'api', port: 8001 }] }],
    }, 'shop/90-httproute-beta.yaml')];
    expect(lines(checkRouteConflicts(environment(objects)))).toEqual([]);
  });
});

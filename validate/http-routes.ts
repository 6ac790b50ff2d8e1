/**
 * Cross-object checks of Gateway API HTTPRoutes, the counterpart of the Ingress backend check
 * (validate/traffic.ts): every backendRef to a Service names one that is in the output and serves
 * that port; the weights of each rule send its requests somewhere; and no two routes of the folder
 * (HTTPRoutes or Ingresses) claim the same hostname and path.
 */
import { EnvironmentIndex, inNamespace } from './environment';
import { asArray, asObject, asString, Finding, findingAt, JsonPath, ManifestObject } from './findings';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** A backendRef that points at a Service (group `""` and kind `Service`, the Gateway API defaults). */
function isServiceRef(ref: { readonly [key: string]: unknown }): boolean {
  return (asString(ref.group) ?? '') === '' && (asString(ref.kind) ?? 'Service') === 'Service';
}

/** Each rule's backendRefs with their paths. */
function backendRefs(route: ManifestObject): { rule: number; refs: { ref: { readonly [key: string]: unknown }; path: JsonPath }[] }[] {
  return asArray(asObject(route.body.spec).rules).map((r, i) => ({
    rule: i,
    refs: asArray(asObject(r).backendRefs).map((b, j) => ({ ref: asObject(b), path: ['spec', 'rules', i, 'backendRefs', j] as JsonPath })),
  }));
}

/** Every Service backendRef names a Service of the output and one of its ports. */
export function checkHttpRouteBackends(env: EnvironmentIndex): Finding[] {
  return env.ofKind(GATEWAY_GROUP, 'HTTPRoute').flatMap((route) => backendRefs(route).flatMap(({ refs }) => refs.flatMap(({ ref, path }) => {
    if (!isServiceRef(ref)) return [];
    const name = asString(ref.name) ?? '';
    const namespace = asString(ref.namespace) ?? route.namespace;
    const service = env.find('', 'Service', namespace, name);
    if (service === undefined) {
      const names = env.ofKindIn('', 'Service', namespace).map((s) => s.name).sort();
      return [findingAt(route, 'httproute/backend', [...path, 'name'],
        `names Service ${inNamespace(name, namespace)}, which is not in the output (Services there: ${names.join(', ') || 'none'})`)];
    }
    if (ref.port === undefined) {
      return [findingAt(route, 'httproute/backend', [...path, 'port'], `must name the port of Service ${JSON.stringify(name)} (a Service backendRef needs one)`)];
    }
    const ports = asArray(asObject(service.body.spec).ports).map(asObject);
    if (ports.some((p) => p.port === ref.port)) return [];
    const available = ports.map((p) => `${String(p.port)}${asString(p.name) === undefined ? '' : ` ${JSON.stringify(p.name)}`}`);
    return [findingAt(route, 'httproute/backend', [...path, 'port'],
      `Service ${JSON.stringify(name)} has no port ${JSON.stringify(ref.port)} (its ports: ${available.join(', ') || 'none'})`)];
  })));
}

/**
 * Weights as intended: each rule that has backends sends its requests to at least one of them
 * (a weight is 1 when unset). With every weight 0 the Gateway answers each request of the rule
 * with 500: a canary's stable Service at weight 0 beside a canary at 0 is that mistake.
 */
export function checkHttpRouteWeights(env: EnvironmentIndex): Finding[] {
  return env.ofKind(GATEWAY_GROUP, 'HTTPRoute').flatMap((route) => backendRefs(route).flatMap(({ rule, refs }) => {
    if (refs.length === 0) return [];
    const weights = refs.map(({ ref }) => (typeof ref.weight === 'number' ? ref.weight : 1));
    if (weights.reduce((a, b) => a + b, 0) > 0) return [];
    const listed = refs.map(({ ref }, j) => `${asString(ref.name) ?? '?'}=${weights[j]}`).join(', ');
    return [findingAt(route, 'httproute/weights', ['spec', 'rules', rule, 'backendRefs'],
      `the weights of the rule's backends sum to 0 (${listed}): the Gateway answers every request of this rule with 500; give the serving backend a weight above 0`)];
  }));
}

/** One (hostname, path match) a route serves. */
interface Claim {
  readonly object: ManifestObject;
  readonly host: string;
  readonly match: string;
  readonly path: JsonPath;
}

function httpRouteClaims(route: ManifestObject): Claim[] {
  const spec = asObject(route.body.spec);
  const hosts = asArray(spec.hostnames).filter((h): h is string => typeof h === 'string');
  return asArray(spec.rules).flatMap((r, i) => {
    const matches = asArray(asObject(r).matches);
    const described = matches.length === 0 ? ['PathPrefix /'] : matches.map((m) => {
      const p = asObject(asObject(m).path);
      // matches on headers, query parameters or methods narrow a path: they do not claim all of it
      const narrowed = ['headers', 'queryParams', 'method'].some((k) => asObject(m)[k] !== undefined);
      return narrowed ? undefined : `${asString(p.type) ?? 'PathPrefix'} ${asString(p.value) ?? '/'}`;
    });
    return described.flatMap((match, j) => (match === undefined ? [] : hosts.map((host, h) => ({
      object: route, host, match, path: (matches.length === 0 ? ['spec', 'hostnames', h] : ['spec', 'rules', i, 'matches', j]) as JsonPath,
    }))));
  });
}

function ingressClaims(ingress: ManifestObject): Claim[] {
  return asArray(asObject(ingress.body.spec).rules).flatMap((r, i) => {
    const host = asString(asObject(r).host);
    if (host === undefined) return [];
    return asArray(asObject(asObject(r).http).paths).map((p, j) => {
      const path = asObject(p);
      const type = asString(path.pathType) === 'Exact' ? 'Exact' : 'PathPrefix';
      return { object: ingress, host, match: `${type} ${asString(path.path) ?? '/'}`, path: ['spec', 'rules', i, 'http', 'paths', j] as JsonPath };
    });
  });
}

function describe(o: ManifestObject): string {
  return `${o.kind} ${o.name}`;
}

/**
 * No hostname and path are claimed by two routes of the folder: two HTTPRoutes (the Gateway serves
 * the oldest, an order git does not hold) or an HTTPRoute and an Ingress (two edges answer for the
 * same URL; which one users reach depends on DNS). The later route, by file, is reported.
 */
export function checkRouteConflicts(env: EnvironmentIndex): Finding[] {
  const claims = [
    ...env.ofKind('networking.k8s.io', 'Ingress').flatMap(ingressClaims),
    ...env.ofKind(GATEWAY_GROUP, 'HTTPRoute').flatMap(httpRouteClaims),
  ].sort((a, b) => (a.object.file === b.object.file ? 0 : a.object.file < b.object.file ? -1 : 1));
  const first = new Map<string, Claim>();
  const findings: Finding[] = [];
  for (const claim of claims) {
    const key = `${claim.host} ${claim.match}`;
    const earlier = first.get(key);
    if (earlier === undefined) { first.set(key, claim); continue; }
    if (earlier.object === claim.object) continue;
    if (earlier.object.kind === 'Ingress' && claim.object.kind === 'Ingress') continue; // (the Ingress controller's own matter)
    findings.push(findingAt(claim.object, 'httproute/conflict', claim.path,
      `${claim.match} on host ${claim.host} is also routed by ${describe(earlier.object)} (${earlier.object.file}): `
      + 'one route per hostname and path, or which backend answers is not decided by these manifests'));
  }
  return findings;
}

/** The HTTPRoute checks, run on each environment by the gate (validate/index.ts). */
export const HTTP_ROUTE_CHECKS: readonly ((env: EnvironmentIndex) => Finding[])[] = [checkHttpRouteBackends, checkHttpRouteWeights, checkRouteConflicts];

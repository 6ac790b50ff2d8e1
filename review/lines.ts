/**
 * The semantic lines of a review, one builder per topic: traffic, images, capacity, alerts, secrets,
 * what kubectl apply refuses, and objects added or removed. (Exposure, the NetworkPolicy
 * connectivity diff, is in exposure.ts.) Each builder reads a {@link DiffContext} and returns lines
 * in plain words.
 */
import { Quantity } from '../constructs/quantity';
import {
  COLOUR_LABEL, containersOf, DiffContext, Pair, PodTemplate, podTemplateOf, PREVIEW_SUFFIX, repositoryOf, Side, tagOf, VERSION_LABEL,
  versionOfPods,
} from './context';
import { JsonObject, Manifest, ReviewLine, RiskLabel, Topic } from './model';
import { arrayAt, canonical, describeLabels, isObject, keyOf, objectAt, stringMap, valueAt } from './objects';

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'];
const SCALABLE_KINDS = ['Deployment', 'StatefulSet', 'ReplicaSet'];

// ---------------------------------------------------------------------------------------------
// traffic

/** `blue (v1.0.0)`: the colour (or the workloads) a selector reaches, with the versions they run. */
function describeTarget(side: Side, namespace: string, selector: { [key: string]: string }): string {
  const pods = side.podsSelectedBy(namespace, selector);
  if (pods.length === 0) return 'no pods';
  const versions = [...new Set(pods.map(versionOfPods).filter((v): v is string => v !== undefined))].sort();
  const who = selector[COLOUR_LABEL] ?? [...new Set(pods.map((p) => p.owner.metadata.name))].sort().join(', ');
  return versions.length === 0 ? who : `${who} (${versions.join(', ')})`;
}

function serviceLines(ctx: DiffContext, { before, after }: Pair): ReviewLine[] {
  const lines: ReviewLine[] = [];
  const namespace = after.metadata.namespace ?? '';
  const what = after.metadata.name.endsWith(PREVIEW_SUFFIX) ? 'preview' : 'traffic';
  const sb = stringMap(objectAt(before, 'spec').selector);
  const sa = stringMap(objectAt(after, 'spec').selector);
  if (canonical(sb) !== canonical(sa)) {
    const hasSelector = Object.keys(sa).length > 0;
    if (hasSelector && ctx.after.podsSelectedBy(namespace, sa).length === 0) {
      lines.push(ctx.line(after, `${what} stops: the selector ${describeLabels(sa)} selects no pods (was ${describeTarget(ctx.before, namespace, sb)})`, ['stops-traffic'], 'traffic'));
    } else if (sb[COLOUR_LABEL] !== sa[COLOUR_LABEL]) {
      lines.push(ctx.line(after, `${what} ${describeTarget(ctx.before, namespace, sb)} -> ${describeTarget(ctx.after, namespace, sa)}`, ['traffic'], 'traffic'));
    } else if (sb[VERSION_LABEL] !== sa[VERSION_LABEL]) {
      // While a version is staged, the preview Service also selects that version (the smoke test
      // must reach only its pods).
      const text = sa[VERSION_LABEL] !== undefined ? `${what} narrowed to ${sa[VERSION_LABEL]}`
        : `${what} widened to every version of ${sa[COLOUR_LABEL] ?? describeTarget(ctx.after, namespace, sa)}`;
      lines.push(ctx.line(after, text, ['traffic'], 'traffic'));
    } else {
      lines.push(ctx.line(after, `${what} selector ${describeLabels(sb)} -> ${describeLabels(sa)}: `
        + `${describeTarget(ctx.before, namespace, sb)} -> ${describeTarget(ctx.after, namespace, sa)}`, ['traffic'], 'traffic'));
    }
  }
  const portKey = (p: JsonObject) => (typeof p.name === 'string' ? p.name : `${String(p.port)}/${String(p.protocol ?? 'TCP')}`);
  const ports = (o: Manifest) => new Map(arrayAt(o, 'spec', 'ports').filter(isObject).map((p) => [portKey(p), p]));
  const [pb, pa] = [ports(before), ports(after)];
  const describePort = (p: JsonObject) => `port ${String(p.port)}${typeof p.name === 'string' ? ` (${p.name})` : ''}`;
  for (const [k, p] of pb) {
    const now = pa.get(k);
    if (now === undefined) lines.push(ctx.line(after, `${describePort(p)} removed`, ['stops-traffic'], 'traffic'));
    else if (canonical(p) !== canonical(now)) {
      lines.push(ctx.line(after, `${describePort(p)} -> ${describePort(now)}, target ${String(p.targetPort ?? p.port)} -> ${String(now.targetPort ?? now.port)}`,
        ['traffic'], 'traffic'));
    }
  }
  for (const [k, p] of pa) if (!pb.has(k)) lines.push(ctx.line(after, `${describePort(p)} added`, ['traffic'], 'traffic'));
  const [tb, ta] = [valueAt(before, 'spec', 'type') ?? 'ClusterIP', valueAt(after, 'spec', 'type') ?? 'ClusterIP'];
  if (tb !== ta) {
    const exposed = ['NodePort', 'LoadBalancer'].includes(String(ta)) && !['NodePort', 'LoadBalancer'].includes(String(tb));
    lines.push(ctx.line(after, `type ${String(tb)} -> ${String(ta)}${exposed ? ': reachable from outside the cluster' : ''}`,
      [exposed ? 'exposure-up' : 'traffic'], exposed ? 'exposure' : 'traffic'));
  }
  return lines;
}

/** Kinds whose objects route public requests: an Ingress, a Gateway API HTTPRoute. */
const ROUTE_KINDS = ['Ingress', 'HTTPRoute'] as const;

/** `host/path` -> `service:port (pathType)` of an Ingress. */
function ingressRoutes(ingress: Manifest): Map<string, string> {
  const routes = new Map<string, string>();
  const backend = (b: unknown) => {
    const service = objectAt(b, 'service');
    const port = objectAt(service, 'port');
    return `${String(service.name ?? '?')}:${String(port.number ?? port.name ?? '?')}`;
  };
  const defaultBackend = valueAt(ingress, 'spec', 'defaultBackend');
  if (defaultBackend !== undefined) routes.set('(default backend)', backend(defaultBackend));
  for (const rule of arrayAt(ingress, 'spec', 'rules').filter(isObject)) {
    for (const p of arrayAt(rule, 'http', 'paths').filter(isObject)) {
      const pathType = typeof p.pathType === 'string' && p.pathType !== 'Prefix' ? ` (${p.pathType})` : '';
      routes.set(`${String(rule.host ?? '*')}${String(p.path ?? '/')}`, `${backend(p.backend)}${pathType}`);
    }
  }
  return routes;
}

/**
 * `host/path` -> its backends of an HTTPRoute: `service:port`, or with several backends each with
 * its weight (`a:80 (weight 100), a-canary:80 (weight 0)`); matches on headers, query or method are
 * shown after the path.
 */
function httpRouteRoutes(route: Manifest): Map<string, string> {
  const routes = new Map<string, string>();
  const hosts = arrayAt(route, 'spec', 'hostnames').map(String);
  for (const rule of arrayAt(route, 'spec', 'rules').filter(isObject)) {
    const refs = arrayAt(rule, 'backendRefs').filter(isObject);
    const target = refs.map((b) => `${String(b.name ?? '?')}:${String(b.port ?? '?')}${refs.length > 1 ? ` (weight ${String(b.weight ?? 1)})` : ''}`).join(', ') || '(no backend)';
    const matches = arrayAt(rule, 'matches').filter(isObject);
    for (const m of matches.length === 0 ? [{}] : matches) {
      const path = objectAt(m, 'path');
      const type = typeof path.type === 'string' && path.type !== 'PathPrefix' ? ` (${path.type})` : '';
      const narrowed = ['headers', 'queryParams', 'method'].filter((k) => m[k] !== undefined);
      const extra = narrowed.length === 0 ? '' : ` [${narrowed.map((k) => `${k} ${JSON.stringify(m[k])}`).join(', ')}]`;
      for (const host of hosts.length === 0 ? ['*'] : hosts) routes.set(`${host}${String(path.value ?? '/')}${extra}`, `${target}${type}`);
    }
  }
  return routes;
}

function routesOf(o: Manifest | undefined): Map<string, string> {
  if (o === undefined) return new Map();
  return o.kind === 'HTTPRoute' ? httpRouteRoutes(o) : ingressRoutes(o);
}

/** Every route of a side, by `host/path`: its target and the object serving it. */
function routeTable(side: DiffContext['before']): Map<string, { target: string; owner: Manifest }> {
  const table = new Map<string, { target: string; owner: Manifest }>();
  for (const o of ROUTE_KINDS.flatMap((k) => side.ofKind(k))) {
    for (const [route, target] of routesOf(o)) if (!table.has(route)) table.set(route, { target, owner: o });
  }
  return table;
}

/**
 * Routes per host and path, across the Ingresses and HTTPRoutes of the environment: a route one
 * object stops serving and another serves (the move from an Ingress to HTTPRoutes) is a move, not a
 * removal; a route nothing serves any more stops traffic.
 */
function routeLines(ctx: DiffContext): ReviewLine[] {
  const lines: ReviewLine[] = [];
  const [allBefore, allAfter] = [routeTable(ctx.before), routeTable(ctx.after)];
  const hostsBefore = new Set([...allBefore.keys()].map((r) => r.split('/')[0]));
  const ids = new Set(ROUTE_KINDS.flatMap((k) => [...ctx.before.ofKind(k), ...ctx.after.ofKind(k)]).map((o) => keyOf(o).id));
  const newHosts = new Map<string, Manifest>();
  for (const id of ids) {
    const [before, after] = [ctx.before.byId.get(id), ctx.after.byId.get(id)];
    const subject = (after ?? before)!;
    const [rb, ra] = [routesOf(before), routesOf(after)];
    for (const [route, target] of rb) {
      const now = ra.get(route);
      const elsewhere = allAfter.get(route);
      if (now === undefined && elsewhere === undefined) lines.push(ctx.line(subject, `route ${route} -> ${target} removed`, ['stops-traffic'], 'traffic'));
      else if (now === undefined) {
        const by = `${elsewhere!.owner.kind} ${elsewhere!.owner.metadata.name}`;
        lines.push(ctx.line(subject, elsewhere!.target === target ? `route ${route} -> ${target} moved to ${by}`
          : `route ${route}: ${target} -> ${elsewhere!.target}, moved to ${by}`, ['traffic'], 'traffic'));
      } else if (now !== target) lines.push(ctx.line(subject, `route ${route}: ${target} -> ${now}`, ['traffic'], 'traffic'));
    }
    for (const [route, target] of ra) {
      if (rb.has(route)) continue;
      const was = allBefore.get(route);
      if (was !== undefined) {
        // served before by another object: a move (reported on that object's side), or now served twice
        const still = ctx.after.byId.get(keyOf(was.owner).id);
        if (routesOf(still).has(route)) {
          lines.push(ctx.line(subject, `route ${route} -> ${target} added, also served by ${was.owner.kind} ${was.owner.metadata.name}`, ['traffic'], 'traffic'));
        }
        continue;
      }
      lines.push(ctx.line(subject, `route ${route} -> ${target} added`, ['traffic'], 'traffic'));
      const host = route.split('/')[0];
      if (!hostsBefore.has(host) && !ctx.newEnvironment) newHosts.set(host, subject);
    }
  }
  for (const [host, subject] of newHosts) lines.push(ctx.line(subject, `new public host ${host}`, ['exposure-up'], 'exposure'));
  return lines;
}

/** Whether every route `o` served before is still served after, by any object of the environment. */
function routesStillServed(ctx: DiffContext, o: Manifest): boolean {
  const after = routeTable(ctx.after);
  return [...routesOf(o).keys()].every((route) => after.has(route));
}

/** Traffic: Services moving between colours or versions, the preview, ports, routes per host and path. */
export function trafficLines(ctx: DiffContext): ReviewLine[] {
  return [...ctx.changedOfKind('Service').flatMap((p) => serviceLines(ctx, p)), ...routeLines(ctx)];
}

// ---------------------------------------------------------------------------------------------
// images

/** Images and versions per workload (component and colour) and container. */
export function imageLines(ctx: DiffContext): ReviewLine[] {
  return ctx.changed.filter((p) => WORKLOAD_KINDS.includes(p.key.kind)).flatMap(({ before, after }) => {
    const [cb, ca] = [podTemplateOf(before)!, podTemplateOf(after)!].map((t) => new Map(containersOf(t.spec).map((c) => [String(c.name), c])));
    const single = ca.size === 1 && cb.size === 1;
    const lines: ReviewLine[] = [];
    for (const [name, c] of ca) {
      const prev = cb.get(name);
      if (prev === undefined || typeof prev.image !== 'string' || typeof c.image !== 'string' || prev.image === c.image) continue;
      const sameRepo = repositoryOf(prev.image) === repositoryOf(c.image);
      const text = `${single ? '' : `container ${name} `}image ${sameRepo ? tagOf(prev.image) : prev.image} -> ${sameRepo ? tagOf(c.image) : c.image}`;
      lines.push(ctx.line(after, text, ['image'], 'images'));
    }
    return lines;
  });
}

// ---------------------------------------------------------------------------------------------
// capacity

/** The HorizontalPodAutoscaler of a side that scales `workload`. */
function autoscalerOf(side: Side, workload: Manifest): Manifest | undefined {
  return side.ofKind('HorizontalPodAutoscaler').find((h) => (h.metadata.namespace ?? '') === (workload.metadata.namespace ?? '')
    && valueAt(h, 'spec', 'scaleTargetRef', 'kind') === workload.kind && valueAt(h, 'spec', 'scaleTargetRef', 'name') === workload.metadata.name);
}

/** The workload an HPA or PDB is about, on a side. */
function targetOf(side: Side, o: Manifest): Manifest | undefined {
  if (o.kind === 'HorizontalPodAutoscaler') {
    const ref = objectAt(o, 'spec', 'scaleTargetRef');
    return side.objects.find((w) => w.kind === ref.kind && w.metadata.name === ref.name && w.metadata.namespace === o.metadata.namespace);
  }
  const selector = objectAt(o, 'spec', 'selector');
  const matchLabels = stringMap(selector.matchLabels);
  return side.pods.find((p) => p.namespace === (o.metadata.namespace ?? '') && Object.keys(matchLabels).length > 0
    && Object.entries(matchLabels).every(([k, v]) => p.labels[k] === v))?.owner;
}

/** capacity-down for workloads that serve live traffic, capacity for idle ones. */
function downLabel(side: Side, workload: Manifest | undefined): RiskLabel {
  return workload === undefined || side.servesLiveTraffic(workload) ? 'capacity-down' : 'capacity';
}

function replicaLines(ctx: DiffContext, { before, after }: Pair): ReviewLine[] {
  const [rb, ra] = [valueAt(before, 'spec', 'replicas'), valueAt(after, 'spec', 'replicas')];
  if (rb === ra) return [];
  const show = (r: unknown, side: Side, o: Manifest) => (typeof r === 'number' ? String(r) : autoscalerOf(side, o) !== undefined ? 'set by its HPA' : 'unset (1)');
  const text = `replicas ${show(rb, ctx.before, before)} -> ${show(ra, ctx.after, after)}`;
  if (ra === 0 && ctx.after.servesLiveTraffic(after)) return [ctx.line(after, `${text}: no pod serves it`, ['stops-traffic'], 'capacity')];
  if (typeof ra !== 'number') {
    // Removing the field makes kubectl apply (client- or server-side) reset the Deployment to 1 replica.
    return [ctx.line(after, `${text}; kubectl apply resets it to 1 first`, [downLabel(ctx.after, after)], 'capacity')];
  }
  const down = typeof rb === 'number' ? ra < rb : ra < 1;
  return [ctx.line(after, text, [down ? downLabel(ctx.after, after) : 'capacity-up'], 'capacity')];
}

function autoscalerLines(ctx: DiffContext, { before, after }: Pair): ReviewLine[] {
  const lines: ReviewLine[] = [];
  const bounds = (o: Manifest) => [Number(valueAt(o, 'spec', 'minReplicas') ?? 1), Number(valueAt(o, 'spec', 'maxReplicas'))];
  const range = ([min, max]: number[]) => (min === max ? `held at ${min}` : `${min}..${max}`);
  const [b, a] = [bounds(before), bounds(after)];
  if (range(b) !== range(a)) {
    const down = a[0] < b[0] || a[1] < b[1];
    lines.push(ctx.line(after, `autoscaler ${range(b)} -> ${range(a)}`, [down ? downLabel(ctx.after, targetOf(ctx.after, after)) : 'capacity-up'], 'capacity'));
  }
  const targets = (o: Manifest) => new Map(arrayAt(o, 'spec', 'metrics').filter(isObject).filter((m) => m.type === 'Resource')
    .map((m) => [String(valueAt(m, 'resource', 'name')), valueAt(m, 'resource', 'target', 'averageUtilization')]));
  const [tb, ta] = [targets(before), targets(after)];
  for (const [resource, value] of ta) {
    const prev = tb.get(resource);
    if (typeof prev !== 'number' || typeof value !== 'number' || prev === value) continue;
    // a higher utilization target means fewer pods for the same load
    lines.push(ctx.line(after, `autoscaler target ${resource} ${prev}% -> ${value}%`,
      [value > prev ? downLabel(ctx.after, targetOf(ctx.after, after)) : 'capacity-up'], 'capacity'));
  }
  return lines;
}

function budgetLines(ctx: DiffContext, { before, after }: Pair): ReviewLine[] {
  const describe = (o: Manifest) => {
    const spec = objectAt(o, 'spec');
    return spec.maxUnavailable !== undefined ? `maxUnavailable ${String(spec.maxUnavailable)}` : `minAvailable ${String(spec.minAvailable ?? 'unset')}`;
  };
  const [db, da] = [describe(before), describe(after)];
  if (db === da) return [];
  const amount = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' ? Number.parseFloat(v) : NaN);
  const [sb, sa] = [objectAt(before, 'spec'), objectAt(after, 'spec')];
  let looser: boolean;
  if (sb.maxUnavailable !== undefined && sa.maxUnavailable !== undefined) looser = amount(sa.maxUnavailable) > amount(sb.maxUnavailable);
  else if (sb.minAvailable !== undefined && sa.minAvailable !== undefined) looser = amount(sa.minAvailable) < amount(sb.minAvailable);
  else looser = true; // a switch between the two forms: read it
  const [fb, fa] = [db.split(' ')[0], da.split(' ')[0]];
  return [ctx.line(after, `disruption budget ${db} -> ${fb === fa ? da.slice(fa.length + 1) : da}${looser ? ' (looser)' : ''}`,
    [looser ? downLabel(ctx.after, targetOf(ctx.after, after)) : 'capacity-up'], 'capacity')];
}

function resourceLines(ctx: DiffContext, { before, after }: Pair): ReviewLine[] {
  const [cb, ca] = [podTemplateOf(before)!, podTemplateOf(after)!].map((t) => new Map(containersOf(t.spec).map((c) => [String(c.name), c])));
  const single = ca.size === 1 && cb.size === 1;
  const lines: ReviewLine[] = [];
  for (const [name, c] of ca) {
    const prev = cb.get(name);
    if (prev === undefined) continue;
    const facts: string[] = [];
    let down = false;
    for (const kind of ['requests', 'limits']) {
      for (const resource of ['cpu', 'memory', 'ephemeral-storage']) {
        const [vb, va] = [valueAt(prev, 'resources', kind, resource), valueAt(c, 'resources', kind, resource)];
        if (vb === va) continue;
        facts.push(`${kind} ${resource} ${vb === undefined ? 'unset' : String(vb)} -> ${va === undefined ? 'unset' : String(va)}`);
        const [qb, qa] = [Quantity.parse(vb).quantity, Quantity.parse(va).quantity];
        if (qb !== undefined && qa !== undefined) down ||= qa.compare(qb) < 0;
        else down ||= va === undefined && kind === 'requests'; // nothing reserved any more
      }
    }
    if (facts.length === 0) continue;
    lines.push(ctx.line(after, `${single ? '' : `container ${name} `}${facts.join(', ')}`, [down ? downLabel(ctx.after, after) : 'capacity-up'], 'capacity'));
  }
  return lines;
}

/** Capacity: replicas, HPA bounds and targets, disruption budgets, requests and limits. */
export function capacityLines(ctx: DiffContext): ReviewLine[] {
  return [
    ...ctx.changed.filter((p) => SCALABLE_KINDS.includes(p.key.kind)).flatMap((p) => replicaLines(ctx, p)),
    ...ctx.changedOfKind('HorizontalPodAutoscaler').flatMap((p) => autoscalerLines(ctx, p)),
    ...ctx.changedOfKind('PodDisruptionBudget').flatMap((p) => budgetLines(ctx, p)),
    ...ctx.changed.filter((p) => WORKLOAD_KINDS.includes(p.key.kind)).flatMap((p) => resourceLines(ctx, p)),
  ];
}

// ---------------------------------------------------------------------------------------------
// alerts

/** Milliseconds of a Prometheus duration (`1h30m`, `5m`, `30s`), NaN when it is not one. */
export function durationMs(text: unknown): number {
  if (typeof text !== 'string' || !/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) return NaN;
  const unit: { [u: string]: number } = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3, y: 31536000e3 };
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * unit[m[2]];
  return total;
}

/** The final comparison of an alert expression (`... > 0.05`), if it ends in one. */
function thresholdOf(expr: unknown): { op: string; value: number } | undefined {
  const m = typeof expr === 'string' ? /(>=|<=|==|!=|>|<)\s*(?:bool\s+)?(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/i.exec(expr) : null;
  return m === null ? undefined : { op: m[1], value: Number(m[2]) };
}

const SEVERITY_RANK: { readonly [s: string]: number } = { critical: 3, error: 3, warning: 2, info: 1, none: 0 };

function rulesOf(o: Manifest | undefined): Map<string, JsonObject> {
  const rules = new Map<string, JsonObject>();
  for (const group of arrayAt(o, 'spec', 'groups').filter(isObject)) {
    for (const rule of arrayAt(group, 'rules').filter(isObject)) {
      const name = typeof rule.alert === 'string' ? `alert ${rule.alert}` : `recording rule ${String(rule.record)}`;
      rules.set(name, rule);
    }
  }
  return rules;
}

/** Alerts: rules added or removed, thresholds, `for` and severity changed. */
export function alertLines(ctx: DiffContext): ReviewLine[] {
  const lines: ReviewLine[] = [];
  const ids = new Set([...ctx.before.ofKind('PrometheusRule'), ...ctx.after.ofKind('PrometheusRule')].map((o) => keyOf(o).id));
  for (const id of ids) {
    const [before, after] = [ctx.before.byId.get(id), ctx.after.byId.get(id)];
    if (before !== undefined && after !== undefined && (before === after || canonical(before) === canonical(after))) continue;
    const subject = (after ?? before)!;
    const [rb, ra] = [rulesOf(before), rulesOf(after)];
    for (const [name, rule] of rb) {
      const now = ra.get(name);
      if (now === undefined) { lines.push(ctx.line(subject, `${name} removed`, ['alerts-down'], 'alerts')); continue; }
      if (canonical(rule) === canonical(now)) continue;
      const facts: string[] = [];
      let weaker = false;
      const [tb, ta] = [thresholdOf(rule.expr), thresholdOf(now.expr)];
      if (tb !== undefined && ta !== undefined && (tb.op !== ta.op || tb.value !== ta.value)) {
        facts.push(`threshold ${tb.op} ${tb.value} -> ${ta.op} ${ta.value}`);
        if (tb.op === ta.op && (['>', '>='].includes(ta.op) ? ta.value > tb.value : ['<', '<='].includes(ta.op) && ta.value < tb.value)) weaker = true;
      }
      const withoutThreshold = (e: unknown) => String(e ?? '').replace(/(>=|<=|==|!=|>|<)\s*(?:bool\s+)?-?\d+(?:\.\d+)?(?:e[-+]?\d+)?\s*$/i, '').trim();
      if (withoutThreshold(rule.expr) !== withoutThreshold(now.expr)) facts.push('expression changed');
      if (rule.for !== now.for) {
        facts.push(`for ${String(rule.for ?? '0s')} -> ${String(now.for ?? '0s')}`);
        if ((durationMs(now.for ?? '0s') || 0) > (durationMs(rule.for ?? '0s') || 0)) weaker = true;
      }
      const [lb, la] = [stringMap(rule.labels), stringMap(now.labels)];
      for (const key of [...new Set([...Object.keys(lb), ...Object.keys(la)])].sort()) {
        if (lb[key] === la[key]) continue;
        facts.push(`${key} ${lb[key] ?? 'unset'} -> ${la[key] ?? 'unset'}`);
        if (key === 'severity' && (SEVERITY_RANK[la[key]] ?? 0) < (SEVERITY_RANK[lb[key]] ?? 0)) weaker = true;
      }
      if (canonical(rule.annotations) !== canonical(now.annotations)) facts.push('annotations changed');
      lines.push(ctx.line(subject, `${name}: ${facts.join(', ') || 'changed'}`, [weaker ? 'alerts-down' : 'alerts'], 'alerts'));
    }
    for (const name of ra.keys()) if (!rb.has(name)) lines.push(ctx.line(subject, `${name} added`, ['alerts'], 'alerts'));
    const intervals = (o: Manifest | undefined) => new Map(arrayAt(o, 'spec', 'groups').filter(isObject).map((g) => [String(g.name), g.interval]));
    const [ib, ia] = [intervals(before), intervals(after)];
    for (const [group, interval] of ia) {
      if (ib.has(group) && ib.get(group) !== interval) {
        lines.push(ctx.line(subject, `group ${group} evaluated every ${String(ib.get(group) ?? 'default')} -> ${String(interval ?? 'default')}`, ['alerts'], 'alerts'));
      }
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// secrets

/** What a pod reads from Secrets: `db-credentials/postgres-url as POSTGRES_URL`, `x (every key)`, ... */
function secretReadsOf(pod: PodTemplate): Set<string> {
  const reads = new Set<string>();
  for (const c of containersOf(pod.spec)) {
    for (const e of arrayAt(c, 'env').filter(isObject)) {
      const ref = objectAt(e, 'valueFrom', 'secretKeyRef');
      if (ref.name !== undefined) reads.add(`secret ${String(ref.name)} key ${String(ref.key)} as ${String(e.name)}`);
    }
    for (const e of arrayAt(c, 'envFrom').filter(isObject)) {
      const ref = objectAt(e, 'secretRef');
      if (ref.name !== undefined) reads.add(`every key of secret ${String(ref.name)}${typeof e.prefix === 'string' ? ` (prefix ${e.prefix})` : ''}`);
    }
  }
  for (const v of arrayAt(pod.spec, 'volumes').filter(isObject)) {
    const secret = objectAt(v, 'secret');
    if (secret.secretName !== undefined) reads.add(`secret ${String(secret.secretName)} as volume ${String(v.name)}`);
    for (const s of arrayAt(v, 'projected', 'sources').filter(isObject)) {
      const projected = objectAt(s, 'secret');
      if (projected.name !== undefined) reads.add(`secret ${String(projected.name)} as volume ${String(v.name)}`);
    }
  }
  for (const s of arrayAt(pod.spec, 'imagePullSecrets').filter(isObject)) reads.add(`image pull secret ${String(s.name)}`);
  return reads;
}

function externalSecretFacts(o: Manifest): Map<string, string> {
  const facts = new Map<string, string>();
  const spec = objectAt(o, 'spec');
  const store = objectAt(spec, 'secretStoreRef');
  facts.set('store', `${String(store.kind ?? 'SecretStore')} ${String(store.name)}`);
  facts.set('target', String(valueAt(spec, 'target', 'name') ?? o.metadata.name));
  facts.set('refreshed every', String(spec.refreshInterval ?? '1h'));
  for (const d of arrayAt(spec, 'data').filter(isObject)) {
    const ref = objectAt(d, 'remoteRef');
    facts.set(`key ${String(d.secretKey)}`, `from ${String(ref.key)}${ref.property === undefined ? '' : `#${String(ref.property)}`}`);
  }
  arrayAt(spec, 'dataFrom').forEach((d, i) => facts.set(`dataFrom[${i}]`, canonical(d)));
  return facts;
}

/** Secrets: references and sources changed, keys added or removed. Values are never shown. */
export function secretLines(ctx: DiffContext): ReviewLine[] {
  const lines: ReviewLine[] = [];
  for (const { before, after } of ctx.changed.filter((p) => WORKLOAD_KINDS.includes(p.key.kind))) {
    const [rb, ra] = [secretReadsOf(podTemplateOf(before)!), secretReadsOf(podTemplateOf(after)!)];
    for (const r of ra) if (!rb.has(r)) lines.push(ctx.line(after, `reads ${r}`, ['secrets'], 'secrets'));
    for (const r of rb) if (!ra.has(r)) lines.push(ctx.line(after, `no longer reads ${r}`, ['secrets'], 'secrets'));
  }
  for (const { before, after } of ctx.changedOfKind('ExternalSecret')) {
    const [fb, fa] = [externalSecretFacts(before), externalSecretFacts(after)];
    for (const [k, v] of fa) {
      const prev = fb.get(k);
      if (prev === undefined) lines.push(ctx.line(after, `${k} added, ${v}`, ['secrets'], 'secrets'));
      else if (prev !== v) lines.push(ctx.line(after, `${k}: ${prev} -> ${v}`, ['secrets'], 'secrets'));
    }
    for (const k of fb.keys()) if (!fa.has(k)) lines.push(ctx.line(after, `${k} removed`, ['secrets'], 'secrets'));
  }
  for (const { before, after } of ctx.changedOfKind('Secret')) {
    // Only key names and whether a value changed: the values themselves never reach the report.
    const values = (o: Manifest) => ({ ...objectAt(o, 'data'), ...objectAt(o, 'stringData'), ...objectAt(o, 'binaryData') });
    const [vb, va] = [values(before), values(after)];
    const added = Object.keys(va).filter((k) => !(k in vb)).sort();
    const removed = Object.keys(vb).filter((k) => !(k in va)).sort();
    const changed = Object.keys(va).filter((k) => k in vb && canonical(vb[k]) !== canonical(va[k])).sort();
    const facts = [
      added.length > 0 ? `keys added: ${added.join(', ')}` : '',
      removed.length > 0 ? `keys removed: ${removed.join(', ')}` : '',
      changed.length > 0 ? `values changed: ${changed.join(', ')}` : '',
      valueAt(before, 'type') !== valueAt(after, 'type') ? `type ${String(valueAt(before, 'type'))} -> ${String(valueAt(after, 'type'))}` : '',
    ].filter((f) => f !== '');
    if (facts.length > 0) lines.push(ctx.line(after, `${facts.join('; ')} (values not shown)`, ['secrets'], 'secrets'));
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// blocking: what kubectl apply refuses

/** Immutable fields per kind (Kubernetes 1.28 validation), as top-level spec paths. */
const IMMUTABLE: { readonly [kind: string]: ReadonlyArray<readonly string[]> } = {
  Deployment: [['spec', 'selector']],
  ReplicaSet: [['spec', 'selector']],
  DaemonSet: [['spec', 'selector']],
  StatefulSet: [['spec', 'selector'], ['spec', 'serviceName'], ['spec', 'volumeClaimTemplates'], ['spec', 'podManagementPolicy']],
  Job: [['spec', 'selector'], ['spec', 'template'], ['spec', 'completionMode'], ['spec', 'podFailurePolicy']],
  Service: [['spec', 'clusterIP'], ['spec', 'clusterIPs']],
  RoleBinding: [['roleRef']],
  ClusterRoleBinding: [['roleRef']],
};

/** Blocking: changes the API server rejects on update, so kubectl apply fails. */
export function blockingLines(ctx: DiffContext): ReviewLine[] {
  const lines: ReviewLine[] = [];
  for (const { key, before, after } of ctx.changed) {
    for (const path of IMMUTABLE[key.kind] ?? []) {
      const [vb, va] = [valueAt(before, ...path), valueAt(after, ...path)];
      if (canonical(vb) === canonical(va)) continue;
      if (key.kind === 'Service' && (vb === undefined || va === undefined)) continue; // assigned by the cluster when unset
      const field = path.join('.');
      const what = path[1] === 'selector'
        ? `selector ${describeLabels(stringMap(objectAt(vb, 'matchLabels')))} -> ${describeLabels(stringMap(objectAt(va, 'matchLabels')))}`
        : path[1] === 'template' ? 'pod template changed' : `${field} changed`;
      lines.push(ctx.line(after, `${key.kind} ${what}: kubectl apply will refuse it (${field} is immutable); delete and re-create the ${key.kind}, or give it a new name`,
        ['blocking'], 'blocking'));
    }
    if ((key.kind === 'ConfigMap' || key.kind === 'Secret') && valueAt(before, 'immutable') === true) {
      const data = (o: Manifest) => canonical([valueAt(o, 'data'), valueAt(o, 'binaryData'), valueAt(o, 'stringData'), valueAt(o, 'immutable')]);
      if (data(before) !== data(after)) {
        lines.push(ctx.line(after, `${key.kind} is immutable and its data changed: kubectl apply will refuse it; create it under a new name`, ['blocking'], 'blocking'));
      }
    }
    if (key.kind === 'PersistentVolumeClaim') {
      const spec = (o: Manifest) => canonical({ ...objectAt(o, 'spec'), resources: undefined });
      const [sb, sa] = [Quantity.parse(valueAt(before, 'spec', 'resources', 'requests', 'storage')).quantity, Quantity.parse(valueAt(after, 'spec', 'resources', 'requests', 'storage')).quantity];
      if (spec(before) !== spec(after)) {
        lines.push(ctx.line(after, 'PersistentVolumeClaim spec changed: kubectl apply will refuse it (only the storage request may grow)', ['blocking'], 'blocking'));
      } else if (sb !== undefined && sa !== undefined && sa.compare(sb) < 0) {
        lines.push(ctx.line(after, 'PersistentVolumeClaim storage request shrinks: kubectl apply will refuse it (a volume can only grow)', ['blocking'], 'blocking'));
      }
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// objects added and removed

/** Labels, topic and consequence of removing an object of a kind. */
function removal(o: Manifest): { labels: RiskLabel[]; topic: Topic; why: string } {
  switch (o.kind) {
    case 'Namespace': return { labels: ['deletes-data'], topic: 'objects', why: 'deleting a namespace deletes everything in it' };
    case 'PersistentVolumeClaim': return { labels: ['deletes-data'], topic: 'objects', why: 'its volume may be deleted with it' };
    case 'StatefulSet': return { labels: ['deletes-data', 'stops-traffic'], topic: 'objects', why: 'its pods stop' };
    case 'Secret': return { labels: ['deletes-data', 'secrets'], topic: 'secrets', why: 'pods reading it fail to start' };
    case 'ExternalSecret': {
      const owner = (valueAt(o, 'spec', 'target', 'creationPolicy') ?? 'Owner') === 'Owner';
      return owner ? { labels: ['deletes-data', 'secrets'], topic: 'secrets', why: 'the Secret it owns is deleted with it' } : { labels: ['secrets'], topic: 'secrets', why: '' };
    }
    case 'Service': return { labels: ['stops-traffic'], topic: 'traffic', why: 'its clients lose it' };
    case 'Ingress': case 'HTTPRoute': return { labels: ['stops-traffic'], topic: 'traffic', why: 'its routes stop' };
    case 'Deployment': case 'DaemonSet': case 'ReplicaSet': return { labels: ['stops-traffic'], topic: 'objects', why: 'its pods stop' };
    case 'PodDisruptionBudget': return { labels: ['capacity-down'], topic: 'capacity', why: 'a node drain may evict all its pods at once' };
    case 'HorizontalPodAutoscaler': return { labels: ['capacity-down'], topic: 'capacity', why: 'its workload no longer scales' };
    case 'PrometheusRule': return { labels: ['alerts-down'], topic: 'alerts', why: 'its alerts are no longer evaluated' };
    case 'ServiceMonitor': return { labels: ['alerts-down'], topic: 'alerts', why: 'its targets are no longer scraped' };
    case 'NetworkPolicy': return { labels: ['change'], topic: 'exposure', why: '' };
    default: return { labels: ['change'], topic: 'objects', why: '' };
  }
}

/** Objects added and removed; renames (a removed object like an added one) flagged on both. */
export function objectLines(ctx: DiffContext): ReviewLine[] {
  const lines: ReviewLine[] = [];
  const renamedFrom = new Map([...ctx.renames].map(([from, to]) => [to, from]));
  const nameOf = (id: string) => id.slice(id.lastIndexOf('/') + 1);
  for (const o of ctx.added) {
    const from = renamedFrom.get(keyOf(o).id);
    lines.push(from === undefined ? ctx.line(undefined, `${o.kind} ${o.metadata.name} added`, ['change'], 'objects')
      : ctx.line(undefined, `${o.kind} ${o.metadata.name} added, renamed from ${nameOf(from)}: a new object, not an update`, ['rename'], 'objects'));
  }
  for (const o of ctx.removed) {
    const to = ctx.renames.get(keyOf(o).id);
    const moved = (ROUTE_KINDS as readonly string[]).includes(o.kind) && routesStillServed(ctx, o);
    const { labels, topic, why } = moved ? { labels: ['traffic'] as RiskLabel[], topic: 'traffic' as Topic, why: 'its routes are served by the objects above' } : removal(o);
    if (to !== undefined) {
      lines.push(ctx.line(undefined, `${o.kind} ${o.metadata.name} removed, renamed to ${nameOf(to)}${why === '' ? '' : ` (${why})`}`,
        ['rename', ...labels.filter((l) => l !== 'change')], 'objects'));
    } else {
      lines.push(ctx.line(undefined, `${o.kind} ${o.metadata.name} removed${why === '' ? '' : ` (${why})`}`, labels, topic));
    }
  }
  return lines;
}

/** Objects (of a changed pair) no line above is about: `<Kind> changed: <fields>`. */
export function fallbackLine(ctx: DiffContext, pair: Pair, fields: readonly string[]): ReviewLine {
  const shown = fields.slice(0, 3).join(', ');
  const more = fields.length > 3 ? ` and ${fields.length - 3} more` : '';
  return ctx.line(pair.after, `${pair.key.kind} changed${shown === '' ? '' : `: ${shown}${more}`}`, ['change'], 'objects');
}

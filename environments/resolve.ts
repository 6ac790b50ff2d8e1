/**
 * Resolves environment files against the catalogue and validates them as a whole: every problem of
 * every environment is collected and reported at once, before anything is synthesized or written.
 */
import { isIP } from 'net';
import { ExternalSecretApiVersion, SecretStoreKind } from '../constructs/secrets';
import {
  checkCidr, checkDnsLabel, checkDnsSubdomain, checkInteger, checkLabelKey, checkLabelValue, checkPodLabels,
  checkPort, checkPromDuration, checkQuantity, checkSecretKey,
} from '../constructs/validation';
import { checkQuantityNotAbove } from '../constructs/quantity';
import {
  checkLatencyBound, checkRatio, checkRunbookUrlPattern, HTTP_SERVICE_ALERTS, HttpServiceAlertTuning, RATIO_ALERTS,
} from '../constructs/http-alerts';
import { AlertSeverity } from '../constructs/monitoring';
import { checkPinnedTag, initialRelease, ReleaseState, validateReleaseState } from '../release/state';
import { closest } from '../validate/suggest';
import { catalogueSchema, environmentSchema, ShapeProblemKind, shapeProblems, valueAt } from './schema';
import { ComponentSpec, DATASTORES, DatastoreSpec, PlatformService, Tier } from './catalogue';
import {
  ComponentDefaults, ComponentOverrides, ComponentSettings, DnsSettings, EnvironmentConfig, IngressControllerSettings, MonitoringOverrides,
  MonitoringSettings, PodSelection, ProbeTimings, ReleaseMode, ResolvedEnvironment, ResolvedNetworkSettings, RoutingMode, SecretMode,
} from './model';
import { MONITORING_DEFAULTS } from './monitoring';
import { validateArgoEngines, validateArgoSettings, validateSharedAnalysis } from './argo';

/** One problem found in the configuration. */
export interface ConfigProblem {
  /** Environment name (or `catalogue`). */
  readonly environment: string;
  /** Component name, when the problem belongs to one. */
  readonly component?: string;
  /** Dotted path of the field, e.g. `resources.requests.cpu`. */
  readonly field: string;
  readonly value: unknown;
  /** What is allowed, as a phrase completing "<field> ...". */
  readonly rule: string;
}

/** Formats a problem as `production/knowledge-service: replicas must be an integer >= 1, got 0`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.component ? `${p.environment}/${p.component}` : p.environment;
  return p.value === undefined ? `${where}: ${p.field} ${p.rule}` : `${where}: ${p.field} ${p.rule}, got ${showValue(p.value)}`;
}

/** A value as JSON, cut short when long (a huge value must not flood the report). */
function showValue(value: unknown): string {
  let json: string;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value); // NaN, Infinity (JSON would say null)
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  try {
    json = JSON.stringify(value) ?? String(value);
  } catch {
    json = String(value);
  }
  return json.length > 120 ? `${json.slice(0, 100)}… (${json.length} characters)` : json;
}

/** Every problem of an invalid configuration; thrown before anything is synthesized. */
export class ConfigError extends Error {
  constructor(public readonly problems: readonly ConfigProblem[], skipped: readonly string[] = []) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n`
      + problems.map((p) => `  - ${formatProblem(p)}`).join('\n')
      + (skipped.length === 0 ? '' : `\n(the remaining rules of ${skipped.join(', ')} are checked once ${skipped.length === 1 ? 'its' : 'their'} `
        + 'fields have the right types)'));
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['debug', 'info', 'warning', 'error'];

/** Parsed release state files, by environment name (`undefined`: no file, initial state). */
export interface ReleaseStates {
  readonly [environment: string]: unknown;
}

/** Default ingress controller: the ingress-nginx Helm chart's controller pods. */
export const DEFAULT_INGRESS_CONTROLLER: IngressControllerSettings = {
  namespace: 'ingress-nginx',
  podLabels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
  httpsPort: 443,
};
/** Default Prometheus: the pods prometheus-operator (kube-prometheus-stack) runs in `monitoring`. */
export const DEFAULT_PROMETHEUS: PodSelection = {
  namespace: 'monitoring',
  podLabels: { 'app.kubernetes.io/name': 'prometheus' },
};
/** Default DNS: CoreDNS as installed by kubeadm and most distributions. */
export const DEFAULT_DNS: DnsSettings = { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' }, port: 53 };

/** The datastores the catalogue's components use, each once, in `DATASTORES` order (others after, by first use). */
export function usedDatastores(catalogue: readonly ComponentSpec[]): DatastoreSpec[] {
  const used: DatastoreSpec[] = [];
  for (const d of catalogue.flatMap((c) => c.datastores ?? [])) {
    if (!used.some((u) => u.name === d.name)) used.push(d);
  }
  const rank = (d: DatastoreSpec) => {
    const index = DATASTORES.findIndex((known) => known.name === d.name);
    return index === -1 ? DATASTORES.length : index;
  };
  return used.sort((a, b) => rank(a) - rank(b));
}

/** The result of checking the whole configuration. */
export interface ConfigCheck {
  /** Every environment that resolved without a problem of its own (in registry order). */
  readonly resolved: readonly ResolvedEnvironment[];
  /** Every problem found, in the order: catalogue, registry, then each environment. */
  readonly problems: readonly ConfigProblem[];
  /** Environments whose values have the wrong shape, so that their rules were not checked yet. */
  readonly skipped: readonly string[];
}

/**
 * Checks the catalogue, every environment and its release state, and resolves each environment.
 * First the shape of everything users write (unknown keys at any depth, types: `schema.ts`), then,
 * for every environment whose shape is right, the rules that need the values' meaning. Never throws
 * for bad input: problems are returned, every one of them, each naming where it is.
 */
export function checkEnvironments(
  environments: readonly EnvironmentConfig[],
  catalogue: readonly ComponentSpec[],
  releaseStates: ReleaseStates = {},
): ConfigCheck {
  const problems: ConfigProblem[] = [];
  const skipped: string[] = [];
  const catalogueShape = shapeProblems(catalogueSchema, catalogue).map((p) => {
    const [index, ...rest] = p.path;
    const name = typeof index === 'number' ? (catalogue[index] as { name?: unknown } | undefined)?.name : undefined;
    const component = typeof name === 'string' && name !== '' ? name : index === undefined ? undefined : `#${String(index)}`;
    return { environment: 'catalogue', component, field: formatPath(rest) || 'component', value: p.value, rule: p.rule };
  });
  problems.push(...catalogueShape);
  // The environments' rules need a catalogue of the right shape; their own shape does not.
  const catalogueUsable = catalogueShape.length === 0;
  if (catalogueUsable) problems.push(...validateCatalogue(catalogue));
  else skipped.push('catalogue');

  const names = environments.map((e, i) => environmentLabel(e, i));
  problems.push(...duplicates(names, 'name', 'registry'));
  problems.push(...duplicates(environments.map((e) => (e as { namespace?: unknown } | undefined)?.namespace)
    .filter((n): n is string => typeof n === 'string'), 'namespace', 'registry'));
  const resolved: ResolvedEnvironment[] = [];
  const hosts = new Map<string, string>();
  environments.forEach((original, i) => {
    const environment = names[i];
    const shapeFound = shapeProblems(environmentSchema, original);
    const shape = shapeFound.map((p) => locate(environment, p.path, p.value, p.rule));
    // Unknown keys and values outside an enum do not stop the rules (they run without those keys,
    // and check enum members themselves); a wrong type or a missing field does.
    if (!catalogueUsable || shapeFound.some((p) => p.kind === ShapeProblemKind.WRONG_TYPE)) {
      problems.push(...shape);
      if (!catalogueUsable || shape.length > 0) skipped.push(environment);
      return;
    }
    const env = withoutKeys(original, shapeFound.filter((p) => p.kind === ShapeProblemKind.UNKNOWN_KEY).map((p) => p.path)) as EnvironmentConfig;
    const releaseState = own(releaseStates, env.name);
    const result = resolveEnvironment(env, catalogue, releaseState);
    const reported = new Set(shape.map((p) => `${p.component ?? ''} ${p.field}`));
    const found: ConfigProblem[] = [...shape];
    try {
      const rules = validateEnvironment(env, result, catalogue, releaseState);
      // (a component whose strategy is not a known one is neither rolling nor blue/green here)
      const modes: readonly string[] = Object.values(ReleaseMode);
      const blueGreen = catalogue.filter((c) => result.components[c.name].strategy === ReleaseMode.BLUE_GREEN).map((c) => c.name);
      const known = catalogue.filter((c) => modes.includes(result.components[c.name].strategy)).map((c) => c.name);
      rules.push(...validateReleaseState(releaseState, blueGreen, known, catalogue.map((c) => c.name))
        .map((p) => ({ ...p, environment: env.name, field: `${env.name}.release.json ${p.field}` })));
      found.push(...rules.filter((p) => !reported.has(`${p.component ?? ''} ${p.field}`)));
    } catch (e) {
      // The rules expect the schema's types; a value outside an enum may still trip one. Then the
      // shape problems name what to fix first. Without any, a throw is a bug: never drop an environment.
      if (shape.length === 0) throw e;
      problems.push(...shape);
      skipped.push(environment);
      return;
    }
    for (const field of ['frontend', 'api'] as const) {
      const host = env.domains[field];
      const owner = hosts.get(host);
      // (the same host for both fields of one environment is reported by that environment's rules)
      if (owner !== undefined && !owner.startsWith(`${env.name} `)) {
        found.push({ environment: env.name, field: `domains.${field}`, value: host, rule: `must be unique across environments (already ${owner})` });
      }
      hosts.set(host, `${env.name} domains.${field}`);
    }
    problems.push(...found);
    if (found.length === 0) resolved.push(result);
  });
  return { resolved, problems, skipped };
}

/** `object[key]` when `key` is the object's own property (never an inherited one such as `constructor`). */
export function own<T>(object: { readonly [key: string]: T } | undefined, key: string): T | undefined {
  return object !== undefined && object !== null && Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/** A copy of `value` without the keys at `paths` (only the objects along those paths are copied). */
function withoutKeys(value: unknown, paths: readonly (readonly (string | number)[])[]): unknown {
  const remove = (node: unknown, path: readonly (string | number)[]): unknown => {
    if (node === null || typeof node !== 'object' || path.length === 0) return node;
    const copy: { [k: string]: unknown } = Array.isArray(node) ? [...node] as unknown as { [k: string]: unknown } : { ...node };
    const [key, ...rest] = path;
    if (rest.length === 0) delete copy[String(key)];
    else copy[String(key)] = remove(copy[String(key)], rest);
    return copy;
  };
  return paths.reduce((v, path) => remove(v, path), value);
}

/**
 * Validates the catalogue, every environment and its release state, and returns the resolved
 * environments.
 * @throws ConfigError listing every problem found, when there is at least one.
 */
export function resolveEnvironments(
  environments: readonly EnvironmentConfig[],
  catalogue: readonly ComponentSpec[],
  releaseStates: ReleaseStates = {},
): ResolvedEnvironment[] {
  const { resolved, problems, skipped } = checkEnvironments(environments, catalogue, releaseStates);
  if (problems.length > 0) throw new ConfigError(problems, skipped);
  return [...resolved];
}

/** The name an environment is reported under: its `name`, or its place in the registry. */
function environmentLabel(env: unknown, index: number): string {
  const name = (env as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && name !== '' ? name : `environments[${index}]`;
}

/** `components.<c>.<rest>` belongs to component `c`; anything else to the environment. */
function locate(environment: string, path: readonly (string | number)[], value: unknown, rule: string): ConfigProblem {
  if (path[0] === 'components' && typeof path[1] === 'string' && path.length > 2) {
    return { environment, component: path[1], field: formatPath(path.slice(2)), value, rule };
  }
  return { environment, field: formatPath(path) || '(environment)', value, rule };
}

/** `['datastores', 0, 'port']` -> `datastores[0].port`. */
function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out === '' ? key : `${out}.${key}`), '');
}

/**
 * Fills in every catalogue component from the environment's `defaults`, and the release state of
 * every blue/green component from `releaseState` or its initial state (no validation).
 */
export function resolveEnvironment(env: EnvironmentConfig, catalogue: readonly ComponentSpec[], releaseState?: unknown): ResolvedEnvironment {
  const components: { [name: string]: ComponentSettings } = {};
  const releases: { [name: string]: ReleaseState[string] } = {};
  const recorded = (releaseState !== null && typeof releaseState === 'object' ? releaseState : {}) as ReleaseState;
  for (const spec of catalogue) {
    const settings = merge(env.defaults, own(env.components, spec.name) ?? {});
    components[spec.name] = settings;
    // A blue/green component without release state is a problem (validateEnvironment); the
    // placeholder only keeps the resolved shape whole.
    if (settings.strategy === ReleaseMode.BLUE_GREEN) releases[spec.name] = own(recorded, spec.name) ?? initialRelease('');
  }
  const rest: Omit<EnvironmentConfig, 'defaults'> & { defaults?: unknown } = { ...env };
  delete rest.defaults;
  return {
    ...rest, components, releases, monitoring: resolveMonitoring(env.monitoring ?? {}), network: resolveNetwork(env),
    routing: env.routing ?? { mode: RoutingMode.INGRESS },
  };
}

/** The monitoring defaults with an environment's overrides applied, field by field per alert. */
export function resolveMonitoring(o: MonitoringOverrides, defaults: MonitoringSettings = MONITORING_DEFAULTS): MonitoringSettings {
  const alerts = Object.fromEntries(HTTP_SERVICE_ALERTS.map((name) => [name, { ...defaults.alerts[name], ...o.alerts?.[name] }]));
  return {
    prometheusSelector: o.prometheusSelector ?? defaults.prometheusSelector,
    scrapeInterval: o.scrapeInterval ?? defaults.scrapeInterval,
    evaluationInterval: o.evaluationInterval ?? defaults.evaluationInterval,
    rateWindow: o.rateWindow ?? defaults.rateWindow,
    metricsPort: o.metricsPort ?? defaults.metricsPort,
    runbookUrlPattern: o.runbookUrlPattern ?? defaults.runbookUrlPattern,
    alerts: alerts as unknown as HttpServiceAlertTuning,
  };
}

function resolveNetwork(env: EnvironmentConfig): ResolvedNetworkSettings {
  const n = env.network;
  const ic = n.ingressController;
  return {
    ingressController: {
      namespace: ic?.namespace ?? DEFAULT_INGRESS_CONTROLLER.namespace,
      podLabels: ic?.podLabels ?? DEFAULT_INGRESS_CONTROLLER.podLabels,
      httpsPort: ic?.httpsPort ?? DEFAULT_INGRESS_CONTROLLER.httpsPort,
    },
    prometheus: {
      namespace: n.prometheus?.namespace ?? DEFAULT_PROMETHEUS.namespace,
      podLabels: n.prometheus?.podLabels ?? DEFAULT_PROMETHEUS.podLabels,
    },
    dns: {
      namespace: n.dns?.namespace ?? DEFAULT_DNS.namespace,
      podLabels: n.dns?.podLabels ?? DEFAULT_DNS.podLabels,
      port: n.dns?.port ?? DEFAULT_DNS.port,
    },
    datastores: n.datastores,
  };
}

function merge(defaults: ComponentDefaults, o: ComponentOverrides): ComponentSettings {
  return {
    replicas: o.replicas ?? defaults.replicas,
    strategy: o.strategy ?? defaults.strategy,
    standbyReplicas: o.standbyReplicas ?? defaults.standbyReplicas,
    autoscaling: o.autoscaling ?? defaults.autoscaling,
    bakeMinutes: o.bakeMinutes ?? defaults.bakeMinutes ?? DEFAULT_BAKE_MINUTES,
    imageTag: o.imageTag ?? defaults.imageTag,
    resources: {
      requests: o.resources?.requests ?? defaults.resources.requests,
      limits: o.resources?.limits ?? defaults.resources.limits,
    },
    probes: {
      liveness: o.probes?.liveness ?? defaults.probes.liveness,
      readiness: o.probes?.readiness ?? defaults.probes.readiness,
    },
    argo: { ...defaults.argo, ...o.argo },
  };
}

const HTTP_PATH = /^\/\S*$/;

/** The strategies released by Argo Rollouts: their image tag is owned by the environment file, as a rolling one's. */
const ARGO_MODES: readonly string[] = [ReleaseMode.ARGO_BLUE_GREEN, ReleaseMode.ARGO_CANARY];

/** Bake time of a blue/green component unless its environment sets `bakeMinutes`. */
export const DEFAULT_BAKE_MINUTES = 30;
/** The longest bake time: a day (a release held longer than that is a release to finalize or roll back). */
const MAX_BAKE_MINUTES = 1440;

/** Problems of the catalogue itself: names, ports, duplicates. */
export function validateCatalogue(catalogue: readonly ComponentSpec[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (component: string, field: string, value: unknown, rule: string | undefined) => {
    if (rule) problems.push({ environment: 'catalogue', component, field, value, rule });
  };
  for (const c of catalogue) {
    at(c.name, 'name', c.name, checkDnsLabel(c.name)
      ?? (c.name in Object.prototype ? 'must not be a name every JavaScript object already has (constructor, ...)' : undefined));
    at(c.name, 'containerPort', c.containerPort, checkPort(c.containerPort));
    at(c.name, 'servicePort', c.servicePort, checkPort(c.servicePort));
    at(c.name, 'healthPath', c.healthPath, HTTP_PATH.test(c.healthPath) ? undefined : 'must be an absolute HTTP path (no spaces)');
    c.smokePaths.forEach((p, i) => at(c.name, `smokePaths[${i}]`, p, HTTP_PATH.test(p) ? undefined : 'must be an absolute HTTP path (no spaces)'));
    if (c.smokePaths.length === 0) at(c.name, 'smokePaths', c.smokePaths, 'must list at least one path (the smoke test checks a staged version with them)');
    if (c.tier === Tier.BACKEND && c.exposesMetrics !== true) {
      at(c.name, 'exposesMetrics', c.exposesMetrics, 'must be true for a backend (every backend is scraped and alerted on)');
    }
  }
  problems.push(...duplicates(catalogue.map((c) => c.name), 'name', 'catalogue'));
  const portOwners = new Map<number, string>();
  for (const c of catalogue) {
    const owner = portOwners.get(c.containerPort);
    if (owner !== undefined) {
      at(c.name, 'containerPort', c.containerPort, `must be unique in the catalogue (already used by ${owner})`);
    }
    portOwners.set(c.containerPort, c.name);
  }
  problems.push(...validateGraph(catalogue));
  problems.push(...validateRoutes(catalogue));
  problems.push(...validateContainerEnv(catalogue));
  return problems;
}

/** Route prefixes: absolute paths, each served by one component per host (Ingress paths would collide). */
function validateRoutes(catalogue: readonly ComponentSpec[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const owners = new Map<string, string>();
  for (const c of catalogue) {
    for (const prefix of c.routes.paths) {
      if (!/^\/[^\s?#]*$/.test(prefix)) {
        problems.push({ environment: 'catalogue', component: c.name, field: 'routes.paths', value: prefix,
          rule: 'must be an absolute path prefix ("/api/v1/area"), without spaces, query or fragment' });
        continue;
      }
      // `/a` and `/a/` are the same Prefix route to the Ingress controller.
      const key = `${c.routes.host} ${prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix}`;
      const owner = owners.get(key);
      if (owner !== undefined) {
        problems.push({ environment: 'catalogue', component: c.name, field: 'routes.paths', value: prefix,
          rule: `must be unique on the ${c.routes.host} host (${owner === c.name ? `${c.name} lists it twice` : `${owner} already routes it`})` });
      }
      owners.set(key, c.name);
    }
  }
  return problems;
}

/** Environment variables the app sets on every container of a tier, from the `app-config` ConfigMap. */
export const TIER_ENV_VARS: { readonly [tier in Tier]: readonly string[] } = {
  [Tier.FRONTEND]: ['NODE_ENV', 'API_BASE_URL'],
  [Tier.BACKEND]: ['ENVIRONMENT', 'LOG_LEVEL'],
};

/** Variable names unique per container: the tier's own and one per datastore connection string. */
function validateContainerEnv(catalogue: readonly ComponentSpec[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const c of catalogue) {
    const owners = new Map<string, string>(TIER_ENV_VARS[c.tier].map((name) => [name, `the ${c.tier} variable ${name} from app-config`]));
    (c.datastores ?? []).forEach((d, i) => {
      const owner = owners.get(d.envVar);
      if (owner !== undefined) {
        problems.push({ environment: 'catalogue', component: c.name, field: `datastores[${i}].envVar`, value: d.envVar,
          rule: `must be unique in the container (${owner} has that name)` });
      }
      owners.set(d.envVar, `${d.name}'s connection string`);
    });
  }
  return problems;
}

/** Problems of the declared traffic graph: callees and datastores must exist, once each. */
function validateGraph(catalogue: readonly ComponentSpec[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (component: string, field: string, value: unknown, rule: string) => {
    problems.push({ environment: 'catalogue', component, field, value, rule });
  };
  const names = catalogue.map((c) => c.name);
  const platform: string[] = Object.values(PlatformService);
  for (const c of catalogue) {
    const callees = (c.calls ?? []).map((callee) => (typeof callee === 'string' ? callee : callee.name));
    callees.forEach((callee, i) => {
      if (!names.includes(callee) && !platform.includes(callee)) {
        at(c.name, 'calls', callee, `must name catalogue components or platform services (${[...names, ...platform].join(', ')})`);
      } else if (callee === c.name) {
        at(c.name, 'calls', callee, 'must not include the component itself');
      } else if (callees.indexOf(callee) !== i) {
        at(c.name, 'calls', callee, 'must list each callee once');
      }
    });
    const stores = (c.datastores ?? []).map((d) => d.name);
    stores.forEach((d, i) => {
      if (stores.indexOf(d) !== i) at(c.name, 'datastores', d, 'must list each datastore once');
    });
  }
  const seen = new Map<string, DatastoreSpec>();
  for (const d of catalogue.flatMap((c) => c.datastores ?? [])) {
    const first = seen.get(d.name);
    if (first !== undefined && JSON.stringify(first) !== JSON.stringify(d)) {
      at(d.name, 'datastore', d, `must be declared the same way by every user (first: ${JSON.stringify(first)})`);
      continue;
    }
    if (first !== undefined) continue;
    seen.set(d.name, d);
    const rule = checkDnsLabel(d.name) ?? checkPort(d.port)
      ?? (checkSecretKey(d.secretKey) === undefined ? undefined : `secretKey ${checkSecretKey(d.secretKey)}`)
      ?? (/^[A-Z_][A-Z0-9_]*$/.test(d.envVar) ? undefined : 'envVar must be an environment variable name ([A-Z_][A-Z0-9_]*)');
    if (rule !== undefined) at(d.name, 'datastore', d, `must have a DNS-1123 name, a TCP port, a Secret key and a variable name (${rule})`);
  }
  // One key of db-credentials and one variable per datastore: a shared one would hand one
  // datastore's connection string to another's users.
  for (const field of ['secretKey', 'envVar'] as const) {
    const owners = new Map<string, string>();
    for (const d of seen.values()) {
      const owner = owners.get(d[field]);
      if (owner !== undefined) at(d.name, `datastore ${field}`, d[field], `must be unique across datastores (${owner} has it)`);
      owners.set(d[field], d.name);
    }
  }
  return problems;
}

/** Problems of one environment, checked on its resolved form. */
export function validateEnvironment(
  env: EnvironmentConfig,
  resolved: ResolvedEnvironment,
  catalogue: readonly ComponentSpec[],
  releaseState?: unknown,
): ConfigProblem[] {
  const envName = typeof env.name === 'string' && env.name !== '' ? env.name : '<unnamed>';
  const problems: ConfigProblem[] = [];
  const at = (field: string, value: unknown, rule: string | undefined, component?: string) => {
    if (rule) problems.push({ environment: envName, component, field, value, rule });
  };

  at('name', env.name, checkDnsLabel(env.name));
  at('namespace', env.namespace, checkDnsLabel(env.namespace));
  at('domains.frontend', env.domains.frontend, checkHost(env.domains.frontend));
  at('domains.api', env.domains.api, checkHost(env.domains.api));
  if (env.domains?.frontend !== undefined && env.domains.frontend === env.domains.api) {
    at('domains.api', env.domains.api, 'must differ from domains.frontend');
  }
  problems.push(...validateRouting(envName, env));
  at('nodeEnv', env.nodeEnv, typeof env.nodeEnv === 'string' && env.nodeEnv !== '' ? undefined : 'must be a non-empty string');
  at('logLevel', env.logLevel, LOG_LEVELS.includes(env.logLevel) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`);

  const known = catalogue.map((c) => c.name);
  for (const name of Object.keys(env.components)) {
    if (!known.includes(name)) {
      const suggestion = closest(name, known);
      at('components', name, `must name a catalogue component (${suggestion === undefined ? '' : `did you mean "${suggestion}"? `}${known.join(', ')})`, name);
    }
  }
  // An unreadable state file is reported as such (validateReleaseState); it is not "missing" entries,
  // which `init` would then overwrite.
  const readable = releaseState === undefined || (releaseState !== null && typeof releaseState === 'object' && !Array.isArray(releaseState));
  const recorded = readable && releaseState !== undefined ? releaseState as { readonly [c: string]: unknown } : {};
  const stateFile = `environments/${envName}.release.json`;
  const componentProblems: ConfigProblem[] = [];
  // Image tags have one owner each: the environment file for a rolling component, the release
  // state file for a blue/green one. A tag written where it has no effect is an error.
  let defaultTagUsed = false;
  for (const spec of catalogue) {
    const settings = resolved.components[spec.name];
    componentProblems.push(...validateComponent(envName, spec.name, settings));
    const override = own(env.components, spec.name)?.imageTag;
    if (settings.strategy === ReleaseMode.BLUE_GREEN) {
      const state = own(recorded, spec.name);
      if (override !== undefined) {
        at('imageTag', override, `has no effect: the tags of a blue/green component are owned by ${stateFile}; `
          + (state === undefined ? `record the tag it runs with \`npm run release -- ${envName} ${spec.name} init <tag>\``
            : `stage a new version with \`npm run release -- ${envName} ${spec.name} stage <tag>\``) + ', and remove imageTag here', spec.name);
      } else if (state === undefined && readable) {
        at('release state', undefined, `is missing from ${stateFile}, which owns the tags of a blue/green component: `
          + `record the tag it runs with \`npm run release -- ${envName} ${spec.name} init <tag>\``, spec.name);
      }
    } else if (settings.strategy !== ReleaseMode.ROLLING && !ARGO_MODES.includes(settings.strategy)) {
      defaultTagUsed = true; // (an unknown strategy is reported as such; its tag's owner is not known)
    } else {
      if (override === undefined) defaultTagUsed = true;
      const rule = settings.imageTag === undefined
        ? 'is required: set it under components or defaults (a version like v1.4.2 or a commit SHA)'
        : checkPinnedTag(settings.imageTag);
      if (rule !== undefined) componentProblems.push({ environment: envName, component: spec.name, field: 'imageTag', value: settings.imageTag, rule });
    }
  }
  const blamed = blameDefaults(env, catalogue, componentProblems);
  problems.push(...blamed);
  // The defaults block is validated even where every component overrides a value (and nothing takes it).
  const seen = new Set(blamed.map((p) => `${p.component ?? ''}\n${p.field}\n${p.rule}`));
  for (const p of validateComponent(envName, '', merge(env.defaults, {}))) {
    const problem = { ...p, component: undefined, field: `defaults.${p.field}` };
    if (!seen.has(`\n${problem.field}\n${problem.rule}`)) problems.push(problem);
  }
  if (env.defaults.imageTag !== undefined && !defaultTagUsed) {
    at('defaults.imageTag', env.defaults.imageTag, 'has no effect: no component takes its tag from defaults '
      + `(rolling components set their own; blue/green ones take theirs from ${stateFile}); remove it`);
  }
  problems.push(...validateSharedAnalysis(resolved.components, (m) => ARGO_MODES.includes(m)).map((p) => ({ ...p, environment: envName })));
  const engines = Object.fromEntries(catalogue.map((c) => [c.name, { strategy: resolved.components[c.name].strategy, own: own(env.components, c.name)?.argo }]));
  problems.push(...validateArgoEngines(env.defaults.argo, engines, (m) => ARGO_MODES.includes(m)).map((p) => ({ ...p, environment: envName })));
  problems.push(...validateMonitoring(envName, resolved.monitoring));
  problems.push(...validateMetricsPort(envName, resolved.monitoring.metricsPort, catalogue));
  problems.push(...validateNetwork(envName, env.namespace, resolved.network, usedDatastores(catalogue)));
  problems.push(...validateSecrets(envName, env, usedDatastores(catalogue)));
  return problems;
}

/**
 * The same problem on every component that takes a field from `defaults` is one problem of
 * `defaults.<field>`, reported once; anything else stays with its component.
 */
function blameDefaults(env: EnvironmentConfig, catalogue: readonly ComponentSpec[], found: readonly ConfigProblem[]): ConfigProblem[] {
  // The granularity of `merge`: resources and probes are taken from defaults one half at a time.
  const mergedAt = (field: string) => field.split('.').slice(0, /^(resources|probes)\./.test(field) ? 2 : 1);
  const inherits = (component: string, field: string) => valueAt(own(env.components, component), mergedAt(field)) === undefined;
  const key = (p: ConfigProblem) => `${p.field}\n${p.rule}\n${JSON.stringify(p.value)}`;
  const groups = new Map<string, ConfigProblem[]>();
  for (const p of found) {
    if (p.component !== undefined && inherits(p.component, p.field)) groups.set(key(p), [...groups.get(key(p)) ?? [], p]);
  }
  const result: ConfigProblem[] = [];
  const reported = new Set<string>();
  for (const p of found) {
    const group = groups.get(key(p));
    const everyInheritor = group !== undefined && catalogue.filter((c) => inherits(c.name, p.field)).every((c) => group.some((g) => g.component === c.name));
    if (!everyInheritor) {
      result.push(p);
    } else if (!reported.has(key(p))) {
      reported.add(key(p));
      result.push({ ...p, component: undefined, field: `defaults.${p.field}` });
    }
  }
  return result;
}

const SEVERITIES: readonly string[] = Object.values(AlertSeverity);

function validateMonitoring(environment: string, m: MonitoringSettings): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (field: string, value: unknown, rule: string | undefined) => {
    if (rule) problems.push({ environment, field: `monitoring.${field}`, value, rule });
  };
  const selector = m.prometheusSelector ?? {};
  at('prometheusSelector', selector, Object.keys(selector).length > 0 ? undefined
    : 'must name at least one label (kube-prometheus-stack selects release: <helm release name>)');
  for (const [key, value] of Object.entries(selector)) {
    at('prometheusSelector', key, checkLabelKey(key));
    at(`prometheusSelector.${key}`, value, checkLabelValue(value) ?? (value === '' ? 'must not be empty' : undefined));
  }
  at('scrapeInterval', m.scrapeInterval, checkPromDuration(m.scrapeInterval));
  at('evaluationInterval', m.evaluationInterval, checkPromDuration(m.evaluationInterval));
  at('rateWindow', m.rateWindow, checkPromDuration(m.rateWindow));
  const scrape = promDurationSeconds(m.scrapeInterval);
  const window = promDurationSeconds(m.rateWindow);
  if (scrape !== undefined && window !== undefined && window < 4 * scrape) {
    at('rateWindow', m.rateWindow, `must be at least four scrape intervals (monitoring.scrapeInterval is ${m.scrapeInterval}, so at least `
      + `${formatSeconds(4 * scrape)}): with fewer samples in the window, the rate() of the alerts is empty and they can never fire`);
  }
  at('runbookUrlPattern', m.runbookUrlPattern, checkRunbookUrlPattern(m.runbookUrlPattern));
  for (const name of HTTP_SERVICE_ALERTS) {
    const a: Partial<HttpServiceAlertTuning['HighErrorRate']> = m.alerts[name];
    if (name !== 'PodDown') {
      at(`alerts.${name}.threshold`, a.threshold, (RATIO_ALERTS as readonly string[]).includes(name) ? checkRatio(a.threshold) : checkLatencyBound(a.threshold));
    }
    at(`alerts.${name}.for`, a.for, checkPromDuration(a.for));
    at(`alerts.${name}.severity`, a.severity, SEVERITIES.includes(a.severity as string) ? undefined : `must be one of ${SEVERITIES.join(', ')}`);
    at(`alerts.${name}.team`, a.team, a.team !== '' && checkLabelValue(a.team) === undefined ? undefined
      : 'must be a non-empty label value (letters, digits, "-", "_" or ".")');
  }
  return problems;
}

function validateNetwork(
  environment: string,
  namespace: string,
  n: ResolvedNetworkSettings,
  datastores: readonly DatastoreSpec[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (field: string, value: unknown, rule: string | undefined) => {
    if (rule) problems.push({ environment, field, value, rule });
  };
  const peers = [['ingressController', n.ingressController], ['prometheus', n.prometheus], ['dns', n.dns]] as const;
  for (const [name, peer] of peers) {
    at(`network.${name}.namespace`, peer.namespace, checkDnsLabel(peer.namespace)
      ?? (peer.namespace === namespace ? `must differ from the environment's namespace (default-deny there would isolate its pods)` : undefined));
    at(`network.${name}.podLabels`, peer.podLabels, checkPodLabels(peer.podLabels));
  }
  at('network.ingressController.httpsPort', n.ingressController.httpsPort, checkPort(n.ingressController.httpsPort));
  at('network.dns.port', n.dns.port, checkPort(n.dns.port));

  const names = datastores.map((d) => d.name);
  for (const name of Object.keys(n.datastores)) {
    if (!names.includes(name)) at('network.datastores', name, `must name datastores the catalogue uses (${names.join(', ')})`);
  }
  for (const d of datastores) {
    const field = `network.datastores.${d.name}`;
    const location: unknown = n.datastores[d.name];
    if (location === null || typeof location !== 'object') {
      at(field, location, `must say where ${d.name} runs: { podLabels, namespace? } in the cluster or { cidrs } outside it`);
      continue;
    }
    const hasPods = 'podLabels' in location;
    const hasCidrs = 'cidrs' in location;
    if (hasPods === hasCidrs) {
      at(field, location, 'must set either podLabels (in the cluster) or cidrs (outside it)');
    } else if ('podLabels' in location) {
      at(`${field}.podLabels`, location.podLabels, checkPodLabels(location.podLabels));
      if ('namespace' in location && location.namespace !== undefined) {
        at(`${field}.namespace`, location.namespace, checkDnsLabel(location.namespace));
      }
    } else if ('cidrs' in location) {
      const cidrs = location.cidrs;
      if (!Array.isArray(cidrs) || cidrs.length === 0) {
        at(`${field}.cidrs`, cidrs, 'must list at least one CIDR');
      } else {
        for (const cidr of cidrs) at(`${field}.cidrs`, cidr, checkCidr(cidr));
      }
    }
  }
  return problems;
}

/** TLS with the Ingress, the Gateway reference and its proxy pods with Gateway API routing. */
function validateRouting(environment: string, env: EnvironmentConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (field: string, value: unknown, rule: string | undefined) => {
    if (rule) problems.push({ environment, field, value, rule });
  };
  const routing = env.routing ?? { mode: RoutingMode.INGRESS };
  if (routing.mode === RoutingMode.INGRESS) {
    if (env.tls === undefined) {
      at('tls', undefined, 'is required with routing ingress (the Ingress terminates TLS with these Secrets): { clusterIssuer, frontendSecretName, apiSecretName }');
    } else {
      at('tls.clusterIssuer', env.tls.clusterIssuer, checkDnsSubdomain(env.tls.clusterIssuer));
      at('tls.frontendSecretName', env.tls.frontendSecretName, checkDnsSubdomain(env.tls.frontendSecretName));
      at('tls.apiSecretName', env.tls.apiSecretName, checkDnsSubdomain(env.tls.apiSecretName));
    }
    return problems;
  }
  if (env.tls !== undefined) {
    at('tls', env.tls, 'has no effect with routing gateway: TLS terminates at the Gateway (its listener holds the certificate); remove it');
  }
  const { gateway, dataPlane } = routing;
  at('routing.gateway.name', gateway.name, checkDnsSubdomain(gateway.name));
  at('routing.gateway.namespace', gateway.namespace, checkDnsLabel(gateway.namespace));
  if (gateway.sectionName !== undefined) at('routing.gateway.sectionName', gateway.sectionName, checkDnsSubdomain(gateway.sectionName));
  at('routing.dataPlane.namespace', dataPlane.namespace, checkDnsLabel(dataPlane.namespace)
    ?? (dataPlane.namespace === env.namespace ? `must differ from the environment's namespace (default-deny there would isolate its pods)` : undefined));
  at('routing.dataPlane.podLabels', dataPlane.podLabels, checkPodLabels(dataPlane.podLabels));
  at('routing.dataPlane.httpsPort', dataPlane.httpsPort, checkPort(dataPlane.httpsPort));
  if (env.network?.ingressController !== undefined) {
    at('network.ingressController', env.network.ingressController, 'has no effect with routing gateway: the edge is routing.dataPlane; remove it');
  }
  return problems;
}

function validateSecrets(environment: string, env: EnvironmentConfig, datastores: readonly DatastoreSpec[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (field: string, value: unknown, rule: string | undefined) => {
    if (rule) problems.push({ environment, field, value, rule });
  };
  const s = env.secrets;
  const modes: string[] = Object.values(SecretMode);
  if (!modes.includes(s?.mode)) {
    at('secrets.mode', s?.mode, `must be one of ${modes.join(', ')}`);
    return problems;
  }
  if (s.mode !== SecretMode.EXTERNAL_SECRET) return problems;
  const kinds: string[] = Object.values(SecretStoreKind);
  at('secrets.store.kind', s.store?.kind, kinds.includes(s.store?.kind) ? undefined : `must be one of ${kinds.join(', ')}`);
  at('secrets.store.name', s.store?.name, checkDnsSubdomain(s.store?.name));
  const versions: string[] = Object.values(ExternalSecretApiVersion);
  if (s.apiVersion !== undefined) {
    at('secrets.apiVersion', s.apiVersion, versions.includes(s.apiVersion) ? undefined : `must be one of ${versions.join(', ')}`);
  }
  const names = datastores.map((d) => d.name);
  const refs = s.remoteRefs ?? {};
  for (const name of Object.keys(refs)) {
    if (!names.includes(name)) at('secrets.remoteRefs', name, `must name datastores the catalogue uses (${names.join(', ')})`);
  }
  for (const name of names) {
    const ref = refs[name];
    if (typeof ref?.key !== 'string' || ref.key.trim() === '') {
      at(`secrets.remoteRefs.${name}`, ref, `must give the remote key of ${name}'s connection string ({ key, property? })`);
    } else if (ref.property !== undefined && (typeof ref.property !== 'string' || ref.property === '')) {
      at(`secrets.remoteRefs.${name}.property`, ref.property, 'must be a non-empty string when set');
    }
  }
  return problems;
}

function validateComponent(environment: string, component: string, s: ComponentSettings): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (field: string, value: unknown, rule: string | undefined) => {
    if (rule) problems.push({ environment, component, field, value, rule });
  };
  at('replicas', s.replicas, checkInteger(s.replicas, 1));
  const modes = Object.values(ReleaseMode) as string[];
  at('strategy', s.strategy, modes.includes(s.strategy) ? undefined : `must be one of ${modes.join(', ')}`);
  // Checked on rolling components too (where it is unused), so that switching to blue/green never
  // reveals an old mistake. An HPA cannot hold a Deployment at 0 replicas, so autoscaled pairs keep
  // at least one standby pod.
  const least = s.strategy === ReleaseMode.BLUE_GREEN && s.autoscaling !== undefined ? 1 : 0;
  at('standbyReplicas', s.standbyReplicas,
    checkInteger(s.standbyReplicas, least, typeof s.replicas === 'number' && s.replicas >= 1 ? s.replicas : 1));
  at('bakeMinutes', s.bakeMinutes, checkInteger(s.bakeMinutes, 0, MAX_BAKE_MINUTES));
  if (s.autoscaling !== undefined) {
    // (bounded by a valid replicas only: a bad one is its own problem, not a cascade)
    at('autoscaling.maxReplicas', s.autoscaling.maxReplicas,
      checkInteger(s.autoscaling.maxReplicas, checkInteger(s.replicas, 1) === undefined ? s.replicas : 1));
    at('autoscaling.targetCpuUtilization', s.autoscaling.targetCpuUtilization, checkInteger(s.autoscaling.targetCpuUtilization, 1, 100));
  }
  problems.push(...validateArgoSettings(s.argo, s.replicas).map((p) => ({ ...p, environment, component })));
  for (const kind of ['cpu', 'memory'] as const) {
    const request = s.resources.requests?.[kind];
    const limit = s.resources.limits?.[kind];
    at(`resources.requests.${kind}`, request, checkQuantity(request, kind));
    at(`resources.limits.${kind}`, limit, checkQuantity(limit, kind));
    at(`resources.requests.${kind}`, request, checkQuantityNotAbove(request, limit, `resources.limits.${kind}`));
  }
  for (const probe of ['liveness', 'readiness'] as const) {
    const t: Partial<ProbeTimings> = s.probes[probe] ?? {};
    at(`probes.${probe}.initialDelaySeconds`, t.initialDelaySeconds, checkInteger(t.initialDelaySeconds, 0));
    at(`probes.${probe}.periodSeconds`, t.periodSeconds, checkInteger(t.periodSeconds, 1));
    at(`probes.${probe}.timeoutSeconds`, t.timeoutSeconds, checkInteger(t.timeoutSeconds, 1));
    at(`probes.${probe}.failureThreshold`, t.failureThreshold, checkInteger(t.failureThreshold, 1));
  }
  return problems;
}

function duplicates(values: readonly string[], field: string, environment: string): ConfigProblem[] {
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const value of values) {
    if (seen.has(value)) problems.push({ environment, field, value, rule: 'must be unique' });
    seen.add(value);
  }
  return problems;
}

/** Rule broken by `value` as an Ingress host: a DNS name, never an IP address (TLS and routing need a name). */
function checkHost(value: string): string | undefined {
  // (digits and dots only: Kubernetes reads `010.0.0.1` as an IP address too)
  if (isIP(value.replace(/^\[|\]$/g, '')) !== 0 || /^[0-9.]+$/.test(value)) {
    return 'must be a DNS name, not an IP address (certificates and host routing need a name)';
  }
  return checkDnsSubdomain(value);
}

/** The metrics port every scraped Service gets must not be the Service's own port. */
function validateMetricsPort(environment: string, port: number, catalogue: readonly ComponentSpec[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const rule = checkPort(port);
  if (rule !== undefined) return [{ environment, field: 'monitoring.metricsPort', value: port, rule }];
  for (const c of catalogue.filter((x) => x.exposesMetrics === true && x.servicePort === port)) {
    problems.push({ environment, component: c.name, field: 'servicePort', value: c.servicePort,
      rule: `must differ from monitoring.metricsPort (${port}), the number of the metrics port every scraped Service gets` });
  }
  return problems;
}

const DURATION_UNITS: { readonly [unit: string]: number } = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** Seconds in a Prometheus duration (`1h30m` -> 5400), or `undefined` when it is not one. */
export function promDurationSeconds(value: string): number | undefined {
  if (checkPromDuration(value) !== undefined) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|[smhdwy])/g)) total += Number(amount) * DURATION_UNITS[unit];
  return total;
}

/** Seconds as a Prometheus duration (`480` -> `8m`, `1.332` -> `1332ms`). */
function formatSeconds(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

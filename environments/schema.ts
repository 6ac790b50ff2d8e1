/**
 * The schema of everything a user writes: environment files, the component catalogue and the release
 * state files. It is the single source of both the static types (`z.input<…>` in `model.ts` and
 * `catalogue.ts`) and the runtime shape check that synthesis runs before anything else: synthesis runs
 * from a bundle that is never type-checked, so a misspelled key or a wrongly typed value must be
 * caught here, at every depth, with its path.
 *
 * The schema checks shape and types only (unknown keys, types, enum members). The rules that need a
 * value's meaning (ranges, formats, request <= limit, unique hosts...) are in `resolve.ts` and run on
 * every environment whose shape is right.
 */
import { z } from 'zod';
import { AlertSeverity } from '../constructs/monitoring';
import { Colour } from '../constructs/release-strategy';
import { ExternalSecretApiVersion, SecretStoreKind } from '../constructs/secrets';
import { closest } from '../validate/suggest';

/** How a component is released in an environment. */
export enum ReleaseMode {
  /** One Deployment updated in place (maxUnavailable 0). */
  ROLLING = 'rolling',
  /** A blue/green pair driven by the release state file (`npm run release`). */
  BLUE_GREEN = 'blue-green',
  /** An Argo Rollouts blue/green Rollout (active `<c>`, preview `<c>-preview`), promoted through Argo. */
  ARGO_BLUE_GREEN = 'argo-blue-green',
  /** An Argo Rollouts canary (stable `<c>`, canary `<c>-canary`), traffic moved by weight steps with analysis. */
  ARGO_CANARY = 'argo-canary',
}

/** How the `db-credentials` Secret reaches an environment's namespace. */
export enum SecretMode {
  /** An ExternalSecret in the manifests; the external-secrets operator creates the Secret from a store. */
  EXTERNAL_SECRET = 'external-secret',
  /** Created out of band (by CI or an operator) before the manifests are applied; they only reference it. */
  EXISTING_SECRET = 'existing-secret',
}

/** What serves an environment's public routes. */
export enum RoutingMode {
  /** An Ingress, served by the ingress controller (which terminates TLS with the `tls` Secrets). */
  INGRESS = 'ingress',
  /** Gateway API HTTPRoutes attached to a Gateway run by the platform (which terminates TLS). */
  GATEWAY = 'gateway',
}

/** Which Ingress host a component's routes are served on. */
export enum Host {
  FRONTEND = 'frontend',
  API = 'api',
}

/** The tier of a component (the `app.kubernetes.io/component` label). */
export enum Tier {
  FRONTEND = 'frontend',
  BACKEND = 'backend',
}

/** Services of the cluster, outside this project, that components call. */
export enum PlatformService {
  /**
   * The ingress controller, i.e. the public hosts: the frontend's server side calls the public API
   * origin (`API_BASE_URL`), which resolves to the controller's load balancer.
   */
  INGRESS_CONTROLLER = 'ingress-controller',
}

/** Where a release is, for the release state file. Values are the file's strings. */
export enum Phase {
  /** Active colour serves traffic at full size; idle colour on standby (previous version). */
  STABLE = 'stable',
  /** The idle colour runs the new tag at full size behind the preview Service; smoke test runs. */
  STAGED = 'staged',
  /** Traffic moved to the new colour; the old one keeps full size during verification. */
  PROMOTED = 'promoted',
  /** Traffic moved back to the previous colour; the failed colour still runs at full size. */
  ROLLED_BACK = 'rolled-back',
}

// Synthesis checks each value once per process: compiling zod's fast paths with `new Function` costs
// more than it saves there (≈ 12 ms of a ≈ 27 ms first check, measured here).
z.config({ jitless: true });

// ---------------------------------------------------------------------------------------------
// Building blocks. Every object is strict: an unknown key is an error naming the known ones.

/** Marker put in the message of an unknown-key issue; {@link shapeProblems} turns it into one problem per key. */
const UNKNOWN_KEYS = 'unknown-keys:';

/** A strict object: unknown keys are reported with the object's known keys. */
function strict<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `${UNKNOWN_KEYS}${JSON.stringify(known)}` : undefined),
  }).readonly();
}

const text = () => z.string();
const count = () => z.number();
const flag = () => z.boolean();
const list = <T extends z.ZodType>(item: T) => z.array(item).readonly();
const map = <T extends z.ZodType>(value: T) => z.record(z.string(), value).readonly();
const oneOf = <E extends { readonly [key: string]: string }>(values: E) => z.enum(values);

/** Kubernetes labels, key to value. */
const labelSet = map(text());

// ---------------------------------------------------------------------------------------------
// Environment files

const resourceQuantities = strict({ cpu: text(), memory: text() });
const containerResources = strict({ requests: resourceQuantities, limits: resourceQuantities });

const probeTimings = strict({
  initialDelaySeconds: count(),
  periodSeconds: count(),
  timeoutSeconds: count(),
  failureThreshold: count(),
});

const probeSettings = strict({ liveness: probeTimings, readiness: probeTimings });

const autoscalingSettings = strict({
  maxReplicas: count(),
  /** Average CPU utilisation target, percent of the request. */
  targetCpuUtilization: count(),
});

/** One canary step: `{ setWeight: 10 }`, `{ pause: { duration: '5m' } }` (no duration: until promoted) or `{ analysis: {} }`. */
const canaryStep = z.union([
  strict({ setWeight: count() }),
  strict({ pause: strict({ duration: text().optional() }) }),
  strict({ analysis: strict({}) }),
], { error: "must be { setWeight: <percent> }, { pause: { duration?: '5m' } } or { analysis: {} }" });

/**
 * Options of the Argo Rollouts engines (strategies `argo-blue-green` and `argo-canary`); each field
 * but `analysis` is for one of them. Merged over `defaults.argo` field by field. A field of the other
 * engine written on an Argo component is an error, as is a field in `defaults.argo` that no component
 * takes from there with its engine (`validateArgoEngines` in `argo.ts`).
 */
export const argoSettingsSchema = strict({
  /** Blue/green: pods of the preview revision before promotion. @default - the full size (`replicas`) */
  previewReplicaCount: count().optional(),
  /** Blue/green: promote without a person once the pre-promotion analysis passed. @default false */
  autoPromotionEnabled: flag().optional(),
  /** Blue/green: seconds the previous revision keeps running after promotion. @default 30 */
  scaleDownDelaySeconds: count().optional(),
  /** Canary: the steps. @default - 10 % → pause 2m → analysis → 50 % → pause 5m → analysis → 100 % */
  steps: list(canaryStep).optional(),
  /** Both: the SLO measurements of an analysis. */
  analysis: strict({
    /** Time between measurements (`30s`, `1m`). @default '1m' */
    interval: text().optional(),
    /** Measurements per analysis. @default 5 */
    count: count().optional(),
    /** Failed measurements tolerated (below `count`). @default 0 */
    failureLimit: count().optional(),
  }).optional(),
});

/** The `defaults` block of an environment: settings every component starts from. */
export const componentDefaultsSchema = strict({
  /** Full size: pods of the Deployment, or of the active colour (HPA minimum when autoscaled). */
  replicas: count(),
  /** Rolling Deployment or blue/green pair. */
  strategy: oneOf(ReleaseMode),
  /** Pods of the idle colour outside a release (blue/green only), kept for an immediate rollback. */
  standbyReplicas: count(),
  /** Optional HPA on the Deployment (the active colour of a pair); its minimum is `replicas`. */
  autoscaling: autoscalingSettings.optional(),
  /**
   * Blue/green: minutes after `promote` during which the previous colour keeps its full size, so that
   * `rollback` moves traffic back without waiting for pods; `finalize` is refused until then. @default 30
   */
  bakeMinutes: count().optional(),
  /** Requests and limits of the container; every request must be <= its limit. */
  resources: containerResources,
  /**
   * Image tag of components that take it from here: a release version (`v1.4.2`) or a commit SHA,
   * never `latest`. Required while some component uses it; an error when none does (a blue/green
   * component's tags belong to the release state file once it has an entry there).
   */
  imageTag: text().optional(),
  /** Liveness and readiness probe timings. */
  probes: probeSettings,
  /** Options of the Argo Rollouts engines. @default - their defaults */
  argo: argoSettingsSchema.optional(),
});

/** What an environment may override per component; anything omitted comes from `defaults`. */
export const componentOverridesSchema = strict({
  replicas: count().optional(),
  strategy: oneOf(ReleaseMode).optional(),
  standbyReplicas: count().optional(),
  autoscaling: autoscalingSettings.optional(),
  bakeMinutes: count().optional(),
  resources: strict({ requests: resourceQuantities.optional(), limits: resourceQuantities.optional() }).optional(),
  imageTag: text().optional(),
  probes: strict({ liveness: probeTimings.optional(), readiness: probeTimings.optional() }).optional(),
  argo: argoSettingsSchema.optional(),
});

const alertTuningOverride = strict({
  threshold: count().optional(),
  for: text().optional(),
  severity: oneOf(AlertSeverity).optional(),
  team: text().optional(),
});
const durationAlertTuningOverride = strict({
  for: text().optional(),
  severity: oneOf(AlertSeverity).optional(),
  team: text().optional(),
});

/** What an environment may override of the monitoring defaults, down to one field of one alert. */
export const monitoringOverridesSchema = strict({
  /** Replaces the default selector labels as a whole. */
  prometheusSelector: labelSet.optional(),
  scrapeInterval: text().optional(),
  evaluationInterval: text().optional(),
  /** Range of the alerts' rate() windows; at least four scrape intervals. */
  rateWindow: text().optional(),
  /** Number of the `metrics` port of every scraped Service; must differ from each component's Service port. */
  metricsPort: count().optional(),
  runbookUrlPattern: text().optional(),
  alerts: strict({
    HighErrorRate: alertTuningOverride.optional(),
    HighResponseTime: alertTuningOverride.optional(),
    PodDown: durationAlertTuningOverride.optional(),
    HighCPUUsage: alertTuningOverride.optional(),
    HighMemoryUsage: alertTuningOverride.optional(),
    DatabasePoolExhausted: alertTuningOverride.optional(),
  }).optional(),
});

const inClusterDatastore = strict({
  /** Namespace of its pods. @default - the environment's namespace */
  namespace: text().optional(),
  /** Labels its pods carry. */
  podLabels: labelSet,
});
const externalDatastore = strict({
  /** Its addresses as CIDRs, e.g. `10.20.30.0/24`. */
  cidrs: list(text()),
});

/** Where a datastore runs: in the cluster (`podLabels`, `namespace?`) or outside it (`cidrs`). */
const datastoreLocation = z.union([inClusterDatastore, externalDatastore], {
  error: 'must be { podLabels, namespace? } (in the cluster) or { cidrs } (outside it), with no other field',
});

/** Network settings of an environment (see README "Network policy"); omitted peer fields take the defaults. */
export const networkSettingsSchema = strict({
  ingressController: strict({ namespace: text().optional(), podLabels: labelSet.optional(), httpsPort: count().optional() }).optional(),
  prometheus: strict({ namespace: text().optional(), podLabels: labelSet.optional() }).optional(),
  dns: strict({ namespace: text().optional(), podLabels: labelSet.optional(), port: count().optional() }).optional(),
  /** Where each datastore the catalogue uses runs, keyed by datastore name (`postgres`, `mongodb`, ...). */
  datastores: map(datastoreLocation),
});

const remoteRef = strict({ key: text(), property: text().optional() });

/** Where `db-credentials` comes from; never the values themselves. */
export const secretSettingsSchema = z.discriminatedUnion('mode', [
  strict({
    mode: z.literal(SecretMode.EXTERNAL_SECRET),
    /** The (Cluster)SecretStore the values are read from. */
    store: strict({ kind: oneOf(SecretStoreKind), name: text() }),
    /** Where each datastore's connection string lives in the store, keyed by datastore name. */
    remoteRefs: map(remoteRef),
    /** API version of the ExternalSecret (match the installed operator). @default ExternalSecretApiVersion.V1 */
    apiVersion: oneOf(ExternalSecretApiVersion).optional(),
  }),
  strict({ mode: z.literal(SecretMode.EXISTING_SECRET) }),
], { error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${Object.values(SecretMode).join(', ')}` : undefined) });

/**
 * How the environment's public routes are served (see README "Routing design"). With `gateway`, TLS
 * terminates at the Gateway, and `dataPlane` names the Gateway implementation's proxy pods: they, not
 * the ingress controller, are the edge the NetworkPolicies let in.
 */
export const routingSettingsSchema = z.discriminatedUnion('mode', [
  strict({ mode: z.literal(RoutingMode.INGRESS) }),
  strict({
    mode: z.literal(RoutingMode.GATEWAY),
    /** The Gateway every HTTPRoute attaches to; `sectionName` picks one of its listeners. */
    gateway: strict({ name: text(), namespace: text(), sectionName: text().optional() }),
    /** The Gateway implementation's proxy pods and the port they serve HTTPS on. */
    dataPlane: strict({ namespace: text(), podLabels: labelSet, httpsPort: count() }),
  }),
], { error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${Object.values(RoutingMode).join(', ')}` : undefined) });

/** The namespace's guardrails: its quota's headroom and budget, and who may read it. */
export const guardrailSettingsSchema = strict({
  /** Percent added to every figure of the derived ResourceQuota. @default 20 */
  headroomPercent: count().optional(),
  /**
   * What the platform grants the namespace at most; a derived quota above it is a synth error naming
   * the components and figures. @default - no budget (the quota is whatever the components need)
   */
  budget: strict({ requests: resourceQuantities, limits: resourceQuantities, pods: count() }).optional(),
  /**
   * Reserved for what runs in the namespace outside these manifests (the datastores): a number of
   * pods, the requests and limits of each (also the LimitRange's bound on one of their containers),
   * and their Services and Deployments. @default - nothing reserved
   */
  unmanaged: strict({
    pods: count(), requests: resourceQuantities, limits: resourceQuantities, services: count().optional(), deployments: count().optional(),
  }).optional(),
  /** Groups granted the read-only reviewer Role (workloads, pods, events, logs). @default - no reviewer Role */
  reviewerGroups: list(text()).optional(),
});

/** One environment, as written in its file. */
export const environmentSchema = strict({
  /** Short name, also the folder under `dist/` and the `environment` label: `staging`. */
  name: text(),
  /** Namespace every object of the environment lives in. */
  namespace: text(),
  /** Hosts served by the environment's Ingress. */
  domains: strict({ frontend: text(), api: text() }),
  /**
   * cert-manager ClusterIssuer and the Secrets receiving each host's certificate: required with
   * routing `ingress`, refused with `gateway` (the Gateway terminates TLS).
   */
  tls: strict({ clusterIssuer: text(), frontendSecretName: text(), apiSecretName: text() }).optional(),
  /** `NODE_ENV` of the frontend. */
  nodeEnv: text(),
  /** `log_level` in the `app-config` ConfigMap, read by the FastAPI services. */
  logLevel: z.enum(['debug', 'info', 'warning', 'error']),
  /** Settings every component starts from (the common block). */
  defaults: componentDefaultsSchema,
  /** Per-component overrides, keyed by component name from the catalogue. */
  components: map(componentOverridesSchema),
  /** Overrides of the monitoring defaults (thresholds, durations, selector labels). @default - the defaults */
  monitoring: monitoringOverridesSchema.optional(),
  /** Where the platform's peers and the datastores run, for the NetworkPolicies. */
  network: networkSettingsSchema,
  /** Where `db-credentials` comes from. */
  secrets: secretSettingsSchema,
  /** Quota budget and headroom, reviewer access. @default - the defaults of each field */
  guardrails: guardrailSettingsSchema.optional(),
  /** What serves the public routes. @default { mode: 'ingress' } */
  routing: routingSettingsSchema.optional(),
});

// ---------------------------------------------------------------------------------------------
// The catalogue

/** A datastore the backends use. Where it runs (and how its pods are selected) is environment config. */
export const datastoreSpecSchema = strict({
  /** DNS-1123 name, also its key under `network.datastores` and `secrets.remoteRefs` in environment files. */
  name: text(),
  /** Product name; also the construct id of its traffic peer. */
  title: text(),
  /** Port it serves on (TCP). */
  port: count(),
  /** Key of its connection string in the `db-credentials` Secret. */
  secretKey: text(),
  /** Environment variable the connection string is given to its users as. */
  envVar: text(),
});

/** A reference to another catalogue component (the component object itself). */
export interface ComponentReference {
  readonly name: string;
}
const componentReference = z.custom<ComponentReference>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { name?: unknown }).name === 'string',
  { error: `must be a catalogue component or a platform service (${Object.values(PlatformService).join(', ')})` },
);

/** One workload of the platform. */
export const componentSpecSchema = strict({
  /** DNS-1123 name: Deployment, Service, `app` label and image repository name. */
  name: text(),
  tier: oneOf(Tier),
  /** Port the container listens on (HTTP, health and metrics). */
  containerPort: count(),
  /** Port of the ClusterIP Service in front of it. */
  servicePort: count(),
  /** HTTP path answering liveness and readiness probes. */
  healthPath: text(),
  /** Public Ingress routes (path prefixes) and the host they are served on. */
  routes: strict({ host: oneOf(Host), paths: list(text()) }),
  /** Paths the process writes to; each gets an emptyDir because the root filesystem is read-only. */
  writablePaths: list(text()),
  /** Paths the in-cluster smoke test calls on a staged version: health plus one real endpoint. */
  smokePaths: list(text()),
  /**
   * Whether the container serves Prometheus metrics at `/metrics` on `containerPort`; such
   * components are scraped and alerted on. Every backend must. @default false
   */
  exposesMetrics: flag().optional(),
  /**
   * What it opens connections to inside the cluster (besides datastores and DNS): an edge per entry,
   * to the component's container port or the platform service's port. @default - nothing
   */
  calls: list(z.union([z.enum(PlatformService), componentReference], {
    error: `must be a catalogue component or a platform service (${Object.values(PlatformService).join(', ')})`,
  })).optional(),
  /**
   * Datastores it uses: an edge to each, and the matching key of `db-credentials` as an environment
   * variable (no other key). @default - none
   */
  datastores: list(datastoreSpecSchema).optional(),
});

/** The catalogue: every component, in report order. */
export const catalogueSchema = list(componentSpecSchema);

// ---------------------------------------------------------------------------------------------
// Release state files

/** Release state of one blue/green component, as kept in `environments/<environment>.release.json`. */
export const componentReleaseSchema = strict({
  active: oneOf(Colour),
  phase: oneOf(Phase),
  /** The image tag each colour runs. */
  tags: strict({ blue: text(), green: text() }),
  /** While staged: the idle colour's tag before `stage`, restored by `rollback`. */
  previousTag: text().optional(),
  /**
   * How many times a version has been staged (by `stage` or a rollback after finalize): part of the
   * smoke-test Job's name, so staging the same tag again runs a new Job. @default 0
   */
  attempt: count().optional(),
  /**
   * The last version promoted and finalized healthy: what serves traffic when stable, what a rollback
   * of a promoted release returns to, and what the idle colour is re-pointed to when a finalize would
   * otherwise leave a failed version on standby. Written by every release step.
   * @default - derived from the phase: the idle colour's tag while promoted, else the active colour's
   */
  lastGood: text().optional(),
  /**
   * Versions rolled back as failed, oldest first: never staged again (a fixed build gets a new tag),
   * never a rollback target, never left on standby. @default - none
   */
  failed: list(text()).optional(),
  /**
   * While a rollback after finalize is staged or promoted: the version being rolled back (it keeps
   * serving until the previous version is at full size), marked failed by the finalize that confirms it.
   */
  rollbackFrom: text().optional(),
  /**
   * While a release is in progress (staged, promoted, rolled back): the replicas each colour runs,
   * the scale the active colour served with when the release was staged, read from the cluster and
   * recorded by `stage --serving <n>` (or a rollback or break-glass that moves traffic). Never below the
   * component's replicas. @default - the component's replicas
   */
  size: count().optional(),
  /**
   * While promoted: when traffic moved (UTC, ISO 8601, e.g. `2026-12-03T17:00:00Z`). `finalize` shrinks
   * the previous colour only after the component's bake time has passed since then.
   */
  promotedAt: text().optional(),
});

/** Release state of an environment: blue/green component name -> state. */
export const releaseStateSchema = map(componentReleaseSchema);

// ---------------------------------------------------------------------------------------------
// Issues to problems

/** What kind of shape problem: an unknown key, a value outside an enum (or a union), or a wrong type. */
export enum ShapeProblemKind {
  /** A key no field of the object has (the value is then `undefined`). */
  UNKNOWN_KEY = 'unknown-key',
  /** A value of the right type but not one of the allowed values or shapes. */
  NOT_ALLOWED = 'not-allowed',
  /** A missing required field or a value of the wrong type. */
  WRONG_TYPE = 'wrong-type',
}

/** One shape problem: where it is (a path into the checked value), the value there and the rule. */
export interface ShapeProblem {
  readonly kind: ShapeProblemKind;
  /** Keys and indexes from the checked value down to the field. */
  readonly path: readonly (string | number)[];
  /** The value found there (`undefined` when missing or for an unknown key). */
  readonly value: unknown;
  /** What is allowed, completing "<field> ...". */
  readonly rule: string;
  /** For an unknown key: the keys the object may have. */
  readonly known?: readonly string[];
}

/**
 * Every shape problem of `value` against `schema`, each unknown key separately, with a suggestion
 * when a known key is close to it. Empty when the value has the right shape.
 */
export function shapeProblems(schema: z.ZodType, value: unknown): ShapeProblem[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.flatMap((issue) => issueProblems(issue, value, []));
}

function issueProblems(issue: z.core.$ZodIssue, root: unknown, prefix: readonly PropertyKey[]): ShapeProblem[] {
  const path = [...prefix, ...issue.path].filter((p): p is string | number => typeof p !== 'symbol');
  const here = valueAt(root, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known: string[] = issue.message.startsWith(UNKNOWN_KEYS) ? JSON.parse(issue.message.slice(UNKNOWN_KEYS.length)) : [];
      return issue.keys.map((key) => ({
        kind: ShapeProblemKind.UNKNOWN_KEY, path: [...path, key], value: undefined, rule: unknownKeyRule(key, known), known,
      }));
    }
    case 'invalid_type': {
      const expected = describeType(issue.expected);
      return [{ kind: ShapeProblemKind.WRONG_TYPE, path, value: here, rule: here === undefined ? `is required (${expected})` : `must be ${expected}` }];
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => String(v)).join(', ');
      return here === undefined
        ? [{ kind: ShapeProblemKind.WRONG_TYPE, path, value: here, rule: `is required (one of ${allowed})` }]
        : [{ kind: ShapeProblemKind.NOT_ALLOWED, path, value: here, rule: `must be one of ${allowed}` }];
    }
    case 'invalid_union': {
      // An object close to one of the shapes, off only by keys that no shape has (typos): report
      // those keys, with suggestions. Keys of another shape mean shapes were mixed: say so as a whole.
      const branches = issue.errors.map((branch) => branch.flatMap((i) => issueProblems(i, root, path)));
      const anyShape = new Set(branches.flat().flatMap((p) => p.known ?? []));
      const nearest = branches.find((b) => b.length > 0
        && b.every((p) => p.kind === ShapeProblemKind.UNKNOWN_KEY && !anyShape.has(String(p.path[p.path.length - 1]))));
      if (nearest !== undefined) return nearest;
      // An object with exactly the keys of one shape, off only by the values' types (`{ setWeight: '10' }`):
      // that shape's problems, each at its own path.
      const typed = branches.find((b) => b.length > 0
        && b.every((p) => p.kind === ShapeProblemKind.WRONG_TYPE && p.value !== undefined && p.path.length > path.length));
      if (typed !== undefined) return typed;
      // Keys no shape has, with the closest key of any shape: `{ cidr: [...] }` -> "cidrs".
      const stray = here !== null && typeof here === 'object' && !Array.isArray(here) ? Object.keys(here).filter((k) => !anyShape.has(k)) : [];
      const hints = stray.map((k) => ({ k, guess: closest(k, [...anyShape]) }))
        .map(({ k, guess }) => (guess === undefined ? `"${k}" is an unknown field` : `"${k}" is an unknown field; did you mean "${guess}"?`));
      return [{ kind: ShapeProblemKind.NOT_ALLOWED, path, value: here, rule: [issue.message, ...hints].join('; ') }];
    }
    default:
      return [{ kind: ShapeProblemKind.NOT_ALLOWED, path, value: here, rule: issue.message }];
  }
}

/** `is an unknown field; did you mean "components"? (fields here: ...)` */
export function unknownKeyRule(key: string, known: readonly string[]): string {
  const suggestion = closest(key, known);
  return `is an unknown field${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`} (fields here: ${known.join(', ')})`;
}

function describeType(expected: string): string {
  switch (expected) {
    case 'object': return 'an object';
    case 'array': return 'a list';
    case 'record': return 'an object';
    case 'number': return 'a number';
    case 'string': return 'a string';
    case 'boolean': return 'true or false';
    default: return expected;
  }
}

/** The value at `path` below `root`, or `undefined`. */
export function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as { [k: string]: unknown })[key];
  }
  return current;
}

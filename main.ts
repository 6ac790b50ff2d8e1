/**
 * The composition root: reads the environment registry and the component catalogue, validates them
 * as a whole, builds one chart per environment from the construct library, and writes `dist/`.
 *
 *   npm run synth          (or `cdk8s synth`, which runs the same entry point)
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  AlertRouting, AvailabilityAlerts, COLOUR_LABEL, CredentialsSecret, EndpointRole, GrafanaDashboard, HttpServiceAlerts, Microservice, NetworkPeer, NetworkPort,
  otherColour, PrometheusRules, PropsError, ReleaseStrategy, RUNBOOK_PLACEHOLDER, SecretSource, SecretStoreRef, SecureNamespace, serviceOverviewDashboard,
  SloBurnRateAlerts, SMOKE_TEST_APP, SmokeTest, smokeTestInstance, TlsIngress, TrafficPeer, UrlProbe, WorkloadMonitor, ZeroTrustNetwork,
} from './constructs';
import {
  BLACKBOX_PROBER, CATALOGUE, ENVIRONMENT_PLACEHOLDER, checkEnvironments, ComponentSpec, ConfigError, ConfigProblem, DatastoreLocation, DB_CREDENTIALS_SECRET, ENVIRONMENTS, EnvironmentConfig, Host,
  IMAGE_REGISTRY, kcpSlos, PlatformService, ReleaseMode, ReleaseStates, ResolvedEnvironment, SecretMode, Tier,
  SLO_TEAMS, usedDatastores,
} from './environments';
import { ALERTING_REMOTE_REFS, alertingFor } from './environments/alerting';
import { runbookDocuments } from './release/runbooks';
import { renderDeployPlan, TrafficGate } from './release/deploy-plan';
import { addGuardrails, isPlatformObject } from './release/guardrails';
import { readReleaseStates } from './release/files';
import { Phase, strategyFor } from './release/state';
import { UnsafeOutputError } from './synth/guards';
import { gateOutput, gateWarnings, withGateRecord } from './synth/gate';
import { diffTree, KubeObject, OutputTree, renderTree, synthesizeCharts, writeTree } from './synth/output';

/** The project root (this file runs from the root in tests and from `.build/` when bundled). */
export const ROOT = fs.existsSync(path.join(__dirname, 'package.json')) ? __dirname : path.resolve(__dirname, '..');

/**
 * Label on every object of an environment's folder of dist/ (a chart label), naming the environment:
 * the deploy prunes exactly the objects carrying it that the folder no longer holds (scripts/deploy.sh).
 */
export const DEPLOY_SET_LABEL = 'deploy.soundcore-kcp.com/set';

/** Value of the `project` label and `app.kubernetes.io/part-of`. */
export const PROJECT = 'soundcore-kcp';

/** Properties of a {@link KcpEnvironmentChart}. */
export interface KcpEnvironmentChartProps {
  /** The environment, resolved and validated. */
  readonly environment: ResolvedEnvironment;
  /** The components to deploy. */
  readonly catalogue: readonly ComponentSpec[];
}

/** Everything one KCP environment runs, in its own namespace. */
export class KcpEnvironmentChart extends Chart {
  /** The workloads, by component name. */
  public readonly workloads: ReadonlyMap<string, Microservice>;
  /** The namespace's traffic graph and the NetworkPolicies enforcing it. */
  public readonly network: ZeroTrustNetwork;
  /** The Services of blue/green pairs, as the deploy's traffic gates (release/deploy-plan.ts). */
  public readonly trafficGates: readonly TrafficGate[];
  /** The environment it was built from. */
  public readonly environment: ResolvedEnvironment;

  constructor(scope: Construct, id: string, props: KcpEnvironmentChartProps) {
    const env = props.environment;
    super(scope, id, { namespace: env.namespace, labels: { environment: env.name, [DEPLOY_SET_LABEL]: env.name } });
    this.environment = env;

    const namespace = new SecureNamespace(this, 'Namespace', {
      name: env.namespace,
      labels: { environment: env.name, project: PROJECT },
    });
    const network = new ZeroTrustNetwork(this, 'Network', {
      namespace,
      dns: NetworkPeer.podsInNamespace(env.network.dns.namespace, env.network.dns.podLabels),
      dnsPort: env.network.dns.port,
      labels: { 'app.kubernetes.io/part-of': PROJECT },
    });
    this.network = network;
    const credentials = dbCredentials(this, env, props.catalogue);
    // A Secret that CI creates: the Namespace states it, with its keys, for reviewers and the gate.
    if (credentials !== undefined && credentials.externalSecret === undefined) {
      namespace.declareOutOfBandSecret(credentials.name, credentials.keys);
    }

    const appConfig = new kplus.ConfigMap(this, 'AppConfig', {
      metadata: { name: 'app-config' },
      data: {
        api_base_url: `https://${env.domains.api}`,
        environment: env.name,
        log_level: env.logLevel,
      },
    });

    const workloads = new Map<string, Microservice>();
    const failures: ComponentFailure[] = [];
    const smokeTargets: Microservice[] = [];
    for (const spec of props.catalogue) {
      const settings = env.components[spec.name];
      const envVars: { [name: string]: kplus.EnvValue } = spec.tier === Tier.FRONTEND
        ? {
          NODE_ENV: kplus.EnvValue.fromValue(env.nodeEnv),
          API_BASE_URL: kplus.EnvValue.fromConfigMap(appConfig, 'api_base_url'),
        }
        : {
          ENVIRONMENT: kplus.EnvValue.fromConfigMap(appConfig, 'environment'),
          LOG_LEVEL: kplus.EnvValue.fromConfigMap(appConfig, 'log_level'),
        };
      // Least privilege: only the connection strings of the datastores this component uses.
      for (const datastore of spec.datastores ?? []) {
        envVars[datastore.envVar] = credentials!.envValue(datastore.secretKey);
      }
      const blueGreen = settings.strategy === ReleaseMode.BLUE_GREEN;
      let workload: Microservice;
      try {
        workload = new Microservice(this, spec.name, {
        name: spec.name,
        image: `${IMAGE_REGISTRY}/${spec.name}`,
        release: blueGreen
          ? strategyFor(env.releases[spec.name], settings.standbyReplicas)
          : ReleaseStrategy.rolling({ imageTag: settings.imageTag! }), // (required for rolling components: resolve checked it)
        autoscaling: settings.autoscaling,
        containerPort: spec.containerPort,
        servicePort: spec.servicePort,
        healthPath: spec.healthPath,
        replicas: settings.replicas,
        resources: settings.resources,
        liveness: settings.probes.liveness,
        readiness: settings.probes.readiness,
        env: envVars,
        component: spec.tier,
        partOf: PROJECT,
        labels: { environment: env.name },
        writablePaths: spec.writablePaths,
        network,
      });
      } catch (e) {
        // Every component is tried, so that one report names every component's problem.
        failures.push({ component: spec.name, error: e });
        continue;
      }
      workloads.set(spec.name, workload);
      // A staged version is smoke-tested through its preview Service before `promote`.
      if (blueGreen && env.releases[spec.name].phase === Phase.STAGED) {
        new SmokeTest(workload, 'SmokeTest', {
          target: workload, paths: spec.smokePaths, labels: { environment: env.name }, attempt: env.releases[spec.name].attempt,
        });
        smokeTargets.push(workload);
      }
    }
    if (failures.length > 0) throw new ComponentsFailedError(failures);
    this.workloads = workloads;
    // Traffic moves only to a colour that runs its image at the scale serving; a promoted version
    // also needs its staging attempt's smoke test to have passed.
    this.trafficGates = [...workloads.values()].filter((w) => w.release.blueGreen !== undefined).map((w) => {
      const bg = w.release.blueGreen!;
      const state = env.releases[w.name];
      return {
        service: w.service.name,
        selectorKey: COLOUR_LABEL,
        colour: bg.active,
        deployment: w.activeDeployment.name,
        otherColour: otherColour(bg.active),
        otherDeployment: w.deployments.find((d) => d !== w.activeDeployment)!.name,
        bakeMinutes: env.components[w.name].bakeMinutes,
        ...(state.phase === Phase.PROMOTED ? { smokeInstance: smokeTestInstance(w.name, bg.tags[bg.active], state.attempt) } : {}),
      };
    });

    // Monitoring: one ServiceMonitor for every component that serves metrics (each Service of a
    // blue/green pair included), the alert rules and the dashboard; see README "Monitoring and alerts".
    const monitoring = { ...env.monitoring, runbookUrlPattern: env.monitoring.runbookUrlPattern.replace(ENVIRONMENT_PLACEHOLDER, env.name) };
    const monitor = new WorkloadMonitor(this, 'ServiceMonitor', {
      name: `${PROJECT}-monitor`,
      labels: { ...monitoring.prometheusSelector, 'app.kubernetes.io/part-of': PROJECT },
      selectLabels: { 'app.kubernetes.io/part-of': PROJECT },
      namespaces: [env.namespace],
      interval: monitoring.scrapeInterval,
      metricsPort: monitoring.metricsPort,
    });
    for (const spec of props.catalogue.filter((c) => c.exposesMetrics === true)) monitor.scrape(workloads.get(spec.name)!);
    new HttpServiceAlerts(this, 'Alerts', {
      name: `${PROJECT}-alerts`,
      namespace: env.namespace,
      labels: { ...monitoring.prometheusSelector, 'app.kubernetes.io/part-of': PROJECT },
      tuning: monitoring.alerts,
      runbookUrlPattern: monitoring.runbookUrlPattern,
      evaluationInterval: monitoring.evaluationInterval,
      window: monitoring.rateWindow,
    });
    new GrafanaDashboard(this, 'Dashboard', {
      name: `${PROJECT}-dashboard`,
      labels: { 'app.kubernetes.io/part-of': PROJECT },
      dashboard: serviceOverviewDashboard({
        uid: `${PROJECT}-${env.name}`, title: `Soundcore KCP services (${env.name})`, defaultNamespace: env.namespace, tags: [PROJECT, env.name],
      }),
    });

    const ingress = new TlsIngress(this, 'Ingress', {
      name: PROJECT,
      clusterIssuer: env.tls.clusterIssuer,
      labels: { 'app.kubernetes.io/part-of': PROJECT },
    });
    const hosts: { [host in Host]: string } = { [Host.FRONTEND]: env.domains.frontend, [Host.API]: env.domains.api };
    ingress.addHost(env.domains.frontend, env.tls.frontendSecretName);
    ingress.addHost(env.domains.api, env.tls.apiSecretName);
    for (const spec of props.catalogue) {
      for (const prefix of spec.routes.paths) {
        ingress.route(hosts[spec.routes.host], prefix, workloads.get(spec.name)!);
      }
    }
    declareTraffic(this, network, env, props.catalogue, workloads, ingress);
    // What users see: SLO burn rates (API Services, the edge, the frontend through the edge), the
    // availability of the Deployment each Service selects, and synthetic checks of the components
    // without metrics; see README "Monitoring and alerts".
    const runbook = (slug: string) => monitoring.runbookUrlPattern.replace(RUNBOOK_PLACEHOLDER, slug);
    const userImpact = new PrometheusRules(this, 'UserImpactAlerts', {
      name: `${PROJECT}-user-impact-alerts`, labels: { ...monitoring.prometheusSelector, 'app.kubernetes.io/part-of': PROJECT },
    });
    const hostsOf = (scraped: boolean) => [...new Set(props.catalogue.filter((c) => (c.exposesMetrics === true) === scraped).map((c) => hosts[c.routes.host]))];
    new SloBurnRateAlerts(this, 'Slo', {
      rules: userImpact, evaluationInterval: monitoring.evaluationInterval,
      slos: kcpSlos({ namespace: env.namespace, ingress: ingress.ingress.name, apiHosts: hostsOf(true), frontendHosts: hostsOf(false), runbook }),
    });
    new AvailabilityAlerts(this, 'Availability', {
      rules: userImpact, namespace: env.namespace, team: SLO_TEAMS.availability, evaluationInterval: monitoring.evaluationInterval,
      targets: [...workloads.values()].map((w) => ({ service: w.name, deployment: w.activeDeployment.name, minAvailable: w.replicas })),
      deploymentRunbookUrl: runbook('deployment-unavailable'), endpointsRunbookUrl: runbook('service-without-endpoints'),
    });
    const unscrapedUrls = props.catalogue.filter((c) => c.exposesMetrics !== true).flatMap((c) => c.routes.paths.map((p) => `https://${hosts[c.routes.host]}${p}`));
    if (unscrapedUrls.length > 0) {
      new UrlProbe(this, 'FrontendProbe', {
        name: `${PROJECT}-frontend-probe`, labels: { ...monitoring.prometheusSelector, 'app.kubernetes.io/part-of': PROJECT },
        proberUrl: BLACKBOX_PROBER, rules: userImpact, evaluationInterval: monitoring.evaluationInterval, interval: monitoring.scrapeInterval,
        urls: unscrapedUrls, team: SLO_TEAMS.frontend, runbookUrl: runbook('probe-failed'),
      });
    }
    // The smoke-test Job's pods reach the components they check (declared only while one is staged,
    // so no policy ever selects nothing).
    if (smokeTargets.length > 0) {
      const smoke = new TrafficPeer(this, 'SmokeTestTraffic', { network, name: SMOKE_TEST_APP, peer: NetworkPeer.pods({ app: SMOKE_TEST_APP }) });
      for (const target of smokeTargets) smoke.connectTo(target, { description: 'smoke test' });
    }
    // Alert routing by team and severity (after every alert rule: a rule of a team without a route
    // is a synth error), its receivers' Secret, and the runbook pages (README "Alert routing").
    const routing = new AlertRouting(this, 'AlertRouting', {
      name: `${PROJECT}-routing`, labels: { 'app.kubernetes.io/part-of': PROJECT }, context: `environment ${env.name}`, ...alertingFor(env.name),
    });
    const receiverSecrets = [...routing.secretKeys].map(([name, keys]) => new CredentialsSecret(this, `ReceiverSecret-${name}`, {
      name, keys, labels: { 'app.kubernetes.io/part-of': PROJECT },
      source: env.secrets.mode === SecretMode.EXTERNAL_SECRET
        ? SecretSource.externalSecret({
          store: SecretStoreRef.of(env.secrets.store.kind, env.secrets.store.name), apiVersion: env.secrets.apiVersion,
          remoteRefs: Object.fromEntries(keys.map((k) => [k, ALERTING_REMOTE_REFS[k]])),
        })
        : SecretSource.existingSecret(),
    }));
    for (const s of receiverSecrets.filter((x) => x.externalSecret === undefined)) namespace.declareOutOfBandSecret(s.name, s.keys);
    // Least-privilege deploy access and a quota for the worst moment of a release, derived from all of
    // the above (release/guardrails.ts; README "Namespace guardrails"). Keep this last.
    addGuardrails(this, {
      environment: env, workloads, ingressHosts: new Set(Object.values(hosts)).size, labels: { 'app.kubernetes.io/part-of': PROJECT }, prefix: PROJECT,
      pipelineSecrets: [credentials, ...receiverSecrets].filter((c) => c !== undefined && c.externalSecret === undefined).map((c) => c!.name),
    });
  }
}

/**
 * The `db-credentials` Secret with a key per datastore the catalogue uses, from the environment's
 * source: an ExternalSecret, or a Secret created out of band. No value is ever in the manifests.
 */
function dbCredentials(scope: Construct, env: ResolvedEnvironment, catalogue: readonly ComponentSpec[]): CredentialsSecret | undefined {
  const datastores = usedDatastores(catalogue);
  if (datastores.length === 0) return undefined;
  const s = env.secrets;
  const source = s.mode === SecretMode.EXTERNAL_SECRET
    ? SecretSource.externalSecret({
      store: SecretStoreRef.of(s.store.kind, s.store.name),
      remoteRefs: Object.fromEntries(datastores.map((d) => [d.secretKey, s.remoteRefs[d.name]])),
      apiVersion: s.apiVersion,
    })
    : SecretSource.existingSecret();
  return new CredentialsSecret(scope, 'DbCredentials', {
    name: DB_CREDENTIALS_SECRET,
    keys: datastores.map((d) => d.secretKey),
    source,
    labels: { 'app.kubernetes.io/part-of': PROJECT },
  });
}

/**
 * Declares the environment's traffic graph from the catalogue, each edge once: the ingress controller
 * to whatever the Ingress routes to; each component to what it `calls` and to its `datastores`;
 * Prometheus to every component's metrics port (the container port serving `/metrics`).
 */
function declareTraffic(
  scope: Construct,
  network: ZeroTrustNetwork,
  env: ResolvedEnvironment,
  catalogue: readonly ComponentSpec[],
  workloads: ReadonlyMap<string, Microservice>,
  ingress: TlsIngress,
): void {
  const { ingressController: ic, prometheus: prom } = env.network;
  const ingressController = new TrafficPeer(scope, 'IngressController', {
    network,
    name: 'ingress-controller',
    peer: NetworkPeer.podsInNamespace(ic.namespace, ic.podLabels),
    ports: [NetworkPort.tcp(ic.httpsPort)],
  });
  const prometheus = new TrafficPeer(scope, 'Prometheus', {
    network, name: 'prometheus', peer: NetworkPeer.podsInNamespace(prom.namespace, prom.podLabels),
  });
  const datastoreScope = new Construct(scope, 'Datastores');
  const datastores = new Map(usedDatastores(catalogue).map((d) => [d.name, new TrafficPeer(datastoreScope, d.title, {
    network,
    name: d.name,
    peer: datastorePeer(env.network.datastores[d.name], env.namespace),
    ports: [NetworkPort.tcp(d.port)],
    role: EndpointRole.DATASTORE,
    managedElsewhere: `${d.title}, run in this namespace outside these manifests`,
  })]));

  for (const backend of ingress.backends) ingressController.connectTo(backend, { description: 'Ingress backend' });
  for (const spec of catalogue) {
    const workload = workloads.get(spec.name)!;
    for (const callee of spec.calls ?? []) {
      if (callee === PlatformService.INGRESS_CONTROLLER) {
        workload.connectTo(ingressController, { description: 'public API origin' });
      } else {
        workload.connectTo(workloads.get(callee.name)!, { description: 'API call' });
      }
    }
    for (const datastore of spec.datastores ?? []) {
      workload.connectTo(datastores.get(datastore.name)!, { description: datastore.title });
    }
  }
  // Prometheus scrapes exactly the components that serve metrics (the ServiceMonitor's set).
  for (const spec of catalogue.filter((c) => c.exposesMetrics === true)) {
    prometheus.connectTo(workloads.get(spec.name)!, { description: 'metrics scrape' });
  }
  // cert-manager answers HTTP-01 challenges from a solver pod it starts in this namespace, reached
  // through the ingress controller: without this edge, certificates could be neither issued nor renewed.
  const acmeSolver = new TrafficPeer(scope, 'AcmeHttp01Solver', {
    network,
    name: ACME_SOLVER.name,
    peer: NetworkPeer.pods(ACME_SOLVER.podLabels),
    ports: [NetworkPort.tcp(ACME_SOLVER.port)],
    managedElsewhere: 'cert-manager HTTP-01 solver, started while a certificate is issued or renewed',
  });
  ingressController.connectTo(acmeSolver, { description: 'ACME HTTP-01 challenge' });
}

/** The pods cert-manager starts to answer ACME HTTP-01 challenges (labels and port are cert-manager's). */
export const ACME_SOLVER = { name: 'acme-http01-solver', podLabels: { 'acme.cert-manager.io/http01-solver': 'true' }, port: 8089 } as const;

function datastorePeer(location: DatastoreLocation, namespace: string): NetworkPeer {
  if ('cidrs' in location) return NetworkPeer.ipBlocks(location.cidrs);
  return location.namespace === undefined || location.namespace === namespace
    ? NetworkPeer.pods(location.podLabels)
    : NetworkPeer.podsInNamespace(location.namespace, location.podLabels);
}

/** A component whose construct refused its props. */
interface ComponentFailure {
  readonly component: string;
  readonly error: unknown;
}

/** Thrown by {@link KcpEnvironmentChart} when components could not be built; lists every one. */
class ComponentsFailedError extends Error {
  constructor(public readonly failures: readonly ComponentFailure[]) {
    super(failures.map((f) => `${f.component}: ${String(f.error)}`).join('; '));
    this.name = 'ComponentsFailedError';
  }
}

/** An error a construct raised for its input (not a bug of ours: those keep their stack trace). */
function isInputError(e: unknown): e is Error {
  return e instanceof Error && !(e instanceof TypeError || e instanceof ReferenceError || e instanceof RangeError || e instanceof SyntaxError);
}

/** Problems of the kind configuration errors have, for an error a construct raised. */
function constructProblems(environment: string, e: unknown, component?: string): ConfigProblem[] {
  if (e instanceof ComponentsFailedError) return e.failures.flatMap((f) => constructProblems(environment, f.error, f.component));
  if (e instanceof PropsError) {
    const kind = e.where.split(' ')[0];
    return [{ environment, component, field: `${kind} ${e.field}`, value: e.value, rule: e.rule }];
  }
  if (isInputError(e)) return [{ environment, component, field: 'construct', value: undefined, rule: `refused its input: ${e.message}` }];
  throw e;
}

/**
 * Checks the configuration, then builds every environment whose configuration is valid and runs the
 * constructs' validations: construct errors become problems like configuration ones, so that one
 * report lists them all.
 * @throws ConfigError with every problem found
 */
export function buildCheckedApp(
  environments: readonly EnvironmentConfig[],
  catalogue: readonly ComponentSpec[],
  releaseStates: ReleaseStates,
): App {
  const check = checkEnvironments(environments, catalogue, releaseStates);
  const problems = [...check.problems];
  const app = new App();
  // Every environment is built from the catalogue: with a problem there, building would only repeat it.
  const catalogueValid = !problems.some((p) => p.environment === 'catalogue');
  for (const environment of catalogueValid ? check.resolved : []) {
    try {
      const chart = new KcpEnvironmentChart(app, environment.name, { environment, catalogue });
      for (const c of chart.node.findAll()) {
        const component = c.node.path.split('/')[1];
        for (const message of c.node.validate()) {
          problems.push({
            environment: environment.name, component: catalogue.some((s) => s.name === component) ? component : undefined,
            field: 'construct', value: undefined, rule: `${c.node.path} is invalid: ${message}`,
          });
        }
      }
    } catch (e) {
      problems.push(...constructProblems(environment.name, e));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, check.skipped);
  return app;
}

/** Builds the app: one chart per (already resolved) environment. */
export function buildApp(environments: readonly ResolvedEnvironment[], catalogue: readonly ComponentSpec[] = CATALOGUE): App {
  const app = new App();
  for (const environment of environments) {
    new KcpEnvironmentChart(app, environment.name, { environment, catalogue });
  }
  return app;
}

/**
 * Validates the configuration as a whole, synthesizes every environment and renders the `dist/`
 * tree in memory. Nothing is written.
 * @throws ConfigError with every configuration problem, before any construct is built.
 */
export function synthesize(
  environments: readonly EnvironmentConfig[] = ENVIRONMENTS,
  catalogue: readonly ComponentSpec[] = CATALOGUE,
  releaseStates: ReleaseStates = readReleaseStates(ROOT, environments),
): OutputTree {
  return synthesizeOutput(environments, catalogue, releaseStates).tree;
}

/**
 * One synthesis, both results: the rendered `dist/` tree (gated, as {@link synthesize}) and the
 * objects of each folder (`<environment>` and `<environment>/platform`) it was rendered from.
 */
export function synthesizeOutput(
  environments: readonly EnvironmentConfig[] = ENVIRONMENTS,
  catalogue: readonly ComponentSpec[] = CATALOGUE,
  releaseStates: ReleaseStates = readReleaseStates(ROOT, environments),
): { readonly tree: OutputTree; readonly objects: ReadonlyMap<string, KubeObject[]> } {
  const app = buildCheckedApp(environments, catalogue, releaseStates);
  const charts = separatePlatformObjects(synthesizeCharts(app));
  // the validation gate, in process on the synthesized objects; throws GateFailedError (synth/gate.ts)
  const tree = gateOutput(renderTree(charts, new Map([...trafficDocuments(app), ...deployPlans(app, charts), ...runbookDocuments(app)])), charts);
  return { tree, objects: charts };
}

/**
 * Moves the objects a platform administrator applies (the Namespace and the guardrails that bound the
 * deployer) from each environment to `<environment>/platform`, a folder `kubectl apply -f` skips.
 */
export function separatePlatformObjects(charts: ReadonlyMap<string, KubeObject[]>): Map<string, KubeObject[]> {
  const result = new Map<string, KubeObject[]>();
  for (const [environment, objects] of charts) {
    result.set(environment, objects.filter((o) => !isPlatformObject(o)));
    const platform = objects.filter(isPlatformObject);
    if (platform.length > 0) result.set(`${environment}/platform`, platform);
  }
  return result;
}

/** `<environment>/deploy-plan.tsv` for each environment: what the deploy checks and prunes (scripts/deploy.sh). */
export function deployPlans(app: App, charts: ReadonlyMap<string, KubeObject[]>): Map<string, string> {
  const plans = new Map<string, string>();
  for (const chart of app.node.children.filter((c): c is KcpEnvironmentChart => c instanceof KcpEnvironmentChart)) {
    const env = chart.environment;
    plans.set(`${env.name}/deploy-plan.tsv`, renderDeployPlan({
      environment: env.name,
      namespace: env.namespace,
      objects: charts.get(chart.node.id) ?? [],
      traffic: chart.trafficGates,
      pruneLabel: { key: DEPLOY_SET_LABEL, value: env.name },
    }));
  }
  return plans;
}

/** `<environment>/allowed-traffic.md` for each environment's network: its traffic graph, for reviewers. */
export function trafficDocuments(app: App): Map<string, string> {
  const documents = new Map<string, string>();
  // (`instanceof` a Chart subclass is true for every Chart: cdk8s overrides Symbol.hasInstance.)
  for (const network of app.node.findAll().filter((c): c is ZeroTrustNetwork => c instanceof ZeroTrustNetwork)) {
    const environment = Chart.of(network).node.id;
    const file = `${environment}/allowed-traffic.md`;
    if (documents.has(file)) throw new Error(`${environment}: one ZeroTrustNetwork per environment, found a second at ${network.node.path}`);
    documents.set(file, '<!-- Generated by `npm run synth` from main.ts and environments/. Edit those, not this file. -->\n'
      + network.renderMarkdown(environment));
  }
  return documents;
}

/** Like {@link synthesize}, but returns the objects of each environment instead of files. */
export function synthesizeObjects(
  environments: readonly EnvironmentConfig[] = ENVIRONMENTS,
  catalogue: readonly ComponentSpec[] = CATALOGUE,
  releaseStates: ReleaseStates = readReleaseStates(ROOT, environments),
): Map<string, KubeObject[]> {
  return synthesizeCharts(buildCheckedApp(environments, catalogue, releaseStates));
}

/** Options of {@link writeManifests}. */
export interface WriteOptions {
  /** Environments to synthesize. @default ENVIRONMENTS */
  readonly environments?: readonly EnvironmentConfig[];
  /** Components to deploy. @default CATALOGUE */
  readonly catalogue?: readonly ComponentSpec[];
  /** Release states by environment. @default - read from environments/<env>.release.json, holding the lock */
  readonly releaseStates?: ReleaseStates;
  /** Folder to write. @default <root>/dist */
  readonly outdir?: string;
  /** A second folder receiving a copy (the `cdk8s synth` CLI's output). @default - none */
  readonly copyTo?: string;
  /** How long to wait for a release or synth writing `outdir` to finish. @default 10000 */
  readonly lockWaitMs?: number;
  /** Where progress and errors go. @default process.stdout / process.stderr */
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
}

/**
 * Synthesizes and writes the manifests. Returns the exit code: 0, or 1 when the configuration or a
 * construct is invalid, another release or synth is writing, or writing failed; then nothing is
 * written and `outdir` is left as it was. The release states are read and `outdir` is written
 * holding `outdir`'s lock, and `outdir` is replaced all or nothing (synth/transaction.ts).
 */
export function writeManifests(o: WriteOptions = {}): number {
  const started = process.hrtime.bigint();
  const out = o.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = o.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const outdir = path.resolve(o.outdir ?? path.join(ROOT, 'dist'));
  const shown = path.relative(ROOT, outdir) || outdir;
  // Errors with a cause the user can act on; anything else is a bug, shown with its stack.
  // (Write errors are recognized by name: synth/lock.ts and synth/transaction.ts define them.)
  // A file-system error on a path (dist/ is a file, a dangling link in it) is the state of the
  // user's tree, not a bug: its message names the path.
  const reasonOf = (e: unknown) => (e instanceof ConfigError || e instanceof UnsafeOutputError
    || (e instanceof Error && ['LockBusyError', 'WriteFailedError', 'RecoveryError'].includes(e.name))
    // (duck-typed: under jest, Node's own errors come from another realm)
    || (typeof e === 'object' && e !== null && typeof (e as NodeJS.ErrnoException).path === 'string' && typeof (e as Error).message === 'string')
    ? (e as Error).message : (e as Error).stack ?? String(e));
  let diff = undefined as ReturnType<typeof diffTree> | undefined;
  let tree: OutputTree;
  try {
    tree = writeTree(outdir, () => {
      const produced = synthesize(o.environments, o.catalogue, o.releaseStates);
      diff = diffTree(outdir, produced);
      return produced;
    }, { waitMs: o.lockWaitMs, note: (line) => err(`note: ${line}`) }).tree;
  } catch (e) {
    err(`synth failed, nothing written (${shown} left unchanged): ${reasonOf(e)}`);
    return 1;
  }
  if (o.copyTo !== undefined && path.resolve(o.copyTo) !== outdir) {
    try {
      writeTree(o.copyTo, withGateRecord(tree), { waitMs: o.lockWaitMs });
    } catch (e) {
      err(`synth wrote ${shown}/, but not its copy ${o.copyTo}: ${reasonOf(e)}`);
      return 1;
    }
  }

  for (const line of gateWarnings(tree)) err(line);
  const { changed, missing, extra } = diff!;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const summary = changed.length + missing.length + extra.length === 0 ? 'unchanged'
    : `${missing.length} added, ${changed.length} changed, ${extra.length} removed`;
  out(`${shown}/: ${tree.size} files, ${summary} (${ms.toFixed(0)} ms)`);
  return 0;
}

/** Entry point of `npm run synth` and `cdk8s synth`. Returns the process exit code. */
export function main(): number {
  // `cdk8s synth` empties its output folder before running us, so cdk8s.yaml points it at a scratch
  // folder rather than dist/; it gets a copy for its file listing and validation plugins.
  const cliOut = process.env.CDK8S_OUTDIR;
  return writeManifests({ copyTo: cliOut === undefined ? undefined : path.resolve(ROOT, cliOut) });
}

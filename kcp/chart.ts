/**
 * The KCP environment chart: everything one environment of the Soundcore KCP runs, in its own
 * namespace, built from the construct library and the environment's resolved configuration. It reads
 * no file and calls into nothing above it: the release of each component is resolved before it
 * (release/strategies.ts) and the namespace guardrails are added after it (synth/build.ts).
 */
import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  AlertRouting, AvailabilityAlerts, Conventions, CredentialsSecret, GrafanaDashboard, HttpServiceAlerts, Microservice, NetworkPeer,
  PrometheusRules, PropsError, ReleaseStrategy, RUNBOOK_PLACEHOLDER, SecretSource, SecretStoreRef, SecureNamespace, serviceOverviewDashboard,
  ROLLOUT_REVISION_POD_LABEL, SloBurnRateAlerts, SloDefinition, SMOKE_TEST_APP, SmokeTest, TrafficPeer, UrlProbe, WorkloadMonitor, ZeroTrustNetwork,
} from '../constructs';
import {
  BLACKBOX_PROBER, ComponentSpec, ENVIRONMENT_PLACEHOLDER, IMAGE_REGISTRY, kcpSlos, ResolvedEnvironment, SecretMode, SLO_TEAMS, Tier,
} from '../environments';
import { ALERTING_REMOTE_REFS, alertingFor } from '../environments/alerting';
import { addSloAnalysisTemplate } from './argo';
import { dbCredentials } from './credentials';
import { DEPLOY_SET_LABEL, KCP_CONVENTIONS, PROJECT } from './project';
import { publicEdge, publicHosts } from './edge';
import { declareTraffic } from './traffic';

/** Properties of a {@link KcpEnvironmentChart}. */
export interface KcpEnvironmentChartProps {
  /** The environment, resolved and validated. */
  readonly environment: ResolvedEnvironment;
  /** The components to deploy. */
  readonly catalogue: readonly ComponentSpec[];
  /** How each component of the catalogue is released, resolved from its settings and release state. */
  readonly releases: ResolvedReleases;
}

/**
 * How a component is released, as the chart receives it: resolved before the chart from the
 * component's settings and its recorded release state, so that the chart only builds what it is given.
 */
export interface ResolvedRelease {
  /** The strategy its workload is built with. */
  readonly strategy: ReleaseStrategy;
  /**
   * The smoke test of the version in its phase: run against the preview Service while it is
   * `staged`, required to have passed before traffic moves once it is `promoted`.
   * @default - none
   */
  readonly smokeTest?: ReleaseSmokeTest;
}

/** The smoke test of a blue/green release (`<component>-smoke-<tag>-<attempt>`). */
export interface ReleaseSmokeTest {
  /** `staged`: the Job runs now; `promoted`: it must have passed before traffic moves. */
  readonly phase: 'staged' | 'promoted';
  /** The staging attempt under test. @default - none (a state file without attempts) */
  readonly attempt?: number;
}

/** The resolved release of every component, by component name. */
export interface ResolvedReleases {
  readonly [component: string]: ResolvedRelease;
}

/** Everything one KCP environment runs, in its own namespace. */
export class KcpEnvironmentChart extends Chart {
  /** The workloads, by component name. */
  public readonly workloads: ReadonlyMap<string, Microservice>;
  /** The namespace's traffic graph and the NetworkPolicies enforcing it. */
  public readonly network: ZeroTrustNetwork;
  /** How each component is released (the chart's input). */
  public readonly releases: ResolvedReleases;
  /** The environment it was built from. */
  public readonly environment: ResolvedEnvironment;
  /** Names of the Secrets the pipeline creates (not ExternalSecrets): the deployer may read them. */
  public readonly pipelineSecrets: readonly string[];
  /** Number of distinct hosts the Ingress serves. */
  public readonly ingressHosts: number;
  /** The SLOs the burn-rate alerts are built from (and the post-deploy verification, synth/verify-plan.ts). */
  public readonly slos: readonly SloDefinition[];

  constructor(scope: Construct, id: string, props: KcpEnvironmentChartProps) {
    const env = props.environment;
    super(scope, id, { namespace: env.namespace, labels: { environment: env.name, [DEPLOY_SET_LABEL]: env.name } });
    Conventions.set(this, KCP_CONVENTIONS);
    const unresolved = props.catalogue.map((c) => c.name).filter((c) => props.releases[c] === undefined);
    if (unresolved.length > 0) {
      throw new PropsError(`KcpEnvironmentChart ${env.name}`, 'releases', unresolved, 'must hold the resolved release of every catalogue component (release/strategies.ts), missing');
    }
    this.environment = env;
    this.releases = props.releases;

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
      const release = props.releases[spec.name];
      let workload: Microservice;
      try {
        workload = new Microservice(this, spec.name, {
        name: spec.name,
        image: `${IMAGE_REGISTRY}/${spec.name}`,
        release: release.strategy,
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
      if (release.smokeTest?.phase === 'staged') {
        new SmokeTest(workload, 'SmokeTest', {
          target: workload, paths: spec.smokePaths, labels: { environment: env.name }, attempt: release.smokeTest.attempt,
        });
        smokeTargets.push(workload);
      }
      // An Argo engine runs the smoke test as an analysis Job whenever it rolls out.
      if (workload.rollout !== undefined) smokeTargets.push(workload);
    }
    if (failures.length > 0) throw new ComponentsFailedError(failures);
    this.workloads = workloads;
    // The SLO AnalysisTemplate of the Argo Rollouts engines (README "Argo Rollouts").
    const argo = addSloAnalysisTemplate(this, env, workloads.values()) !== undefined;

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
      // Argo's revision label on every series of its pods, so an analysis reads the new revision only.
      ...(argo ? { podTargetLabels: [KCP_CONVENTIONS.colourLabel, ROLLOUT_REVISION_POD_LABEL] } : {}),
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

    // The public routes, on the router the environment's `routing` names (kcp/edge.ts).
    const edge = publicEdge(this, {
      environment: env, catalogue: props.catalogue, workloads, ingressName: PROJECT, labels: { 'app.kubernetes.io/part-of': PROJECT },
    });
    const hosts = publicHosts(env);
    declareTraffic(this, network, env, props.catalogue, workloads, edge);
    // What users see: SLO burn rates (API Services, the edge, the frontend through the edge), the
    // availability of the Deployment each Service selects, and synthetic checks of the components
    // without metrics; see README "Monitoring and alerts".
    const runbook = (slug: string) => monitoring.runbookUrlPattern.replace(RUNBOOK_PLACEHOLDER, slug);
    const userImpact = new PrometheusRules(this, 'UserImpactAlerts', {
      name: `${PROJECT}-user-impact-alerts`, labels: { ...monitoring.prometheusSelector, 'app.kubernetes.io/part-of': PROJECT },
    });
    const hostsOf = (scraped: boolean) => [...new Set(props.catalogue.filter((c) => (c.exposesMetrics === true) === scraped).map((c) => hosts[c.routes.host]))];
    this.slos = kcpSlos({ namespace: env.namespace, ingress: edge.ingressName, apiHosts: hostsOf(true), frontendHosts: hostsOf(false), runbook });
    new SloBurnRateAlerts(this, 'Slo', { rules: userImpact, evaluationInterval: monitoring.evaluationInterval, slos: this.slos });
    new AvailabilityAlerts(this, 'Availability', {
      rules: userImpact, namespace: env.namespace, team: SLO_TEAMS.availability, evaluationInterval: monitoring.evaluationInterval,
      // (a Rollout's Deployment is its template at 0 replicas: kube-state-metrics has no Rollout metric to read)
      targets: [...workloads.values()].map((w) => ({ service: w.name, deployment: w.rollout === undefined ? w.activeDeployment.name : undefined, minAvailable: w.replicas })),
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
      const smoke = new TrafficPeer(this, 'SmokeTestTraffic', { network, name: SMOKE_TEST_APP, peer: NetworkPeer.pods(KCP_CONVENTIONS.selectorLabels(SMOKE_TEST_APP)) });
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
    // The namespace guardrails (least-privilege deploy access and a quota for the worst moment of a
    // release) derive from all of the above; the build adds them once the chart is complete
    // (synth/build.ts, release/guardrails.ts; README "Namespace guardrails").
    this.ingressHosts = edge.servesAcmeSolver ? new Set(Object.values(hosts)).size : 0;
    this.pipelineSecrets = [credentials, ...receiverSecrets].filter((c) => c !== undefined && c.externalSecret === undefined).map((c) => c!.name);
  }
}

/** A component whose construct refused its props. */
export interface ComponentFailure {
  readonly component: string;
  readonly error: unknown;
}

/** Thrown by {@link KcpEnvironmentChart} when components could not be built; lists every one. */
export class ComponentsFailedError extends Error {
  constructor(public readonly failures: readonly ComponentFailure[]) {
    super(failures.map((f) => `${f.component}: ${String(f.error)}`).join('; '));
    this.name = 'ComponentsFailedError';
  }
}


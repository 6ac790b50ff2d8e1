/**
 * The project's objects next to the standard rules: clusters running kube-prometheus also evaluate
 * the kubernetes-mixin alerts (../shared/reference/kube-prometheus/*.yaml, upstream and unchanged,
 * read at test time and never copied into the project). Through a release cycle, the objects the
 * project synthesizes must not make any of them fire.
 *
 * Each scenario synthesizes the environment in-process at every step, `kubectl apply`s it to a model
 * of the controllers (`cluster-model.ts`) and turns what they make of it, minute by minute, into the
 * series kube-state-metrics exports (`kube-state-metrics.ts`). One `promtool test rules` run
 * evaluates every upstream rule on every scenario:
 * - the release cycles must stay silent: no alert fires at any minute, and none is even pending at
 *   the end of a step (see {@link HOLD});
 * - the negative controls (the same objects, really broken) must fire exactly the alerts meant for
 *   them, and not before their `for`, so that the silence means something.
 * Time runs in whole minutes: one scrape and one rule evaluation a minute (kube-prometheus scrapes
 * kube-state-metrics and evaluates every 30 s; no modelled state lasts less than a minute, and every
 * upstream `for` and window is a whole number of minutes).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { CATALOGUE, EnvironmentConfig } from '../environments';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { DEPLOY_SET_LABEL } from '../kcp';
import { synthesizeObjects } from '../synth/pipeline';
import { ROOT } from '../synth/root';
import { Action, ReleaseState, transition } from '../release/state';
import { Cluster, JobRun, seriesName } from './cluster-model';
import { kubeStateMetrics, KSM_TARGET_LABELS, scrape } from './kube-state-metrics';
import { committedReleaseStates, Obj, ofKind } from './helpers';
import { AlertRuleTest, InputSeries, promtool } from './promtool';

jest.setTimeout(60_000);

/** The upstream rule files, as ../shared/reference/SOURCES.md lists them. */
const REFERENCE = referenceFolder(path.join('reference', 'kube-prometheus'));

/**
 * The team's shared reference data (`shared/` beside the project: `../shared/<sub>` from a checkout
 * in the workspace; a clone elsewhere looks in each folder above it, then `$KCP_SHARED_DIR`, then
 * /work/shared). Never copied into the project; missing, the suite fails saying where it looked.
 */
function referenceFolder(sub: string): string {
  const candidates: string[] = [];
  if (process.env.KCP_SHARED_DIR) candidates.push(path.join(process.env.KCP_SHARED_DIR, sub));
  for (let dir = path.dirname(ROOT); ; dir = path.dirname(dir)) {
    candidates.push(path.join(dir, 'shared', sub));
    if (path.dirname(dir) === dir) break;
  }
  candidates.push(path.join('/work', 'shared', sub));
  const found = candidates.find((c) => fs.existsSync(c));
  if (found === undefined) throw new Error(`the upstream rule files are not in ${candidates.join(', ')}: set KCP_SHARED_DIR to the shared/ folder`);
  return found;
}
const RULE_FILES = ['kubePrometheus-prometheusRule.yaml', 'kubeStateMetrics-prometheusRule.yaml', 'kubernetesControlPlane-prometheusRule.yaml'];

interface UpstreamRule {
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: { readonly [k: string]: string };
  readonly annotations?: { readonly [k: string]: string };
}
/** Each upstream PrometheusRule's `spec`: what a promtool rule file holds. */
const UPSTREAM = RULE_FILES.map((f) => YAML.parse(fs.readFileSync(path.join(REFERENCE, f), 'utf8')).spec as { groups: Array<{ name: string; rules: UpstreamRule[] }> });
const UPSTREAM_RULES = UPSTREAM.flatMap((spec) => spec.groups.flatMap((g) => g.rules));
/** Every upstream alert name (some names have several rules). */
const ALERTS = [...new Set(UPSTREAM_RULES.flatMap((r) => (r.alert === undefined ? [] : [r.alert])))];

const COMMITTED = committedReleaseStates().production as ReleaseState;
const RELEASED = 'knowledge-service';
/** The labels kube-prometheus' scrape of kube-state-metrics adds. */
const KSM = KSM_TARGET_LABELS;

/**
 * How long each step of a release is held before the next. The model reaches its steady state
 * within 5 minutes of a step, so 25 minutes exceed every transient plus the 15 m `for` of the alerts
 * it could start (and the 10 m and 15 m `changes()` windows some of them require). Longer holds
 * would prove nothing more: at the end of each step no alert may even be *pending*, and an alert
 * whose condition still holds then would be pending, and would fire however long the step is
 * really held (a staged version can wait a weekend): KubeContainerWaiting's 1 h included.
 */
const HOLD = 25;
/** A smoke test that fails takes its whole deadline (`SmokeTest` `deadlineSeconds`, 900 s). */
const SMOKE_FAILS: JobRun = { minutes: 15, outcome: 'Failed', reason: 'DeadlineExceeded', failedPods: 1 };
const SMOKE_PASSES: JobRun = { minutes: 2, outcome: 'Complete' };
/**
 * The pipeline deletes a failed smoke Job after printing its log, within minutes of the failure
 * (`.gitlab-ci.yml`, job `smoke-test:production`: `scripts/deploy.sh smoke` waits for the Job to
 * complete or fail, and deletes it when it failed). Modelled as: the failed Job exists for 10
 * minutes, then is deleted.
 */
const FAILED_JOB_DELETED_AFTER = 10;

/**
 * The healthy rest of the cluster, which the project does not create: the control plane's scrape
 * targets are up (KubeAPIDown, KubeSchedulerDown and KubeControllerManagerDown alert on
 * `absent(up{job=...})`, so they would fire on any timeline without them).
 */
function clusterBaseline(minutes: number): InputSeries[] {
  return ['apiserver', 'kube-scheduler', 'kube-controller-manager'].map((job) => ({
    series: `up{instance="10.0.0.1:6443", job="${job}"}`, values: `1x${minutes - 1}`,
  }));
}

function productionObjects(state: ReleaseState): Obj[] {
  return synthesizeObjects([production], CATALOGUE, { ...committedReleaseStates(), production: state }).get('production') as Obj[];
}

function stagingObjects(env: EnvironmentConfig): Obj[] {
  return synthesizeObjects([env], CATALOGUE, committedReleaseStates()).get('staging') as Obj[];
}

/** The smoke-test Jobs among `objects`. */
function smokeJobs(objects: readonly Obj[]): string[] {
  return ofKind(objects, 'Job').map((j) => j.metadata.name);
}

/** The pipeline's deploy of `objects` (`scripts/deploy.sh apply`: apply, then prune the deploy set). */
function deploy(cluster: Cluster, environment: string, objects: readonly Obj[]): void {
  cluster.deploy(objects, { key: DEPLOY_SET_LABEL, value: environment });
}

/** Advances every cluster of a scenario together. */
function advance(clusters: readonly Cluster[], minutes: number): void {
  for (const c of clusters) c.advance(minutes);
}

/** A promtool test group: a timeline and what must (not) fire on it. */
interface Scenario {
  readonly name: string;
  readonly minutes: number;
  readonly inputSeries: InputSeries[];
  /** The last minute of each step: no alert pending or firing then, every alert checked with `exp_alerts: []`. */
  readonly quietAt?: readonly number[];
  /** Firing alerts counted by name and object, at a minute (negative controls); {} for none. */
  readonly firingAt?: readonly { readonly minute: number; readonly counts: { readonly [alertAndObject: string]: number } }[];
  /** Exact alerts, labels and annotations, at a minute. */
  readonly alerts?: readonly AlertRuleTest[];
}

/** Minutes at which each step began, and its end. */
type Steps = { [step: string]: number };

/**
 * The blue/green release cycle of knowledge-service in production (stable, stage with its smoke Job
 * running, the smoke Job failed, abort, stage again with a passing smoke test, promote, finalize)
 * and, at the same time, a rolling release in staging.
 */
function releaseCycle(): { inputSeries: InputSeries[]; steps: Steps } {
  const hold = HOLD;
  const prod = new Cluster(production.namespace, {
    // the first staging's smoke test fails, the second passes
    jobRun: (name) => (/-smoke-v1-1-0-1-/.test(name) ? SMOKE_FAILS : SMOKE_PASSES),
  });
  const stage = new Cluster(staging.namespace, { jobRun: () => SMOKE_PASSES });
  const clusters = [prod, stage];
  const steps: Steps = {};
  let state = COMMITTED;
  const step = (name: string, action?: Action, tag?: string): Obj[] => {
    steps[name] = prod.minute;
    if (action !== undefined) state = { ...state, [RELEASED]: transition(`production/${RELEASED}`, state[RELEASED], action, tag) };
    const objects = productionObjects(state);
    deploy(prod, 'production', objects);
    return objects;
  };

  step('stable');
  deploy(stage, 'staging', stagingObjects(stagingAutoscaled));
  advance(clusters, hold);
  // stage: green at full size on v1.1.0 behind the preview Service, and its smoke Job, which runs to its deadline...
  const [failedJob] = smokeJobs(step('stage (smoke Job running)', Action.STAGE, 'v1.1.0'));
  advance(clusters, SMOKE_FAILS.minutes);
  // ... and fails: the pipeline prints its log and deletes it
  steps['smoke Job failed'] = prod.minute;
  advance(clusters, FAILED_JOB_DELETED_AFTER);
  prod.delete('Job', failedJob);
  advance(clusters, hold - FAILED_JOB_DELETED_AFTER);
  // meanwhile staging rolls every Deployment to the next commit's images
  deploy(stage, 'staging', stagingObjects({ ...stagingAutoscaled, defaults: { ...stagingAutoscaled.defaults, imageTag: NEXT_COMMIT } }));
  // abort: green back to v1.0.0 on standby
  step('abort', Action.ROLLBACK);
  advance(clusters, hold);
  // stage again: attempt 2, a Job of another name, which passes (and is pruned by the promote's deploy)
  step('stage again, smoke test passes', Action.STAGE, 'v1.1.0');
  advance(clusters, hold);
  step('promote', Action.PROMOTE);
  advance(clusters, hold);
  step('finalize', Action.FINALIZE);
  advance(clusters, hold);
  steps.end = prod.minute;
  return { inputSeries: [...prod.inputSeries(), ...stage.inputSeries()], steps };
}

/** The release cycle: silent at every minute, nothing pending at the end of a step. */
function quietReleaseCycle(): Scenario {
  const { inputSeries, steps } = releaseCycle();
  return {
    name: 'release-cycle', minutes: steps.end, inputSeries,
    // the end of each step (the running smoke Job's 15 minutes end with its failure, which is a step)
    quietAt: Object.entries(steps).filter(([name, m]) => m > 0 && name !== 'smoke Job failed').map(([, m]) => m - 1),
  };
}

/**
 * Negative control: the failed smoke Job of the release cycle, when `smoke-test:production` does not
 * delete it (it never runs when `deploy:production` failed first, at its `rollout status`). Nothing
 * else deletes it until the next deploy, the abort's, prunes it with the rest of what left dist/
 * (its TTL is 72 h).
 */
function failedSmokeJobKept(): Scenario {
  const cluster = new Cluster(production.namespace, { jobRun: () => SMOKE_FAILS });
  const staged = { ...COMMITTED, [RELEASED]: transition(`production/${RELEASED}`, COMMITTED[RELEASED], Action.STAGE, 'v1.1.0') };
  const stagedObjects = productionObjects(staged);
  const [job] = smokeJobs(stagedObjects);
  deploy(cluster, 'production', productionObjects(COMMITTED));
  // (staged at an odd minute, so that the Job fails on the controls' 2-minute evaluation grid)
  cluster.advance(1);
  deploy(cluster, 'production', stagedObjects);
  cluster.advance(SMOKE_FAILS.minutes);
  const failed = cluster.minute;
  cluster.advance(20);
  const abort = cluster.minute;
  deploy(cluster, 'production', productionObjects({ ...staged, [RELEASED]: transition(`production/${RELEASED}`, staged[RELEASED], Action.ROLLBACK) }));
  cluster.advance(6);
  const rule = UPSTREAM_RULES.find((r) => r.alert === 'KubeJobFailed')!;
  const labels = { ...KSM, alertname: 'KubeJobFailed', condition: 'true', namespace: production.namespace, job_name: job, ...rule.labels };
  return {
    name: 'failed-smoke-job-kept', minutes: cluster.minute, inputSeries: cluster.inputSeries(),
    firingAt: [
      { minute: failed + 14, counts: {} },
      // 15 minutes after the failure (at the next evaluation: the controls are evaluated every 2 minutes)...
      { minute: failed + 16, counts: { [`KubeJobFailed ${job}`]: 1 } },
      { minute: abort - 1, counts: { [`KubeJobFailed ${job}`]: 1 } },
      // ... until the abort's deploy prunes the Job
      { minute: abort + 3, counts: {} },
    ],
    alerts: [{ eval_time: `${failed + 16}m`, alertname: 'KubeJobFailed', exp_alerts: [{ exp_labels: labels, exp_annotations: render(rule.annotations!, labels) }] }],
  };
}

const NEXT_COMMIT = '9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e';
/** Staging with knowledge-service autoscaled like production: a rolling Deployment with an HPA too. */
const stagingAutoscaled: EnvironmentConfig = {
  ...staging,
  components: { ...staging.components, 'knowledge-service': { autoscaling: { maxReplicas: 4, targetCpuUtilization: 70 } } },
};

/** Minutes of the negative controls: stable, then broken at {@link BROKEN_AT}. */
const BROKEN_AT = 3;
const BROKEN_FOR = 70;

/**
 * Negative controls, at once on different components of production, each broken the way its
 * alerts are meant to catch, from minute {@link BROKEN_AT}:
 * - knowledge-service: its active colour under sustained load, at its HPA's maximum;
 * - frontend: under load, but a quota admits 4 pods where its HPA wants 6;
 * - content-service: staged v1.1.0 never becomes ready;
 * - support-service: staged v1.1.0 crash-loops;
 * - analytics-service: staged v1.1.0 cannot pull its image;
 * - auth-service: staged v1.1.0, but the deployment controller does not act on it.
 * The staged components' smoke Jobs fail (no staged pod answers) and are kept: `deploy:production`
 * stops the pipeline at its `rollout status` before `smoke-test:production` could delete them, and
 * no abort is deployed here (its deploy would prune them).
 */
function brokenObjects(): Scenario {
  const stagedBroken = ['content-service', 'support-service', 'analytics-service', 'auth-service'];
  const fault = (component: string, deployment: string, image: string) => deployment === `${component}-green` && image.endsWith(':v1.1.0');
  const loaded = new Set(['knowledge-service-blue', 'frontend-blue']);
  const cluster = new Cluster(production.namespace, {
    jobRun: () => SMOKE_FAILS,
    pods: (d, image) => {
      if (fault('content-service', d, image)) return { neverReady: true };
      if (fault('support-service', d, image)) return { waitingReason: 'CrashLoopBackOff' };
      if (fault('analytics-service', d, image)) return { waitingReason: 'ImagePullBackOff' };
      return undefined;
    },
    cpuUtilization: (hpa, minute) => (loaded.has(hpa) && minute >= BROKEN_AT ? 150 : 5),
    podLimit: (d) => (d === 'frontend-blue' ? 4 : undefined),
    controllerStalled: (d, minute) => d === 'auth-service-green' && minute >= BROKEN_AT,
  });
  deploy(cluster, 'production', productionObjects(COMMITTED));
  cluster.advance(BROKEN_AT);
  let state = COMMITTED;
  for (const c of stagedBroken) state = { ...state, [c]: transition(`production/${c}`, state[c], Action.STAGE, 'v1.1.0') };
  const staged = productionObjects(state);
  deploy(cluster, 'production', staged);
  cluster.advance(BROKEN_FOR);
  const failedJobs = smokeJobs(staged);
  const job = failedJobs.find((j) => j.startsWith('content-service-'))!;
  const jobFailedRule = UPSTREAM_RULES.find((r) => r.alert === 'KubeJobFailed')!;
  const jobFailedLabels = { ...KSM, alertname: 'KubeJobFailed', condition: 'true', namespace: production.namespace, job_name: job, ...jobFailedRule.labels };
  // Every alert with its object: the pods' alerts by Deployment (the pod name without its two generated parts).
  const t = BROKEN_AT;
  const all = {
    // knowledge-service-blue at 10 (max) from minute t+2 (5 -> 9 -> 10): `for: 15m`
    'KubeHpaMaxedOut knowledge-service-blue': 1,
    // frontend-blue: HPA wants 6, 4 pods exist, nothing changes
    'KubeHpaReplicasMismatch frontend-blue': 1,
    'KubeDeploymentReplicasMismatch frontend-blue': 1,
    'KubeDeploymentRolloutStuck frontend-blue': 1,
    'KubePdbNotEnoughHealthyPods frontend-blue': 1,
    // content-service-green: 3 staged pods never ready; its preview Service has only those as targets, all down
    'KubePodNotReady content-service-green': 3,
    'KubeDeploymentReplicasMismatch content-service-green': 1,
    'KubeDeploymentRolloutStuck content-service-green': 1,
    'KubePdbNotEnoughHealthyPods content-service-green': 1,
    'TargetDown content-service-preview': 1,
    // support-service-green: 3 staged pods crash-looping (Running, unready, not answering)
    'KubePodCrashLooping support-service-green': 3,
    'KubePodNotReady support-service-green': 3,
    'KubeDeploymentReplicasMismatch support-service-green': 1,
    'KubeDeploymentRolloutStuck support-service-green': 1,
    'KubePdbNotEnoughHealthyPods support-service-green': 1,
    'TargetDown support-service-preview': 1,
    // analytics-service-green: 3 staged pods Pending on their image (no scrape targets)
    'KubePodNotReady analytics-service-green': 3,
    'KubeDeploymentReplicasMismatch analytics-service-green': 1,
    'KubeDeploymentRolloutStuck analytics-service-green': 1,
    'KubePdbNotEnoughHealthyPods analytics-service-green': 1,
    // auth-service-green: generation 2 never observed, still 1 pod where 3 are wanted
    'KubeDeploymentGenerationMismatch auth-service-green': 1,
    'KubeDeploymentReplicasMismatch auth-service-green': 1,
    'KubePdbNotEnoughHealthyPods auth-service-green': 1,
    // the four failed smoke Jobs, kept
    ...Object.fromEntries(failedJobs.map((j) => [`KubeJobFailed ${j}`, 1])),
  };
  const without = (prefix: string) => Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith(prefix)));
  return {
    name: 'broken-objects', minutes: cluster.minute, inputSeries: cluster.inputSeries(),
    firingAt: [
      // nothing before the shortest `for` (TargetDown's 10 m) of conditions that start at t
      { minute: t + 9, counts: {} },
      // the rest one hour later, but KubeContainerWaiting (1 h)
      { minute: t + 60, counts: without('KubeContainerWaiting') },
      // ImagePullBackOff since minute t+1, for 1 h
      { minute: t + 62, counts: { ...all, 'KubeContainerWaiting analytics-service-green': 3 } },
    ],
    alerts: [{
      // a failed Job that is kept fires 15 minutes after it failed (at the next evaluation), with exactly these labels
      eval_time: `${t + SMOKE_FAILS.minutes + 16}m`,
      alertname: 'KubeJobFailed',
      exp_alerts: failedJobs.sort().map((j) => ({ exp_labels: { ...jobFailedLabels, job_name: j }, exp_annotations: render(jobFailedRule.annotations!, { ...jobFailedLabels, job_name: j }) })),
    }, {
      eval_time: `${t + SMOKE_FAILS.minutes + 14}m`, alertname: 'KubeJobFailed', exp_alerts: [],
    }],
  };
}

/** Prometheus' rendering of `{{ $labels.x }}` (a missing label renders empty). */
function render(templates: { readonly [k: string]: string }, labels: { readonly [k: string]: string }): { [k: string]: string } {
  return Object.fromEntries(Object.entries(templates).map(([k, v]) => [k, v.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_all, name: string) => labels[name] ?? '')]));
}

/** `<alertname> <object>` of each firing alert: the alert's Deployment, HPA, PDB, Job or Service. */
const ALERT_OBJECT = 'label_replace(label_join(ALERTS{alertstate="firing", alertname!="Watchdog"}, "object", "", '
  + '"deployment", "horizontalpodautoscaler", "poddisruptionbudget", "job_name", "service"), '
  + '"object", "$1", "pod", "(.+)-[a-z0-9]{10}-[a-z0-9]{5}")';

/** The promtool test group of a scenario. */
function testGroup(s: Scenario): object {
  const last = s.minutes - 1;
  const watchdog = UPSTREAM_RULES.find((r) => r.alert === 'Watchdog')!;
  return {
    name: s.name,
    interval: '1m',
    input_series: [...clusterBaseline(s.minutes), ...s.inputSeries],
    alert_rule_test: [
      // the rules are loaded and evaluated: Watchdog always fires
      { eval_time: `${last}m`, alertname: 'Watchdog', exp_alerts: [{ exp_labels: watchdog.labels, exp_annotations: watchdog.annotations }] },
      ...(s.quietAt ?? []).flatMap((minute) => ALERTS.filter((a) => a !== 'Watchdog').map((alertname) => ({ eval_time: `${minute}m`, alertname, exp_alerts: [] }))),
      ...(s.alerts ?? []),
    ],
    promql_expr_test: [
      ...(s.quietAt === undefined ? [] : [
        // not one alert fired at any minute
        { expr: `# ${s.name}\nmax_over_time(ALERTS{alertstate="firing", alertname!="Watchdog"}[${s.minutes}m])`, eval_time: `${last}m`, exp_samples: [] },
        // and none is pending at the end of a step
        ...s.quietAt.map((minute) => ({ expr: `# ${s.name}\nALERTS{alertname!="Watchdog"}`, eval_time: `${minute}m`, exp_samples: [] })),
      ]),
      ...(s.firingAt ?? []).map((f) => ({
        expr: `# ${s.name}\ncount by (alertname, object) (${ALERT_OBJECT})`,
        eval_time: `${f.minute}m`,
        exp_samples: Object.entries(f.counts).map(([key, n]) => {
          const [alertname, object] = key.split(' ');
          return { labels: `{alertname="${alertname}", object="${object}"}`, value: n };
        }),
      })),
    ],
  };
}

let output = '';
let status: number | null = null;
const timing: { [what: string]: number } = {};

beforeAll(() => {
  let started = Date.now();
  const scenarios = [quietReleaseCycle(), failedSmokeJobKept(), brokenObjects()];
  timing.model = Date.now() - started;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-coexist-'));
  try {
    // each upstream PrometheusRule's spec, as read just now, goes to a scratch folder for promtool
    RULE_FILES.forEach((f, i) => fs.writeFileSync(path.join(dir, f), YAML.stringify(UPSTREAM[i], { lineWidth: 0 })));
    // the release cycle evaluated every minute; the negative controls, which only need to fire, every 2 minutes (half the cost)
    const files = {
      'release.yaml': { rule_files: RULE_FILES, evaluation_interval: '1m', tests: scenarios.filter((x) => x.quietAt !== undefined).map(testGroup) },
      'controls.yaml': { rule_files: RULE_FILES, evaluation_interval: '2m', tests: scenarios.filter((x) => x.quietAt === undefined).map(testGroup) },
    };
    for (const [name, file] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), YAML.stringify(file, { lineWidth: 0 }));
    if (process.env.KCP_KEEP_COEXIST !== undefined) fs.cpSync(dir, process.env.KCP_KEEP_COEXIST, { recursive: true });
    started = Date.now();
    const result = promtool(['test', 'rules', ...Object.keys(files)], dir);
    timing.promtool = Date.now() - started;
    output = result.output;
    status = result.status;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * promtool's failures by test group: an alert test's failure names its group (`name: <group>,`); a
 * PromQL test's shows its expression, which starts with the comment `# <group>` for that reason.
 */
function failures(): Map<string, string[]> {
  const byGroup = new Map<string, string[]>();
  for (const entry of output.split(/\n(?= {4}(?:name|expr): )/).slice(1)) {
    const group = /^ {4}name: ([\w-]+),/.exec(entry)?.[1] ?? /^ {4}expr: "# ([\w-]+)\\n/.exec(entry)?.[1] ?? '(unattributed)';
    byGroup.set(group, [...byGroup.get(group) ?? [], entry]);
  }
  return byGroup;
}

test('the upstream rule files are read from ../shared/reference and promtool evaluates all their rules on every scenario', () => {
  // GIVEN the three files SOURCES.md lists, WHEN promtool ran, THEN nothing failed it outside a scenario
  // 12 + 4 + 134 rules (`promtool check rules --lint=none` on each), 71 of them alerts
  expect(UPSTREAM_RULES).toHaveLength(150);
  expect(UPSTREAM_RULES.filter((r) => r.alert !== undefined)).toHaveLength(71);
  expect(output).not.toContain('WARNING');
  expect(failures().get('(unattributed)')).toBeUndefined();
  // (each scenario also requires Watchdog, which always fires, at its last minute)
  expect({ status, output: status === 0 ? 'passed' : output }).toEqual({ status: 0, output: 'passed' });
  expect(output.match(/SUCCESS/g)).toHaveLength(2);
});

test('a blue/green release cycle with a failed smoke test, and a rolling release in staging, fire no upstream alert', () => {
  // GIVEN stable -> stage (smoke Job running) -> smoke Job failed (deleted by the pipeline 10 min later) -> abort
  //   -> stage again (smoke test passes) -> promote -> finalize, each step held 25 min; staging rolls meanwhile
  // WHEN the upstream rules run on what the controllers make of it
  // THEN no alert fires at any minute, none is pending at the end of a step, Watchdog fires
  expect(failures().get('release-cycle') ?? []).toEqual([]);
});

test('a failed smoke Job that the smoke-test job does not delete fires KubeJobFailed 15 minutes after its failure, until the abort\'s deploy prunes it', () => {
  expect(failures().get('failed-smoke-job-kept') ?? []).toEqual([]);
});

test('objects that really are broken fire the upstream alerts meant for them, and not before their `for`', () => {
  // GIVEN an active colour at its HPA's maximum, an HPA held below its desired count by a quota, staged
  //   versions that never become ready, crash-loop, cannot pull their image, a stalled controller, kept failed Jobs
  // THEN exactly the alerts listed in brokenObjects() fire, per object
  expect(failures().get('broken-objects') ?? []).toEqual([]);
});

describe('the kube-state-metrics stand-in', () => {
  const NONE = { deployments: [], replicaSets: [], pods: [], hpas: [], pdbs: [] };

  test('exports a failed Job as kube-state-metrics does: kube_job_failed per condition status, the reason, an owner series without owner', () => {
    // GIVEN a smoke Job that failed at its deadline (no owner: applied with kubectl)
    const job = {
      namespace: 'ns', name: 'smoke', owners: [], parallelism: 1, completions: 1, activeDeadlineSeconds: 900,
      status: { active: 0, succeeded: 0, failed: 1, startTime: 60, conditions: [{ type: 'Failed' as const, status: 'True' as const, reason: 'DeadlineExceeded' }] },
    };
    // WHEN it is exported and scraped by kube-prometheus
    const samples = scrape(kubeStateMetrics({ ...NONE, jobs: [job] }), KSM_TARGET_LABELS);
    // THEN (job.go: addConditionMetrics, jobFailureReasons; Prometheus drops the empty owner labels)
    const of = (metric: string) => samples.filter((x) => x.metric === metric).map((x) => `${seriesName(x.metric, x.labels)} ${x.value}`);
    const l = { container: 'kube-rbac-proxy-main', instance: '10.0.0.10:8443', job: 'kube-state-metrics', job_name: 'smoke', namespace: 'ns' };
    expect(of('kube_job_failed')).toEqual([['true', 1], ['false', 0], ['unknown', 0]]
      .map(([condition, v]) => `${seriesName('kube_job_failed', { ...l, condition: String(condition) })} ${v}`));
    expect(of('kube_job_status_failed')).toEqual([['BackoffLimitExceeded', 0], ['DeadlineExceeded', 1], ['Evicted', 0]]
      .map(([reason, v]) => `${seriesName('kube_job_status_failed', { ...l, reason: String(reason) })} ${v}`));
    expect(of('kube_job_owner')).toEqual([`${seriesName('kube_job_owner', l)} 1`]);
    expect(of('kube_job_status_completion_time')).toEqual([]);
    expect(of('kube_job_complete')).toEqual([]);
  });
});

describe('the controller model', () => {
  test('settles production as the controllers do: rolled out, HPAs without load at their minimum, the idle colour\'s HPA at a maximum equal to its minimum', () => {
    // GIVEN production as committed (blue active, green on standby), applied 10 minutes ago, without traffic
    const cluster = new Cluster(production.namespace, { jobRun: () => SMOKE_PASSES });
    cluster.apply(productionObjects(COMMITTED));
    cluster.advance(10);
    // WHEN kube-state-metrics looks
    const o = cluster.objects();
    const deployment = (name: string) => o.deployments.find((d) => d.name === name)!;
    const hpa = (name: string) => o.hpas.find((h) => h.name === name)!;
    const pdb = (name: string) => o.pdbs.find((p) => p.name === name)!;
    // THEN a rolled-out Deployment has every replica updated and available
    expect(deployment('knowledge-service-blue')).toMatchObject({ specReplicas: 5, status: { replicas: 5, updatedReplicas: 5, availableReplicas: 5, unavailableReplicas: 0 } });
    expect(deployment('knowledge-service-green')).toMatchObject({ specReplicas: 1, status: { replicas: 1, availableReplicas: 1 } });
    // the active colour's HPA, without load, sits at its minimum (so KubeHpaMaxedOut cannot fire)...
    expect(hpa('knowledge-service-blue')).toMatchObject({ minReplicas: 5, maxReplicas: 10, status: { currentReplicas: 5, desiredReplicas: 5 } });
    // ... and the idle colour's sits at its maximum, which equals its minimum: KubeHpaMaxedOut's
    // `spec_max_replicas != spec_min_replicas` leaves it out (shown firing-free in 'broken-objects')
    expect(hpa('knowledge-service-green')).toMatchObject({ minReplicas: 1, maxReplicas: 1, status: { currentReplicas: 1, desiredReplicas: 1 } });
    // PDBs (maxUnavailable 1) have every pod healthy: one disruption allowed
    expect(pdb('knowledge-service-blue').status).toEqual({ currentHealthy: 5, desiredHealthy: 4, expectedPods: 5, disruptionsAllowed: 1 });
    expect(pdb('knowledge-service-green').status).toEqual({ currentHealthy: 1, desiredHealthy: 0, expectedPods: 1, disruptionsAllowed: 1 });
    expect(o.pods.every((p) => p.phase === 'Running' && p.ready)).toBe(true);
  });
});

/**
 * scripts/deploy.sh, the deploy jobs' program, run for real in the kubectl image's tool set against a
 * recorded cluster (test/cluster.ts, test/fixtures/kubectl/recorder.js): the promote gate, the
 * spec.replicas hand-over, pruning, the smoke-test wait and break-glass. Each test asserts the
 * kubectl calls made, and for a refusal that nothing was applied and the exact message.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Colour } from '../constructs';
import { synthesizeOutput } from '../synth/pipeline';
import { CATALOGUE } from '../environments';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { Action, ComponentRelease, Phase, transition } from '../release/state';
import { ApiRequest, PolicyRule, resourceOf, rulesAllow } from '../constructs';
import { DEPLOYER } from '../release/guardrails';
import { KubeObject } from '../synth/output';
import { ClusterScenario, writeCluster } from './cluster';
import { committedReleaseStates } from './helpers';
import { imagePath, KubectlCall } from './pipeline';

jest.setTimeout(30_000);

const ROOT = path.resolve(__dirname, '..');
const IMAGE = 'alpine/k8s:1.28.15';
const NS = 'soundcore-kcp-prod';
const K = 'knowledge-service';
const V1 = 'v1.0.0';
const V2 = 'v1.1.0';
const REGISTRY = 'registry.gitlab.com/soundcore/kcp';
const COMMITTED = committedReleaseStates().production as { [c: string]: ComponentRelease };

const stable: ComponentRelease = { active: Colour.BLUE, phase: Phase.STABLE, tags: { blue: V1, green: V1 } };
const staged = transition('t', stable, Action.STAGE, V2);
const promoted = transition('t', staged, Action.PROMOTE);
const INSTANCE = `${K}-smoke-v1-1-0-1`;

// (made while the tests are collected: the folders below are synthesized then)
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-deploy-'));
const bin = imagePath(work, IMAGE);
let n = 0;
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** dist/production for `state` of the knowledge-service (the others as committed), in a fresh folder. */
const synthesized = new Map<string, { tree: Map<string, string>; objects: KubeObject[] }>();
function folder(state: ComponentRelease): { dir: string; objects: KubeObject[] } {
  const states = { production: { ...COMMITTED, [K]: state } };
  const key = JSON.stringify(state);
  if (!synthesized.has(key)) {
    // (one synthesis: the files, and the objects of the folder and of its platform/ subfolder)
    const output = synthesizeOutput([production], CATALOGUE, states);
    synthesized.set(key, { tree: output.tree, objects: [...output.objects.get('production')!, ...output.objects.get('production/platform') ?? []] });
  }
  const { tree, objects } = synthesized.get(key)!;
  const dir = path.join(work, `run-${++n}`, 'dist', 'production');
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, content] of tree) {
    if (!file.startsWith('production/')) continue;
    // (the folder as committed, its platform/ subfolder included: `kubectl apply -f <dir>` does not descend into it)
    const target = path.join(dir, file.slice('production/'.length));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  return { dir, objects };
}

/** dist/staging (as committed: rolling components and two Argo Rollouts), in a fresh folder. */
let stagingOutput: { tree: Map<string, string>; objects: KubeObject[] } | undefined;
function stagingFolder(): { dir: string; objects: KubeObject[] } {
  if (stagingOutput === undefined) {
    const output = synthesizeOutput([staging], CATALOGUE, { staging: {} });
    stagingOutput = { tree: output.tree, objects: [...output.objects.get('staging')!, ...output.objects.get('staging/platform') ?? []] };
  }
  const dir = path.join(work, `run-${++n}`, 'dist', 'staging');
  for (const [file, content] of stagingOutput.tree) {
    if (!file.startsWith('staging/')) continue;
    const target = path.join(dir, file.slice('staging/'.length));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  return { dir, objects: stagingOutput.objects };
}

/** Every kubectl call of every scenario of this file, for the deployer's Role (last test). */
const everyCall: { call: KubectlCall; cwd: string; environment: string }[] = [];

interface Run { status: number | null; stdout: string; stderr: string; calls: string[]; kubectl: KubectlCall[]; cwd: string }

/** Runs `sh scripts/deploy.sh <args>` with the image's tools, against a cluster. */
function deploy(args: string[], cluster: { objects: readonly KubeObject[]; scenario?: ClusterScenario },
  options: { answers?: object[]; env?: { [k: string]: string } } = {}): Run {
  // (args[1] is the folder, absolute: the script runs in the checkout above it and is given it relative)
  const cwd = path.dirname(path.dirname(args[1]));
  args = [args[0], path.relative(cwd, args[1]), ...args.slice(2).map((a) => (path.isAbsolute(a) ? path.relative(cwd, a) : a))];
  const fixtures = path.join(cwd, 'cluster');
  writeCluster(fixtures, cluster.objects, cluster.scenario);
  const record = path.join(cwd, 'kubectl.jsonl');
  fs.writeFileSync(record, '');
  const answers = path.join(cwd, 'answers.json');
  fs.writeFileSync(answers, JSON.stringify(options.answers ?? []));
  fs.rmSync(`${answers}.used`, { force: true });
  const result = spawnSync('sh', [path.join(ROOT, 'scripts', 'deploy.sh'), ...args], {
    cwd, encoding: 'utf8', timeout: 20_000,
    env: {
      PATH: bin, HOME: cwd, LANG: 'C.UTF-8', KUBECTL_RECORD: record, KUBECTL_FIXTURES: fixtures, KUBECTL_ANSWERS: answers, ...options.env,
    },
  });
  const kubectl = fs.readFileSync(record, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as KubectlCall);
  everyCall.push(...kubectl.map((call) => ({ call, cwd, environment: path.basename(args[1]) })));
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls: kubectl.map((c) => c.args.join(' ')), kubectl, cwd };
}

const applies = (run: Run) => run.calls.filter((c) => c.startsWith('apply'));
/** The folder as the script is given it (relative to the checkout). */
const rel = (dir: string) => path.relative(path.dirname(path.dirname(dir)), dir);

describe('the promote gate', () => {
  const promote = folder(promoted);
  const stagedFolder = folder(staged);
  /** The cluster after the stage change was deployed and its smoke test passed. */
  const stagedCluster: ClusterScenario = {
    selects: { [K]: 'blue' },
    jobs: { [`${INSTANCE}-abc123`]: { result: 'Complete', instance: INSTANCE } },
  };

  test('GIVEN the staged colour runs the new image at the scale serving and its smoke test passed THEN traffic moves', () => {
    const run = deploy(['apply', promote.dir], { objects: stagedFolder.objects, scenario: stagedCluster });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`gate: service/${K} moves traffic from blue to green (${K}-green)`);
    // the gate reads the namespace's Services and Deployments once, then the smoke Jobs of the attempt it promotes;
    // everything but the Service that moves is applied, the target's ready pods read, then the whole folder
    const files = fs.readdirSync(promote.dir).filter((f) => f.endsWith('.yaml')).sort();
    expect(run.calls.slice(0, 6)).toEqual([
      `-n ${NS} get services -o json`,
      `-n ${NS} get deployments.apps -o json`,
      `-n ${NS} get jobs.batch -l app.kubernetes.io/instance=${INSTANCE} -o json`,
      `apply --server-side --field-manager=soundcore-kcp-ci ${files.filter((f) => f !== `44-service-${K}.yaml`).map((f) => `-f ${rel(promote.dir)}/${f}`).join(' ')}`,
      `-n ${NS} get deployment ${K}-green -o json`,
      `apply --server-side --field-manager=soundcore-kcp-ci -f ${rel(promote.dir)}`,
    ]);
    expect(run.stdout).toContain(`traffic moves: service/${K} -> ${K}-green (5 ready pods, ${K}-blue served with 5)`);
  });

  test('GIVEN the stage change was never deployed (stage and promote merged, only the last deploy run) THEN refused, nothing applied', () => {
    // the cluster still runs the stable folder: green is the standby on the old version, 1 pod
    const run = deploy(['apply', promote.dir], { objects: folder(stable).objects });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe([
      `deploy refused, nothing applied to ${NS}:`,
      `  - service/${K}: ${K}-green runs ${REGISTRY}/${K}:${V1}, not ${REGISTRY}/${K}:${V2}: deploy the change that stages it first (stage and promote are never applied in one step)`,
      `  - service/${K}: no smoke-test Job of ${INSTANCE} in the cluster (not run, or removed 72 h after it finished): stage again`,
      '',
    ].join('\n'));
    expect(applies(run)).toEqual([]);
  });

  test('GIVEN the active colour scaled out since the stage THEN traffic stays: the target never gets as many ready pods', () => {
    const run = deploy(['apply', promote.dir], { objects: stagedFolder.objects, scenario: { ...stagedCluster, ready: { [`${K}-blue`]: 8 } } },
      { env: { TRAFFIC_READY_SECONDS: '0' } });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`traffic not moved: service/${K} still on ${K}-blue: ${K}-green has 5 ready pods, ${K}-blue served with 8 (traffic never moves to fewer pods; `
      + 'a promote staged below that scale: abort with rollback, then stage again with --serving 8)\n');
    // only the folder without the Service was applied
    expect(applies(run)).toHaveLength(1);
    expect(applies(run)[0]).not.toContain(`44-service-${K}.yaml`);
  });

  test('GIVEN the new colour scaled out before a rollback THEN the previous colour is scaled up first, and traffic moves once it is ready', () => {
    // promoted at 5; green (v1.1.0) scaled out to 8; the rollback recorded --serving 8
    const back = folder(transition('t', transition('t', staged, Action.PROMOTE), Action.ROLLBACK, undefined, { serving: 8 }));
    const blue = (ready: number) => JSON.stringify({ kind: 'Deployment', metadata: { name: `${K}-blue` }, status: { readyReplicas: ready } });
    const run = deploy(['apply', back.dir], { objects: promote.objects, scenario: { ready: { [`${K}-green`]: 8 } } }, {
      answers: [
        { match: ['get', 'deployment', `${K}-blue`], stdout: blue(5), once: true },
        { match: ['get', 'deployment', `${K}-blue`], stdout: blue(8), once: true },
      ],
      env: { TRAFFIC_POLL_SECONDS: '0' },
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`traffic moves: service/${K} -> ${K}-blue (8 ready pods, ${K}-green served with 8)`);
    expect(applies(run)).toHaveLength(2);
  });

  test.each([
    ['failed', { result: 'Failed' as const }, `the smoke test of ${INSTANCE} failed (job ${INSTANCE}-abc123): roll back, fix, stage a new tag`],
    ['still running', { result: 'running' as const }, `the smoke test of ${INSTANCE} has not passed yet (1 job(s) running): wait for smoke-test:production`],
  ])('GIVEN the smoke test %s THEN refused', (_name, job, message) => {
    const run = deploy(['apply', promote.dir], {
      objects: stagedFolder.objects, scenario: { ...stagedCluster, jobs: { [`${INSTANCE}-abc123`]: { ...job, instance: INSTANCE } } },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`deploy refused, nothing applied to ${NS}:\n  - service/${K}: ${message}\n`);
    expect(applies(run)).toEqual([]);
  });

  test('GIVEN the staged rollout has not finished THEN refused', () => {
    const run = deploy(['apply', promote.dir], { objects: stagedFolder.objects, scenario: { ...stagedCluster, rollingOut: [`${K}-green`] } });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`  - service/${K}: ${K}-green has not finished rolling out (5 of 6 pods ready)\n`);
  });

  test('GIVEN break-glass moved the traffic and its record is not merged THEN a folder moving it again is refused', () => {
    const run = deploy(['apply', promote.dir], { objects: stagedFolder.objects, scenario: { ...stagedCluster, breakGlass: [K] } });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`  - service/${K}: break-glass moved its traffic to blue; this folder moves it to green: merge the change that records the break-glass (release/break-glass-...) first\n`);
  });

  test('a rollback moves traffic back without smoke evidence, when the previous colour is still at full size', () => {
    const back = folder(transition('t', promoted, Action.ROLLBACK));
    const run = deploy(['apply', back.dir], { objects: promote.objects });
    expect(run.status).toBe(0);
    expect(run.calls).not.toContain(expect.stringMatching(/get jobs/));
  });
});

describe('a failed read of the cluster stops the deploy', () => {
  test.each([['services'], ['deployments.apps']])('GIVEN `kubectl get %s` fails THEN nothing is applied (never read as "not in the cluster")', (what) => {
    const f = folder(promoted);
    const run = deploy(['apply', f.dir], { objects: folder(staged).objects }, {
      answers: [{ match: ['get', what], exit: 1, stderr: 'Error from server (Timeout): the server was unable to return a response in the time allotted\n' }],
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`kubectl get ${what} failed; the deploy stops here, changing nothing more\n`);
    expect(applies(run)).toEqual([]);
  });
});

test('a failed read while waiting for the target\'s pods leaves the traffic where it is', () => {
  const run = deploy(['apply', folder(promoted).dir], {
    objects: folder(staged).objects, scenario: { jobs: { [`${INSTANCE}-abc123`]: { result: 'Complete', instance: INSTANCE } } },
  }, { answers: [{ match: ['get', 'deployment', `${K}-green`], exit: 1, stderr: 'Error from server (Timeout)\n' }] });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain(`kubectl get deployment ${K}-green failed; the deploy stops here, changing nothing more\n`);
  // only the folder without the Service that moves was applied
  expect(applies(run)).toHaveLength(1);
  expect(applies(run)[0]).not.toContain(`44-service-${K}.yaml`);
});

describe('the bake time, from the deploy that moved the traffic', () => {
  const promote = folder(promoted);
  const finalized = folder(transition('t', promoted, Action.FINALIZE));
  const minutesAgo = (m: number) => Math.floor(Date.now() / 1000) - m * 60;

  test('GIVEN traffic moved 10 minutes ago WHEN finalize would shrink the previous colour THEN refused until 30 minutes have passed', () => {
    const run = deploy(['apply', finalized.dir], { objects: promote.objects, scenario: { movedAt: { [K]: minutesAgo(10) } } });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`deploy refused, nothing applied to ${NS}:\n  - service/${K}: its traffic moved 10 min ago; ${K}-blue keeps its 5 pods for the bake time `
      + '(30 min), so that a rollback needs no new pods: deploy this in 20 min\n');
    expect(applies(run)).toEqual([]);
  });

  test('GIVEN traffic moved 31 minutes ago THEN finalize is applied', () => {
    const run = deploy(['apply', finalized.dir], { objects: promote.objects, scenario: { movedAt: { [K]: minutesAgo(31) } } });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  test('the deploy that moves traffic stamps the Service with the time', () => {
    const stagedFolder = folder(staged);
    const run = deploy(['apply', promote.dir], { objects: stagedFolder.objects, scenario: { jobs: { [`${INSTANCE}-abc123`]: { result: 'Complete', instance: INSTANCE } } } });
    expect(run.status).toBe(0);
    expect(run.calls.filter((c) => c.includes(' annotate '))).toEqual([
      expect.stringMatching(new RegExp(`^-n ${NS} annotate --overwrite service ${K} deploy.soundcore-kcp.com/traffic-moved-at=\\d+ \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`)),
    ]);
  });
});

describe('spec.replicas hand-over', () => {
  const stableFolder = folder(stable);

  test('GIVEN autoscaling is turned on THEN another manager takes spec.replicas at its live value before the apply drops it', () => {
    // the cluster's content-service-blue had fixed replicas (owned by the CI's apply); the folder autoscales it
    const live = { objects: stableFolder.objects, scenario: { replicasOwner: { [`${K}-blue`]: 'apply' as const }, replicas: { [`${K}-blue`]: 7 } } };
    const run = deploy(['apply', stableFolder.dir], live);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`hand-over: deployment/${K}-blue keeps its 7 pods; its autoscaler owns spec.replicas from now on`);
    const handover = run.kubectl.find((c) => c.args.includes('--field-manager=soundcore-kcp-replicas-handover'))!;
    expect(JSON.parse(handover.stdin!)).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `${K}-blue`, namespace: NS }, spec: { replicas: 7 } });
    // before the folder's apply
    expect(run.calls.indexOf(handover.args.join(' '))).toBeLessThan(run.calls.indexOf(`apply --server-side --field-manager=soundcore-kcp-ci -f ${rel(stableFolder.dir)}`));
  });

  test('GIVEN autoscaling is turned off at a size below what runs THEN refused (no capacity dip)', () => {
    const live = { objects: stableFolder.objects, scenario: { replicasOwner: { 'content-service-blue': 'autoscaler' as const }, replicas: { 'content-service-blue': 6 } } };
    const run = deploy(['apply', stableFolder.dir], live);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`deploy refused, nothing applied to ${NS}:\n  - deployment/content-service-blue: runs 6 pods (spec.replicas owned by kube-controller-manager); `
      + 'the folder fixes it at 3: set replicas to at least 6, or scale it down first\n');
    expect(applies(run)).toEqual([]);
  });

  test('GIVEN autoscaling is turned off at or above what runs THEN its HPA is deleted and the Deployment takes spec.replicas back', () => {
    const hpa = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'content-service-blue', namespace: NS, labels: { 'deploy.soundcore-kcp.com/set': 'production' } },
      spec: { minReplicas: 2, maxReplicas: 6, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'content-service-blue' } } } as KubeObject;
    const live = { objects: stableFolder.objects, scenario: { replicasOwner: { 'content-service-blue': 'autoscaler' as const }, replicas: { 'content-service-blue': 2 }, extra: [hpa] } };
    const run = deploy(['apply', stableFolder.dir], live);
    expect(run.status).toBe(0);
    const i = run.calls.indexOf(`-n ${NS} delete horizontalpodautoscaler.autoscaling content-service-blue`);
    expect(i).toBeGreaterThan(0);
    expect(run.calls[i + 1]).toBe(`apply --server-side --field-manager=soundcore-kcp-ci --force-conflicts -f ${rel(stableFolder.dir)}/48-deployment-content-service-blue.yaml`);
    expect(run.calls[i + 2]).toBe(`apply --server-side --field-manager=soundcore-kcp-ci -f ${rel(stableFolder.dir)}`);
  });
});

describe('pruning', () => {
  test('deletes the objects of the deploy set that the folder no longer has, and nothing else', () => {
    const promote = folder(promoted);
    const stagedFolder = folder(staged);
    const foreign = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'postgres', namespace: NS, labels: { app: 'postgres', environment: 'production' } },
      spec: { replicas: 1, template: { spec: { containers: [{ name: 'postgres', image: 'postgres:15' }] } } } } as KubeObject;
    const oldPdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: K, namespace: NS, labels: { 'deploy.soundcore-kcp.com/set': 'production' } },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: K } } } } as KubeObject;
    // the cluster holds the staged folder (smoke Job, its NetworkPolicy), an old PDB from before blue/green, and someone else's Deployment
    const job = stagedFolder.objects.find((o) => o.kind === 'Job')!;
    const run = deploy(['apply', promote.dir], {
      objects: stagedFolder.objects,
      scenario: { extra: [oldPdb, foreign], jobs: { [job.metadata.name]: { result: 'Complete', instance: INSTANCE, labels: job.metadata.labels as { [k: string]: string } } } },
    });
    expect(run.status).toBe(0);
    expect(run.calls).toContain(`-n ${NS} get configmaps,services,deployments.apps,jobs.batch,horizontalpodautoscalers.autoscaling,poddisruptionbudgets.policy,`
      + 'networkpolicies.networking.k8s.io,ingresses.networking.k8s.io,servicemonitors.monitoring.coreos.com,probes.monitoring.coreos.com,prometheusrules.monitoring.coreos.com,'
      + 'alertmanagerconfigs.monitoring.coreos.com,externalsecrets.external-secrets.io -l deploy.soundcore-kcp.com/set=production -o json');
    expect(run.calls.filter((c) => c.includes(' delete '))).toEqual([
      `-n ${NS} delete job.batch/${job.metadata.name} networkpolicy.networking.k8s.io/smoke-test poddisruptionbudget.policy/${K}`,
    ]);
    // after the apply and after every rollout: what the folder replaces serves until its successor is ready
    const deleted = run.calls.findIndex((c) => c.includes(' delete '));
    expect(run.calls.indexOf(`apply --server-side --field-manager=soundcore-kcp-ci -f ${rel(promote.dir)}`)).toBeLessThan(deleted);
    expect(deleted).toBe(run.calls.length - 1);
    expect(run.calls.filter((c) => c.includes('rollout status'))).toHaveLength(12);
  });
});

describe('the smoke-test wait', () => {
  const stagedFolder = folder(staged);
  const job = stagedFolder.objects.find((o) => o.kind === 'Job')!.metadata.name;

  test('a failed smoke test is logged, then deleted, and fails the job', () => {
    fs.mkdirSync(path.join(path.dirname(path.dirname(stagedFolder.dir)), 'cluster'), { recursive: true });
    fs.writeFileSync(path.join(path.dirname(path.dirname(stagedFolder.dir)), 'cluster', `logs-job-${job}.txt`), 'FAIL: http://knowledge-service-preview:8001/health answered 503\n');
    const run = deploy(['smoke', stagedFolder.dir], { objects: stagedFolder.objects, scenario: { jobs: { [job]: { result: 'Failed', instance: INSTANCE } } } });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(`smoke test FAILED: job/${job}; its log:\nFAIL: http://knowledge-service-preview:8001/health answered 503\njob "${job}" deleted\n`);
    expect(run.stderr).toBe(`smoke test failed: job/${job} (logged above, then deleted). Abort the release: npm run release -- <env> <component> rollback\n`);
    expect(run.calls).toEqual([`-n ${NS} get job ${job} -o json`, `-n ${NS} logs job/${job} --all-containers=true`, `-n ${NS} delete job ${job}`]);
  });

  test('a running smoke test is polled until it completes; nothing is deleted', () => {
    const running = JSON.stringify({ kind: 'Job', metadata: { name: job }, status: { active: 1 } });
    const run = deploy(['smoke', stagedFolder.dir], { objects: stagedFolder.objects, scenario: { jobs: { [job]: { result: 'Complete', instance: INSTANCE } } } },
      { answers: [{ match: ['get', 'job', job], stdout: running, once: true }], env: { SMOKE_POLL_SECONDS: '0' } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`smoke test passed: job/${job}\n`);
    expect(run.calls).toEqual([`-n ${NS} get job ${job} -o json`, `-n ${NS} get job ${job} -o json`]);
  });
});

describe('Argo Rollouts (staging): the deploy waits for what the controller reports', () => {
  const SS = 'soundcore-kcp-staging';
  const CANARY = 'knowledge-service';
  const BLUE_GREEN = 'content-service';
  const argoEnv = { ARGO_ROLLOUT_POLL_SECONDS: '0' };
  const rolloutReads = (run: Run) => run.calls.filter((c) => c.includes(' rollout.argoproj.io '));

  test('GIVEN both Rollouts Healthy THEN the deploy passes, after reading each Rollout and the Deployment it runs', () => {
    const f = stagingFolder();
    const run = deploy(['apply', f.dir], { objects: f.objects }, { env: argoEnv });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`rollout/${BLUE_GREEN} is Healthy\nrollout/${CANARY} is Healthy\n`);
    expect(rolloutReads(run)).toEqual([`-n ${SS} get rollout.argoproj.io ${BLUE_GREEN} -o json`, `-n ${SS} get rollout.argoproj.io ${CANARY} -o json`]);
    expect(run.calls).toContain(`-n ${SS} get deployment ${CANARY} -o json`);
    // (the Rollouts are waited for after the Deployments' rollouts and before the prune)
    const firstRead = run.calls.findIndex((c) => c.includes(' rollout.argoproj.io '));
    expect(run.calls.slice(firstRead).some((c) => c.includes('rollout status'))).toBe(false);
    expect(run.calls.findIndex((c) => c.includes('-l deploy.soundcore-kcp.com/set=staging'))).toBeGreaterThan(firstRead);
  });

  /** The namespace's Deployments as the deploy reads them before its apply, `older` at generation 2 (the apply then makes it 3). */
  function deploymentsBefore(objects: readonly KubeObject[], older: string): object {
    const dir = path.join(work, `before-${++n}`);
    writeCluster(dir, objects);
    const items = fs.readdirSync(dir).filter((x) => x.startsWith('deployment-')).sort().map((x) => JSON.parse(fs.readFileSync(path.join(dir, x), 'utf8')));
    for (const d of items) if (d.metadata.name === older) d.metadata.generation = 2;
    return { match: ['get', 'deployments.apps'], stdout: `${JSON.stringify({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } })}\n` };
  }
  // (the message as the v1.8 controller writes it after a failed analysis step)
  const aborted = 'RolloutAborted: Rollout aborted update to revision 4: Metric "error-ratio" assessed Failed due to failed (1) > failureLimit (0)';

  test('GIVEN the canary this deploy started was aborted by its analysis (Degraded) THEN the job fails with the controller\'s message and nothing is pruned', () => {
    const f = stagingFolder();
    const run = deploy(['apply', f.dir], { objects: f.objects, scenario: { rollouts: { [CANARY]: { phase: 'Degraded', message: aborted } } } },
      { env: argoEnv, answers: [deploymentsBefore(f.objects, CANARY)] });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`rollout/${CANARY} is Degraded: ${aborted} (the controller aborted it and traffic is back on the stable revision; see kubectl argo rollouts get rollout ${CANARY} -n ${SS})\n`);
    expect(run.calls.filter((c) => c.includes(' delete ') || c.includes('-l deploy.soundcore-kcp.com/set='))).toEqual([]);
  });

  test('GIVEN a canary aborted by an earlier release that this folder does not change THEN it is reported, and the deploy goes on to the prune', () => {
    const f = stagingFolder();
    // (Argo keeps an aborted Rollout Degraded until a new revision comes: its Deployment's generation is the same before and after this apply)
    const run = deploy(['apply', f.dir], { objects: f.objects, scenario: { rollouts: { [CANARY]: { phase: 'Degraded', message: aborted } } } }, { env: argoEnv });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(`rollout/${CANARY} is still Degraded from an earlier release this folder does not change (${aborted}); fix or roll it back with its own change\n`);
    expect(run.calls.filter((c) => c.includes('-l deploy.soundcore-kcp.com/set=staging'))).toHaveLength(1);
  });

  test('GIVEN a canary step without a duration (a pause only a promotion ends) THEN the deploy passes and says how to promote', () => {
    const f = stagingFolder();
    const dir = path.join(work, `paused-${++n}`);
    writeCluster(dir, f.objects, { rollouts: { [CANARY]: { phase: 'Paused', message: 'CanaryPauseStep', pauseReason: 'CanaryPauseStep', stepIndex: 1 } } });
    const rollout = JSON.parse(fs.readFileSync(path.join(dir, `rollout-${CANARY}.json`), 'utf8'));
    expect(rollout.spec.strategy.canary.steps[1]).toEqual({ pause: { duration: '2m' } });
    rollout.spec.strategy.canary.steps[1] = { pause: {} };
    const run = deploy(['apply', f.dir], { objects: f.objects },
      { env: argoEnv, answers: [{ match: ['get', 'rollout.argoproj.io', CANARY], stdout: JSON.stringify(rollout) }] });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`rollout/${CANARY}: the new revision is up and waits to be promoted (CanaryPauseStep; kubectl argo rollouts promote ${CANARY} -n ${SS})\n`);
  });

  test('GIVEN the controller has not yet seen the Deployment just applied THEN the deploy waits, even though the Rollout still says Healthy', () => {
    const f = stagingFolder();
    // the first read: the old revision's Healthy, stamped with the Deployment's previous generation (2);
    // the next read (the fixture): the new revision observed, Healthy
    const stale = path.join(work, 'stale-rollout.json');
    writeCluster(path.join(work, 'stale-cluster'), f.objects, { rollouts: { [CANARY]: { phase: 'Healthy', stale: true } } });
    fs.copyFileSync(path.join(work, 'stale-cluster', `rollout-${CANARY}.json`), stale);
    const run = deploy(['apply', f.dir], { objects: f.objects },
      { env: argoEnv, answers: [{ match: ['get', 'rollout.argoproj.io', CANARY], stdout: fs.readFileSync(stale, 'utf8'), once: true }] });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(rolloutReads(run).filter((c) => c.endsWith(`${CANARY} -o json`))).toHaveLength(2);
  });

  test('GIVEN the blue/green preview waits for promotion (BlueGreenPause) THEN the deploy passes and says how to promote', () => {
    const f = stagingFolder();
    const run = deploy(['apply', f.dir], { objects: f.objects, scenario: { rollouts: { [BLUE_GREEN]: { phase: 'Paused', message: 'BlueGreenPause', pauseReason: 'BlueGreenPause' } } } }, { env: argoEnv });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`rollout/${BLUE_GREEN}: the new revision is up and waits to be promoted (BlueGreenPause; kubectl argo rollouts promote ${BLUE_GREEN} -n ${SS})\n`);
  });

  test('GIVEN the canary is in a timed pause step past ARGO_ROLLOUT_SECONDS THEN the job fails naming its phase', () => {
    const f = stagingFolder();
    // (step 1 of staging's canary: `pause: { duration: 2m }`)
    const run = deploy(['apply', f.dir], { objects: f.objects, scenario: { rollouts: { [CANARY]: { phase: 'Paused', message: 'CanaryPauseStep', pauseReason: 'CanaryPauseStep', stepIndex: 1 } } } },
      { env: { ...argoEnv, ARGO_ROLLOUT_SECONDS: '0' } });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`rollout/${CANARY} is still Paused (CanaryPauseStep) after 0 s\n`);
  });
});

describe('observe', () => {
  test('leaves out, naming it, a component it cannot observe: the others are still reported', () => {
    const f = folder(stable);
    const run = deploy(['observe', f.dir], { objects: f.objects, scenario: { missing: ['frontend'] } });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('observe: service/frontend is not in the cluster; frontend left out\n');
    expect(run.stdout).not.toContain('SERVING_FRONTEND');
    expect(run.stdout).toContain('SERVING_KNOWLEDGE_SERVICE=5\n');
  });

  test('prints the ready pods of the colour each Service selects, as a dotenv', () => {
    const f = folder(stable);
    const run = deploy(['observe', f.dir], { objects: f.objects, scenario: { ready: { [`${K}-blue`]: 8 } } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(['ANALYTICS_SERVICE=3', 'AUTH_SERVICE=3', 'CONTENT_SERVICE=3', 'FRONTEND=3', 'KNOWLEDGE_SERVICE=8', 'SUPPORT_SERVICE=3']
      .map((l) => `SERVING_${l}\n`).join(''));
  });
});

describe('break-glass', () => {
  const stateFile = (dir: string, state: ComponentRelease) => {
    const file = path.join(path.dirname(path.dirname(dir)), 'release.json');
    fs.writeFileSync(file, JSON.stringify({ ...COMMITTED, [K]: state }));
    return file;
  };

  test('while promoted: the previous colour is still at full size, so traffic moves back at once', () => {
    const f = folder(promoted);
    const run = deploy(['break-glass', f.dir, stateFile(f.dir, promoted), K], { objects: f.objects });
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n').map((l) => l.replace(/after \d+ s$/, 'after <n> s'))).toEqual([
      `break-glass: ${K}: ${V2} serves with 5 pods on green; ${V1} on blue has 5 ready`,
      `service/${K} serverside-applied`,
      `break-glass: service/${K}: traffic green (${V2}) -> blue (${V1}) after <n> s`,
      '',
    ]);
    expect(applies(run)).toEqual(['apply --server-side --field-manager=soundcore-kcp-break-glass --force-conflicts -f -']);
    expect(JSON.parse(run.kubectl.find((c) => c.args[0] === 'apply')!.stdin!)).toEqual({
      apiVersion: 'v1', kind: 'Service', metadata: { name: K, namespace: NS }, spec: { selector: { version: 'blue' } },
    });
    expect(fs.readFileSync(path.join(run.cwd, 'break-glass.env'), 'utf8')).toBe('BREAK_GLASS_SERVING_KNOWLEDGE_SERVICE=5\n');
  });

  test('after finalize: the standby is scaled to the size serving, traffic moves once its pods are ready', () => {
    const after: ComponentRelease = { active: Colour.GREEN, phase: Phase.STABLE, tags: { blue: V1, green: V2 }, lastGood: V2 };
    const f = folder(after);
    const standby = (ready: number) => JSON.stringify({ kind: 'Deployment', metadata: { name: `${K}-blue` }, status: { readyReplicas: ready } });
    const run = deploy(['break-glass', f.dir, stateFile(f.dir, after), K], { objects: f.objects, scenario: { ready: { [`${K}-green`]: 6 } } }, {
      answers: [
        { match: ['get', 'deployment', `${K}-blue`], stdout: standby(1), once: true },
        { match: ['get', 'deployment', `${K}-blue`], stdout: standby(3), once: true },
        { match: ['get', 'deployment', `${K}-blue`], stdout: standby(6), once: true },
      ],
      env: { BREAK_GLASS_POLL_SECONDS: '0' },
    });
    expect(run.status).toBe(0);
    const [scale, traffic] = run.kubectl.filter((c) => c.args[0] === 'apply');
    // (the HPA's maximum is never lowered: the largest of its own, the serving colour's and the size serving)
    const maxOf = (name: string) => (f.objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === name) as unknown as { spec: { maxReplicas: number } }).spec.maxReplicas;
    expect(JSON.parse(scale.stdin!)).toEqual({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: `${K}-blue`, namespace: NS },
      spec: { minReplicas: 6, maxReplicas: Math.max(6, maxOf(`${K}-blue`), maxOf(`${K}-green`)) } });
    expect(JSON.parse(traffic.stdin!).spec).toEqual({ selector: { version: 'blue' } });
    // the Service is switched only after the third read saw 6 ready pods
    expect(run.calls.filter((c) => c === `-n ${NS} get deployment ${K}-blue -o json`)).toHaveLength(3);
    expect(fs.readFileSync(path.join(run.cwd, 'break-glass.env'), 'utf8')).toBe('BREAK_GLASS_SERVING_KNOWLEDGE_SERVICE=6\n');
  });

  test('gives up without moving traffic when the previous colour does not become ready in time', () => {
    const after: ComponentRelease = { active: Colour.GREEN, phase: Phase.STABLE, tags: { blue: V1, green: V2 }, lastGood: V2 };
    const f = folder(after);
    const run = deploy(['break-glass', f.dir, stateFile(f.dir, after), K], { objects: f.objects },
      { env: { BREAK_GLASS_READY_SECONDS: '0', BREAK_GLASS_POLL_SECONDS: '0' } });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`break-glass: ${K}-blue has 1 of 5 pods ready after 0 s; traffic left on green\n`);
    expect(run.kubectl.filter((c) => c.args[0] === 'apply').map((c) => JSON.parse(c.stdin!).kind)).toEqual(['HorizontalPodAutoscaler']);
  });

  test('sizes by what the failing colour asks for, not by its few ready pods', () => {
    const f = folder(promoted);
    // green (the release being rolled back) wants 5 pods and has 1 ready; blue is at full size
    const run = deploy(['break-glass', f.dir, stateFile(f.dir, promoted), K], { objects: f.objects, scenario: { ready: { [`${K}-green`]: 1 } } });
    expect(run.status).toBe(0);
    expect(fs.readFileSync(path.join(run.cwd, 'break-glass.env'), 'utf8')).toBe('BREAK_GLASS_SERVING_KNOWLEDGE_SERVICE=5\n');
  });

  test('checks every named component before moving any: one that cannot go back moves none', () => {
    const f = folder(promoted);
    const run = deploy(['break-glass', f.dir, stateFile(f.dir, promoted), K, 'frontend'], { objects: f.objects });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('break-glass: both colours of frontend run v1.0.0, there is no previous version\n');
    expect(applies(run)).toEqual([]);
  });

  test.each([
    ['staged', staged, {}, `break-glass: ${K} is staged, traffic has not moved: abort with the release job (rollback)`],
    ['stable with one version', stable, {}, `break-glass: both colours of ${K} run ${V1}, there is no previous version`],
    ['the cluster disagrees with git', promoted, { selects: { [K]: 'blue' } },
      `break-glass: service/${K} selects blue, but the release state says green serves: deploy main first, or move it by hand`],
  ])('refuses when %s, changing nothing', (_name, state, scenario, message) => {
    const f = folder(state);
    const run = deploy(['break-glass', f.dir, stateFile(f.dir, state), K], { objects: f.objects, scenario });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`${message}\n`);
    expect(applies(run)).toEqual([]);
  });
});

test('the deploy plan is next to the manifests, and kubectl does not read it', () => {
  const f = folder(promoted);
  const plan = fs.readFileSync(path.join(f.dir, 'deploy-plan.tsv'), 'utf8');
  expect(plan.split('\n').filter((l) => l.startsWith(`traffic\t${K}\t`))).toEqual([
    `traffic\t${K}\tversion\tgreen\t${K}-green\t${REGISTRY}/${K}:${V2}\tblue\t${K}-blue\tsmoke:${INSTANCE}`,
  ]);
  expect(plan.split('\n').filter((l) => l.startsWith('traffic\t') && l.endsWith('\t-'))).toHaveLength(5);
  // one `object` line per manifest file
  expect(plan.split('\n').filter((l) => l.startsWith('object\t'))).toHaveLength(fs.readdirSync(f.dir).filter((x) => x.endsWith('.yaml')).length);
});

/** The API requests of one recorded kubectl call (the verbs of release/deploy-operations.ts's table). */
function requestsOf(call: KubectlCall, cwd: string): ApiRequest[] {
  const args = call.args[0] === '-n' ? call.args.slice(2) : call.args;
  // (a bare kind is resolved by kubectl's discovery: these are the groups of the ones the script uses)
  const BARE: { [kind: string]: string } = { deployment: 'apps', job: 'batch', horizontalpodautoscaler: 'autoscaling', service: '' };
  const type = (t: string) => {
    const [kind, ...group] = t.split('/')[0].split('.');
    const plural = kind.endsWith('s') && kind !== 'ingress' ? kind : resourceOf('v1', kind, { ingress: 'ingresses' }).resource;
    return { group: group.length > 0 ? group.join('.') : BARE[kind] ?? '', resource: plural };
  };
  const objectsOf = (f: string): { apiVersion: string; kind: string }[] => {
    if (f === '-') return [JSON.parse(call.stdin!)];
    const p = path.resolve(cwd, f);
    const files = fs.statSync(p).isDirectory() ? fs.readdirSync(p).filter((x) => x.endsWith('.yaml')).map((x) => path.join(p, x)) : [p];
    return files.map((x) => {
      const text = fs.readFileSync(x, 'utf8');
      return { apiVersion: /^apiVersion: (\S+)$/m.exec(text)![1], kind: /^kind: (\S+)$/m.exec(text)![1] };
    });
  };
  const verbs = (r: { group: string; resource: string }, ...vs: ApiRequest['verb'][]) => vs.map((verb) => ({ ...r, verb }));
  switch (args[0]) {
    case 'get': return args[1].split(',').flatMap((t) => verbs(type(t), args[2] === undefined || args[2].startsWith('-') ? 'list' : 'get'));
    case 'delete': return args.slice(1).flatMap((a, i) => (a.includes('/') ? verbs(type(a), 'delete', 'get') : i === 0 ? [] : verbs(type(args[1]), 'delete', 'get')));
    case 'rollout': return verbs(type(args[2]), 'get', 'list', 'watch');
    case 'annotate': return verbs(type(args[2]), 'get', 'patch');
    case 'logs': return [...verbs(type(args[1]), 'get'), { group: '', resource: 'pods', verb: 'list' }, { group: '', resource: 'pods/log', verb: 'get' }];
    case 'apply': return objectsOf(args[args.indexOf('-f') + 1]).flatMap((o) => verbs(resourceOf(o.apiVersion, o.kind, { Ingress: 'ingresses', NetworkPolicy: 'networkpolicies' }), 'patch', 'create'));
    default: throw new Error(`unexpected kubectl call: ${call.args.join(' ')}`);
  }
}

test('every kubectl call of the scenarios above is allowed by the deployer\'s Role (dist/production/platform/)', () => {
  // GIVEN the Role as synthesized (the same in every release phase: test/guardrails.test.ts)
  const role = folder(stable).objects.find((o) => o.kind === 'Role' && o.metadata.name === DEPLOYER) as KubeObject & { rules: PolicyRule[] };
  expect(everyCall.length).toBeGreaterThan(50);
  // THEN no call of the gate, hand-over, apply, prune, rollout, smoke, observe or break-glass is denied
  const denied = everyCall.filter((c) => c.environment === 'production').flatMap(({ call, cwd }) => requestsOf(call, cwd).filter((r) => !rulesAllow(role.rules, r)).map((r) => `${call.args.join(' ')}: ${r.verb} ${r.resource}.${r.group}`));
  expect(denied).toEqual([]);
  // and the calls exercised every kind of operation
  expect(new Set(everyCall.filter((c) => c.environment === 'production').map(({ call }) => (call.args[0] === '-n' ? call.args[2] : call.args[0]))))
    .toEqual(new Set(['get', 'apply', 'annotate', 'delete', 'rollout', 'logs']));
});

test('every kubectl call of the staging scenarios (Argo Rollouts) is allowed by staging\'s deployer Role', () => {
  const role = stagingFolder().objects.find((o) => o.kind === 'Role' && o.metadata.name === DEPLOYER) as KubeObject & { rules: PolicyRule[] };
  const calls = everyCall.filter((c) => c.environment === 'staging');
  expect(calls.some(({ call }) => call.args.includes('rollout.argoproj.io'))).toBe(true);
  const denied = calls.flatMap(({ call, cwd }) => requestsOf(call, cwd).filter((r) => !rulesAllow(role.rules, r)).map((r) => `${call.args.join(' ')}: ${r.verb} ${r.resource}.${r.group}`));
  expect(denied).toEqual([]);
});

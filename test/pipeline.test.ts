/**
 * The release and deploy jobs of .gitlab-ci.yml, run for real (test/pipeline.ts): `npm run release`
 * in a fresh checkout, git commits and pushes to a scratch repository, kubectl answered by a
 * recorder. Each test follows a release through the pipeline as GitLab would run it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { synthesizeObjects } from '../synth/pipeline';
import { CATALOGUE } from '../environments';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { writeCluster } from './cluster';
import { committedReleaseStates } from './helpers';
import { IMAGE_TOOLS, JobRun, loadPipeline, ROOT, ScratchProject, writeKubectlStub } from './pipeline';

jest.setTimeout(60_000);

const { jobs } = loadPipeline();
const PROD = 'soundcore-kcp-prod';
const STAGING = 'soundcore-kcp-staging';
const STATE = 'environments/production.release.json';

let project: ScratchProject;
beforeAll(() => { project = new ScratchProject(); });
afterAll(() => project?.dispose());

const ok = (run: JobRun) => expect({ status: run.status, log: run.log }).toEqual({ status: 0, log: expect.any(String) });
const calls = (run: JobRun) => run.kubectl.map((c) => c.args.join(' '));
const newBranch = (before: string[]) => project.branches().filter((b) => !before.includes(b));
/** A dotenv report a job wrote (GitLab passes its variables to the jobs that need it). */
const dotenv = (run: JobRun, file: string) => Object.fromEntries(fs.readFileSync(path.join(run.work, file), 'utf8').split('\n').filter(Boolean)
  .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
/** The production cluster as the committed dist/production leaves it, knowledge-service serving with 7 pods. */
let cluster = '';
beforeAll(() => {
  cluster = path.join(project.dir, 'cluster');
  writeCluster(cluster, synthesizeObjects([production], CATALOGUE, committedReleaseStates()).get('production')!, { ready: { 'knowledge-service-blue': 7 } });
});

/** The smoke-test Job of staging knowledge-service v1.1.0 (attempt 1), whatever the hash of its spec. */
const SMOKE_JOB_FILE = /^dist\/production\/64-job-(knowledge-service-smoke-v1-1-0-1-[0-9a-f]{6})\.yaml$/;
let SMOKE_JOB = '';

describe('release jobs: one reviewed commit of exactly the named components', () => {
  test('stage and promote of one component commit its state and dist/ change (new files included) and nothing of the others', () => {
    // GIVEN a release tag
    project.tag('v1.1.0');
    const tagged = project.sha('v1.1.0^{commit}');
    let before = project.branches();

    // WHEN observe:production reads the scale serving now, and release:stage runs for knowledge-service with it
    const observe = project.run(jobs['observe:production'], { pipeline: { tag: 'v1.1.0' }, variables: { KUBE_CONTEXT_PRODUCTION: 'prod' }, fixtures: cluster });
    ok(observe);
    const observed = dotenv(observe, 'observed.env');
    expect(observed).toEqual({ SERVING_ANALYTICS_SERVICE: '3', SERVING_AUTH_SERVICE: '3', SERVING_CONTENT_SERVICE: '3', SERVING_FRONTEND: '3',
      SERVING_KNOWLEDGE_SERVICE: '7', SERVING_SUPPORT_SERVICE: '3' });
    const stage = project.run(jobs['release:stage'], { pipeline: { tag: 'v1.1.0' }, variables: { RELEASE_COMPONENTS: 'knowledge-service', ...observed } });
    ok(stage);
    const [stageBranch] = newBranch(before);
    const stageCommit = project.sha(stageBranch);
    SMOKE_JOB = project.changes(stageCommit).map((c) => SMOKE_JOB_FILE.exec(c.split('\t')[1])?.[1]).find((j) => j !== undefined) ?? '(none)';
    // THEN its commit holds the state file, the idle colour's Deployment and HPA, and the new smoke-test Job and its NetworkPolicy
    // (and the serving colour's autoscaler minimum, raised to the scale serving until finalize; the deploy plan)
    expect(project.changes(stageCommit)).toEqual([
      'M\tdist/production/04-networkpolicy-knowledge-service.yaml',
      'A\tdist/production/04-networkpolicy-smoke-test.yaml',
      'M\tdist/production/44-service-knowledge-service-preview.yaml',
      'M\tdist/production/48-deployment-knowledge-service-green.yaml',
      'M\tdist/production/56-horizontalpodautoscaler-knowledge-service-blue.yaml',
      'M\tdist/production/56-horizontalpodautoscaler-knowledge-service-green.yaml',
      `A\tdist/production/64-job-${SMOKE_JOB}.yaml`,
      'M\tdist/production/allowed-traffic.md',
      'M\tdist/production/deploy-plan.tsv',
      // (the phase the post-deploy verification reads: staged, not judged)
      'M\tdist/production/verify-plan.tsv',
      `M\t${STATE}`,
    ]);
    const staged = JSON.parse(project.show(stageCommit, STATE));
    const committed = JSON.parse(project.show(tagged, STATE));
    // sized to the scale serving when it was staged, in the reviewed change
    expect(staged['knowledge-service']).toMatchObject({ phase: 'staged', tags: { blue: 'v1.0.0', green: 'v1.1.0' }, size: 7 });
    expect(project.show(stageCommit, 'dist/production/56-horizontalpodautoscaler-knowledge-service-green.yaml')).toContain('  minReplicas: 7\n');
    expect({ ...staged, 'knowledge-service': undefined }).toEqual({ ...committed, 'knowledge-service': undefined });

    // and is pushed as one branch with a merge request, one commit on top of the tagged one
    expect(stageBranch).toBe('release/stage-v1.1.0-knowledge-service');
    expect(project.git(project.remote, 'rev-parse', `${stageCommit}^`)).toBe(tagged);
    expect(project.pushes().at(-1)).toEqual({
      ref: `refs/heads/${stageBranch}`, sha: stageCommit,
      options: ['merge_request.create', 'merge_request.target=main', 'merge_request.remove_source_branch'],
    });
    expect(project.git(project.remote, 'log', '-1', '--format=%s', stageCommit)).toBe('release stage v1.1.0 (knowledge-service)');

    // WHEN it is merged and deployed (tests/deploy.test.ts runs the deploy itself), the smoke test waits for its Job
    project.merge(stageBranch);
    const stagedCluster = path.join(project.dir, 'staged-cluster');
    const stagedObjects = synthesizeObjects([production], CATALOGUE, { production: staged }).get('production')!;
    const instance = SMOKE_JOB.replace(/-[0-9a-f]{6}$/, '');
    writeCluster(stagedCluster, stagedObjects, { jobs: { [SMOKE_JOB]: { result: 'Failed', instance } } });
    fs.writeFileSync(path.join(stagedCluster, `logs-job-${SMOKE_JOB}.txt`), 'FAIL: http://knowledge-service-preview:8001/health answered 503\n');
    const failed = project.run(jobs['smoke-test:production'], { variables: { KUBE_CONTEXT_PRODUCTION: 'prod' }, fixtures: stagedCluster });
    // a failed smoke test fails the job, with the Job's log, and is deleted (a kept failed Job keeps KubeJobFailed firing)
    expect(failed.status).toBe(1);
    expect(calls(failed)).toEqual([
      'config use-context prod',
      `-n ${PROD} get job ${SMOKE_JOB} -o json`,
      `-n ${PROD} logs job/${SMOKE_JOB} --all-containers=true`,
      `-n ${PROD} delete job ${SMOKE_JOB}`,
    ]);
    expect(failed.log).toContain('answered 503');
    writeCluster(stagedCluster, stagedObjects, { jobs: { [SMOKE_JOB]: { result: 'Complete', instance } } });
    const smoke = project.run(jobs['smoke-test:production'], { variables: { KUBE_CONTEXT_PRODUCTION: 'prod' }, fixtures: stagedCluster });
    ok(smoke);
    expect(calls(smoke)).toEqual(['config use-context prod', `-n ${PROD} get job ${SMOKE_JOB} -o json`]);

    // WHEN release:promote runs for knowledge-service (every other component is stable)
    before = project.branches();
    const promote = project.run(jobs['release:promote'], { variables: { RELEASE_COMPONENTS: 'knowledge-service' } });
    ok(promote);
    const [promoteBranch] = newBranch(before);
    expect(promoteBranch).toMatch(/^release\/promote-\d+-knowledge-service$/);
    const promoteCommit = project.sha(promoteBranch);
    // THEN traffic moves, and the smoke-test Job and its NetworkPolicy leave dist/: deleted in the commit
    expect(project.changes(promoteCommit)).toEqual([
      'M\tdist/production/04-networkpolicy-knowledge-service.yaml',
      'D\tdist/production/04-networkpolicy-smoke-test.yaml',
      'M\tdist/production/44-service-knowledge-service-preview.yaml',
      'M\tdist/production/44-service-knowledge-service.yaml',
      'M\tdist/production/56-horizontalpodautoscaler-knowledge-service-blue.yaml',
      'M\tdist/production/56-horizontalpodautoscaler-knowledge-service-green.yaml',
      `D\tdist/production/64-job-${SMOKE_JOB}.yaml`,
      // DeploymentUnavailable now watches the colour the Service selects
      'M\tdist/production/90-prometheusrule-soundcore-kcp-user-impact-alerts.yaml',
      'M\tdist/production/allowed-traffic.md',
      'M\tdist/production/deploy-plan.tsv',
      // and so does its runbook page, which shows the expression
      'M\tdist/production/runbooks/deployment-unavailable.md',
      // and verify:production judges the new colour, green, once this is deployed
      'M\tdist/production/verify-plan.tsv',
      `M\t${STATE}`,
    ]);
    expect(project.show(promoteCommit, 'dist/production/verify-plan.tsv').split('\n').filter((l) => l.startsWith('check\tknowledge-service\t'))
      .map((l) => l.split('\t').slice(0, 7))).toEqual([
      ['check', 'knowledge-service', 'green', 'promoted', 'errors', '0.001', '5000'],
      ['check', 'knowledge-service', 'green', 'promoted', 'latency', '0.05', '100'],
    ]);
    // the deploy of this commit may move traffic only with the smoke evidence of the attempt it promotes
    expect(project.show(promoteCommit, 'dist/production/deploy-plan.tsv').split('\n').filter((l) => l.startsWith('traffic\tknowledge-service\t')))
      .toEqual([`traffic\tknowledge-service\tversion\tgreen\tknowledge-service-green\tregistry.gitlab.com/soundcore/kcp/knowledge-service:v1.1.0\tblue\tknowledge-service-blue\tsmoke:${instance}`]);
    project.merge(promoteBranch);
    const promoted = JSON.parse(project.show(promoteCommit, STATE));
    expect(promoted['knowledge-service']).toMatchObject({ phase: 'promoted', active: 'green' });
    expect({ ...promoted, 'knowledge-service': undefined }).toEqual({ ...committed, 'knowledge-service': undefined });
  });

  test('refused: no component named, or any named component that cannot take the step; nothing is pushed', () => {
    const pushes = project.pushes().length;
    const branches = project.branches();

    // run without naming a component, the job does not fall back to every component
    const none = project.run(jobs['release:stage'], { pipeline: { tag: 'v1.1.0' } });
    expect(none.status).not.toBe(0);
    expect(none.log).toContain('RELEASE_COMPONENTS is empty: name the components to stage');
    expect(project.pushes().length).toBe(pushes);
    const blank = project.run(jobs['release:finalize'], { variables: { RELEASE_COMPONENTS: ' ' } });
    expect(blank.status).not.toBe(0);
    expect(blank.log).toContain('RELEASE_COMPONENTS is empty: name the components to finalize');

    // (main as the test above leaves it) knowledge-service was just promoted: finalize waits for its bake time
    const early = project.run(jobs['release:finalize'], { variables: { RELEASE_COMPONENTS: 'knowledge-service' } });
    expect(early.status).not.toBe(0);
    expect(early.log).toMatch(/release refused, nothing changed: production\/knowledge-service: cannot finalize while promoted: .*the bake time has not passed/);
    // knowledge-service can roll back, frontend (stable, one version) cannot: the job stops, nothing is pushed
    const partly = project.run(jobs['release:rollback'], { variables: { RELEASE_COMPONENTS: 'knowledge-service frontend', SERVING_KNOWLEDGE_SERVICE: '7', SERVING_FRONTEND: '3' } });
    expect(partly.status).not.toBe(0);
    expect(partly.log).toContain('production/knowledge-service: rollback -> ');
    expect(partly.log).toContain('release refused, nothing changed: production/frontend: cannot rollback while stable');
    // and a step that records a size refuses to guess one
    const unobserved = project.run(jobs['release:stage'], { pipeline: { tag: 'v1.1.0' }, variables: { RELEASE_COMPONENTS: 'frontend' } });
    expect(unobserved.status).not.toBe(0);
    expect(unobserved.log).toContain('frontend: the scale serving now was not observed (SERVING_...): retry the job that reads it');

    expect(project.pushes().length).toBe(pushes);
    expect(project.branches()).toEqual(branches);
  });
  test('break-glass moves traffic back in the cluster at once, then records it as a release merge request', () => {
    // GIVEN main and the cluster: knowledge-service promoted to v1.1.0 (green), blue still at full size
    const promotedCluster = path.join(project.dir, 'promoted-cluster');
    const state = JSON.parse(project.show('main', STATE));
    writeCluster(promotedCluster, synthesizeObjects([production], CATALOGUE, { production: state }).get('production')!);
    const before = project.branches();

    // WHEN break-glass:production runs for knowledge-service (no install, no tests: only kubectl)
    const glass = project.run(jobs['break-glass:production'], { variables: { KUBE_CONTEXT_PRODUCTION: 'prod', RELEASE_COMPONENTS: 'knowledge-service' }, fixtures: promotedCluster });
    ok(glass);
    // THEN it reads the Service and both colours, and switches the Service (blue already runs 7 ready pods)
    expect(calls(glass)).toEqual([
      'config use-context prod',
      `-n ${PROD} get service knowledge-service -o json`,
      `-n ${PROD} get deployment knowledge-service-green -o json`,
      `-n ${PROD} get deployment knowledge-service-blue -o json`,
      'apply --server-side --field-manager=soundcore-kcp-break-glass --force-conflicts -f -',
    ]);
    expect(JSON.parse(glass.kubectl[4].stdin!).spec).toEqual({ selector: { version: 'blue' } });
    const recorded = dotenv(glass, 'break-glass.env');
    expect(recorded).toEqual({ BREAK_GLASS_SERVING_KNOWLEDGE_SERVICE: '7', RELEASE_COMPONENTS: 'knowledge-service' });

    // WHEN break-glass:record runs with its dotenv THEN a release merge request records what the cluster now does
    const record = project.run(jobs['break-glass:record'], { variables: recorded });
    ok(record);
    const [branch] = newBranch(before);
    expect(branch).toMatch(/^release\/break-glass-\d+-knowledge-service$/);
    const commit = project.sha(branch);
    expect(JSON.parse(project.show(commit, STATE))['knowledge-service']).toMatchObject({
      active: 'blue', phase: 'rolled-back', tags: { blue: 'v1.0.0', green: 'v1.1.0' }, lastGood: 'v1.0.0', failed: ['v1.1.0'], size: 7,
    });
    expect(project.show(commit, 'dist/production/44-service-knowledge-service.yaml')).toContain('    version: blue\n');
    expect(project.git(project.remote, 'log', '-1', '--format=%s', commit)).toBe('release break-glass (knowledge-service)');
  });
});

describe('deploy jobs', () => {
  const image = jobs['deploy:production'].image!.replace(/^\$(\w+)$/, (_m, v: string) => jobs['deploy:production'].variables[v]);

  test('run in a maintained kubectl image of the cluster\'s minor version, pinned, with a shell and only the tools it has', () => {
    // Bitnami moved its versioned tags off bitnami/kubectl in 2025: 1.28.15 no longer pulls.
    expect(image).not.toMatch(/^(docker\.io\/)?bitnami\//);
    expect(Object.keys(IMAGE_TOOLS)).toContain(image);
    expect(IMAGE_TOOLS[image].kubectl).toMatch(/^1\.28\.\d+$/);
    for (const name of ['deploy:staging', 'deploy:production', 'smoke-test:production']) {
      expect([name, jobs[name].image && jobs[name].variables.KUBECTL_IMAGE]).toEqual([name, image]);
    }
  });

  test('deploy:production runs the gated deploy (scripts/deploy.sh, tested in test/deploy.test.ts): a promote is never applied before its stage', () => {
    // GIVEN main holds the promote of knowledge-service (the release test above), but the cluster never got its stage
    const variables = { KUBE_CONTEXT_PRODUCTION: 'soundcore/kcp:production' };
    const refused = project.run(jobs['deploy:production'], { ref: 'main', variables, fixtures: cluster });
    expect(refused.status).toBe(1);
    expect(refused.log).toContain(`deploy refused, nothing applied to ${PROD}:\n  - service/knowledge-service: knowledge-service-green runs `
      + 'registry.gitlab.com/soundcore/kcp/knowledge-service:v1.0.0, not registry.gitlab.com/soundcore/kcp/knowledge-service:v1.1.0');
    expect(calls(refused)).toEqual([
      'config use-context soundcore/kcp:production', `-n ${PROD} get services -o json`, `-n ${PROD} get deployments.apps -o json`,
      `-n ${PROD} get jobs.batch -l app.kubernetes.io/instance=${SMOKE_JOB.replace(/-[0-9a-f]{6}$/, '')} -o json`,
    ]);

    // WHEN the cluster runs the staged version at the scale serving and its smoke test passed THEN the same job applies, prunes, waits
    const state = JSON.parse(project.show('main', STATE));
    const stagedState = { ...state, 'knowledge-service': { ...state['knowledge-service'], active: 'blue', phase: 'staged', previousTag: 'v1.0.0' } };
    delete stagedState['knowledge-service'].promotedAt;
    const stagedCluster = path.join(project.dir, 'deployed-stage');
    writeCluster(stagedCluster, synthesizeObjects([production], CATALOGUE, { production: stagedState }).get('production')!, {
      ready: { 'knowledge-service-blue': 7 },
      jobs: { [SMOKE_JOB]: { result: 'Complete', instance: SMOKE_JOB.replace(/-[0-9a-f]{6}$/, ''), labels: { 'deploy.soundcore-kcp.com/set': 'production' } } },
    });
    const run = project.run(jobs['deploy:production'], { ref: 'main', variables, fixtures: stagedCluster });
    ok(run);
    const deployments = ['analytics-service', 'auth-service', 'content-service', 'frontend', 'knowledge-service', 'support-service']
      .flatMap((c) => [`${c}-blue`, `${c}-green`]);
    expect(calls(run)).toEqual([
      'config use-context soundcore/kcp:production',
      `-n ${PROD} get services -o json`,
      `-n ${PROD} get deployments.apps -o json`,
      `-n ${PROD} get jobs.batch -l app.kubernetes.io/instance=${SMOKE_JOB.replace(/-[0-9a-f]{6}$/, '')} -o json`,
      // everything but the Service that moves traffic, then the target's ready pods, then the whole folder
      expect.stringMatching(/^apply --server-side --field-manager=soundcore-kcp-ci -f dist\/production\/04-networkpolicy-acme-http01-solver\.yaml .*-f dist\/production\/90-servicemonitor-soundcore-kcp-monitor\.yaml$/),
      `-n ${PROD} get deployment knowledge-service-green -o json`,
      'apply --server-side --field-manager=soundcore-kcp-ci -f dist/production',
      // the moment traffic moved, for the bake time of the finalize that follows
      expect.stringMatching(new RegExp(`^-n ${PROD} annotate --overwrite service knowledge-service deploy.soundcore-kcp.com/traffic-moved-at=\\d+ \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`)),
      ...deployments.map((d) => `-n ${PROD} rollout status deployment/${d} --timeout=10m`),
      // once every rollout is done: the smoke-test Job and its NetworkPolicy have left dist/, pruned
      expect.stringMatching(new RegExp(`^-n ${PROD} get configmaps,services,deployments.apps,jobs.batch,.* -l deploy.soundcore-kcp.com/set=production -o json$`)),
      `-n ${PROD} delete job.batch/${SMOKE_JOB} networkpolicy.networking.k8s.io/smoke-test`,
    ]);
  });

  describe('deploy:staging creates db-credentials from CI/CD variables before the apply', () => {
    // passwords with every character that has a meaning in a URL, a percent sign and a non-ASCII letter
    const secrets = {
      POSTGRES_PASSWORD: 'p@ss:w/rd#1%?',
      MONGODB_PASSWORD: 'm0ngo&=+ $ok',
      REDIS_PASSWORD: 'r[e]d!s*(\'),;',
      NEO4J_PASSWORD: 'ne0~4j_-.ä',
    };
    // (a made-up webhook URL of Slack's documented shape https://hooks.slack.com/services/T…/B…/…)
    const webhook = 'https://hooks.slack.com/services/T000/B000/XXXXXXXX';
    const variables = { KUBE_CONTEXT_STAGING: 'soundcore/kcp:staging', ...secrets, ALERTMANAGER_SLACK_WEBHOOK_URL: webhook };

    test('with each password percent-encoded in its URL, never printed or passed as an argument', () => {
      // (the cluster as the apply leaves it: staging's Argo Rollouts are there for the deploy to wait on)
      const stagingCluster = path.join(project.dir, 'staging-cluster');
      writeCluster(stagingCluster, synthesizeObjects([staging], CATALOGUE, { staging: {} }).get('staging')!);
      const run = project.run(jobs['deploy:staging'], { ref: 'main', variables, fixtures: stagingCluster });
      ok(run);
      expect(calls(run).slice(0, 6)).toEqual([
        'config use-context soundcore/kcp:staging',
        'apply --server-side --field-manager=soundcore-kcp-ci -f -',
        'apply --server-side --field-manager=soundcore-kcp-ci -f -',
        `-n ${STAGING} get services -o json`,
        `-n ${STAGING} get deployments.apps -o json`,
        'apply --server-side --field-manager=soundcore-kcp-ci -f dist/staging',
      ]);
      expect(calls(run).slice(6)).toEqual([...['analytics-service', 'auth-service', 'content-service', 'frontend', 'knowledge-service', 'support-service']
        .map((d) => `-n ${STAGING} rollout status deployment/${d} --timeout=5m`),
      ...['content-service', 'knowledge-service'].flatMap((r) => [`-n ${STAGING} get rollout.argoproj.io ${r} -o json`, `-n ${STAGING} get deployment ${r} -o json`]),
      expect.stringMatching(new RegExp(`^-n ${STAGING} get configmaps,.* -l deploy.soundcore-kcp.com/set=staging -o json$`))]);
      const secret = JSON.parse(run.kubectl[1].stdin!);
      expect(secret).toEqual({
        apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
        metadata: { name: 'db-credentials', namespace: STAGING },
        data: expect.any(Object),
      });
      const data = Object.fromEntries(Object.entries(secret.data as { [k: string]: string }).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      const ns = `${STAGING}.svc.cluster.local`;
      expect(data).toEqual({
        'postgres-url': `postgresql://soundcore_user:p%40ss%3Aw%2Frd%231%25%3F@postgres.${ns}:5432/soundcore_kcp`,
        'mongodb-uri': `mongodb://soundcore_user:m0ngo%26%3D%2B%20%24ok@mongodb.${ns}:27017/soundcore_kcp?authSource=admin`,
        'redis-url': `redis://:r%5Be%5Dd%21s%2A%28%27%29%2C%3B@redis.${ns}:6379`,
        'neo4j-uri': `bolt://neo4j:ne0~4j_-.%C3%A4@neo4j.${ns}:7687`,
      });
      // each URL decodes back to the password (what the drivers do)
      expect(decodeURIComponent(new URL(data['postgres-url']).password)).toBe(secrets.POSTGRES_PASSWORD);
      expect(decodeURIComponent(new URL(data['redis-url']).password)).toBe(secrets.REDIS_PASSWORD);
      // and the Slack webhook of staging's alert receiver, as alertmanager-receivers (README "Alert routing")
      expect(JSON.parse(run.kubectl[2].stdin!)).toEqual({
        apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
        metadata: { name: 'alertmanager-receivers', namespace: STAGING },
        data: { 'slack-webhook-url': Buffer.from(webhook).toString('base64') },
      });
      for (const value of [...Object.values(secrets), webhook]) {
        expect(run.log).not.toContain(value);
        for (const c of run.kubectl) expect(c.args.join(' ')).not.toContain(value);
      }
      for (const value of Object.values(data)) expect(run.log).not.toContain(value);
    });

    test('refused before anything is applied when a password variable is missing, naming it', () => {
      const run = project.run(jobs['deploy:staging'], { ref: 'main', variables: { ...variables, NEO4J_PASSWORD: '' } });
      expect(run.status).not.toBe(0);
      expect(run.log).toMatch(/NEO4J_PASSWORD.*not set/);
      expect(calls(run).filter((c) => c.startsWith('apply'))).toEqual([]);
      for (const value of Object.values(secrets)) expect(run.log).not.toContain(value);
    });

    test('refused before either Secret is applied when the receivers\' webhook variable is missing', () => {
      const run = project.run(jobs['deploy:staging'], { ref: 'main', variables: { ...variables, ALERTMANAGER_SLACK_WEBHOOK_URL: '' } });
      expect(run.status).not.toBe(0);
      expect(run.log).toContain('ALERTMANAGER_SLACK_WEBHOOK_URL is not set: staging\'s Secrets need it (a masked, protected CI/CD variable); nothing was applied');
      expect(calls(run).filter((c) => c.startsWith('apply'))).toEqual([]);
    });
  });
});

test('the harness runs what the file says: every job it runs exists with a script', () => {
  for (const name of ['release:stage', 'release:promote', 'release:finalize', 'release:rollback', 'deploy:staging', 'deploy:production', 'smoke-test:production',
    'observe:production', 'break-glass:production', 'break-glass:record']) {
    expect([name, jobs[name]?.lines.length > 0]).toEqual([name, true]);
  }
  expect(path.basename(project.remote)).toBe('remote.git');
});

test('the kubectl recorder answers `get -o json` from fixtures of a 1.28 cluster, and NotFound otherwise', () => {
  const fixtures = path.join(__dirname, 'fixtures', 'kubectl', 'staged');
  const record = path.join(project.dir, 'get.jsonl');
  const kubectl = (...args: string[]) => spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'kubectl', 'recorder.js'), ...args],
    { encoding: 'utf8', env: { ...process.env, KUBECTL_RECORD: record, KUBECTL_FIXTURES: fixtures } });
  const found = kubectl('-n', PROD, 'get', 'deployment', 'knowledge-service-green', '-o', 'json');
  expect(found.status).toBe(0);
  expect(JSON.parse(found.stdout)).toMatchObject({ kind: 'Deployment', status: { readyReplicas: 5, observedGeneration: 4 } });
  const missing = kubectl('-n', PROD, 'get', 'job', 'nothing', '-o', 'json');
  expect([missing.status, missing.stderr]).toEqual([1, 'Error from server (NotFound): jobs "nothing" not found\n']);
});

test('the kubectl stand-in on the jobs\' PATH answers, records and exits exactly as recorder.js run as a program', async () => {
  // GIVEN the stand-in (a client of the recorder server) and recorder.js itself, each with its own record
  const bin = path.join(project.dir, 'stand-in');
  fs.mkdirSync(bin);
  writeKubectlStub(bin);
  for (let waited = 0; !fs.existsSync(path.join(bin, '.kubectl-port')) && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  expect(fs.existsSync(path.join(bin, '.kubectl-port'))).toBe(true);
  const dir = path.join(ROOT, 'dist', 'production');
  // WHEN both get the same calls: a fixture, a List by selector, NotFound, a folder apply, a manifest on stdin that does
  // not parse, arguments with spaces and quotes, an unknown call
  const script = (kubectl: string) => [
    `${kubectl} -n ${PROD} get deployment knowledge-service-green -o json`,
    `${kubectl} get deployments.apps,jobs -l app=knowledge-service -o json`,
    `${kubectl} get job nothing -o json`,
    `${kubectl} apply --server-side -f ${dir}`,
    `printf 'not: [yaml' | ${kubectl} apply -f -`,
    `${kubectl} annotate service 'a b' "c'd=e"`,
    `${kubectl} scale deployment x --replicas=2`,
  ].map((c) => `${c}; echo "exit $?"`).join('\n');
  const run = (kubectl: string, record: string) => {
    const result = spawnSync('bash', ['-c', script(kubectl)], {
      cwd: project.dir, encoding: 'utf8', env: { PATH: process.env.PATH, KUBECTL_RECORD: record, KUBECTL_FIXTURES: path.join(__dirname, 'fixtures', 'kubectl', 'staged') },
    });
    return { stdout: result.stdout, stderr: result.stderr, record: fs.readFileSync(record, 'utf8') };
  };
  const standIn = run(path.join(bin, 'kubectl'), path.join(project.dir, 'stand-in.jsonl'));
  const recorder = run(`${process.execPath} ${path.join(__dirname, 'fixtures', 'kubectl', 'recorder.js')}`, path.join(project.dir, 'recorder.jsonl'));
  // THEN stdout, stderr, exit codes and records are the same, byte for byte
  expect(standIn).toEqual(recorder);
  expect(standIn.stdout).toContain('exit 97\n');
  expect(standIn.record.split('\n').filter(Boolean)).toHaveLength(7);
});

/**
 * The release and deploy jobs of .gitlab-ci.yml, run for real (test/pipeline.ts): `npm run release`
 * in a fresh checkout, git commits and pushes to a scratch repository, kubectl answered by a
 * recorder. Each test follows a release through the pipeline as GitLab would run it.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { IMAGE_TOOLS, JobRun, loadPipeline, ScratchProject } from './pipeline';

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

/** The smoke-test Job of staging knowledge-service v1.1.0 (attempt 1), whatever the hash of its spec. */
const SMOKE_JOB_FILE = /^dist\/production\/64-job-(knowledge-service-smoke-v1-1-0-1-[0-9a-f]{6})\.yaml$/;
let SMOKE_JOB = '';

describe('release jobs: one reviewed commit of exactly the named components', () => {
  test('stage and promote of one component commit its state and dist/ change (new files included) and nothing of the others', () => {
    // GIVEN a release tag
    project.tag('v1.1.0');
    const tagged = project.sha('v1.1.0^{commit}');
    let before = project.branches();

    // WHEN release:stage runs for knowledge-service
    const stage = project.run(jobs['release:stage'], { pipeline: { tag: 'v1.1.0' }, variables: { RELEASE_COMPONENTS: 'knowledge-service' } });
    ok(stage);
    const [stageBranch] = newBranch(before);
    const stageCommit = project.sha(stageBranch);
    SMOKE_JOB = project.changes(stageCommit).map((c) => SMOKE_JOB_FILE.exec(c.split('\t')[1])?.[1]).find((j) => j !== undefined) ?? '(none)';
    // THEN its commit holds the state file, the idle colour's Deployment and HPA, and the new smoke-test Job and its NetworkPolicy
    expect(project.changes(stageCommit)).toEqual([
      'M\tdist/production/04-networkpolicy-knowledge-service.yaml',
      'A\tdist/production/04-networkpolicy-smoke-test.yaml',
      'M\tdist/production/44-service-knowledge-service-preview.yaml',
      'M\tdist/production/48-deployment-knowledge-service-green.yaml',
      'M\tdist/production/56-horizontalpodautoscaler-knowledge-service-green.yaml',
      `A\tdist/production/64-job-${SMOKE_JOB}.yaml`,
      'M\tdist/production/allowed-traffic.md',
      `M\t${STATE}`,
    ]);
    const staged = JSON.parse(project.show(stageCommit, STATE));
    const committed = JSON.parse(project.show(tagged, STATE));
    expect(staged['knowledge-service']).toMatchObject({ phase: 'staged', tags: { blue: 'v1.0.0', green: 'v1.1.0' } });
    expect({ ...staged, 'knowledge-service': undefined }).toEqual({ ...committed, 'knowledge-service': undefined });

    // and is pushed as one branch with a merge request, one commit on top of the tagged one
    expect(stageBranch).toBe('release/stage-v1.1.0-knowledge-service');
    expect(project.git(project.remote, 'rev-parse', `${stageCommit}^`)).toBe(tagged);
    expect(project.pushes().at(-1)).toEqual({
      ref: `refs/heads/${stageBranch}`, sha: stageCommit,
      options: ['merge_request.create', 'merge_request.target=main', 'merge_request.remove_source_branch'],
    });
    expect(project.git(project.remote, 'log', '-1', '--format=%s', stageCommit)).toBe('release stage v1.1.0 (knowledge-service)');

    // WHEN it is merged and deployed (deploy:production is run on its own below), the smoke test waits for its Job
    project.merge(stageBranch);
    const smokeJob = `job/${SMOKE_JOB}`;
    const failed = project.run(jobs['smoke-test:production'], {
      variables: { KUBE_CONTEXT_PRODUCTION: 'prod' },
      kubectl: [
        { match: ['wait', smokeJob], exit: 1, stderr: `error: timed out waiting for the condition on jobs/${smokeJob.slice(4)}\n` },
        { match: ['logs', smokeJob], stdout: 'curl: (22) The requested URL returned error: 503\n' },
      ],
    });
    // a smoke test that does not complete fails the job, with the Job's log
    expect(failed.status).toBe(1);
    expect(calls(failed)).toEqual([
      'config use-context prod',
      `-n ${PROD} wait --for=condition=complete ${smokeJob} --timeout=5m`,
      `-n ${PROD} logs ${smokeJob}`,
    ]);
    expect(failed.log).toContain('returned error: 503');
    const smoke = project.run(jobs['smoke-test:production'], { variables: { KUBE_CONTEXT_PRODUCTION: 'prod' } });
    ok(smoke);
    expect(calls(smoke)).toEqual(['config use-context prod', `-n ${PROD} wait --for=condition=complete ${smokeJob} --timeout=5m`]);

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
      `M\t${STATE}`,
    ]);
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

    // (main as the test above leaves it) knowledge-service is promoted; frontend is stable and cannot be finalized
    const partly = project.run(jobs['release:finalize'], { variables: { RELEASE_COMPONENTS: 'knowledge-service frontend' } });
    expect(partly.status).not.toBe(0);
    expect(partly.log).toContain('production/knowledge-service: finalize -> ');
    expect(partly.log).toContain('release refused, nothing changed: production/frontend: cannot finalize while stable');

    expect(project.pushes().length).toBe(pushes);
    expect(project.branches()).toEqual(branches);
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

  test('deploy:production applies dist/production server-side, then waits for every Deployment in file order', () => {
    const run = project.run(jobs['deploy:production'], { ref: 'main', variables: { KUBE_CONTEXT_PRODUCTION: 'soundcore/kcp:production' } });
    ok(run);
    const deployments = ['analytics-service', 'auth-service', 'content-service', 'frontend', 'knowledge-service', 'support-service']
      .flatMap((c) => [`${c}-blue`, `${c}-green`]);
    expect(calls(run)).toEqual([
      'config use-context soundcore/kcp:production',
      'apply --server-side --field-manager=soundcore-kcp-ci -f dist/production',
      ...deployments.map((d) => `-n ${PROD} rollout status deployment/${d} --timeout=10m`),
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
    const variables = { KUBE_CONTEXT_STAGING: 'soundcore/kcp:staging', ...secrets };

    test('with each password percent-encoded in its URL, never printed or passed as an argument', () => {
      const run = project.run(jobs['deploy:staging'], { ref: 'main', variables });
      ok(run);
      expect(calls(run).slice(0, 3)).toEqual([
        'config use-context soundcore/kcp:staging',
        'apply --server-side --field-manager=soundcore-kcp-ci -f -',
        'apply --server-side --field-manager=soundcore-kcp-ci -f dist/staging',
      ]);
      expect(calls(run).slice(3)).toEqual(['analytics-service', 'auth-service', 'content-service', 'frontend', 'knowledge-service', 'support-service']
        .map((d) => `-n ${STAGING} rollout status deployment/${d} --timeout=5m`));
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
      for (const value of Object.values(secrets)) {
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
  });
});

test('the harness runs what the file says: every job it runs exists with a script', () => {
  for (const name of ['release:stage', 'release:promote', 'release:finalize', 'release:rollback', 'deploy:staging', 'deploy:production', 'smoke-test:production']) {
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

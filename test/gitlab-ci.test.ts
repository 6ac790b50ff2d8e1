import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { ROOT } from '../synth/root';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Job = { [key: string]: any };
const RESERVED = new Set(['stages', 'variables', 'default', 'workflow', 'include', 'image', 'services', 'cache', 'before_script', 'after_script']);

const raw = YAML.parse(fs.readFileSync(path.join(ROOT, '.gitlab-ci.yml'), 'utf8'), { merge: true }) as Job;
const stages: string[] = raw.stages;
const variables: { [k: string]: string } = raw.variables;

/** Jobs with `extends` resolved (one level of hidden templates is all the file uses). */
const jobs: { [name: string]: Job } = Object.fromEntries(Object.entries(raw)
  .filter(([name]) => !RESERVED.has(name) && !name.startsWith('.'))
  .map(([name, job]) => [name, { ...(job.extends ? raw[job.extends] : {}), ...job }]));

const script = (job: Job) => (job.script as unknown[]).flat(10).join('\n');
const isManual = (job: Job) => (job.rules ?? []).every((r: Job) => r.when === 'manual');
const needsOf = (name: string): string[] => (jobs[name].needs ?? []).map((n: string | { job: string }) => (typeof n === 'string' ? n : n.job));
const dependsOn = (name: string, target: string): boolean => needsOf(name).some((n) => n === target || dependsOn(n, target));

describe('the users\' GitLab pipeline', () => {
  test('has install, lint, test, synth, validate, deploy and release stages, and every job is in one of them', () => {
    expect(stages).toEqual(['install', 'lint', 'test', 'synth', 'validate', 'deploy', 'release']);
    for (const [name, job] of Object.entries(jobs)) expect([name, stages.includes(job.stage)]).toEqual([name, true]);
  });

  test('every script line of every job and template is a command string (no accidental YAML mappings)', () => {
    for (const [name, job] of Object.entries(raw as Job)) {
      for (const key of ['script', 'before_script', 'after_script']) {
        for (const line of ((job as Job)?.[key] ?? []).flat(10)) expect([name, typeof line]).toEqual([name, 'string']);
      }
    }
  });

  test('every needed job exists', () => {
    for (const name of Object.keys(jobs)) {
      for (const need of needsOf(name)) expect([name, need, need in jobs]).toEqual([name, need, true]);
    }
  });

  test('every deploy and release job depends on validate', () => {
    const gated = Object.keys(jobs).filter((n) => n.startsWith('deploy:') || n.startsWith('release:') || n.startsWith('smoke-test:'));
    expect(gated.length).toBeGreaterThanOrEqual(7);
    for (const name of gated) expect([name, dependsOn(name, 'validate')]).toEqual([name, true]);
  });

  test('staging deploys dist/staging server-side on the default branch; production is manual', () => {
    expect(jobs['deploy:staging'].rules).toEqual([{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }]);
    expect(script(jobs['deploy:staging'])).toContain('sh scripts/deploy.sh apply dist/staging');
    expect(isManual(jobs['deploy:production'])).toBe(true);
    expect(script(jobs['deploy:production'])).toContain('sh scripts/deploy.sh apply dist/production');
    for (const action of ['stage', 'promote', 'finalize', 'rollback']) {
      const job = jobs[`release:${action}`];
      expect([action, isManual(job)]).toEqual([action, true]);
      expect(job.variables.RELEASE_ACTION).toBe(action);
      expect(script(job)).toContain('npm run -s release -- production "$c" $RELEASE_ACTION $RELEASE_TAG ${serving:+--serving "$serving"}');
    }
    // stage and rollback record the scale observe:production read; break-glass:record the one break-glass used
    expect(jobs['release:stage'].needs).toEqual(['validate', 'observe:production']);
    expect(jobs['release:rollback'].needs).toEqual(['validate', 'observe:production']);
    expect(jobs['break-glass:record'].needs).toEqual(['break-glass:production']);
    expect(script(jobs['smoke-test:production'])).toContain('sh scripts/deploy.sh smoke dist/production');
    // break-glass waits for nothing: no install, no tests, no other deploy
    expect(jobs['break-glass:production'].needs).toEqual([]);
    expect(isManual(jobs['break-glass:production'])).toBe(true);
  });

  test('tests with the README command and fails synth when dist/ is stale', () => {
    expect(script(jobs.test)).toMatch(/^npm test$/m);
    expect(script(jobs.synth)).toContain('npm run synth');
    expect(script(jobs.synth)).toContain('test -z "$(git status --porcelain -- dist environments)"');
    expect(script(jobs.validate)).toContain('npm run validate');
  });

  test('uses pinned images and caches npm by lock file', () => {
    const images = [raw.default.image, ...Object.values(jobs).map((j) => j.image?.name ?? j.image)]
      .filter(Boolean).map((i: string) => i.replace(/^\$(\w+)$/, (_m, v) => variables[v]));
    for (const image of images) expect(image).toMatch(/^[a-z0-9./-]+:\d+\.\d+\.\d+[\w.-]*$/);
    expect(raw.default.cache.key).toEqual({ files: ['package-lock.json'] });
    expect(jobs.install.cache.policy).toBe('pull-push');
    expect(variables.npm_config_cache).toBe('$CI_PROJECT_DIR/.npm');
  });

  test('turns the cdk8s CLI\'s upgrade check off in every job (test/ci.test.ts proves the CLI obeys it)', () => {
    expect(variables.CDK8S_CHECK_UPGRADE).toBe('false');
    for (const [name, job] of Object.entries(jobs)) expect([name, job.variables?.CDK8S_CHECK_UPGRADE]).toEqual([name, undefined]);
  });
});

describe('the review job', () => {
  const job = jobs.review;

  test('runs on merge requests only, with the history the merge base needs, and publishes the report whatever happens', () => {
    expect(job.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
    expect(job.needs).toEqual(['install']);
    expect(job.variables).toEqual({ GIT_DEPTH: '0' });
    expect(job.artifacts).toEqual({ when: 'always', expose_as: 'review report', paths: ['review.md', 'review.json'] });
    expect(script(job)).toContain('npm run -s review -- "$CI_MERGE_REQUEST_DIFF_BASE_SHA" --write-markdown review.md --write-json review.json --fail-on blocking');
  });

  /** Runs the job's script after `npm ci` in bash -e (as the runner does), with npm and curl replaced by recorders. */
  function runJob(npmExit: number, token: string | undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-review-job-'));
    try {
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\necho "npm $*" >> calls\necho report > review.md\nexit ${npmExit}\n`, { mode: 0o755 });
      fs.writeFileSync(path.join(bin, 'curl'), '#!/bin/sh\necho "curl $*" >> calls\n', { mode: 0o755 });
      const lines = (job.script as unknown[]).slice(1).flat(10).join('\n');
      const env: { [k: string]: string } = {
        PATH: `${bin}:${process.env.PATH}`, CI_MERGE_REQUEST_DIFF_BASE_SHA: '0123abcd', CI_API_V4_URL: 'https://gitlab.example.com/api/v4',
        CI_PROJECT_ID: '42', CI_MERGE_REQUEST_IID: '7', ...(token === undefined ? {} : { REVIEW_NOTE_TOKEN: token }),
      };
      const result = spawnSync('bash', ['-e', '-c', lines], { cwd: dir, env, encoding: 'utf8' });
      return { status: result.status, calls: fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  const NPM = 'npm run -s review -- 0123abcd --write-markdown review.md --write-json review.json --fail-on blocking';
  const CURL = 'curl --fail --silent --show-error --output /dev/null --request POST --header PRIVATE-TOKEN: glpat-test '
    + '--data-urlencode body@review.md https://gitlab.example.com/api/v4/projects/42/merge_requests/7/notes';

  test('posts the report as a merge-request note with a token, and fails after posting when a line is blocking', () => {
    expect(runJob(0, 'glpat-test')).toEqual({ status: 0, calls: [NPM, CURL] });
    expect(runJob(1, 'glpat-test')).toEqual({ status: 1, calls: [NPM, CURL] });
  });

  test('without a token, publishes only the artifact; the review\'s status is the job\'s', () => {
    expect(runJob(2, undefined)).toEqual({ status: 2, calls: [NPM] });
  });
});

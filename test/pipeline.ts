/**
 * Runs jobs of `.gitlab-ci.yml` for real, the way a GitLab runner's shell does: the job's
 * `before_script` and `script` lines (after `extends` and `default`) in one bash script under
 * `set -eo pipefail`, each line echoed as `$ <line>` before it runs, with the job's variables
 * (predefined CI variables, then the file's global `variables`, then the job's, then the variables a
 * user gives a manual job, each expanded like the runner does). The checkout is a fresh clone of a
 * scratch bare repository at the pipeline's commit, detached as the runner leaves it.
 *
 * What is replaced, and only that:
 * - `kubectl` by test/fixtures/kubectl/recorder.js (logs every call, answers like kubectl 1.28);
 * - `npm ci` by a no-op (node_modules is linked in); `npm run [-s] <script> -- <args>` runs the
 *   package.json script exactly as npm would (`sh -c "<script> \"$@\""`), without npm's start-up;
 * - the push URL `https://release-bot:<token>@<host>/<project>.git` by the scratch repository (git's
 *   `url.<base>.insteadOf`); the repository records each push's refs and push options (`-o`).
 *
 * A job that runs in the kubectl image gets a PATH holding only the tools that image has
 * ({@link IMAGE_TOOLS}), so a script calling anything else fails here as it would in CI.
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';

export const ROOT = path.resolve(__dirname, '..');
const RECORDER = path.join(__dirname, 'fixtures', 'kubectl', 'recorder.js');
const SERVER = path.join(__dirname, 'fixtures', 'kubectl', 'server.js');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * The tools of the images the jobs run in, beyond the shell's builtins. `alpine/k8s:<v>`
 * (github.com/alpine-docker/k8s, Dockerfile): Alpine with busybox, `apk add bash curl git jq yq
 * gettext python3`, and kubectl <v> in /usr/bin. Jobs in other images (the Node image) get the
 * host's PATH.
 */
export const IMAGE_TOOLS: { readonly [image: string]: { readonly kubectl: string; readonly tools: readonly string[] } } = {
  'alpine/k8s:1.28.15': {
    kubectl: '1.28.15',
    tools: ['sh', 'bash', 'env', 'cat', 'ls', 'sed', 'grep', 'tr', 'cut', 'sort', 'head', 'tail', 'wc', 'base64', 'mktemp',
      'rm', 'mkdir', 'cp', 'mv', 'date', 'sleep', 'xargs', 'awk', 'basename', 'dirname', 'git', 'curl', 'jq', 'envsubst'],
  },
};

export interface Job {
  readonly name: string;
  readonly stage: string;
  readonly image: string | undefined;
  readonly variables: { readonly [name: string]: string };
  readonly lines: readonly string[];
  readonly raw: Json;
}

const RESERVED = new Set(['stages', 'variables', 'default', 'workflow', 'include', 'image', 'services', 'cache', 'before_script', 'after_script']);

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** GitLab's `extends` merge: hashes deep-merged, everything else (arrays included) replaced. */
function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(base[k]) ? merge(base[k], v) : v;
  return out;
}

/** The jobs of a `.gitlab-ci.yml`, with `extends`, `default` and global variables resolved. */
export function loadPipeline(file = path.join(ROOT, '.gitlab-ci.yml')): { readonly jobs: { readonly [name: string]: Job }; readonly raw: Json } {
  const raw = YAML.parse(fs.readFileSync(file, 'utf8'), { merge: true }) as Json;
  const resolve = (name: string, seen: string[] = []): Json => {
    if (seen.includes(name)) throw new Error(`extends cycle: ${[...seen, name].join(' -> ')}`);
    const job = raw[name];
    if (!isObject(job)) throw new Error(`no job or template ${name}`);
    const parents: string[] = job.extends === undefined ? [] : [job.extends].flat();
    return merge(parents.reduce((acc: Json, p) => merge(acc, resolve(p, [...seen, name])), {}), job);
  };
  const defaults: Json = raw.default ?? {};
  const jobs: { [name: string]: Job } = {};
  for (const name of Object.keys(raw).filter((n) => !RESERVED.has(n) && !n.startsWith('.'))) {
    const job = resolve(name);
    const image = job.image ?? defaults.image ?? raw.image;
    const lines = [job.before_script ?? defaults.before_script ?? raw.before_script ?? [], job.script ?? []].flat(10) as string[];
    jobs[name] = {
      name, stage: job.stage, raw: job, lines,
      image: typeof image === 'string' ? image : image?.name,
      variables: { ...raw.variables, ...job.variables },
    };
  }
  return { jobs, raw };
}

/** `$VAR` and `${VAR}` expanded from `env` (unknown ones become empty), as the runner expands variables. */
export function expand(value: string, env: { readonly [name: string]: string | undefined }): string {
  return value.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_m, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? '');
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A scratch GitLab: a bare repository standing for the project, and a place for job checkouts. */
export class ScratchProject {
  public readonly dir: string;
  public readonly remote: string;
  /** The files every checkout is made of (copied from this working tree), with node_modules linked. */
  private readonly seed: string;
  private readonly stubs: string;
  /** Where the host has each tool of {@link IMAGE_TOOLS}. */
  private readonly hostTools: Map<string, string>;
  private jobCount = 0;

  /** Copies the project's tracked files (as they are in the working tree) into a scratch repository. */
  constructor(options: { readonly exclude?: readonly string[] } = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-pipeline-'));
    this.seed = path.join(this.dir, 'seed');
    this.remote = path.join(this.dir, 'remote.git');
    this.stubs = path.join(this.dir, 'stubs');
    const exclude = options.exclude ?? ['test/', 'pulumi/'];
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0')
      .filter((f) => f !== '' && !exclude.some((e) => f.startsWith(e)) && fs.existsSync(path.join(ROOT, f)));
    for (const f of tracked) {
      fs.mkdirSync(path.dirname(path.join(this.seed, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(this.seed, f));
    }
    this.git(this.dir, 'init', '-q', '--bare', '-b', 'main', this.remote);
    this.git(this.remote, 'config', 'receive.advertisePushOptions', 'true');
    const hook = path.join(this.remote, 'hooks', 'post-receive');
    fs.writeFileSync(hook, [
      '#!/bin/sh',
      '# one line per pushed ref: "<old> <new> <ref> [push options]"',
      'opts=; i=0; while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do eval "opts=\\"$opts \\$GIT_PUSH_OPTION_$i\\""; i=$((i + 1)); done',
      'while read -r old new ref; do echo "$old $new $ref$opts" >> pushes.log; done',
      '',
    ].join('\n'), { mode: 0o755 });
    this.git(this.seed, 'init', '-q', '-b', 'main');
    this.git(this.seed, 'add', '-A');
    this.git(this.seed, '-c', 'user.name=Seed', '-c', 'user.email=seed@example.com', 'commit', '-q', '-m', 'seed');
    this.git(this.seed, 'push', '-q', this.remote, 'main');
    fs.writeFileSync(path.join(this.remote, 'pushes.log'), '');
    // (linked after the commit: `node_modules/` in .gitignore ignores directories, not a symlink)
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(this.seed, 'node_modules'), 'dir');
    // a warm bundle cache for the release command (git-ignored, so not in the repository): the working
    // tree's, when there is one (run.js rebuilds it unless every input has the content it was built from)
    fs.mkdirSync(path.join(this.seed, '.build'));
    for (const f of ['scripts__release.js', 'scripts__release.js.meta.json', 'scripts__release.js.v8cache']) {
      if (fs.existsSync(path.join(ROOT, '.build', f))) fs.copyFileSync(path.join(ROOT, '.build', f), path.join(this.seed, '.build', f));
    }
    execFileSync(process.execPath, ['scripts/run.js', 'scripts/release.ts', 'production', 'status'], { cwd: this.seed, stdio: 'ignore' });
    fs.mkdirSync(this.stubs);
    const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as { [name: string]: string };
    const tools = [...new Set(Object.values(IMAGE_TOOLS).flatMap((i) => i.tools))];
    const found = spawnSync('sh', ['-c', tools.map((t) => `printf '%s\\t%s\\n' ${t} "$(command -v ${t})"`).join('; ')], { encoding: 'utf8' }).stdout;
    this.hostTools = new Map(found.split('\n').map((l) => l.split('\t')).filter(([, p]) => p?.startsWith('/')) as [string, string][]);
    writeKubectlStub(this.stubs);
    fs.writeFileSync(path.join(this.stubs, 'npm'), [
      '#!/bin/sh',
      'if [ "$1" = ci ]; then echo "(npm ci: node_modules is linked in)"; exit 0; fi',
      'if [ "$1" = run ]; then',
      '  shift; [ "$1" = -s ] && shift; name=$1; shift; [ "$1" = -- ] && shift',
      '  # the scripts of package.json (the checkouts have the one of this working tree)',
      '  case $name in',
      ...Object.entries(scripts).map(([name, script]) => `    ${sh(name)}) script=${sh(script)} ;;`),
      '    *) echo "npm error Missing script: \\"$name\\"" >&2; exit 1 ;;',
      '  esac',
      `  PATH="$PWD/node_modules/.bin:$(dirname ${sh(process.execPath)}):$PATH" exec sh -c "$script \\"\\$@\\"" npm-run "$@"`,
      'fi',
      'echo "npm stub: unexpected npm $*" >&2; exit 97',
      '',
    ].join('\n'), { mode: 0o755 });
  }

  public git(cwd: string, ...args: string[]): string {
    return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: this.dir } }).trim();
  }

  /** The commit a ref of the scratch repository points at. */
  public sha(ref: string): string {
    return this.git(this.remote, 'rev-parse', ref);
  }

  /** Tags `ref` (annotated, like a release tag) in the scratch repository. */
  public tag(name: string, ref = 'main'): void {
    this.git(this.remote, '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'tag', '-a', '-m', name, name, ref);
  }

  /** A merge request merged: the default branch fast-forwarded to `branch`. */
  public merge(branch: string): void {
    this.git(this.remote, 'merge-base', '--is-ancestor', 'main', branch);
    this.git(this.remote, 'update-ref', 'refs/heads/main', this.sha(branch));
  }

  /** Branches of the scratch repository. */
  public branches(): string[] {
    return this.git(this.remote, 'for-each-ref', '--format=%(refname:short)', 'refs/heads').split('\n').filter(Boolean);
  }

  /** Pushes received so far: ref, new commit and push options. */
  public pushes(): { ref: string; sha: string; options: string[] }[] {
    return fs.readFileSync(path.join(this.remote, 'pushes.log'), 'utf8').split('\n').filter(Boolean).map((l) => {
      const [, sha, ref, ...options] = l.split(' ');
      return { ref, sha, options };
    });
  }

  /** `git diff-tree --name-status` of a commit against its parent: ["A\tdist/…", …]. */
  public changes(sha: string): string[] {
    return this.git(this.remote, 'diff-tree', '--no-commit-id', '--name-status', '-r', sha).split('\n').filter(Boolean);
  }

  /** A file's content at a commit. */
  public show(sha: string, file: string): string {
    return this.git(this.remote, 'show', `${sha}:${file}`);
  }

  /**
   * Runs `job` in a fresh checkout of `ref` as a pipeline of `pipeline` (a branch or a tag): returns
   * its exit code, its output (stdout and stderr interleaved, as a job log) and the kubectl calls.
   */
  public run(job: Job, options: {
    readonly ref?: string;
    readonly pipeline?: { readonly branch: string } | { readonly tag: string };
    /** Variables given when running a manual job, and CI/CD settings variables. */
    readonly variables?: { readonly [name: string]: string };
    /** Scripted kubectl answers (see recorder.js). */
    readonly kubectl?: readonly Json[];
    /** Folder of `kubectl get <kind> <name> -o json` fixtures. */
    readonly fixtures?: string;
  } = {}): JobRun {
    const n = ++this.jobCount;
    const pipeline = options.pipeline ?? { branch: 'main' };
    const ref = options.ref ?? ('tag' in pipeline ? pipeline.tag : pipeline.branch);
    const sha = this.git(this.remote, 'rev-parse', `${ref}^{commit}`);
    const work = path.join(this.dir, `job-${n}`);
    this.git(this.dir, 'clone', '-q', '--no-checkout', this.remote, work);
    this.git(work, 'checkout', '-q', '--detach', sha);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'), 'dir');
    fs.cpSync(path.join(this.seed, '.build'), path.join(work, '.build'), { recursive: true });

    const record = path.join(this.dir, `kubectl-${n}.jsonl`);
    fs.writeFileSync(record, '');
    const answers = path.join(this.dir, `answers-${n}.json`);
    fs.writeFileSync(answers, JSON.stringify(options.kubectl ?? []));

    const image = job.image === undefined ? undefined : expand(job.image, job.variables);
    let PATH = `${this.stubs}:${process.env.PATH}`;
    if (image !== undefined && IMAGE_TOOLS[image] !== undefined) {
      const bin = path.join(this.dir, `image-${n}`);
      fs.mkdirSync(bin);
      for (const tool of IMAGE_TOOLS[image].tools) {
        const found = this.hostTools.get(tool);
        if (found !== undefined) fs.symlinkSync(found, path.join(bin, tool));
      }
      fs.symlinkSync(path.join(this.stubs, 'kubectl'), path.join(bin, 'kubectl'));
      PATH = bin;
    }
    const host = 'gitlab.example.com';
    const project = 'soundcore/kcp';
    const token = 'glpat-release-bot-token';
    const predefined: { [k: string]: string } = {
      CI: 'true', GITLAB_CI: 'true', CI_PROJECT_DIR: work, CI_DEFAULT_BRANCH: 'main', CI_COMMIT_SHA: sha,
      CI_PIPELINE_ID: String(4000 + n), CI_JOB_ID: String(9000 + n), CI_JOB_NAME: job.name, CI_SERVER_HOST: host,
      CI_PROJECT_PATH: project, CI_PIPELINE_SOURCE: 'push', RELEASE_BOT_TOKEN: token,
      ...('tag' in pipeline ? { CI_COMMIT_TAG: pipeline.tag, CI_COMMIT_REF_NAME: pipeline.tag } : { CI_COMMIT_BRANCH: pipeline.branch, CI_COMMIT_REF_NAME: pipeline.branch }),
    };
    const env: { [k: string]: string } = { ...predefined };
    for (const [k, v] of Object.entries(job.variables)) env[k] = expand(String(v), env);
    Object.assign(env, options.variables);

    const script = ['set -eo pipefail', ...job.lines.flatMap((l) => [`printf '%s\\n' ${sh(`$ ${l}`)}`, l])].join('\n');
    const result = spawnSync('bash', ['-c', script], {
      cwd: work, encoding: 'utf8', timeout: 60_000,
      env: {
        ...env, PATH, HOME: this.dir, GIT_CONFIG_NOSYSTEM: '1', LANG: 'C.UTF-8',
        KUBECTL_RECORD: record, KUBECTL_ANSWERS: answers, ...(options.fixtures ? { KUBECTL_FIXTURES: options.fixtures } : {}),
        // the runner's push URL goes to the scratch repository
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: `url.${this.remote}.insteadOf`,
        GIT_CONFIG_VALUE_0: `https://release-bot:${token}@${host}/${project}.git`,
      },
    });
    const kubectl = fs.readFileSync(record, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as KubectlCall);
    return { status: result.status, log: `${result.stdout}${result.stderr}`, stdout: result.stdout, stderr: result.stderr, kubectl, work };
  }

  public dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A PATH for a script running in `image` ({@link IMAGE_TOOLS}): a folder `<dir>/bin` holding links to
 * the host's copies of exactly the image's tools, and the kubectl stand-in.
 */
export function imagePath(dir: string, image: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const tools = IMAGE_TOOLS[image].tools;
  const found = spawnSync('sh', ['-c', tools.map((t) => `printf '%s\\t%s\\n' ${t} "$(command -v ${t})"`).join('; ')], { encoding: 'utf8' }).stdout;
  for (const [tool, where] of found.split('\n').map((l) => l.split('\t'))) {
    if (where?.startsWith('/')) fs.symlinkSync(where, path.join(bin, tool));
  }
  writeKubectlStub(bin);
  return bin;
}

/**
 * Writes `<dir>/kubectl`: a bash stand-in that asks recorder.js's answer of a recorder server
 * (test/fixtures/kubectl/server.js, one Node process for the stand-ins of `dir`, started here) over a
 * local connection with bash's own /dev/tcp, so that a call starts no Node (a deploy makes dozens):
 * same record, same answer, same exit code. While the server is not listening (yet), recorder.js
 * answers the call itself. The server stops when `dir` is removed or this process exits.
 */
export function writeKubectlStub(dir: string): void {
  const token = crypto.randomBytes(12).toString('hex');
  const server = spawn(process.execPath, [SERVER, dir, token], { stdio: ['pipe', 'ignore', 'ignore'] });
  server.unref();
  (server.stdin as unknown as { unref?: () => void }).unref?.();
  const bash = ['/bin/bash', '/usr/bin/bash'].find((b) => fs.existsSync(b)) ?? 'bash';
  const cat = ['/bin/cat', '/usr/bin/cat'].find((c) => fs.existsSync(c)) ?? 'cat';
  fs.writeFileSync(path.join(dir, 'kubectl'), [
    `#!${bash}`,
    '# the file the call reads, as recorder.js takes it (-f, then --filename; "-" is its stdin)',
    'file=; got=; args=("$@")',
    'for name in -f --filename; do',
    '  exact=',
    '  for ((i = 0; i < $#; i++)); do',
    '    if [ "${args[i]}" = "$name" ]; then exact=1; if [ $((i + 1)) -lt $# ]; then file=${args[i + 1]}; got=1; fi; break; fi',
    '  done',
    '  if [ -z "$exact" ]; then for a in "$@"; do case $a in "$name="*) file=${a#"$name="}; got=1; break ;; esac; done; fi',
    '  [ -z "$got" ] || break',
    'done',
    `port=; { read -r port < ${sh(path.join(dir, '.kubectl-port'))}; } 2>/dev/null`,
    'if [ -z "$port" ] || ! { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then',
    `  exec ${sh(process.execPath)} ${sh(RECORDER)} "$@"`,
    'fi',
    '{',
    `  printf '%s\\0' ${token} "$PWD" "$KUBECTL_RECORD" "$KUBECTL_FIXTURES" "$KUBECTL_ANSWERS" $# "$@"`,
    `  if [ "$file" = - ]; then IFS= read -r -d '' input; printf '1\\0%s\\0' "$input"; else printf '0\\0'; fi`,
    '} >&3',
    "IFS= read -r -d '' sent <&3; IFS= read -r -d '' code <&3; IFS= read -r -d '' err <&3; IFS= read -r -d '' out <&3",
    `if [ "$sent" != ${token} ]; then echo "kubectl stand-in: no answer from the recorder server on port $port" >&2; exit 98; fi`,
    'case $out in i) IFS= read -r -d \'\' text <&3; printf \'%s\' "$text" ;; 1) ' + `${sh(cat)} <&3 ;; esac`,
    '[ -z "$err" ] || printf \'%s\' "$err" >&2',
    'exit "$code"',
    '',
  ].join('\n'), { mode: 0o755 });
}

export interface KubectlCall {
  readonly args: string[];
  /** What kubectl read from stdin (`-f -`). */
  readonly stdin?: string;
}

export interface JobRun {
  readonly status: number | null;
  /** stdout then stderr. */
  readonly log: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly kubectl: readonly KubectlCall[];
  /** The job's checkout. */
  readonly work: string;
}

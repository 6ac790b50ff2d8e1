import { createHash } from 'crypto';
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Conventions } from './conventions';
import { LabelSet, recommendedLabels } from './labels';
import { otherColour, ReleaseStrategy } from './release-strategy';
import { hardenPodTemplate, restrictedContainerSecurity, restrictedPodSecurity } from './security';
import { PropsError } from './validation';

/** The `app` label of smoke-test pods (what NetworkPolicies select them by). */
export const SMOKE_TEST_APP = 'smoke-test';

/**
 * curl 8.11.1 on Alpine (BusyBox `sh`), non-root by default, pinned by the digest of its multi-arch
 * index so that the tag being re-pushed cannot change what the promotion gate runs.
 */
export const SMOKE_TEST_IMAGE = 'docker.io/curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69';

/**
 * How long a finished smoke-test Job (and its pod's log) stays in the cluster: 72 h. It is the
 * evidence the promotion gate reads (did this attempt's Job complete?) and what an engineer reads
 * when it failed, so it must outlive the review of the promote change, a weekend included; a shorter
 * TTL would make promote find no evidence. A deploy after it expired, while the version is still
 * staged, creates the Job again (it is still in `dist/`), so the test then runs again against the
 * staged pods instead of leaving the gate without evidence. After promote the Job leaves `dist/`, and
 * the TTL deletes it from the cluster, where `kubectl apply` alone would keep it forever.
 */
export const SMOKE_TEST_TTL = Duration.hours(72);

/**
 * Requests and limits of the smoke-test container (CPU in millicores, memory in MiB): one curl loop.
 * A Job runs one pod at a time (parallelism 1; a retry starts after the failed pod ended), so a
 * namespace's quota counts one such pod per staged workload.
 */
export const SMOKE_TEST_RESOURCES = {
  requests: { cpu: 10, memory: 16 },
  limits: { cpu: 100, memory: 32 },
} as const;

/** Seconds curl may take for one call, and to connect. */
const CALL_TIMEOUT_SECONDS = 10;
const CONNECT_TIMEOUT_SECONDS = 5;
/** Seconds between two tries of a call that was not answered or answered 429/5xx. */
const RETRY_DELAY_SECONDS = 5;

/**
 * The Job's program (POSIX `sh`; BusyBox ash in the image): calls each URL given as an argument, in
 * order, and exits 0 only when every one answered 2xx. Redirects are not followed (no `-L`) and a 3xx
 * fails like any other non-2xx status: `curl --fail` alone would pass on a 307, and following it could
 * reach a 2xx somewhere other than the version under test. Only "not ready yet" answers are retried
 * (no answer, which curl reports as 000; 429; 5xx), up to `MAX_TRIES` calls in all, `RETRY_DELAY`
 * seconds apart; 1xx, 3xx and 4xx fail at once. Every call is bounded by `--max-time`.
 */
export const SMOKE_TEST_SCRIPT = [
  'tries=0',
  'for url in "$@"; do',
  '  while :; do',
  '    tries=$((tries + 1))',
  `    out=$(curl --silent --show-error --output /dev/null --connect-timeout ${CONNECT_TIMEOUT_SECONDS} --max-time ${CALL_TIMEOUT_SECONDS} --write-out '%{http_code} %{redirect_url}' "$url")`,
  '    code=${out%% *}',
  '    case $code in',
  '      2[0-9][0-9]) echo "pass: $url answered $code"; break ;;',
  '      000|429|5[0-9][0-9]) ;;',
  '      *) echo "FAIL: $url answered ${out:-no status}; only 2xx passes (redirects are not followed)" >&2; exit 1 ;;',
  '    esac',
  '    if [ "$tries" -ge "$MAX_TRIES" ]; then echo "FAIL: $url answered $code; gave up after $tries calls in all" >&2; exit 1; fi',
  '    echo "retry: $url answered $code (call $tries of at most $MAX_TRIES)" >&2',
  '    sleep "$RETRY_DELAY"',
  '  done',
  'done',
  'echo "smoke test passed: $# URLs answered 2xx"',
].join('\n');

/**
 * What a {@link SmokeTest} needs of the workload it tests (a `Microservice`; structural, so that the
 * Argo Rollouts construct can build the test without a dependency cycle).
 */
export interface SmokeTestTarget {
  /** Workload name. */
  readonly name: string;
  /** How it is released (the tag under test). */
  readonly release: ReleaseStrategy;
  /** Its Service. */
  readonly service: kplus.Service;
  /** The preview Service of a blue/green pair. @default - none */
  readonly previewService?: kplus.Service;
  /** Port of its Services. */
  readonly servicePort: number;
  /** HTTP path of its health check. */
  readonly healthPath: string;
  /** Narrows the preview Service of a blue/green pair to the staged version. */
  selectStagedVersionOnPreview(): void;
}

/** Properties of a {@link SmokeTest}. */
export interface SmokeTestProps {
  /** The workload under test: its preview Service for a blue/green pair, its Service otherwise. */
  readonly target: SmokeTestTarget;
  /**
   * The Service the calls go through. @default - the target's preview Service (of a pair), else its Service
   */
  readonly service?: kplus.Service;
  /** HTTP paths that must all answer 2xx. @default - the target's health path */
  readonly paths?: readonly string[];
  /** Image providing `curl` and `sh` (run as a non-root user), pinned by digest. @default SMOKE_TEST_IMAGE */
  readonly image?: string;
  /**
   * Seconds before the Job gives up. The Job is created by the same apply that starts the staged
   * colour's rollout, so it first waits for the staged pods (the deploy waits up to 10 min for the
   * rollout): the default covers that and the calls. The script's own retry budget ends before it, so
   * a failure is logged by the script rather than cut off. @default 900
   */
  readonly deadlineSeconds?: number;
  /** Extra labels on the Job and its pod (never selectors). @default - none */
  readonly labels?: LabelSet;
  /**
   * Which staging of this version it tests (1, 2, ...): appended to the Job name, so that staging the
   * same tag again creates a new Job instead of finding the completed one. @default - no suffix
   */
  readonly attempt?: number;
}

/**
 * An in-cluster smoke test: a Job that calls the paths of the version under test through the
 * preview Service, narrowed to that version's pods, with retries, and fails unless every one answers
 * 2xx. Its name carries the tag under test, the staging attempt and a hash of its spec
 * (`<component>-smoke-<tag>-<attempt>-<hash>`), so each staged version gets its own immutable Job and
 * `kubectl wait --for=condition=complete job/<name>` is the promotion gate. The pod meets the
 * restricted Pod Security Standard like every workload.
 */
export class SmokeTest extends Construct {
  /**
   * Exact Job name: `<component>-smoke-<tag>-<attempt>-<spec hash>`, see {@link SmokeTest.specHash}.
   */
  public readonly name: string;
  /**
   * The staging attempt under test, `<component>-smoke-<tag>-<attempt>`: the Job's
   * `app.kubernetes.io/instance` label, the same for every spec the Job of this attempt had.
   */
  public readonly instance: string;
  /**
   * The first 6 hex digits of a SHA-256 of the Job's `spec` as synthesized (keys sorted), the last
   * part of its name. A Job's pod template is immutable, and its spec can change while the same tag
   * and attempt stay staged: new `smokePaths` in the catalogue, another image, a change to the
   * script or to the security defaults, merged and deployed while a version is staged. Under the same
   * name the apply would fail on an immutable field; with the hash in the name it creates a new Job,
   * which tests the staged version again with the new spec, and the old one is left to its TTL.
   */
  public readonly specHash: string;
  /** The URLs checked, in order. */
  public readonly urls: readonly string[];
  /** The image tag under test. */
  public readonly imageTag: string;
  /** The Job. */
  public readonly job: kplus.Job;

  constructor(scope: Construct, id: string, props: SmokeTestProps) {
    super(scope, id);
    const target = props.target;
    const bg = target.release.blueGreen;
    const service = props.service ?? target.previewService ?? target.service;
    this.imageTag = bg ? bg.tags[otherColour(bg.active)] : target.release.imageTag!;
    const paths = props.paths ?? [target.healthPath];
    for (const path of paths) {
      if (!path.startsWith('/')) throw new PropsError(`SmokeTest ${target.name}`, 'paths', path, 'must be absolute HTTP paths');
    }
    if (props.attempt !== undefined && (!Number.isInteger(props.attempt) || props.attempt < 1)) {
      throw new PropsError(`SmokeTest ${target.name}`, 'attempt', props.attempt, 'must be an integer >= 1');
    }
    const deadline = props.deadlineSeconds ?? 900;
    if (!Number.isInteger(deadline) || deadline < 60) {
      throw new PropsError(`SmokeTest ${target.name}`, 'deadlineSeconds', deadline, 'must be an integer >= 60');
    }
    // calls (each at most CALL_TIMEOUT_SECONDS) and pauses that fit in the deadline with a margin
    const maxTries = Math.max(paths.length, Math.floor((deadline - 30) / (CALL_TIMEOUT_SECONDS + RETRY_DELAY_SECONDS)));
    this.instance = smokeTestInstance(target.name, this.imageTag, props.attempt);
    this.urls = paths.map((path) => `http://${service.name}:${target.servicePort}${path}`);
    // Only pods of the version under test may answer: the Job is applied with the new image, while
    // the idle colour's old pods are still ready (maxUnavailable: 0), so the preview Service selects
    // the staged tag as well as the colour for as long as this test exists (see
    // Microservice.selectStagedVersionOnPreview). Until a staged pod is ready it has no endpoints,
    // and the script retries the unanswered calls.
    if (bg) target.selectStagedVersionOnPreview();

    const conventions = Conventions.of(this);
    const runAs = { user: conventions.runAsUser, group: conventions.runAsUser };
    const labels = {
      [conventions.appLabel]: SMOKE_TEST_APP,
      ...recommendedLabels({ name: SMOKE_TEST_APP, instance: this.instance, component: 'test' }),
      'smoke-test/target': target.name,
      'smoke-test/version': this.imageTag,
      ...props.labels,
    };
    this.job = new kplus.Job(this, 'Job', {
      metadata: { name: this.instance, labels },
      podMetadata: { labels },
      backoffLimit: 2,
      activeDeadline: Duration.seconds(deadline),
      ttlAfterFinished: SMOKE_TEST_TTL,
      securityContext: restrictedPodSecurity(runAs),
      automountServiceAccountToken: false,
    });
    this.job.addContainer({
      name: 'smoke-test',
      image: props.image ?? SMOKE_TEST_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      // sh -c SCRIPT $0 URL...: the URLs are arguments, never parsed as shell code
      command: ['/bin/sh', '-c', SMOKE_TEST_SCRIPT, SMOKE_TEST_APP],
      args: [...this.urls],
      envVariables: {
        MAX_TRIES: kplus.EnvValue.fromValue(String(maxTries)),
        RETRY_DELAY: kplus.EnvValue.fromValue(String(RETRY_DELAY_SECONDS)),
      },
      resources: {
        cpu: { request: kplus.Cpu.millis(SMOKE_TEST_RESOURCES.requests.cpu), limit: kplus.Cpu.millis(SMOKE_TEST_RESOURCES.limits.cpu) },
        memory: { request: Size.mebibytes(SMOKE_TEST_RESOURCES.requests.memory), limit: Size.mebibytes(SMOKE_TEST_RESOURCES.limits.memory) },
      },
      securityContext: restrictedContainerSecurity(runAs),
    });
    hardenPodTemplate(this.job);

    // Everything the spec holds is set by now (the construct is the Job's only writer).
    const apiObject = ApiObject.of(this.job);
    this.specHash = createHash('sha256').update(canonicalJson(apiObject.toJson().spec)).digest('hex').slice(0, HASH_LENGTH);
    this.name = `${this.instance}-${this.specHash}`;
    apiObject.addJsonPatch(JsonPatch.replace('/metadata/name', this.name));
  }
}

/** Hex digits of the spec hash in a Job name: enough to tell the specs of one attempt apart. */
const HASH_LENGTH = 6;

/** JSON with the keys of every object sorted, so the hash depends on content only. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The `app.kubernetes.io/instance` of the smoke-test Jobs of one staging attempt of `tag`
 * (`<component>-smoke-<tag>-<attempt>`, see {@link SmokeTest.instance}): how a promotion gate finds
 * the Jobs of the attempt it promotes once they have left the manifests.
 */
export function smokeTestInstance(component: string, tag: string, attempt?: number): string {
  return jobName(component, tag, attempt, HASH_LENGTH + 1);
}

/**
 * `knowledge-service` + `v1.2.0` (+ attempt 2) -> `knowledge-service-smoke-v1-2-0-2`: at most
 * 63 - `reserve` characters (the Job name, which Kubernetes copies into its pods' `job-name` label,
 * must be a DNS label of at most 63), shortening the tag part when needed so the attempt survives.
 */
function jobName(component: string, tag: string, attempt: number | undefined, reserve: number): string {
  const version = tag.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const tail = attempt === undefined ? '' : `-${attempt}`;
  return `${`${component}-smoke-${version}`.slice(0, 63 - reserve - tail.length).replace(/-+$/, '')}${tail}`;
}

import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LabelSet, recommendedLabels } from './labels';
import { Microservice } from './microservice';
import { otherColour } from './release-strategy';
import { hardenPodTemplate, restrictedContainerSecurity, restrictedPodSecurity } from './security';
import { PropsError } from './validation';

/** The `app` label of smoke-test pods (what NetworkPolicies select them by). */
export const SMOKE_TEST_APP = 'smoke-test';

/** Properties of a {@link SmokeTest}. */
export interface SmokeTestProps {
  /** The workload under test: its preview Service for a blue/green pair, its Service otherwise. */
  readonly target: Microservice;
  /** HTTP paths that must all answer 2xx. @default - the target's health path */
  readonly paths?: readonly string[];
  /** Image providing `curl` (run as a non-root user). @default 'docker.io/curlimages/curl:8.11.1' */
  readonly image?: string;
  /** Seconds before the Job gives up. @default 300 */
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
 * preview Service, with retries, and fails unless every one answers 2xx. Its name carries the tag
 * under test (`<component>-smoke-<tag>`), so each staged version gets its own immutable Job and
 * `kubectl wait --for=condition=complete job/<name>` is the promotion gate. The pod meets the
 * restricted Pod Security Standard like every workload.
 */
export class SmokeTest extends Construct {
  /** Exact Job name. */
  public readonly name: string;
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
    const service = target.previewService ?? target.service;
    this.imageTag = bg ? bg.tags[otherColour(bg.active)] : target.release.imageTag!;
    const paths = props.paths ?? [target.healthPath];
    for (const path of paths) {
      if (!path.startsWith('/')) throw new PropsError(`SmokeTest ${target.name}`, 'paths', path, 'must be absolute HTTP paths');
    }
    if (props.attempt !== undefined && (!Number.isInteger(props.attempt) || props.attempt < 1)) {
      throw new PropsError(`SmokeTest ${target.name}`, 'attempt', props.attempt, 'must be an integer >= 1');
    }
    this.name = jobName(target.name, this.imageTag, props.attempt);
    this.urls = paths.map((path) => `http://${service.name}:${target.servicePort}${path}`);

    const labels = {
      app: SMOKE_TEST_APP,
      ...recommendedLabels({ name: SMOKE_TEST_APP, instance: this.name, component: 'test' }),
      'smoke-test/target': target.name,
      'smoke-test/version': this.imageTag,
      ...props.labels,
    };
    this.job = new kplus.Job(this, 'Job', {
      metadata: { name: this.name, labels },
      podMetadata: { labels },
      backoffLimit: 2,
      activeDeadline: Duration.seconds(props.deadlineSeconds ?? 300),
      securityContext: restrictedPodSecurity(),
      automountServiceAccountToken: false,
    });
    this.job.addContainer({
      name: 'smoke-test',
      image: props.image ?? 'docker.io/curlimages/curl:8.11.1',
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [
        '--fail', '--fail-early', '--silent', '--show-error', '--max-time', '10',
        '--retry', '6', '--retry-delay', '5', '--retry-all-errors',
        '--write-out', '%{url} %{http_code}\\n',
        ...this.urls.flatMap((url) => [url, '--output', '/dev/null']),
      ],
      resources: {
        cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(100) },
        memory: { request: Size.mebibytes(16), limit: Size.mebibytes(32) },
      },
      securityContext: restrictedContainerSecurity(),
    });
    hardenPodTemplate(this.job);
  }
}

/**
 * `knowledge-service` + `v1.2.0` (+ attempt 2) -> `knowledge-service-smoke-v1-2-0-2`: a DNS label of at
 * most 63 characters, shortening the tag part when needed so the attempt always survives.
 */
function jobName(component: string, tag: string, attempt?: number): string {
  const version = tag.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const tail = attempt === undefined ? '' : `-${attempt}`;
  return `${`${component}-smoke-${version}`.slice(0, 63 - tail.length).replace(/-+$/, '')}${tail}`;
}

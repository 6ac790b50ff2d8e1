/**
 * The Pulumi deploy path: builds the cdk8s app for one environment in-process and hands its objects
 * to @pulumi/kubernetes, so Pulumi previews, awaits and prunes exactly what `dist/<environment>`
 * holds, without a second definition of anything.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { synthesizeObjects } from '../synth/pipeline';
import { CATALOGUE, ENVIRONMENTS, ReleaseStates } from '../environments';
import { KubeObject } from '../synth/output';

/** Options of {@link deployEnvironment}. */
export interface DeployOptions {
  /** Environment name from the registry, e.g. `staging`. */
  readonly environment: string;
  /** kubeconfig context to deploy to. @default - the current context */
  readonly kubeContext?: string;
  /** Release states by environment (the caller reads them: environments/<env>.release.json for the stacks). */
  readonly releaseStates: ReleaseStates;
}

/** What {@link deployEnvironment} registered. */
export interface Deployment {
  readonly provider: k8s.Provider;
  readonly group: k8s.yaml.ConfigGroup;
  /** The synthesized objects handed to Pulumi (the same as `dist/<environment>`). */
  readonly objects: readonly KubeObject[];
}

/** Registers every object of `environment` with Pulumi through one namespaced provider. */
export function deployEnvironment(o: DeployOptions): Deployment {
  const env = ENVIRONMENTS.find((e) => e.name === o.environment);
  if (env === undefined) {
    throw new Error(`unknown environment "${o.environment}" (soundcore-kcp:environment); known: ${ENVIRONMENTS.map((e) => e.name).join(', ')}`);
  }
  const objects = synthesizeObjects(ENVIRONMENTS, CATALOGUE, o.releaseStates).get(env.name)!;
  const provider = new k8s.Provider(env.name, {
    namespace: env.namespace,
    context: o.kubeContext,
    enableServerSideApply: true,
  });
  const group = new k8s.yaml.ConfigGroup(env.name, {
    objs: objects.map((obj) => JSON.parse(JSON.stringify(obj))),
    transformations: [markSecrets],
  }, { provider });
  return { provider, group, objects };
}

/**
 * Secret values never come out of the synthesis (the guard rejects literal Secrets), but should one
 * pass through, Pulumi must treat it as secret in its state and output.
 */
export function markSecrets(obj: { kind?: string; data?: unknown; stringData?: unknown }, opts: pulumi.CustomResourceOptions): void {
  if (obj.kind !== 'Secret') return;
  for (const field of ['data', 'stringData'] as const) {
    if (obj[field] !== undefined) obj[field] = pulumi.secret(obj[field]);
  }
  opts.additionalSecretOutputs = [...(opts.additionalSecretOutputs ?? []), 'data', 'stringData'];
}

import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Conventions } from './conventions';
import { ContainerResources, Quantity } from './quantity';

/**
 * Defaults that meet the Kubernetes Pod Security Standard "restricted" (v1.28): non-root numeric
 * user, no privilege escalation, every capability dropped, RuntimeDefault seccomp, read-only root
 * filesystem, and no service-account token.
 */

/** Options for {@link restrictedContainerSecurity}. */
export interface RestrictedSecurityOptions {
  /** Numeric UID the container runs as (non-root). @default DEFAULT_RUN_AS (65532) */
  readonly user?: number;
  /** Numeric GID the container runs as. @default DEFAULT_RUN_AS (65532) */
  readonly group?: number;
}

/**
 * UID/GID used when none is given: the `nonroot` user (65532) of the distroless and Chainguard base
 * images. Constructs use `Conventions.of(scope).runAsUser`, whose default this is.
 */
export const DEFAULT_RUN_AS = Conventions.DEFAULT.runAsUser;

/** Container security context meeting "restricted". */
export function restrictedContainerSecurity(o: RestrictedSecurityOptions = {}): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: true,
    user: o.user ?? DEFAULT_RUN_AS,
    group: o.group ?? DEFAULT_RUN_AS,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: [kplus.Capability.ALL] },
    seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
  };
}

/** Pod security context meeting "restricted". */
export function restrictedPodSecurity(o: RestrictedSecurityOptions = {}): kplus.PodSecurityContextProps {
  return {
    ensureNonRoot: true,
    user: o.user ?? DEFAULT_RUN_AS,
    group: o.group ?? DEFAULT_RUN_AS,
    fsGroup: o.group ?? DEFAULT_RUN_AS,
    fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
  };
}

/** Options of {@link hardenPodTemplate}. */
export interface PodTemplateOptions {
  /**
   * Spread the pods matching these labels across nodes and zones (soft constraints: a missing zone
   * label or a full node never blocks scheduling). @default - no spread constraints
   */
  readonly spreadSelector?: { readonly [key: string]: string };
  /**
   * Exact CPU and memory requests and limits of the pod's first container, as Kubernetes quantity
   * strings, written as given. cdk8s-plus can only write memory as whole mebibytes (and throws on
   * `1G`), so create the container with `resources: {}` and set them here.
   * @default - the container's resources as cdk8s-plus rendered them
   */
  readonly resources?: ContainerResources;
  /**
   * Exact size limits of emptyDir volumes, by volume name, as Kubernetes quantity strings written as
   * given (cdk8s-plus can only write whole mebibytes); create those volumes without `sizeLimit`.
   * @default - the volumes as cdk8s-plus rendered them
   */
  readonly emptyDirSizeLimits?: { readonly [volumeName: string]: string };
}

/**
 * The one escape hatch over cdk8s-plus pod templates, applied to every workload we create:
 * - cdk8s-plus always stamps a hashed `cdk8s.io/metadata.addr` label on pod templates; our selectors
 *   never use it and output must carry no hash-derived names, so it is removed;
 * - the pod-level security context gets the RuntimeDefault seccomp profile, which the L2 cannot
 *   express (the container-level one is set too);
 * - topology spread constraints, which the L2 only offers as a fixed preset, are set explicitly;
 *   `matchLabelKeys: [pod-template-hash]` spreads each rollout revision on its own;
 * - container resources and emptyDir size limits, which the L2 only writes as whole mebibytes, are
 *   written exactly as the quantities given (`1G`, `300000Ki`, `129e6`).
 * @throws when a quantity given is not one, or names a volume the pod does not have.
 */
export function hardenPodTemplate(workload: kplus.Deployment | kplus.Job, options: PodTemplateOptions = {}): void {
  const patches = [
    JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
    JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
  ];
  if (options.spreadSelector !== undefined) {
    const constraint = (topologyKey: string) => ({
      maxSkew: 1,
      topologyKey,
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { ...options.spreadSelector } },
      matchLabelKeys: ['pod-template-hash'],
    });
    patches.push(JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
      constraint('kubernetes.io/hostname'),
      constraint('topology.kubernetes.io/zone'),
    ]));
  }
  // Paths below are positional, so each patch first tests that the position still holds the
  // container or volume it was meant for: a later change of order fails synthesis instead of
  // patching the wrong one.
  if (options.resources !== undefined) {
    const { requests, limits } = options.resources;
    patches.push(
      JsonPatch.test('/spec/template/spec/containers/0/name', workload.containers[0]?.name),
      JsonPatch.add('/spec/template/spec/containers/0/resources', {
        limits: { cpu: quantity(limits.cpu), memory: quantity(limits.memory) },
        requests: { cpu: quantity(requests.cpu), memory: quantity(requests.memory) },
      }),
    );
  }
  const volumes = renderedVolumeNames(workload);
  for (const [name, sizeLimit] of Object.entries(options.emptyDirSizeLimits ?? {})) {
    const index = volumes.indexOf(name);
    if (index < 0) throw new Error(`emptyDirSizeLimits: the pod has no volume ${JSON.stringify(name)} (volumes: ${volumes.join(', ')})`);
    patches.push(
      JsonPatch.test(`/spec/template/spec/volumes/${index}/name`, name),
      JsonPatch.add(`/spec/template/spec/volumes/${index}/emptyDir/sizeLimit`, quantity(sizeLimit)),
    );
  }
  ApiObject.of(workload).addJsonPatch(...patches);
}

/**
 * Names of the pod's volumes in the order cdk8s-plus writes them (`AbstractPod._toPodSpec`): those
 * mounted by containers, then by init containers, then those added to the pod, each once.
 */
function renderedVolumeNames(pod: kplus.Deployment | kplus.Job): string[] {
  const mounted = [...pod.containers, ...pod.initContainers].flatMap((c) => c.mounts.map((m) => m.volume.name));
  return [...new Set([...mounted, ...pod.volumes.map((v) => v.name)])];
}

/**
 * `text` as the L1 Quantity the patched (not yet serialized) pod template holds; patches apply
 * before the typed serializer, which reads each quantity's `value`.
 */
function quantity(text: string): kplus.k8s.Quantity {
  const { reason } = Quantity.parse(text);
  if (reason !== undefined) throw new Error(`${JSON.stringify(text)} is not a Kubernetes quantity: ${reason}`);
  return kplus.k8s.Quantity.fromString(text);
}

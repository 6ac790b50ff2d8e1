import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

/**
 * Defaults that meet the Kubernetes Pod Security Standard "restricted" (v1.28): non-root numeric
 * user, no privilege escalation, every capability dropped, RuntimeDefault seccomp, read-only root
 * filesystem, and no service-account token.
 */

/** Options for {@link restrictedContainerSecurity}. */
export interface RestrictedSecurityOptions {
  /** Numeric UID the container runs as (non-root). @default 10001 */
  readonly user?: number;
  /** Numeric GID the container runs as. @default 10001 */
  readonly group?: number;
}

/** Default UID/GID of KCP images (created in their Dockerfiles as a non-root user). */
export const DEFAULT_RUN_AS = 10001;

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
}

/**
 * The one escape hatch over cdk8s-plus pod templates, applied to every workload we create:
 * - cdk8s-plus always stamps a hashed `cdk8s.io/metadata.addr` label on pod templates; our selectors
 *   never use it and output must carry no hash-derived names, so it is removed;
 * - the pod-level security context gets the RuntimeDefault seccomp profile, which the L2 cannot
 *   express (the container-level one is set too);
 * - topology spread constraints, which the L2 only offers as a fixed preset, are set explicitly;
 *   `matchLabelKeys: [pod-template-hash]` spreads each rollout revision on its own.
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
  ApiObject.of(workload).addJsonPatch(...patches);
}

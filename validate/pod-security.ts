/**
 * The Pod Security Standards, "restricted" profile, as Kubernetes 1.28 defines it (which includes
 * every "baseline" control): https://kubernetes.io/docs/concepts/security/pod-security-standards/
 * (v1.28). Each control is a small function over a pod template, so that a workload which the
 * `pod-security.kubernetes.io/enforce: restricted` namespace label would reject never reaches dist/.
 *
 * Like the admission controller, a control reports every offending field, and a field can break a
 * baseline and a restricted control at once (a hostPath volume is both a host path and a volume type
 * outside the restricted list). Windows pods (`spec.os.name: windows`) are exempt from the
 * privilege-escalation, seccomp and capabilities controls, as in 1.28.
 */
import { asArray, asObject, Finding, findingAt, JsonObject, JsonPath, ManifestObject } from './findings';
import { containersOf, ContainerRef, PodTemplate, podTemplateOf } from './workloads';

/** A field that breaks a control. */
export interface Violation {
  /** Path inside the workload object. */
  readonly path: JsonPath;
  /** What is wrong and what is allowed. */
  readonly message: string;
}

/** One control of the standard. */
export interface PodSecurityControl {
  /** Rule id, `pod-security/<control>`. */
  readonly id: string;
  /** The profile that introduces the control. */
  readonly level: 'baseline' | 'restricted';
  /** The control's name in the standard. */
  readonly title: string;
  /** The fields of `pod` that break the control. */
  readonly check: (pod: PodTemplate) => Violation[];
}

/** Capabilities baseline allows containers to add. */
export const BASELINE_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID',
  'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);

/** Sysctls baseline allows in 1.28 (`net.ipv4.ip_local_reserved_ports` since 1.27; the tcp_keepalive ones only from 1.29). */
export const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
]);

/** SELinux types baseline allows (besides unset or ''). */
export const SELINUX_TYPES: ReadonlySet<string> = new Set(['container_t', 'container_init_t', 'container_kvm_t']);

/** Volume types restricted allows. */
export const RESTRICTED_VOLUME_TYPES: ReadonlySet<string> = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);

const APPARMOR_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function podSecurityContext(pod: PodTemplate): { readonly sc: JsonObject; readonly path: JsonPath } {
  return { sc: asObject(pod.spec.securityContext), path: [...pod.path, 'spec', 'securityContext'] };
}

function containerSecurityContext(c: ContainerRef): { readonly sc: JsonObject; readonly path: JsonPath } {
  return { sc: asObject(c.container.securityContext), path: [...c.path, 'securityContext'] };
}

/** The pod-level and every container-level security context, each with its path. */
function allSecurityContexts(pod: PodTemplate): Array<{ readonly sc: JsonObject; readonly path: JsonPath }> {
  return [podSecurityContext(pod), ...containersOf(pod).map(containerSecurityContext)];
}

function isWindows(pod: PodTemplate): boolean {
  return asObject(pod.spec.os).name === 'windows';
}

function hostProcess(pod: PodTemplate): Violation[] {
  return allSecurityContexts(pod)
    .filter(({ sc }) => asObject(sc.windowsOptions).hostProcess === true)
    .map(({ path }) => ({ path: [...path, 'windowsOptions', 'hostProcess'], message: 'must not be true: HostProcess containers are not allowed' }));
}

function hostNamespaces(pod: PodTemplate): Violation[] {
  return ['hostNetwork', 'hostPID', 'hostIPC']
    .filter((field) => pod.spec[field] === true)
    .map((field) => ({ path: [...pod.path, 'spec', field], message: 'must not be true: sharing the host namespaces is not allowed' }));
}

function privileged(pod: PodTemplate): Violation[] {
  return containersOf(pod).map(containerSecurityContext)
    .filter(({ sc }) => sc.privileged === true)
    .map(({ path }) => ({ path: [...path, 'privileged'], message: 'must not be true: privileged containers are not allowed' }));
}

function capabilitiesBaseline(pod: PodTemplate): Violation[] {
  return containersOf(pod).map(containerSecurityContext).flatMap(({ sc, path }) =>
    asArray(asObject(sc.capabilities).add).flatMap((cap, i) => (typeof cap === 'string' && BASELINE_CAPABILITIES.has(cap) ? [] : [{
      path: [...path, 'capabilities', 'add', i],
      message: `must not add ${JSON.stringify(cap)}: baseline allows only ${[...BASELINE_CAPABILITIES].join(', ')}`,
    }])));
}

function hostPathVolumes(pod: PodTemplate): Violation[] {
  return asArray(pod.spec.volumes).flatMap((v, i) => (asObject(v).hostPath === undefined ? [] : [{
    path: [...pod.path, 'spec', 'volumes', i, 'hostPath'], message: 'must not be set: hostPath volumes are not allowed',
  }]));
}

function hostPorts(pod: PodTemplate): Violation[] {
  return containersOf(pod).flatMap((c) => asArray(c.container.ports).flatMap((p, i) => {
    const hostPort = asObject(p).hostPort;
    return hostPort === undefined || hostPort === 0 ? [] : [{
      path: [...c.path, 'ports', i, 'hostPort'], message: `must be unset or 0, got ${JSON.stringify(hostPort)}: host ports are not allowed`,
    }];
  }));
}

function appArmor(pod: PodTemplate): Violation[] {
  return Object.entries(pod.annotations)
    .filter(([key, value]) => key.startsWith(APPARMOR_PREFIX) && value !== 'runtime/default' && !value.startsWith('localhost/'))
    .map(([key, value]) => ({
      path: [...pod.path, 'metadata', 'annotations', key],
      message: `must be "runtime/default" or "localhost/<profile>", got ${JSON.stringify(value)}: AppArmor must not be disabled or overridden`,
    }));
}

function seLinux(pod: PodTemplate): Violation[] {
  return allSecurityContexts(pod).flatMap(({ sc, path }) => {
    const options = asObject(sc.seLinuxOptions);
    const violations: Violation[] = [];
    const type = options.type;
    if (type !== undefined && type !== '' && !(typeof type === 'string' && SELINUX_TYPES.has(type))) {
      violations.push({
        path: [...path, 'seLinuxOptions', 'type'],
        message: `must be unset, "" or one of ${[...SELINUX_TYPES].join(', ')}, got ${JSON.stringify(type)}`,
      });
    }
    for (const field of ['user', 'role']) {
      if (options[field] !== undefined && options[field] !== '') {
        violations.push({ path: [...path, 'seLinuxOptions', field], message: `must be unset or "", got ${JSON.stringify(options[field])}: custom SELinux ${field}s are not allowed` });
      }
    }
    return violations;
  });
}

function procMount(pod: PodTemplate): Violation[] {
  return containersOf(pod).map(containerSecurityContext)
    .filter(({ sc }) => sc.procMount !== undefined && sc.procMount !== 'Default')
    .map(({ sc, path }) => ({ path: [...path, 'procMount'], message: `must be unset or "Default", got ${JSON.stringify(sc.procMount)}: the default /proc masks are required` }));
}

function seccompBaseline(pod: PodTemplate): Violation[] {
  return allSecurityContexts(pod)
    .filter(({ sc }) => asObject(sc.seccompProfile).type === 'Unconfined')
    .map(({ path }) => ({ path: [...path, 'seccompProfile', 'type'], message: 'must not be "Unconfined": seccomp must not be disabled' }));
}

function sysctls(pod: PodTemplate): Violation[] {
  const { sc, path } = podSecurityContext(pod);
  return asArray(sc.sysctls).flatMap((s, i) => {
    const name = asObject(s).name;
    return typeof name === 'string' && SAFE_SYSCTLS.has(name) ? [] : [{
      path: [...path, 'sysctls', i, 'name'], message: `must be one of the safe sysctls (${[...SAFE_SYSCTLS].join(', ')}), got ${JSON.stringify(name)}`,
    }];
  });
}

function volumeTypes(pod: PodTemplate): Violation[] {
  return asArray(pod.spec.volumes).flatMap((v, i) => Object.keys(asObject(v))
    .filter((field) => field !== 'name' && !RESTRICTED_VOLUME_TYPES.has(field))
    .map((field) => ({
      path: [...pod.path, 'spec', 'volumes', i, field],
      message: `volume type ${field} is not allowed; restricted allows ${[...RESTRICTED_VOLUME_TYPES].join(', ')}`,
    })));
}

function privilegeEscalation(pod: PodTemplate): Violation[] {
  if (isWindows(pod)) return [];
  return containersOf(pod).map(containerSecurityContext)
    .filter(({ sc }) => sc.allowPrivilegeEscalation !== false)
    .map(({ sc, path }) => ({
      path: [...path, 'allowPrivilegeEscalation'],
      message: `must be false, got ${sc.allowPrivilegeEscalation === undefined ? 'unset' : JSON.stringify(sc.allowPrivilegeEscalation)}`,
    }));
}

function runAsNonRoot(pod: PodTemplate): Violation[] {
  const pod$ = podSecurityContext(pod);
  const violations: Violation[] = [];
  if (pod$.sc.runAsNonRoot === false) {
    violations.push({ path: [...pod$.path, 'runAsNonRoot'], message: 'must not be false: pods must run as non-root' });
  }
  for (const { sc, path } of containersOf(pod).map(containerSecurityContext)) {
    if (sc.runAsNonRoot === false) {
      violations.push({ path: [...path, 'runAsNonRoot'], message: 'must not be false: containers must run as non-root' });
    } else if (sc.runAsNonRoot !== true && pod$.sc.runAsNonRoot !== true) {
      violations.push({ path: [...path, 'runAsNonRoot'], message: 'must be true, here or in the pod securityContext: containers must run as non-root' });
    }
  }
  return violations;
}

function runAsUser(pod: PodTemplate): Violation[] {
  return allSecurityContexts(pod)
    .filter(({ sc }) => sc.runAsUser === 0)
    .map(({ path }) => ({ path: [...path, 'runAsUser'], message: 'must not be 0: containers must not run as the root user' }));
}

function seccompRestricted(pod: PodTemplate): Violation[] {
  if (isWindows(pod)) return [];
  const allowed = (type: unknown) => type === 'RuntimeDefault' || type === 'Localhost';
  const pod$ = podSecurityContext(pod);
  const podType = asObject(pod$.sc.seccompProfile).type;
  const violations: Violation[] = [];
  if (podType !== undefined && !allowed(podType)) {
    violations.push({ path: [...pod$.path, 'seccompProfile', 'type'], message: `must be "RuntimeDefault" or "Localhost", got ${JSON.stringify(podType)}` });
  }
  for (const { sc, path } of containersOf(pod).map(containerSecurityContext)) {
    const type = asObject(sc.seccompProfile).type;
    if (type !== undefined && !allowed(type)) {
      violations.push({ path: [...path, 'seccompProfile', 'type'], message: `must be "RuntimeDefault" or "Localhost", got ${JSON.stringify(type)}` });
    } else if (type === undefined && podType === undefined) {
      violations.push({ path: [...path, 'seccompProfile', 'type'], message: 'must be "RuntimeDefault" or "Localhost", here or in the pod securityContext; got unset' });
    }
  }
  return violations;
}

function capabilitiesRestricted(pod: PodTemplate): Violation[] {
  if (isWindows(pod)) return [];
  return containersOf(pod).map(containerSecurityContext).flatMap(({ sc, path }) => {
    const caps = asObject(sc.capabilities);
    const violations: Violation[] = [];
    if (!asArray(caps.drop).includes('ALL')) {
      violations.push({ path: [...path, 'capabilities', 'drop'], message: 'must include "ALL": restricted containers drop every capability' });
    }
    asArray(caps.add).forEach((cap, i) => {
      if (cap !== 'NET_BIND_SERVICE') {
        violations.push({ path: [...path, 'capabilities', 'add', i], message: `must not add ${JSON.stringify(cap)}: restricted allows adding only NET_BIND_SERVICE` });
      }
    });
    return violations;
  });
}

/** Every control of the restricted profile (baseline's first), in the standard's order. */
export const POD_SECURITY_CONTROLS: readonly PodSecurityControl[] = [
  { id: 'pod-security/host-process', level: 'baseline', title: 'HostProcess', check: hostProcess },
  { id: 'pod-security/host-namespaces', level: 'baseline', title: 'Host Namespaces', check: hostNamespaces },
  { id: 'pod-security/privileged', level: 'baseline', title: 'Privileged Containers', check: privileged },
  { id: 'pod-security/capabilities-baseline', level: 'baseline', title: 'Capabilities', check: capabilitiesBaseline },
  { id: 'pod-security/host-path-volumes', level: 'baseline', title: 'HostPath Volumes', check: hostPathVolumes },
  { id: 'pod-security/host-ports', level: 'baseline', title: 'Host Ports', check: hostPorts },
  { id: 'pod-security/apparmor', level: 'baseline', title: 'AppArmor', check: appArmor },
  { id: 'pod-security/selinux', level: 'baseline', title: 'SELinux', check: seLinux },
  { id: 'pod-security/proc-mount', level: 'baseline', title: '/proc Mount Type', check: procMount },
  { id: 'pod-security/seccomp-baseline', level: 'baseline', title: 'Seccomp', check: seccompBaseline },
  { id: 'pod-security/sysctls', level: 'baseline', title: 'Sysctls', check: sysctls },
  { id: 'pod-security/volume-types', level: 'restricted', title: 'Volume Types', check: volumeTypes },
  { id: 'pod-security/privilege-escalation', level: 'restricted', title: 'Privilege Escalation', check: privilegeEscalation },
  { id: 'pod-security/run-as-non-root', level: 'restricted', title: 'Running as Non-root', check: runAsNonRoot },
  { id: 'pod-security/run-as-user', level: 'restricted', title: 'Running as Non-root user', check: runAsUser },
  { id: 'pod-security/seccomp', level: 'restricted', title: 'Seccomp', check: seccompRestricted },
  { id: 'pod-security/capabilities', level: 'restricted', title: 'Capabilities', check: capabilitiesRestricted },
];

/** Checks the pod template of `object` (if it has one) against every restricted control. */
export function checkPodSecurity(object: ManifestObject): Finding[] {
  const pod = podTemplateOf(object);
  if (pod === undefined) return [];
  return POD_SECURITY_CONTROLS.flatMap((control) => control.check(pod).map((v) =>
    findingAt(object, control.id, v.path, `${v.message} (${control.level}: ${control.title})`)));
}


import { POD_SECURITY_CONTROLS } from '../../validate';
import { checkPodSecurity } from '../../validate/pod-security';
import { Body, goodObjects, goodWith, lines, objectOf } from './helpers';

const WEB = 'shop/48-deployment-web-blue.yaml';
const POD = 'spec.template.spec';
const C0 = `${POD}.containers[0]`;
const AT = `${WEB} Deployment shop/web-blue`;

function violations(change: (d: Body) => void, file = WEB): string[] {
  return lines(checkPodSecurity(goodWith(file, change).find((o) => o.file === file)!));
}

describe('restricted Pod Security Standard (v1.28)', () => {
  test('accepts every pod template of the good fixture (Deployments, Job, CronJob)', () => {
    expect(goodObjects().flatMap((o) => lines(checkPodSecurity(o)))).toEqual([]);
  });

  test('has one rule per control of the standard, baseline and restricted', () => {
    expect(POD_SECURITY_CONTROLS.map((c) => `${c.level}: ${c.title}`)).toEqual([
      'baseline: HostProcess', 'baseline: Host Namespaces', 'baseline: Privileged Containers', 'baseline: Capabilities',
      'baseline: HostPath Volumes', 'baseline: Host Ports', 'baseline: AppArmor', 'baseline: SELinux', 'baseline: /proc Mount Type',
      'baseline: Seccomp', 'baseline: Sysctls', 'restricted: Volume Types', 'restricted: Privilege Escalation',
      'restricted: Running as Non-root', 'restricted: Running as Non-root user', 'restricted: Seccomp', 'restricted: Capabilities',
    ]);
  });

  // Each row: a control, a change that breaks it, and exactly what the gate must report.
  test.each<[string, (d: Body) => void, string[]]>([
    ['host-process', (d) => { d.spec.template.spec.securityContext.windowsOptions = { hostProcess: true }; }, [
      `${AT} ${POD}.securityContext.windowsOptions.hostProcess: must not be true: HostProcess containers are not allowed (baseline: HostProcess) [pod-security/host-process]`,
    ]],
    ['host-namespaces', (d) => { d.spec.template.spec.hostNetwork = true; d.spec.template.spec.hostPID = true; }, [
      `${AT} ${POD}.hostNetwork: must not be true: sharing the host namespaces is not allowed (baseline: Host Namespaces) [pod-security/host-namespaces]`,
      `${AT} ${POD}.hostPID: must not be true: sharing the host namespaces is not allowed (baseline: Host Namespaces) [pod-security/host-namespaces]`,
    ]],
    ['privileged', (d) => { d.spec.template.spec.containers[0].securityContext.privileged = true; }, [
      `${AT} ${C0}.securityContext.privileged: must not be true: privileged containers are not allowed (baseline: Privileged Containers) [pod-security/privileged]`,
    ]],
    ['capabilities (baseline and restricted)', (d) => { d.spec.template.spec.containers[0].securityContext.capabilities.add = ['SYS_ADMIN']; }, [
      `${AT} ${C0}.securityContext.capabilities.add[0]: must not add "SYS_ADMIN": restricted allows adding only NET_BIND_SERVICE (restricted: Capabilities) [pod-security/capabilities]`,
      `${AT} ${C0}.securityContext.capabilities.add[0]: must not add "SYS_ADMIN": baseline allows only AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT (baseline: Capabilities) [pod-security/capabilities-baseline]`,
    ]],
    ['capabilities (restricted only: a baseline capability)', (d) => { d.spec.template.spec.containers[0].securityContext.capabilities.add = ['CHOWN']; }, [
      `${AT} ${C0}.securityContext.capabilities.add[0]: must not add "CHOWN": restricted allows adding only NET_BIND_SERVICE (restricted: Capabilities) [pod-security/capabilities]`,
    ]],
    ['capabilities (drop ALL)', (d) => { d.spec.template.spec.containers[0].securityContext.capabilities.drop = ['NET_RAW']; }, [
      `${AT} ${C0}.securityContext.capabilities.drop: must include "ALL": restricted containers drop every capability (restricted: Capabilities) [pod-security/capabilities]`,
    ]],
    ['hostPath volumes (also a volume type restricted forbids)', (d) => { d.spec.template.spec.volumes[0] = { name: 'tmp', hostPath: { path: '/tmp' } }; }, [
      `${AT} ${POD}.volumes[0].hostPath: must not be set: hostPath volumes are not allowed (baseline: HostPath Volumes) [pod-security/host-path-volumes]`,
      `${AT} ${POD}.volumes[0].hostPath: volume type hostPath is not allowed; restricted allows configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret (restricted: Volume Types) [pod-security/volume-types]`,
    ]],
    ['host ports', (d) => { d.spec.template.spec.containers[0].ports[0].hostPort = 8080; }, [
      `${AT} ${C0}.ports[0].hostPort: must be unset or 0, got 8080: host ports are not allowed (baseline: Host Ports) [pod-security/host-ports]`,
    ]],
    ['AppArmor', (d) => { d.spec.template.metadata.annotations['container.apparmor.security.beta.kubernetes.io/web'] = 'unconfined'; }, [
      `${AT} spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/web"]: must be "runtime/default" or "localhost/<profile>", got "unconfined": AppArmor must not be disabled or overridden (baseline: AppArmor) [pod-security/apparmor]`,
    ]],
    ['SELinux', (d) => { d.spec.template.spec.containers[0].securityContext.seLinuxOptions = { type: 'spc_t', user: 'system_u' }; }, [
      `${AT} ${C0}.securityContext.seLinuxOptions.type: must be unset, "" or one of container_t, container_init_t, container_kvm_t, got "spc_t" (baseline: SELinux) [pod-security/selinux]`,
      `${AT} ${C0}.securityContext.seLinuxOptions.user: must be unset or "", got "system_u": custom SELinux users are not allowed (baseline: SELinux) [pod-security/selinux]`,
    ]],
    ['/proc mount type', (d) => { d.spec.template.spec.containers[0].securityContext.procMount = 'Unmasked'; }, [
      `${AT} ${C0}.securityContext.procMount: must be unset or "Default", got "Unmasked": the default /proc masks are required (baseline: /proc Mount Type) [pod-security/proc-mount]`,
    ]],
    ['seccomp Unconfined (baseline and restricted)', (d) => { d.spec.template.spec.securityContext.seccompProfile.type = 'Unconfined'; }, [
      `${AT} ${POD}.securityContext.seccompProfile.type: must be "RuntimeDefault" or "Localhost", got "Unconfined" (restricted: Seccomp) [pod-security/seccomp]`,
      `${AT} ${POD}.securityContext.seccompProfile.type: must not be "Unconfined": seccomp must not be disabled (baseline: Seccomp) [pod-security/seccomp-baseline]`,
    ]],
    ['seccomp unset at pod and container level', (d) => { delete d.spec.template.spec.securityContext.seccompProfile; }, [
      `${AT} ${C0}.securityContext.seccompProfile.type: must be "RuntimeDefault" or "Localhost", here or in the pod securityContext; got unset (restricted: Seccomp) [pod-security/seccomp]`,
    ]],
    ['sysctls', (d) => { d.spec.template.spec.securityContext.sysctls = [{ name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'kernel.msgmax', value: '1' }]; }, [
      `${AT} ${POD}.securityContext.sysctls[1].name: must be one of the safe sysctls (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports), got "kernel.msgmax" (baseline: Sysctls) [pod-security/sysctls]`,
    ]],
    ['volume types', (d) => { d.spec.template.spec.volumes.push({ name: 'data', nfs: { server: 'nfs', path: '/' } }); }, [
      `${AT} ${POD}.volumes[1].nfs: volume type nfs is not allowed; restricted allows configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret (restricted: Volume Types) [pod-security/volume-types]`,
    ]],
    ['privilege escalation', (d) => { delete d.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation; }, [
      `${AT} ${C0}.securityContext.allowPrivilegeEscalation: must be false, got unset (restricted: Privilege Escalation) [pod-security/privilege-escalation]`,
    ]],
    ['running as non-root: unset everywhere', (d) => { delete d.spec.template.spec.securityContext.runAsNonRoot; }, [
      `${AT} ${C0}.securityContext.runAsNonRoot: must be true, here or in the pod securityContext: containers must run as non-root (restricted: Running as Non-root) [pod-security/run-as-non-root]`,
    ]],
    ['running as non-root: a container opts out', (d) => { d.spec.template.spec.containers[0].securityContext.runAsNonRoot = false; }, [
      `${AT} ${C0}.securityContext.runAsNonRoot: must not be false: containers must run as non-root (restricted: Running as Non-root) [pod-security/run-as-non-root]`,
    ]],
    ['running as non-root user', (d) => { d.spec.template.spec.containers[0].securityContext.runAsUser = 0; }, [
      `${AT} ${C0}.securityContext.runAsUser: must not be 0: containers must not run as the root user (restricted: Running as Non-root user) [pod-security/run-as-user]`,
    ]],
  ])('reports %s', (_control, change, expected) => {
    expect(violations(change)).toEqual(expected);
  });

  test('checks init containers too', () => {
    expect(violations((d) => {
      d.spec.template.spec.initContainers = [{ name: 'migrate', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: true } }];
    })).toEqual([
      `${AT} ${POD}.initContainers[0].securityContext.privileged: must not be true: privileged containers are not allowed (baseline: Privileged Containers) [pod-security/privileged]`,
    ]);
  });

  test('accepts non-root declared on every container instead of the pod', () => {
    expect(violations((d) => {
      delete d.spec.template.spec.securityContext.runAsNonRoot;
      d.spec.template.spec.containers[0].securityContext.runAsNonRoot = true;
    })).toEqual([]);
  });

  test('exempts Windows pods from the privilege-escalation, seccomp and capabilities controls', () => {
    expect(violations((d) => {
      d.spec.template.spec.os = { name: 'windows' };
      delete d.spec.template.spec.securityContext.seccompProfile;
      d.spec.template.spec.containers[0].securityContext = {};
    })).toEqual([]);
  });

  test('checks the pod template of a CronJob and a bare Pod', () => {
    const pod = objectOf({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'shop' },
      spec: { containers: [{ name: 'sh', image: 'busybox:1.36' }] },
    }, 'shop/pod.yaml');
    expect(lines(checkPodSecurity(pod))).toEqual([
      'shop/pod.yaml Pod shop/debug spec.containers[0].securityContext.allowPrivilegeEscalation: must be false, got unset (restricted: Privilege Escalation) [pod-security/privilege-escalation]',
      'shop/pod.yaml Pod shop/debug spec.containers[0].securityContext.capabilities.drop: must include "ALL": restricted containers drop every capability (restricted: Capabilities) [pod-security/capabilities]',
      'shop/pod.yaml Pod shop/debug spec.containers[0].securityContext.runAsNonRoot: must be true, here or in the pod securityContext: containers must run as non-root (restricted: Running as Non-root) [pod-security/run-as-non-root]',
      'shop/pod.yaml Pod shop/debug spec.containers[0].securityContext.seccompProfile.type: must be "RuntimeDefault" or "Localhost", here or in the pod securityContext; got unset (restricted: Seccomp) [pod-security/seccomp]',
    ]);
    const cron = 'shop/64-cronjob-cleanup.yaml';
    expect(violations((c) => { c.spec.jobTemplate.spec.template.spec.securityContext.runAsUser = 0; }, cron)).toEqual([
      `${cron} CronJob shop/cleanup spec.jobTemplate.spec.template.spec.securityContext.runAsUser: must not be 0: containers must not run as the root user (restricted: Running as Non-root user) [pod-security/run-as-user]`,
    ]);
  });
});

/**
 * Cross-object checks of how traffic reaches pods: Service selectors and target ports, Ingress
 * backends, ServiceMonitor selectors, ports and Prometheus labels, NetworkPolicy pod selectors.
 * Each check reads one environment and reports dangling references.
 */
import { findLibraryAnnotation } from '../constructs/conventions';
import { EnvironmentIndex, inNamespace } from './environment';
import { asArray, asObject, asString, Finding, findingAt, JsonObject, JsonPath, ManifestObject } from './findings';
import {
  containersOf, describeLabels, describeSelector, ownerName, PodTemplate,
} from './workloads';

/** A set of labels, e.g. the labels Prometheus selects ServiceMonitors by. */
export interface LabelMap {
  readonly [key: string]: string;
}

/** The labels the cluster's Prometheus selects ServiceMonitors by (kube-prometheus-stack's default). */
export const DEFAULT_SERVICE_MONITOR_LABELS: LabelMap = { release: 'prometheus' };

function stringMap(value: unknown): LabelMap {
  const out: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(asObject(value))) if (typeof v === 'string') out[k] = v;
  return out;
}

function labelsOf(object: ManifestObject): LabelMap {
  return stringMap(asObject(object.body.metadata).labels);
}

/** `3000/TCP "http"`: a container port for messages. */
function describeContainerPort(port: JsonObject): string {
  const name = asString(port.name);
  return `${String(port.containerPort)}/${asString(port.protocol) ?? 'TCP'}${name === undefined ? '' : ` ${JSON.stringify(name)}`}`;
}

/** Whether a container of `pod` declares `target` (a number or a port name) with `protocol`. */
function declaresPort(pod: PodTemplate, target: unknown, protocol: string): boolean {
  return containersOf(pod).filter((c) => c.list === 'containers').some((c) => asArray(c.container.ports).some((p) => {
    const port = asObject(p);
    const matchesTarget = typeof target === 'number' ? port.containerPort === target : port.name === target;
    return matchesTarget && (asString(port.protocol) ?? 'TCP') === protocol;
  }));
}

/** Every Service with a selector selects at least one pod template of its namespace. */
export function checkServiceSelectors(env: EnvironmentIndex): Finding[] {
  return env.ofKind('', 'Service').flatMap((service) => {
    const spec = asObject(service.body.spec);
    const selector = stringMap(spec.selector);
    if (spec.type === 'ExternalName' || Object.keys(selector).length === 0) return [];
    if (env.podIndex(service.namespace).matchedBy(selector).length > 0) return [];
    return [findingAt(service, 'service/selector', ['spec', 'selector'],
      `selects no pods: no pod template in namespace ${service.namespace ?? '(none)'} has the labels ${describeLabels(selector)}`)];
  });
}

/** Every port of a Service targets a port (number or name) that the selected pods declare. */
export function checkServiceTargetPorts(env: EnvironmentIndex): Finding[] {
  return env.ofKind('', 'Service').flatMap((service) => {
    const spec = asObject(service.body.spec);
    const selector = stringMap(spec.selector);
    if (spec.type === 'ExternalName' || Object.keys(selector).length === 0) return [];
    const pods = env.podIndex(service.namespace).matchedBy(selector);
    return asArray(spec.ports).flatMap((p, i) => {
      const port = asObject(p);
      const target = port.targetPort ?? port.port;
      const protocol = asString(port.protocol) ?? 'TCP';
      const path: JsonPath = ['spec', 'ports', i, port.targetPort === undefined ? 'port' : 'targetPort'];
      return pods.filter((pod) => !declaresPort(pod, target, protocol)).map((pod) => {
        const declared = containersOf(pod).filter((c) => c.list === 'containers')
          .flatMap((c) => asArray(c.container.ports).map((x) => describeContainerPort(asObject(x))));
        return findingAt(service, 'service/target-port', path,
          `targets ${typeof target === 'number' ? 'port' : 'port name'} ${JSON.stringify(target)}/${protocol}, which pods of ${ownerName(pod)} do not declare `
          + `(their container ports: ${declared.length === 0 ? 'none' : declared.join(', ')})`);
      });
    });
  });
}

/** Every Ingress backend names a Service of its namespace and one of that Service's ports. */
export function checkIngressBackends(env: EnvironmentIndex): Finding[] {
  return env.ofKind('networking.k8s.io', 'Ingress').flatMap((ingress) => {
    const spec = asObject(ingress.body.spec);
    const backends: Array<{ backend: JsonObject; path: JsonPath }> = [];
    if (spec.defaultBackend !== undefined) backends.push({ backend: asObject(spec.defaultBackend), path: ['spec', 'defaultBackend'] });
    asArray(spec.rules).forEach((rule, i) => asArray(asObject(asObject(rule).http).paths).forEach((p, j) => {
      backends.push({ backend: asObject(asObject(p).backend), path: ['spec', 'rules', i, 'http', 'paths', j, 'backend'] });
    }));
    return backends.flatMap(({ backend, path }) => {
      if (backend.service === undefined) return [];
      const ref = asObject(backend.service);
      const name = asString(ref.name) ?? '';
      const service = env.find('', 'Service', ingress.namespace, name);
      if (service === undefined) {
        const names = env.ofKindIn('', 'Service', ingress.namespace).map((s) => s.name).sort();
        return [findingAt(ingress, 'ingress/backend', [...path, 'service', 'name'],
          `names Service ${inNamespace(name, ingress.namespace)}, which is not in the output (Services there: ${names.join(', ') || 'none'})`)];
      }
      const port = asObject(ref.port);
      if ((port.number === undefined) === (port.name === undefined)) {
        return [findingAt(ingress, 'ingress/backend', [...path, 'service', 'port'],
          `must set exactly one of port.number and port.name, got ${JSON.stringify(ref.port ?? null)}`)];
      }
      const ports = asArray(asObject(service.body.spec).ports).map(asObject);
      const field = port.number !== undefined ? 'number' : 'name';
      if (ports.some((p) => (field === 'number' ? p.port === port.number : typeof p.name === 'string' && p.name === port.name))) return [];
      const available = ports.map((p) => `${String(p.port)}${asString(p.name) === undefined ? '' : ` ${JSON.stringify(p.name)}`}`);
      return [findingAt(ingress, 'ingress/backend', [...path, 'service', 'port', field],
        `Service ${JSON.stringify(name)} has no port ${JSON.stringify(port[field] ?? null)} (its ports: ${available.join(', ') || 'none'})`)];
    });
  });
}

/** Namespaces a ServiceMonitor looks for Services in. `null` means every namespace. */
function monitoredNamespaces(monitor: ManifestObject): ReadonlySet<string | undefined> | null {
  const selector = asObject(asObject(monitor.body.spec).namespaceSelector);
  if (selector.any === true) return null;
  const names = asArray(selector.matchNames).filter((n): n is string => typeof n === 'string');
  return new Set(names.length > 0 ? names : [monitor.namespace]);
}

function selectedServices(env: EnvironmentIndex, monitor: ManifestObject): ManifestObject[] {
  const namespaces = monitoredNamespaces(monitor);
  const selector = asObject(monitor.body.spec).selector;
  return env.labelIndex('', 'Service').selectedBy(selector)
    .filter((s) => namespaces === null || namespaces.has(s.namespace));
}

/** Every ServiceMonitor selects at least one Service of the namespaces it watches. */
export function checkServiceMonitorSelectors(env: EnvironmentIndex): Finding[] {
  return env.ofKind('monitoring.coreos.com', 'ServiceMonitor').flatMap((monitor) => {
    if (selectedServices(env, monitor).length > 0) return [];
    const namespaces = monitoredNamespaces(monitor);
    const where = namespaces === null ? 'any namespace' : `namespace ${[...namespaces].map((n) => n ?? '(none)').join(', ')}`;
    return [findingAt(monitor, 'service-monitor/selector', ['spec', 'selector'],
      `selects no Service: no Service in ${where} matches ${describeSelector(asObject(monitor.body.spec).selector)}`)];
  });
}

/** Every ServiceMonitor endpoint names a port that each selected Service has. */
export function checkServiceMonitorPorts(env: EnvironmentIndex): Finding[] {
  return env.ofKind('monitoring.coreos.com', 'ServiceMonitor').flatMap((monitor) => {
    const services = selectedServices(env, monitor);
    return asArray(asObject(monitor.body.spec).endpoints).flatMap((e, i) => {
      const port = asObject(e).port;
      if (port === undefined) return [];
      return services.flatMap((service) => {
        const names = asArray(asObject(service.body.spec).ports).map((p) => asString(asObject(p).name)).filter((n): n is string => n !== undefined);
        return names.includes(String(port)) ? [] : [findingAt(monitor, 'service-monitor/port', ['spec', 'endpoints', i, 'port'],
          `names port ${JSON.stringify(port)}, which Service ${service.name} does not have (its named ports: ${names.join(', ') || 'none'})`)];
      });
    });
  });
}

/** Every ServiceMonitor carries the labels Prometheus selects ServiceMonitors by. */
export function checkServiceMonitorLabels(env: EnvironmentIndex, required: LabelMap = DEFAULT_SERVICE_MONITOR_LABELS): Finding[] {
  return env.ofKind('monitoring.coreos.com', 'ServiceMonitor').flatMap((monitor) => {
    const labels = labelsOf(monitor);
    return Object.entries(required).filter(([k, v]) => labels[k] !== v).map(([k, v]) => findingAt(monitor, 'service-monitor/labels',
      ['metadata', 'labels', k], `must be ${JSON.stringify(v)} so that Prometheus selects this ServiceMonitor, got ${labels[k] === undefined ? 'unset' : JSON.stringify(labels[k])}`));
  });
}

/** Every NetworkPolicy selects at least one pod of its namespace (`{}` selects them all, if there are any). */
export function checkNetworkPolicySelectors(env: EnvironmentIndex): Finding[] {
  return env.ofKind('networking.k8s.io', 'NetworkPolicy').flatMap((policy) => {
    // pods deployed by something else (a datastore run by another team), declared on the policy
    // (`networking.<annotation domain>/pods-managed-elsewhere`, whatever domain the platform chose)
    const managedElsewhere = findLibraryAnnotation(asObject(asObject(policy.body.metadata).annotations), 'podsManagedElsewhere');
    if (asString(managedElsewhere?.value) !== undefined) return [];
    const selector = asObject(policy.body.spec).podSelector;
    const pods = env.podIndex(policy.namespace);
    if (pods.anySelectedBy(selector)) return [];
    const why = pods.items.length === 0 ? `namespace ${policy.namespace ?? '(none)'} has no pods` : `no pod template matches ${describeSelector(selector)}`;
    return [findingAt(policy, 'network-policy/pod-selector', ['spec', 'podSelector'], `selects no pods: ${why}`)];
  });
}

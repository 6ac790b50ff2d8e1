import {
  checkIngressBackends, checkNetworkPolicySelectors, checkServiceMonitorLabels, checkServiceMonitorPorts,
  checkServiceMonitorSelectors, checkServiceSelectors, checkServiceTargetPorts,
} from '../../validate/traffic';
import { Conventions } from '../../constructs';

/** The annotation under the library's default domain (the gate finds it under any domain). */
const PODS_MANAGED_ELSEWHERE_ANNOTATION = Conventions.DEFAULT.annotationKey('podsManagedElsewhere');
import { Body, environment, goodObjects, goodWith, goodWithout, lines } from './helpers';

const WEB_SVC = 'shop/44-service-web.yaml';
const API_SVC = 'shop/44-service-api.yaml';
const INGRESS = 'shop/72-ingress-shop.yaml';
const MONITOR = 'shop/90-servicemonitor-api.yaml';
const POLICY = 'shop/04-networkpolicy-web-to-api.yaml';

describe('traffic checks on the good fixture', () => {
  test.each([
    ['Service selectors', checkServiceSelectors], ['Service target ports', checkServiceTargetPorts],
    ['Ingress backends', checkIngressBackends], ['ServiceMonitor selectors', checkServiceMonitorSelectors],
    ['ServiceMonitor ports', checkServiceMonitorPorts], ['ServiceMonitor labels', checkServiceMonitorLabels],
    ['NetworkPolicy selectors', checkNetworkPolicySelectors],
  ] as const)('%s find nothing to report', (_name, check) => {
    expect(lines(check(environment(goodObjects())))).toEqual([]);
  });
});

describe('Service', () => {
  test('reports a selector that matches no pod template of its namespace', () => {
    // GIVEN the blue/green web Service selecting a colour no Deployment runs
    const env = environment(goodWith(WEB_SVC, (s) => { s.spec.selector.version = 'purple'; }));
    // THEN the selector is reported with the labels it looked for
    expect(lines(checkServiceSelectors(env))).toEqual([
      `${WEB_SVC} Service shop/web spec.selector: selects no pods: no pod template in namespace shop has the labels app=web,version=purple [service/selector]`,
    ]);
  });

  test('does not match pods of another namespace', () => {
    const objects = goodObjects().map((o) => (o.file === 'shop/48-deployment-api.yaml' ? { ...o, namespace: 'other' } : o));
    expect(lines(checkServiceSelectors(environment(objects)))).toEqual([
      `${API_SVC} Service shop/api spec.selector: selects no pods: no pod template in namespace shop has the labels app=api [service/selector]`,
    ]);
  });

  test('reports a numeric target port the selected pods do not declare', () => {
    const env = environment(goodWith(WEB_SVC, (s) => { s.spec.ports[0].targetPort = 8080; }));
    expect(lines(checkServiceTargetPorts(env))).toEqual([
      `${WEB_SVC} Service shop/web spec.ports[0].targetPort: targets port 8080/TCP, which pods of Deployment/web-blue do not declare (their container ports: 3000/TCP "http") [service/target-port]`,
    ]);
  });

  test('reports a named target port the selected pods do not declare, and a protocol mismatch', () => {
    const env = environment(goodWith(API_SVC, (s) => {
      s.spec.ports[0].targetPort = 'metrics';
      s.spec.ports.push({ name: 'dns', port: 8001, targetPort: 8001, protocol: 'UDP' });
    }));
    expect(lines(checkServiceTargetPorts(env))).toEqual([
      `${API_SVC} Service shop/api spec.ports[0].targetPort: targets port name "metrics"/TCP, which pods of Deployment/api do not declare (their container ports: 8001/TCP "http") [service/target-port]`,
      `${API_SVC} Service shop/api spec.ports[1].targetPort: targets port 8001/UDP, which pods of Deployment/api do not declare (their container ports: 8001/TCP "http") [service/target-port]`,
    ]);
  });

  test('uses the Service port as the target port when targetPort is unset', () => {
    const env = environment(goodWith(WEB_SVC, (s) => { delete s.spec.ports[0].targetPort; }));
    expect(lines(checkServiceTargetPorts(env))).toEqual([
      `${WEB_SVC} Service shop/web spec.ports[0].port: targets port 80/TCP, which pods of Deployment/web-blue do not declare (their container ports: 3000/TCP "http") [service/target-port]`,
    ]);
  });

  test('skips Services without a selector and ExternalName Services', () => {
    const env = environment(goodWith(WEB_SVC, (s) => { s.spec = { type: 'ExternalName', externalName: 'example.com' }; }));
    expect(lines([...checkServiceSelectors(env), ...checkServiceTargetPorts(env)])).toEqual([]);
  });
});

describe('Ingress', () => {
  test('reports a backend naming a Service that is not in the output', () => {
    const env = environment(goodWith(INGRESS, (i) => { i.spec.rules[0].http.paths[1].backend.service.name = 'apii'; }));
    expect(lines(checkIngressBackends(env))).toEqual([
      `${INGRESS} Ingress shop/shop spec.rules[0].http.paths[1].backend.service.name: names Service "apii" in namespace shop, which is not in the output (Services there: api, web, web-preview) [ingress/backend]`,
    ]);
  });

  test('reports a backend port number or name the Service does not have', () => {
    const env = environment(goodWith(INGRESS, (i) => {
      i.spec.rules[0].http.paths[0].backend.service.port = { name: 'https' };
      i.spec.defaultBackend = { service: { name: 'api', port: { number: 80 } } };
    }));
    expect(lines(checkIngressBackends(env))).toEqual([
      `${INGRESS} Ingress shop/shop spec.defaultBackend.service.port.number: Service "api" has no port 80 (its ports: 8001 "http") [ingress/backend]`,
      `${INGRESS} Ingress shop/shop spec.rules[0].http.paths[0].backend.service.port.name: Service "web" has no port "https" (its ports: 80 "http") [ingress/backend]`,
    ]);
  });

  test('reports a backend port with neither or both of number and name, as the API server would', () => {
    const env = environment(goodWith(INGRESS, (i) => {
      i.spec.rules[0].http.paths[0].backend.service.port = { name: 'http', number: 80 };
      i.spec.defaultBackend = { service: { name: 'api' } };
    }));
    expect(lines(checkIngressBackends(env))).toEqual([
      `${INGRESS} Ingress shop/shop spec.defaultBackend.service.port: must set exactly one of port.number and port.name, got null [ingress/backend]`,
      `${INGRESS} Ingress shop/shop spec.rules[0].http.paths[0].backend.service.port: must set exactly one of port.number and port.name, got {"name":"http","number":80} [ingress/backend]`,
    ]);
  });
});

describe('ServiceMonitor', () => {
  test('reports a selector that matches no Service in the watched namespaces', () => {
    const env = environment(goodWith(MONITOR, (m) => { m.spec.namespaceSelector.matchNames = ['monitoring']; }));
    expect(lines(checkServiceMonitorSelectors(env))).toEqual([
      `${MONITOR} ServiceMonitor shop/api spec.selector: selects no Service: no Service in namespace monitoring matches app=api [service-monitor/selector]`,
    ]);
  });

  test('watches its own namespace when namespaceSelector is unset, and every namespace with any: true', () => {
    // GIVEN the monitor in another namespace than the Services it selects
    const elsewhere = (selector: Body) => environment(goodWith(MONITOR, (m) => {
      m.metadata.namespace = 'monitoring';
      if (selector === undefined) delete m.spec.namespaceSelector; else m.spec.namespaceSelector = selector;
    }));
    // THEN unset watches only its own namespace (nothing there), any: true finds the Service in shop
    expect(lines(checkServiceMonitorSelectors(elsewhere(undefined)))).toEqual([expect.stringMatching(/ServiceMonitor monitoring\/api .*\[service-monitor\/selector\]$/)]);
    expect(lines(checkServiceMonitorSelectors(elsewhere({ any: true })))).toEqual([]);
    expect(lines(checkServiceMonitorSelectors(elsewhere({ matchNames: ['shop'] })))).toEqual([]);
  });

  test('reports an endpoint port that the selected Service does not name (the seed\'s "metrics")', () => {
    const env = environment(goodWith(MONITOR, (m) => { m.spec.endpoints[0].port = 'metrics'; }));
    expect(lines(checkServiceMonitorPorts(env))).toEqual([
      `${MONITOR} ServiceMonitor shop/api spec.endpoints[0].port: names port "metrics", which Service api does not have (its named ports: http) [service-monitor/port]`,
    ]);
  });

  test('reports a missing Prometheus selector label, default release=prometheus', () => {
    const env = environment(goodWith(MONITOR, (m) => { delete m.metadata.labels; }));
    expect(lines(checkServiceMonitorLabels(env))).toEqual([
      `${MONITOR} ServiceMonitor shop/api metadata.labels.release: must be "prometheus" so that Prometheus selects this ServiceMonitor, got unset [service-monitor/labels]`,
    ]);
  });

  test('takes the required labels as a parameter', () => {
    const env = environment(goodObjects());
    expect(lines(checkServiceMonitorLabels(env, { release: 'kube-prometheus', team: 'platform' }))).toEqual([
      `${MONITOR} ServiceMonitor shop/api metadata.labels.release: must be "kube-prometheus" so that Prometheus selects this ServiceMonitor, got "prometheus" [service-monitor/labels]`,
      `${MONITOR} ServiceMonitor shop/api metadata.labels.team: must be "platform" so that Prometheus selects this ServiceMonitor, got unset [service-monitor/labels]`,
    ]);
    expect(lines(checkServiceMonitorLabels(env, {}))).toEqual([]);
  });
});

describe('NetworkPolicy', () => {
  test('reports a pod selector that matches no pod of its namespace', () => {
    const env = environment(goodWith(POLICY, (p) => { p.spec.podSelector.matchLabels.app = 'backend'; }));
    expect(lines(checkNetworkPolicySelectors(env))).toEqual([
      `${POLICY} NetworkPolicy shop/web-to-api spec.podSelector: selects no pods: no pod template matches app=backend [network-policy/pod-selector]`,
    ]);
  });

  test('accepts a policy whose pods are declared as deployed elsewhere (e.g. a datastore)', () => {
    const env = environment(goodWith(POLICY, (p: Body) => {
      p.spec.podSelector.matchLabels.app = 'postgres';
      p.metadata.annotations = { [PODS_MANAGED_ELSEWHERE_ANNOTATION]: 'PostgreSQL, run by the platform team' };
    }));
    expect(lines(checkNetworkPolicySelectors(env))).toEqual([]);
  });

  test('reports an empty pod selector in a namespace without pods, and accepts it when there are pods', () => {
    const workloads = ['shop/48-deployment-api.yaml', 'shop/48-deployment-web-blue.yaml', 'shop/48-deployment-web-green.yaml',
      'shop/60-job-smoke-test.yaml', 'shop/64-cronjob-cleanup.yaml'];
    expect(lines(checkNetworkPolicySelectors(environment(goodWithout(...workloads))))).toEqual([
      'shop/04-networkpolicy-default-deny.yaml NetworkPolicy shop/default-deny spec.podSelector: selects no pods: namespace shop has no pods [network-policy/pod-selector]',
      `${POLICY} NetworkPolicy shop/web-to-api spec.podSelector: selects no pods: namespace shop has no pods [network-policy/pod-selector]`,
    ]);
  });
});

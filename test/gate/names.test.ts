import { checkDuplicates, checkLabels, checkObjectName, checkPortNames } from '../../validate/names';
import { Body, environment, goodObjects, goodWith, lines } from './helpers';

function one(file: string, change: (b: Body) => void) {
  return goodWith(file, change).find((o) => o.file === file)!;
}

describe('object names', () => {
  test('of the good fixture are valid for their kinds', () => {
    expect(goodObjects().flatMap((o) => lines([...checkObjectName(o), ...checkLabels(o), ...checkPortNames(o)]))).toEqual([]);
  });

  test.each([
    ['shop/28-configmap-app-config.yaml', 'App_Config', 'ConfigMap shop/App_Config', 'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters'],
    ['shop/00-namespace-shop.yaml', 'shop.example', 'Namespace shop.example', 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters'],
    ['shop/44-service-api.yaml', '8-api', 'Service shop/8-api', 'must be a DNS-1035 label: lowercase letters, digits and "-", starting with a letter, ending with a letter or digit, at most 63 characters'],
  ])('reports %s named %j', (file, name, object, rule) => {
    expect(lines(checkObjectName(one(file, (b) => { b.metadata.name = name; })))).toEqual([
      `${file} ${object} metadata.name: ${rule}, got ${JSON.stringify(name)} [names/object-name]`,
    ]);
  });

  test('reports a CronJob name too long for the Jobs it creates', () => {
    const file = 'shop/64-cronjob-cleanup.yaml';
    const name = `cleanup-${'x'.repeat(45)}`;
    expect(lines(checkObjectName(one(file, (b) => { b.metadata.name = name; })))).toEqual([
      `${file} CronJob shop/${name} metadata.name: must be at most 52 characters (its Jobs append an 11-character suffix), got ${JSON.stringify(name)} [names/object-name]`,
    ]);
  });

  test('reports a Job name too long for the job-name label of its pods', () => {
    const file = 'shop/60-job-smoke-test.yaml';
    const name = `smoke-test-${'x'.repeat(53)}`;
    expect(lines(checkObjectName(one(file, (b) => { b.metadata.name = name; })))).toEqual([
      `${file} Job shop/${name} metadata.name: must be at most 63 characters (it becomes the job-name label of its pods), got ${JSON.stringify(name)} [names/object-name]`,
    ]);
  });

  test('reports a missing name', () => {
    const file = 'shop/20-secret-api-token.yaml';
    expect(lines(checkObjectName(one(file, (b) => { delete b.metadata.name; b.metadata.generateName = 'token-'; })))).toEqual([
      `${file} Secret shop/(unnamed) metadata.name: is required (kubectl apply cannot create objects from generateName) [names/object-name]`,
    ]);
  });
});

describe('labels and port names', () => {
  test('reports invalid label keys and values, on the object and on its pods', () => {
    const file = 'shop/48-deployment-api.yaml';
    expect(lines(checkLabels(one(file, (d) => {
      d.metadata.labels['-bad'] = 'ok';
      d.spec.template.metadata.labels.version = 'v1.0.0+build';
    })))).toEqual([
      `${file} Deployment shop/api metadata.labels["-bad"]: label key must be at most 63 letters, digits, "-", "_" or "." (after an optional "prefix/"), starting and ending with a letter or digit, got "-bad" [names/label]`,
      `${file} Deployment shop/api spec.template.metadata.labels.version: label value must be empty or at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, got "v1.0.0+build" [names/label]`,
    ]);
  });

  test('reports container and Service port names the API server rejects', () => {
    const deployment = 'shop/48-deployment-api.yaml';
    const service = 'shop/44-service-api.yaml';
    expect(lines([
      ...checkPortNames(one(deployment, (d) => { d.spec.template.spec.containers[0].ports[0].name = 'http-metrics-port'; })),
      ...checkPortNames(one(service, (s) => { s.spec.ports[0].name = 'HTTP'; s.spec.ports[0].targetPort = 'http--x'; })),
    ])).toEqual([
      `${service} Service shop/api spec.ports[0].name: must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters, got "HTTP" [names/port-name]`,
      `${service} Service shop/api spec.ports[0].targetPort: must be an IANA service name: at most 15 lowercase letters, digits and "-", with a letter, no "--", starting and ending with a letter or digit, got "http--x" [names/port-name]`,
      `${deployment} Deployment shop/api spec.template.spec.containers[0].ports[0].name: must be an IANA service name: at most 15 lowercase letters, digits and "-", with a letter, no "--", starting and ending with a letter or digit, got "http-metrics-port" [names/port-name]`,
    ]);
  });
});

describe('probe ports', () => {
  test('accept a named port the container declares, and report one it does not (the pod would never be ready)', () => {
    const deployment = 'shop/48-deployment-api.yaml';
    const withProbes = (port: string) => one(deployment, (d) => {
      d.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/health', port } };
      d.spec.template.spec.containers[0].livenessProbe = { tcpSocket: { port: 8001 } };
    });
    expect(lines(checkPortNames(withProbes('http')))).toEqual([]);
    expect(lines(checkPortNames(withProbes('htp')))).toEqual([
      `${deployment} Deployment shop/api spec.template.spec.containers[0].readinessProbe.httpGet.port: names port "htp", which container "api" does not declare (its named ports: http) [names/probe-port]`,
    ]);
  });
});

describe('duplicates', () => {
  test('reports a second object with the same group, kind, namespace and name, whatever its version', () => {
    const objects = goodObjects();
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    const copy = { ...hpa, file: 'shop/99-copy.yaml', apiVersion: 'autoscaling/v1' };
    expect(lines(checkDuplicates(environment([...objects, copy])))).toEqual([
      'shop/99-copy.yaml HorizontalPodAutoscaler shop/api metadata.name: HorizontalPodAutoscaler "api" is already defined in shop/52-horizontalpodautoscaler-api.yaml; the later one would overwrite it [names/duplicate]',
    ]);
  });

  test('allows the same name for different kinds', () => {
    expect(lines(checkDuplicates(environment(goodObjects())))).toEqual([]);
  });
});

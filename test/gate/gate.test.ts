import * as path from 'path';
import { main } from '../../scripts/validate';
import { findingLines, formatReport, readManifestTree, validateTree } from '../../validate';
import { FIXTURES } from './helpers';

const DIST = path.resolve(__dirname, '..', '..', 'dist');
const GOOD = path.join(FIXTURES, 'good');
const BAD = path.join(FIXTURES, 'bad');

function run(args: string[]): { code: number; output: string[] } {
  const output: string[] = [];
  const code = main(args, (line) => output.push(...line.split('\n')));
  return { code, output };
}

describe('the gate over the committed dist/', () => {
  const result = validateTree(readManifestTree(DIST));

  test('reads every object of every environment', () => {
    expect(result.environments).toEqual(['production', 'staging']);
    expect(result.objects).toBe(result.files);
    expect(result.objects).toBeGreaterThanOrEqual(30);
  });

  test('finds nothing wrong in any environment of dist/', () => {
    expect(findingLines(result.findings)).toEqual([]);
  });
});

describe('the gate over hand-written fixtures', () => {
  test('finds nothing in a valid environment that uses every kind the project emits or will emit', () => {
    const result = validateTree(readManifestTree(GOOD));
    expect({ findings: findingLines(result.findings), objects: result.objects }).toEqual({ findings: [], objects: 22 });
  });

  test('reports exactly the expected findings for the bad fixtures, naming file, object and path', () => {
    const result = validateTree(readManifestTree(BAD));
    const typos = 'typos/48-deployment-api.yaml Deployment typos/api spec';
    expect(findingLines(result.findings)).toEqual([
      'broken/10-malformed.yaml: invalid YAML: Implicit keys need to be on a single line at line 4, column 9 [yaml/syntax]',
      'broken/11-empty.yaml: warning: contains no document [yaml/empty-document]',
      'broken/12-list.yaml: must be a Kubernetes object (a mapping), got a list [yaml/not-an-object]',
      'broken/13-no-kind.yaml: kind must be a non-empty string; without it no schema applies [schema/type-meta]',
      'broken/14-multi.yaml: document 3: invalid YAML: Map keys must be unique at line 17, column 3 [yaml/syntax]',
      'broken/14-multi.yaml: warning: document 2: empty document (kubectl skips it) [yaml/empty-document]',
      'broken/15-unknown-kinds.yaml Certificate broken/shop-tls kind: no schema for cert-manager.io/v1 Certificate: not a Kubernetes 1.28 API and no registered CRD package serves group "cert-manager.io" (register its @kubernetes-models package in validate/crds.ts) [schema/unknown-kind]',
      'broken/15-unknown-kinds.yaml Deployment broken/old kind: Deployment is not served as apps/v1beta1 by Kubernetes 1.28 or the registered CRDs; it exists as apps/v1 [schema/unknown-kind]',
      'typos/44-service-api.yaml Service typos/api spec.ports[0].targetPort: targets port 8000/TCP, which pods of Deployment/api do not declare (their container ports: 8001/TCP "http") [service/target-port]',
      'typos/44-service-web.yaml Service typos/web spec.selector: selects no pods: no pod template in namespace typos has the labels app=wbe [service/selector]',
      `${typos}.replicas: must be an integer, got string "1" [schema/type]`,
      `${typos}.template.spec.containers[0].env[0].valueFrom.configMapKeyRef.key: key "loglevel" is not in ConfigMap "app-config" (its keys: log_level) [reference/config-map]`,
      `${typos}.template.spec.containers[0].env[1].valueFrom.secretKeyRef.name: Secret "db-credentials" in namespace typos is not in the output (neither a Secret nor an ExternalSecret creating it); pods would fail to start (mark the reference optional if that is intended) [reference/secret]`,
      `${typos}.template.spec.containers[0].imagePullPolicyy: unknown field (did you mean "imagePullPolicy"?) [schema/unknown-field]`,
      `${typos}.template.spec.containers[0].resources.limits.memory: must be a quantity (a number, or a string such as "250m", "1.5" or "512Mi"), got string "512MB" [schema/type]`,
      `${typos}.template.spec.containers[0].securityContext.privileged: must not be true: privileged containers are not allowed (baseline: Privileged Containers) [pod-security/privileged]`,
      `${typos}.template.spec.containers[0].securityContext.runAsUser: must not be 0: containers must not run as the root user (restricted: Running as Non-root user) [pod-security/run-as-user]`,
      'typos/90-servicemonitor-api.yaml ServiceMonitor typos/api metadata.labels.release: must be "prometheus" so that Prometheus selects this ServiceMonitor, got unset [service-monitor/labels]',
      'typos/90-servicemonitor-api.yaml ServiceMonitor typos/api spec.endpoints[0].port: names port "metrics", which Service api does not have (its named ports: http) [service-monitor/port]',
    ]);
    expect({ errors: result.errors, warnings: result.warnings }).toEqual({ errors: 17, warnings: 2 });
  });

  test('prints findings grouped per object with environment, kind, name and path', () => {
    const report = formatReport(validateTree(readManifestTree(path.join(BAD, 'typos')).set('typos/x.yaml', '')), 'bad');
    expect(report.slice(0, 4)).toEqual([
      'bad/44-service-api.yaml: Service typos/api',
      '  error   spec.ports[0].targetPort: targets port 8000/TCP, which pods of Deployment/api do not declare (their container ports: 8001/TCP "http") [service/target-port]',
      'bad/44-service-web.yaml: Service typos/web',
      '  error   spec.selector: selects no pods: no pod template in namespace typos has the labels app=wbe [service/selector]',
    ]);
    expect(report).toContain('bad/typos/x.yaml (environment typos)');
    expect(report).toContain('  warning (file): contains no document [yaml/empty-document]');
    expect(report[report.length - 1]).toBe('validate: 6 objects in 7 files (typos): 11 errors, 1 warnings');
  });
});

describe('npm run validate', () => {
  test('exits 0 and prints a summary when there is no error', () => {
    const { code, output } = run([GOOD]);
    expect(code).toBe(0);
    expect(output).toHaveLength(1);
    expect(output[0]).toMatch(/^validate: 22 objects in 22 files \(shop\): 0 errors, 0 warnings \(\d+ ms\)$/);
  });

  test('exits 1 on errors and prints each finding under its object', () => {
    const { code, output } = run([path.join(BAD, 'typos')]);
    expect(code).toBe(1);
    expect(output).toContain('  error   spec.replicas: must be an integer, got string "1" [schema/type]');
    expect(output[output.length - 1]).toMatch(/: 6 objects in 6 files: 11 errors, 0 warnings/);
  });

  test('takes the ServiceMonitor labels Prometheus selects by as a parameter', () => {
    const labelled = run(['--servicemonitor-labels', 'release=kube-prometheus', GOOD]);
    expect(labelled.code).toBe(1);
    expect(labelled.output).toContain('  error   metadata.labels.release: must be "kube-prometheus" so that Prometheus selects this ServiceMonitor, got "prometheus" [service-monitor/labels]');
    expect(run(['--servicemonitor-labels=', path.join(BAD, 'typos')]).output.join('\n')).not.toContain('service-monitor/labels');
  });

  test('prints JSON for tools', () => {
    const { code, output } = run(['--json', GOOD]);
    const json = JSON.parse(output.join('\n'));
    expect({ code, version: json.kubernetesVersion, errors: json.results[0].result.errors }).toEqual({ code: 0, version: '1.28', errors: 0 });
  });

  test('rejects bad usage with exit 64', () => {
    expect(run(['--strict']).code).toBe(64);
    expect(run(['--servicemonitor-labels', 'release', GOOD]).code).toBe(64);
    expect(run([path.join(FIXTURES, 'no-such-folder')]).code).toBe(64);
  });
});

/**
 * Proves the construct library works outside this repository: `npm pack`, install the tarball into a
 * fresh project offline (from the npm cache that `npm ci` filled), compile a chart for a made-up
 * platform with strict TypeScript, synthesize it and check the output.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { ROOT } from '../main';
import { find, Obj, ofKind } from './helpers';

jest.setTimeout(180_000);

const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
const installed = (pkg: string): string => lock.packages[`node_modules/${pkg}`].version;

const CHART = `
import { App, Chart } from 'cdk8s';
import {
  AlertSeverity, Colour, Microservice, PrometheusRules, ReleaseStrategy, SecureNamespace, WorkloadMonitor, ZeroTrustNetwork,
} from '@soundcore/kcp-constructs';

declare const process: { stdout: { write(text: string): void } };

const app = new App();
const chart = new Chart(app, 'acme-shop', { namespace: 'acme-shop' });
const namespace = new SecureNamespace(chart, 'Namespace', { name: 'acme-shop' });
const network = new ZeroTrustNetwork(chart, 'Network', { namespace });
const resources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '100m', memory: '128Mi' } };
const storefront = new Microservice(chart, 'Storefront', {
  name: 'storefront', image: 'ghcr.io/acme/storefront', containerPort: 8080, servicePort: 80,
  release: ReleaseStrategy.rolling({ imageTag: '2024.06.1' }), resources, network,
});
const payments = new Microservice(chart, 'Payments', {
  name: 'payments', image: 'ghcr.io/acme/payments', containerPort: 9000, replicas: 3, partOf: 'acme-shop',
  release: ReleaseStrategy.blueGreen({ active: Colour.GREEN, tags: { blue: '1.4.0', green: '1.5.0' } }), resources, network,
});
storefront.connectTo(payments);
const monitor = new WorkloadMonitor(chart, 'Monitor', {
  name: 'acme-shop', labels: { release: 'prometheus' }, selectLabels: { 'app.kubernetes.io/part-of': 'acme-shop' }, namespaces: ['acme-shop'],
});
monitor.scrape(payments);
const rules = new PrometheusRules(chart, 'Alerts', { name: 'acme-shop-alerts', labels: { release: 'prometheus' } });
rules.addGroup('payments').addAlert({
  name: 'PaymentsDown',
  expr: 'sum(up{namespace="acme-shop", job="payments"}) == 0',
  for: '2m',
  severity: AlertSeverity.CRITICAL,
  team: 'payments',
  summary: 'No payments pod is up',
  description: 'Every payments target has been down for 2 minutes',
  runbookUrl: 'https://runbooks.acme.example/payments-down',
});
process.stdout.write(JSON.stringify({ storefront: storefront.service.name, payments: payments.service.name }) + '\\n---\\n');
process.stdout.write(app.synthYaml());
`;

describe('the packed construct library', () => {
  let work: string;
  let files: string[];
  let objects: Obj[];
  let names: { storefront: string; payments: string };

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-consumer-'));
    const run = (cmd: string, args: string[], cwd: string): string => {
      try {
        return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        const { stdout, stderr } = e as { stdout?: string; stderr?: string };
        throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`);
      }
    };
    // GIVEN a tarball built the way it would be published
    run('npm', ['pack', '--silent', '--pack-destination', work], ROOT);
    const tarball = fs.readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    files = run('tar', ['-tzf', path.join(work, tarball)], work).trim().split('\n').sort();
    // AND a fresh project that installs it with its peers, offline
    const project = path.join(work, 'acme-shop');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({
      name: 'acme-shop', version: '1.0.0', private: true,
      dependencies: {
        '@soundcore/kcp-constructs': `file:../${tarball}`,
        'cdk8s': installed('cdk8s'), 'cdk8s-plus-28': installed('cdk8s-plus-28'), 'constructs': installed('constructs'),
      },
    }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], project);
    // WHEN a strict TypeScript chart using the public API is compiled and run
    fs.writeFileSync(path.join(project, 'chart.ts'), CHART);
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, target: 'es2022', module: 'commonjs', moduleResolution: 'node', skipLibCheck: true, types: [] },
      files: ['chart.ts'],
    }));
    run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project);
    const output = run(process.execPath, ['chart.js'], project);
    const cut = output.indexOf('\n---\n');
    const [header, manifests] = [output.slice(0, cut), output.slice(cut + 5)];
    names = JSON.parse(header);
    objects = YAML.parseAllDocuments(manifests).map((d) => d.toJS()).filter(Boolean);
  });

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('ships only the compiled library, its declarations, the README and package.json', () => {
    expect(files.every((f) => /^package\/(lib\/[\w-]+\.(js|d\.ts)|README\.md|package\.json)$/.test(f))).toBe(true);
    expect(files).toContain('package/lib/index.js');
    expect(files).toContain('package/lib/index.d.ts');
    expect(files.some((f) => f.includes('dist/') || f.includes('environments/') || f.includes('test/'))).toBe(false);
  });

  test('installs with a single copy of constructs, shared with the consumer', () => {
    const copies = execFileSync('find', [path.join(work, 'acme-shop', 'node_modules'), '-type', 'd', '-name', 'constructs', '-path', '*node_modules/constructs'], { encoding: 'utf8' })
      .trim().split('\n').filter(Boolean);
    expect(copies).toEqual([path.join(work, 'acme-shop', 'node_modules', 'constructs')]);
  });

  test('synthesizes the consumer\'s dependency edge as egress on the caller and ingress on the callee', () => {
    const names = ofKind(objects, 'NetworkPolicy').map((p) => p.metadata.name).sort();
    expect(names).toEqual(expect.arrayContaining(['default-deny', 'payments', 'storefront']));
    const egress = find(objects, 'NetworkPolicy', 'storefront').spec.egress;
    expect(egress).toContainEqual({ to: [{ podSelector: { matchLabels: { app: 'payments' } } }], ports: [{ protocol: 'TCP', port: 9000 }] });
    const ingress = find(objects, 'NetworkPolicy', 'payments').spec.ingress;
    expect(ingress).toContainEqual({ from: [{ podSelector: { matchLabels: { app: 'storefront' } } }], ports: [{ protocol: 'TCP', port: 9000 }] });
  });

  test('synthesizes the consumer\'s alert and the monitor that scrapes both colours of the pair', () => {
    const rule = find(objects, 'PrometheusRule', 'acme-shop-alerts');
    expect(rule.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(rule.spec.groups[0].rules[0]).toMatchObject({
      alert: 'PaymentsDown', for: '2m', labels: { severity: 'critical', team: 'payments' },
    });
    const monitor = find(objects, 'ServiceMonitor', 'acme-shop');
    expect(monitor.spec.endpoints[0].port).toBe('metrics');
    for (const name of ['payments', 'payments-preview']) {
      expect(find(objects, 'Service', name).spec.ports.map((p: { name: string }) => p.name)).toEqual(['http', 'metrics']);
    }
  });

  test('synthesizes the consumer\'s platform: a rolling service and a blue/green pair', () => {
    expect(names).toEqual({ storefront: 'storefront', payments: 'payments' });
    expect(ofKind(objects, 'Deployment').map((d) => d.metadata.name).sort()).toEqual(['payments-blue', 'payments-green', 'storefront']);
    expect(find(objects, 'Service', 'storefront').spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080 }]);
    expect(find(objects, 'Service', 'payments').spec.selector).toEqual({ app: 'payments', version: 'green' });
    expect(find(objects, 'Service', 'payments-preview').spec.selector).toEqual({ app: 'payments', version: 'blue' });
    expect(find(objects, 'Deployment', 'payments-blue').spec.replicas).toBe(1);
    expect(find(objects, 'Deployment', 'payments-green').spec.template.spec.containers[0].image).toBe('ghcr.io/acme/payments:1.5.0');
    expect(find(objects, 'Namespace', 'acme-shop').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

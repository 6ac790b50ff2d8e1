import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gateOutput, withGateRecord } from '../../synth/gate';
import { KubeObject, renderTree } from '../../synth/output';
import { readManifestTree, validateTree } from '../../validate';
import { GATE_RECORD, manifestRoot, PluginContext, recordedGate, toViolations, ValidationGate, Violation } from '../../validate/cdk8s-plugin';
import { FIXTURES } from './helpers';

const BAD = path.join(FIXTURES, 'bad');

describe('the cdk8s validation plugin', () => {
  test('finds the folder the CLI wrote, with environments as its subfolders', () => {
    expect(manifestRoot(['/out/staging/a.yaml', '/out/production/b.yaml'])).toBe('/out');
    expect(manifestRoot(['/out/staging/a.yaml', '/out/staging/b.yaml'])).toBe('/out');
    expect(manifestRoot(['/out/staging/a.yaml', '/out/staging/deep/b.yaml'])).toBe('/out/staging');
  });

  test('turns each error (not warning) into a violation naming the resource, path and manifest', () => {
    const result = validateTree(readManifestTree(path.join(BAD, 'broken')));
    const violations = toViolations('/out', result.findings);
    expect(violations).toHaveLength(result.errors);
    expect(violations[violations.length - 1]).toEqual({
      ruleName: 'schema/unknown-kind',
      recommendation: 'Deployment is not served as apps/v1beta1 by Kubernetes 1.28 or the registered CRDs; it exists as apps/v1',
      fix: expect.stringContaining('Validation gate'),
      violatingResources: [{ resourceName: 'Deployment broken/old', locations: ['kind'], manifestPath: '/out/15-unknown-kinds.yaml' }],
    });
  });

  test('runs the gate on the manifests cdk8s wrote and fails the report on errors', async () => {
    // GIVEN the plugin as the CLI would load it, and the bad fixtures as the CLI's output
    const manifests = Object.keys(Object.fromEntries(readManifestTree(BAD))).map((f) => path.join(BAD, f));
    const violations: Violation[] = [];
    const submitted: Array<{ status: string; metadata?: { readonly [key: string]: string } }> = [];
    const logged: string[] = [];
    const context: PluginContext = {
      manifests,
      report: { addViolation: (v) => violations.push(v), submit: (status, metadata) => submitted.push({ status, metadata }) },
      logger: { log: (m) => logged.push(m) },
    };
    // WHEN it validates
    await new ValidationGate().validate(context);
    // THEN the report fails with one violation per error, and warnings are only logged
    expect(submitted).toEqual([{ status: 'failure', metadata: expect.objectContaining({ 'Kubernetes version': '1.28', 'Errors': '17', 'Warnings': '2' }) }]);
    expect(violations.map((v) => v.ruleName)).toContain('pod-security/privileged');
    expect(violations).toHaveLength(17);
    expect(logged).toEqual([
      expect.stringContaining('broken/11-empty.yaml'),
      expect.stringContaining('broken/14-multi.yaml'),
    ]);
  });

  describe('the result the app recorded in the CLI folder', () => {
    let dir: string;
    let manifests: string[];
    beforeEach(() => {
      // GIVEN a CLI folder as the app writes it: one Namespace per environment, and the gate's record
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-plugin-'));
      const charts = new Map<string, KubeObject[]>(['a', 'b'].map((env) => [env, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: env } }]]));
      const tree = withGateRecord(gateOutput(renderTree(charts), charts));
      for (const [file, content] of tree) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), content);
      }
      manifests = [...tree.keys()].filter((f) => f.endsWith('.yaml')).map((f) => path.join(dir, f));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('is used for exactly the manifests it covers, instead of running the gate again', () => {
      expect(fs.existsSync(path.join(dir, GATE_RECORD))).toBe(true);
      expect(recordedGate(dir, manifests, {})).toEqual({
        kubernetesVersion: '1.28', ms: expect.any(Number),
        results: [{ folder: '.', result: { findings: [], objects: 2, files: 2, environments: ['a', 'b'], errors: 0, warnings: 0 } }],
      });
      expect(recordedGate(dir, manifests, { serviceMonitorLabels: { release: 'prometheus' } })).toBeDefined();
    });

    test('is not used when a manifest changed, is missing or is extra, or other ServiceMonitor labels are asked for', () => {
      expect(recordedGate(dir, manifests.slice(1), {})).toBeUndefined();
      expect(recordedGate(dir, [...manifests, path.join(dir, 'c', 'x.yaml')], {})).toBeUndefined();
      expect(recordedGate(dir, manifests, { serviceMonitorLabels: { team: 'platform' } })).toBeUndefined();
      fs.appendFileSync(manifests[0], '  labels: {}\n');
      expect(recordedGate(dir, manifests, {})).toBeUndefined();
      fs.rmSync(path.join(dir, GATE_RECORD));
      expect(recordedGate(dir, manifests.slice(1), {})).toBeUndefined();
    });
  });
});

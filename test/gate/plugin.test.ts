import * as path from 'path';
import { readManifestTree, validateTree } from '../../validate';
import { manifestRoot, PluginContext, toViolations, ValidationGate, Violation } from '../../validate/cdk8s-plugin';
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
});

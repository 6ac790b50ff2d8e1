/**
 * The gate in process on synthesized objects (what every synth runs) gives exactly the result of
 * the gate over the written folder (what `npm run validate` runs).
 */
import * as path from 'path';
import { loadManifests, readManifestTree, validateManifests, validateTree } from '../../validate';
import { gateObjects, GateFailedError, gateOutput, gateResultOf, gateWarnings } from '../../synth/gate';
import { KubeObject, renderTree } from '../../synth/output';
import { UnsafeOutputError } from '../../synth/guards';
import { synthObjects } from '../helpers';
import { FIXTURES } from './helpers';

const DIST = path.join(__dirname, '..', '..', 'dist');

/** The objects of a fixture folder as a synth would hand them over: parsed, with their files. */
function asSynthesized(folder: string) {
  return loadManifests(readManifestTree(folder)).objects.map((o) => ({ file: o.file, object: o.body }));
}

describe('the in-process gate', () => {
  test('on the synthesized objects equals the gate over dist/', () => {
    // GIVEN the objects a synth produces (dist/ is committed equal to a fresh synth; test/dist.test.ts)
    const charts = synthObjects() as Map<string, KubeObject[]>;
    // WHEN the gate runs on them in process, and over the written folder
    const inProcess = gateObjects(charts);
    const written = readManifestTree(DIST);
    const folder = validateTree(written);
    // THEN the results are identical: the same files, objects, environments and (no) findings
    expect(inProcess).toEqual(folder);
    expect(inProcess).toMatchObject({ objects: written.size, files: written.size, environments: ['production', 'staging'], errors: 0, warnings: 0 });
    expect(written.size).toBeGreaterThan(90);
  });

  test.each(['good', 'bad/typos', 'bad/broken'])('on the objects of test/fixtures/gate/%s finds exactly what the folder gate finds', (name) => {
    // GIVEN a fixture folder and its objects
    const folder = path.join(FIXTURES, name);
    // WHEN both gates run
    const fromFolder = validateTree(readManifestTree(folder));
    const inProcess = validateManifests(asSynthesized(folder));
    // THEN every finding about an object is the same (unreadable YAML and documents without
    // apiVersion/kind are not objects: a synth never hands those over)
    expect(inProcess.findings).toEqual(fromFolder.findings.filter((f) => !f.rule.startsWith('yaml/') && f.rule !== 'schema/type-meta'));
    expect(inProcess.objects).toBe(fromFolder.objects);
    if (name !== 'good') expect(inProcess.errors).toBeGreaterThan(1);
  });

  test('reports a synthesized object without kind as the folder gate reports such a document', () => {
    const result = validateManifests([{ file: 'env/x.yaml', object: { apiVersion: 'v1', metadata: { name: 'x' } } }]);
    expect(result.findings).toEqual([{
      severity: 'error', rule: 'schema/type-meta', file: 'env/x.yaml', environment: 'env', path: '', name: 'x',
      message: 'kind must be a non-empty string; without it no schema applies',
    }]);
  });

  test('never changes the objects it is given, and reads them as their YAML would read (undefined fields dropped)', () => {
    // GIVEN an object with an undefined field
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'y', labels: undefined }, data: { a: 'b' } };
    const before = JSON.stringify(object);
    // WHEN validated in process
    const result = validateManifests([{ file: 'env/28-configmap-x.yaml', object }]);
    // THEN only the missing Namespace is reported, and the object is untouched
    expect(result.findings.map((f) => `${f.rule} ${f.path}`)).toEqual(['namespace/exists metadata.namespace']);
    expect(JSON.stringify(object)).toBe(before);
    expect(object.metadata).toHaveProperty('labels', undefined);
  });

  test('fails a synth whose objects have gate errors, listing every finding, before anything is written', () => {
    // GIVEN rendered output whose Service selects no pod and whose Namespace is missing
    const charts = new Map<string, KubeObject[]>([['env', [{
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    }]]]);
    const tree = renderTree(charts);
    // WHEN the gate step runs
    let error: unknown;
    try {
      gateOutput(tree, charts);
    } catch (e) {
      error = e;
    }
    // THEN it throws an UnsafeOutputError (what synth and release report as "nothing written") naming each finding
    expect(error).toBeInstanceOf(GateFailedError);
    expect(error).toBeInstanceOf(UnsafeOutputError);
    expect((error as Error).message.split('\n')).toEqual([
      'the validation gate found 2 errors in the synthesized objects:',
      'dist/env/44-service-web.yaml: Service shop/web (environment env)',
      '  error   metadata.namespace: Namespace "shop" is not in the output (Namespaces there: none) [namespace/exists]',
      '  error   spec.selector: selects no pods: no pod template in namespace shop has the labels app=web [service/selector]',
      'validate: 1 objects in 1 files (env): 2 errors, 0 warnings',
    ]);
    expect(gateResultOf(tree)).toBeUndefined();
  });

  test('passes output with only warnings, and hands the warnings to synth to print', () => {
    // GIVEN a Namespace with a namespace set (the API server ignores it: a warning, not an error)
    const charts = new Map<string, KubeObject[]>([['env', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', namespace: 'shop' } }]]]);
    const tree = renderTree(charts);
    // WHEN the gate step runs, THEN the tree passes and its warning is there to print
    expect(gateOutput(tree, charts)).toBe(tree);
    expect(gateResultOf(tree)).toMatchObject({ errors: 0, warnings: 1 });
    expect(gateWarnings(tree)).toEqual([
      'warning: dist/env/00-namespace-shop.yaml: Namespace shop/shop (environment env)',
      'warning:   warning metadata.namespace: is ignored: Namespace is cluster-scoped [namespace/cluster-scoped]',
    ]);
  });
});

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { synthesize, writeManifests } from '../synth/pipeline';
import { ROOT } from '../synth/root';
import { CATALOGUE, ENVIRONMENTS, EnvironmentConfig } from '../environments';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { GATE_RECORD, GateRecord } from '../synth/gate';
import { diffTree, readTree, renderTree } from '../synth/output';
import { committedReleaseStates, find, synthObjects } from './helpers';

const DIST = path.join(ROOT, 'dist');

describe('committed dist/', () => {
  test('equals a fresh synth (run `npm run synth` and commit when this fails)', () => {
    const diff = diffTree(DIST, synthesize(ENVIRONMENTS, CATALOGUE, committedReleaseStates()));
    expect({ stale: diff.changed, missing: diff.missing, extra: diff.extra }).toEqual({ stale: [], missing: [], extra: [] });
  });

  test('synthesizing twice gives byte-identical output', () => {
    const first = synthesize(ENVIRONMENTS, CATALOGUE, committedReleaseStates());
    const second = synthesize(ENVIRONMENTS, CATALOGUE, committedReleaseStates());
    expect([...second.entries()]).toEqual([...first.entries()]);
  });

  test('holds one folder per environment and one object per file', () => {
    const tree = readTree(DIST);
    const folders = new Set([...tree.keys()].map((f) => f.split('/')[0]));
    expect([...folders].sort()).toEqual(ENVIRONMENTS.map((e) => e.name).sort());
    for (const [file, content] of tree) {
      if (!file.endsWith('.yaml')) continue;
      const docs = YAML.parseAllDocuments(content);
      expect([file, docs.length]).toEqual([file, 1]);
      const obj = docs[0].toJS();
      expect(path.basename(file)).toBe(`${path.basename(file).slice(0, 2)}-${obj.kind.toLowerCase()}-${obj.metadata.name}.yaml`);
    }
  });

  test('sorts the Namespace first in every environment\'s platform folder, and config before workloads, so each `kubectl apply -f` works in one pass', () => {
    for (const env of ENVIRONMENTS) {
      const platform = [...readTree(DIST).keys()].filter((f) => f.startsWith(`${env.name}/platform/`) && f.endsWith('.yaml')).sort();
      expect(platform[0]).toBe(`${env.name}/platform/00-namespace-${env.namespace}.yaml`);
      const files = [...readTree(DIST).keys()].filter((f) => f.startsWith(`${env.name}/`) && !f.includes('/platform/') && f.endsWith('.yaml')).sort();
      const kinds = files.map((f) => path.basename(f).split('-')[1]);
      expect(kinds.indexOf('configmap')).toBeLessThan(kinds.indexOf('deployment'));
      const route = kinds.findIndex((k) => k === 'ingress' || k === 'httproute');
      expect(route).toBeGreaterThan(-1);
      expect(kinds.lastIndexOf('service')).toBeLessThan(route);
    }
  });

  test('holds the allowed-traffic graph (Markdown) and the deploy plan (TSV) of each environment, which `kubectl apply -f` skips', () => {
    const tree = readTree(DIST);
    for (const env of ENVIRONMENTS) {
      const doc = tree.get(`${env.name}/allowed-traffic.md`)!;
      expect(doc).toContain('```mermaid\nflowchart LR\n');
      expect(doc).toContain('| frontend | knowledge-service | TCP 8001 | API call |');
      expect(doc).toContain(`namespace ${env.namespace}`);
    }
    const others = [...tree.keys()].filter((f) => !f.endsWith('.yaml') && !/^[a-z-]+\/runbooks\/[a-z0-9-]+\.md$/.test(f));
    // (and the verify plan where a blue/green component can be promoted: test/verify.test.ts)
    expect(others.sort()).toEqual([...ENVIRONMENTS.flatMap((e) => [`${e.name}/allowed-traffic.md`, `${e.name}/deploy-plan.tsv`]), 'production/verify-plan.tsv'].sort());
    for (const env of ENVIRONMENTS) expect(tree.get(`${env.name}/deploy-plan.tsv`)).toContain(`\nnamespace\t${env.namespace}\n`);
  });

  test('rejects a document that `kubectl apply -f` would read as a manifest', () => {
    const objects = new Map([['staging', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }]]]);
    expect(() => renderTree(objects, new Map([['staging/graph.json', '{}']])))
      .toThrow('document staging/graph.json must not end in .yaml/.yml/.json: `kubectl apply -f` would read it as a manifest');
    expect([...renderTree(objects, new Map([['staging/graph.md', '# graph\n']])).keys()])
      .toEqual(['staging/28-configmap-x.yaml', 'staging/graph.md']);
  });

  test('reads back as the synthesized objects under YAML 1.1 and 1.2 parsers', () => {
    const objects = synthObjects();
    for (const [file, content] of readTree(DIST)) {
      if (!file.endsWith('.yaml')) continue;
      const [env] = file.split('/');
      for (const version of ['1.1', '1.2'] as const) {
        const obj = YAML.parse(content, { version });
        expect(obj).toEqual(find(objects.get(env)!, obj.kind, obj.metadata.name));
      }
    }
  });
});

describe('adding an environment', () => {
  const qa: EnvironmentConfig = {
    ...staging,
    name: 'qa',
    namespace: 'soundcore-kcp-qa',
    domains: { frontend: 'qa.soundcore-kcp.com', api: 'qa-api.soundcore-kcp.com' },
    components: { ...staging.components, 'auth-service': { replicas: 1 } },
  };

  test('is one more object in the registry: it synthesizes into its own folder', () => {
    const tree = synthesize([staging, production, qa], CATALOGUE, committedReleaseStates());
    const files = [...tree.keys()].filter((f) => f.startsWith('qa/'));
    expect(files).toContain('qa/platform/00-namespace-soundcore-kcp-qa.yaml');
    expect(files).toContain('qa/48-deployment-auth-service.yaml');
    const objs = synthObjects([qa]).get('qa')!;
    expect(find(objs, 'Deployment', 'auth-service').spec.replicas).toBe(1);
    expect(find(objs, 'HTTPRoute', 'frontend').spec.hostnames).toEqual(['qa.soundcore-kcp.com']);
    // the other environments are unaffected by the new one
    expect([...tree.entries()].filter(([f]) => !f.startsWith('qa/'))).toEqual([...synthesize(ENVIRONMENTS, CATALOGUE, committedReleaseStates()).entries()]);
  });
});

describe('writing manifests', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-dist-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('replaces the folder with exactly the synthesized tree, removing files no longer produced', () => {
    fs.mkdirSync(path.join(dir, 'staging'));
    fs.writeFileSync(path.join(dir, 'staging', '48-deployment-removed.yaml'), 'old');
    const lines: string[] = [];
    expect(writeManifests({ releaseStates: committedReleaseStates, outdir: dir, out: (l) => lines.push(l) })).toBe(0);
    expect(readTree(dir)).toEqual(synthesize(ENVIRONMENTS, CATALOGUE, committedReleaseStates()));
    expect(lines.join('\n')).toMatch(/files, \d+ added, 0 changed, 1 removed/);
  });

  test('rejects invalid config with every problem, exits 1 and leaves the previous output untouched', () => {
    fs.writeFileSync(path.join(dir, 'sentinel.yaml'), 'previous output');
    const errors: string[] = [];
    const bad: EnvironmentConfig = {
      ...production, components: { ...production.components, 'frontend': { replicas: 0 }, 'auth-service': { imageTag: 'latest' } },
    };
    const code = writeManifests({ releaseStates: committedReleaseStates, environments: [staging, bad], outdir: dir, err: (l) => errors.push(l), out: () => undefined });
    expect(code).toBe(1);
    expect(errors.join('\n')).toContain('invalid configuration (2 problems)');
    expect(errors.join('\n')).toContain('production/frontend: replicas must be an integer >= 1, got 0');
    expect(errors.join('\n')).toContain('production/auth-service: imageTag has no effect: the tags of a blue/green component are owned by environments/production.release.json');
    expect(readTree(dir)).toEqual(new Map([['sentinel.yaml', 'previous output']]));
  });

  test('leaves an unchanged tree untouched, timestamps included', () => {
    const lines: string[] = [];
    expect(writeManifests({ releaseStates: committedReleaseStates, outdir: dir, out: (l) => lines.push(l) })).toBe(0);
    const file = path.join(dir, 'staging', 'platform', '00-namespace-soundcore-kcp-staging.yaml');
    fs.utimesSync(file, new Date(0), new Date(0));
    expect(writeManifests({ releaseStates: committedReleaseStates, outdir: dir, out: (l) => lines.push(l) })).toBe(0);
    expect(fs.statSync(file).mtimeMs).toBe(0);
    expect(lines[1]).toMatch(/: \d+ files, unchanged \(/);
  });

  test('writes a copy for the cdk8s CLI when asked to, with the gate result for its validation plugin', () => {
    const copy = path.join(dir, 'cli');
    expect(writeManifests({ releaseStates: committedReleaseStates, outdir: path.join(dir, 'dist'), copyTo: copy, out: () => undefined })).toBe(0);
    const copied = readTree(copy);
    const record = JSON.parse(copied.get(GATE_RECORD) ?? 'null') as GateRecord;
    copied.delete(GATE_RECORD);
    expect(copied).toEqual(readTree(path.join(dir, 'dist')));
    // the record covers exactly the manifests of the copy: one object per file, no findings
    const manifests = [...copied.keys()].filter((f) => f.endsWith('.yaml')).sort();
    expect(Object.keys(record.files).sort()).toEqual(manifests);
    expect(manifests.length).toBeGreaterThan(90);
    expect(record.results).toEqual([{ folder: '.', result: expect.objectContaining({ objects: manifests.length, files: manifests.length, errors: 0, warnings: 0 }) }]);
  });
});

test('an output path that is a file is refused with a message naming it, not a stack trace', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-dist-file-'));
  try {
    const outdir = path.join(dir, 'dist');
    fs.writeFileSync(outdir, 'not a folder');
    const errors: string[] = [];
    expect(writeManifests({ releaseStates: committedReleaseStates, outdir, err: (l) => errors.push(l), out: () => undefined })).toBe(1);
    expect(errors.join('\n')).toContain(outdir);
    expect(errors.join('\n')).not.toMatch(/\n\s+at /);
    expect(fs.readFileSync(outdir, 'utf8')).toBe('not a folder');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an output path that is a symbolic link is refused, and neither the link nor its target changes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-dist-link-'));
  try {
    fs.mkdirSync(path.join(dir, 'real'));
    fs.writeFileSync(path.join(dir, 'real', 'sentinel.yaml'), 'previous output');
    fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'dist'));
    const errors: string[] = [];
    expect(writeManifests({ releaseStates: committedReleaseStates, outdir: path.join(dir, 'dist'), err: (l) => errors.push(l), out: () => undefined })).toBe(1);
    expect(errors.join('\n')).toContain('dist is a symbolic link: it would be replaced by a folder and its target left as it is');
    expect(fs.lstatSync(path.join(dir, 'dist')).isSymbolicLink()).toBe(true);
    expect(readTree(path.join(dir, 'real'))).toEqual(new Map([['sentinel.yaml', 'previous output']]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

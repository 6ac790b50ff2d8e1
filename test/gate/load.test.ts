import { environmentOf, formatFinding, loadManifests } from '../../validate';

function load(files: { [file: string]: string }) {
  const { objects, findings } = loadManifests(new Map(Object.entries(files)));
  return { objects: objects.map((o) => `${o.file}#${o.document} ${o.apiVersion} ${o.kind} ${o.namespace ?? '-'}/${o.name}`), findings: findings.map(formatFinding) };
}

const CONFIG_MAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ns\n';

describe('loading manifests', () => {
  test('reads every document of every YAML file, with its environment folder', () => {
    expect(load({ 'staging/a.yaml': `${CONFIG_MAP}---\n${CONFIG_MAP.replace('name: c', 'name: d')}`, 'top.yml': CONFIG_MAP })).toEqual({
      objects: ['staging/a.yaml#0 v1 ConfigMap ns/c', 'staging/a.yaml#1 v1 ConfigMap ns/d', 'top.yml#0 v1 ConfigMap ns/c'],
      findings: [],
    });
    expect([environmentOf('staging/a.yaml'), environmentOf('top.yml')]).toEqual(['staging', '']);
  });

  test('ignores files that are not YAML', () => {
    expect(load({ 'staging/README.md': '# not a manifest: [', 'staging/.gitkeep': '' })).toEqual({ objects: [], findings: [] });
  });

  test('reports malformed YAML with its position instead of throwing, and keeps the other files', () => {
    expect(load({ 'env/bad.yaml': 'metadata:\n  name: x\n   namespace: y\n', 'env/good.yaml': CONFIG_MAP })).toEqual({
      objects: ['env/good.yaml#0 v1 ConfigMap ns/c'],
      findings: ['env/bad.yaml: invalid YAML: Implicit keys need to be on a single line at line 2, column 9 [yaml/syntax]'],
    });
  });

  test('reports empty files and empty documents as warnings', () => {
    expect(load({ 'env/empty.yaml': '', 'env/comment.yaml': '# only a comment\n', 'env/two.yaml': `${CONFIG_MAP}---\n` })).toEqual({
      objects: ['env/two.yaml#0 v1 ConfigMap ns/c'],
      findings: [
        'env/comment.yaml: warning: contains no document [yaml/empty-document]',
        'env/empty.yaml: warning: contains no document [yaml/empty-document]',
        'env/two.yaml: warning: document 2: empty document (kubectl skips it) [yaml/empty-document]',
      ],
    });
  });

  test('reports a document that is not a mapping, or lacks apiVersion or kind', () => {
    expect(load({ 'env/list.yaml': '- a\n- b\n', 'env/scalar.yaml': 'hello\n', 'env/kindless.yaml': 'apiVersion: v1\nmetadata:\n  name: x\n', 'env/bare.yaml': 'metadata: {}\n' })).toEqual({
      objects: [],
      findings: [
        'env/bare.yaml: apiVersion and kind must be a non-empty string; without it no schema applies [schema/type-meta]',
        'env/kindless.yaml: kind must be a non-empty string; without it no schema applies [schema/type-meta]',
        'env/list.yaml: must be a Kubernetes object (a mapping), got a list [yaml/not-an-object]',
        'env/scalar.yaml: must be a Kubernetes object (a mapping), got string "hello" [yaml/not-an-object]',
      ],
    });
  });

  test('reports duplicate keys, which kubectl would resolve silently', () => {
    expect(load({ 'env/dup.yaml': `${CONFIG_MAP}data:\n  k: 1\n  k: 2\n` }).findings).toEqual([
      'env/dup.yaml: invalid YAML: Map keys must be unique at line 8, column 3 [yaml/syntax]',
    ]);
  });

  test('parses as YAML 1.1 like kubectl, but keeps timestamps and base-60 times as strings', () => {
    const { objects } = loadManifests(new Map([['env/c.yaml', `${CONFIG_MAP}data:\n  a: on\n  b: 0755\n  c: 2024-01-01\n  d: 09:00\n`]]));
    expect(objects[0].body.data).toEqual({ a: true, b: 493, c: '2024-01-01', d: '09:00' });
  });

  test('gives each use of a YAML anchor its own object, so strict checks see each place on its own', () => {
    const { objects } = loadManifests(new Map([['env/c.yaml', `${CONFIG_MAP}data: &d\n  a: x\nbinaryData: *d\n`]]));
    expect(objects[0].body.data).toEqual(objects[0].body.binaryData);
    expect(objects[0].body.data).not.toBe(objects[0].body.binaryData);
  });
});

import * as YAML from 'yaml';
import { toYaml } from '../synth/yaml';

describe('toYaml', () => {
  test.each([
    ['true'], ['No'], ['null'], ['~'], ['123'], ['1.5'], ['.5'], ['1e3'], ['0x1F'], ['1:20'], ['2024-10-17'],
    ['-1'], ['+1'], ['.inf'], [''], [' padded'], ['a: b'], ['a #b'], ['ends:'], ['- dash'], ['*star'], ['{x}'],
    ['100m'], ['v1.0.0'], ['25%'], ['https://api.soundcore-kcp.com'], ['sum(rate(x[5m])) > 0.05'], ['{{ $labels.pod }}'],
    ['multi\nline'], ['multi\nline\n'], ['  leading\nspace'], ['trailing\n\n'], ['tab\there'], ['quote"s'], ['ünïcödé'],
  ])('round-trips the string %j under YAML 1.1 and 1.2', (s) => {
    const doc = { value: s, list: [s], nested: { deeper: [{ k: s }] } };
    for (const version of ['1.1', '1.2'] as const) {
      expect(YAML.parse(toYaml(doc), { version })).toEqual(doc);
    }
  });

  test('writes numbers, booleans, null and empty collections as YAML scalars', () => {
    expect(toYaml({ a: 1, b: false, c: null, d: {}, e: [], f: [1, 'x'] })).toBe('a: 1\nb: false\nc: null\nd: {}\ne: []\nf:\n  - 1\n  - x\n');
  });

  test('indents lists of maps under their key like kubectl does', () => {
    expect(toYaml({ containers: [{ name: 'web', ports: [{ containerPort: 80 }] }] }))
      .toBe('containers:\n  - name: web\n    ports:\n      - containerPort: 80\n');
  });

  test('writes multi-line strings as literal blocks', () => {
    expect(toYaml({ expr: 'a\nb' })).toBe('expr: |-\n  a\n  b\n');
  });
});

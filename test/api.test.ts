/**
 * The library's public API is deliberate: every exported symbol is documented, every optional field
 * of an exported interface says what happens when it is left out (`@default`), and the barrel
 * exports exactly the modules of the library.
 */
import * as fs from 'fs';
import * as path from 'path';

const DIR = path.join(__dirname, '..', 'constructs');
const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith('.ts') && f !== 'index.ts').sort();

/** The comment lines right above line `i` (a JSDoc block or `//` lines). */
function commentAbove(lines: string[], i: number): string {
  const block: string[] = [];
  for (let j = i - 1; j >= 0; j--) {
    const t = lines[j].trim();
    if (t.startsWith('*') || t.startsWith('/**') || t.startsWith('//') || t.startsWith('*/')) block.unshift(t);
    else break;
  }
  return block.join('\n');
}

describe('the construct library\'s public API', () => {
  test('documents every exported symbol', () => {
    const undocumented = FILES.flatMap((file) => {
      const lines = fs.readFileSync(path.join(DIR, file), 'utf8').split('\n');
      return lines.flatMap((line, i) => (/^export (declare )?(abstract )?(class|interface|function|const|enum|type) /.test(line)
        && !commentAbove(lines, i).includes('/**') ? [`${file}:${i + 1}: ${line.trim()}`] : []));
    });
    expect(undocumented).toEqual([]);
  });

  test('gives every optional field of an exported interface a @default', () => {
    const missing = FILES.flatMap((file) => {
      const lines = fs.readFileSync(path.join(DIR, file), 'utf8').split('\n');
      return lines.flatMap((line, i) => (/^\s+readonly \w+\?:/.test(line) && !commentAbove(lines, i).includes('@default')
        ? [`${file}:${i + 1}: ${line.trim()}`] : []));
    });
    expect(missing).toEqual([]);
  });

  test('re-exports every module of the library from the barrel, with named exports only', () => {
    const barrel = fs.readFileSync(path.join(DIR, 'index.ts'), 'utf8');
    expect(barrel).not.toMatch(/export \* from/);
    const exported = new Set([...barrel.matchAll(/from '\.\/([\w-]+)'/g)].map((m) => `${m[1]}.ts`));
    expect(FILES.filter((f) => !exported.has(f))).toEqual([]);
  });
});

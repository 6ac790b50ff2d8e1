/**
 * The import graph of the project's sources, built with TypeScript's own `ts.preProcessFile` (the
 * pre-parse the compiler uses to find a file's imports; no type-check, so the whole graph takes a
 * few tens of milliseconds): the data flows one way, environments → the KCP chart → the synthesis
 * pipeline, and the composition root only wires them.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
/** The folders of the sources (tests are outside the graph: they may import any layer). */
const SOURCE_DIRS = ['constructs', 'environments', 'kcp', 'release', 'review', 'synth', 'validate', 'scripts', 'pulumi'];

/** Files (relative to the root, `/`-separated) to the project files they import. */
type ImportGraph = Map<string, string[]>;

function sourceFiles(): string[] {
  const files = ['main.ts'];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const file = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts') && !file.endsWith('.d.ts')) files.push(file);
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  return files.sort();
}

/** The project file a relative specifier names, as the compiler resolves it (`x.ts`, `x/index.ts`, `x.json`). */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = path.posix.join(path.posix.dirname(from), specifier);
  return [`${base}.ts`, `${base}/index.ts`, base].find((f) => fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile());
}

/** The specifiers each file imports (read once per run). */
const imported = new Map<string, string[]>();

/** The graph of `files` with `extra` imports added (each `[from, specifier]`), for the tests that prove a rule can fail. */
function importGraph(files: readonly string[] = sourceFiles(), extra: ReadonlyArray<readonly [string, string]> = []): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of files) {
    if (!imported.has(file)) imported.set(file, ts.preProcessFile(fs.readFileSync(path.join(ROOT, file), 'utf8'), true, true).importedFiles.map((i) => i.fileName));
    const specifiers = [...imported.get(file)!, ...extra.filter(([f]) => f === file).map(([, s]) => s)];
    graph.set(file, [...new Set(specifiers.filter((s) => s.startsWith('.')).map((s) => resolveImport(file, s) ?? `${s} (unresolved)`))]);
  }
  return graph;
}

/** The shortest import path from `start` back to itself through `members` only. */
function shortestCycle(graph: ImportGraph, start: string, members: ReadonlySet<string>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const cycle = [start];
        for (let u = v; u !== start; u = previous.get(u)!) cycle.splice(1, 0, u);
        return [...cycle, start];
      }
      if (previous.has(w)) continue;
      previous.set(w, v);
      queue.push(w);
    }
  }
  return [start];
}

/**
 * Every cycle: the files of each strongly connected component (Tarjan), sorted, with the shortest
 * cycle through the first of them as an example: `a, b, c: a -> b -> a`.
 */
function cycles(graph: ImportGraph): string[] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const members = new Set(component);
      const first = [...members].sort()[0];
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(`${[...members].sort().join(', ')}: ${shortestCycle(graph, first, members).join(' -> ')}`);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** `from -> to` for every import of a file under one of `from` of a file under one of `to`. */
function importsBetween(graph: ImportGraph, from: readonly string[], to: readonly string[]): string[] {
  const under = (file: string, dirs: readonly string[]) => dirs.some((d) => file === d || file.startsWith(`${d}/`));
  return [...graph].flatMap(([file, imports]) => (under(file, from) ? imports.filter((i) => under(i, to)).map((i) => `${file} -> ${i}`) : []));
}

/** Lines holding code (any token but comments and whitespace), as the TypeScript scanner reads them. */
function codeLines(source: string): number {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, source);
  const lines = new Set<number>();
  const lineOf = (pos: number) => source.slice(0, pos).split('\n').length;
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.SingleLineCommentTrivia || token === ts.SyntaxKind.MultiLineCommentTrivia
      || token === ts.SyntaxKind.WhitespaceTrivia || token === ts.SyntaxKind.NewLineTrivia) continue;
    for (let line = lineOf(scanner.getTokenStart()); line <= lineOf(scanner.getTokenEnd()); line += 1) lines.add(line);
  }
  return lines.size;
}

/** The app's layers above the construct library. */
const APP_LAYERS = ['main.ts', 'environments', 'kcp', 'release', 'review', 'synth', 'validate', 'scripts', 'pulumi'];
/** What lies above each step of the data's path (nothing imports back up it). */
const ABOVE = { environments: ['kcp', 'synth', 'main.ts', 'scripts', 'pulumi'], kcp: ['synth', 'main.ts', 'scripts', 'pulumi'] };

/**
 * The library's neutral modules: pure data and checks, no construct (constructs/conventions.ts holds
 * the label keys and annotation keys both the constructs and the gate use). The gate imports nothing
 * else of the library, so it reads the annotations the constructs write without depending on them.
 */
const NEUTRAL_LIBRARY_MODULES = ['constructs/conventions.ts', 'constructs/validation.ts', 'constructs/quantity.ts'];

/** The rules, each as the list of what breaks it (empty when it holds). */
function violations(graph: ImportGraph) {
  return {
    cycles: cycles(graph),
    libraryImportsApp: importsBetween(graph, ['constructs'], APP_LAYERS),
    environmentsImportUp: importsBetween(graph, ['environments'], ABOVE.environments),
    chartImportsUp: importsBetween(graph, ['kcp'], ABOVE.kcp),
    chartImportsRelease: importsBetween(graph, ['kcp'], ['release']),
    // (the chart's inputs are the construct library and the environments' data; nothing else of the app)
    chartImportsOutsideItsInputs: importsBetween(graph, ['kcp'], APP_LAYERS.filter((l) => !['kcp', 'environments', 'release', ...ABOVE.kcp].includes(l))),
    gateImportsConstructs: importsBetween(graph, ['validate'], ['constructs']).filter((i) => !NEUTRAL_LIBRARY_MODULES.includes(i.split(' -> ')[1])),
    neutralModulesImportConstructs: importsBetween(graph, NEUTRAL_LIBRARY_MODULES, ['constructs']).filter((i) => !NEUTRAL_LIBRARY_MODULES.includes(i.split(' -> ')[1])),
  };
}

describe('the import graph', () => {
  const graph = importGraph();

  test('is read from every source file, and every project import resolves to a file', () => {
    expect(SOURCE_DIRS.filter((dir) => ![...graph.keys()].some((f) => f.startsWith(`${dir}/`)))).toEqual([]);
    expect(graph.get('main.ts')).toEqual(['environments/index.ts', 'release/files.ts', 'synth/pipeline.ts', 'synth/root.ts']);
    expect([...graph].flatMap(([f, imports]) => imports.filter((i) => i.endsWith('(unresolved)')).map((i) => `${f} -> ${i}`))).toEqual([]);
  });

  test('flows one way: no cycle; the library imports no app layer; environments -> kcp chart -> synth with nothing back up; the chart never imports release/; the gate imports only the library\'s neutral modules', () => {
    expect(violations(graph)).toEqual({
      cycles: [], libraryImportsApp: [], environmentsImportUp: [], chartImportsUp: [], chartImportsRelease: [], chartImportsOutsideItsInputs: [],
      gateImportsConstructs: [], neutralModulesImportConstructs: [],
    });
    // the gate reads the library's annotation keys from the neutral module, as the constructs that write them do
    expect(importsBetween(graph, ['validate'], ['constructs/conventions.ts'])).toEqual(['validate/references.ts -> constructs/conventions.ts', 'validate/traffic.ts -> constructs/conventions.ts']);
    expect(importsBetween(graph, ['constructs/network.ts', 'constructs/namespace.ts'], ['constructs/conventions.ts']).length).toBe(2);
    // the chain itself: the chart builds on environments/, the pipeline on the chart
    expect(importsBetween(graph, ['kcp'], ['environments']).length).toBeGreaterThan(0);
    expect(importsBetween(graph, ['synth'], ['kcp']).length).toBeGreaterThan(0);
  });

  test('each rule fails on an import that breaks it (the rules are not vacuous)', () => {
    // GIVEN one bad import added to the real graph per rule
    const broken = (from: string, specifier: string) => violations(importGraph(undefined, [[from, specifier]]));
    // THEN each is reported, naming the import
    expect(broken('synth/output.ts', './pipeline').cycles).toEqual([expect.stringContaining('synth/output.ts')]);
    expect(broken('constructs/labels.ts', '../environments').libraryImportsApp).toEqual(['constructs/labels.ts -> environments/index.ts']);
    expect(broken('environments/catalogue.ts', '../kcp').environmentsImportUp).toEqual(['environments/catalogue.ts -> kcp/index.ts']);
    expect(broken('kcp/traffic.ts', '../synth/output').chartImportsUp).toEqual(['kcp/traffic.ts -> synth/output.ts']);
    expect(broken('kcp/chart.ts', '../release/state').chartImportsRelease).toEqual(['kcp/chart.ts -> release/state.ts']);
    expect(broken('kcp/chart.ts', '../validate/findings').chartImportsOutsideItsInputs).toEqual(['kcp/chart.ts -> validate/findings.ts']);
    expect(broken('validate/traffic.ts', '../constructs/network').gateImportsConstructs).toEqual(['validate/traffic.ts -> constructs/network.ts']);
    expect(broken('constructs/conventions.ts', './labels').neutralModulesImportConstructs).toEqual(['constructs/conventions.ts -> constructs/labels.ts']);
  });
});

describe('the composition root', () => {
  test('main.ts is wiring only: at most 80 lines of code', () => {
    const lines = codeLines(fs.readFileSync(path.join(ROOT, 'main.ts'), 'utf8'));
    expect(lines).toBeLessThanOrEqual(80);
    // (the counter counts code, not comments or blank lines)
    expect(codeLines('/** doc */\n// note\n\nconst a = 1;\nfunction f() {\n  return a;\n}\n')).toBe(4);
  });
});

/**
 * RE2 compiled on first use instead of when a validator module loads.
 *
 * The compiled validators of `@kubernetes-models/prometheus-operator` check a few `pattern`
 * keywords (AlertmanagerConfig's time intervals, PrometheusRule's `partial_response_strategy`) with
 * `re2-wasm`, through `@kubernetes-models/validate/runtime/re2`, and build each RE2 at module load
 * (`let pattern2 = new RE2("^((?i)january|...")`). Loading that runtime compiles re2's WebAssembly
 * and compiling the patterns runs re2 in it: about 60 ms on a quiet machine, 100 ms under load,
 * paid by every synth that emits an AlertmanagerConfig although none of its objects uses those
 * fields. {@link deferRe2} puts a stand-in for that runtime module in Node's module cache: the
 * same `RE2` class, whose real RE2 (and so the WebAssembly) is built the first time a validator
 * tests a value against it. What is checked, and how, is unchanged: every test still runs re2.
 */
import * as fs from 'fs';
import Module, { createRequire } from 'module';
import * as path from 'path';

/** What the compiled validators use of an RE2 (`pattern.test(value)`), and what a RegExp user may. */
interface Re2Like {
  test(value: string): boolean;
  exec(value: string): RegExpExecArray | null;
  readonly source: string;
  readonly flags: string;
  lastIndex: number;
}

type Re2Constructor = new (pattern: string, flags?: string) => Re2Like;

/** `re2-wasm`'s RE2 class as seen from `runtimeFile`, required only when a pattern is first used. */
function lazyRe2Class(runtimeFile: string): Re2Constructor {
  let Real: Re2Constructor | undefined;
  const real = (): Re2Constructor => (Real ??= (createRequire(runtimeFile)('re2-wasm') as { RE2: Re2Constructor }).RE2);
  return class LazyRE2 implements Re2Like {
    private compiled: Re2Like | undefined;

    constructor(private readonly pattern: string, private readonly patternFlags?: string) {}

    private get re(): Re2Like {
      return (this.compiled ??= new (real())(this.pattern, this.patternFlags));
    }

    public test(value: string): boolean {
      return this.re.test(value);
    }

    public exec(value: string): RegExpExecArray | null {
      return this.re.exec(value);
    }

    public get source(): string {
      return this.re.source;
    }

    public get flags(): string {
      return this.re.flags;
    }

    public get lastIndex(): number {
      return this.re.lastIndex;
    }

    public set lastIndex(value: number) {
      this.re.lastIndex = value;
    }

    public toString(): string {
      return String(this.re);
    }
  };
}

const deferred = new Set<string>();

/**
 * Makes `@kubernetes-models/validate/runtime/re2`, as resolved from each of `packages`, load without
 * compiling any pattern. Call it before the validators are loaded; a runtime already loaded, or not
 * installed, is left as it is.
 * @param packages module specifiers of model packages
 * @param from the file the packages are resolved from @default this module
 * @returns the runtime files now deferred
 */
export function deferRe2(packages: readonly string[], from: string = __filename): string[] {
  const here = createRequire(from);
  const cache = (Module as unknown as { _cache: { [file: string]: unknown } })._cache;
  for (const pkg of packages) {
    let runtimeFile: string;
    try {
      // (from the package's main module: not every package exports its package.json)
      runtimeFile = createRequire(here.resolve(pkg)).resolve('@kubernetes-models/validate/runtime/re2');
    } catch {
      continue; // no such package or runtime: nothing to defer
    }
    if (deferred.has(runtimeFile) || cache[runtimeFile] !== undefined || !fs.existsSync(runtimeFile)) continue;
    const stand = new Module(runtimeFile) as Module & { loaded: boolean };
    stand.filename = runtimeFile;
    stand.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(runtimeFile));
    stand.exports = { __esModule: true, default: lazyRe2Class(runtimeFile) };
    stand.loaded = true;
    cache[runtimeFile] = stand;
    deferred.add(runtimeFile);
  }
  return [...deferred];
}

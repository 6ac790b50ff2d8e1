/**
 * validate/lazy-re2.ts: the compiled validators' RE2 patterns are compiled on first use, not when a
 * validator module loads, and still decide what they decided. Each case runs in a fresh Node process
 * (Node's module cache is per process, and jest's workers share it between test files).
 *
 * Fixture facts: `@kubernetes-models/prometheus-operator` 4.4.4 builds, at module load, an RE2 for
 * AlertmanagerConfig `spec.muteTimeIntervals[].timeIntervals[].months[]` with the pattern
 * `^((?i)january|...|december|[1-12])...` (its `_schemas/MonitoringCoreosComV1alpha1AlertmanagerConfig.js`).
 */
import { spawnSync } from 'child_process';
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
/** The call deferring the runtime of the prometheus-operator models (resolved from the project). */
const DEFER = `deferRe2(['@kubernetes-models/prometheus-operator'], ${JSON.stringify(path.join(ROOT, 'package.json'))})`;

let dir: string;
let lazyRe2: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-lazy-re2-'));
  lazyRe2 = path.join(dir, 'lazy-re2.js');
  const source = fs.readFileSync(path.join(ROOT, 'validate', 'lazy-re2.ts'), 'utf8');
  fs.writeFileSync(lazyRe2, esbuild.transformSync(source, { loader: 'ts', format: 'cjs', platform: 'node', target: 'node20' }).code);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `body` in a fresh Node process at the project root, with `deferRe2` and `validate(object)`; returns its stdout lines. */
function inFreshNode(body: string): string[] {
  const script = [
    `const { deferRe2 } = require(${JSON.stringify(lazyRe2)});`,
    "const model = () => require('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig').AlertmanagerConfig;",
    'const validate = (object) => { try { model().prototype.validate.call(object); return "valid"; } catch (e) { return e.errors.map((x) => `${x.instancePath} ${x.keyword}`).join("; "); } };',
    "const re2Loaded = () => Object.keys(require.cache).some((f) => f.includes('/re2-wasm/'));",
    "const config = (months) => ({ apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'AlertmanagerConfig', metadata: { name: 'routing' }, spec: { muteTimeIntervals: [{ name: 'office', timeIntervals: [{ months }] }] } });",
    body,
  ].join('\n');
  const result = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
  expect(result.stderr).toBe('');
  return result.stdout.trim().split('\n');
}

test('loading and running a validator compiles no pattern until a value is tested against one', () => {
  // GIVEN the runtime deferred WHEN an AlertmanagerConfig without time intervals is validated
  // THEN re2-wasm (its WebAssembly) is never loaded
  expect(inFreshNode([
    `console.log(${DEFER}.map((f) => require('path').basename(f)).join());`,
    "console.log(validate({ apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'AlertmanagerConfig', metadata: { name: 'routing' }, spec: {} }), re2Loaded());",
  ].join('\n'))).toEqual(['re2.js', 'valid false']);
});

test('a deferred pattern rejects and accepts exactly what re2 does', () => {
  // GIVEN the runtime deferred WHEN month names are validated, bad then good
  // THEN the bad one fails on its pattern (re2 is loaded for it), the good ones pass
  expect(inFreshNode([
    `${DEFER};`,
    "console.log(validate(config(['smarch'])), re2Loaded());",
    "console.log(validate(config(['January', 'march:may', '1'])));",
  ].join('\n'))).toEqual([
    '/spec/muteTimeIntervals/0/timeIntervals/0/months/0 pattern true',
    'valid',
  ]);
});

test('without deferring, the same validator loads re2 at once and judges the same values alike', () => {
  // GIVEN no deferral (the control) WHEN the same values are validated THEN the same results, re2 loaded up front
  expect(inFreshNode([
    "model(); console.log(re2Loaded());",
    "console.log(validate(config(['smarch'])));",
    "console.log(validate(config(['January', 'march:may', '1'])));",
  ].join('\n'))).toEqual([
    'true',
    '/spec/muteTimeIntervals/0/timeIntervals/0/months/0 pattern',
    'valid',
  ]);
});

test('a runtime already loaded is left as it is', () => {
  // GIVEN the real runtime loaded first WHEN deferring THEN nothing is replaced
  expect(inFreshNode([
    "model();",
    `console.log(JSON.stringify(${DEFER}));`,
  ].join('\n'))).toEqual(['[]']);
});

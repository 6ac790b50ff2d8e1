/**
 * scripts/run.js keeps a V8 code cache of the modules the bundle loads from node_modules at run time
 * (the packages left outside the bundle): a module is compiled from the cache only while its content
 * has the SHA-1 the cache was made from.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

jest.setTimeout(20_000);

let dir: string;
let model: string;
let cache: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-run-modules-'));
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.copyFileSync(path.join(ROOT, 'scripts', 'run.js'), path.join(dir, 'scripts', 'run.js'));
  // a node_modules of its own: esbuild, and a package run.js leaves outside the bundle (`@kubernetes-models/*`)
  fs.mkdirSync(path.join(dir, 'node_modules', '@kubernetes-models', 'fake'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'esbuild'), path.join(dir, 'node_modules', 'esbuild'), 'dir');
  fs.writeFileSync(path.join(dir, 'node_modules', '@kubernetes-models', 'fake', 'package.json'), '{ "name": "@kubernetes-models/fake", "main": "index.js" }\n');
  model = fs.realpathSync(path.join(dir, 'node_modules', '@kubernetes-models', 'fake')) + path.sep + 'index.js';
  fs.writeFileSync(path.join(dir, 'entry.ts'),
    "import { value } from '@kubernetes-models/fake';\nexport function main(): number { process.stdout.write(`${value()}\\n`); return 0; }\n");
  cache = path.join(dir, '.build', 'entry.js.modules.v8cache');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(): string {
  const result = spawnSync(process.execPath, ['scripts/run.js', 'entry.ts'], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
  expect(result.stderr).toBe('');
  return result.stdout.trim();
}

/** The modules the cache file lists, with the SHA-1 each was cached for. */
function cachedModules(): { [file: string]: string } {
  const buffer = fs.readFileSync(cache);
  const header = JSON.parse(buffer.subarray(4, 4 + buffer.readUInt32LE(0)).toString('utf8')) as [string, string, number][];
  return Object.fromEntries(header.map(([file, key]) => [file, key]));
}

const sha1 = (text: string) => crypto.createHash('sha1').update(text).digest('hex');

test('a module is cached with the hash of its content, and a cache that covers every module is not rewritten', () => {
  // GIVEN a model module loaded by the bundle at run time
  const v1 = "exports.value = () => ['v1', 'a'].join('.');\n";
  fs.writeFileSync(model, v1);
  // WHEN the entry runs twice
  expect(run()).toBe('v1.a');
  const written = fs.statSync(cache, { bigint: true }).mtimeNs;
  expect(run()).toBe('v1.a');
  // THEN the cache lists the module with its content's SHA-1, and the second run left it alone
  expect(cachedModules()).toEqual({ [model]: sha1(v1) });
  expect(fs.statSync(cache, { bigint: true }).mtimeNs).toBe(written);
});

test('a module whose content changed (same length) runs its new content, and the cache is remade for it', () => {
  // GIVEN a cache of the module's v2 content
  const v2 = "exports.value = () => ['v2', 'a'].join('.');\n";
  const v3 = "exports.value = () => ['v3', 'a'].join('.');\n";
  fs.writeFileSync(model, v2);
  expect(run()).toBe('v2.a');
  expect(cachedModules()[model]).toBe(sha1(v2));
  // WHEN the module is replaced by other code of exactly the same length (V8 alone checks little more)
  expect(v3.length).toBe(v2.length);
  fs.writeFileSync(model, v3);
  // THEN the new code runs, and the cache now holds it
  expect(run()).toBe('v3.a');
  expect(cachedModules()[model]).toBe(sha1(v3));
});

test('an unreadable cache is ignored and remade', () => {
  // GIVEN a cache file of garbage
  fs.writeFileSync(model, "exports.value = () => 'v4';\n");
  fs.writeFileSync(cache, 'not a cache');
  // WHEN the entry runs THEN the module runs from source and the cache is written anew
  expect(run()).toBe('v4');
  expect(cachedModules()[model]).toBe(sha1("exports.value = () => 'v4';\n"));
});

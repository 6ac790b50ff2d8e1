/**
 * scripts/run.js reuses its bundle only while every input has the content the bundle was built
 * from: a file replaced by an older one (`cp -p`, an archive, npm's fixed 1985 dates) is seen.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

jest.setTimeout(20_000);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-run-cache-'));
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.copyFileSync(path.join(ROOT, 'scripts', 'run.js'), path.join(dir, 'scripts', 'run.js'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(dir, 'entry.ts'),
    "import { value } from './config';\nexport function main(): number { process.stdout.write(`${value}\\n`); return 0; }\n");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const bundle = () => fs.statSync(path.join(dir, '.build', 'entry.js'), { bigint: true });
function run(): string {
  const result = spawnSync(process.execPath, ['scripts/run.js', 'entry.ts'], { cwd: dir, encoding: 'utf8', timeout: 15_000 });
  expect(result.stderr).toBe('');
  return result.stdout.trim();
}

test('a changed input rebuilds the bundle even when its modification time is older; a touched one does not', () => {
  const config = path.join(dir, 'config.ts');
  const yearsAgo = new Date('2001-02-03T04:05:06Z');
  fs.writeFileSync(config, "export const value = 'old';\n");
  fs.utimesSync(config, yearsAgo, yearsAgo);
  expect(run()).toBe('old');
  const built = bundle();

  // GIVEN a file of other content dated years before the bundle, copied over the input with `cp -p`
  const older = path.join(dir, 'config.older');
  fs.writeFileSync(older, "export const value = 'new';\n");
  fs.utimesSync(older, yearsAgo, yearsAgo);
  expect(spawnSync('cp', ['-p', older, config]).status).toBe(0);
  expect(fs.statSync(config).mtimeMs).toBeLessThan(Number(built.mtimeMs));
  // (run.js takes an input changed within 100 ms of a build as possibly changed during it: it would
  // rebuild once more next time, which the last step below would see)
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);
  // THEN the next run sees the new content
  expect(run()).toBe('new');
  const rebuilt = bundle();
  expect(rebuilt.mtimeNs).not.toBe(built.mtimeNs);

  // GIVEN the same content with a new date: the bundle is reused (not rebuilt)
  const now = new Date();
  fs.utimesSync(config, now, now);
  expect(run()).toBe('new');
  expect(bundle().mtimeNs).toBe(rebuilt.mtimeNs);
});

test('a bundle that its metafile does not describe is rebuilt (a build that died between the two writes)', () => {
  const config = path.join(dir, 'config.ts');
  fs.writeFileSync(config, "export const value = 'first';\n");
  expect(run()).toBe('first');
  const meta = fs.readFileSync(path.join(dir, '.build', 'entry.js.meta.json'), 'utf8');
  // GIVEN a build of other content renamed in, whose metafile was never written (the old one stays)
  fs.writeFileSync(config, "export const value = 'other';\n");
  expect(run()).toBe('other');
  const otherBundle = fs.readFileSync(path.join(dir, '.build', 'entry.js'));
  fs.writeFileSync(config, "export const value = 'first';\n");
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);
  fs.writeFileSync(path.join(dir, '.build', 'entry.js.meta.json'), meta);
  fs.writeFileSync(path.join(dir, '.build', 'entry.js'), otherBundle);
  // THEN the metafile's inputs match, but its bundle hash does not: the next run rebuilds from the inputs
  expect(run()).toBe('first');
});

test('a V8 code cache made from another bundle of the same length is never used', () => {
  const config = path.join(dir, 'config.ts');
  const cache = path.join(dir, '.build', 'entry.js.v8cache');
  // (computed at module load, so that its code is in the cache whenever the cache was made)
  fs.writeFileSync(config, "export const value = ['v1', '1', '0'].join('.');\n");
  expect(run()).toBe('v1.1.0');
  expect(run()).toBe('v1.1.0'); // (the cache of the v1.1.0 bundle now exists)
  const staleCache = fs.readFileSync(cache);
  const sizeBefore = fs.statSync(path.join(dir, '.build', 'entry.js')).size;
  // GIVEN a rebuild to a bundle of exactly the same length, and the old bundle's cache put back
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);
  fs.writeFileSync(config, "export const value = ['v1', '2', '0'].join('.');\n");
  expect(run()).toBe('v1.2.0');
  expect(fs.statSync(path.join(dir, '.build', 'entry.js')).size).toBe(sizeBefore);
  fs.writeFileSync(cache, staleCache);
  // THEN the new bundle runs, not the code compiled from the old one
  expect(run()).toBe('v1.2.0');
  expect(fs.readFileSync(cache).subarray(0, 40)).not.toEqual(staleCache.subarray(0, 40));
});

test('a change of tsconfig.json rebuilds the bundle', () => {
  fs.writeFileSync(path.join(dir, 'config.ts'), "export const value = 'ts';\n");
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{}\n');
  expect(run()).toBe('ts');
  const built = bundle();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{ "compilerOptions": { "target": "es2022" } }\n');
  expect(run()).toBe('ts');
  expect(bundle().mtimeNs).not.toBe(built.mtimeNs);
});

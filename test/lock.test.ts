/**
 * The lock serializing every writer of dist/ and the release state: several processes that find
 * the same stale lock at once must still hold it one at a time.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';

jest.setTimeout(30_000);

let work: string;
let child: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-lock-'));
  child = path.join(work, 'lock-child.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'fixtures', 'lock-child.ts')], outfile: child, bundle: true, platform: 'node',
    target: 'node20', logLevel: 'error',
  });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function run(lock: string, log: string, pauseMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, KCP_LOCK_BREAK_PAUSE_MS: String(pauseMs) };
    const p = spawn(process.execPath, [child, lock, log], { stdio: 'ignore', timeout: 25_000, env });
    p.on('error', reject);
    p.on('close', resolve);
  });
}

test('six processes taking over the same stale lock at once hold it one at a time, and leave nothing behind', async () => {
  // GIVEN a lock left by a process that is gone (a pid above the kernel's maximum is never running)
  const lock = path.join(work, '.dist.lock');
  const log = path.join(work, 'log');
  fs.writeFileSync(lock, `${JSON.stringify({ pid: 2 ** 22 + 1, started: new Date().toISOString(), command: 'synth', nonce: 'x' })}\n`);
  // WHEN six processes start together, each judging it stale and then pausing a different time before
  // breaking it (0, 80, ... 400 ms): the later ones act while an earlier one holds a fresh lock
  const codes = await Promise.all(Array.from({ length: 6 }, (_, i) => run(lock, log, i * 80)));
  // THEN each ran, never two at once, and neither the lock nor a breaker file is left
  expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(12);
  for (let i = 0; i < lines.length; i += 2) {
    const [start, end] = [lines[i].split(' '), lines[i + 1].split(' ')];
    expect([start[0], end[0], end[1]]).toEqual(['start', 'end', start[1]]);
  }
  expect(fs.readdirSync(work).filter((f) => f.startsWith('.dist'))).toEqual([]);
});

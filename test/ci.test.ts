/**
 * This project's own CI entry point, `.ci/run`: it installs and tests with an npm cache of its own,
 * so a green run means a green fresh machine, and keeps the cdk8s CLI's upgrade check quiet.
 */
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const script = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
/** The script's commands, comments dropped. */
const commands = script.split('\n').map((l) => l.replace(/^\s*#.*$/, '').trim()).filter(Boolean);
const at = (pattern: RegExp): number => commands.findIndex((c) => pattern.test(c));

describe('.ci/run', () => {
  test('installs and tests with a fresh, empty npm cache of its own, removed on exit', () => {
    const created = at(/^npm_config_cache="\$\(mktemp -d\)"$/);
    const exported = at(/^export npm_config_cache$/);
    const removed = at(/^trap 'rm -rf "\$npm_config_cache"' EXIT$/);
    const install = at(/^npm ci\b/);
    const test = at(/^npm test$/);
    expect({ created, exported, removed }).toEqual({ created: expect.any(Number), exported: expect.any(Number), removed: expect.any(Number) });
    expect([created, exported, removed].every((i) => i >= 0 && i < install)).toBe(true);
    expect(install).toBeLessThan(test);
    // nothing hands npm another cache or lets it lean on one
    expect(commands.filter((c) => /--cache\b|--prefer-offline|--offline/.test(c))).toEqual([]);
  });

  test('installs the Debian packages the tests need when they are missing, and only those', () => {
    // GIVEN a machine with none of them: apt-get, dpkg-query and npm replaced by recorders
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-ci-run-'));
    try {
      const log = path.join(bin, 'log');
      const recorder = (name: string, body = '') => {
        fs.writeFileSync(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >> ${log}\n${body}\n`, { mode: 0o755 });
      };
      recorder('apt-get');
      recorder('dpkg-query', 'exit 1');
      recorder('npm', 'echo "cache=$npm_config_cache upgrade=$CDK8S_CHECK_UPGRADE" >> ' + log);
      for (const tool of ['bash', 'env', 'mktemp', 'rm', 'grep', 'dirname']) {
        fs.symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
      }
      // WHEN .ci/run runs with only those on PATH (so promtool is missing too)
      const result = spawnSync(path.join(bin, 'bash'), [path.join(ROOT, '.ci', 'run')], {
        env: { PATH: bin, HOME: bin }, encoding: 'utf8', timeout: 10_000,
      });
      // THEN one apt-get install names them all, before npm ci and npm test, with a fresh cache
      expect(result.status).toBe(0);
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n').filter((l) => !l.startsWith('dpkg-query'));
      expect(lines[0]).toBe('apt-get update');
      expect(lines[1]).toBe('apt-get install -y --no-install-recommends prometheus python3-fastapi python3-uvicorn python3-prometheus-client');
      expect(lines[2]).toBe('npm ci --no-audit --no-fund');
      expect(lines[3]).toMatch(/^cache=\/\S+ upgrade=false$/);
      expect(lines[4]).toBe('npm test');
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  test('turns the cdk8s CLI\'s upgrade check off before anything runs', () => {
    expect(at(/^export CDK8S_CHECK_UPGRADE=false$/)).toBeGreaterThanOrEqual(0);
    expect(at(/^export CDK8S_CHECK_UPGRADE=false$/)).toBeLessThan(at(/^npm ci\b/));
  });
});

describe('the installed cdk8s CLI', () => {
  /**
   * Runs the CLI (no command: it checks for an upgrade, then prints its usage) with a home folder
   * whose version cache says 0.0.0 was just looked up, so the check reports an "upgrade" without
   * the network.
   */
  const runCli = (env: { [k: string]: string }) => new Promise<string>((resolve, reject) => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-cdk8s-home-'));
    fs.writeFileSync(path.join(home, '.cdk8s-cli.version'), '0.0.0');
    const cli = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CDK8S_')));
    execFile(process.execPath, [cli], { cwd: home, env: { ...clean, HOME: home, ...env }, encoding: 'utf8' }, (error, stdout, stderr) => {
      fs.rmSync(home, { recursive: true, force: true });
      if (error) reject(new Error(`cdk8s failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });

  test('skips its upgrade check under CDK8S_CHECK_UPGRADE=false, the setting CI uses', async () => {
    const [checked, quiet] = await Promise.all([runCli({}), runCli({ CDK8S_CHECK_UPGRADE: 'false' })]);
    // the check runs when not told otherwise (so the second run proves something) ...
    expect(checked).toContain('A new version 0.0.0 of cdk8s-cli is available');
    // ... and the variable turns it off
    expect(quiet).not.toContain('A new version');
    expect(quiet).toContain('cdk8s synth');
  }, 30_000);
});

/**
 * Proves the construct library works outside this repository: `npm pack` it as it would be
 * published, install the tarball into a fresh project, compile a chart for a made-up platform with
 * strict TypeScript, synthesize it and check the output.
 *
 * Why the install is built this way. Installing a package whose dependencies are semver ranges makes
 * npm read each package's registry metadata (its "packument") to choose a version. `npm ci` installs
 * from the lock file and stores only tarballs in the npm cache, never packuments, so an
 * `npm install --offline` that leant on the cache failed on every machine with an empty cache (with
 * a misleading `ERESOLVE … Found: cdk8s@undefined`), and installing online would make the test
 * depend on the registry. Instead the tree `npm ci` installed stands in for the registry:
 *
 * 1. the closure of the library's `dependencies` and `peerDependencies` is read from
 *    package-lock.json (bundled packages travel inside their parent's tarball and are skipped);
 * 2. those installed folders are re-packed, in one `npm pack` (bundled dependencies included),
 *    beside the library's own tarball;
 * 3. the consumer's package.json names the library, its peers and every transitive package by
 *    `file:` tarball, so npm finds a node that satisfies every dependency edge without a packument;
 *    a package also installed in another version nested under a parent (two majors of one package
 *    in the tree) is named for that parent by an npm `overrides` entry pointing at its tarball;
 * 4. every npm command runs offline, against an unreachable registry, with an empty npm cache and an
 *    empty user config of its own: no cache content, network or local npm setting can help or hurt.
 *
 * The library is packed in parallel with its dependencies (its `prepack` compiles it), and the
 * chart compiles while `npm ls` checks the installed tree. The test does not load the app (main.ts,
 * environments/): it is about the library alone.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import type { Obj } from './helpers';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '..');
const LIBRARY = '@soundcore/kcp-constructs';

interface LockEntry {
  readonly version: string;
  readonly inBundle?: boolean;
  readonly dependencies?: { [name: string]: string };
  readonly optionalDependencies?: { [name: string]: string };
  readonly peerDependencies?: { [name: string]: string };
  readonly peerDependenciesMeta?: { [name: string]: { optional?: boolean } };
}
interface Lock { readonly packages: { [location: string]: LockEntry } }
interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: { [name: string]: string };
  readonly peerDependencies?: { [name: string]: string };
}
/** What `npm ls --json` prints for a node (the fields read here). */
interface LsNode {
  readonly version?: string;
  readonly missing?: boolean;
  readonly invalid?: string;
  readonly problems?: string[];
  readonly dependencies?: { [name: string]: LsNode };
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const nameAt = (location: string): string => location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** Where Node (and npm) would find `name` required from the package at `from` ('' is the root). */
function resolveIn(lock: Lock, from: string, name: string): string | undefined {
  for (let base = from; ; base = base.includes('/node_modules/') ? base.slice(0, base.lastIndexOf('/node_modules/')) : '') {
    const location = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (lock.packages[location]) return location;
    if (!base) return undefined;
  }
}

/**
 * The installed packages (lock locations) the library needs in a consumer: its dependencies and
 * peers, and theirs, transitively. Packages bundled inside another's tarball are not separate.
 */
function dependencyClosure(lock: Lock, manifest: Manifest): string[] {
  const seen = new Set<string>();
  const queue: { from: string; name: string; optional: boolean }[] = [
    ...Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).map((name) => ({ from: '', name, optional: false })),
  ];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const location = resolveIn(lock, next.from, next.name);
    if (!location) {
      if (next.optional) continue;
      throw new Error(`package-lock.json has no ${next.name} reachable from ${next.from || 'the root'}: run npm install and commit the lock file`);
    }
    if (seen.has(location) || lock.packages[location].inBundle) continue;
    seen.add(location);
    const entry = lock.packages[location];
    const optionalPeer = (name: string) => entry.peerDependenciesMeta?.[name]?.optional === true;
    queue.push(
      ...Object.keys(entry.dependencies ?? {}).map((name) => ({ from: location, name, optional: false })),
      ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ from: location, name, optional: true })),
      ...Object.keys(entry.peerDependencies ?? {}).map((name) => ({ from: location, name, optional: optionalPeer(name) })),
    );
  }
  const locations = [...seen].sort();
  // A package may be installed in several versions: one hoisted (node_modules/<name>) and others
  // nested under the packages that need them (e.g. @kubernetes-models/base 4 under argo-rollouts).
  // The consumer names the hoisted one by tarball and each nested one by an override under its parent.
  const hoisted = new Set(locations.filter((l) => l === `node_modules/${nameAt(l)}`).map(nameAt));
  const orphans = locations.filter((l) => l !== `node_modules/${nameAt(l)}` && !hoisted.has(nameAt(l)));
  if (orphans.length > 0) {
    throw new Error(`the library's dependency closure holds ${orphans.join(', ')} only nested, with no hoisted copy: `
      + 'a consumer package.json names the hoisted version of each package, so this test cannot stand in for the registry');
  }
  return locations;
}

/** npm `overrides` (a tree of objects; "." is the package's own spec) for the nested locations. */
type Overrides = { [name: string]: string | Overrides };
function nestedOverrides(nested: readonly string[], specOf: (location: string) => string): Overrides {
  const root: Overrides = {};
  // node_modules/a/node_modules/b/node_modules/c -> overrides.a.b.c (parents first: shorter paths sort first)
  for (const location of [...nested].sort((x, y) => x.length - y.length)) {
    const names = location.split('/node_modules/').map((n) => n.replace(/^node_modules\//, ''));
    let at = root;
    for (const name of names.slice(0, -1)) {
      const existing = at[name];
      if (typeof existing === 'string') at[name] = { '.': existing };
      else if (existing === undefined) at[name] = {};
      at = at[name] as Overrides;
    }
    at[names[names.length - 1]] = specOf(location);
  }
  return root;
}

/** Local copies of helpers.ts's lookups: helpers.ts loads the app, which this test leaves alone. */
function find(objects: readonly Obj[], kind: string, name: string): Obj {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length} (${kind}s: ${ofKind(objects, kind).map((o) => o.metadata.name).join(', ')})`);
  return found[0];
}
const ofKind = (objects: readonly Obj[], kind: string): Obj[] => objects.filter((o) => o.kind === kind);

const CHART = `
import { App, Chart } from 'cdk8s';
import {
  AlertSeverity, Colour, Microservice, PrometheusRules, ReleaseStrategy, SecureNamespace, WorkloadMonitor, ZeroTrustNetwork,
} from '@soundcore/kcp-constructs';

declare const process: { stdout: { write(text: string): void } };

const app = new App();
const chart = new Chart(app, 'acme-shop', { namespace: 'acme-shop' });
const namespace = new SecureNamespace(chart, 'Namespace', { name: 'acme-shop' });
const network = new ZeroTrustNetwork(chart, 'Network', { namespace });
const resources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '100m', memory: '128Mi' } };
const storefront = new Microservice(chart, 'Storefront', {
  name: 'storefront', image: 'ghcr.io/acme/storefront', containerPort: 8080, servicePort: 80,
  release: ReleaseStrategy.rolling({ imageTag: '2024.06.1' }), resources, network,
});
const payments = new Microservice(chart, 'Payments', {
  name: 'payments', image: 'ghcr.io/acme/payments', containerPort: 9000, replicas: 3, partOf: 'acme-shop',
  release: ReleaseStrategy.blueGreen({ active: Colour.GREEN, tags: { blue: '1.4.0', green: '1.5.0' } }), resources, network,
});
storefront.connectTo(payments);
const monitor = new WorkloadMonitor(chart, 'Monitor', {
  name: 'acme-shop', labels: { release: 'prometheus' }, selectLabels: { 'app.kubernetes.io/part-of': 'acme-shop' }, namespaces: ['acme-shop'],
});
monitor.scrape(payments);
const rules = new PrometheusRules(chart, 'Alerts', { name: 'acme-shop-alerts', labels: { release: 'prometheus' } });
rules.addGroup('payments').addAlert({
  name: 'PaymentsDown',
  expr: 'sum(up{namespace="acme-shop", job="payments"}) == 0',
  for: '2m',
  severity: AlertSeverity.CRITICAL,
  team: 'payments',
  summary: 'No payments pod is up',
  description: 'Every payments target has been down for 2 minutes',
  runbookUrl: 'https://runbooks.acme.example/payments-down',
});
process.stdout.write(JSON.stringify({ storefront: storefront.service.name, payments: payments.service.name }) + '\\n---\\n');
process.stdout.write(app.synthYaml());
`;

describe('the packed construct library', () => {
  let work: string;
  let project: string;
  let files: string[];
  let objects: Obj[];
  let names: { storefront: string; payments: string };
  let declared: Manifest;
  let tree: LsNode;
  let bundled: string[];
  let nested: { location: string; version: string }[];
  let ready = false;

  /**
   * Runs one setup step. A failure names the step, the command, where it ran and its output, and
   * says what usually causes it.
   */
  const run = (step: string, cmd: string, args: string[], cwd: string, hint: (output: string) => string = () => '', okCodes = [0]) =>
    new Promise<string>((resolve, reject) => {
      // A fresh, empty npm cache and user config per command; offline, with a registry that cannot answer.
      const isolated = fs.mkdtempSync(path.join(work, 'npm-'));
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)));
      Object.assign(env, {
        npm_config_cache: path.join(isolated, 'cache'), npm_config_userconfig: path.join(isolated, 'npmrc'),
        npm_config_offline: 'true', npm_config_registry: 'http://127.0.0.1:9/', npm_config_audit: 'false',
        npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_loglevel: 'error',
      });
      execFile(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (okCodes.includes(code)) return resolve(stdout);
        const output = `${stdout}${stderr}`;
        const why = hint(output);
        reject(new Error(`consumer setup failed at step "${step}": \`${cmd} ${args.join(' ')}\` in ${cwd} exited ${code}`
          + `${why ? `\n${why}` : ''}\n${output}(${work} is kept for inspection)`));
      });
    });

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-consumer-'));
    const lock = readJson<Lock>(path.join(ROOT, 'package-lock.json'));
    const manifest = readJson<Manifest>(path.join(ROOT, 'package.json'));
    // GIVEN the packages the library needs, as npm ci installed them
    const closure = dependencyClosure(lock, manifest);
    for (const location of closure) {
      const at = path.join(ROOT, location, 'package.json');
      const version = fs.existsSync(at) ? readJson<Manifest>(at).version : 'missing';
      if (version !== lock.packages[location].version) {
        throw new Error(`consumer setup failed: ${location} is ${version} but package-lock.json says ${lock.packages[location].version}; run npm ci`);
      }
    }
    bundled = Object.keys(lock.packages).filter((l) => lock.packages[l].inBundle && closure.some((c) => l.startsWith(`${c}/node_modules/`)));
    // AND a tarball of the library built the way it would be published, and one of each of those packages
    const [libraryDir, registryDir] = ['library', 'registry'].map((d) => path.join(work, d));
    for (const dir of [libraryDir, registryDir]) fs.mkdirSync(dir);
    const [, packed] = await Promise.all([
      run('pack the library (npm pack runs its prepack build)', 'npm', ['pack', '--silent', '--pack-destination', libraryDir], ROOT,
        () => 'the library did not build or pack: run `npm run build` for the compiler errors'),
      run(`pack its ${closure.length} installed dependencies and peers`, 'npm',
        ['pack', '--ignore-scripts', '--json', '--pack-destination', registryDir, ...closure.map((l) => path.join(ROOT, l))], ROOT),
    ]);
    const tarball = fs.readdirSync(libraryDir).find((f) => f.endsWith('.tgz'))!;
    files = (await run('list the library tarball', 'tar', ['-tzf', path.join(libraryDir, tarball)], work)).trim().split('\n').sort();
    const packs = (JSON.parse(packed) as { name: string; version: string; filename: string }[])
      .map(({ name, version, filename }) => ({ name, version, spec: `file:../registry/${filename}` }));
    const tarballOf = (location: string) => packs.find((p) => p.name === nameAt(location) && p.version === lock.packages[location].version);
    const unpacked = closure.filter((l) => tarballOf(l) === undefined);
    if (unpacked.length > 0) {
      throw new Error(`consumer setup failed: npm pack produced ${packs.length} tarballs for ${closure.length} packages; not packed: ${unpacked.join(', ')}`);
    }
    const offered = closure.filter((l) => l === `node_modules/${nameAt(l)}`).map((l) => tarballOf(l)!);
    nested = closure.filter((l) => l !== `node_modules/${nameAt(l)}`).map((location) => ({ location, version: lock.packages[location].version }));
    const overrides = nestedOverrides(closure.filter((l) => l !== `node_modules/${nameAt(l)}`), (l) => tarballOf(l)!.spec);
    // AND a fresh project that depends on the library and names every package it needs by tarball
    project = path.join(work, 'acme-shop');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({
      name: 'acme-shop', version: '1.0.0', private: true,
      dependencies: { [LIBRARY]: `file:../library/${tarball}`, ...Object.fromEntries(offered.map((o) => [o.name, o.spec])) },
      ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
    }, null, 2));
    await run('install the library tarball into a fresh project (offline, empty cache)', 'npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], project,
      (output) => {
        const versions = `tarballs offered: ${packs.map((o) => `${o.name}@${o.version}`).join(', ')}`;
        if (/ENOTCACHED|only-if-cached|ECONNREFUSED|request to http/.test(output)) {
          return `npm needed a package or version that was not offered as a local tarball (named below): the closure that dependencyClosure() reads from package-lock.json missed it, or a declared range excludes the installed version.\n${versions}`;
        }
        if (/ERESOLVE/.test(output)) {
          return `a declared range (often a peer range of ${LIBRARY} or of a peer) is not satisfied by the tarball offered for that package (named below).\n${versions}`;
        }
        return versions;
      });
    // WHEN a strict TypeScript chart using the public API is compiled and run (while npm checks the tree)
    fs.writeFileSync(path.join(project, 'chart.ts'), CHART);
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, target: 'es2022', module: 'commonjs', moduleResolution: 'node', skipLibCheck: true, types: [] },
      files: ['chart.ts'],
    }));
    const [, ls] = await Promise.all([
      run('compile the consumer chart with strict TypeScript', process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project,
        () => `the library's published declarations (lib/*.d.ts in the tarball) do not type-check in a strict consumer`),
      // exits 1 when the tree has problems; the test below reports them
      run('list the installed tree', 'npm', ['ls', '--all', '--json'], project, () => '', [0, 1]),
    ]);
    tree = JSON.parse(ls) as LsNode;
    declared = readJson<Manifest>(path.join(project, 'node_modules', LIBRARY, 'package.json'));
    const output = await run('run the consumer chart', process.execPath, ['chart.js'], project);
    const cut = output.indexOf('\n---\n');
    const [header, manifests] = [output.slice(0, cut), output.slice(cut + 5)];
    names = JSON.parse(header);
    objects = YAML.parseAllDocuments(manifests).map((d) => d.toJS()).filter(Boolean);
    ready = true;
  });

  // A failed setup keeps its folder: npm's logs named in the error live there.
  afterAll(() => { if (ready) fs.rmSync(work, { recursive: true, force: true }); });

  test('ships only the compiled library, its declarations, the README and package.json', () => {
    expect(files.every((f) => /^package\/(lib\/[\w-]+\.(js|d\.ts)|README\.md|package\.json)$/.test(f))).toBe(true);
    expect(files).toContain('package/lib/index.js');
    expect(files).toContain('package/lib/index.d.ts');
    expect(files.some((f) => f.includes('dist/') || f.includes('environments/') || f.includes('test/'))).toBe(false);
  });

  test('installs its dependencies and peers at versions inside the ranges it declares, with no problem anywhere in the tree', () => {
    const edges = { ...declared.dependencies, ...declared.peerDependencies };
    expect(Object.keys(edges).length).toBeGreaterThanOrEqual(5);
    const library = tree.dependencies?.[LIBRARY];
    for (const [name, range] of Object.entries(edges)) {
      const node = library?.dependencies?.[name];
      // npm ls judges each edge as npm install does: `invalid` names the range the version is outside of
      expect({ name, range, installed: node?.version, missing: node?.missing, invalid: node?.invalid })
        .toEqual({ name, range, installed: expect.any(String), missing: undefined, invalid: undefined });
    }
    expect(tree.problems ?? []).toEqual([]);
  });

  test('keeps the packages bundled inside its dependencies\' tarballs', () => {
    expect(bundled.length).toBeGreaterThan(0);
    const lost = bundled.filter((location) => !fs.existsSync(path.join(project, location, 'package.json')));
    expect(lost).toEqual([]);
  });

  test('installs each nested version where the package needing it finds it, at the version package-lock.json holds', () => {
    // (e.g. @kubernetes-models/base 4.0.4 under argo-rollouts and gateway-api, 5.x hoisted for the others)
    expect(nested.length).toBeGreaterThan(0);
    const installed = nested.map(({ location }) => {
      const at = path.join(project, location, 'package.json');
      return { location, version: fs.existsSync(at) ? readJson<Manifest>(at).version : 'missing' };
    });
    expect(installed).toEqual(nested);
  });

  test('installs with a single copy of constructs, shared with the consumer', async () => {
    const copies = (await run('find copies of constructs', 'find', [path.join(project, 'node_modules'), '-type', 'd', '-name', 'constructs', '-path', '*node_modules/constructs'], project))
      .trim().split('\n').filter(Boolean);
    expect(copies).toEqual([path.join(project, 'node_modules', 'constructs')]);
  });

  test('synthesizes the consumer\'s dependency edge as egress on the caller and ingress on the callee', () => {
    const names = ofKind(objects, 'NetworkPolicy').map((p) => p.metadata.name).sort();
    expect(names).toEqual(expect.arrayContaining(['default-deny', 'payments', 'storefront']));
    const egress = find(objects, 'NetworkPolicy', 'storefront').spec.egress;
    expect(egress).toContainEqual({ to: [{ podSelector: { matchLabels: { app: 'payments' } } }], ports: [{ protocol: 'TCP', port: 9000 }] });
    const ingress = find(objects, 'NetworkPolicy', 'payments').spec.ingress;
    expect(ingress).toContainEqual({ from: [{ podSelector: { matchLabels: { app: 'storefront' } } }], ports: [{ protocol: 'TCP', port: 9000 }] });
  });

  test('synthesizes the consumer\'s alert and the monitor that scrapes both colours of the pair', () => {
    const rule = find(objects, 'PrometheusRule', 'acme-shop-alerts');
    expect(rule.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(rule.spec.groups[0].rules[0]).toMatchObject({
      alert: 'PaymentsDown', for: '2m', labels: { severity: 'critical', team: 'payments' },
    });
    const monitor = find(objects, 'ServiceMonitor', 'acme-shop');
    expect(monitor.spec.endpoints[0].port).toBe('metrics');
    for (const name of ['payments', 'payments-preview']) {
      expect(find(objects, 'Service', name).spec.ports.map((p: { name: string }) => p.name)).toEqual(['http', 'metrics']);
    }
  });

  test('synthesizes the consumer\'s platform: a rolling service and a blue/green pair', () => {
    expect(names).toEqual({ storefront: 'storefront', payments: 'payments' });
    expect(ofKind(objects, 'Deployment').map((d) => d.metadata.name).sort()).toEqual(['payments-blue', 'payments-green', 'storefront']);
    expect(find(objects, 'Service', 'storefront').spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080 }]);
    expect(find(objects, 'Service', 'payments').spec.selector).toEqual({ app: 'payments', version: 'green' });
    expect(find(objects, 'Service', 'payments-preview').spec.selector).toEqual({ app: 'payments', version: 'blue' });
    expect(find(objects, 'Deployment', 'payments-blue').spec.replicas).toBe(1);
    expect(find(objects, 'Deployment', 'payments-green').spec.template.spec.containers[0].image).toBe('ghcr.io/acme/payments:1.5.0');
    expect(find(objects, 'Namespace', 'acme-shop').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

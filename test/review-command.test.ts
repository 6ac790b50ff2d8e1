import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
/** The project root (not imported from main.ts: that would load the whole app for a path). */
const ROOT = path.resolve(__dirname, '..');
import { readEmitted, readEnvironments } from '../review/read';
import { review } from '../scripts/review';
import { toYaml } from '../synth/yaml';
import { readManifestTree } from '../validate/load';

/**
 * `npm run review` end to end, in-process, on a scratch git repository holding a copy of the
 * committed dist/: the base is read from git (no checkout), the head from the working tree.
 */

/** How many objects (one a file) `dist/<environment>` holds. */
// (the platform/ subfolder included: its objects are reviewed like the others)
const objectCount = (environment: string) => fs.readdirSync(path.join(ROOT, 'dist', environment), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml')).length;

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();

describe('npm run review', () => {
  let root: string;
  let out: string;
  let err: string[];
  const run = (...args: string[]) => {
    out = '';
    err = [];
    return review(args, { root, out: (t) => { out += t; }, err: (l) => err.push(l) });
  };
  const file = (name: string) => path.join(root, 'dist', 'production', name);
  const edit = (name: string, from: string | RegExp, to: string) => {
    const text = fs.readFileSync(file(name), 'utf8');
    expect(text).toMatch(from);
    fs.writeFileSync(file(name), text.replace(from, to));
  };

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-review-'));
    fs.cpSync(path.join(ROOT, 'dist'), path.join(root, 'dist'), { recursive: true });
    git(root, 'init', '-q', '-b', 'main');
    git(root, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'add', 'dist');
    git(root, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'dist');
    git(root, 'checkout', '-q', '-b', 'feature');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  afterEach(() => {
    git(root, 'checkout', '-q', '--', 'dist');
    git(root, 'clean', '-qfd', '--', 'dist');
  });

  test('an unchanged dist/ is reported as no change, against the merge base with main by default', () => {
    expect(run()).toBe(0);
    const commit = git(root, 'rev-parse', 'HEAD').slice(0, 12);
    expect(out).toContain(`Compares \`dist/\` at ${commit} (the merge base of HEAD and main) with the working tree's \`dist/\`.`);
    expect(out).toContain('**No change** in any environment.');
    expect(out).toContain(`| production | 0 | 0 | 0 | ${objectCount('production')} |`);
  });

  test('a blocking change fails --fail-on blocking, with the Markdown and JSON written first', () => {
    // GIVEN a Deployment whose selector changed in the working tree
    edit('48-deployment-auth-service-green.yaml', /matchLabels:\n {6}app: auth-service\n {6}version: green/, 'matchLabels:\n      app: auth-service\n      version: emerald');
    // WHEN reviewed for CI
    expect(run('main', '--fail-on', 'blocking,deletes-data', '--write-markdown', 'review.md', '--write-json', 'review.json')).toBe(1);
    // THEN the job log says why, and both reports exist
    expect(err).toEqual([
      'review: 1 line labelled blocking or deletes-data (--fail-on):',
      '  [blocking] production/auth-service-green: Deployment selector app=auth-service,version=green -> app=auth-service,version=emerald: '
        + 'kubectl apply will refuse it (spec.selector is immutable); delete and re-create the Deployment, or give it a new name',
      '  blocking: kubectl apply will refuse it (an immutable field changed): the object must be deleted and re-created',
    ]);
    const markdown = fs.readFileSync(path.join(root, 'review.md'), 'utf8');
    expect(markdown).toBe(out);
    expect(markdown).toContain('**1 blocking, 0 risky** of 1 lines.');
    expect(markdown.split('### Read first\n\n')[1].split('\n')[0]).toMatch(/^- \*\*`blocking`\*\* production\/auth-service-green: Deployment selector/);
    expect(markdown).toContain('| changed | apps/Deployment soundcore-kcp-prod/auth-service-green | `spec.selector.matchLabels.version`: `green` → `emerald` |');
    const json = JSON.parse(fs.readFileSync(path.join(root, 'review.json'), 'utf8'));
    expect(json.summary).toEqual({ blocking: 1, risky: 0, labels: { blocking: 1 } });
    expect(json.environments.map((e: { environment: string; counts: object }) => [e.environment, e.counts])).toEqual([
      ['production', { added: 0, removed: 0, changed: 1, unchanged: objectCount('production') - 1 }],
      ['staging', { added: 0, removed: 0, changed: 0, unchanged: objectCount('staging') }],
    ]);
  });

  test('--format json prints the JSON; a label not asked for does not fail', () => {
    fs.rmSync(file('60-poddisruptionbudget-frontend-blue.yaml'));
    expect(run('HEAD', '--format', 'json', '--fail-on', 'blocking')).toBe(0);
    expect(JSON.parse(out).environments[0].lines).toEqual([{
      environment: 'production', subject: 'production', labels: ['capacity-down'], topic: 'capacity',
      text: 'PodDisruptionBudget frontend-blue removed (a node drain may evict all its pods at once)',
    }]);
  });

  test('a new environment folder: every object added', () => {
    fs.cpSync(path.join(root, 'dist', 'staging'), path.join(root, 'dist', 'qa'), { recursive: true });
    expect(run('main', '--format', 'json')).toBe(0);
    const qa = JSON.parse(out).environments.find((e: { environment: string }) => e.environment === 'qa');
    expect(qa.counts).toEqual({ added: objectCount('staging'), removed: 0, changed: 0, unchanged: 0 });
  });

  test('refuses bad arguments and unknown revisions with the reason, exit 2', () => {
    expect(run('main', '--fail-on', 'blocker')).toBe(2);
    expect(err[0]).toMatch(/^review: --fail-on: unknown label "blocker"; known: blocking, deletes-data, stops-traffic, /);
    expect(run('no-such-branch')).toBe(2);
    expect(err).toEqual(['review: "no-such-branch" names no commit of this repository (a branch, tag or commit id; CI: $CI_MERGE_REQUEST_DIFF_BASE_SHA)']);
    expect(run('main', 'HEAD')).toBe(2);
    expect(err[0].split('\n')[0]).toBe('review: unexpected argument "HEAD" (one base revision at most)');
    expect(err[0].split('\n')[1]).toMatch(/^usage: npm run review -- \[<base-ref>\] /);
    expect(run('--format', 'yaml')).toBe(2);
    expect(err[0].split('\n')[0]).toBe('review: --format must be markdown or json, got "yaml"');
  });

  test('a manifest that is not valid YAML is named, not a stack trace', () => {
    fs.writeFileSync(file('99-broken.yaml'), 'kind: [unclosed\n');
    expect(run('main')).toBe(2);
    expect(err).toEqual([expect.stringMatching(/^review: cannot read dist\/: production\/99-broken\.yaml: invalid YAML: /)]);
  });
});

describe('reading dist/', () => {
  test('the emitter\'s reader reads every committed file back to what the emitter writes, and as a YAML 1.1 parser does', () => {
    const tree = readManifestTree(path.join(ROOT, 'dist'));
    expect(tree.size).toBeGreaterThan(90);
    const oneOfEachKind = new Map<string, string>();
    for (const [name, content] of tree) {
      const body = content.replace(/^(#[^\n]*\n)+/, '');
      // the check review/read.ts makes before it trusts the reader (else it falls back to the YAML loader)
      expect([name, toYaml(readEmitted(body)) === body]).toEqual([name, true]);
      oneOfEachKind.set(name.replace(/^.*\/\d+-([a-z]+)-[^/]*$/, '$1'), name);
    }
    // and, on one file of each kind (a real parser costs ≈ 10 ms a file), the very objects a YAML 1.1 parser reads
    expect([...oneOfEachKind.keys()].sort()).toEqual([
      'alertmanagerconfig', 'analysistemplate', 'configmap', 'deployment', 'externalsecret', 'horizontalpodautoscaler', 'httproute', 'ingress', 'limitrange',
      'namespace', 'networkpolicy', 'poddisruptionbudget', 'probe', 'prometheusrule', 'resourcequota', 'role', 'rolebinding', 'rollout', 'service',
      'serviceaccount', 'servicemonitor',
    ]);
    for (const name of oneOfEachKind.values()) {
      const content = tree.get(name)!;
      expect([name, readEmitted(content.replace(/^(#[^\n]*\n)+/, ''))]).toEqual([name, YAML.parse(content, { version: '1.1' })]);
    }
  });

  test('a file the emitter did not write goes to the YAML 1.1 loader: yes is a boolean, several documents are read', () => {
    const handWritten = [
      'apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: flags', 'data:', '  enabled: yes', '---',
      'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: other}', '',
    ].join('\n');
    const read = readEnvironments(new Map([['shop/flags.yaml', handWritten]]), 'test');
    expect(read.get('shop')).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'flags' }, data: { enabled: true } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } },
    ]);
  });
});

/**
 * Namespace guardrails: the deployer's Role is exactly what the deploy's operations need on the
 * objects of each environment's folder, in every release phase; the ResourceQuota covers the worst
 * moment of a release and a component that would not fit the namespace budget is a synth error; the
 * gate checks RoleBindings, Roles, the quota and the LimitRange.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import {
  AccessSubject, ApiRequest, NamespaceAccess, NamespaceQuota, PolicyRule, podsFootprint, rulesAllow, rulesFor,
} from '../constructs';
import { CATALOGUE, EnvironmentConfig } from '../environments';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { synthesize, synthesizeObjects } from '../synth/pipeline';
import { separatePlatformObjects } from '../synth/render';
import { DEPLOY_OPERATIONS, DeployFacts, deployRequests, operationRequests } from '../release/deploy-operations';
import { PLATFORM_KINDS } from '../release/guardrails';
import { Action, ComponentRelease, Phase, ReleaseState, transition } from '../release/state';
import { KubeObject } from '../synth/output';
import { EnvironmentIndex, loadManifests } from '../validate';
import { checkQuotas, checkRoleBindings, checkRoleRules } from '../validate/guardrails';
import { committedReleaseStates, find, Obj, withChanges } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const COMMITTED = committedReleaseStates().production as { [c: string]: ComponentRelease };

/** Every component of production in one phase at once (the worst case is every component mid-release). */
function allIn(phase: Phase): ReleaseState {
  const out: { [c: string]: ComponentRelease } = {};
  for (const [c, r] of Object.entries(COMMITTED)) {
    const staged = transition(c, r, Action.STAGE, 'v9.9.9', { serving: 1 });
    out[c] = phase === Phase.STABLE ? r : phase === Phase.STAGED ? staged
      : phase === Phase.PROMOTED ? transition(c, staged, Action.PROMOTE) : transition(c, transition(c, staged, Action.PROMOTE), Action.ROLLBACK);
    expect(out[c].phase).toBe(phase);
  }
  return out;
}
const PHASES = [Phase.STABLE, Phase.STAGED, Phase.PROMOTED, Phase.ROLLED_BACK];
const byPhase = new Map(PHASES.map((p) => [p, synthesizeObjects([production], CATALOGUE, { production: allIn(p) }).get('production')! as Obj[]]));
const stagingObjects = synthesizeObjects([staging], CATALOGUE, { staging: {} }).get('staging')! as Obj[];

const rulesOf = (objects: readonly Obj[]): PolicyRule[] => find(objects, 'Role', 'soundcore-kcp-deployer').rules as PolicyRule[];
const applied = (objects: readonly Obj[]) => objects.filter((o) => !PLATFORM_KINDS.has(o.kind));
/** The deploy facts as the folder states them (kinds of every phase: the Job of a staged one). */
function factsOf(objects: readonly Obj[], extra: { blueGreen: boolean; pipelineSecrets: string[] }): DeployFacts {
  const kinds = [...new Map([...applied(objects), ...(extra.blueGreen ? [{ apiVersion: 'batch/v1', kind: 'Job' }] : [])]
    .map((o) => [`${o.apiVersion} ${o.kind}`, { apiVersion: o.apiVersion, kind: o.kind }])).values()];
  const plan = fs.readFileSync(path.join(ROOT, 'dist', extra.blueGreen ? 'production' : 'staging', 'deploy-plan.tsv'), 'utf8');
  const prune = plan.split('\n').find((l) => l.startsWith('prune\t'))!.split('\t')[2].split(',');
  return { applied: kinds, pruneResources: prune, blueGreen: extra.blueGreen, autoscaled: objects.some((o) => o.kind === 'HorizontalPodAutoscaler'), pipelineSecrets: extra.pipelineSecrets };
}
const PRODUCTION_FACTS = factsOf(byPhase.get(Phase.STAGED)!, { blueGreen: true, pipelineSecrets: [] });
const STAGING_FACTS = factsOf(stagingObjects, { blueGreen: false, pipelineSecrets: ['db-credentials', 'alertmanager-receivers'] });

describe('least-privilege deploy access', () => {
  test.each([
    ['production', () => rulesOf(byPhase.get(Phase.STABLE)!), PRODUCTION_FACTS],
    ['staging', () => rulesOf(stagingObjects), STAGING_FACTS],
  ])('%s: every operation of the deploy is allowed on every object of the folder', (_env, rules, facts) => {
    // GIVEN the Role rendered into the platform folder and every request of every operation
    const denied = DEPLOY_OPERATIONS.flatMap((op) => operationRequests(op, facts).filter((r) => !rulesAllow(rules(), r))
      .map((r) => `${op.kubectl}: ${r.verb} ${r.resource}.${r.group}${r.name ? `/${r.name}` : ''}`));
    // THEN none is denied, and each object of the folder can be applied (get, create, patch) and pruned (list, delete)
    expect(denied).toEqual([]);
    const folder = _env === 'production' ? byPhase.get(Phase.STAGED)! : stagingObjects;
    for (const o of applied(folder)) {
      const plural = o.kind === 'Ingress' ? 'ingresses' : o.kind === 'NetworkPolicy' ? 'networkpolicies' : `${o.kind.toLowerCase()}s`;
      const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
      for (const verb of ['get', 'create', 'patch', 'list', 'delete'] as const) {
        expect([o.kind, o.metadata.name, verb, rulesAllow(rules(), { group, resource: plural, verb })]).toEqual([o.kind, o.metadata.name, verb, true]);
      }
    }
  });

  test.each([
    ['production', () => rulesOf(byPhase.get(Phase.STABLE)!), PRODUCTION_FACTS],
    ['staging', () => rulesOf(stagingObjects), STAGING_FACTS],
  ])('%s: removing any one rule, or any one verb of a rule, breaks a listed operation', (_env, rules, facts) => {
    const requests = deployRequests(facts);
    const all = rules();
    all.forEach((rule, i) => {
      const without = all.filter((_, j) => j !== i);
      const broken = requests.filter((r) => !rulesAllow(without, r));
      expect([i, rule.resources.join(','), broken.length > 0]).toEqual([i, rule.resources.join(','), true]);
      for (const verb of rule.verbs) {
        const fewer = [...without, { ...rule, verbs: rule.verbs.filter((v) => v !== verb) }];
        expect([rule.resources.join(','), verb, requests.some((r) => !rulesAllow(fewer, r))]).toEqual([rule.resources.join(','), verb, true]);
      }
    });
  });

  test('the Role is the same in every release phase, so a release never needs the platform administrator', () => {
    const roles = PHASES.map((p) => JSON.stringify(rulesOf(byPhase.get(p)!)));
    expect(new Set(roles).size).toBe(1);
    // (the staged phase's smoke Job is covered while stable too)
    expect(rulesAllow(rulesOf(byPhase.get(Phase.STABLE)!), { group: 'batch', resource: 'jobs', verb: 'create' })).toBe(true);
  });

  test('production grants nothing on Secrets; staging only create, and get/patch of db-credentials and alertmanager-receivers by name', () => {
    const prod = rulesOf(byPhase.get(Phase.STABLE)!);
    expect(prod.filter((r) => r.resources.includes('secrets'))).toEqual([]);
    const stg = rulesOf(stagingObjects).filter((r) => r.resources.includes('secrets'));
    expect(stg).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'patch'], resourceNames: ['alertmanager-receivers'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'patch'], resourceNames: ['db-credentials'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    ]);
    expect(rulesAllow(rulesOf(stagingObjects), { group: '', resource: 'secrets', verb: 'get', name: 'soundcore-kcp-staging-tls' })).toBe(false);
  });

  test('no rule has a wildcard, an escalating verb, a cluster-scoped resource or a Role/RoleBinding/quota of its own', () => {
    for (const rules of [rulesOf(byPhase.get(Phase.STABLE)!), rulesOf(stagingObjects)]) {
      const text = JSON.stringify(rules);
      expect(text).not.toMatch(/"\*"|escalate|bind|impersonate|namespaces|roles|rolebindings|resourcequotas|limitranges|serviceaccounts/);
    }
  });

  test('rollout status, logs and a waited delete ask for the verbs kubectl 1.28 sends', () => {
    const op = (kubectl: string) => DEPLOY_OPERATIONS.filter((o) => o.kubectl === kubectl).flatMap((o) => operationRequests(o, PRODUCTION_FACTS));
    expect(op('kubectl rollout status deployment/<name>').map((r) => r.verb)).toEqual(['get', 'list', 'watch']);
    expect(op('kubectl logs job/<name> --all-containers=true').map((r) => `${r.verb} ${r.resource}`)).toEqual(['get jobs', 'list pods', 'watch pods', 'get pods/log']);
    expect(op('kubectl delete job <name>').map((r) => r.verb)).toEqual(['delete', 'get', 'list', 'watch']);
  });

  test('every kubectl subcommand scripts/deploy.sh runs is in the operations table', () => {
    const script = fs.readFileSync(path.join(ROOT, 'scripts', 'deploy.sh'), 'utf8').split('\n').filter((l) => !l.trim().startsWith('#'));
    const used = new Set(script.flatMap((l) => [...l.matchAll(/(?:\bkubectl|\bk)\s+(?:-n "\$ns"\s+)?(apply|get|delete|logs|rollout|scale|patch|create|edit|label|annotate|exec)\b/g)].map((m) => m[1])));
    const listed = new Set(DEPLOY_OPERATIONS.map((o) => o.kubectl.split(' ')[1]));
    expect([...used].sort()).toEqual([...listed].sort());
    // and it never applies the platform folder: `kubectl apply -f <dir>` does not recurse
    expect(script.join('\n')).not.toMatch(/\s(-R|--recursive)\b/);
  });

  test('the deploy plan lists no platform object: the deployer neither applies nor prunes them', () => {
    const plan = fs.readFileSync(path.join(ROOT, 'dist', 'production', 'deploy-plan.tsv'), 'utf8');
    for (const kind of PLATFORM_KINDS) expect(plan).not.toContain(`object\t${kind}\t`);
    const tree = synthesize([production], CATALOGUE, committedReleaseStates());
    expect([...tree.keys()].filter((f) => f.startsWith('production/platform/'))).toEqual([
      'production/platform/00-namespace-soundcore-kcp-prod.yaml', 'production/platform/08-resourcequota-soundcore-kcp.yaml',
      'production/platform/12-limitrange-soundcore-kcp.yaml', 'production/platform/16-serviceaccount-soundcore-kcp-deployer.yaml',
      'production/platform/36-role-soundcore-kcp-deployer.yaml', 'production/platform/40-rolebinding-soundcore-kcp-deployer.yaml',
    ]);
  });

  test('rulesFor never limits create, list or watch by name (RBAC cannot), and merges resources with equal verbs', () => {
    const requests: ApiRequest[] = [
      { group: '', resource: 'secrets', verb: 'create', name: 's' }, { group: '', resource: 'secrets', verb: 'patch', name: 's' },
      { group: '', resource: 'configmaps', verb: 'list' }, { group: '', resource: 'services', verb: 'list' },
    ];
    expect(rulesFor(requests)).toEqual([
      { apiGroups: [''], resources: ['configmaps', 'services'], verbs: ['list'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['patch'], resourceNames: ['s'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
    ]);
  });

  test('rejects a NamespaceAccess bound to nobody, naming it', () => {
    const chart = Testing.chart();
    expect(() => new NamespaceAccess(chart, 'A', { name: 'ci', subjects: [], requests: () => [] }))
      .toThrow('NamespaceAccess ci: subjects must name at least one subject (a Role bound to nobody grants nothing), got []');
    expect(() => AccessSubject.serviceAccount('Not_A_Name')).toThrow(/AccessSubject: serviceAccount/);
  });

  test('reviewers get a read-only Role when the environment names their groups', () => {
    const env = withChanges(production, { guardrails: { ...production.guardrails, reviewerGroups: ['kcp-oncall'] } } as Partial<EnvironmentConfig>);
    const objects = synthesizeObjects([env], CATALOGUE, committedReleaseStates()).get('production')! as Obj[];
    const role = find(objects, 'Role', 'soundcore-kcp-reviewer');
    const verbs = new Set((role.rules as PolicyRule[]).flatMap((r) => r.verbs));
    expect([...verbs].sort()).toEqual(['get', 'list', 'watch']);
    expect(rulesAllow(role.rules as PolicyRule[], { group: '', resource: 'pods/log', verb: 'get' })).toBe(true);
    expect(rulesAllow(role.rules as PolicyRule[], { group: '', resource: 'events', verb: 'list' })).toBe(true);
    expect((role.rules as PolicyRule[]).flatMap((r) => r.resources)).not.toContain('secrets');
    expect(find(objects, 'RoleBinding', 'soundcore-kcp-reviewer').subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kcp-oncall' }]);
  });
});

describe('resource quota and limit range', () => {
  const hard = (objects: readonly Obj[]) => find(objects, 'ResourceQuota', 'soundcore-kcp').spec.hard as { [k: string]: string };

  test('production: the quota is the worst moment of a release, every colour at its autoscaler maximum plus surge, plus the headroom', () => {
    // knowledge-service: 2 colours x (10 max + 3 surge) = 26 pods x 250m = 6500m requested; frontend 2 x (6 + 2) = 16 x 250m;
    // the four fixed pairs 2 x (3 + 1) = 8 pods each x 250m; six smoke pods x 10m; two ACME solvers x 10m; four datastores x 1 CPU
    const requestsCpu = 26 * 250 + 16 * 250 + 4 * 8 * 250 + 6 * 10 + 2 * 10 + 4 * 1000;
    const pods = 26 + 16 + 4 * 8 + 6 + 2 + 4;
    expect(hard(byPhase.get(Phase.STABLE)!)).toMatchObject({
      'requests.cpu': `${Math.ceil(requestsCpu * 1.2)}m`, 'pods': String(Math.ceil(pods * 1.2)),
      'count/deployments.apps': String(Math.ceil((12 + 4) * 1.2)), 'count/jobs.batch': String(Math.ceil(6 * 1.2)), 'services.nodeports': '0',
    });
  });

  test('every release phase, for every component at once, fits the same quota', () => {
    const quotas = PHASES.map((p) => JSON.stringify(hard(byPhase.get(p)!)));
    expect(new Set(quotas).size).toBe(1);
    for (const phase of PHASES) {
      const objects = byPhase.get(phase)!;
      const env = new EnvironmentIndex('production', loadObjects(objects));
      expect([phase, checkQuotas(env)]).toEqual([phase, []]);
    }
  });

  test('the LimitRange defaults a hand-made pod to the smallest component and refuses one above the largest consumer', () => {
    const spec = find(byPhase.get(Phase.STABLE)!, 'LimitRange', 'soundcore-kcp').spec.limits[0];
    expect(spec).toEqual({
      type: 'Container',
      defaultRequest: { cpu: '250m', memory: '256Mi' }, default: { cpu: '500m', memory: '512Mi' }, // the frontend's
      max: { cpu: '2000m', memory: '8192Mi' }, // a datastore's reservation (guardrails.unmanaged)
    });
  });

  test('rejects at synth a component change that would exceed the namespace budget, naming the component and the figures', () => {
    const env = withChanges(production, {
      components: { ...production.components, 'knowledge-service': { replicas: 5, autoscaling: { maxReplicas: 20, targetCpuUtilization: 70 } } },
    });
    expect(() => synthesizeObjects([env], CATALOGUE, committedReleaseStates()))
      .toThrow(/production: NamespaceQuota budget is exceeded at the worst moment of a release: pods needs 132 \(110 \+ 20% headroom\), above the budget's 128; largest: knowledge-service 50 \(2 colours x \(20 autoscaler max \+ 5 surge\) pods\), frontend 16 .* and 11 more;.* limits\.cpu needs 118560m \(98800m \+ 20% headroom\), above the budget's 96000m; largest: knowledge-service 50000m /);
  });

  test('rejects a NamespaceQuota whose budget is not a quantity or whose headroom is negative', () => {
    const f = podsFootprint('a', '1 pod', 1, { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(() => new NamespaceQuota(Testing.chart(), 'Q', { name: 'q', footprints: [f], headroomPercent: -1 }))
      .toThrow('NamespaceQuota q: headroomPercent must be an integer from 0 to 1000, got -1');
    expect(() => new NamespaceQuota(Testing.chart(), 'Q', { name: 'q', footprints: [f], budget: { requests: { cpu: 'lots', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' }, pods: 1 } }))
      .toThrow(/NamespaceQuota q: budget\.requests\.cpu must be a Kubernetes quantity/);
  });
});

describe('the gate checks the guardrails', () => {
  const prod = () => loadObjects(byPhase.get(Phase.STAGED)!);

  test('a quota below the peak of a rollout is reported with each workload\'s share', () => {
    const objects = prod().map((o) => (o.kind === 'ResourceQuota' ? { ...o, body: { ...o.body, spec: { hard: { pods: '20' } } } } : o));
    const findings = checkQuotas(new EnvironmentIndex('production', objects));
    expect(findings.map((f) => [f.rule, f.path])).toEqual([['quota/exceeded', 'spec.hard.pods']]);
    expect(findings[0].message).toMatch(/^the workloads of namespace soundcore-kcp-prod at the peak of a rollout need \d+, above 20 \(.*Deployment knowledge-service-blue: 13 pods, 10 \+ 3 surge/);
  });

  test('a Deployment run by an Argo Rollout counts as twice the Rollout\'s most replicas, not as its own 0', () => {
    // GIVEN staging, where knowledge-service is an Argo canary (HPA max 4 on the Rollout) and
    // content-service an Argo blue/green pair (Rollout replicas 2); their Deployments hold replicas 0
    const objects = loadObjects(stagingObjects).map((o) => (o.kind === 'ResourceQuota' ? { ...o, body: { ...o.body, spec: { hard: { pods: '1' } } } } : o));
    // WHEN the gate checks the quota
    const findings = checkQuotas(new EnvironmentIndex('staging', objects));
    // THEN each Rollout's share is its peak of a release: both revisions at full size
    expect(findings.map((f) => [f.rule, f.path])).toEqual([['quota/exceeded', 'spec.hard.pods']]);
    expect(findings[0].message).toContain('Deployment knowledge-service: 8 pods, Rollout knowledge-service: 4 + 4 of the new revision');
    expect(findings[0].message).toContain('Deployment content-service: 4 pods, Rollout content-service: 2 + 2 of the new revision');
  });

  test('a container above the LimitRange maximum is reported at its limit', () => {
    const objects = prod().map((o) => (o.kind === 'LimitRange' ? { ...o, body: { ...o.body, spec: { limits: [{ type: 'Container', max: { cpu: '400m' } }] } } } : o));
    const findings = checkQuotas(new EnvironmentIndex('production', objects));
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({ rule: 'quota/above-limit-range', path: 'spec.template.spec.containers[0].resources.limits.cpu' });
    expect(findings[0].message).toMatch(/limits\.cpu \d+m is above the maximum 400m of LimitRange soundcore-kcp/);
  });

  test('a RoleBinding to a missing Role or ServiceAccount, a ClusterRole binding and a wildcard are reported', () => {
    const objects = prod().map((o) => {
      if (o.kind === 'RoleBinding') return { ...o, body: { ...o.body, roleRef: { ...(o.body.roleRef as object), name: 'deployer' }, subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'soundcore-kcp-prod' }] } };
      if (o.kind === 'Role') return { ...o, body: { ...o.body, rules: [{ apiGroups: [''], resources: ['*'], verbs: ['get', 'escalate'] }] } };
      return o;
    });
    const env = new EnvironmentIndex('production', objects);
    expect([...checkRoleBindings(env), ...checkRoleRules(env)].map((f) => `${f.rule} ${f.path}: ${f.message}`)).toEqual([
      'rbac/role-missing roleRef.name: Role "deployer" in namespace soundcore-kcp-prod is not in the environment (Roles there: soundcore-kcp-deployer)',
      'rbac/subject-missing subjects[0].name: ServiceAccount "ci" in namespace soundcore-kcp-prod is not in the environment',
      'rbac/wildcard rules[0].resources[0]: "*" grants whatever exists now or later: name each one',
      'rbac/escalation rules[0].verbs[1]: "escalate" lets the subject grant itself or act as more than this Role names',
    ]);
  });

  test('the committed guardrails pass the gate', () => {
    for (const objects of [prod(), loadObjects(stagingObjects)]) {
      const env = new EnvironmentIndex('e', objects);
      expect([...checkRoleBindings(env), ...checkRoleRules(env), ...checkQuotas(env)]).toEqual([]);
    }
  });
});

/** The objects as the gate loads them from files (platform folder included). */
function loadObjects(objects: readonly KubeObject[]) {
  const tree = new Map<string, string>();
  const charts = separatePlatformObjects(new Map([['e', [...objects]]]));
  for (const [folder, list] of charts) list.forEach((o, i) => tree.set(`${folder}/${i}-${o.kind}-${o.metadata.name}.yaml`, JSON.stringify(o)));
  return loadManifests(tree).objects;
}

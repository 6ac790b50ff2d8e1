/**
 * Alert routing: the AlertRouting construct (routes by team and severity, inhibition, Secret keys,
 * the synth error for a team without a route), the committed AlertmanagerConfigs (every team of
 * every rule routed; staging pages nobody), the generated runbook pages every runbook_url links to,
 * and the gate's routing checks. Field names are those of prometheus-operator's
 * `monitoring.coreos.com/v1alpha1` AlertmanagerConfig (the CRD in ../shared/schemas/crds/).
 * Cheap by design: no synthesis of the whole app; the committed dist/ (fresh, test/dist.test.ts) is read.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { IAlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig';
import { ApiObject, Chart, Testing } from 'cdk8s';
import { AlertRouting, AlertSeverity, PropsError } from '../constructs';
import { REPOSITORY_BLOB_URL } from '../environments';
import { EnvironmentIndex, loadManifests, ManifestObject } from '../validate';
import { checkReceiverSecrets, checkRouteReceivers } from '../validate/routing';
import { runbookDocuments } from '../release/runbooks';

const DIST = path.join(__dirname, '..', 'dist');

/** The committed objects of the kinds routing concerns, per environment, as the gate loads them. */
function committed(env: string): ManifestObject[] {
  const tree = new Map<string, string>();
  for (const folder of [env, `${env}/platform`]) {
    for (const f of fs.readdirSync(path.join(DIST, folder))) {
      if (/-(alertmanagerconfig|prometheusrule|externalsecret|namespace|secret)-/.test(f)) tree.set(`${folder}/${f}`, fs.readFileSync(path.join(DIST, folder, f), 'utf8'));
    }
  }
  return [...loadManifests(tree).objects];
}

function chartWithRules(teams: readonly string[]): Chart {
  const chart = new Chart(Testing.app(), 'qa', { namespace: 'ns' });
  new ApiObject(chart, 'Rules', {
    apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'rules' },
    spec: { groups: [{ name: 'g', rules: teams.map((team, i) => ({ alert: `Alert${i}`, expr: 'up == 0', labels: { team, severity: 'critical' } })) }] },
  });
  return chart;
}

const SECRET = { name: 'receivers', key: 'slack' };

type Spec = NonNullable<IAlertmanagerConfig['spec']>;
type Receiver = NonNullable<Spec['receivers']>[number];
/** A child route as the construct writes it (the model types child routes as unknown JSON). */
interface ChildRoute { receiver: string; matchers: { name: string; value: string }[] }
interface Rule { alert: string; labels: { team: string; severity: string }; annotations: { runbook_url: string } }
const routesOf = (spec: Spec) => (spec.route?.routes ?? []) as ChildRoute[];
const teamOf = (r: ChildRoute) => r.matchers.find((m) => m.name === 'team')!.value;

describe('AlertRouting', () => {
  test('routes each team by severity, inhibits warnings by a critical of the same service, and lists the Secret keys it reads', () => {
    // GIVEN rules of teams backend and devops
    const chart = chartWithRules(['backend', 'devops']);
    // WHEN both are routed, backend's criticals to a paging receiver
    const routing = new AlertRouting(chart, 'Routing', {
      name: 'routing',
      receivers: [
        { name: 'page', slack: { webhookUrl: SECRET, channel: '#oncall', mentions: ['<!here>'] }, email: { to: 'a@x.io', from: 'b@x.io', smarthost: 'smtp:587', username: 'u', password: { name: 'receivers', key: 'smtp' } } },
        { name: 'notify', slack: { webhookUrl: SECRET, channel: '#alerts' } },
      ],
      routes: [
        { team: 'backend', severity: AlertSeverity.CRITICAL, receiver: 'page', repeatInterval: '1h' },
        { team: 'backend', receiver: 'notify' },
        { team: 'devops', receiver: 'notify' },
      ],
      defaultReceiver: 'notify',
    });
    // THEN the routes match team (and severity) with "=" matchers, in order
    const spec = (Testing.synth(chart).find((o) => o.kind === 'AlertmanagerConfig') as { spec: Spec }).spec;
    const route = spec.route!;
    const receivers = spec.receivers!;
    expect(route.routes).toEqual([
      { receiver: 'page', matchers: [{ name: 'team', value: 'backend', matchType: '=' }, { name: 'severity', value: 'critical', matchType: '=' }], repeatInterval: '1h' },
      { receiver: 'notify', matchers: [{ name: 'team', value: 'backend', matchType: '=' }] },
      { receiver: 'notify', matchers: [{ name: 'team', value: 'devops', matchType: '=' }] },
    ]);
    expect([route.receiver, route.groupBy, route.groupWait, route.groupInterval, route.repeatInterval])
      .toEqual(['notify', ['alertname', 'team', 'service'], '30s', '5m', '4h']);
    expect(spec.inhibitRules).toEqual([{
      sourceMatch: [{ name: 'severity', value: 'critical', matchType: '=' }],
      targetMatch: [{ name: 'severity', value: 'warning', matchType: '=' }],
      equal: ['namespace', 'service'],
    }]);
    // AND the credentials are Secret references, never values
    expect(receivers[0].slackConfigs![0].apiURL).toEqual({ name: 'receivers', key: 'slack' });
    expect(receivers[0].slackConfigs![0].text!.startsWith('<!here> ')).toBe(true);
    expect(receivers[0].emailConfigs![0].authPassword).toEqual({ name: 'receivers', key: 'smtp' });
    expect([...routing.secretKeys]).toEqual([['receivers', ['slack', 'smtp']]]);
  });

  test('a rule whose team has no route is a synth error naming the alert, the team and where', () => {
    // GIVEN a rule of team frontend
    const chart = chartWithRules(['backend', 'frontend']);
    // WHEN only backend is routed
    const build = () => new AlertRouting(chart, 'Routing', {
      name: 'routing', receivers: [{ name: 'notify', slack: { webhookUrl: SECRET, channel: '#a' } }],
      routes: [{ team: 'backend', receiver: 'notify' }], defaultReceiver: 'notify', context: 'environment qa',
    });
    // THEN synth stops, naming Alert1, frontend and the environment
    expect(build).toThrow(new PropsError('AlertRouting routing', 'routes', ['backend'],
      'have no route for team "frontend" of alert Alert1 (PrometheusRule rules) in environment qa: add a route and a receiver for it'));
  });

  test('a route to a receiver that does not exist is refused, naming the receivers', () => {
    const chart = chartWithRules([]);
    expect(() => new AlertRouting(chart, 'Routing', {
      name: 'routing', receivers: [{ name: 'notify', slack: { webhookUrl: SECRET, channel: '#a' } }],
      routes: [{ team: 'backend', receiver: 'pager' }], defaultReceiver: 'notify',
    })).toThrow('AlertRouting routing: routes[0].receiver must name a receiver (receivers: notify), got "pager"');
  });
});

describe('committed alert routing', () => {
  const envs = { production: committed('production'), staging: committed('staging') };
  const configOf = (objects: ManifestObject[]) => objects.find((o) => o.kind === 'AlertmanagerConfig')!.body.spec as Spec;
  const rulesOf = (objects: ManifestObject[]) => objects.filter((o) => o.kind === 'PrometheusRule')
    .flatMap((o) => (o.body.spec as unknown as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules));

  test.each(Object.entries(envs))('%s: every team of every rule has a route', (_env, objects) => {
    const routed = new Set(routesOf(configOf(objects)).map(teamOf));
    const rules = rulesOf(objects);
    // (staging, routed through a Gateway, has no edge or frontend SLO alerts: README "Routing design")
    expect(rules.length).toBeGreaterThan(15);
    expect(rules.filter((r) => !routed.has(r.labels.team)).map((r) => `${r.alert} ${r.labels.team}`)).toEqual([]);
    expect([...routed].sort()).toEqual(['backend', 'devops', 'frontend']);
  });

  test('staging pages nobody: one Slack receiver, no mention, no e-mail; production pages a team on critical only', () => {
    const staging = configOf(envs.staging);
    expect(staging.receivers!.map((r) => [r.name, r.slackConfigs!.map((s) => s.channel), r.emailConfigs])).toEqual([['staging-notify', ['#kcp-staging-alerts'], undefined]]);
    expect(JSON.stringify(staging)).not.toContain('<!');
    const prod = configOf(envs.production);
    const receiver = (name: string): Receiver => prod.receivers!.find((r) => r.name === name)!;
    expect(routesOf(prod)).toHaveLength(6);
    for (const route of routesOf(prod)) {
      const team = teamOf(route);
      const critical = route.matchers.some((m) => m.name === 'severity' && m.value === 'critical');
      const r = receiver(route.receiver);
      expect([team, critical, r.slackConfigs![0].text!.startsWith('<!here> '), r.emailConfigs?.[0].to]).toEqual(
        [team, critical, critical, critical ? `${team}-oncall@soundcore-kcp.com` : undefined]);
    }
  });

  test.each(Object.entries(envs))('%s: every runbook_url names a runbook page in dist/ that describes the alert', (env, objects) => {
    for (const rule of rulesOf(objects)) {
      const url = rule.annotations.runbook_url;
      expect(url.startsWith(`${REPOSITORY_BLOB_URL}/dist/${env}/runbooks/`)).toBe(true);
      const page = fs.readFileSync(path.join(DIST, url.slice(`${REPOSITORY_BLOB_URL}/dist/`.length)), 'utf8');
      expect([rule.alert, page.includes(`| \`${rule.alert}\` | ${rule.labels.severity} | ${rule.labels.team} |`), page.includes(`### ${rule.alert}\n`)]).toEqual([rule.alert, true, true]);
    }
    const page = fs.readFileSync(path.join(DIST, env, 'runbooks', 'error-budget-burn.md'), 'utf8');
    if (env === 'production') {
      expect(page).toContain('`npm run release -- production <component> rollback`');
      expect(page).toContain('`break-glass:production`');
    } else {
      expect(page).toContain('revert the commit that changed its `imageTag` in `environments/staging.ts`');
      expect(page).not.toContain('break-glass');
    }
  });

  test.each(Object.entries(envs))('%s: the gate finds every receiver and every Secret key it reads', (_env, objects) => {
    const index = new EnvironmentIndex('e', objects);
    expect([...checkRouteReceivers(index), ...checkReceiverSecrets(index)]).toEqual([]);
  });

  test('the gate reports a route to a missing receiver, a Secret nobody provides and a missing key', () => {
    // GIVEN production with a route to "nobody", and its receivers' ExternalSecret missing
    const objects = envs.production.filter((o) => !(o.kind === 'ExternalSecret' && o.name === 'alertmanager-receivers')).map((o) => {
      if (o.kind !== 'AlertmanagerConfig') return o;
      const spec = JSON.parse(JSON.stringify(o.body.spec)) as Spec;
      routesOf(spec)[0].receiver = 'nobody';
      spec.receivers![0].slackConfigs![0].apiURL = { name: 'db-credentials', key: 'slack-webhook-url' };
      return { ...o, body: { ...o.body, spec: spec as unknown as ManifestObject['body'] } };
    });
    const findings = [...checkRouteReceivers(new EnvironmentIndex('e', objects)), ...checkReceiverSecrets(new EnvironmentIndex('e', objects))];
    // THEN each is named with its path
    expect(findings.map((f) => `${f.rule} ${f.path}: ${f.message}`)).toEqual([
      'routing/receiver-missing spec.route.routes[0].receiver: receiver "nobody" is not a receiver of AlertmanagerConfig soundcore-kcp-routing (receivers: backend-page, backend-notify, devops-page, devops-notify, frontend-page, frontend-notify); the operator rejects the config',
      'routing/secret-missing spec.receivers[0].emailConfigs[0].authPassword.name: Secret "alertmanager-receivers" in namespace soundcore-kcp-prod is not provided (no Secret, no ExternalSecret creating it, not declared out of band on the Namespace): the receiver cannot notify',
      'routing/secret-missing spec.receivers[0].slackConfigs[0].apiURL.key: key "slack-webhook-url" is not in Secret "db-credentials" (its keys: mongodb-uri, neo4j-uri, postgres-url, redis-url)',
      ...Array.from({ length: 7 }, () => expect.stringMatching(/^routing\/secret-missing spec\.receivers\[\d\]\.(slackConfigs|emailConfigs)\[0\]\.(apiURL|authPassword)\.name: Secret "alertmanager-receivers"/)),
    ]);
  });
});


describe('runbook pages', () => {
  test('a runbook_url into dist/ that names no page of its environment is a configuration error', () => {
    // GIVEN an environment chart whose rule links to another environment's page
    const app = Testing.app();
    const chart = new Chart(app, 'qa', { namespace: 'ns' });
    Object.assign(chart, { environment: { name: 'qa', namespace: 'ns', components: {} } });
    new ApiObject(chart, 'Rules', {
      apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'rules' },
      spec: { groups: [{ name: 'g', rules: [{ alert: 'PodDown', expr: 'up == 0', labels: { team: 't' }, annotations: { runbook_url: `${REPOSITORY_BLOB_URL}/dist/staging/runbooks/pod-down.md` } }] }] },
    });
    // THEN the error names the environment, the field, the alert and the URL
    expect(() => runbookDocuments(app)).toThrow(`qa: monitoring.runbookUrlPattern must link alert PodDown to a page synth writes, ${REPOSITORY_BLOB_URL}/dist/qa/runbooks/<slug>.md, `
      + `when it links into ${REPOSITORY_BLOB_URL}/dist/, got "${REPOSITORY_BLOB_URL}/dist/staging/runbooks/pod-down.md"`);
  });
});

import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import * as YAML from 'yaml';
import { ROOT } from '../synth/root';
import { ENVIRONMENTS } from '../environments';
import { readReleaseStates } from '../release/files';
import { Phase } from '../release/state';
import { readTree } from '../synth/output';

// Runs real work (Pulumi engine under mocks, promtool, whole synths): generous on a loaded CI machine.
jest.setTimeout(60_000);

interface Registered { type: string; name: string; inputs: { [k: string]: unknown } & { metadata?: { name: string; namespace?: string } } }
const registered: Registered[] = [];

pulumi.runtime.setMocks({
  newResource: (args) => {
    registered.push({ type: args.type, name: args.name, inputs: args.inputs });
    return { id: `${args.name}-id`, state: args.inputs };
  },
  call: (args) => args.inputs,
}, 'soundcore-kcp', 'test', false);

// Imported after the mocks are in place, as Pulumi requires.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { deployEnvironment, markSecrets } = require('../pulumi/program') as typeof import('../pulumi/program');

/** Deploys an environment under the mocks and waits until every resource is registered. */
async function deploy(environment: string, releaseStates?: { [env: string]: unknown }): Promise<Registered[]> {
  registered.length = 0;
  const { group, provider } = deployEnvironment({ environment, releaseStates: releaseStates ?? readReleaseStates(ROOT, ENVIRONMENTS) });
  await new Promise<void>((resolve) => pulumi.all([provider.id, group.resources.apply((rs) => pulumi.all(Object.values(rs).map((r) => r.id)))])
    .apply(() => resolve()));
  return [...registered];
}

const identity = (kind: string, namespace: string | undefined, name: string) => `${kind} ${namespace ?? '-'}/${name}`;

function distIdentities(environment: string): string[] {
  const tree = readTree(path.join(ROOT, 'dist'));
  return [...tree.entries()]
    .filter(([file]) => file.startsWith(`${environment}/`) && file.endsWith('.yaml'))
    .map(([, content]) => YAML.parse(content))
    .map((o) => identity(o.kind, o.metadata.namespace, o.metadata.name))
    .sort();
}

function kubeResources(resources: Registered[]): Registered[] {
  return resources.filter((r) => r.type.startsWith('kubernetes:') && !r.type.startsWith('kubernetes:yaml:'));
}

describe.each(ENVIRONMENTS.map((e) => [e.name, e.namespace] as const))('the Pulumi %s stack', (environment, namespace) => {
  test('registers exactly the objects of dist/<environment> (kind, namespace, name)', async () => {
    const resources = kubeResources(await deploy(environment));
    const kindOf = (type: string) => type.split(':')[2];
    expect(resources.map((r) => identity(kindOf(r.type), r.inputs.metadata?.namespace, r.inputs.metadata!.name)).sort())
      .toEqual(distIdentities(environment));
  });

  test('deploys through one provider bound to the environment namespace, with server-side apply', async () => {
    const providers = (await deploy(environment)).filter((r) => r.type === 'pulumi:providers:kubernetes');
    expect(providers.map((p) => [p.name, p.inputs.namespace, p.inputs.enableServerSideApply])).toEqual([[environment, namespace, 'true']]);
  });
});

describe('the Pulumi program', () => {
  test('changes only the Service selectors, and the Deployment the availability alert watches, when the active colour changes', async () => {
    const states = readReleaseStates(ROOT, ENVIRONMENTS) as { production: { [c: string]: { tags: { blue: string; green: string } } } };
    const tags = { blue: 'v1.0.0', green: 'v1.1.0' };
    const withActive = (active: 'blue' | 'green') => ({
      production: { ...states.production, 'content-service': { active, phase: active === 'green' ? Phase.PROMOTED : Phase.ROLLED_BACK, tags } },
    });
    const before = kubeResources(await deploy('production', withActive('green')));
    const after = kubeResources(await deploy('production', withActive('blue')));
    const byName = new Map(before.map((r) => [`${r.type} ${r.name}`, JSON.stringify(r.inputs)]));
    const changed = after.filter((r) => byName.get(`${r.type} ${r.name}`) !== JSON.stringify(r.inputs));
    expect(after).toHaveLength(before.length);
    expect(changed.map((r) => `${r.type.split(':')[2]} ${r.inputs.metadata!.name} ${JSON.stringify((r.inputs.spec as { selector: unknown }).selector)}`)).toEqual([
      'Service content-service {"app":"content-service","version":"blue"}',
      'Service content-service-preview {"app":"content-service","version":"green"}',
      'PrometheusRule soundcore-kcp-user-impact-alerts undefined',
    ]);
    // DeploymentUnavailable follows the traffic: it watches the colour the Service now selects.
    const rule = JSON.stringify(changed.find((r) => r.type.endsWith(':PrometheusRule'))!.inputs);
    expect(rule).toContain('deployment=\\"content-service-blue\\"');
    expect(rule).not.toContain('deployment=\\"content-service-green\\"');
  });

  test('marks Secret data as Pulumi secrets should any pass through', async () => {
    const obj: { kind: string; data?: unknown } = { kind: 'Secret', data: { password: 'c2VjcmV0' } };
    const opts: pulumi.CustomResourceOptions = {};
    markSecrets(obj, opts);
    expect(pulumi.Output.isInstance(obj.data)).toBe(true);
    expect(await pulumi.isSecret(obj.data as pulumi.Output<unknown>)).toBe(true);
    expect(opts.additionalSecretOutputs).toEqual(['data', 'stringData']);
  });

  test('throws for an unknown environment, naming the known ones', () => {
    expect(() => deployEnvironment({ environment: 'qa', releaseStates: {} }))
      .toThrow('unknown environment "qa" (soundcore-kcp:environment); known: staging, production');
  });
});

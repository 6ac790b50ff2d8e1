import { Testing } from 'cdk8s';
import { ReleaseStrategy } from '../constructs';
import { CATALOGUE, resolveEnvironments } from '../environments';
import { production } from '../environments/production';
import { KcpEnvironmentChart } from '../kcp';
import { resolveReleases } from '../release/strategies';
import { committedReleaseStates, find, Obj } from './helpers';

const env = resolveEnvironments([production], CATALOGUE, committedReleaseStates())[0];

describe('KcpEnvironmentChart', () => {
  test('builds each workload with the release it is given, not one it derives from the release state', () => {
    // GIVEN production's resolved releases, with content-service given a rolling release instead of its blue/green pair
    const releases = { ...resolveReleases(env), 'content-service': { strategy: ReleaseStrategy.rolling({ imageTag: 'v9.9.9' }) } };
    // WHEN the chart is built
    const chart = new KcpEnvironmentChart(Testing.app(), 'production', { environment: env, catalogue: CATALOGUE, releases });
    // THEN content-service is one Deployment on the given tag, and the others keep their blue/green pairs
    const objs = Testing.synth(chart) as Obj[];
    const deployments = objs.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
    expect(deployments.filter((d) => d.startsWith('content-service'))).toEqual(['content-service']);
    expect(find(objs, 'Deployment', 'content-service').spec.template.spec.containers[0].image).toMatch(/\/content-service:v9\.9\.9$/);
    expect(deployments).toContain('knowledge-service-blue');
  });

  test('throws naming every catalogue component whose release was not resolved', () => {
    const releases = Object.fromEntries(Object.entries(resolveReleases(env)).filter(([c]) => c !== 'auth-service' && c !== 'frontend'));
    expect(() => new KcpEnvironmentChart(Testing.app(), 'production', { environment: env, catalogue: CATALOGUE, releases }))
      .toThrow('KcpEnvironmentChart production: releases must hold the resolved release of every catalogue component (release/strategies.ts), missing, got ["frontend","auth-service"]');
  });
});

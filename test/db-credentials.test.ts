import { ExternalSecret as ExternalSecretModel } from '@kubernetes-models/external-secrets/external-secrets.io/v1beta1/ExternalSecret';
import { CATALOGUE, DB_CREDENTIALS_SECRET } from '../environments';
import { find, Obj, ofKind, synthObjects } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** See test/secrets.test.ts: the v1 spec is validated with the v1beta1 model of the CRD schema. */
function validateExternalSecret(obj: Json): void {
  new ExternalSecretModel({ ...obj, apiVersion: 'external-secrets.io/v1beta1' }).validate();
}

describe('database credentials in the environments', () => {
  const objects = synthObjects();

  /** Secret keys each workload's containers reference, by component (`app`); both colours of a pair must agree. */
  function keysByWorkload(objs: readonly Obj[]): { [workload: string]: string[] } {
    const byApp: { [workload: string]: string[] } = {};
    for (const d of ofKind(objs, 'Deployment')) {
      const keys = d.spec.template.spec.containers.flatMap((c: Json) => (c.env ?? []).filter((e: Json) => e.valueFrom?.secretKeyRef)
        .map((e: Json) => `${e.name}=${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`));
      const app = d.spec.template.metadata.labels.app;
      if (byApp[app] !== undefined && JSON.stringify(byApp[app]) !== JSON.stringify(keys)) {
        throw new Error(`${d.metadata.name} references other keys than the rest of ${app}`);
      }
      byApp[app] = keys;
    }
    return byApp;
  }

  test.each(['staging', 'production'])('%s gives each workload only the keys of the datastores it uses', (env) => {
    expect(keysByWorkload(objects.get(env)!)).toEqual({
      'frontend': [],
      'knowledge-service': ['POSTGRES_URL=db-credentials/postgres-url', 'REDIS_URL=db-credentials/redis-url', 'NEO4J_URI=db-credentials/neo4j-uri'],
      'content-service': ['MONGODB_URI=db-credentials/mongodb-uri', 'REDIS_URL=db-credentials/redis-url'],
      'support-service': ['MONGODB_URI=db-credentials/mongodb-uri'],
      'analytics-service': ['POSTGRES_URL=db-credentials/postgres-url', 'REDIS_URL=db-credentials/redis-url'],
      'auth-service': ['POSTGRES_URL=db-credentials/postgres-url', 'REDIS_URL=db-credentials/redis-url'],
    });
  });

  test('the key sets follow the catalogue', () => {
    const byWorkload = keysByWorkload(objects.get('production')!);
    for (const c of CATALOGUE) {
      expect(byWorkload[c.name]).toEqual((c.datastores ?? []).map((d) => `${d.envVar}=${DB_CREDENTIALS_SECRET}/${d.secretKey}`));
    }
  });

  test('staging references a Secret created out of band: no Secret and no ExternalSecret in its manifests', () => {
    const staging = objects.get('staging')!;
    expect(ofKind(staging, 'Secret')).toEqual([]);
    expect(ofKind(staging, 'ExternalSecret')).toEqual([]);
  });

  test('production materializes db-credentials with an ExternalSecret from its ClusterSecretStore, all four keys', () => {
    const production = objects.get('production')!;
    expect(ofKind(production, 'Secret')).toEqual([]);
    const es = find(production, 'ExternalSecret', 'db-credentials');
    expect(es.apiVersion).toBe('external-secrets.io/v1');
    expect(es.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'soundcore-kcp-secrets' });
    expect(es.spec.data.map((d: Json) => d.secretKey)).toEqual(['postgres-url', 'mongodb-uri', 'redis-url', 'neo4j-uri']);
    expect(es.spec.target).toEqual({ name: 'db-credentials', creationPolicy: 'Owner', deletionPolicy: 'Retain' });
    expect(() => validateExternalSecret(es)).not.toThrow();
  });
});

import * as path from 'path';
import { ExternalSecret as ExternalSecretModel } from '@kubernetes-models/external-secrets/external-secrets.io/v1beta1/ExternalSecret';
import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import {
  CredentialsSecret, ExternalSecret, ExternalSecretApiVersion, SecretSource, SecretStoreRef,
} from '../constructs';
import { ROOT } from '../synth/root';
import { ENVIRONMENTS } from '../environments';
import { findCredentialLikeValues } from '../synth/guards';
import { readTree, renderTree, synthesizeCharts } from '../synth/output';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const STORE = SecretStoreRef.cluster('vault-backend');
const DATA = {
  'postgres-url': { key: 'shop/db', property: 'postgres-url' },
  'redis-url': { key: 'shop/redis-url' },
};

/**
 * Validates an ExternalSecret against the external-secrets CRD schema with
 * @kubernetes-models/external-secrets 0.5.2, the newest release that runs on Node 20. It models
 * v1beta1; the v1 spec is the same for every field we emit (secretStoreRef, target, data,
 * refreshInterval), so a v1 object is validated with its apiVersion set to v1beta1.
 */
function validateExternalSecret(obj: Json): void {
  new ExternalSecretModel({ ...obj, apiVersion: 'external-secrets.io/v1beta1' }).validate();
}

describe('ExternalSecret', () => {
  test('renders an external-secrets.io/v1 ExternalSecret owning the Secret of the same name', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    new ExternalSecret(chart, 'Db', { name: 'db-credentials', store: STORE, data: DATA, refreshInterval: Duration.minutes(15) });
    // THEN
    const [obj] = Testing.synth(chart);
    expect(obj).toEqual({
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'db-credentials' },
      spec: {
        refreshInterval: '15m',
        secretStoreRef: { kind: 'ClusterSecretStore', name: 'vault-backend' },
        target: { name: 'db-credentials', creationPolicy: 'Owner', deletionPolicy: 'Retain' },
        data: [
          { secretKey: 'postgres-url', remoteRef: { key: 'shop/db', property: 'postgres-url' } },
          { secretKey: 'redis-url', remoteRef: { key: 'shop/redis-url' } },
        ],
      },
    });
    expect(() => validateExternalSecret(obj)).not.toThrow();
  });

  test('emits v1beta1 for older controllers, and that validates against the CRD schema as is', () => {
    const chart = Testing.chart();
    new ExternalSecret(chart, 'Db', { name: 'db', store: SecretStoreRef.namespaced('local'), data: DATA, apiVersion: ExternalSecretApiVersion.V1BETA1 });
    const [obj] = Testing.synth(chart);
    expect(obj.apiVersion).toBe('external-secrets.io/v1beta1');
    expect(obj.spec.refreshInterval).toBe('1h');
    expect(obj.spec.secretStoreRef).toEqual({ kind: 'SecretStore', name: 'local' });
    expect(() => new ExternalSecretModel(obj).validate()).not.toThrow();
  });

  test('the schema validation rejects what the CRD rejects (it is not a no-op)', () => {
    const chart = Testing.chart();
    new ExternalSecret(chart, 'Db', { name: 'db', store: STORE, data: DATA });
    const [obj] = Testing.synth(chart);
    const broken = { ...obj, spec: { ...obj.spec, target: { ...obj.spec.target, creationPolicy: 'Sometimes' } } };
    expect(() => validateExternalSecret(broken)).toThrow(/creationPolicy must be equal to one of the allowed values/);
  });

  test.each([
    [{ data: {} }, 'ExternalSecret db: data must map at least one Secret key to a remote key, got {}'],
    [{ data: { 'bad key': { key: 'x' } } }, 'ExternalSecret db: data keys must be a Secret key ([-._a-zA-Z0-9]+, at most 253 characters), got "bad key"'],
    [{ data: { url: { key: ' ' } } }, 'ExternalSecret db: data.url.key must be a non-empty remote key, got " "'],
  ])('throws on bad data %j', (patch, message) => {
    expect(() => new ExternalSecret(Testing.chart(), 'Db', { name: 'db', store: STORE, ...patch })).toThrow(message);
  });
});

describe('CredentialsSecret', () => {
  test('from an existing Secret creates no object and hands out single keys as secretKeyRef', () => {
    // GIVEN
    const chart = Testing.chart();
    const creds = new CredentialsSecret(chart, 'Db', { name: 'db-credentials', keys: ['postgres-url', 'redis-url'], source: SecretSource.existingSecret() });
    const deployment = new kplus.Deployment(chart, 'App', { containers: [{ image: 'app:v1' }] });
    // WHEN
    deployment.containers[0].env.addVariable('POSTGRES_URL', creds.envValue('postgres-url'));
    // THEN
    const objs = Testing.synth(chart);
    expect(objs.map((o) => o.kind)).toEqual(['Deployment']);
    expect(objs[0].spec.template.spec.containers[0].env).toEqual([
      { name: 'POSTGRES_URL', valueFrom: { secretKeyRef: { key: 'postgres-url', name: 'db-credentials' } } },
    ]);
    expect(creds.externalSecret).toBeUndefined();
  });

  test('throws on a key that is not a valid Secret key', () => {
    expect(() => new CredentialsSecret(Testing.chart(), 'Db', { name: 'db-credentials', keys: ['postgres url'], source: SecretSource.existingSecret() }))
      .toThrow('CredentialsSecret db-credentials: keys must be a Secret key ([-._a-zA-Z0-9]+, at most 253 characters), got "postgres url"');
  });

  test('throws when a key it does not hold is requested', () => {
    const creds = new CredentialsSecret(Testing.chart(), 'Db', { name: 'db-credentials', keys: ['postgres-url'], source: SecretSource.existingSecret() });
    expect(() => creds.envValue('neo4j-uri')).toThrow('CredentialsSecret db-credentials: key must be one of its keys (postgres-url), got "neo4j-uri"');
  });

  test('from an external secret store needs a remote key for exactly its keys', () => {
    const source = SecretSource.externalSecret({ store: STORE, remoteRefs: { 'postgres-url': { key: 'a' }, 'mysql-url': { key: 'b' } } });
    expect(() => new CredentialsSecret(Testing.chart(), 'Db', { name: 'db-credentials', keys: ['postgres-url', 'redis-url'], source }))
      .toThrow('CredentialsSecret db-credentials: remoteRefs must map exactly the keys postgres-url, redis-url (missing: redis-url; unknown: mysql-url), got ["postgres-url","mysql-url"]');
  });
});

describe('the secret guard', () => {
  test('rejects a Secret with literal stringData before anything is rendered, naming it and what to do', () => {
    // GIVEN a chart with a literal Secret, as the seed wrote it
    const app = Testing.app();
    const chart = new Chart(app, 'staging', { namespace: 'shop' });
    new kplus.Secret(chart, 'Db', { metadata: { name: 'db-credentials' } })
      .addStringData('postgres-url', 'postgresql://user:${POSTGRES_PASSWORD}@postgres:5432/db');
    // WHEN / THEN
    expect(() => renderTree(synthesizeCharts(app))).toThrow(
      'refusing to write a Secret with values. Secret values must never be in the manifests or dist/: materialize the Secret '
      + 'with an ExternalSecret, or create it out of band and only reference it (README "Secrets"):\n'
      + '  - staging: Secret db-credentials has literal stringData (keys: postgres-url)');
  });

  test('rejects literal data in every environment at once, and lets a Secret without values through', () => {
    const literal = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { password: 'aHVudGVyMg==' } });
    expect(() => renderTree(new Map([['staging', [literal('a')]], ['production', [literal('b')]]]))).toThrow(
      'refusing to write 2 Secrets with values. Secret values must never be in the manifests or dist/: materialize the Secret '
      + 'with an ExternalSecret, or create it out of band and only reference it (README "Secrets"):\n'
      + '  - staging: Secret a has literal data (keys: password)\n'
      + '  - production: Secret b has literal data (keys: password)');
    const shell = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shell' }, data: {} };
    expect([...renderTree(new Map([['production', [shell]]])).keys()]).toEqual(['production/20-secret-shell.yaml']);
  });
  test('rejects a credential-looking value in any object at synth time, e.g. a password in a ConfigMap', () => {
    const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { dsn: 'postgresql://app:hunter2@postgres:5432/app' } };
    expect(() => renderTree(new Map([['staging', [config]]]))).toThrow(
      'refusing to write 1 credential-looking value (values belong in a secret store, not in manifests):\n'
      + '  - staging/28-configmap-app-config.yaml:7 URI with a password (scheme://user:password@host)');
  });
});

describe('credential scan', () => {
  test('finds nothing credential-looking anywhere in dist/', () => {
    const tree = readTree(path.join(ROOT, 'dist'));
    expect([...new Set([...tree.keys()].map((f) => f.split('/')[0]))].sort()).toEqual(ENVIRONMENTS.map((e) => e.name).sort());
    const findings = [...tree].flatMap(([file, content]) => findCredentialLikeValues(content).map((f) => `${file}:${f.line} ${f.rule}`));
    expect(findings).toEqual([]);
  });

  test.each([
    ['postgres-url: "postgresql://soundcore_user:s3cr3t-Pa55@postgres.soundcore-kcp-prod.svc.cluster.local:5432/soundcore_kcp"', 'URI with a password'],
    ['redis-url: "redis://:hunter2@redis:6379"', 'URI with a password'],
    ['neo4j-uri: "bolt://neo4j:${NEO4J_PASSWORD}@neo4j:7687"', 'unsubstituted ${VARIABLE} placeholder'],
    ['DATABASE_URL: host=db user=app password=hunter2', 'password assignment'],
    ['  password: hunter2', 'password field with a value'],
    ['  postgres-url: cG9zdGdyZXNxbDovL3VzZXI6cGFzc0Bob3N0OjU0MzIvZGI=', 'long base64 value'],
    ['-----BEGIN RSA PRIVATE KEY-----', 'private key'],
    ['token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc', 'JSON web token'],
  ])('flags %s', (line, rule) => {
    expect(findCredentialLikeValues(`ok: 1\n${line}\n`).map((f) => `${f.line} ${f.rule}`)).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^2 ${rule.replace(/[$.*+?^(){}|[\]\\]/g, '\\$&')}`))]));
  });

  test.each([
    'image: registry.gitlab.com/soundcore/kcp/frontend:3f9c2a1e7b6d4c0a9e8f7d6c5b4a39281706f5e4',
    'secretKeyRef: { key: postgres-url, name: db-credentials }',
    'api_base_url: https://api.soundcore-kcp.com',
    'url: postgresql://postgres.soundcore-kcp-prod.svc.cluster.local:5432/soundcore_kcp',
    'key: soundcore-kcp/production/db-credentials',
  ])('does not flag %s', (line) => {
    expect(findCredentialLikeValues(line)).toEqual([]);
  });
});

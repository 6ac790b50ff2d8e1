import { validateObjects } from '../../validate';
import { Conventions } from '../../constructs';

/** The annotation under a platform's own domain: the gate knows no domain, it finds `secrets.<any domain>/provided-out-of-band`. */
const OUT_OF_BAND_SECRETS_ANNOTATION = new Conventions({ annotationDomain: 'shop.example.com' }).annotationKey('outOfBandSecrets');
import { checkConfigReferences, checkNamespaces, checkOutOfBandSecretsAnnotation } from '../../validate/references';
import { Body, environment, goodObjects, goodWith, goodWithout, lines, objectOf } from './helpers';

const WEB = 'shop/48-deployment-web-blue.yaml';
const API = 'shop/48-deployment-api.yaml';
const CRON = 'shop/64-cronjob-cleanup.yaml';
const C0 = 'spec.template.spec.containers[0]';
const NS = 'shop/00-namespace-shop.yaml';

describe('ConfigMap and Secret references', () => {
  test('resolve in the good fixture: ConfigMap keys, a Secret, an ExternalSecret target, optional references', () => {
    expect(lines(checkConfigReferences(environment(goodObjects())))).toEqual([]);
  });

  test('reports a ConfigMap that is not in the output', () => {
    const env = environment(goodWithout('shop/28-configmap-app-config.yaml'));
    expect(lines(checkConfigReferences(env))).toEqual([
      `${API} Deployment shop/api ${C0}.envFrom[0].configMapRef.name: ConfigMap "app-config" in namespace shop is not in the output; pods would fail to start (mark the reference optional if that is intended) [reference/config-map]`,
      `${WEB} Deployment shop/web-blue ${C0}.env[0].valueFrom.configMapKeyRef.name: ConfigMap "app-config" in namespace shop is not in the output; pods would fail to start (mark the reference optional if that is intended) [reference/config-map]`,
      'shop/48-deployment-web-green.yaml Deployment shop/web-green spec.template.spec.containers[0].env[0].valueFrom.configMapKeyRef.name: ConfigMap "app-config" in namespace shop is not in the output; pods would fail to start (mark the reference optional if that is intended) [reference/config-map]',
    ]);
  });

  test('reports a ConfigMap key that is not in the ConfigMap', () => {
    const env = environment(goodWith(WEB, (d) => { d.spec.template.spec.containers[0].env[0].valueFrom.configMapKeyRef.key = 'api_url'; }));
    expect(lines(checkConfigReferences(env))).toEqual([
      `${WEB} Deployment shop/web-blue ${C0}.env[0].valueFrom.configMapKeyRef.key: key "api_url" is not in ConfigMap "app-config" (its keys: api_base_url, log_level) [reference/config-map]`,
    ]);
  });

  test('reports a Secret that is neither a Secret object nor an ExternalSecret target', () => {
    const env = environment(goodWithout('shop/24-externalsecret-db-credentials.yaml'));
    expect(lines(checkConfigReferences(env))).toEqual([
      `${API} Deployment shop/api ${C0}.env[0].valueFrom.secretKeyRef.name: Secret "db-credentials" in namespace shop is not in the output (neither a Secret nor an ExternalSecret creating it); pods would fail to start (mark the reference optional if that is intended) [reference/secret]`,
      `${CRON} CronJob shop/cleanup spec.jobTemplate.spec.template.spec.containers[0].envFrom[0].secretRef.name: Secret "db-credentials" in namespace shop is not in the output (neither a Secret nor an ExternalSecret creating it); pods would fail to start (mark the reference optional if that is intended) [reference/secret]`,
    ]);
  });

  test('accepts a Secret the Namespace declares as created out of band, and checks its keys', () => {
    const declared = (keys: string[]) => (ns: Body) => {
      ns.metadata.annotations = { [OUT_OF_BAND_SECRETS_ANNOTATION]: JSON.stringify({ 'db-credentials': keys }) };
    };
    const without = (objects: ReturnType<typeof goodObjects>) => objects.filter((o) => o.file !== 'shop/24-externalsecret-db-credentials.yaml');
    expect(lines(checkConfigReferences(environment(without(goodWith(NS, declared(['postgres-url']))))))).toEqual([]);
    expect(lines(checkConfigReferences(environment(without(goodWith(NS, declared(['redis-url']))))))).toEqual([
      `${API} Deployment shop/api ${C0}.env[0].valueFrom.secretKeyRef.key: key "postgres-url" is not in Secret "db-credentials" (its keys: redis-url) [reference/secret]`,
    ]);
  });

  test('ignores an annotation of that name outside the library\'s `secrets.<domain>/` prefix', () => {
    // GIVEN the Secret declared under a key with the right name but another group, and one without a domain
    const env = (key: string) => environment(goodWith(NS, (ns: Body) => { ns.metadata.annotations = { [key]: JSON.stringify({ 'db-credentials': ['postgres-url'] }) }; })
      .filter((o) => o.file !== 'shop/24-externalsecret-db-credentials.yaml'));
    // THEN the reference is still reported as missing
    for (const key of ['networking.shop.example.com/provided-out-of-band', 'secrets/provided-out-of-band', 'secrets.shop.example.com/provided-out-of-band/x']) {
      expect(lines(checkConfigReferences(env(key)))).toHaveLength(2);
    }
    expect(lines(checkConfigReferences(env(OUT_OF_BAND_SECRETS_ANNOTATION)))).toEqual([]);
  });

  test('reports a malformed out-of-band Secrets annotation instead of trusting it', () => {
    const env = environment(goodWith(NS, (ns: Body) => { ns.metadata.annotations = { [OUT_OF_BAND_SECRETS_ANNOTATION]: 'db-credentials' }; }));
    expect(lines(checkOutOfBandSecretsAnnotation(env))).toEqual([
      `${NS} Namespace shop metadata.annotations["secrets.shop.example.com/provided-out-of-band"]: must be JSON mapping Secret names to their keys, e.g. {"db-credentials":["postgres-url"]} [reference/out-of-band-secrets]`,
    ]);
  });

  test('reports a key the ExternalSecret does not put in its target Secret', () => {
    const env = environment(goodWith(API, (d) => { d.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.key = 'mongodb-uri'; }));
    expect(lines(checkConfigReferences(env))).toEqual([
      `${API} Deployment shop/api ${C0}.env[0].valueFrom.secretKeyRef.key: key "mongodb-uri" is not in Secret "db-credentials" (its keys: postgres-url) [reference/secret]`,
    ]);
  });

  test('accepts any key of an ExternalSecret whose keys come from dataFrom', () => {
    const objects = goodWith('shop/24-externalsecret-db-credentials.yaml', (e) => { e.spec.dataFrom = [{ extract: { key: 'shop/database' } }]; });
    const env = environment(objects.map((o) => (o.file === API ? goodWith(API, (d) => {
      d.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.key = 'anything';
    }).find((x) => x.file === API)! : o)));
    expect(lines(checkConfigReferences(env))).toEqual([]);
  });

  test('does not count an ExternalSecret that only merges into an existing Secret', () => {
    const env = environment(goodWith('shop/24-externalsecret-db-credentials.yaml', (e) => { e.spec.target.creationPolicy = 'Merge'; }));
    expect(lines(checkConfigReferences(env)).map((l) => l.split(': ')[0])).toEqual([
      `${API} Deployment shop/api ${C0}.env[0].valueFrom.secretKeyRef.name`,
      `${CRON} CronJob shop/cleanup spec.jobTemplate.spec.template.spec.containers[0].envFrom[0].secretRef.name`,
    ]);
  });

  test('reports keys of volume items, including projected volumes', () => {
    const env = environment(goodWith(API, (d) => {
      d.spec.template.spec.volumes[0].projected.sources[0].secret.items[0].key = 'tokn';
      d.spec.template.spec.volumes.push({ name: 'config', configMap: { name: 'app-config', items: [{ key: 'missing', path: 'x' }] } });
    }));
    expect(lines(checkConfigReferences(env))).toEqual([
      `${API} Deployment shop/api spec.template.spec.volumes[0].projected.sources[0].secret.items[0].key: key "tokn" is not in Secret "api-token" (its keys: token) [reference/secret]`,
      `${API} Deployment shop/api spec.template.spec.volumes[1].configMap.items[0].key: key "missing" is not in ConfigMap "app-config" (its keys: api_base_url, log_level) [reference/config-map]`,
    ]);
  });

  test('reports a secret volume naming a Secret of another namespace', () => {
    const env = environment(goodWith(API, (d) => { d.spec.template.spec.volumes.push({ name: 'tls', secret: { secretName: 'shop-tls' } }); }));
    expect(lines(checkConfigReferences(env))).toEqual([
      `${API} Deployment shop/api spec.template.spec.volumes[1].secret.secretName: Secret "shop-tls" in namespace shop is not in the output (neither a Secret nor an ExternalSecret creating it); pods would fail to start (mark the reference optional if that is intended) [reference/secret]`,
    ]);
  });
});

describe('Namespaces', () => {
  test('every namespaced object of the good fixture is in a Namespace of the output', () => {
    expect(lines(checkNamespaces(environment(goodObjects())))).toEqual([]);
  });

  test('reports a namespace that is not in the output', () => {
    const env = environment(goodWith('shop/28-configmap-app-config.yaml', (c) => { c.metadata.namespace = 'shopp'; }));
    expect(lines(checkNamespaces(env))).toEqual([
      'shop/28-configmap-app-config.yaml ConfigMap shopp/app-config metadata.namespace: Namespace "shopp" is not in the output (Namespaces there: shop) [namespace/exists]',
    ]);
  });

  test('reports a namespaced object without a namespace', () => {
    const env = environment(goodWith('shop/28-configmap-app-config.yaml', (c) => { delete c.metadata.namespace; }));
    expect(lines(checkNamespaces(env))).toEqual([
      'shop/28-configmap-app-config.yaml ConfigMap app-config metadata.namespace: is required: ConfigMap is namespaced, and without it kubectl applies it to whatever namespace the current context uses [namespace/exists]',
    ]);
  });

  test('warns about a namespace on a cluster-scoped object, and knows cluster-scoped custom resources', () => {
    const store = objectOf({
      apiVersion: 'external-secrets.io/v1beta1', kind: 'ClusterSecretStore', metadata: { name: 'vault', namespace: 'shop' },
      spec: { provider: { fake: { data: [] } } },
    }, 'shop/store.yaml');
    expect(lines(checkNamespaces(environment([...goodObjects(), store])))).toEqual([
      'shop/store.yaml ClusterSecretStore shop/vault metadata.namespace: warning: is ignored: ClusterSecretStore is cluster-scoped [namespace/cluster-scoped]',
    ]);
  });
});

describe('an object whose apiVersion has no schema', () => {
  test('is reported once and still provides what it creates, so references to it are not reported too', () => {
    // GIVEN the ExternalSecret written as external-secrets.io/v2, which neither the CRD package nor an alias serves
    const objects = goodWith('shop/24-externalsecret-db-credentials.yaml', (e) => { e.apiVersion = 'external-secrets.io/v2'; });
    // WHEN the whole gate runs THEN the only finding is the unknown apiVersion
    expect(lines(validateObjects(objects))).toEqual([
      'shop/24-externalsecret-db-credentials.yaml ExternalSecret shop/db-credentials kind: ExternalSecret is not served as external-secrets.io/v2 by Kubernetes 1.28 or the registered CRDs; it exists as external-secrets.io/v1, external-secrets.io/v1alpha1, external-secrets.io/v1beta1 [schema/unknown-kind]',
    ]);
  });
});

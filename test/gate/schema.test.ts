import * as fs from 'fs';
import * as path from 'path';
import {
  FIELD_DELTAS, KUBERNETES_KINDS, SCHEMA_SOURCE, SchemaRegistry,
} from '../../validate';
import { modelValidator } from '../../validate/registry';
import { checkSchema, declaredFields } from '../../validate/schema';
import { Body, goodObjects, goodWith, lines, manifest, objectOf } from './helpers';

const WEB = 'shop/48-deployment-web-blue.yaml';
const CONTAINER = 'spec.template.spec.containers[0]';

function schemaLines(file: string, change: (body: Body) => void): string[] {
  const object = goodWith(file, change).find((o) => o.file === file)!;
  return lines(checkSchema(object));
}

describe('strict schema validation', () => {
  test('accepts every object of the good fixture, built-in and custom', () => {
    // GIVEN a valid environment using Deployments, Services, HPA, PDB, NetworkPolicy, Ingress, Job, CronJob and CRDs
    const objects = goodObjects();
    // WHEN each is validated THEN nothing is reported
    expect(objects.flatMap((o) => lines(checkSchema(o)))).toEqual([]);
  });

  test('reports an unknown field deep in a pod template, suggesting the field meant', () => {
    expect(schemaLines(WEB, (d) => { d.spec.template.spec.containers[0].imagePullPolicyy = 'IfNotPresent'; })).toEqual([
      `${WEB} Deployment shop/web-blue ${CONTAINER}.imagePullPolicyy: unknown field (did you mean "imagePullPolicy"?) [schema/unknown-field]`,
    ]);
  });

  test('reports an unknown top-level field and does not look inside it', () => {
    expect(schemaLines(WEB, (d) => { d.specs = { replicas: 'x' }; })).toEqual([
      `${WEB} Deployment shop/web-blue specs: unknown field (did you mean "spec"?) [schema/unknown-field]`,
    ]);
  });

  test('reports an unknown field in a custom resource, validated against its CRD schema', () => {
    const file = 'shop/90-servicemonitor-api.yaml';
    expect(schemaLines(file, (m) => { m.spec.endpoints[0].intervall = '30s'; })).toEqual([
      `${file} ServiceMonitor shop/api spec.endpoints[0].intervall: unknown field (did you mean "interval"?) [schema/unknown-field]`,
    ]);
  });

  test('accepts any keys in maps and free-form fields (labels, annotations, ConfigMap data)', () => {
    const file = 'shop/28-configmap-app-config.yaml';
    expect(schemaLines(file, (c) => {
      c.metadata.labels = { 'anything.example.com/goes': 'yes' };
      c.metadata.annotations = { 'note': 'free text' };
      c.data.another_key = 'value';
    })).toEqual([]);
  });

  test('reports a wrong type with the value it got', () => {
    expect(schemaLines(WEB, (d) => { d.spec.replicas = '2'; })).toEqual([
      `${WEB} Deployment shop/web-blue spec.replicas: must be an integer, got string "2" [schema/type]`,
    ]);
  });

  test('reads YAML as kubectl does (1.1): an unquoted yes is a boolean, so a string field rejects it', () => {
    const object = manifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\ndata:\n  enabled: yes\n', 'env/c.yaml');
    expect(lines(checkSchema(object))).toEqual([
      'env/c.yaml ConfigMap shop/c data.enabled: must be a string, got boolean true [schema/type]',
    ]);
  });

  test('reports a value outside an enum with the allowed values', () => {
    expect(schemaLines(WEB, (d) => { d.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes'; })).toEqual([
      `${WEB} Deployment shop/web-blue ${CONTAINER}.imagePullPolicy: must be one of "Always", "IfNotPresent", "Never", got "Sometimes" [schema/value]`,
    ]);
  });

  test('reports a missing required field at the path of that field', () => {
    expect(schemaLines(WEB, (d) => { delete d.spec.template.spec.containers[0].name; })).toEqual([
      `${WEB} Deployment shop/web-blue ${CONTAINER}.name: is required [schema/required-field]`,
    ]);
  });

  test('accepts int-or-string fields as integers or strings, as the API server does', () => {
    expect(schemaLines(WEB, (d) => {
      d.spec.strategy.rollingUpdate.maxSurge = 1;
      d.spec.template.spec.containers[0].readinessProbe.httpGet.port = 3000;
    })).toEqual([]);
  });

  test('rejects an int-or-string field that is neither, once, not once per alternative', () => {
    expect(schemaLines(WEB, (d) => { d.spec.strategy.rollingUpdate.maxSurge = 1.5; })).toEqual([
      `${WEB} Deployment shop/web-blue spec.strategy.rollingUpdate.maxSurge: must be an integer or a string, got number 1.5 [schema/type]`,
    ]);
  });

  test('accepts quantities the API server accepts: suffixes, exponents, plain numbers', () => {
    expect(schemaLines(WEB, (d) => {
      d.spec.template.spec.containers[0].resources = { requests: { cpu: 0.5, memory: '1e9' }, limits: { cpu: '+1.', memory: '1.5Gi' } };
    })).toEqual([]);
  });

  test('rejects quantities the API server rejects, including SI prefixes kubernetes-models lets through', () => {
    expect(schemaLines(WEB, (d) => {
      d.spec.template.spec.containers[0].resources = { requests: { cpu: '100 m', memory: '100d' }, limits: { cpu: true, memory: '1GB' } };
    })).toEqual([
      `${WEB} Deployment shop/web-blue ${CONTAINER}.resources.limits.cpu: must be a quantity (a number, or a string such as "250m", "1.5" or "512Mi"), got boolean true [schema/type]`,
      `${WEB} Deployment shop/web-blue ${CONTAINER}.resources.limits.memory: must be a quantity (a number, or a string such as "250m", "1.5" or "512Mi"), got string "1GB" [schema/type]`,
      `${WEB} Deployment shop/web-blue ${CONTAINER}.resources.requests.cpu: must be a quantity (a number, or a string such as "250m", "1.5" or "512Mi"), got string "100 m" [schema/type]`,
      `${WEB} Deployment shop/web-blue ${CONTAINER}.resources.requests.memory: must be a quantity (a number, or a string such as "250m", "1.5" or "512Mi"), got string "100d" [schema/type]`,
    ]);
  });

  test('reports a field that later Kubernetes releases have but 1.28 does not', () => {
    expect(schemaLines(WEB, (d) => { d.spec.template.spec.containers[0].securityContext.appArmorProfile = { type: 'RuntimeDefault' }; })).toEqual([
      `${WEB} Deployment shop/web-blue ${CONTAINER}.securityContext.appArmorProfile: is not part of the Kubernetes 1.28 API (SecurityContext gained it in a later release) [schema/field-not-in-1.28]`,
    ]);
  });

  test('accepts a 1.28 field the compiled validator cannot see (PriorityClass description)', () => {
    const object = manifest('apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\nvalue: 1000\ndescription: for the API\n');
    expect(lines(checkSchema(object))).toEqual([]);
  });
});

describe('unknown apiVersion or kind', () => {
  const unknown = (apiVersion: string, kind: string) =>
    lines(checkSchema(manifest(`apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: x\n`, 'env/x.yaml')));

  test('names the apiVersion that serves a kind removed from 1.28', () => {
    expect(unknown('policy/v1beta1', 'PodDisruptionBudget')).toEqual([
      'env/x.yaml PodDisruptionBudget x kind: PodDisruptionBudget is not served as policy/v1beta1 by Kubernetes 1.28 or the registered CRDs; it exists as policy/v1 [schema/unknown-kind]',
    ]);
  });

  test('rejects an API added after 1.28 even though the package has its model', () => {
    expect(unknown('flowcontrol.apiserver.k8s.io/v1', 'FlowSchema')).toEqual([
      'env/x.yaml FlowSchema x kind: FlowSchema is not served as flowcontrol.apiserver.k8s.io/v1 by Kubernetes 1.28 or the registered CRDs; '
        + 'it exists as flowcontrol.apiserver.k8s.io/v1beta2, flowcontrol.apiserver.k8s.io/v1beta3 [schema/unknown-kind]',
    ]);
  });

  test('suggests the kind meant for a typo and lists the kinds of the apiVersion', () => {
    expect(unknown('apps/v1', 'Deploymnet')).toEqual([
      'env/x.yaml Deploymnet x kind: unknown kind "Deploymnet" in apps/v1 (did you mean Deployment?); its kinds are ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet [schema/unknown-kind]',
    ]);
  });

  test('names the versions of a known CRD group', () => {
    expect(unknown('monitoring.coreos.com/v2', 'Dashboard')).toEqual([
      'env/x.yaml Dashboard x kind: unknown apiVersion "monitoring.coreos.com/v2"; group monitoring.coreos.com exists as monitoring.coreos.com/v1, monitoring.coreos.com/v1alpha1 [schema/unknown-kind]',
    ]);
  });

  test('says how to register a CRD package for an unknown group', () => {
    expect(unknown('cert-manager.io/v1', 'Certificate')).toEqual([
      'env/x.yaml Certificate x kind: no schema for cert-manager.io/v1 Certificate: not a Kubernetes 1.28 API and no registered CRD package serves group "cert-manager.io" (register its @kubernetes-models package in validate/crds.ts) [schema/unknown-kind]',
    ]);
  });
});

describe('schema sources', () => {
  const registry = SchemaRegistry.default();

  test('record the package and the Kubernetes version its schemas come from', () => {
    expect(SCHEMA_SOURCE).toEqual({
      package: 'kubernetes-models',
      version: '4.5.1',
      generatedFrom: expect.stringContaining('Kubernetes v1.33.0'),
    });
    // the recorded version is the installed one
    const installed = path.join(path.dirname(require.resolve('kubernetes-models')), 'package.json');
    expect(JSON.parse(fs.readFileSync(installed, 'utf8')).version).toBe(SCHEMA_SOURCE.version);
  });

  test('refuses a model module whose classes are of another kind, instead of validating with the wrong model', () => {
    expect(() => modelValidator('kubernetes-models/apps/v1/Deployment', 'apps/v1', 'StatefulSet'))
      .toThrow('kubernetes-models/apps/v1/Deployment exports no model of apps/v1 StatefulSet');
  });

  test('every Kubernetes 1.28 kind has a model whose apiVersion and kind match', () => {
    for (const [apiVersion, kinds] of Object.entries(KUBERNETES_KINDS)) {
      for (const kind of kinds) {
        const entry = registry.lookup(apiVersion, kind)!;
        expect([apiVersion, kind, typeof registry.validator(entry)]).toEqual([apiVersion, kind, 'function']);
      }
    }
  });

  test('reports unknown fields in objects whose schema also bounds their number of keys (minProperties)', () => {
    const es = objectOf({
      apiVersion: 'external-secrets.io/v1beta1', kind: 'ExternalSecret', metadata: { name: 'gen', namespace: 'shop' },
      spec: { secretStoreRef: { kind: 'ClusterSecretStore', name: 'vault' }, target: { name: 'gen' },
        dataFrom: [{ sourceRef: { generatorReff: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: 'p' } } }] },
    }, 'shop/24-externalsecret-gen.yaml');
    expect(lines(checkSchema(es))).toEqual([
      'shop/24-externalsecret-gen.yaml ExternalSecret shop/gen spec.dataFrom[0].sourceRef.generatorReff: unknown field (did you mean "generatorRef"?) [schema/unknown-field]',
    ]);
    const store = objectOf({
      apiVersion: 'external-secrets.io/v1beta1', kind: 'ClusterSecretStore', metadata: { name: 'vault' },
      spec: { provider: { vualt: { server: 'https://vault.example.com', auth: { tokenSecretRef: { name: 't', key: 'k' } } } } },
    }, 'cluster/90-clustersecretstore-vault.yaml');
    expect(lines(checkSchema(store)).join('\n')).toContain('spec.provider.vualt: unknown field');
  });

  test('validates external-secrets.io/v1 objects with the v1beta1 schema: a valid one passes, an unknown field is reported', () => {
    const es = 'shop/24-externalsecret-db-credentials.yaml';
    const v1 = goodWith(es, (b: Body) => { b.apiVersion = 'external-secrets.io/v1'; }).find((o) => o.file === es)!;
    expect(lines(checkSchema(v1))).toEqual([]);
    const typo = goodWith(es, (b: Body) => { b.apiVersion = 'external-secrets.io/v1'; b.spec.secretStore = b.spec.secretStoreRef; }).find((o) => o.file === es)!;
    expect(lines(checkSchema(typo))).toEqual([
      `${es} ExternalSecret shop/db-credentials spec.secretStore: unknown field [schema/unknown-field]`,
    ]);
  });

  test('custom resources come from the registered packages, every version they ship', () => {
    expect(registry.versionsOf('ServiceMonitor')).toEqual(['monitoring.coreos.com/v1']);
    expect(registry.versionsOf('PrometheusRule')).toEqual(['monitoring.coreos.com/v1']);
    expect(registry.versionsOf('ExternalSecret')).toEqual(['external-secrets.io/v1', 'external-secrets.io/v1alpha1', 'external-secrets.io/v1beta1']);
    expect(registry.lookup('external-secrets.io/v1', 'ExternalSecret')?.validatedAs).toBe('external-secrets.io/v1beta1');
    expect(registry.lookup('external-secrets.io/v1beta1', 'ClusterSecretStore')?.namespaced).toBe(false);
    expect(registry.lookup('monitoring.coreos.com/v1', 'ServiceMonitor')?.source).toBe('@kubernetes-models/prometheus-operator@4.4.4');
  });

  test.each(FIELD_DELTAS.map((d) => [d.type, d] as const))('the 1.28 delta of %s still matches the package', (_type, delta) => {
    // GIVEN the fields the package's validator of that type declares
    const declared = declaredFields(modelValidator(`kubernetes-models/${delta.type}`));
    // THEN fields newer than 1.28 are among them (else the entry is stale), 1.28 fields it cannot see are not
    expect((delta.notIn128 ?? []).filter((f) => !declared.has(f))).toEqual([]);
    expect((delta.unchecked ?? []).filter((f) => declared.has(f))).toEqual([]);
  });

  test('no two delta types declare the same fields (a traced object maps to one type)', () => {
    const signatures = FIELD_DELTAS.map((d) => [...declaredFields(modelValidator(`kubernetes-models/${d.type}`))].sort().join(','));
    expect(new Set(signatures).size).toBe(FIELD_DELTAS.length);
  });
});

describe('a broken schema source', () => {
  test('is reported as a finding on the object, not a crash', () => {
    // GIVEN a registry whose model for v1 Widget cannot be loaded
    const registry = new SchemaRegistry([{ apiVersion: 'v1', kind: 'Widget', module: 'kubernetes-models/v1/NoSuchWidget', namespaced: true, source: 'test' }]);
    const object = manifest('apiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n', 'env/w.yaml');
    // WHEN it is validated THEN the failure names the module
    expect(lines(checkSchema(object, registry))).toEqual([
      expect.stringMatching(/^env\/w\.yaml Widget w: the kubernetes-models\/v1\/NoSuchWidget validator failed: .*NoSuchWidget.* \[schema\/validator-failed\]$/),
    ]);
  });
});

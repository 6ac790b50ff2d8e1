import { Testing } from 'cdk8s';
import { SecureNamespace } from '../constructs/namespace';

describe('SecureNamespace', () => {
  test('enforces restricted Pod Security and is cluster-scoped even inside a namespaced chart', () => {
    const chart = Testing.chart();
    new SecureNamespace(chart, 'Ns', { name: 'shop', labels: { team: 'shop' } });
    const [ns] = Testing.synth(chart);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(ns.metadata.namespace).toBeUndefined();
  });
});

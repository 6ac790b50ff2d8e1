import { Address, Cluster, inCidr, isAllowed, Pod, Policy, tcp, udp } from './netpol';

// The evaluator's own semantics, on hand-written policies: the traffic matrix tests rely on it.

const ns = (name: string) => ({ [name]: { 'kubernetes.io/metadata.name': name } });
const NAMESPACES = { ...ns('shop'), ...ns('ingress-nginx'), ...ns('kube-system'), ...ns('other') };

const frontend: Pod = { kind: 'pod', name: 'frontend', namespace: 'shop', labels: { app: 'frontend' } };
const api: Pod = { kind: 'pod', name: 'api', namespace: 'shop', labels: { app: 'api' } };
const db: Pod = { kind: 'pod', name: 'db', namespace: 'shop', labels: { app: 'db' } };
const controller: Pod = { kind: 'pod', name: 'controller', namespace: 'ingress-nginx', labels: { app: 'nginx-ingress' } };
const localLookalike: Pod = { kind: 'pod', name: 'lookalike', namespace: 'shop', labels: { app: 'nginx-ingress' } };
const dns: Pod = { kind: 'pod', name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
const otherApi: Pod = { kind: 'pod', name: 'other-api', namespace: 'other', labels: { app: 'api' } };
const database: Address = { kind: 'address', name: 'managed-db', ip: '10.20.0.7' };

function cluster(...policies: Policy[]): Cluster {
  return { namespaces: NAMESPACES, policies };
}

function policy(name: string, spec: Policy['spec'], namespace = 'shop'): Policy {
  return { metadata: { name, namespace }, spec };
}

/** The seed's frontend-network-policy, verbatim in substance. */
const SEED_FRONTEND = policy('frontend-network-policy', {
  podSelector: { matchLabels: { app: 'frontend' } },
  policyTypes: ['Ingress', 'Egress'],
  ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nginx-ingress' } } }], ports: [{ protocol: 'TCP', port: 3000 }] }],
  egress: [
    { to: [{ podSelector: { matchLabels: { app: 'knowledge-service' } } }], ports: [{ protocol: 'TCP', port: 8001 }] },
    { to: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ protocol: 'TCP', port: 8002 }] },
  ],
});

describe('NetworkPolicy evaluator', () => {
  test('allows everything between pods that no policy selects', () => {
    const c = cluster();
    expect(isAllowed(c, frontend, api, tcp(1234))).toBe(true);
    expect(isAllowed(c, api, database, tcp(5432))).toBe(true);
  });

  test('isolates a pod only in the directions a selecting policy names', () => {
    // GIVEN a policy selecting api for ingress only, with no rule
    const c = cluster(policy('deny-in', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'] }));
    // THEN nothing reaches api, but api still reaches anything
    expect(isAllowed(c, frontend, api, tcp(8002))).toBe(false);
    expect(isAllowed(c, api, db, tcp(5432))).toBe(true);
  });

  test('defaults policyTypes to Ingress, plus Egress when there are egress rules', () => {
    const ingressOnly = cluster(policy('p', { podSelector: {} }));
    expect(isAllowed(ingressOnly, frontend, api, tcp(80))).toBe(false);
    const withEgress = cluster(policy('p', {
      podSelector: { matchLabels: { app: 'frontend' } },
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'api' } } }] }],
    }));
    expect(isAllowed(withEgress, frontend, api, tcp(80))).toBe(true);
    expect(isAllowed(withEgress, frontend, db, tcp(80))).toBe(false);
  });

  test('allows the union of the rules of every policy selecting the pod', () => {
    const base = { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'] };
    const c = cluster(
      policy('from-frontend', { ...base, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ port: 8002 }] }] }),
      policy('from-db', { ...base, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'db' } } }] }] }),
    );
    expect(isAllowed(c, frontend, api, tcp(8002))).toBe(true);
    expect(isAllowed(c, frontend, api, tcp(8003))).toBe(false);
    expect(isAllowed(c, db, api, tcp(9999))).toBe(true);
  });

  test('needs both the egress of the source and the ingress of the target', () => {
    const c = cluster(
      policy('api-in', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }] }] }),
      policy('frontend-out', { podSelector: { matchLabels: { app: 'frontend' } }, policyTypes: ['Egress'] }),
    );
    expect(isAllowed(c, frontend, api, tcp(8002))).toBe(false);
  });

  test('matches a pod selector without namespace selector only in the policy namespace (the seed defect)', () => {
    const c = cluster(SEED_FRONTEND);
    expect(isAllowed(c, controller, frontend, tcp(3000))).toBe(false);
    expect(isAllowed(c, localLookalike, frontend, tcp(3000))).toBe(true);
  });

  test('cannot resolve names under the seed policy: its egress allows no DNS', () => {
    expect(isAllowed(cluster(SEED_FRONTEND), frontend, dns, udp(53))).toBe(false);
  });

  test('ANDs namespace and pod selectors in one peer, and ORs separate peers', () => {
    const and = cluster(policy('p', {
      podSelector: { matchLabels: { app: 'frontend' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: { matchLabels: { app: 'nginx-ingress' } } }] }],
    }));
    expect(isAllowed(and, controller, frontend, tcp(3000))).toBe(true);
    expect(isAllowed(and, localLookalike, frontend, tcp(3000))).toBe(false);
    expect(isAllowed(and, dns, frontend, tcp(3000))).toBe(false);

    const or = cluster(policy('p', {
      podSelector: { matchLabels: { app: 'frontend' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }, { podSelector: { matchLabels: { app: 'nginx-ingress' } } }] }],
    }));
    expect(isAllowed(or, localLookalike, frontend, tcp(3000))).toBe(true);
    expect(isAllowed(or, otherApi, frontend, tcp(3000))).toBe(false);
  });

  test('selects every pod of the chosen namespaces with a namespace selector alone', () => {
    const c = cluster(policy('p', {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['other'] }] } }] }],
    }));
    expect(isAllowed(c, otherApi, db, tcp(5432))).toBe(true);
    expect(isAllowed(c, controller, db, tcp(5432))).toBe(false);
  });

  test('matches ports by protocol (TCP by default), number and range', () => {
    const c = cluster(policy('p', {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Ingress'],
      ingress: [{ ports: [{ port: 53 }, { protocol: 'UDP', port: 5000, endPort: 5010 }] }],
    }));
    expect(isAllowed(c, frontend, api, tcp(53))).toBe(true);
    expect(isAllowed(c, frontend, api, udp(53))).toBe(false);
    expect(isAllowed(c, frontend, api, udp(5005))).toBe(true);
    expect(isAllowed(c, frontend, api, udp(5011))).toBe(false);
  });

  test('matches ipBlocks against addresses outside the cluster, honouring except', () => {
    expect(inCidr('10.20.0.7', '10.20.0.0/24')).toBe(true);
    expect(inCidr('10.20.1.7', '10.20.0.0/24')).toBe(false);
    const c = cluster(policy('p', {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.0.0/29'] } }] }],
    }));
    expect(isAllowed(c, api, { kind: 'address', name: 'ok', ip: '10.20.5.1' }, tcp(5432))).toBe(true);
    expect(isAllowed(c, api, database, tcp(5432))).toBe(false);
    expect(isAllowed(c, api, db, tcp(5432))).toBe(false);
  });

  test('throws on named ports rather than guessing', () => {
    const c = cluster(policy('p', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'http' }] }] }));
    expect(() => isAllowed(c, frontend, api, tcp(80))).toThrow('named port http is not supported by the evaluator');
  });
});

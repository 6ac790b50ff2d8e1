/**
 * Strict configuration: synthesis runs from a bundle that is never type-checked, so everything a
 * user writes (environment files, the catalogue, release state files) is checked at run time for
 * unknown keys at every depth and wrong types, then for the rules that need the values' meaning.
 * Every problem is reported at once, construct errors included, and nothing is written.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CATALOGUE, ComponentSpec, CONTENT_SERVICE, EnvironmentConfig, FRONTEND, KNOWLEDGE_SERVICE, MONGODB, ReleaseMode,
} from '../environments';
import { production } from '../environments/production';
import { staging } from '../environments/staging';
import { synthesize, writeManifests } from '../synth/pipeline';
import { readTree } from '../synth/output';
import { Action, initialRelease, initRelease, ReleaseError, transition } from '../release/state';
import { committedReleaseStates, configProblems } from './helpers';

const ENVIRONMENT_FIELDS = 'name, namespace, domains, tls, nodeEnv, logLevel, defaults, components, monitoring, network, secrets, guardrails, routing';
const PINNED = 'must be a pinned tag (a version like v1.4.2 or a commit SHA), not a floating branch-like tag '
  + '(main, master, develop, development, dev, trunk, head, stable, edge, ...): what it runs changes without a change here';

/** An environment with a careless edit the type checker would have refused (synthesis never type-checks). */
function edited(env: EnvironmentConfig, edit: (copy: Record<string, unknown>) => void): EnvironmentConfig {
  const copy = structuredClone(env) as unknown as Record<string, unknown>;
  edit(copy);
  return copy as unknown as EnvironmentConfig;
}

/** A writable path into a copy (`a.b.c`), creating nothing. */
function at(object: Record<string, unknown>, dotted: string): Record<string, unknown> {
  return dotted.split('.').reduce((o, key) => o[key] as Record<string, unknown>, object);
}

describe('misspelled keys are errors with the path and a suggestion, at every depth', () => {
  test('rejects "component:" for "components:" in production instead of dropping its overrides', () => {
    // GIVEN production with its component overrides under a misspelled key
    const typo = edited(production, (p) => {
      p.component = p.components;
      delete p.components;
    });
    // THEN both the unknown key (with the suggestion) and the missing one are named
    expect(configProblems([staging, typo])).toEqual([
      'production: components is required (an object)',
      `production: component is an unknown field; did you mean "components"? (fields here: ${ENVIRONMENT_FIELDS})`,
    ]);
  });

  test('writing manifests with that typo exits 1, names it, and leaves the output as it was', () => {
    // GIVEN a previous output
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcp-strict-'));
    try {
      fs.writeFileSync(path.join(dir, 'sentinel.yaml'), 'previous output');
      const typo = edited(production, (p) => {
        p.component = p.components;
        delete p.components;
      });
      const errors: string[] = [];
      // WHEN synthesizing with the typo
      const code = writeManifests({ releaseStates: committedReleaseStates, environments: [staging, typo], outdir: dir, err: (l) => errors.push(l), out: () => undefined });
      // THEN nothing is written and the message says so, without a stack trace
      expect(code).toBe(1);
      const message = errors.join('\n');
      expect(message).toContain('invalid configuration (2 problems)');
      expect(message).toContain('did you mean "components"?');
      expect(message).toContain('(the remaining rules of production are checked once its fields have the right types)');
      expect(message).not.toMatch(/\n\s+at /);
      expect(readTree(dir)).toEqual(new Map([['sentinel.yaml', 'previous output']]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ['a component override', 'components.knowledge-service', { resources: { request: { cpu: '1', memory: '1Gi' } } },
      'production/knowledge-service: resources.request is an unknown field; did you mean "requests"? (fields here: requests, limits)'],
    ['a probe timing in defaults', 'defaults.probes.liveness', { initialDelaySeconds: 30, periodSecond: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
      'production: defaults.probes.liveness.periodSecond is an unknown field; did you mean "periodSeconds"? '
      + '(fields here: initialDelaySeconds, periodSeconds, timeoutSeconds, failureThreshold)'],
    ['an alert tuning', 'monitoring', { alerts: { HighErrorRate: { treshold: 0.01 } } },
      'production: monitoring.alerts.HighErrorRate.treshold is an unknown field; did you mean "threshold"? (fields here: threshold, for, severity, team)'],
    ['a datastore location (one of two shapes)', 'network.datastores.postgres', { podLabel: { app: 'postgres' }, podLabels: { app: 'postgres' } },
      'production: network.datastores.postgres.podLabel is an unknown field; did you mean "podLabels"? (fields here: namespace, podLabels)'],
    ['the secrets block', 'secrets', { ...production.secrets, remoteRef: {} },
      'production: secrets.remoteRef is an unknown field; did you mean "remoteRefs"? (fields here: mode, store, remoteRefs, apiVersion)'],
    ['a key with nothing close', 'domains', { ...production.domains, colour: 'blue' },
      'production: domains.colour is an unknown field (fields here: frontend, api)'],
  ])('rejects an unknown key in %s', (_what, where, value, message) => {
    const env = edited(production, (p) => {
      const parts = where.split('.');
      const parent = parts.length === 1 ? p : at(p, parts.slice(0, -1).join('.'));
      parent[parts[parts.length - 1]] = value;
    });
    expect(configProblems([env])).toEqual([message]);
  });

  test('rejects an unknown key of a release state entry and of the catalogue', () => {
    const states = committedReleaseStates();
    const state = { ...(states.production as object), frontend: { ...initialRelease('v1.0.0'), phse: 'stable' } };
    expect(configProblems([production], CATALOGUE, { production: state })).toEqual([
      'production/frontend: production.release.json phse is an unknown field; did you mean "phase"? (fields here: active, phase, tags, previousTag, attempt, lastGood, failed, rollbackFrom, size, promotedAt)',
    ]);
    const catalogue = [{ ...FRONTEND, exposeMetrics: true } as ComponentSpec, ...CATALOGUE.slice(1)];
    expect(configProblems([staging], catalogue)).toEqual([
      'catalogue/frontend: exposeMetrics is an unknown field; did you mean "exposesMetrics"? (fields here: name, tier, containerPort, '
      + 'servicePort, healthPath, routes, writablePaths, smokePaths, exposesMetrics, calls, datastores)',
    ]);
  });
});

describe('values of the wrong type are refused before any rule runs', () => {
  test('reports every wrong type of an environment at once, with the value found', () => {
    const env = edited(staging, (s) => {
      s.logLevel = 'verbose';
      at(s, 'defaults').replicas = '2';
      at(s, 'defaults').autoscaling = true;
      at(s, 'components').frontend = { resources: { requests: { cpu: 0.5, memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } } };
      s.tls = { clusterIssuer: ['letsencrypt'], frontendSecretName: 'staging-tls', apiSecretName: 'staging-api-tls' };
    });
    expect(configProblems([env])).toEqual([
      'staging: tls.clusterIssuer must be a string, got ["letsencrypt"]',
      'staging: logLevel must be one of debug, info, warning, error, got "verbose"',
      'staging: defaults.replicas must be a number, got "2"',
      'staging: defaults.autoscaling must be an object, got true',
      'staging/frontend: resources.requests.cpu must be a string, got 0.5',
    ]);
  });

  test('names an environment that is not an object by its place in the registry', () => {
    expect(configProblems([staging, null as unknown as EnvironmentConfig])).toEqual(['environments[1]: (environment) must be an object, got null']);
  });

  test('cuts a huge value short in the message', () => {
    const [problem] = configProblems([{ ...staging, namespace: 'x'.repeat(10_000) }]);
    expect(problem).toMatch(/^staging: namespace must be a DNS-1123 label .*, got "x{99}… \(10002 characters\)$/);
  });

  test('rejects catalogue fields of the wrong type', () => {
    const catalogue = [...CATALOGUE.slice(0, 5), { ...CATALOGUE[5], writablePaths: '/tmp', containerPort: '8005' } as unknown as ComponentSpec];
    expect(configProblems([staging], catalogue)).toEqual([
      'catalogue/auth-service: containerPort must be a number, got "8005"',
      'catalogue/auth-service: writablePaths must be a list, got "/tmp"',
    ]);
  });
});

describe('rules across fields and environments', () => {
  test('container variables are unique, including those of the datastores', () => {
    const clash = { ...MONGODB, envVar: 'LOG_LEVEL' };
    const catalogue = CATALOGUE.map((c) => (c.name === 'support-service' ? { ...c, datastores: [clash] } : c));
    expect(configProblems([staging], catalogue.map((c) => (c.datastores?.some((d) => d.name === 'mongodb')
      ? { ...c, datastores: c.datastores.map((d) => (d.name === 'mongodb' ? clash : d)) } : c)))).toEqual([
      'catalogue/content-service: datastores[0].envVar must be unique in the container (the backend variable LOG_LEVEL from app-config has that name), got "LOG_LEVEL"',
      'catalogue/support-service: datastores[0].envVar must be unique in the container (the backend variable LOG_LEVEL from app-config has that name), got "LOG_LEVEL"',
    ]);
  });

  test('ingress hosts are unique across environments and never IP addresses', () => {
    const stg = { ...staging, domains: { frontend: '10.0.0.1', api: production.domains.api } };
    const ipv6 = { ...staging, name: 'qa', namespace: 'qa', domains: { frontend: '[fd00::1]', api: 'qa-api.soundcore-kcp.com' } };
    expect(configProblems([stg, production, ipv6], CATALOGUE, { production: committedReleaseStates().production })).toEqual([
      'staging: domains.frontend must be a DNS name, not an IP address (certificates and host routing need a name), got "10.0.0.1"',
      'production: domains.api must be unique across environments (already staging domains.api), got "api.soundcore-kcp.com"',
      'qa: domains.frontend must be a DNS name, not an IP address (certificates and host routing need a name), got "[fd00::1]"',
    ]);
  });

  test('floating tags are refused in the environment file, the release state and the stage command', () => {
    expect(configProblems([{ ...staging, components: { ...staging.components, frontend: { imageTag: 'develop' } } }]))
      .toEqual([`staging/frontend: imageTag ${PINNED}, got "develop"`]);
    const states = { production: { ...(committedReleaseStates().production as object), frontend: initialRelease('stable') } };
    expect(configProblems([production], CATALOGUE, states)).toEqual([
      `production/frontend: production.release.json tags.blue ${PINNED}, got "stable"`,
      `production/frontend: production.release.json tags.green ${PINNED}, got "stable"`,
    ]);
    expect(() => transition('production/frontend', initialRelease('v1.0.0'), Action.STAGE, 'nightly'))
      .toThrow(new ReleaseError(`production/frontend: stage tag ${PINNED}, got "nightly"`));
  });

  test('route prefixes are unique per host, naming both components', () => {
    const catalogue = CATALOGUE.map((c) => (c.name === CONTENT_SERVICE.name
      ? { ...c, routes: { ...c.routes, paths: ['/api/v1/content', '/api/v1/knowledge/'] } } : c));
    expect(configProblems([staging], catalogue)).toEqual([
      'catalogue/content-service: routes.paths must be unique on the api host (knowledge-service already routes it), got "/api/v1/knowledge/"',
    ]);
  });

  test('the metrics port must not be a component\'s Service port, named by environment and component', () => {
    expect(configProblems([{ ...staging, monitoring: { metricsPort: KNOWLEDGE_SERVICE.servicePort } }])).toEqual([
      'staging/knowledge-service: servicePort must differ from monitoring.metricsPort (8001), the number of the metrics port every scraped Service gets, got 8001',
    ]);
  });

  test('a rate window shorter than four scrape intervals is refused (the alerts could never fire)', () => {
    expect(configProblems([{ ...staging, monitoring: { scrapeInterval: '2m' } }])).toEqual([
      'staging: monitoring.rateWindow must be at least four scrape intervals (monitoring.scrapeInterval is 2m, so at least 8m): '
      + 'with fewer samples in the window, the rate() of the alerts is empty and they can never fire, got "5m"',
    ]);
    expect(configProblems([{ ...staging, monitoring: { scrapeInterval: '15s', rateWindow: '1m' } }])).toEqual([]);
  });

  test('requests and limits are > 0 and compared exactly, whatever their unit', () => {
    const resources = { requests: { cpu: '0', memory: '1G' }, limits: { cpu: '1e0', memory: '976562Ki' } };
    expect(configProblems([{ ...staging, components: { ...staging.components, frontend: { resources } } }])).toEqual([
      'staging/frontend: resources.requests.cpu must be a CPU quantity greater than 0 such as "250m" or "1", got "0"',
      // 1G = 1,000,000,000 bytes > 976,562 KiB = 999,999,488 bytes
      'staging/frontend: resources.requests.memory must not exceed resources.limits.memory (976562Ki), got "1G"',
    ]);
  });

  test('accepts every quantity form Kubernetes accepts and renders it without rounding', () => {
    const resources = { requests: { cpu: '0.5', memory: '300000Ki' }, limits: { cpu: '1e0', memory: '1G' } };
    const tree = synthesize([{ ...staging, components: { ...staging.components, frontend: { resources } } }], CATALOGUE, {});
    const deployment = tree.get('staging/48-deployment-frontend.yaml')!;
    expect(deployment).toContain('memory: 1G\n');
    expect(deployment).toContain('memory: 300000Ki\n');
  });

  test('a value accepted but unused is still validated (a standby count on a rolling component)', () => {
    expect(configProblems([{ ...staging, components: { ...staging.components, frontend: { standbyReplicas: -1 } } }])).toEqual([
      'staging/frontend: standbyReplicas must be an integer from 0 to 2, got -1',
    ]);
  });
});

describe('a value with no effect is an error that says where the value is owned', () => {
  test('a production imageTag that the release state overrides', () => {
    expect(configProblems([{ ...production, components: { ...production.components, frontend: { imageTag: 'v2.0.0' } } }])).toEqual([
      'production/frontend: imageTag has no effect: the tags of a blue/green component are owned by environments/production.release.json; '
      + 'stage a new version with `npm run release -- production frontend stage <tag>`, and remove imageTag here, got "v2.0.0"',
    ]);
  });

  test('a defaults.imageTag that no component takes', () => {
    const everyOwn = Object.fromEntries(CATALOGUE.map((c) => [c.name, { imageTag: 'v2.0.0' }]));
    expect(configProblems([{ ...staging, components: everyOwn }])).toEqual([
      'staging: defaults.imageTag has no effect: no component takes its tag from defaults (rolling components set their own; '
      + 'blue/green ones take theirs from environments/staging.release.json); remove it, got "3f9c2a1e7b6d4c0a9e8f7d6c5b4a39281706f5e4"',
    ]);
  });

  test('a blue/green component without release state says how to record its tag', () => {
    const switched = { ...staging, components: { ...staging.components, 'auth-service': { strategy: ReleaseMode.BLUE_GREEN } } };
    expect(configProblems([switched], CATALOGUE, {})).toEqual([
      'staging/auth-service: release state is missing from environments/staging.release.json, which owns the tags of a blue/green '
      + 'component: record the tag it runs with `npm run release -- staging auth-service init <tag>`',
    ]);
    expect(initRelease('staging/auth-service', undefined, 'v1.2.3')).toEqual(initialRelease('v1.2.3'));
    expect(() => initRelease('staging/auth-service', initialRelease('v1.2.3'), 'v1.2.4')).toThrow(
      'staging/auth-service: cannot init: it already has a release state (stable: traffic on blue (v1.2.3), green (v1.2.3) on standby); allowed now: stage, rollback');
  });
});

describe('construct errors are problems like any other', () => {
  test('reported together with configuration problems, all at once, naming environment and component', () => {
    // GIVEN a catalogue whose frontend the Microservice construct refuses, and a production typo
    const catalogue = [{ ...FRONTEND, writablePaths: ['/tmp', '/TMP'] }, ...CATALOGUE.slice(1)];
    const prod = { ...production, components: { ...production.components, 'content-service': { replicas: 0 } } };
    // WHEN both environments are synthesized
    let message = '';
    try {
      synthesize([staging, prod], catalogue, committedReleaseStates());
    } catch (e) {
      message = (e as Error).message;
    }
    // THEN one report has the construct error of staging and the configuration problem of production
    expect(message.split('\n')).toEqual([
      'invalid configuration (2 problems):',
      '  - production/content-service: replicas must be an integer >= 1, got 0',
      '  - staging/frontend: Microservice writablePaths must each get a volume of their own ("/tmp" already gets the emptyDir "tmp"), got "/TMP"',
    ]);
  });
});

describe('hostile input never crashes and is never half-reported', () => {
  const messageOf = (f: () => unknown): string => {
    try {
      f();
      return '';
    } catch (e) {
      expect((e as Error).name).toBe('ConfigError');
      return (e as Error).message;
    }
  };

  test('a call to a component that is not in the catalogue is one problem, not a crash while building', () => {
    const catalogue = [{ ...FRONTEND, calls: [{ name: 'knowledge' }] }, ...CATALOGUE.slice(1)];
    expect(messageOf(() => synthesize([staging], catalogue, {})).split('\n')).toEqual([
      'invalid configuration (1 problem):',
      '  - catalogue/frontend: calls must name catalogue components or platform services (frontend, knowledge-service, '
      + 'content-service, support-service, analytics-service, auth-service, ingress-controller), got "knowledge"',
    ]);
  });

  test('an environment that is undefined in the registry (a broken import) is named, also when release states are read', () => {
    expect(messageOf(() => synthesize([staging, undefined as unknown as EnvironmentConfig], CATALOGUE, committedReleaseStates())))
      .toContain('  - environments[1]: (environment) is required (an object)');
  });

  test('a function under an unknown key is reported like any unknown key', () => {
    expect(configProblems([{ ...staging, onDeploy: () => 1 } as EnvironmentConfig])).toEqual([
      `staging: onDeploy is an unknown field (fields here: ${ENVIRONMENT_FIELDS})`,
    ]);
  });

  test('two datastores sharing a Secret key or a variable are refused (one would receive the other\'s credentials)', () => {
    const catalogue = CATALOGUE.map((c) => ({ ...c, datastores: c.datastores?.map((d) => (d.name === 'redis' ? { ...d, secretKey: 'postgres-url' } : d)) }));
    expect(configProblems([staging], catalogue)).toEqual([
      'catalogue/redis: datastore secretKey must be unique across datastores (postgres has it), got "postgres-url"',
    ]);
  });

  test('a misspelled strategy is one problem, not a cascade of tag and release-state problems', () => {
    expect(configProblems([{ ...production, defaults: { ...production.defaults, strategy: 'bluegreen' as ReleaseMode } }])).toEqual([
      'production: defaults.strategy must be one of rolling, blue-green, argo-blue-green, argo-canary, got "bluegreen"',
    ]);
  });

  test('numbers beyond the API\'s 32-bit fields, NaN and Infinity are refused with the value as written', () => {
    expect(configProblems([{ ...staging, defaults: { ...staging.defaults, replicas: 1e12 } }])).toEqual([
      'staging: defaults.replicas must be an integer from 1 to 2147483647 (a 32-bit integer), got 1000000000000',
    ]);
    expect(configProblems([{ ...staging, components: { ...staging.components, frontend: { replicas: NaN } } }])).toEqual([
      'staging/frontend: replicas must be a number, got NaN',
    ]);
    expect(configProblems([{ ...staging, monitoring: { alerts: { HighErrorRate: { threshold: Infinity } } } }])).toEqual([
      'staging: monitoring.alerts.HighErrorRate.threshold must be a number, got Infinity',
    ]);
  });

  test('a dotted-decimal host with leading zeros is an IP address too', () => {
    expect(configProblems([{ ...staging, domains: { ...staging.domains, frontend: '010.0.0.1' } }])).toEqual([
      'staging: domains.frontend must be a DNS name, not an IP address (certificates and host routing need a name), got "010.0.0.1"',
    ]);
  });

  test('one host for both fields of an environment is one problem', () => {
    expect(configProblems([{ ...staging, domains: { frontend: 'staging.soundcore-kcp.com', api: 'staging.soundcore-kcp.com' } }])).toEqual([
      'staging: domains.api must differ from domains.frontend, got "staging.soundcore-kcp.com"',
    ]);
  });

  test('a defaults value that every component overrides is still validated', () => {
    const everyOwn = Object.fromEntries(CATALOGUE.map((c) => [c.name, { replicas: 2 }]));
    expect(configProblems([{ ...staging, defaults: { ...staging.defaults, replicas: -5 }, components: everyOwn }])).toEqual([
      'staging: defaults.replicas must be an integer >= 1, got -5',
    ]);
  });

  test('a catalogue of the wrong shape does not hide the environments\' shape problems', () => {
    const catalogue = [{ ...FRONTEND, tier: 'web' } as unknown as ComponentSpec, ...CATALOGUE.slice(1)];
    const typo = edited(staging, (s) => { s.namespce = 'x'; });
    expect(configProblems([typo], catalogue)).toEqual([
      'catalogue/frontend: tier must be one of frontend, backend, got "web"',
      `staging: namespce is an unknown field; did you mean "namespace"? (fields here: ${ENVIRONMENT_FIELDS})`,
    ]);
  });

  test('a component named like a property every object has is refused', () => {
    const catalogue = [...CATALOGUE, { ...CONTENT_SERVICE, name: 'constructor', containerPort: 8009, servicePort: 8009, routes: { ...CONTENT_SERVICE.routes, paths: ['/x'] } }];
    expect(configProblems([staging], catalogue)).toEqual([
      'catalogue/constructor: name must not be a name every JavaScript object already has (constructor, ...), got "constructor"',
    ]);
  });

  test('suggestions cover swapped letters and keys of either shape of a datastore location', () => {
    expect(configProblems([edited(production, (s) => { s.tsl = s.tls; delete s.tls; })])).toEqual([
      `production: tsl is an unknown field; did you mean "tls"? (fields here: ${ENVIRONMENT_FIELDS})`,
      'production: tls is required with routing ingress (the Ingress terminates TLS with these Secrets): { clusterIssuer, frontendSecretName, apiSecretName }',
    ]);
    const env = edited(staging, (s) => { at(s, 'network.datastores').redis = { cidr: ['10.0.0.0/8'] }; });
    expect(configProblems([env])).toEqual([
      'staging: network.datastores.redis must be { podLabels, namespace? } (in the cluster) or { cidrs } (outside it), with no other field; '
      + '"cidr" is an unknown field; did you mean "cidrs"?, got {"cidr":["10.0.0.0/8"]}',
    ]);
  });
});

test('a quantity longer than 64 characters is refused before it is read', () => {
  const huge = `${'9'.repeat(30_000)}Mi`;
  const [problem] = configProblems([{ ...staging, components: { ...staging.components, frontend: { resources: { requests: { cpu: '100m', memory: huge }, limits: { cpu: '1', memory: '1Gi' } } } } }]);
  expect(problem).toMatch(/^staging\/frontend: resources\.requests\.memory must be a memory quantity such as "256Mi" or "1Gi", got "9{99}… \(30004 characters\)"?$/);
});

/**
 * Cross-object checks of alert routing: every route of an AlertmanagerConfig (at any depth) names a
 * receiver of that config, and every Secret key a receiver reads (a Slack webhook URL, an SMTP
 * password, any `{ name, key }` selector) is provided in its namespace: by a Secret, by an
 * ExternalSecret creating it, or by the Namespace's declaration of Secrets created out of band.
 */
import { EnvironmentIndex, inNamespace } from './environment';
import { asArray, asObject, asString, Finding, findingAt, JsonPath, ManifestObject } from './findings';
import { providedSecrets } from './references';

/** Fields of a receiver's configs that select a Secret key (prometheus-operator v1alpha1). */
const SECRET_FIELDS = new Set(['apiURL', 'authPassword', 'authSecret', 'routingKey', 'serviceKey', 'apiKey', 'token', 'botToken', 'roomID', 'userKey', 'password', 'credentials']);

/** Each route's receiver is a receiver of its AlertmanagerConfig. */
export function checkRouteReceivers(env: EnvironmentIndex): Finding[] {
  return env.ofKind('monitoring.coreos.com', 'AlertmanagerConfig').flatMap((config) => {
    const spec = asObject(config.body.spec);
    const names = asArray(spec.receivers).map((r) => asString(asObject(r).name)).filter((n): n is string => n !== undefined);
    const findings: Finding[] = [];
    const walk = (route: unknown, path: JsonPath) => {
      const r = asObject(route);
      const receiver = asString(r.receiver);
      if (receiver !== undefined && !names.includes(receiver)) {
        findings.push(findingAt(config, 'routing/receiver-missing', [...path, 'receiver'],
          `receiver ${JSON.stringify(receiver)} is not a receiver of AlertmanagerConfig ${config.name} (receivers: ${names.join(', ') || 'none'}); the operator rejects the config`));
      }
      asArray(r.routes).forEach((child, i) => walk(child, [...path, 'routes', i]));
    };
    if (spec.route !== undefined) walk(spec.route, ['spec', 'route']);
    return findings;
  });
}

/** Each Secret key a receiver reads is provided in the config's namespace. */
export function checkReceiverSecrets(env: EnvironmentIndex): Finding[] {
  const provided = providedSecrets(env);
  return env.ofKind('monitoring.coreos.com', 'AlertmanagerConfig').flatMap((config) => {
    const findings: Finding[] = [];
    const visit = (value: unknown, path: JsonPath) => {
      if (Array.isArray(value)) { value.forEach((v, i) => visit(v, [...path, i])); return; }
      if (value === null || typeof value !== 'object') return;
      for (const [field, v] of Object.entries(value)) {
        const selector = asObject(v);
        const name = asString(selector.name);
        const key = asString(selector.key);
        if (SECRET_FIELDS.has(field) && name !== undefined && key !== undefined && selector.optional !== true) {
          findings.push(...secretFinding(config, provided, name, key, [...path, field]));
        } else visit(v, [...path, field]);
      }
    };
    visit(asObject(config.body.spec).receivers, ['spec', 'receivers']);
    return findings;
  });
}

function secretFinding(config: ManifestObject, provided: ReadonlyMap<string, ReadonlySet<string> | 'any'>, name: string, key: string, path: JsonPath): Finding[] {
  const keys = provided.get(`${config.namespace ?? ''}/${name}`);
  if (keys === undefined) {
    return [findingAt(config, 'routing/secret-missing', [...path, 'name'],
      `Secret ${inNamespace(name, config.namespace)} is not provided (no Secret, no ExternalSecret creating it, not declared out of band on the Namespace): the receiver cannot notify`)];
  }
  if (keys !== 'any' && !keys.has(key)) {
    return [findingAt(config, 'routing/secret-missing', [...path, 'key'],
      `key ${JSON.stringify(key)} is not in Secret ${JSON.stringify(name)} (its keys: ${[...keys].sort().join(', ') || 'none'})`)];
  }
  return [];
}

/** The routing checks, run on each environment by the gate (validate/index.ts). */
export const ROUTING_CHECKS: readonly ((env: EnvironmentIndex) => Finding[])[] = [checkRouteReceivers, checkReceiverSecrets];

/**
 * The environment's database credentials: one Secret holding a key per datastore the catalogue uses,
 * from the environment's secret source. Workloads read only their own datastores' keys.
 */
import { Construct } from 'constructs';
import { CredentialsSecret, SecretSource, SecretStoreRef } from '../constructs';
import { ComponentSpec, DB_CREDENTIALS_SECRET, ResolvedEnvironment, SecretMode, usedDatastores } from '../environments';
import { PROJECT } from './project';

/**
 * The `db-credentials` Secret with a key per datastore the catalogue uses, from the environment's
 * source: an ExternalSecret, or a Secret created out of band. No value is ever in the manifests.
 */
export function dbCredentials(scope: Construct, env: ResolvedEnvironment, catalogue: readonly ComponentSpec[]): CredentialsSecret | undefined {
  const datastores = usedDatastores(catalogue);
  if (datastores.length === 0) return undefined;
  const s = env.secrets;
  const source = s.mode === SecretMode.EXTERNAL_SECRET
    ? SecretSource.externalSecret({
      store: SecretStoreRef.of(s.store.kind, s.store.name),
      remoteRefs: Object.fromEntries(datastores.map((d) => [d.secretKey, s.remoteRefs[d.name]])),
      apiVersion: s.apiVersion,
    })
    : SecretSource.existingSecret();
  return new CredentialsSecret(scope, 'DbCredentials', {
    name: DB_CREDENTIALS_SECRET,
    keys: datastores.map((d) => d.secretKey),
    source,
    labels: { 'app.kubernetes.io/part-of': PROJECT },
  });
}


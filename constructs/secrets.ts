/**
 * Secrets whose values never pass through the repository or the manifests. A
 * {@link CredentialsSecret} is a named Secret with a known key set that workloads reference key by
 * key (`secretKeyRef`); where its values come from is a {@link SecretSource}: an
 * {@link ExternalSecret} that the external-secrets operator materializes from a secret store, or a
 * Secret created out of band that the manifests only reference.
 */
import type { IExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1beta1/ExternalSecret';
import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import { assertValid, checkDnsSubdomain, checkSecretKey, PropsError } from './validation';

/** API versions of the external-secrets.io `ExternalSecret` kind. */
export enum ExternalSecretApiVersion {
  /** `external-secrets.io/v1`: served from external-secrets 0.16; the only one served from 0.17 on. */
  V1 = 'external-secrets.io/v1',
  /** `external-secrets.io/v1beta1`: for controllers older than 0.16 (deprecated, unserved from 0.17). */
  V1BETA1 = 'external-secrets.io/v1beta1',
}

/** Kinds of secret store an ExternalSecret reads from. */
export enum SecretStoreKind {
  /** A cluster-wide store, usable from every namespace it allows. */
  CLUSTER_SECRET_STORE = 'ClusterSecretStore',
  /** A store in the ExternalSecret's own namespace. */
  SECRET_STORE = 'SecretStore',
}

/** A reference to a (Cluster)SecretStore, e.g. `SecretStoreRef.cluster('vault-backend')`. */
export class SecretStoreRef {
  /** A ClusterSecretStore. */
  public static cluster(name: string): SecretStoreRef {
    return new SecretStoreRef(SecretStoreKind.CLUSTER_SECRET_STORE, name);
  }

  /** A SecretStore in the namespace of the ExternalSecret. */
  public static namespaced(name: string): SecretStoreRef {
    return new SecretStoreRef(SecretStoreKind.SECRET_STORE, name);
  }

  /** A store of the given kind. */
  public static of(kind: SecretStoreKind, name: string): SecretStoreRef {
    return new SecretStoreRef(kind, name);
  }

  private constructor(
    /** The store's kind. */
    public readonly kind: SecretStoreKind,
    /** The store's name. */
    public readonly name: string,
  ) {
    assertValid('SecretStoreRef', 'name', name, checkDnsSubdomain(name));
  }
}

/** Where one value lives in the secret store. */
export interface RemoteRef {
  /** Key (path or name) of the secret in the provider, e.g. `shop/production/db-credentials`. */
  readonly key: string;
  /** Property of a structured (JSON) secret. @default - the whole value */
  readonly property?: string;
}

/** The spec of an ExternalSecret as the external-secrets CRD defines it (the same in v1beta1 and v1). */
export type ExternalSecretSpec = NonNullable<IExternalSecret['spec']>;

/** Properties of an {@link ExternalSecret}. */
export interface ExternalSecretProps {
  /** Exact name of the ExternalSecret and of the Secret it creates. */
  readonly name: string;
  /** The store the values are read from. */
  readonly store: SecretStoreRef;
  /** The Secret's keys and where each value lives in the store, in the order given. */
  readonly data: { readonly [secretKey: string]: RemoteRef };
  /** How often values are re-read from the store. @default Duration.hours(1) */
  readonly refreshInterval?: Duration;
  /** API version to emit (match the installed controller). @default ExternalSecretApiVersion.V1 */
  readonly apiVersion?: ExternalSecretApiVersion;
  /** Labels of the ExternalSecret. @default - none */
  readonly labels?: LabelSet;
}

/**
 * An external-secrets.io `ExternalSecret`: the operator reads each key from the store and owns the
 * resulting Secret (deleted with the ExternalSecret). Only references are in the manifest.
 */
export class ExternalSecret extends Construct {
  /** Name of the ExternalSecret and of the Secret it creates. */
  public readonly name: string;
  /** API version emitted. */
  public readonly apiVersion: ExternalSecretApiVersion;
  /** The Secret's keys. */
  public readonly keys: readonly string[];
  /** The underlying API object. */
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: ExternalSecretProps) {
    super(scope, id);
    const where = `ExternalSecret ${props.name}`;
    assertValid(where, 'name', props.name, checkDnsSubdomain(props.name));
    const entries = Object.entries(props.data);
    if (entries.length === 0) throw new PropsError(where, 'data', props.data, 'must map at least one Secret key to a remote key');
    for (const [secretKey, ref] of entries) {
      if (checkSecretKey(secretKey) !== undefined) {
        throw new PropsError(where, 'data', secretKey, `keys ${checkSecretKey(secretKey)}`);
      }
      if (typeof ref?.key !== 'string' || ref.key.trim() === '') {
        throw new PropsError(where, `data.${secretKey}.key`, ref?.key, 'must be a non-empty remote key');
      }
    }
    this.name = props.name;
    this.apiVersion = props.apiVersion ?? ExternalSecretApiVersion.V1;
    this.keys = entries.map(([secretKey]) => secretKey);

    const spec: ExternalSecretSpec = {
      refreshInterval: goDuration(props.refreshInterval ?? Duration.hours(1)),
      secretStoreRef: { kind: props.store.kind, name: props.store.name },
      target: { name: props.name, creationPolicy: 'Owner', deletionPolicy: 'Retain' },
      data: entries.map(([secretKey, ref]) => ({
        secretKey,
        remoteRef: ref.property === undefined ? { key: ref.key } : { key: ref.key, property: ref.property },
      })),
    };
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: this.apiVersion,
      kind: 'ExternalSecret',
      metadata: { name: props.name, labels: props.labels },
      spec,
    });
  }
}

/** Where a {@link CredentialsSecret}'s values come from. */
export enum SecretSourceKind {
  EXTERNAL_SECRET = 'external-secret',
  EXISTING_SECRET = 'existing-secret',
}

/** Options of {@link SecretSource.externalSecret}. */
export interface ExternalSecretSourceOptions {
  /** The store the values are read from. */
  readonly store: SecretStoreRef;
  /** Where each key of the Secret lives in the store; must cover exactly the Secret's keys. */
  readonly remoteRefs: { readonly [secretKey: string]: RemoteRef };
  /** How often values are re-read. @default Duration.hours(1) */
  readonly refreshInterval?: Duration;
  /** API version to emit. @default ExternalSecretApiVersion.V1 */
  readonly apiVersion?: ExternalSecretApiVersion;
}

/**
 * The origin of a Secret's values, e.g. `SecretSource.externalSecret({ store, remoteRefs })` or
 * `SecretSource.existingSecret()`. Neither puts a value into the manifests.
 */
export class SecretSource {
  /** An ExternalSecret in the manifests; the external-secrets operator creates the Secret. */
  public static externalSecret(options: ExternalSecretSourceOptions): SecretSource {
    return new SecretSource(SecretSourceKind.EXTERNAL_SECRET, options);
  }

  /**
   * A Secret created out of band (by CI or an operator) before the manifests are applied; the
   * manifests only reference it, and pods wait in `CreateContainerConfigError` until it exists.
   */
  public static existingSecret(): SecretSource {
    return new SecretSource(SecretSourceKind.EXISTING_SECRET, undefined);
  }

  private constructor(
    /** Which kind of source. */
    public readonly kind: SecretSourceKind,
    /** The ExternalSecret options, for `EXTERNAL_SECRET`. */
    public readonly externalSecretOptions: ExternalSecretSourceOptions | undefined,
  ) {}
}

/** Properties of a {@link CredentialsSecret}. */
export interface CredentialsSecretProps {
  /** Exact name of the Secret. */
  readonly name: string;
  /** The keys the Secret holds; workloads can reference only these. */
  readonly keys: readonly string[];
  /** Where the values come from. */
  readonly source: SecretSource;
  /** Labels of the objects created (the ExternalSecret). @default - none */
  readonly labels?: LabelSet;
}

/**
 * A Secret with a fixed key set whose values never appear in the manifests. Workloads get single
 * keys as environment variables with {@link envValue} (a `secretKeyRef`), so each sees only what it
 * is given.
 */
export class CredentialsSecret extends Construct {
  /** Name of the Secret. */
  public readonly name: string;
  /** Keys the Secret holds. */
  public readonly keys: readonly string[];
  /** Where the values come from. */
  public readonly source: SecretSource;
  /** The ExternalSecret that materializes it, when the source is an external secret. */
  public readonly externalSecret: ExternalSecret | undefined;
  /** A reference to the Secret (no object is created for it). */
  public readonly secret: kplus.ISecret;

  constructor(scope: Construct, id: string, props: CredentialsSecretProps) {
    super(scope, id);
    const where = `CredentialsSecret ${props.name}`;
    assertValid(where, 'name', props.name, checkDnsSubdomain(props.name));
    if (props.keys.length === 0) throw new PropsError(where, 'keys', props.keys, 'must list at least one key');
    for (const key of props.keys) assertValid(where, 'keys', key, checkSecretKey(key));
    this.name = props.name;
    this.keys = [...props.keys];
    this.source = props.source;
    this.secret = kplus.Secret.fromSecretName(this, 'Secret', props.name);

    const options = props.source.externalSecretOptions;
    if (props.source.kind === SecretSourceKind.EXTERNAL_SECRET && options !== undefined) {
      const missing = this.keys.filter((k) => options.remoteRefs[k] === undefined);
      const extra = Object.keys(options.remoteRefs).filter((k) => !this.keys.includes(k));
      if (missing.length > 0 || extra.length > 0) {
        throw new PropsError(where, 'remoteRefs', Object.keys(options.remoteRefs),
          `must map exactly the keys ${this.keys.join(', ')} (missing: ${missing.join(', ') || 'none'}; unknown: ${extra.join(', ') || 'none'})`);
      }
      this.externalSecret = new ExternalSecret(this, 'ExternalSecret', {
        name: props.name,
        store: options.store,
        data: Object.fromEntries(this.keys.map((k) => [k, options.remoteRefs[k]])),
        refreshInterval: options.refreshInterval,
        apiVersion: options.apiVersion,
        labels: props.labels,
      });
    } else {
      this.externalSecret = undefined;
    }
  }

  /** An environment variable value read from `key` of this Secret (`valueFrom.secretKeyRef`). */
  public envValue(key: string): kplus.EnvValue {
    if (!this.keys.includes(key)) {
      throw new PropsError(`CredentialsSecret ${this.name}`, 'key', key, `must be one of its keys (${this.keys.join(', ')})`);
    }
    return kplus.EnvValue.fromSecretValue({ secret: this.secret, key });
  }
}

/** A Go duration string (`1h`, `15m`, `90s`), the format of `refreshInterval`. */
function goDuration(d: Duration): string {
  const seconds = d.toSeconds();
  if (seconds === 0) return '0s';
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

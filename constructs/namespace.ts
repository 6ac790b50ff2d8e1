import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Conventions } from './conventions';
import { LabelSet } from './labels';
import { assertValid, checkDnsLabel, checkDnsSubdomain, PropsError } from './validation';

/** Pod Security Standard levels a namespace can enforce. */
export enum PodSecurityLevel {
  PRIVILEGED = 'privileged',
  BASELINE = 'baseline',
  RESTRICTED = 'restricted',
}

/** Properties of a {@link SecureNamespace}. */
export interface SecureNamespaceProps {
  /** Exact namespace name. */
  readonly name: string;
  /** Labels of the namespace (e.g. `environment`, `project`). @default - none */
  readonly labels?: LabelSet;
  /** Pod Security level enforced, audited and warned about. @default PodSecurityLevel.RESTRICTED */
  readonly podSecurity?: PodSecurityLevel;
  /** Version of the Pod Security Standard to pin. @default 'v1.28' */
  readonly podSecurityVersion?: string;
}

/**
 * A Namespace whose Pod Security admission labels enforce (and audit and warn about) the
 * "restricted" standard by default, pinned to the Kubernetes version the manifests are written for.
 */
export class SecureNamespace extends Construct {
  /** Namespace name. */
  public readonly name: string;
  /** The Pod Security level enforced. */
  public readonly podSecurity: PodSecurityLevel;
  /** The underlying cdk8s-plus Namespace. */
  public readonly namespace: kplus.Namespace;

  constructor(scope: Construct, id: string, props: SecureNamespaceProps) {
    super(scope, id);
    assertValid(`SecureNamespace ${props.name}`, 'name', props.name, checkDnsLabel(props.name));
    this.name = props.name;
    this.podSecurity = props.podSecurity ?? PodSecurityLevel.RESTRICTED;
    const version = props.podSecurityVersion ?? 'v1.28';
    this.namespace = new kplus.Namespace(this, 'Resource', {
      metadata: {
        name: props.name,
        labels: {
          ...props.labels,
          'pod-security.kubernetes.io/enforce': this.podSecurity,
          'pod-security.kubernetes.io/enforce-version': version,
          'pod-security.kubernetes.io/audit': this.podSecurity,
          'pod-security.kubernetes.io/audit-version': version,
          'pod-security.kubernetes.io/warn': this.podSecurity,
          'pod-security.kubernetes.io/warn-version': version,
        },
      },
    });
    // A chart's namespace is stamped on every object in it; a Namespace itself is cluster-scoped.
    ApiObject.of(this.namespace).addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }

  private readonly outOfBand = new Map<string, string[]>();

  /**
   * Declares that Secret `name` with `keys` is created in this namespace out of band (not by these
   * manifests), recorded in the `outOfBandSecrets` annotation (`secrets.<annotationDomain>/provided-out-of-band`, see `Conventions`).
   */
  public declareOutOfBandSecret(name: string, keys: readonly string[]): void {
    assertValid(`SecureNamespace ${this.name}`, 'out-of-band secret name', name, checkDnsSubdomain(name));
    if (keys.length === 0) throw new PropsError(`SecureNamespace ${this.name}`, 'out-of-band secret keys', keys, 'must list at least one key');
    this.outOfBand.set(name, [...new Set([...(this.outOfBand.get(name) ?? []), ...keys])]);
    const sorted = Object.fromEntries([...this.outOfBand.entries()].sort(([a], [b]) => a.localeCompare(b)));
    this.namespace.metadata.addAnnotation(Conventions.of(this).annotationKey('outOfBandSecrets'), JSON.stringify(sorted));
  }
}

import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import { assertValid, checkDnsLabel } from './validation';

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
}

/**
 * Label conventions. Selector labels are stable for the life of a workload and are the only labels
 * that go into a Deployment's immutable `spec.selector`; everything that changes per release (image
 * version) or describes the object (recommended `app.kubernetes.io/*` labels) is metadata only.
 */
import { Conventions } from './conventions';

/** A set of Kubernetes labels. */
export interface LabelSet {
  readonly [key: string]: string;
}

/** Options for {@link recommendedLabels}. */
export interface RecommendedLabelOptions {
  /** `app.kubernetes.io/name`, e.g. `knowledge-service`. */
  readonly name: string;
  /** `app.kubernetes.io/instance`. @default - same as `name` */
  readonly instance?: string;
  /** `app.kubernetes.io/component`, e.g. `backend`. @default - not set */
  readonly component?: string;
  /** `app.kubernetes.io/part-of`. @default - not set */
  readonly partOf?: string;
  /** `app.kubernetes.io/version`, the image tag. @default - not set */
  readonly version?: string;
}

/** Selector labels of a workload: `{ <conventions.appLabel>: <name> }` (`app` by default). */
export function selectorLabels(name: string, conventions: Conventions = Conventions.DEFAULT): LabelSet {
  return conventions.selectorLabels(name);
}

/** The Kubernetes recommended labels (`app.kubernetes.io/*`), managed by cdk8s. */
export function recommendedLabels(o: RecommendedLabelOptions): LabelSet {
  const labels: { [key: string]: string } = {
    'app.kubernetes.io/name': o.name,
    'app.kubernetes.io/instance': o.instance ?? o.name,
  };
  if (o.component !== undefined) labels['app.kubernetes.io/component'] = o.component;
  if (o.partOf !== undefined) labels['app.kubernetes.io/part-of'] = o.partOf;
  if (o.version !== undefined) labels['app.kubernetes.io/version'] = o.version;
  labels['app.kubernetes.io/managed-by'] = 'cdk8s';
  return labels;
}

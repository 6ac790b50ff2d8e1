/**
 * Describes in plain words what a change does to an environment's manifests, for the release
 * command's output and the merge request it produces, e.g.
 * `production/knowledge-service: traffic blue (v1.0.0) -> green (v1.1.0)`.
 *
 * The lines are the review report's (review/): one implementation for `npm run release` and
 * `npm run review`, in the report's order (blocking and risky lines first).
 */
import { formatPlain, reviewEnvironment } from '../review';
import type { KubeObject } from '../synth/output';

/** One line per meaningful difference between `before` and `after` (objects of one environment). */
export function describeChanges(environment: string, before: readonly KubeObject[], after: readonly KubeObject[]): string[] {
  return formatPlain(reviewEnvironment(environment, before, after).lines);
}

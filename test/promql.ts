/**
 * PromQL syntax checks with the Prometheus project's own Lezer grammar (`@prometheus-io/lezer-promql`,
 * what the Prometheus web UI parses queries with).
 */
import { parser } from '@prometheus-io/lezer-promql';

/** One label matcher of a vector selector, e.g. `namespace="x"`. */
export interface LabelMatcher {
  readonly label: string;
  readonly op: string;
  readonly value: string;
}

/** A vector selector: metric name and label matchers. */
export interface VectorSelector {
  readonly metric: string;
  readonly matchers: readonly LabelMatcher[];
}

/** Syntax errors of `expr` as `offset: text`, or [] when it parses. */
export function parseErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 20), node.to + 20))}`);
    },
  });
  return errors;
}

/** Every vector selector in `expr` (those inside range selectors included). */
export function vectorSelectors(expr: string): VectorSelector[] {
  const selectors: VectorSelector[] = [];
  const text = (from: number, to: number) => expr.slice(from, to);
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.name !== 'VectorSelector') return;
      const metric = node.node.getChild('Identifier');
      const matchers: LabelMatcher[] = [];
      for (const m of node.node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const name = m.getChild('LabelName');
        const op = m.getChild('MatchOp');
        const value = m.getChild('StringLiteral');
        if (name && op && value) {
          matchers.push({ label: text(name.from, name.to), op: text(op.from, op.to), value: JSON.parse(text(value.from, value.to)) });
        }
      }
      selectors.push({ metric: metric ? text(metric.from, metric.to) : '', matchers });
    },
  });
  return selectors;
}

/**
 * Runbook pages rendered from alert rules: one Markdown page per runbook URL, listing the alerts that
 * link to it with what they mean (their summary, description, expression and labels), first checks
 * and the actions that apply.
 */
import type { RuleAlert } from './alert-routing';

/** One runbook page. */
export interface RunbookPage {
  /** Title, e.g. the slug. */
  readonly title: string;
  /** Where it applies, e.g. `environment production (namespace shop-prod)`. */
  readonly scope: string;
  /** The alerts linking to it (at least one). */
  readonly alerts: readonly RuleAlert[];
  /** Shell commands to run first (diagnosis), in order. */
  readonly firstChecks: readonly string[];
  /** Markdown paragraphs or list items of what to do: release and rollback commands. */
  readonly actions: readonly string[];
  /** First line of the page (e.g. a "generated, do not edit" comment). @default - none */
  readonly header?: string;
}

/** Renders a runbook page as Markdown (deterministic: the alerts in the given order). */
export function renderRunbook(page: RunbookPage): string {
  if (page.alerts.length === 0) throw new Error(`runbook ${page.title}: no alert links to it`);
  const lines: string[] = [];
  if (page.header !== undefined) lines.push(page.header);
  lines.push(`# Runbook: ${page.title}`, '', `Applies to ${page.scope}.`, '', '## Alerts', '',
    '| alert | severity | team | for | PrometheusRule |', '|---|---|---|---|---|');
  for (const a of page.alerts) {
    lines.push(`| \`${a.alert}\` | ${a.labels.severity ?? '-'} | ${a.labels.team ?? '-'} | ${a.for ?? '0s'} | \`${a.ruleName}\` |`);
  }
  lines.push('', '## What it means', '');
  for (const a of page.alerts) {
    lines.push(`### ${a.alert}`, '', a.annotations.summary ?? '', '');
    if (a.annotations.description !== undefined) lines.push(a.annotations.description, '');
    lines.push('```promql', a.expr.trim(), '```', '');
  }
  lines.push('## First checks', '', '```sh', ...page.firstChecks, '```', '', '## What to do', '', ...page.actions.map((x) => `- ${x}`), '');
  return lines.join('\n');
}

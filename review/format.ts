/**
 * Renders a review: plain lines (the release command), Markdown (a merge-request note) and JSON
 * (tools). Secret values never reach a review in the first place (objects.ts redacts them).
 */
import {
  BLOCKING_LABELS, EnvironmentReview, FieldChange, isUrgent, ObjectChange, plainLine, Review, ReviewLine, RISK_LABEL_MEANINGS, RISK_LABELS,
  RiskLabel, RISKY_LABELS, TOPICS,
} from './model';

/** The plain text of each line, in order: `production/knowledge-service: traffic blue (v1.0.0) -> green (v1.1.0)`. */
export function formatPlain(lines: readonly ReviewLine[]): string[] {
  return lines.map(plainLine);
}

/** Lines of every environment, in report order. */
export function allLines(review: Review): ReviewLine[] {
  return review.environments.flatMap((e) => e.lines);
}

/** How many lines carry each label. */
export function labelCounts(review: Review): { [label in RiskLabel]?: number } {
  const counts: { [label in RiskLabel]?: number } = {};
  for (const line of allLines(review)) for (const l of new Set(line.labels)) counts[l] = (counts[l] ?? 0) + 1;
  return Object.fromEntries(RISK_LABELS.filter((l) => counts[l] !== undefined).map((l) => [l, counts[l]]));
}

/** The review as JSON for tools: the review itself plus a summary of the labels. */
export function formatJson(review: Review): string {
  const lines = allLines(review);
  const summary = {
    blocking: lines.filter((l) => l.labels.some((x) => BLOCKING_LABELS.includes(x))).length,
    risky: lines.filter((l) => !l.labels.some((x) => BLOCKING_LABELS.includes(x)) && l.labels.some((x) => RISKY_LABELS.includes(x))).length,
    labels: labelCounts(review),
  };
  return `${JSON.stringify({ base: review.base, head: review.head, summary, environments: review.environments }, null, 2)}\n`;
}

const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function markdownLine(line: ReviewLine): string {
  const labels = line.labels.map((l) => (BLOCKING_LABELS.includes(l) || RISKY_LABELS.includes(l) ? `**${code(l)}**` : code(l))).join(' ');
  // (`<` would open an HTML tag and `*` emphasis; `->` and intraword `_` render as written)
  return `- ${labels} ${cell(plainLine(line)).replace(/([*<`])/g, '\\$1')}`;
}

function describeField(f: FieldChange): string {
  if (f.change === 'added') return `${code(f.path)} added: ${code(f.after ?? '')}`;
  if (f.change === 'removed') return `${code(f.path)} removed (was ${code(f.before ?? '')})`;
  return `${code(f.path)}: ${code(f.before ?? '')} → ${code(f.after ?? '')}`;
}

const MAX_FIELDS = 12;

function objectRow(o: ObjectChange): string {
  const what = `${o.key.group === '' ? '' : `${o.key.group}/`}${o.key.kind} ${o.key.namespace === '' ? '' : `${o.key.namespace}/`}${o.key.name}`;
  let detail = '';
  if (o.renamedTo !== undefined) detail = `renamed to ${code(o.renamedTo)}?`;
  if (o.renamedFrom !== undefined) detail = `renamed from ${code(o.renamedFrom)}?`;
  if (o.fields.length > 0) {
    detail = o.fields.slice(0, MAX_FIELDS).map(describeField).join('<br>')
      + (o.fields.length > MAX_FIELDS ? `<br>… and ${o.fields.length - MAX_FIELDS} more fields (see the JSON report)` : '');
  }
  return `| ${o.change} | ${cell(what)} | ${cell(detail)} |`;
}

function environmentSection(env: EnvironmentReview): string[] {
  const out = [`### ${env.environment}`, ''];
  if (env.objects.length === 0) return [...out, `No change (${env.counts.unchanged} objects).`, ''];
  for (const [topic, heading] of TOPICS) {
    const lines = env.lines.filter((l) => l.topic === topic);
    if (lines.length === 0) continue;
    out.push(`**${heading}**`, '', ...lines.map(markdownLine), '');
  }
  const { added, removed, changed, unchanged } = env.counts;
  out.push(`<details><summary>Objects of ${env.environment}: ${added} added, ${removed} removed, ${changed} changed, ${unchanged} unchanged</summary>`, '',
    '| change | object (group/kind namespace/name) | fields |', '|---|---|---|', ...env.objects.map(objectRow), '', '</details>', '');
  return out;
}

/** The review as Markdown: the blocking and risky lines first, then each environment by topic, then its objects. */
export function formatMarkdown(review: Review): string {
  const lines = allLines(review);
  const urgent = lines.filter(isUrgent);
  const blocking = lines.filter((l) => l.labels.some((x) => BLOCKING_LABELS.includes(x))).length;
  const out = ['## Review of the manifests', '', `Compares ${review.base} with ${review.head}.`, ''];
  const changedEnvs = review.environments.filter((e) => e.objects.length > 0);
  out.push(changedEnvs.length === 0 ? '**No change** in any environment.'
    : `**${blocking} blocking, ${urgent.length - blocking} risky** of ${lines.length} lines.`, '');
  out.push('| environment | added | removed | changed | unchanged |', '|---|---|---|---|---|',
    ...review.environments.map((e) => `| ${e.environment} | ${e.counts.added} | ${e.counts.removed} | ${e.counts.changed} | ${e.counts.unchanged} |`), '');
  if (urgent.length > 0) out.push('### Read first', '', ...urgent.map(markdownLine), '');
  for (const env of review.environments) out.push(...environmentSection(env));
  const used = RISK_LABELS.filter((l) => lines.some((x) => x.labels.includes(l)));
  if (used.length > 0) {
    out.push('<details><summary>Labels</summary>', '', ...used.map((l) => `- ${code(l)}: ${RISK_LABEL_MEANINGS[l]}`), '', '</details>', '');
  }
  out.push('Objects removed from `dist/` are deleted by the deploy (`scripts/deploy.sh` prunes its deploy set; Pulumi deletes them too).', '');
  return out.join('\n');
}

/**
 * Running `promtool` (Debian package `prometheus`) from the tests, and the typed shape of its rule
 * unit-test files. promtool is required: when it is missing the tests fail with how to install it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import type { RuleGroupSpec } from '../constructs';
import { ROOT } from '../synth/root';

/** Where promtool is: `$PROMTOOL`, else the first `promtool` on `$PATH`. */
export function promtoolPath(): string {
  const explicit = process.env.PROMTOOL;
  if (explicit !== undefined && explicit !== '') {
    if (!fs.existsSync(explicit)) throw new Error(`PROMTOOL=${explicit} does not exist`);
    return explicit;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'promtool');
    if (dir !== '' && fs.existsSync(candidate)) return candidate;
  }
  throw new Error('promtool not found on PATH: the alert rule tests need it and never skip. Install it with '
    + '`apt-get update && apt-get install -y --no-install-recommends prometheus` (.ci/run does), '
    + 'or set PROMTOOL=/path/to/promtool.');
}

/** Result of one promtool run. */
export interface PromtoolResult {
  readonly status: number | null;
  /** stdout and stderr together. */
  readonly output: string;
}

/**
 * Runs `promtool <args>` in `cwd`. Go's collector runs at GOGC=400 unless `$GOGC` says otherwise:
 * a rule-test run then spends about a sixth less CPU (for ≈ 150 MB instead of 85 MB); the results
 * do not depend on it.
 */
export function promtool(args: readonly string[], cwd: string): PromtoolResult {
  const run = spawnSync(promtoolPath(), args, { cwd, encoding: 'utf8', env: { ...process.env, GOGC: process.env.GOGC || '400' } });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** The rule groups of a PrometheusRule in the committed `dist/<environment>/`. */
export function distRuleGroups(environment: string, name: string): RuleGroupSpec[] {
  const file = path.join(ROOT, 'dist', environment, `90-prometheusrule-${name}.yaml`);
  const rule = YAML.parse(fs.readFileSync(file, 'utf8'));
  return rule.spec.groups;
}

/** A Prometheus rule file (what `promtool check rules` reads). */
export interface RuleFile {
  readonly groups: readonly RuleGroupSpec[];
}

/** One input series of a promtool unit test: `metric{labels}` and expanding notation values. */
export interface InputSeries {
  readonly series: string;
  /** e.g. `0+60x40` (start 0, +60 per interval, 41 samples) or `1x10 0x20`. */
  readonly values: string;
}

/** An alert expected at an evaluation time. */
export interface ExpectedAlert {
  readonly exp_labels: { readonly [label: string]: string };
  readonly exp_annotations: { readonly [annotation: string]: string };
}

/** The firing alerts of `alertname` expected at `eval_time` (an empty list: none fire). */
export interface AlertRuleTest {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts: readonly ExpectedAlert[];
}

/** One test group of a promtool unit-test file. */
export interface PromtoolTestGroup {
  readonly name: string;
  readonly interval: string;
  readonly input_series: readonly InputSeries[];
  readonly alert_rule_test: readonly AlertRuleTest[];
}

/** A promtool unit-test file (`promtool test rules`). */
export interface PromtoolTestFile {
  readonly rule_files: readonly string[];
  readonly evaluation_interval: string;
  readonly tests: readonly PromtoolTestGroup[];
}

/** Writes `files` (name to YAML-serializable content) into `dir`. */
export function writeYamlFiles(dir: string, files: { readonly [name: string]: RuleFile | PromtoolTestFile }): void {
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), YAML.stringify(content, { lineWidth: 0 }));
  }
}

/** Seconds of a Prometheus duration (`1h30m`, `90s`, `5m`). */
export function durationSeconds(duration: string): number {
  const units: { [unit: string]: number } = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let seconds = 0;
  const rest = duration.replace(/(\d+)(ms|s|m|h|d|w|y)/g, (_all, n: string, unit: string) => {
    seconds += Number(n) * units[unit];
    return '';
  });
  if (rest !== '' || duration === '') throw new Error(`not a Prometheus duration: ${JSON.stringify(duration)}`);
  return seconds;
}

/** Go's `%.4g` for the magnitudes alert values have (1e-4 to 1e4). */
function g4(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-4) throw new Error(`g4: ${v} is outside the range this helper formats`);
  return String(Number(v.toPrecision(4)));
}

/** Prometheus' `humanizePercentage`. */
export function humanizePercentage(v: number): string {
  return `${g4(v * 100)}%`;
}

/** Prometheus' `humanizeDuration`, for values under a minute. */
export function humanizeDuration(v: number): string {
  if (v >= 60) throw new Error(`humanizeDuration: ${v} s is outside the range this helper formats`);
  if (v >= 1 || v === 0) return `${g4(v)}s`;
  let scaled = v;
  let prefix = '';
  for (const p of ['m', 'u', 'n']) {
    if (scaled >= 1) break;
    prefix = p;
    scaled *= 1000;
  }
  return `${g4(scaled)}${prefix}s`;
}

/**
 * Renders the annotation templates of an alert the way Prometheus does, for the subset our rules
 * use: `{{ $labels.<name> }}`, `{{ $value }}`, `{{ $value | humanizePercentage }}` and
 * `{{ $value | humanizeDuration }}`. Anything else throws, so a new template form is noticed.
 */
export function renderTemplate(template: string, labels: { readonly [label: string]: string }, value: number): string {
  return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_all, expr: string) => {
    const label = /^\$labels\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr);
    if (label) return labels[label[1]] ?? '<no value>';
    if (expr === '$value') return String(value);
    if (expr === '$value | humanizePercentage') return humanizePercentage(value);
    if (expr === '$value | humanizeDuration') return humanizeDuration(value);
    throw new Error(`renderTemplate: unsupported template {{ ${expr} }}`);
  });
}

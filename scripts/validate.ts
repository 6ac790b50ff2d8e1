/**
 * `npm run validate`: runs the validation gate over dist/ (or the folders given) and prints every
 * finding per object. Exits 1 when there is any error, 0 otherwise (warnings do not fail).
 *
 *   npm run validate
 *   npm run validate -- path/to/folder [more folders]
 *   npm run validate -- --servicemonitor-labels release=prometheus,team=platform
 *   npm run validate -- --json            (machine-readable; used by the cdk8s plugin)
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  DEFAULT_SERVICE_MONITOR_LABELS, formatReport, GateResult, KUBERNETES_VERSION, LabelMap, readManifestTree, validateTree,
} from '../validate';

/** The project root (this file runs from scripts/ in tests and from .build/ when bundled). */
const ROOT = path.resolve(__dirname, '..');

const USAGE = `usage: npm run validate -- [--json] [--servicemonitor-labels key=value,...] [folder ...]
  Validates every *.yaml below each folder (default: dist) against the Kubernetes ${KUBERNETES_VERSION} and CRD
  schemas, the restricted Pod Security Standard and cross-object references. Exits 1 on any error.`;

/** Parsed command line. */
interface Arguments {
  readonly folders: string[];
  readonly json: boolean;
  readonly serviceMonitorLabels: LabelMap;
}

/** Parses `key=value,key=value` ('' for none). */
function parseLabels(text: string): LabelMap {
  const labels: { [key: string]: string } = {};
  for (const pair of text.split(',').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--servicemonitor-labels expects key=value pairs, got ${JSON.stringify(pair)}`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

function parseArguments(args: readonly string[]): Arguments {
  const folders: string[] = [];
  let json = false;
  let serviceMonitorLabels = DEFAULT_SERVICE_MONITOR_LABELS;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--json') json = true;
    else if (arg === '--servicemonitor-labels') serviceMonitorLabels = parseLabels(args[++i] ?? '');
    else if (arg.startsWith('--servicemonitor-labels=')) serviceMonitorLabels = parseLabels(arg.slice(arg.indexOf('=') + 1));
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else folders.push(arg);
  }
  return { folders: folders.length > 0 ? folders.map((f) => path.resolve(f)) : [path.join(ROOT, 'dist')], json, serviceMonitorLabels };
}

/** Entry point: returns the exit code (0 clean, 1 errors found, 64 bad usage). */
export function main(args: string[] = [], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): number {
  const started = process.hrtime.bigint();
  let parsed: Arguments;
  try {
    parsed = parseArguments(args);
  } catch (e) {
    out(`${(e as Error).message}\n${USAGE}`);
    return 64;
  }
  const results: Array<{ folder: string; result: GateResult }> = [];
  for (const folder of parsed.folders) {
    if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
      out(`validate: ${folder} is not a folder\n${USAGE}`);
      return 64;
    }
    results.push({ folder, result: validateTree(readManifestTree(folder), { serviceMonitorLabels: parsed.serviceMonitorLabels }) });
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (parsed.json) {
    out(JSON.stringify({ kubernetesVersion: KUBERNETES_VERSION, results, ms: Math.round(ms) }));
  } else {
    for (const { folder, result } of results) {
      const lines = formatReport(result, path.relative(process.cwd(), folder) || '.');
      lines[lines.length - 1] += ` (${ms.toFixed(0)} ms)`;
      lines.forEach((l) => out(l));
    }
  }
  return results.some(({ result }) => result.errors > 0) ? 1 : 0;
}

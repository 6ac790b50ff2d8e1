/**
 * The validation gate as a step of synthesis: the synthesized objects are validated in process,
 * each under the file name it is written to, before anything is written (no YAML is written and
 * read back for it). The result equals `npm run validate` over the written folder
 * (test/gate/in-process.test.ts). A synth whose output has gate errors fails like one with unsafe
 * output: nothing is written, and the findings are listed.
 *
 * For `cdk8s synth`, the result also goes into the CLI's output folder as {@link GATE_RECORD}, with
 * a SHA-1 of every manifest it covers: the validation plugin (validate/cdk8s-plugin) uses it when
 * the manifests it is given are exactly those, instead of running the gate a second time.
 */
import * as crypto from 'crypto';
import { DEFAULT_SERVICE_MONITOR_LABELS, formatReport, GateOptions, GateResult, KUBERNETES_VERSION, validateManifests } from '../validate';
import { UnsafeOutputError } from './guards';
import { KubeObject, manifestFile, OutputTree } from './output';

/** Thrown when the synthesized objects fail the validation gate; nothing is written. */
export class GateFailedError extends UnsafeOutputError {
  constructor(
    message: string,
    /** What the gate found. */
    public readonly result: GateResult,
  ) {
    super(message);
    this.name = 'GateFailedError';
  }
}

/** The file, in the `cdk8s synth` output folder, holding the gate's result for the validation plugin. */
export const GATE_RECORD = '.validation-gate.json';

/** What {@link GATE_RECORD} holds. */
export interface GateRecord {
  /** Format of this record. */
  readonly format: 1;
  /** The labels ServiceMonitors were checked for. */
  readonly serviceMonitorLabels: { readonly [key: string]: string };
  /** Every manifest file the result covers (relative path) with the SHA-1 of its content. */
  readonly files: { readonly [file: string]: string };
  /** As printed by `npm run validate -- --json` for the output folder. */
  readonly kubernetesVersion: string;
  readonly results: ReadonlyArray<{ readonly folder: string; readonly result: GateResult }>;
  readonly ms: number;
}

const results = new WeakMap<OutputTree, GateRun>();

/**
 * Runs the gate over synthesized objects (chart id = environment = folder), as `ApiObject.toJson()`
 * returned them: unshared plain data, read without a copy (validate's `ManifestOptions.unshared`).
 */
export function gateObjects(charts: ReadonlyMap<string, readonly KubeObject[]>, options: GateOptions = {}): GateResult {
  const manifests = [...charts].flatMap(([environment, objects]) => objects.map((object) => ({ file: manifestFile(environment, object), object })));
  return validateManifests(manifests, { ...options, unshared: true });
}

/** A gate run without errors, to be recorded with the tree rendered from the same objects ({@link recordGate}). */
export interface GateRun {
  readonly result: GateResult;
  /** How long it took. */
  readonly ms: number;
  readonly options: GateOptions;
}

/**
 * Runs the gate over synthesized objects before anything is rendered from them.
 * @throws GateFailedError listing every finding when there is any error
 */
export function runGate(charts: ReadonlyMap<string, readonly KubeObject[]>, options: GateOptions = {}): GateRun {
  const started = process.hrtime.bigint();
  const result = gateObjects(charts, options);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.errors > 0) {
    throw new GateFailedError(`the validation gate found ${result.errors} errors in the synthesized objects:\n${formatReport(result).join('\n')}`, result);
  }
  return { result, ms, options };
}

/** Remembers `run` with `tree`, the tree rendered from the objects it validated; returns `tree`. */
export function recordGate(tree: OutputTree, run: GateRun): OutputTree {
  results.set(tree, run);
  return tree;
}

/**
 * Runs the gate over the objects `tree` was rendered from and remembers the result with `tree`.
 * @throws GateFailedError listing every finding when there is any error
 */
export function gateOutput(tree: OutputTree, charts: ReadonlyMap<string, readonly KubeObject[]>, options: GateOptions = {}): OutputTree {
  return recordGate(tree, runGate(charts, options));
}

/** The gate's result for `tree`, when {@link gateOutput} produced it. */
export function gateResultOf(tree: OutputTree): GateResult | undefined {
  return results.get(tree)?.result;
}

/** One line per warning of the gate's result for `tree` (warnings do not fail a synth). */
export function gateWarnings(tree: OutputTree): string[] {
  const result = gateResultOf(tree);
  if (result === undefined || result.warnings === 0) return [];
  return formatReport({ ...result, findings: result.findings.filter((f) => f.severity === 'warning') })
    .slice(0, -1).map((line) => `warning: ${line}`);
}

function sha1(content: string): string {
  return crypto.createHash('sha1').update(content).digest('hex');
}

/**
 * `tree` plus {@link GATE_RECORD} (for the CLI's output folder), when the gate ran for it; else
 * `tree` itself, and the plugin runs the gate over the folder.
 */
export function withGateRecord(tree: OutputTree): OutputTree {
  const gated = results.get(tree);
  if (gated === undefined) return tree;
  const files: { [file: string]: string } = {};
  for (const [file, content] of tree) if (/\.ya?ml$/i.test(file)) files[file] = sha1(content);
  const record: GateRecord = {
    format: 1,
    serviceMonitorLabels: gated.options.serviceMonitorLabels ?? DEFAULT_SERVICE_MONITOR_LABELS,
    files,
    kubernetesVersion: KUBERNETES_VERSION,
    results: [{ folder: '.', result: gated.result }],
    ms: Math.round(gated.ms),
  };
  return new Map([...tree, [GATE_RECORD, `${JSON.stringify(record)}\n`]]);
}

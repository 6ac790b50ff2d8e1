/**
 * Synthesis as one straight pipeline, each step a function of the previous one's result:
 *
 *   resolve   the configuration checked as a whole, each component's release resolved (synth/build.ts)
 *   build     one KCP chart per environment (kcp/), its guardrails, every construct's validation
 *   validate  the validation gate, in process on the synthesized objects (synth/gate.ts)
 *   render    the manifests and the documents: traffic graph, deploy plan, runbooks (synth/render.ts)
 *   write     `dist/` replaced all or nothing, holding its lock (synth/transaction.ts)
 *
 * Nothing here reads a file but the output folder it replaces: the caller passes the release states.
 */
import * as path from 'path';
import { CATALOGUE, ComponentSpec, ConfigError, ENVIRONMENTS, EnvironmentConfig, ReleaseStates } from '../environments';
import { buildCheckedApp } from './build';
import { recordGate, runGate, gateWarnings, withGateRecord } from './gate';
import { UnsafeOutputError } from './guards';
import { diffTree, KubeObject, OutputTree, renderTree, synthesizeCharts, writeTree } from './output';
import { renderDocuments, separatePlatformObjects } from './render';
import { ROOT } from './root';

/** What one synthesis produces: the rendered `dist/` tree and the objects of each of its folders. */
export interface SynthOutput {
  /** The `dist/` tree, gated ({@link gateWarnings} lists its warnings). */
  readonly tree: OutputTree;
  /** The objects of each folder (`<environment>` and `<environment>/platform`) the tree was rendered from. */
  readonly objects: ReadonlyMap<string, KubeObject[]>;
}

/**
 * One synthesis, both results: the rendered `dist/` tree and the objects of each folder it was
 * rendered from. Nothing is written.
 * @throws ConfigError with every configuration and construct problem, before anything is rendered
 * @throws GateFailedError when the validation gate finds errors in the synthesized objects
 */
export function synthesizeOutput(
  environments: readonly EnvironmentConfig[],
  catalogue: readonly ComponentSpec[],
  releaseStates: ReleaseStates,
): SynthOutput {
  // (the documents are rendered before the gate, so that the construct tree is garbage while the
  // gate and the manifests' rendering run: at 1,000 components that lowers the peak memory)
  const { objects, documents } = buildAndSynthesize(environments, catalogue, releaseStates);
  const gate = runGate(objects);
  const tree = recordGate(renderTree(objects, documents), gate);
  return { tree, objects };
}

/** The app built and synthesized into objects, and the documents rendered from both: the app itself is not kept. */
function buildAndSynthesize(
  environments: readonly EnvironmentConfig[],
  catalogue: readonly ComponentSpec[],
  releaseStates: ReleaseStates,
): { objects: Map<string, KubeObject[]>; documents: Map<string, string> } {
  const app = buildCheckedApp(environments, catalogue, releaseStates);
  const objects = separatePlatformObjects(synthesizeCharts(app));
  return { objects, documents: renderDocuments(app, objects) };
}

/** The rendered, gated `dist/` tree of {@link synthesizeOutput}. Nothing is written. */
export function synthesize(
  environments: readonly EnvironmentConfig[],
  catalogue: readonly ComponentSpec[],
  releaseStates: ReleaseStates,
): OutputTree {
  return synthesizeOutput(environments, catalogue, releaseStates).tree;
}

/** The objects of each environment (the platform folder not split off), without the gate or rendering. */
export function synthesizeObjects(
  environments: readonly EnvironmentConfig[],
  catalogue: readonly ComponentSpec[],
  releaseStates: ReleaseStates,
): Map<string, KubeObject[]> {
  return synthesizeCharts(buildCheckedApp(environments, catalogue, releaseStates));
}

/** Options of {@link writeManifests}. */
export interface WriteOptions {
  /** Environments to synthesize. @default ENVIRONMENTS */
  readonly environments?: readonly EnvironmentConfig[];
  /** Components to deploy. @default CATALOGUE */
  readonly catalogue?: readonly ComponentSpec[];
  /**
   * Reads the release states by environment (environments/<env>.release.json for the app); called
   * holding `outdir`'s lock, so that a release writing them and `outdir` together is never half seen.
   */
  readonly releaseStates: () => ReleaseStates;
  /** Folder to write. @default <root>/dist */
  readonly outdir?: string;
  /** A second folder receiving a copy (the `cdk8s synth` CLI's output). @default - none */
  readonly copyTo?: string;
  /** How long to wait for a release or synth writing `outdir` to finish. @default 10000 */
  readonly lockWaitMs?: number;
  /** Where progress and errors go. @default process.stdout / process.stderr */
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
}

/**
 * Synthesizes and writes the manifests. Returns the exit code: 0, or 1 when the configuration or a
 * construct is invalid, another release or synth is writing, or writing failed; then nothing is
 * written and `outdir` is left as it was. The release states are read and `outdir` is written
 * holding `outdir`'s lock, and `outdir` is replaced all or nothing (synth/transaction.ts).
 */
export function writeManifests(o: WriteOptions): number {
  const started = process.hrtime.bigint();
  const out = o.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = o.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const outdir = path.resolve(o.outdir ?? path.join(ROOT, 'dist'));
  const shown = path.relative(ROOT, outdir) || outdir;
  // Errors with a cause the user can act on; anything else is a bug, shown with its stack.
  // (Write errors are recognized by name: synth/lock.ts and synth/transaction.ts define them.)
  // A file-system error on a path (dist/ is a file, a dangling link in it) is the state of the
  // user's tree, not a bug: its message names the path.
  const reasonOf = (e: unknown) => (e instanceof ConfigError || e instanceof UnsafeOutputError
    || (e instanceof Error && ['LockBusyError', 'WriteFailedError', 'RecoveryError'].includes(e.name))
    // (duck-typed: under jest, Node's own errors come from another realm)
    || (typeof e === 'object' && e !== null && typeof (e as NodeJS.ErrnoException).path === 'string' && typeof (e as Error).message === 'string')
    ? (e as Error).message : (e as Error).stack ?? String(e));
  let diff = undefined as ReturnType<typeof diffTree> | undefined;
  let tree: OutputTree;
  try {
    tree = writeTree(outdir, () => {
      const produced = synthesize(o.environments ?? ENVIRONMENTS, o.catalogue ?? CATALOGUE, o.releaseStates());
      diff = diffTree(outdir, produced);
      return produced;
    }, { waitMs: o.lockWaitMs, note: (line) => err(`note: ${line}`) }).tree;
  } catch (e) {
    err(`synth failed, nothing written (${shown} left unchanged): ${reasonOf(e)}`);
    return 1;
  }
  if (o.copyTo !== undefined && path.resolve(o.copyTo) !== outdir) {
    try {
      writeTree(o.copyTo, withGateRecord(tree), { waitMs: o.lockWaitMs });
    } catch (e) {
      err(`synth wrote ${shown}/, but not its copy ${o.copyTo}: ${reasonOf(e)}`);
      return 1;
    }
  }

  for (const line of gateWarnings(tree)) err(line);
  const { changed, missing, extra } = diff!;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const summary = changed.length + missing.length + extra.length === 0 ? 'unchanged'
    : `${missing.length} added, ${changed.length} changed, ${extra.length} removed`;
  out(`${shown}/: ${tree.size} files, ${summary} (${ms.toFixed(0)} ms)`);
  return 0;
}

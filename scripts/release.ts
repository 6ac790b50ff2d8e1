/**
 * `npm run release -- <environment> <component> <action> [tag]`: moves a blue/green release one
 * step as a reviewed change to the repository. Each action edits
 * `environments/<environment>.release.json`, re-synthesizes `dist/<environment>/`, and prints what
 * changed in the manifests in plain words. Illegal transitions are refused and nothing is changed.
 *
 *   npm run release -- production status
 *   npm run release -- production knowledge-service init v1.0.0   (a component without release state)
 *   npm run release -- production init v1.0.0                     (every component without release state)
 *   npm run release -- production knowledge-service stage v1.1.0 [--serving 7]
 *   npm run release -- production knowledge-service promote | finalize | rollback | status
 *   npm run release -- production knowledge-service break-glass [--serving 7]   (records an emergency rollback)
 *
 * `--serving <n>`: the replicas the active colour serves with now, read from the cluster by the
 * pipeline; both colours keep that size until the release is finalized (stage, rollback, break-glass).
 *
 * The state file and `dist/<environment>/` change together or not at all: everything is computed
 * first, then written as one journaled change (synth/transaction.ts) holding the lock that every
 * release and synth takes, so two commands at once run one after the other and an interrupted one
 * is undone by the next. Only the released environment is synthesized and written, once: another
 * environment whose configuration is invalid is named, not fatal (a rollback must work while
 * staging has a typo). What changed is described against `dist/<environment>/` as it is on disk.
 */
import * as fs from 'fs';
import * as path from 'path';
import { synthesizeObjects, synthesizeOutput } from '../synth/pipeline';
import { separatePlatformObjects } from '../synth/render';
import { ROOT } from '../synth/root';
import {
  CATALOGUE, ComponentSpec, ConfigError, ENVIRONMENTS, EnvironmentConfig, own, ReleaseMode, ReleaseStates, ResolvedEnvironment,
  resolveEnvironments,
} from '../environments';
import { describeChanges } from '../release/describe';
import { readEnvironments } from '../review/read';
import { readReleaseStates, releaseFile } from '../release/files';
import {
  Action, allowedActions, ComponentRelease, describeHistory, describePhase, formatReleaseState, initRelease, ReleaseError, ReleaseState,
  transition,
} from '../release/state';
import { UnsafeOutputError } from '../synth/guards';
import { KubeObject, OutputTree } from '../synth/output';
import { LockBusyError } from '../synth/lock';
import { Failpoint, OutputStore, RecoveryError, WriteFailedError } from '../synth/transaction';

/** Where the release command reads and writes; tests point it at a temporary copy. */
export interface ReleaseContext {
  /** Project root holding `environments/*.release.json` and `dist/`. @default ROOT */
  readonly root?: string;
  readonly environments?: readonly EnvironmentConfig[];
  readonly catalogue?: readonly ComponentSpec[];
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
  /** How long to wait for another release or synth to finish. @default 10000 */
  readonly lockWaitMs?: number;
  /** Interrupts the write at a step (tests). @default from KCP_FAILPOINT */
  readonly failpoint?: Failpoint;
  /** The clock: when traffic moves, and whether a bake time has passed. @default new Date() */
  readonly now?: Date;
}

const USAGE = 'usage: npm run release -- <environment> [<component>] <action> [tag] [--serving <n>]  '
  + '(actions: init <tag>, stage <tag>, promote, finalize, rollback, break-glass, status)';

/** Actions that size a release to the scale serving now. */
const SIZED: readonly Action[] = [Action.STAGE, Action.ROLLBACK, Action.BREAK_GLASS];

/** `--serving <n>` / `--serving=<n>` taken out of the arguments: the rest, and the value (or a problem). */
function servingOption(args: readonly string[]): { rest: string[]; serving?: number; problem?: string } {
  const rest: string[] = [];
  let raw: string | undefined;
  let seen = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--serving') { raw = args[++i]; seen++; } else if (a.startsWith('--serving=')) { raw = a.slice('--serving='.length); seen++; } else rest.push(a);
  }
  if (seen === 0) return { rest };
  if (seen > 1) return { rest, problem: '--serving is given more than once' };
  const n = raw !== undefined && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 1000)) {
    return { rest, problem: `--serving must be the number of replicas serving now, an integer from 1 to 1000, got ${JSON.stringify(raw ?? '')}` };
  }
  return { rest, serving: n };
}

/** Environments named by configuration problems that concern every environment. */
const SHARED = ['catalogue', 'registry'];

/** Runs one release command; returns the exit code. */
export function release(args: readonly string[], ctx: ReleaseContext = {}): number {
  const root = ctx.root ?? ROOT;
  const environments = ctx.environments ?? ENVIRONMENTS;
  const err = ctx.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const fail = (message: string) => { err(`release refused, nothing changed: ${message}`); return 1; };

  const option = servingOption(args);
  if (option.problem !== undefined) return fail(`${option.problem}\n${USAGE}`);
  const [envName, second, third, tag, ...extra] = option.rest;
  const env = environments.find((e) => (e as EnvironmentConfig | undefined)?.name === envName);
  if (env === undefined) {
    return fail(`unknown environment ${JSON.stringify(envName ?? '')}; known: ${environments.map((e) => (e as EnvironmentConfig | undefined)?.name).join(', ')}\n${USAGE}`);
  }
  const statusOfAll = second === Action.STATUS && third === undefined;
  const initAll = second === Action.INIT;
  const command: Command = initAll
    ? { env, componentName: undefined, action: Action.INIT, tag: third, serving: option.serving }
    : { env, componentName: statusOfAll ? undefined : second, action: (statusOfAll ? Action.STATUS : third) as Action, tag, serving: option.serving };
  if (extra.length > 0 || (initAll && tag !== undefined)) return fail(`unexpected arguments ${[...(initAll ? [tag] : []), ...extra].join(' ')}\n${USAGE}`);
  if (!Object.values(Action).includes(command.action)) {
    return fail(`unknown action ${JSON.stringify(command.action ?? '')}; allowed: ${Object.values(Action).join(', ')}\n${USAGE}`);
  }
  if (command.serving !== undefined && !SIZED.includes(command.action)) {
    return fail(`--serving sizes a release that moves traffic (${SIZED.join(', ')}), not ${command.action}\n${USAGE}`);
  }

  let store: OutputStore;
  try {
    store = OutputStore.open(path.join(root, 'dist'), {
      command: ['release', ...args].join(' '),
      waitMs: ctx.lockWaitMs,
      failpoint: ctx.failpoint,
      onWait: (holder) => err(`waiting for ${holder.command} (pid ${holder.pid}) to finish...`),
    });
  } catch (e) {
    if (e instanceof LockBusyError || e instanceof RecoveryError) return fail(e.message);
    throw e;
  }
  try {
    for (const note of store.notes) err(`note: ${note}`);
    return releaseHoldingLock(command, store, { ...ctx, root, environments, err }, fail);
  } finally {
    store.close();
  }
}

interface Command {
  readonly env: EnvironmentConfig;
  readonly componentName: string | undefined;
  readonly action: Action;
  readonly tag: string | undefined;
  /** `--serving <n>`. */
  readonly serving?: number;
}

function releaseHoldingLock(
  { env, componentName, action, tag, serving }: Command,
  store: OutputStore,
  ctx: ReleaseContext & { root: string; environments: readonly EnvironmentConfig[]; err: (line: string) => void },
  fail: (message: string) => number,
): number {
  const { root, environments, err } = ctx;
  const catalogue = ctx.catalogue ?? CATALOGUE;
  const out = ctx.out ?? ((l: string) => process.stdout.write(`${l}\n`));

  if (componentName !== undefined && !catalogue.some((c) => c.name === componentName)) {
    return fail(`unknown component ${JSON.stringify(componentName)} in ${env.name}; known: ${catalogue.map((c) => c.name).join(', ')}`);
  }
  if (componentName === undefined && action !== Action.STATUS && action !== Action.INIT) return fail(`${action} needs a component\n${USAGE}`);
  const where = componentName === undefined ? env.name : `${env.name}/${componentName}`;
  const states = readReleaseStates(root, environments);
  // `init` records the state of a component that has none, which leaves its environment invalid
  // until then: the new state is validated instead of the current one.
  const file = states[env.name];
  const readable = file === undefined || (file !== null && typeof file === 'object' && !Array.isArray(file));
  const recorded = readable && file !== undefined ? file as ReleaseState : {};
  // `init` of one component, or of every blue/green component without state (`<env> init <tag>`):
  // an environment with several of them only becomes valid when all are recorded.
  const initialized: { [component: string]: ComponentRelease } = {};
  if (action === Action.INIT) {
    // A state file that cannot be read is repaired by hand (git has its last good version): never overwritten.
    if (!readable) return fail(`environments/${env.name}.release.json is not a release state (${typeof file === 'string' ? file : 'not an object'}); restore it from git before init`);
    if (componentName !== undefined && strategyOf(env, componentName) !== ReleaseMode.BLUE_GREEN) {
      return fail(`${where} is released rolling, not blue/green: its tag is the imageTag in environments/${env.name}.ts`);
    }
    const names = componentName !== undefined ? [componentName]
      : catalogue.map((c) => c.name).filter((c) => own(recorded, c) === undefined && strategyOf(env, c) === ReleaseMode.BLUE_GREEN);
    if (names.length === 0) return fail(`${env.name}: every blue/green component already has a release state; nothing to init`);
    try {
      for (const name of names) initialized[name] = initRelease(`${env.name}/${name}`, own(recorded, name), tag);
    } catch (e) {
      if (e instanceof ReleaseError) return fail(e.message);
      throw e;
    }
  }
  const initial = componentName !== undefined ? initialized[componentName] : undefined;
  const recordedStates = action !== Action.INIT ? states : { ...states, [env.name]: { ...recorded, ...initialized } };
  let resolved: ResolvedEnvironment;
  try {
    resolved = resolveTarget(env, environments, catalogue, recordedStates, err);
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  const blueGreen = catalogue.filter((c) => resolved.components[c.name].strategy === ReleaseMode.BLUE_GREEN).map((c) => c.name);
  if (componentName !== undefined && !blueGreen.includes(componentName)) {
    return fail(`${where} is released rolling, not blue/green: change its imageTag in environments/${env.name}.ts`);
  }

  if (action === Action.STATUS) {
    if (tag !== undefined) return fail(`status takes no tag\n${USAGE}`);
    const names = componentName ? [componentName] : blueGreen;
    if (names.length === 0) out(`${env.name}: no blue/green components (every component is released rolling)`);
    for (const name of names) {
      const r = resolved.releases[name];
      out(`${env.name}/${name}: ${describePhase(r)}; ${describeHistory(r)}; next: ${allowedActions(r.phase).join(' | ')}`);
    }
    return 0;
  }

  let next: ComponentRelease | undefined;
  try {
    next = action === Action.INIT ? initial : transition(where, resolved.releases[componentName!], action, tag, {
      serving, now: ctx.now ?? new Date(), bakeMinutes: resolved.components[componentName!].bakeMinutes,
    });
  } catch (e) {
    if (e instanceof ReleaseError) return fail(e.message);
    throw e;
  }
  const newState: ReleaseState = next === undefined ? resolved.releases : { ...resolved.releases, [componentName!]: next };

  // Everything is computed before anything is written: a failure here changes nothing.
  // Only the released environment is synthesized, once: as the step leaves it.
  const only = [env];
  const newStates: ReleaseStates = { [env.name]: newState };
  let before: KubeObject[] | undefined;
  let after: KubeObject[];
  let tree: OutputTree;
  try {
    // (before `init` the environment is invalid: there is nothing to compare with)
    before = action !== Action.INIT ? objectsBefore(store.outdir, env.name, () => separatePlatformObjects(
      synthesizeObjects(only, catalogue, { [env.name]: states[env.name] })).get(env.name)!) : undefined;
    const output = synthesizeOutput(only, catalogue, newStates);
    after = output.objects.get(env.name)!;
    tree = output.tree;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UnsafeOutputError) return fail(e.message);
    throw e;
  }
  const prefix = `${env.name}/`;
  const envTree = new Map([...tree].filter(([file]) => file.startsWith(prefix)).map(([file, content]) => [file.slice(prefix.length), content]));
  const stateFile = releaseFile(root, env.name);
  try {
    store.commit({ folder: path.join(store.outdir, env.name), tree: envTree, files: new Map([[stateFile, formatReleaseState(newState)]]) });
  } catch (e) {
    if (!(e instanceof WriteFailedError)) throw e;
    err(e.restored ? `release failed, nothing changed: ${e.message}` : `release failed: ${e.message}`);
    return 1;
  }

  const steps = Object.entries(action === Action.INIT ? initialized : { [componentName!]: next! });
  for (const [name, state] of steps) out(`${env.name}/${name}: ${action}${tag ? ` ${tag}` : ''} -> ${describePhase(state)}; ${describeHistory(state)}`);
  for (const line of before === undefined ? [] : describeChanges(env.name, before, after)) out(`  ${line}`);
  const nextActions = [...new Set(steps.flatMap(([, state]) => allowedActions(state.phase)))];
  out(`wrote ${path.relative(root, stateFile)} and dist/${env.name}/; review and commit them. Next: ${nextActions.join(' | ')}`);
  return 0;
}

/**
 * The objects of `dist/<environment>/` before the step (the folder the deploy applies; `platform/`
 * apart): read from the folder as it is on disk, under the lock, since that is what the step's
 * change to it is described against. Only when the folder is missing, holds no manifest or cannot
 * be read are they synthesized from the recorded release state instead (`synthesizeBefore`).
 */
function objectsBefore(outdir: string, environment: string, synthesizeBefore: () => KubeObject[]): KubeObject[] {
  const folder = path.join(outdir, environment);
  let tree: Map<string, string>;
  try {
    tree = new Map(fs.readdirSync(folder, { withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
      .map((entry) => [`${environment}/${entry.name}`, fs.readFileSync(path.join(folder, entry.name), 'utf8')]));
  } catch (e) {
    if (typeof (e as NodeJS.ErrnoException).code === 'string') return synthesizeBefore(); // missing or unreadable folder
    throw e;
  }
  if (tree.size === 0) return synthesizeBefore();
  try {
    return (readEnvironments(tree, `dist/${environment}/`).get(environment) ?? []) as unknown as KubeObject[];
  } catch (e) {
    // a file that is not a manifest any more (edited by hand, a merge conflict left in it)
    if (e instanceof Error && e.message.startsWith('cannot read ')) return synthesizeBefore();
    throw e;
  }
}

/**
 * Resolves `env`. When only other environments are invalid, `env` is resolved on its own and each
 * invalid one is named in a note: a release of one environment must not wait for a fix of another.
 * Problems of `env` itself, and of what every environment shares (catalogue, registry), refuse it.
 * @throws ConfigError with the problems that block `env`.
 */
function resolveTarget(
  env: EnvironmentConfig,
  environments: readonly EnvironmentConfig[],
  catalogue: readonly ComponentSpec[],
  states: ReleaseStates,
  note: (line: string) => void,
): ResolvedEnvironment {
  try {
    return resolveEnvironments(environments, catalogue, states).find((e) => e.name === env.name)!;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const others = new Map<string, number>();
    for (const p of e.problems) {
      if (p.environment !== env.name && !SHARED.includes(p.environment) && environments.some((x) => x.name === p.environment)) {
        others.set(p.environment, (others.get(p.environment) ?? 0) + 1);
      }
    }
    const blocking = e.problems.filter((p) => !others.has(p.environment));
    if (blocking.length > 0) throw new ConfigError(blocking);
    const resolved = resolveEnvironments([env], catalogue, { [env.name]: states[env.name] })[0];
    for (const [name, count] of others) {
      note(`note: ${name} is invalid (${count} problem${count === 1 ? '' : 's'}; npm run synth lists them); releasing ${env.name} only`);
    }
    return resolved;
  }
}

/** The release strategy of `component` in `env` as written (component override, else defaults). */
function strategyOf(env: EnvironmentConfig, component: string): ReleaseMode | undefined {
  return own(env.components, component)?.strategy ?? env.defaults?.strategy;
}

/** Entry point of `npm run release`. */
export function main(args: string[]): number {
  return release(args);
}

/**
 * `npm run release -- <environment> <component> <action> [tag]`: moves a blue/green release one
 * step as a reviewed change to the repository. Each action edits
 * `environments/<environment>.release.json`, re-synthesizes `dist/`, and prints what changed in the
 * manifests in plain words. Illegal transitions are refused and nothing is changed.
 *
 *   npm run release -- production status
 *   npm run release -- production knowledge-service stage v1.1.0
 *   npm run release -- production knowledge-service promote | finalize | rollback | status
 */
import * as path from 'path';
import { ROOT, synthesizeObjects, writeManifests } from '../main';
import {
  CATALOGUE, ComponentSpec, ConfigError, ENVIRONMENTS, EnvironmentConfig, ReleaseMode, resolveEnvironments,
} from '../environments';
import { describeChanges } from '../release/describe';
import { readReleaseStates, releaseFile, writeReleaseState } from '../release/files';
import { Action, allowedActions, describePhase, ReleaseError, transition } from '../release/state';

/** Where the release command reads and writes; tests point it at a temporary copy. */
export interface ReleaseContext {
  /** Project root holding `environments/*.release.json` and `dist/`. @default ROOT */
  readonly root?: string;
  readonly environments?: readonly EnvironmentConfig[];
  readonly catalogue?: readonly ComponentSpec[];
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
}

const USAGE = 'usage: npm run release -- <environment> [<component>] <action> [tag]  (actions: stage <tag>, promote, finalize, rollback, status)';

/** Runs one release command; returns the exit code. */
export function release(args: readonly string[], ctx: ReleaseContext = {}): number {
  const root = ctx.root ?? ROOT;
  const environments = ctx.environments ?? ENVIRONMENTS;
  const catalogue = ctx.catalogue ?? CATALOGUE;
  const out = ctx.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = ctx.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const fail = (message: string) => { err(`release refused, nothing changed: ${message}`); return 1; };

  const [envName, second, third, tag, ...extra] = args;
  const env = environments.find((e) => e.name === envName);
  if (env === undefined) {
    return fail(`unknown environment ${JSON.stringify(envName ?? '')}; known: ${environments.map((e) => e.name).join(', ')}\n${USAGE}`);
  }
  const statusOfAll = second === Action.STATUS && third === undefined;
  const componentName = statusOfAll ? undefined : second;
  const action = (statusOfAll ? Action.STATUS : third) as Action;
  if (extra.length > 0) return fail(`unexpected arguments ${extra.join(' ')}\n${USAGE}`);
  if (!Object.values(Action).includes(action)) {
    return fail(`unknown action ${JSON.stringify(action ?? '')}; allowed: ${Object.values(Action).join(', ')}\n${USAGE}`);
  }

  const states = readReleaseStates(root, environments);
  let resolved;
  try {
    resolved = resolveEnvironments(environments, catalogue, states).find((e) => e.name === env.name)!;
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  const blueGreen = catalogue.filter((c) => resolved.components[c.name].strategy === ReleaseMode.BLUE_GREEN).map((c) => c.name);

  if (componentName !== undefined && !catalogue.some((c) => c.name === componentName)) {
    return fail(`unknown component ${JSON.stringify(componentName)} in ${env.name}; known: ${catalogue.map((c) => c.name).join(', ')}`);
  }
  if (componentName !== undefined && !blueGreen.includes(componentName)) {
    return fail(`${env.name}/${componentName} is released rolling, not blue/green: change its imageTag in environments/${env.name}.ts`);
  }

  if (action === Action.STATUS) {
    if (tag !== undefined) return fail(`status takes no tag\n${USAGE}`);
    const names = componentName ? [componentName] : blueGreen;
    if (names.length === 0) out(`${env.name}: no blue/green components (every component is released rolling)`);
    for (const name of names) {
      const r = resolved.releases[name];
      out(`${env.name}/${name}: ${describePhase(r)}; next: ${allowedActions(r.phase).join(' | ')}`);
    }
    return 0;
  }
  if (componentName === undefined) return fail(`${action} needs a component\n${USAGE}`);

  let next;
  try {
    next = transition(`${env.name}/${componentName}`, resolved.releases[componentName], action, tag);
  } catch (e) {
    if (e instanceof ReleaseError) return fail(e.message);
    throw e;
  }
  const newState = { ...resolved.releases, [componentName]: next };
  const newStates = { ...states, [env.name]: newState };

  let before;
  let after;
  try {
    before = synthesizeObjects(environments, catalogue, states).get(env.name)!;
    after = synthesizeObjects(environments, catalogue, newStates).get(env.name)!;
  } catch (e) {
    return fail((e as Error).message);
  }
  writeReleaseState(root, env.name, newState);
  const code = writeManifests({
    environments, catalogue, releaseStates: newStates, outdir: path.join(root, 'dist'), out: () => undefined, err,
  });
  if (code !== 0) return code;

  out(`${env.name}/${componentName}: ${action}${tag ? ` ${tag}` : ''} -> ${describePhase(next)}`);
  for (const line of describeChanges(env.name, before, after)) out(`  ${line}`);
  out(`wrote ${path.relative(root, releaseFile(root, env.name))} and dist/${env.name}/; review and commit them. Next: ${allowedActions(next.phase).join(' | ')}`);
  return 0;
}

/** Entry point of `npm run release`. */
export function main(args: string[]): number {
  return release(args);
}

import { buildApp } from '../synth/build';
import { ROOT } from '../synth/root';
import { CATALOGUE, ComponentSpec, ConfigError, ENVIRONMENTS, EnvironmentConfig, ReleaseStates, resolveEnvironments } from '../environments';
import { readReleaseStates } from '../release/files';
import { KubeObject, synthesizeCharts } from '../synth/output';

/** A loosely-typed Kubernetes object for assertions (tests read deep paths freely). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = KubeObject & { spec?: any; data?: any; metadata: KubeObject['metadata'] & { labels?: any; annotations?: any } };

/** Synthesizes `environments` in memory; returns objects per environment name. */
export function synthObjects(
  environments: readonly EnvironmentConfig[] = ENVIRONMENTS,
  catalogue: readonly ComponentSpec[] = CATALOGUE,
  releaseStates: ReleaseStates = committedReleaseStates(),
): Map<string, Obj[]> {
  return synthesizeCharts(buildApp(resolveEnvironments(environments, catalogue, releaseStates), catalogue)) as Map<string, Obj[]>;
}

/** The release state files committed in environments/ (what `npm run synth` reads). */
export function committedReleaseStates(): ReleaseStates {
  return readReleaseStates(ROOT, ENVIRONMENTS);
}

/** Finds exactly one object by kind and name, or fails with what exists. */
export function find(objects: readonly Obj[], kind: string, name: string): Obj {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) {
    const names = objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    throw new Error(`expected one ${kind} ${name}, found ${found.length} (${kind}s: ${names.join(', ')})`);
  }
  return found[0];
}

/** All objects of a kind. */
export function ofKind(objects: readonly Obj[], kind: string): Obj[] {
  return objects.filter((o) => o.kind === kind);
}

/** True when every `selector` label is present with the same value in `labels`. */
export function matches(selector: { [k: string]: string }, labels: { [k: string]: string } | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** A copy of an environment with `patch` applied to it (for bad-input tests). */
export function withChanges(env: EnvironmentConfig, patch: Partial<EnvironmentConfig>): EnvironmentConfig {
  return { ...env, ...patch };
}

/** The problems `resolveEnvironments` reports for these inputs, formatted one per line, or [] when valid. */
export function configProblems(
  environments: readonly EnvironmentConfig[],
  catalogue: readonly ComponentSpec[] = CATALOGUE,
  releaseStates: ReleaseStates = committedReleaseStates(),
): string[] {
  try {
    resolveEnvironments(environments, catalogue, releaseStates);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.message.split('\n').filter((l) => l.startsWith('  - ')).map((l) => l.slice(4));
  }
}

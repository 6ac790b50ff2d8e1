/**
 * The validation gate: every object of dist/ checked against the strict Kubernetes 1.28 (and CRD)
 * schemas, the restricted Pod Security Standard, and the references between objects.
 *
 *   npm run validate                 (scripts/validate.ts)
 *   validateTree(readManifestTree('dist'))   (a folder, in-process, as the tests do)
 *   validateManifests([{ file, object }])     (synthesized objects, before anything is written)
 */
import { checkAutoscalerTargets, checkDisruptionBudgets, checkDisruptionBudgetSelectors, checkIntOrPercent } from './availability';
import { EnvironmentIndex } from './environment';
import { GUARDRAIL_CHECKS } from './guardrails';
import { HTTP_ROUTE_CHECKS } from './http-routes';
import { ROUTING_CHECKS } from './routing';
import { ROLLOUT_CHECKS } from './rollouts';
import { compareFindings, describeObject, Finding, formatFinding, ManifestObject } from './findings';
import { environmentOf, isManifestFile, LoadedManifests, loadManifests, manifestsOf, SynthesizedManifest } from './load';
import { checkDuplicates, checkLabels, checkObjectName, checkPortNames } from './names';
import { checkPodSecurity } from './pod-security';
import { checkConfigReferences, checkNamespaces, checkOutOfBandSecretsAnnotation } from './references';
import { SchemaRegistry } from './registry';
import { checkSchema } from './schema';
import {
  checkIngressBackends, checkNetworkPolicySelectors, checkServiceMonitorLabels, checkServiceMonitorPorts, checkServiceMonitorSelectors,
  checkServiceSelectors, checkServiceTargetPorts, DEFAULT_SERVICE_MONITOR_LABELS, LabelMap,
} from './traffic';

export { CRD_PACKAGES } from './crds';
export type { CrdPackage } from './crds';
export { EnvironmentIndex } from './environment';
export { compareFindings, describeObject, findingAt, formatFinding, formatPath } from './findings';
export type { Finding, Json, JsonObject, JsonPath, ManifestObject, Segment, Severity } from './findings';
export { FIELD_DELTAS, KUBERNETES_KINDS, KUBERNETES_VERSION, SCHEMA_SOURCE } from './kubernetes';
export type { FieldDelta } from './kubernetes';
export { environmentOf, loadManifests, manifestsOf, readManifestTree } from './load';
export type { LoadedManifests, SynthesizedManifest } from './load';
export { LabelIndex } from './selectors';
export type { Labels } from './selectors';
export { POD_SECURITY_CONTROLS } from './pod-security';
export type { PodSecurityControl, Violation } from './pod-security';
export { SchemaRegistry } from './registry';
export type { SchemaEntry } from './registry';
export { DEFAULT_SERVICE_MONITOR_LABELS } from './traffic';
export type { LabelMap } from './traffic';

/** Options of the gate. */
export interface GateOptions {
  /** Labels every ServiceMonitor must carry for the cluster's Prometheus to select it. @default { release: 'prometheus' } */
  readonly serviceMonitorLabels?: LabelMap;
  /** Where schemas come from. @default SchemaRegistry.default() */
  readonly registry?: SchemaRegistry;
}

/** A check of one object. */
export type ObjectCheck = (object: ManifestObject, options: Required<GateOptions>) => Finding[];

/** A check of the objects of one environment together. */
export type EnvironmentCheck = (env: EnvironmentIndex, options: Required<GateOptions>) => Finding[];

/** Checks run on every object, in order. */
export const OBJECT_CHECKS: readonly ObjectCheck[] = [
  (o, opts) => checkSchema(o, opts.registry),
  checkPodSecurity,
  checkObjectName,
  checkLabels,
  checkPortNames,
  checkIntOrPercent,
];

/**
 * Checks run on each environment's objects. They find objects by API group and kind, whatever the
 * version: an object whose apiVersion has no schema is reported once (`schema/unknown-kind`) and still
 * counts as what it is, so that one wrong apiVersion does not turn every reference to it into a finding.
 */
export const ENVIRONMENT_CHECKS: readonly EnvironmentCheck[] = [
  checkDuplicates,
  (env, opts) => checkNamespaces(env, opts.registry),
  checkServiceSelectors,
  checkServiceTargetPorts,
  checkIngressBackends,
  checkServiceMonitorSelectors,
  checkServiceMonitorPorts,
  (env, opts) => checkServiceMonitorLabels(env, opts.serviceMonitorLabels),
  checkNetworkPolicySelectors,
  checkConfigReferences,
  checkOutOfBandSecretsAnnotation,
  checkDisruptionBudgets,
  checkDisruptionBudgetSelectors,
  checkAutoscalerTargets,
  ...GUARDRAIL_CHECKS,
  ...ROUTING_CHECKS,
  ...HTTP_ROUTE_CHECKS,
  ...ROLLOUT_CHECKS,
];

/** What the gate found. */
export interface GateResult {
  /** Every finding, sorted by file, object and path. */
  readonly findings: readonly Finding[];
  /** Objects checked. */
  readonly objects: number;
  /** Manifest files read. */
  readonly files: number;
  /** Environments (top-level folders) seen, sorted. */
  readonly environments: readonly string[];
  /** Findings that fail the gate. */
  readonly errors: number;
  /** Findings that do not. */
  readonly warnings: number;
}

function resolveOptions(options: GateOptions): Required<GateOptions> {
  return {
    serviceMonitorLabels: options.serviceMonitorLabels ?? DEFAULT_SERVICE_MONITOR_LABELS,
    registry: options.registry ?? SchemaRegistry.default(),
  };
}

/** Runs every check over parsed objects (all environments). */
export function validateObjects(objects: readonly ManifestObject[], options: GateOptions = {}): Finding[] {
  const opts = resolveOptions(options);
  const findings = objects.flatMap((o) => OBJECT_CHECKS.flatMap((check) => check(o, opts)));
  const environments = [...new Set(objects.map((o) => o.environment))].sort();
  for (const name of environments) {
    const env = new EnvironmentIndex(name, objects.filter((o) => o.environment === name));
    findings.push(...ENVIRONMENT_CHECKS.flatMap((check) => check(env, opts)));
  }
  return findings;
}

/** Validates a tree of manifest files (relative path -> content), e.g. `readTree('dist')`. Never throws on bad input. */
export function validateTree(tree: ReadonlyMap<string, string>, options: GateOptions = {}): GateResult {
  return gateResult(loadManifests(tree), [...tree.keys()], options);
}

/** Options of {@link validateManifests}. */
export interface ManifestOptions extends GateOptions {
  /**
   * The caller vouches that the objects are plain JSON data (no `undefined` fields, no class
   * instances), that no node of one is shared with another place, and that nothing changes them
   * while the gate runs, as cdk8s' `ApiObject.toJson()` returns them (it rebuilds every object and
   * list): the gate then reads them as they are instead of copying them first, which saves the
   * memory of a second copy of the output.
   * @default false
   */
  readonly unshared?: boolean;
}

/**
 * Validates synthesized objects in process, each with the file it is (or would be) written to: the
 * same result as {@link validateTree} over those files, without writing or parsing YAML. Never throws
 * on bad input.
 */
export function validateManifests(manifests: Iterable<SynthesizedManifest>, options: ManifestOptions = {}): GateResult {
  const list = [...manifests];
  return gateResult(manifestsOf(list, { unshared: options.unshared }), list.map((m) => m.file), options);
}

function gateResult(loaded: LoadedManifests, paths: readonly string[], options: GateOptions): GateResult {
  const findings = [...loaded.findings, ...validateObjects(loaded.objects, options)].sort(compareFindings);
  const files = [...new Set(paths.filter(isManifestFile))];
  return {
    findings,
    objects: loaded.objects.length,
    files: files.length,
    environments: [...new Set(files.map(environmentOf))].sort(),
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

/**
 * The report printed by `npm run validate` and `cdk8s synth`: findings grouped per object (file,
 * environment, kind, namespace/name), one line per finding with its JSON path, then a summary.
 */
export function formatReport(result: GateResult, root = 'dist'): string[] {
  const lines: string[] = [];
  let current = '';
  for (const f of result.findings) {
    const object = f.kind === undefined ? '' : `: ${describeObject(f)}`;
    const heading = `${root}/${f.file}${object}${f.environment === '' ? '' : ` (environment ${f.environment})`}`;
    if (heading !== current) {
      lines.push(heading);
      current = heading;
    }
    const where = f.path !== '' ? f.path : f.kind === undefined ? '(file)' : '(object)';
    lines.push(`  ${f.severity.padEnd(7)} ${where}: ${f.message} [${f.rule}]`);
  }
  const envs = result.environments.filter((e) => e !== '');
  lines.push(`validate: ${result.objects} objects in ${result.files} files${envs.length === 0 ? '' : ` (${envs.join(', ')})`}: `
    + `${result.errors} errors, ${result.warnings} warnings`);
  return lines;
}

/** One line per finding (what tests compare). */
export function findingLines(findings: readonly Finding[]): string[] {
  return findings.map(formatFinding);
}

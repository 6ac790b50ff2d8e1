// The validation gate as a cdk8s validation plugin, so that a plain `cdk8s synth` reports the same
// findings as `npm run validate`. cdk8s.yaml loads it from this folder (a local plugin: no network):
//
//   validations:
//     - package: ./validate/cdk8s-plugin
//       version: 0.0.0
//       class: ValidationGate
//
// The CLI `require`s plain JavaScript, so this file only adapts. The app already ran the gate in
// process on the objects it synthesized (synth/gate.ts) and left the result in the CLI's folder as
// .validation-gate.json, with the SHA-1 of every manifest it covers: when the manifests the CLI
// hands over are exactly those, with the same ServiceMonitor labels, that result is used. Otherwise
// (another app, edited files, other properties) the TypeScript gate runs through scripts/run.js (the
// same cached esbuild bundle `npm run validate` uses) on the folder the CLI wrote. Either way each
// error becomes a cdk8s violation; warnings are logged and do not fail the synth.
'use strict';
const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * The folder the CLI wrote its manifests to: the deepest folder containing all of them. When they
 * all sit in one folder, that folder is itself an environment, so its parent is the root.
 */
function manifestRoot(manifests) {
  if (manifests.length === 0) return path.resolve('.');
  const dirs = manifests.map((m) => path.dirname(path.resolve(m)).split(path.sep));
  let common = dirs[0];
  for (const dir of dirs.slice(1)) {
    let i = 0;
    while (i < common.length && i < dir.length && common[i] === dir[i]) i++;
    common = common.slice(0, i);
  }
  const root = common.join(path.sep) || path.sep;
  return dirs.every((d) => d.length === common.length) ? path.dirname(root) : root;
}

/** One cdk8s violation per error finding of a gate result. */
function toViolations(root, findings) {
  return findings.filter((f) => f.severity === 'error').map((f) => ({
    ruleName: f.rule,
    recommendation: f.message,
    fix: 'See "Validation gate" in README.md; fix the construct or environment that produced this object, then synth again.',
    violatingResources: [{
      resourceName: f.kind === undefined ? '(file)' : `${f.kind} ${f.namespace === undefined ? '' : `${f.namespace}/`}${f.name}`,
      locations: [f.path === '' ? '(object)' : f.path],
      manifestPath: path.join(root, f.file),
    }],
  }));
}

/** Runs `npm run validate -- --json <root>` without npm; returns its parsed JSON or throws with its output. */
function runGate(root, props) {
  const args = [path.join(ROOT, 'scripts', 'run.js'), 'scripts/validate.ts', '--json'];
  if (props.serviceMonitorLabels !== undefined) {
    args.push('--servicemonitor-labels', Object.entries(props.serviceMonitorLabels).map(([k, v]) => `${k}=${v}`).join(','));
  }
  args.push(root);
  const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (child.status !== 0 && child.status !== 1) {
    throw new Error(`the validation gate failed (exit ${child.status}):\n${child.stdout}${child.stderr}`);
  }
  return JSON.parse(child.stdout);
}

/** The file in which synth/gate.ts leaves the in-process result (GATE_RECORD there). */
const GATE_RECORD = '.validation-gate.json';
const DEFAULT_SERVICE_MONITOR_LABELS = { release: 'prometheus' };

function sameLabels(a, b) {
  const keys = Object.keys(a).sort();
  return JSON.stringify(keys) === JSON.stringify(Object.keys(b).sort()) && keys.every((k) => a[k] === b[k]);
}

/**
 * The gate's output recorded by the app for exactly `manifests` (same files, same contents) and
 * these properties, or undefined when there is none or it does not fit.
 */
function recordedGate(root, manifests, props) {
  let record;
  try {
    record = JSON.parse(fs.readFileSync(path.join(root, GATE_RECORD), 'utf8'));
  } catch {
    return undefined;
  }
  if (record === null || record.format !== 1 || typeof record.files !== 'object' || record.files === null) return undefined;
  if (!sameLabels(props.serviceMonitorLabels ?? DEFAULT_SERVICE_MONITOR_LABELS, record.serviceMonitorLabels ?? {})) return undefined;
  const files = manifests.map((m) => path.relative(root, path.resolve(m)).split(path.sep).join('/'));
  if (new Set(files).size !== Object.keys(record.files).length) return undefined;
  for (const file of files) {
    const expected = record.files[file];
    if (typeof expected !== 'string') return undefined;
    let content;
    try {
      content = fs.readFileSync(path.join(root, file));
    } catch {
      return undefined;
    }
    if (crypto.createHash('sha1').update(content).digest('hex') !== expected) return undefined;
  }
  return { kubernetesVersion: record.kubernetesVersion, results: record.results, ms: record.ms };
}

/** cdk8s validation plugin running the project's validation gate. */
class ValidationGate {
  /** @param {{ serviceMonitorLabels?: Record<string, string> }} props from `properties:` in cdk8s.yaml */
  constructor(props = {}) {
    this.props = props;
  }

  async validate(context) {
    const root = manifestRoot(context.manifests);
    let output;
    try {
      output = recordedGate(root, context.manifests, this.props) ?? runGate(root, this.props);
    } catch (e) {
      context.report.addViolation({
        ruleName: 'gate/failed', recommendation: String(e.message), fix: 'Run `npm run validate` to see the error.',
        violatingResources: [{ resourceName: '(all)', locations: [], manifestPath: root }],
      });
      context.report.submit('failure');
      return;
    }
    let errors = 0;
    let warnings = 0;
    for (const { result } of output.results) {
      for (const violation of toViolations(root, result.findings)) context.report.addViolation(violation);
      for (const f of result.findings.filter((x) => x.severity === 'warning')) {
        context.logger.log(`warning: ${f.file} ${f.kind ?? ''} ${f.name ?? ''} ${f.path}: ${f.message} [${f.rule}]`);
      }
      errors += result.errors;
      warnings += result.warnings;
    }
    context.report.submit(errors > 0 ? 'failure' : 'success', {
      'Kubernetes version': output.kubernetesVersion,
      'Errors': String(errors),
      'Warnings': String(warnings),
      'Time (ms)': String(output.ms),
    });
  }
}

module.exports = { GATE_RECORD, ValidationGate, manifestRoot, recordedGate, toViolations };

// The validation gate as a cdk8s validation plugin, so that a plain `cdk8s synth` reports the same
// findings as `npm run validate`. cdk8s.yaml loads it from this folder (a local plugin: no network):
//
//   validations:
//     - package: ./validate/cdk8s-plugin
//       version: 0.0.0
//       class: ValidationGate
//
// The CLI `require`s plain JavaScript, so this file only adapts: it runs the TypeScript gate through
// scripts/run.js (the same cached esbuild bundle `npm run validate` uses) on the folder the CLI wrote,
// and turns each error into a cdk8s violation. Warnings are logged and do not fail the synth.
'use strict';
const { spawnSync } = require('child_process');
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
      output = runGate(root, this.props);
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

module.exports = { ValidationGate, manifestRoot, toViolations };

/**
 * The build step of synthesis: the configuration checked as a whole, each component's release
 * resolved, one KCP chart per environment with its namespace guardrails, and every construct's
 * validation run, so that construct errors are reported like configuration ones.
 */
import { App } from 'cdk8s';
import { PropsError } from '../constructs';
import { checkEnvironments, ComponentSpec, ConfigError, ConfigProblem, EnvironmentConfig, ReleaseStates, ResolvedEnvironment } from '../environments';
import { ComponentsFailedError, KcpEnvironmentChart, PROJECT } from '../kcp';
import { addGuardrails } from '../release/guardrails';
import { resolveReleases } from '../release/strategies';

/**
 * Builds the chart of one resolved environment in `app`, with the release of each component
 * resolved from its state, and adds its namespace guardrails last: they derive from everything the
 * chart holds (release/guardrails.ts; README "Namespace guardrails").
 */
export function buildEnvironment(app: App, environment: ResolvedEnvironment, catalogue: readonly ComponentSpec[]): KcpEnvironmentChart {
  const chart = new KcpEnvironmentChart(app, environment.name, { environment, catalogue, releases: resolveReleases(environment, catalogue) });
  addGuardrails(chart, {
    environment, workloads: chart.workloads, ingressHosts: chart.ingressHosts, labels: { 'app.kubernetes.io/part-of': PROJECT }, prefix: PROJECT,
    pipelineSecrets: chart.pipelineSecrets,
  });
  return chart;
}

/** Builds the app: one chart per (already resolved) environment. */
export function buildApp(environments: readonly ResolvedEnvironment[], catalogue: readonly ComponentSpec[]): App {
  const app = new App();
  for (const environment of environments) buildEnvironment(app, environment, catalogue);
  return app;
}

/**
 * Checks the configuration, then builds every environment whose configuration is valid and runs the
 * constructs' validations: construct errors become problems like configuration ones, so that one
 * report lists them all.
 * @throws ConfigError with every problem found
 */
export function buildCheckedApp(
  environments: readonly EnvironmentConfig[],
  catalogue: readonly ComponentSpec[],
  releaseStates: ReleaseStates,
): App {
  const check = checkEnvironments(environments, catalogue, releaseStates);
  const problems = [...check.problems];
  const app = new App();
  // Every environment is built from the catalogue: with a problem there, building would only repeat it.
  const catalogueValid = !problems.some((p) => p.environment === 'catalogue');
  for (const environment of catalogueValid ? check.resolved : []) {
    try {
      const chart = buildEnvironment(app, environment, catalogue);
      for (const c of chart.node.findAll()) {
        const component = c.node.path.split('/')[1];
        for (const message of c.node.validate()) {
          problems.push({
            environment: environment.name, component: catalogue.some((s) => s.name === component) ? component : undefined,
            field: 'construct', value: undefined, rule: `${c.node.path} is invalid: ${message}`,
          });
        }
      }
    } catch (e) {
      problems.push(...constructProblems(environment.name, e));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, check.skipped);
  return app;
}

/** An error a construct raised for its input (not a bug of ours: those keep their stack trace). */
function isInputError(e: unknown): e is Error {
  return e instanceof Error && !(e instanceof TypeError || e instanceof ReferenceError || e instanceof RangeError || e instanceof SyntaxError);
}

/** Problems of the kind configuration errors have, for an error a construct raised. */
function constructProblems(environment: string, e: unknown, component?: string): ConfigProblem[] {
  if (e instanceof ComponentsFailedError) return e.failures.flatMap((f) => constructProblems(environment, f.error, f.component));
  if (e instanceof PropsError) {
    const kind = e.where.split(' ')[0];
    return [{ environment, component, field: `${kind} ${e.field}`, value: e.value, rule: e.rule }];
  }
  if (isInputError(e)) return [{ environment, component, field: 'construct', value: undefined, rule: `refused its input: ${e.message}` }];
  throw e;
}

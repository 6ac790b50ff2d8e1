// Types of the cdk8s validation plugin (index.js), for the tests that import it.
import type { Finding } from '../findings';

/** The part of cdk8s-cli's ValidationContext the plugin uses. */
export interface PluginContext {
  readonly manifests: readonly string[];
  readonly report: {
    addViolation(violation: Violation): void;
    submit(status: 'success' | 'failure', metadata?: { readonly [key: string]: string }): void;
  };
  readonly logger: { log(message: string): void };
}

/** A cdk8s validation violation. */
export interface Violation {
  readonly ruleName: string;
  readonly recommendation: string;
  readonly fix: string;
  readonly violatingResources: ReadonlyArray<{ readonly resourceName: string; readonly locations: readonly string[]; readonly manifestPath: string }>;
}

/** Properties of the plugin (`properties:` of its entry in cdk8s.yaml). */
export interface ValidationGateProps {
  /** Labels every ServiceMonitor must carry. @default { release: 'prometheus' } */
  readonly serviceMonitorLabels?: { readonly [key: string]: string };
}

/** cdk8s validation plugin running the project's validation gate. */
export declare class ValidationGate {
  constructor(props?: ValidationGateProps);
  validate(context: PluginContext): Promise<void>;
}

/** The folder the CLI wrote `manifests` to. */
export declare function manifestRoot(manifests: readonly string[]): string;

/** One cdk8s violation per error finding. */
export declare function toViolations(root: string, findings: readonly Finding[]): Violation[];

/** The file in which the app leaves its in-process gate result for the plugin. */
export declare const GATE_RECORD: string;

/** What `npm run validate -- --json` prints. */
export interface GateOutput {
  readonly kubernetesVersion: string;
  readonly results: ReadonlyArray<{ readonly folder: string; readonly result: import('../index').GateResult }>;
  readonly ms: number;
}

/** The gate output the app recorded in `root` for exactly `manifests` and `props`, if any. */
export declare function recordedGate(root: string, manifests: readonly string[], props: ValidationGateProps): GateOutput | undefined;

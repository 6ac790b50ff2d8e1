/**
 * The naming conventions a platform sets once and every construct reads: the label keys workloads are
 * selected and told apart by, the domain of the library's annotation keys, and the UID pods run as.
 *
 * This module is neutral ground: it holds no construct, imports no cdk8s code (only the pure
 * validators), and is imported both by the constructs that write these labels and annotations and by
 * the validation gate that reads them back, so neither depends on the other.
 *
 * A platform attaches its conventions to a scope (usually its chart) before adding constructs to it:
 *
 *   const chart = new Chart(app, 'shop');
 *   Conventions.set(chart, new Conventions({ appLabel: 'app.kubernetes.io/name', annotationDomain: 'shop.example.com' }));
 *
 * Every construct below that scope reads them with {@link Conventions.of} (through the construct
 * tree's context: resolved once, passed down, nothing global). Without `set`, the neutral
 * {@link Conventions.DEFAULT} apply.
 */
import type { IConstruct } from 'constructs';
import { checkDnsSubdomain, checkInteger, checkLabelKey, PropsError } from './validation';

/** Properties of {@link Conventions}. */
export interface ConventionsProps {
  /**
   * Label key selecting the pods of one workload (its value is the workload name): what Services,
   * NetworkPolicies, PodDisruptionBudgets and the Deployment selector match.
   * @default 'app'
   */
  readonly appLabel?: string;
  /**
   * Label key telling the colours of a blue/green pair apart (`blue` / `green`); part of each
   * colour's Deployment selector and of every series Prometheus scrapes from its pods.
   * @default 'version'
   */
  readonly colourLabel?: string;
  /**
   * DNS domain the library's annotation keys are written under: `<group>.<domain>/<name>`, e.g.
   * `networking.<domain>/pods-managed-elsewhere`. Use a domain you own.
   * @default 'constructs.internal' (`.internal` is the top-level domain ICANN reserved in 2024 for
   * private use: the default can never clash with keys of a real domain's owner)
   */
  readonly annotationDomain?: string;
  /**
   * Numeric non-root UID (and GID) pods run as, unless a construct's own prop says otherwise.
   * @default 65532 (the `nonroot` user of the distroless and Chainguard base images; an image
   * built with another user must say so here or per workload)
   */
  readonly runAsUser?: number;
}

/** The library's annotations, each `<group>.<annotationDomain>/<name>`. */
export const LIBRARY_ANNOTATIONS = {
  /**
   * On a NetworkPolicy whose pods something other than these manifests runs (its value says what),
   * so that "this policy selects no pod in the output" is expected.
   */
  podsManagedElsewhere: { group: 'networking', name: 'pods-managed-elsewhere' },
  /**
   * On a Namespace: the Secrets its manifests reference but do not create (CI or an operator creates
   * them), as JSON `{ "<secret>": ["<key>", ...] }`.
   */
  outOfBandSecrets: { group: 'secrets', name: 'provided-out-of-band' },
} as const;

/** One of the library's annotations. */
export type LibraryAnnotation = keyof typeof LIBRARY_ANNOTATIONS;

/** The context key the conventions of a scope are stored under. */
const CONTEXT_KEY = 'constructs.internal/conventions';

/** The conventions of a platform, validated when built. */
export class Conventions {
  /** The library's neutral defaults (see {@link ConventionsProps}). */
  public static readonly DEFAULT = new Conventions();

  /**
   * Attaches `conventions` to `scope`: every construct added below it reads them. Must be called
   * before anything is added to the scope (constructs read them when they are built).
   * @throws when the scope already has children or conventions of its own.
   */
  public static set(scope: IConstruct, conventions: Conventions): void {
    const where = `Conventions at ${scope.node.path || '<root>'}`;
    if (!(conventions instanceof Conventions)) throw new PropsError(where, 'conventions', conventions, 'must be a Conventions');
    if (scope.node.children.length > 0) {
      throw new PropsError(where, 'scope', scope.node.children.map((c) => c.node.id), 'must have no children yet (constructs read the conventions when built)');
    }
    scope.node.setContext(CONTEXT_KEY, conventions);
  }

  /** The conventions attached to `scope` or its nearest ancestor, else {@link Conventions.DEFAULT}. */
  public static of(scope: IConstruct): Conventions {
    const found: unknown = scope.node.tryGetContext(CONTEXT_KEY);
    if (found === undefined) return Conventions.DEFAULT;
    if (!(found instanceof Conventions)) {
      throw new PropsError(`Conventions at ${scope.node.path || '<root>'}`, `context ${CONTEXT_KEY}`, found, 'must be set with Conventions.set()');
    }
    return found;
  }

  /** Label key selecting one workload's pods. */
  public readonly appLabel: string;
  /** Label key of the blue/green colour. */
  public readonly colourLabel: string;
  /** Domain of the library's annotation keys. */
  public readonly annotationDomain: string;
  /** UID (and GID) pods run as by default. */
  public readonly runAsUser: number;

  constructor(props: ConventionsProps = {}) {
    const where = 'Conventions';
    this.appLabel = props.appLabel ?? 'app';
    this.colourLabel = props.colourLabel ?? 'version';
    this.annotationDomain = props.annotationDomain ?? 'constructs.internal';
    this.runAsUser = props.runAsUser ?? 65532;
    const fail = (field: string, value: unknown, rule: string | undefined) => {
      if (rule !== undefined) throw new PropsError(where, field, value, rule);
    };
    fail('appLabel', this.appLabel, checkLabelKey(this.appLabel));
    fail('colourLabel', this.colourLabel, checkLabelKey(this.colourLabel)
      ?? (this.colourLabel === this.appLabel ? 'must differ from appLabel' : undefined));
    fail('annotationDomain', this.annotationDomain, checkDnsSubdomain(this.annotationDomain)
      ?? (this.annotationDomain.includes('.') ? undefined : 'must be a domain with at least one dot, e.g. example.com'));
    fail('runAsUser', this.runAsUser, checkInteger(this.runAsUser, 1) === undefined ? undefined : 'must be a non-root UID: an integer from 1 to 2147483647');
  }

  /** Full key of one of the library's annotations under {@link annotationDomain}. */
  public annotationKey(annotation: LibraryAnnotation): string {
    return annotationKeyIn(this.annotationDomain, annotation);
  }

  /** Selector labels of the workload `name`: `{ <appLabel>: name }`. */
  public selectorLabels(name: string): { readonly [key: string]: string } {
    return { [this.appLabel]: name };
  }
}

/** `<group>.<domain>/<name>` of `annotation`. */
function annotationKeyIn(domain: string, annotation: LibraryAnnotation): string {
  const { group, name } = LIBRARY_ANNOTATIONS[annotation];
  return `${group}.${domain}/${name}`;
}

/**
 * The key and value of one of the library's annotations in `annotations`, under `domain` when given,
 * else under any domain (`<group>.<any domain>/<name>`): how a reader that does not know the platform's
 * conventions (the validation gate) finds them. Keys are compared exactly; the first match in key
 * order wins.
 */
export function findLibraryAnnotation(
  annotations: { readonly [key: string]: unknown }, annotation: LibraryAnnotation, domain?: string,
): { readonly key: string; readonly value: unknown } | undefined {
  if (domain !== undefined) {
    const key = annotationKeyIn(domain, annotation);
    return Object.prototype.hasOwnProperty.call(annotations, key) ? { key, value: annotations[key] } : undefined;
  }
  const { group, name } = LIBRARY_ANNOTATIONS[annotation];
  const key = Object.keys(annotations).sort().find((k) => {
    const [prefix, rest, ...more] = k.split('/');
    return rest === name && more.length === 0 && prefix.startsWith(`${group}.`) && checkDnsSubdomain(prefix) === undefined;
  });
  return key === undefined ? undefined : { key, value: annotations[key] };
}

import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import { ContainerResources } from './microservice';
import { parseQuantity } from './quantity';
import { assertValid, checkDnsLabel, checkInteger, PropsError } from './validation';

/** CPU in millicores and memory in MiB (whole numbers: what a quota is rendered in). */
export interface ResourceFigures {
  readonly cpu: number;
  readonly memory: number;
}

/** What one consumer of a namespace needs at its worst moment. */
export interface QuotaFootprint {
  /** Who needs it (a component name): named in every message. */
  readonly name: string;
  /** How the figures were computed, e.g. `2 colours x (10 + 3 surge) pods`. */
  readonly basis: string;
  /** Pods at its worst moment. */
  readonly pods: number;
  /** Requests and limits of all its pods together at that moment. */
  readonly total: { readonly requests: ResourceFigures; readonly limits: ResourceFigures };
  /** Requests and limits of its largest container (the LimitRange's maxima are the largest consumer's). */
  readonly container: { readonly requests: ResourceFigures; readonly limits: ResourceFigures };
  /**
   * Whether its container is a candidate for the LimitRange's defaults (a hand-made pod without
   * requests or limits gets those of the smallest candidate). @default true
   */
  readonly sizesDefaults?: boolean;
}

/** A namespace budget: what the platform grants the namespace at most, as Kubernetes quantities. */
export interface QuotaBudget {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly pods: number;
}

/** Converts container requests and limits written as quantities into whole millicores and MiB (rounded up). */
export function resourceFigures(resources: ContainerResources): { requests: ResourceFigures; limits: ResourceFigures } {
  const figures = (q: { readonly cpu: string; readonly memory: string }): ResourceFigures => ({
    cpu: Math.ceil(Math.round((parseQuantity(q.cpu) ?? NaN) * 1e6) / 1e3),
    memory: Math.ceil((parseQuantity(q.memory) ?? NaN) / 2 ** 20),
  });
  return { requests: figures(resources.requests), limits: figures(resources.limits) };
}

/** The footprint of `pods` pods of one container of `resources`. */
export function podsFootprint(name: string, basis: string, pods: number, resources: ContainerResources, options: { sizesDefaults?: boolean } = {}): QuotaFootprint {
  const c = resourceFigures(resources);
  const times = (f: ResourceFigures) => ({ cpu: f.cpu * pods, memory: f.memory * pods });
  return { name, basis, pods, total: { requests: times(c.requests), limits: times(c.limits) }, container: c, ...options };
}

/** Extra pods a rolling update may start, `maxSurge` percent of `replicas` rounded up (as the Deployment controller does). */
export function surgePods(replicas: number, maxSurgePercent = 25): number {
  return Math.ceil((replicas * maxSurgePercent) / 100);
}

/** Properties of a {@link NamespaceQuota}. */
export interface NamespaceQuotaProps {
  /** Name of the ResourceQuota and LimitRange. */
  readonly name: string;
  /** Every consumer at its worst moment; the quota is their sum plus the headroom. */
  readonly footprints: readonly QuotaFootprint[];
  /** Percent added to every derived figure, rounded up. @default 20 */
  readonly headroomPercent?: number;
  /**
   * What the namespace may have at most: a derived figure above it is an error naming the consumers
   * and their figures (a derived quota always fits what it was derived from; the budget is what
   * makes it a limit). @default - no budget: the quota is whatever the consumers need
   */
  readonly budget?: QuotaBudget;
  /** Object counts (`count/deployments.apps`, `services`, ...) at their worst moment, before the headroom. @default - none */
  readonly objectCounts?: { readonly [resource: string]: number };
  /** Labels of both objects. @default - none */
  readonly labels?: LabelSet;
}

const FIELDS = ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'] as const;
type Field = (typeof FIELDS)[number];

function figureOf(f: QuotaFootprint, field: Field): number {
  const [side, resource] = field.split('.') as ['requests' | 'limits', 'cpu' | 'memory'];
  return f.total[side][resource];
}

function render(field: Field | 'pods', value: number): string {
  return field === 'pods' ? String(value) : field.endsWith('cpu') ? `${value}m` : `${value}Mi`;
}

/**
 * A ResourceQuota whose CPU, memory, pod and object figures are the sum of `footprints` plus a
 * headroom, checked against a namespace budget, and a LimitRange whose container defaults are the
 * smallest consumer's and whose maxima are the largest's: a pod created by hand without requests or
 * limits gets the smallest consumer's, one larger than any consumer is refused.
 */
export class NamespaceQuota extends Construct {
  /** The rendered `spec.hard` of the ResourceQuota. */
  public readonly hard: { readonly [resource: string]: string };
  /** The derived figures before the headroom (CPU in millicores, memory in MiB), by quota field. */
  public readonly peak: { readonly [field in Field | 'pods']: number };
  /** The headroom, percent. */
  public readonly headroomPercent: number;

  constructor(scope: Construct, id: string, props: NamespaceQuotaProps) {
    super(scope, id);
    const where = `NamespaceQuota ${props.name ?? id}`;
    assertValid(where, 'name', props.name, checkDnsLabel(props.name));
    if (!Array.isArray(props.footprints) || props.footprints.length === 0) {
      throw new PropsError(where, 'footprints', props.footprints, 'must list at least one consumer');
    }
    for (const f of props.footprints) {
      const figures = [f.pods, ...FIELDS.map((field) => figureOf(f, field))];
      if (!figures.every((n) => Number.isInteger(n) && n >= 0)) {
        throw new PropsError(where, `footprints[${f.name}]`, f, 'must have whole, non-negative pods, CPU (millicores) and memory (MiB)');
      }
    }
    this.headroomPercent = props.headroomPercent ?? 20;
    assertValid(where, 'headroomPercent', this.headroomPercent, checkInteger(this.headroomPercent, 0, 1000));
    const grow = (n: number) => Math.ceil((n * (100 + this.headroomPercent)) / 100);

    const peak = { pods: 0, 'requests.cpu': 0, 'requests.memory': 0, 'limits.cpu': 0, 'limits.memory': 0 };
    for (const f of props.footprints) {
      peak.pods += f.pods;
      for (const field of FIELDS) peak[field] += figureOf(f, field);
    }
    this.peak = peak;
    const hard: { [resource: string]: string } = { pods: String(grow(peak.pods)) };
    for (const field of FIELDS) hard[field] = render(field, grow(peak[field]));
    for (const [resource, n] of Object.entries(props.objectCounts ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      assertValid(where, `objectCounts.${resource}`, n, checkInteger(n, 0));
      hard[resource] = String(n === 0 ? 0 : grow(n));
    }
    this.hard = hard;
    if (props.budget !== undefined) this.checkBudget(where, props.budget, props.footprints, grow);

    const metadata = { name: props.name, ...(props.labels !== undefined ? { labels: { ...props.labels } } : {}) };
    new ApiObject(this, 'ResourceQuota', { apiVersion: 'v1', kind: 'ResourceQuota', metadata, spec: { hard } });
    const candidates = props.footprints.filter((f) => f.sizesDefaults !== false);
    const smallest = (side: 'requests' | 'limits', r: 'cpu' | 'memory') => Math.min(...(candidates.length > 0 ? candidates : props.footprints).map((f) => f.container[side][r]));
    const largest = (r: 'cpu' | 'memory') => Math.max(...props.footprints.map((f) => f.container.limits[r]));
    new ApiObject(this, 'LimitRange', {
      apiVersion: 'v1', kind: 'LimitRange', metadata,
      spec: {
        limits: [{
          type: 'Container',
          defaultRequest: { cpu: `${smallest('requests', 'cpu')}m`, memory: `${smallest('requests', 'memory')}Mi` },
          default: { cpu: `${smallest('limits', 'cpu')}m`, memory: `${smallest('limits', 'memory')}Mi` },
          max: { cpu: `${largest('cpu')}m`, memory: `${largest('memory')}Mi` },
        }],
      },
    });
  }

  private checkBudget(where: string, budget: QuotaBudget, footprints: readonly QuotaFootprint[], grow: (n: number) => number): void {
    const limit = (field: Field | 'pods'): number => {
      if (field === 'pods') return budget.pods;
      const figures = resourceFigures({ requests: budget.requests, limits: budget.limits });
      const [side, resource] = field.split('.') as ['requests' | 'limits', 'cpu' | 'memory'];
      return figures[side][resource];
    };
    const over: string[] = [];
    for (const field of ['pods', ...FIELDS] as const) {
      const allowed = limit(field);
      if (!Number.isFinite(allowed)) throw new PropsError(where, `budget.${field}`, budget, 'must be a Kubernetes quantity');
      const needed = grow(this.peak[field]);
      if (needed <= allowed) continue;
      const shares = footprints.map((f) => ({ f, n: field === 'pods' ? f.pods : figureOf(f, field) })).filter((s) => s.n > 0).sort((a, b) => b.n - a.n);
      over.push(`${field} needs ${render(field, needed)} (${render(field, this.peak[field])} + ${this.headroomPercent}% headroom), above the budget's `
        + `${render(field, allowed)}; largest: ${shares.slice(0, 3).map((s) => `${s.f.name} ${render(field, s.n)} (${s.f.basis})`).join(', ')}`
        + `${shares.length > 3 ? ` and ${shares.length - 3} more` : ''}`);
    }
    if (over.length > 0) {
      throw new PropsError(where, 'budget', budget, `is exceeded at the worst moment of a release: ${over.join('; ')}`);
    }
  }
}

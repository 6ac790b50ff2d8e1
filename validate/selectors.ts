/**
 * Label selector matching by index: the items (pod templates, Services) are indexed once by label
 * key and by key=value, so a selector looks only at the items that carry one of its required labels
 * instead of at every item. The answer is always confirmed with the plain matchers of workloads.ts
 * ({@link labelSelectorMatches}, {@link mapSelects}), so the index can only narrow the candidates,
 * never change what matches; test/gate/selectors.test.ts compares it with the all-pairs answer.
 */
import { asArray, asObject, asString, isObject } from './findings';
import { labelSelectorMatches, mapSelects } from './workloads';

/** Labels of an indexed item. */
export interface Labels {
  readonly [key: string]: string;
}

/** `key` + NUL + `value`: NUL cannot occur in a label key, so the pair is unambiguous. */
function pair(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

/** Items indexed by their labels, in their original order. */
export class LabelIndex<T> {
  private readonly byPair = new Map<string, number[]>();
  private readonly byKey = new Map<string, number[]>();

  constructor(
    /** The items, in the order answers are given. */
    public readonly items: readonly T[],
    private readonly labelsOf: (item: T) => Labels,
  ) {
    items.forEach((item, i) => {
      for (const [key, value] of Object.entries(labelsOf(item))) {
        push(this.byPair, pair(key, value), i);
        push(this.byKey, key, i);
      }
    });
  }

  /** Items a metav1.LabelSelector selects (`{}` selects all; anything not an object, none). */
  public selectedBy(selector: unknown): T[] {
    if (!isObject(selector)) return [];
    const candidates: Array<readonly number[]> = [];
    for (const [key, value] of Object.entries(asObject(selector.matchLabels))) {
      // a non-string value never equals a label, and its matcher says so below
      candidates.push(typeof value === 'string' ? this.byPair.get(pair(key, value)) ?? [] : []);
    }
    for (const expression of asArray(selector.matchExpressions)) {
      const e = asObject(expression);
      const key = asString(e.key) ?? '';
      if (e.operator === 'Exists') candidates.push(this.byKey.get(key) ?? []);
      else if (e.operator === 'In') {
        const values = new Set(asArray(e.values).filter((v): v is string => typeof v === 'string'));
        candidates.push(union([...values].map((v) => this.byPair.get(pair(key, v)) ?? [])));
      }
    }
    return this.confirm(candidates, (item) => labelSelectorMatches(selector, this.labelsOf(item)));
  }

  /** Items a Service-style selector (a plain map; empty selects nothing) selects. */
  public matchedBy(selector: Labels): T[] {
    const entries = Object.entries(selector);
    if (entries.length === 0) return [];
    return this.confirm(entries.map(([k, v]) => this.byPair.get(pair(k, v)) ?? []), (item) => mapSelects(selector, this.labelsOf(item)));
  }

  /** Whether any item is selected by a metav1.LabelSelector. */
  public anySelectedBy(selector: unknown): boolean {
    return this.selectedBy(selector).length > 0;
  }

  /**
   * Checks `matches` on the smallest candidate list (every item when no term narrows them: only
   * NotIn/DoesNotExist expressions, or `{}`).
   */
  private confirm(candidates: ReadonlyArray<readonly number[]>, matches: (item: T) => boolean): T[] {
    if (candidates.length === 0) return this.items.filter(matches);
    let smallest = candidates[0];
    for (const c of candidates) if (c.length < smallest.length) smallest = c;
    return smallest.map((i) => this.items[i]).filter(matches);
  }
}

function push(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [index]);
  else if (list[list.length - 1] !== index) list.push(index);
}

/** Sorted union of sorted index lists. */
function union(lists: ReadonlyArray<readonly number[]>): number[] {
  if (lists.length === 1) return [...lists[0]];
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}

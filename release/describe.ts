/**
 * Describes in plain words what a change does to an environment's manifests, for the release
 * command's output and the merge request it produces, e.g.
 * `production/knowledge-service: traffic blue -> green`.
 */
import { KubeObject } from '../synth/output';

/* eslint-disable @typescript-eslint/no-explicit-any -- walks arbitrary synthesized objects */
type Loose = KubeObject & { spec?: any };

function key(o: KubeObject): string {
  return `${o.kind}/${o.metadata.name}`;
}

function colourOf(selector: { [k: string]: string } | undefined): string {
  return selector?.version ?? '(all pods)';
}

function versionOf(selector: { [k: string]: string } | undefined): string | undefined {
  return selector?.['app.kubernetes.io/version'];
}

function image(o: Loose): string | undefined {
  const ref: string | undefined = o.spec?.template?.spec?.containers?.[0]?.image;
  return ref?.slice(ref.lastIndexOf(':') + 1);
}

/** One line per meaningful difference between `before` and `after` (objects of one environment). */
export function describeChanges(environment: string, before: readonly KubeObject[], after: readonly KubeObject[]): string[] {
  const old = new Map(before.map((o) => [key(o), o as Loose]));
  const now = new Map(after.map((o) => [key(o), o as Loose]));
  const lines: string[] = [];
  for (const [k, o] of now) {
    const prev = old.get(k);
    const where = `${environment}/${o.metadata.name}`;
    if (prev === undefined) {
      lines.push(`${environment}: ${o.kind} ${o.metadata.name} added`);
      continue;
    }
    if (JSON.stringify(prev) === JSON.stringify(o)) continue;
    const facts: string[] = [];
    if (o.kind === 'Service' && colourOf(prev.spec?.selector) !== colourOf(o.spec?.selector)) {
      const what = o.metadata.name.endsWith('-preview') ? 'preview' : 'traffic';
      facts.push(`${what} ${colourOf(prev.spec?.selector)} -> ${colourOf(o.spec?.selector)}`);
    }
    // While a version is staged, the preview Service also selects that version (the smoke test
    // must reach only its pods): say which.
    if (o.kind === 'Service' && versionOf(prev.spec?.selector) !== versionOf(o.spec?.selector)) {
      const now = versionOf(o.spec?.selector);
      if (now !== undefined) facts.push(`preview narrowed to ${now}`);
      else if (facts.length === 0) facts.push(`preview widened to every version of ${colourOf(o.spec?.selector)}`);
    }
    if (o.kind === 'Deployment') {
      if (image(prev) !== image(o)) facts.push(`image ${image(prev)} -> ${image(o)}`);
      if (prev.spec?.replicas !== o.spec?.replicas) {
        facts.push(`replicas ${prev.spec?.replicas ?? 'set by its HPA'} -> ${o.spec?.replicas ?? 'set by its HPA'}`);
      }
    }
    if (o.kind === 'HorizontalPodAutoscaler') {
      const range = (x: Loose) => (x.spec.minReplicas === x.spec.maxReplicas ? `held at ${x.spec.minReplicas}` : `${x.spec.minReplicas}..${x.spec.maxReplicas}`);
      if (range(prev) !== range(o)) facts.push(`autoscaler ${range(prev)} -> ${range(o)}`);
    }
    lines.push(`${where}: ${facts.length > 0 ? facts.join(', ') : `${o.kind} changed`}`);
  }
  for (const [k, o] of old) {
    if (!now.has(k)) lines.push(`${environment}: ${o.kind} ${o.metadata.name} removed`);
  }
  return lines;
}

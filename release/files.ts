/**
 * Reading and writing the release state files, `environments/<environment>.release.json`.
 * Only the composition root and the release command touch files; constructs never do.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../synth/transaction';
import { formatReleaseState, ReleaseState } from './state';

/** Path of an environment's release state file below `root`. */
export function releaseFile(root: string, environment: string): string {
  return path.join(root, 'environments', `${environment}.release.json`);
}

/**
 * Reads the release state files of `environments` (parsed, not validated: validation happens with
 * the rest of the configuration). A missing file is `undefined`; unparsable JSON is reported as a
 * string value that fails validation with the parser's message.
 */
export function readReleaseStates(root: string, environments: readonly { readonly name: string }[]): { [env: string]: unknown } {
  const states: { [env: string]: unknown } = {};
  // (an environment that is not an object, or has no usable name, is reported by the configuration check)
  const names = environments.map((e) => (e as { name?: unknown } | null | undefined)?.name)
    .filter((n): n is string => typeof n === 'string' && /^[a-z0-9][-a-z0-9]*$/.test(n));
  for (const name of names) {
    const file = releaseFile(root, name);
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    try {
      states[name] = JSON.parse(text);
    } catch (e) {
      states[name] = `invalid JSON in ${path.basename(file)}: ${(e as Error).message}`;
    }
  }
  return states;
}

/**
 * Writes an environment's release state file (sorted, stable formatting) atomically: a temp file
 * beside it, renamed over it, so that a reader never sees half a file. (`npm run release` writes it
 * together with `dist/<environment>/` through synth/transaction.ts instead.)
 */
export function writeReleaseState(root: string, environment: string, state: ReleaseState): void {
  writeFileAtomic(releaseFile(root, environment), formatReleaseState(state));
}

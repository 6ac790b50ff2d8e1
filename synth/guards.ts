/**
 * Guards on what may be written to `dist/`: no Secret carries values (they come from an
 * ExternalSecret or are created out of band), and nothing looks like a credential.
 */
import type { KubeObject } from './object';

/** Thrown when the output would contain something that must never be committed; nothing is written. */
export class UnsafeOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeOutputError';
  }
}

/** Why Secrets in the output must not carry values, and what to do instead. */
export const SECRET_VALUES_RULE = 'Secret values must never be in the manifests or dist/: '
  + 'materialize the Secret with an ExternalSecret, or create it out of band and only reference it (README "Secrets")';

/** `staging: Secret db-credentials has literal stringData (keys: postgres-url)` for each Secret with values. */
export function literalSecrets(environment: string, objects: readonly KubeObject[]): string[] {
  const found: string[] = [];
  for (const o of objects.filter((x) => x.kind === 'Secret')) {
    for (const field of ['data', 'stringData'] as const) {
      const value = o[field];
      if (value !== undefined && value !== null && (typeof value !== 'object' || Object.keys(value).length > 0)) {
        const keys = typeof value === 'object' ? Object.keys(value).join(', ') : typeof value;
        found.push(`${environment}: Secret ${o.metadata.name} has literal ${field} (keys: ${keys})`);
      }
    }
  }
  return found;
}

/**
 * Throws an {@link UnsafeOutputError} naming every Secret with literal `data` or `stringData`.
 * A Secret in the output may only be a reference-free shell; in practice there is none.
 */
export function assertNoLiteralSecrets(charts: ReadonlyMap<string, readonly KubeObject[]>): void {
  const found = [...charts].flatMap(([environment, objects]) => literalSecrets(environment, objects));
  if (found.length > 0) {
    throw new UnsafeOutputError(`refusing to write ${found.length === 1 ? 'a Secret' : `${found.length} Secrets`} with values. `
      + `${SECRET_VALUES_RULE}:\n${found.map((f) => `  - ${f}`).join('\n')}`);
  }
}

/**
 * Throws when any rendered file has a credential-looking value (the same scan the tests run over
 * `dist/`), so such a value is refused at synth time, before anything is written.
 */
export function assertNoCredentialLikeValues(tree: ReadonlyMap<string, string>): void {
  const found = [...tree].flatMap(([file, content]) => findCredentialLikeValues(content).map((f) => `${file}:${f.line} ${f.rule}`));
  if (found.length > 0) {
    throw new UnsafeOutputError(`refusing to write ${found.length} credential-looking value${found.length === 1 ? '' : 's'} `
      + `(values belong in a secret store, not in manifests):\n${found.map((f) => `  - ${f}`).join('\n')}`);
  }
}

/** One credential-looking value in a text. */
export interface CredentialFinding {
  /** 1-based line number. */
  readonly line: number;
  /** Which pattern matched. */
  readonly rule: string;
}

const CREDENTIAL_PATTERNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['URI with a password (scheme://user:password@host)', /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"']*:[^\s/@"']+@/i],
  // shell-style, as envsubst would need (the seed's ${POSTGRES_PASSWORD}); Grafana's ${datasource} is lower-case
  ['unsubstituted ${VARIABLE} placeholder', /\$\{[A-Z_][A-Z0-9_]*\}/],
  ['password assignment (password=..., pwd=...)', /\b(?:password|passwd|pwd|secret|token|api[_-]?key)\s*=\s*[^\s"'&;,}]+/i],
  ['password field with a value', /\b(?:password|passwd|pwd)\s*:\s*["']?[^\s"'{}[\]]+/i],
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['JSON web token', /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./],
  // Long base64 runs mixing upper case, lower case and digits: encoded values. (A 40-character
  // commit SHA is lower-case hex and does not match.)
  ['long base64 value', /(?<![A-Za-z0-9+/])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{32,}={0,2}(?![A-Za-z0-9+/=])/],
];

/** Every credential-looking value in `text` (URIs with passwords, placeholders, `password=`, keys, tokens, base64). */
export function findCredentialLikeValues(text: string): CredentialFinding[] {
  // A pattern matching a line also matches the whole text (a line boundary looks like the start or end
  // of the text to \b and to the base64 rule's look-arounds), so a text no pattern matches has no
  // finding: only the rare text that some pattern matches is searched line by line, for the numbers.
  const candidates = CREDENTIAL_PATTERNS.filter(([, pattern]) => pattern.test(text));
  if (candidates.length === 0) return [];
  const findings: CredentialFinding[] = [];
  text.split('\n').forEach((content, i) => {
    for (const [rule, pattern] of candidates) {
      if (pattern.test(content)) findings.push({ line: i + 1, rule });
    }
  });
  return findings;
}

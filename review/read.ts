/**
 * Reads `dist/` trees into objects per environment, fast.
 *
 * A general YAML parser costs most of a review's time (the `yaml` package needs ≈ 0.3–0.5 s for the
 * hundred files of both environments on a cold process). Every file of `dist/` is written by the
 * project's own emitter (synth/yaml.ts), whose round trip through a real YAML parser is proven by
 * test/yaml.test.ts. So a file is first read by {@link readEmitted}, a small reader of exactly that
 * emitter's block style, and the result is accepted only when emitting it again gives back the
 * file byte for byte: then it is what a real parser reads. Any other file (hand-written, an older
 * emitter, several documents) goes to the validation gate's loader (YAML 1.1, as kubectl reads).
 */
import { environmentOf, loadManifests } from '../validate/load';
import type { ManifestObject } from '../validate/findings';
import { toYaml } from '../synth/yaml';
import { Json, JsonObject, Manifest } from './model';
import { isObject } from './objects';

/** The reader met something the emitter never writes. */
class NotEmitted extends Error {}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:e[-+]\d+)?$/;

function plainScalar(text: string): Json {
  if (text === 'null') return null;
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === '[]') return [];
  if (text === '{}') return {};
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (NUMBER.test(text)) return Number(text);
  return text;
}

/** Index of the `: ` or final `:` ending a mapping key at the start of `text`, or -1 for a scalar. */
function keyEnd(text: string): number {
  if (text.startsWith('"')) {
    let i = 1;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    return text[i + 1] === ':' && (i + 2 === text.length || text[i + 2] === ' ') ? i + 1 : -1;
  }
  const colon = text.indexOf(': ');
  if (colon !== -1) return colon;
  return text.endsWith(':') ? text.length - 1 : -1;
}

/**
 * Reads the emitter's YAML (maps, lists, plain and double-quoted scalars, literal blocks, `[]`,
 * `{}`). @throws NotEmitted on anything else.
 */
export function readEmitted(body: string): Json {
  const lines = body.endsWith('\n') ? body.slice(0, -1).split('\n') : body.split('\n');
  let i = 0;
  const indentOf = (l: string) => {
    let n = 0;
    while (l.charCodeAt(n) === 32) n += 1;
    return n;
  };

  const literal = (header: string, indent: number): string => {
    const parts: string[] = [];
    while (i < lines.length && (lines[i] === '' || indentOf(lines[i]) >= indent + 2)) {
      parts.push(lines[i] === '' ? '' : lines[i].slice(indent + 2));
      i += 1;
    }
    return parts.join('\n') + (header === '|' ? '\n' : '');
  };

  const value = (text: string, indent: number): Json => (text === '|' || text === '|-' ? literal(text, indent) : plainScalar(text));

  const block = (indent: number): Json => {
    const first = lines[i];
    if (first === undefined || indentOf(first) !== indent) throw new NotEmitted(`line ${i + 1}: expected indentation ${indent}`);
    if (first.slice(indent).startsWith('- ') || first.slice(indent) === '-') {
      const list: Json[] = [];
      while (i < lines.length && indentOf(lines[i]) === indent && lines[i].slice(indent).startsWith('- ')) {
        const rest = lines[i].slice(indent + 2);
        if (rest.startsWith('- ') || keyEnd(rest) !== -1) {
          // a nested map or list starts on the item's line: read it as if indented by two more
          lines[i] = `${' '.repeat(indent + 2)}${rest}`;
          list.push(block(indent + 2));
        } else {
          i += 1;
          list.push(value(rest, indent));
        }
      }
      return list;
    }
    const map: { [key: string]: Json } = {};
    while (i < lines.length && indentOf(lines[i]) === indent && !lines[i].slice(indent).startsWith('- ')) {
      const text = lines[i].slice(indent);
      const end = keyEnd(text);
      if (end === -1) throw new NotEmitted(`line ${i + 1}: expected "key: value"`);
      const key = text.startsWith('"') ? JSON.parse(text.slice(0, end)) as string : text.slice(0, end);
      const rest = text.slice(end + 1).trimStart();
      i += 1;
      if (rest !== '') map[key] = value(rest, indent);
      else if (i < lines.length && indentOf(lines[i]) > indent) map[key] = block(indentOf(lines[i]));
      else if (i < lines.length && indentOf(lines[i]) === indent && lines[i].slice(indent).startsWith('- ')) map[key] = block(indent);
      else throw new NotEmitted(`line ${i}: "${key}:" without a value`);
    }
    return map;
  };

  const result = block(0);
  if (i !== lines.length) throw new NotEmitted(`line ${i + 1}: unexpected indentation`);
  return result;
}

/** The objects of one file: by the emitter's reader when it reproduces the file, else by the gate's loader. */
function readFile(file: string, content: string): { objects: Manifest[]; errors: string[] } {
  const start = content.search(/^[^#\n]/m);
  const body = start === -1 ? '' : content.slice(start);
  const header = content.slice(0, start === -1 ? content.length : start);
  if (body !== '' && /^(#[^\n]*\n)*$/.test(header) && !body.includes('\n---')) {
    try {
      const parsed = readEmitted(body);
      if (isObject(parsed) && typeof parsed.apiVersion === 'string' && typeof parsed.kind === 'string' && toYaml(parsed) === body) {
        return { objects: [parsed as JsonObject as unknown as Manifest], errors: [] };
      }
    } catch (e) {
      if (!(e instanceof NotEmitted) && !(e instanceof SyntaxError)) throw e;
    }
  }
  const { objects, findings } = loadManifests(new Map([[file, content]]));
  return {
    objects: (objects as readonly ManifestObject[]).map((o) => o.body as unknown as Manifest),
    errors: findings.filter((f) => f.severity === 'error').map((f) => `${f.file}: ${f.message}`),
  };
}

/**
 * Objects per environment (the first folder of each path) of a tree of manifest files. Files with
 * the same content are read once (`cache`, shared by the two sides of a review).
 * @throws Error naming every file that cannot be read.
 */
export function readEnvironments(tree: ReadonlyMap<string, string>, where: string, cache = new Map<string, ReturnType<typeof readFile>>()): Map<string, Manifest[]> {
  const byEnv = new Map<string, Manifest[]>();
  const errors: string[] = [];
  for (const [file, content] of [...tree].sort(([a], [b]) => a.localeCompare(b))) {
    const env = environmentOf(file);
    if (!byEnv.has(env)) byEnv.set(env, []);
    let read = cache.get(content);
    if (read === undefined) {
      read = readFile(file, content);
      cache.set(content, read);
    }
    byEnv.get(env)!.push(...read.objects);
    errors.push(...read.errors.map((e) => (e.startsWith(`${file}:`) ? e : `${file}: ${e}`)));
  }
  if (errors.length > 0) throw new Error(`cannot read ${where}: ${errors.join('; ')}`);
  return byEnv;
}

#!/usr/bin/env node
// Runs a TypeScript entry point without type-checking it: esbuild transpiles and bundles it with its
// dependencies into .build/<entry>.js, then Node runs the bundle. Type-checking happens once, in
// `npm test` (tsc --noEmit), never on every synth.
//
// The bundle is reused only while every one of its inputs (esbuild's metafile lists them) has the
// content it was built from: the cache is keyed on a SHA-1 of each input's content, not on
// modification times, so a file copied with `cp -p`, restored from an archive or installed by npm
// (which dates every file 1985) is never mistaken for an unchanged one. Hashing every input on
// every run would cost ~50 ms (dependencies included, ~4 MB), so each input's stat signature
// (inode, size, mtime, ctime) is recorded beside its hash, as git's index does: an input whose
// signature is unchanged is not read; one whose signature changed is hashed, and only a different
// hash rebuilds. (ctime cannot be set back by `cp -p`, `touch` or tar.) An input changed while the
// bundle was being built is recorded as unknown, so the next run hashes it. Besides the bundle's
// inputs, the build's own inputs are keys too: this script, tsconfig.json and esbuild's version.
//
// The metafile also records a hash of the bundle it describes, checked on every run (the bundle is
// read anyway): a bundle renamed in by a build that died before writing its metafile, or written by
// a concurrent build, never passes for fresh. The V8 code cache carries the same hash and is used
// only with that bundle (V8 itself checks little more than the source's length).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const Module = require('module');
const path = require('path');
const vm = require('vm');

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node scripts/run.js <entry.ts> [args...]\n');
  process.exit(64);
}
const root = path.resolve(__dirname, '..');
const name = path.relative(root, path.resolve(entry)).replace(/\.ts$/, '').replace(/[\\/]/g, '__');
const outfile = path.join(root, '.build', `${name}.js`);
const metafile = `${outfile}.meta.json`;
const cachefile = `${outfile}.v8cache`;
/** Inputs of every build besides the bundle's own: this script (its build options), tsconfig.json and esbuild. */
const BUILD_INPUTS = [path.relative(root, __filename), 'tsconfig.json', 'node_modules/esbuild/package.json']
  .filter((file) => fs.existsSync(path.join(root, file)));

/** File timestamps come from a clock that may lag by a tick: a change this close to a build counts as during it. */
const RACY_MS = 100;

function stat(file) {
  return fs.statSync(path.join(root, file), { bigint: true });
}

function signature(file) {
  const s = stat(file);
  return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

function hash(file) {
  return crypto.createHash('sha1').update(fs.readFileSync(path.join(root, file))).digest('hex');
}

function sha1(content) {
  return crypto.createHash('sha1').update(content).digest('hex');
}

/** The SHA-1 of the bundle's content, computed once per run (a 1.6 MB bundle costs ~5 ms each time). */
let bundleHash;
function bundleSha1(bundle) {
  if (bundleHash === undefined || bundleHash.bundle !== bundle) bundleHash = { bundle, hash: sha1(bundle) };
  return bundleHash.hash;
}

/** Whether `bundle` (the content of the bundle on disk) was built from the inputs' current content. */
function isFresh(bundle) {
  let recorded;
  let meta;
  try {
    meta = JSON.parse(fs.readFileSync(metafile, 'utf8'));
    recorded = meta.inputs;
    if (bundle === undefined || meta.bundle !== bundleSha1(bundle)) return false;
    if (recorded === null || typeof recorded !== 'object' || BUILD_INPUTS.some((f) => !recorded[f])) return false;
  } catch {
    return false;
  }
  const now = BigInt(Date.now() - RACY_MS) * 1_000_000n;
  let resigned = false;
  try {
    for (const [file, r] of Object.entries(recorded)) {
      if (r.signature === signature(file)) continue;
      if (r.hash === '' || r.hash !== hash(file)) return false;
      // Same content, new signature (a checkout, a touch): remember it, unless it may still change.
      const s = stat(file);
      r.signature = s.mtimeNs < now && s.ctimeNs < now ? signature(file) : '';
      resigned = true;
    }
  } catch {
    return false; // an input is gone
  }
  if (resigned) writeAtomic(metafile, JSON.stringify({ bundle: meta.bundle, inputs: recorded }));
  return true;
}

/**
 * Records each input's hash and signature. An input changed since `since` (ns, the build's start)
 * may have changed after esbuild read it: it is recorded as unknown, so the next run rebuilds.
 */
function record(inputs, since) {
  const result = {};
  for (const file of [...new Set([...inputs, ...BUILD_INPUTS])]) {
    const s = stat(file);
    const racy = s.mtimeNs >= since || s.ctimeNs >= since;
    result[file] = { hash: racy ? '' : hash(file), signature: racy ? '' : signature(file) };
  }
  return result;
}

/** Writes `content` to `file` through a temp file and a rename, so that a concurrent run never reads half of it. */
function writeAtomic(file, content) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

function readBundle() {
  try {
    return fs.readFileSync(outfile, 'utf8');
  } catch {
    return undefined;
  }
}

let bundle = readBundle();
if (!isFresh(bundle)) {
  const since = BigInt(Date.now() - RACY_MS) * 1_000_000n;
  const tmpOut = `${outfile}.${process.pid}.tmp.js`;
  let result;
  try {
    result = require('esbuild').buildSync({
      entryPoints: [path.resolve(root, entry)],
      outfile: tmpOut,
      absWorkingDir: root,
      bundle: true,
      // Packages that load files relative to themselves at run time stay outside the bundle.
      external: ['esbuild', 'typescript', '@pulumi/*', 'kubernetes-models', '@kubernetes-models/*'],
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: false,
      minifyWhitespace: true,
      minifySyntax: true,
      metafile: true,
      logLevel: 'warning',
    });
    bundle = fs.readFileSync(tmpOut, 'utf8');
    fs.renameSync(tmpOut, outfile);
  } finally {
    fs.rmSync(tmpOut, { force: true });
  }
  writeAtomic(metafile, JSON.stringify({ bundle: bundleSha1(bundle), inputs: record(Object.keys(result.metafile.inputs), since) }));
}

/**
 * Loads the bundle like `require` would, but through a V8 code cache kept beside it, so that an
 * unchanged bundle is not parsed and compiled again on every run. A missing or rejected cache is
 * made when the process exits, not right after compiling: V8 compiles most functions lazily, on
 * their first call, and a cache made after the run holds every function the run compiled
 * (cdk8s', cdk8s-plus', the app's), not only the top level.
 */
function loadBundle(source) {
  // The cache file starts with the SHA-1 of the source it was made from (40 hex characters).
  const key = Buffer.from(bundleSha1(source));
  let cachedData;
  try {
    const file = fs.readFileSync(cachefile);
    if (file.subarray(0, key.length).equals(key)) cachedData = file.subarray(key.length);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source), { filename: outfile, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.on('exit', () => writeAtomic(cachefile, Buffer.concat([key, script.createCachedData()])));
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, Module.createRequire(outfile), mod, outfile, path.dirname(outfile));
  return mod.exports;
}

/**
 * A V8 code cache for the modules the bundle loads from node_modules at run time (the packages kept
 * outside it: the validation gate's compiled `kubernetes-models` validators, ajv's formats), in
 * `.build/<entry>.js.modules.v8cache`: each module is compiled from the cache when its content has
 * the SHA-1 the cache was made from, and compiled from source otherwise. As for the bundle, the cache
 * is made at exit, holding the functions the run compiled; it is rewritten only when a module was
 * compiled without it, and keeps the modules of earlier runs (another entry's kinds) that this run
 * did not load.
 *
 * Module loading stays Node's (resolution, the module cache, `require` of each module); only the
 * compilation step (`Module.prototype._compile`) of files below a node_modules folder goes through
 * here.
 */
function cacheNodeModules(file) {
  /** filename -> { key: SHA-1 of the source, data: V8 cached data } */
  const entries = new Map();
  try {
    const buffer = fs.readFileSync(file);
    const headerLength = buffer.readUInt32LE(0);
    let offset = 4 + headerLength;
    for (const [filename, key, length] of JSON.parse(buffer.subarray(4, offset).toString('utf8'))) {
      entries.set(filename, { key, data: buffer.subarray(offset, offset + length) });
      offset += length;
    }
  } catch {
    entries.clear(); // missing or unreadable: every module is compiled from source, and the cache remade
  }
  const compiled = new Map();
  let stale = false;
  const compile = Module.prototype._compile;
  const inNodeModules = `${path.sep}node_modules${path.sep}`;
  const compileModule = (mod, content, filename, format, rest) => {
    // (ES modules, which Node 20.19 can `require`, keep Node's own path)
    if (typeof content !== 'string' || !filename.includes(inNodeModules) || (format !== undefined && format !== 'commonjs')) {
      return compile.call(mod, content, filename, format, ...rest);
    }
    const key = sha1(content);
    const entry = entries.get(filename);
    const cachedData = entry !== undefined && entry.key === key ? entry.data : undefined;
    let script;
    try {
      script = new vm.Script(Module.wrap(content), { filename, cachedData });
    } catch {
      return compile.call(mod, content, filename, format, ...rest); // not a CommonJS module after all: Node decides
    }
    if (cachedData === undefined || script.cachedDataRejected) stale = true;
    compiled.set(filename, { key, script });
    // `require` as Node gives a module (lib/internal/modules/helpers.js makeRequireFunction)
    const require = (id) => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    require.main = process.mainModule;
    require.extensions = Module._extensions;
    require.cache = Module._cache;
    return script.runInThisContext({ displayErrors: true })
      .call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
  };
  Module.prototype._compile = function compileWithCache(content, filename, format, ...rest) {
    return compileModule(this, content, filename, format, rest);
  };
  process.on('exit', () => {
    if (!stale) return;
    const header = [];
    const parts = [];
    for (const [filename, { key, script }] of compiled) {
      const data = script.createCachedData();
      header.push([filename, key, data.length]);
      parts.push(data);
    }
    for (const [filename, { key, data }] of entries) {
      if (compiled.has(filename)) continue;
      header.push([filename, key, data.length]);
      parts.push(data);
    }
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(json.length);
    try {
      writeAtomic(file, Buffer.concat([length, json, ...parts]));
    } catch {
      // a cache that cannot be written only costs the next run its compile time
    }
  });
}

// Output piped into `head` and the like closes early; that is not an error of ours.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw err; });

// Every entry point exports `main(args)` returning an exit code (or a promise of one), so that
// tests can import the same modules without running them.
cacheNodeModules(`${outfile}.modules.v8cache`);
Promise.resolve().then(() => loadBundle(bundle).main(args)).then(
  (code) => { process.exitCode = code ?? 0; },
  (err) => { process.stderr.write(`${err && err.stack ? err.stack : err}\n`); process.exitCode = 1; },
);

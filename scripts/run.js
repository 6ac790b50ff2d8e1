#!/usr/bin/env node
// Runs a TypeScript entry point without type-checking it: esbuild transpiles and bundles it with its
// dependencies into .build/<entry>.js, then Node runs the bundle. The bundle is rebuilt only when
// one of its inputs (recorded in esbuild's metafile) is newer than it, so an unchanged tree starts
// in one file read. Type-checking happens once, in `npm test` (tsc --noEmit), never on every synth.
'use strict';
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

function isFresh() {
  try {
    const built = fs.statSync(outfile).mtimeMs;
    const inputs = Object.keys(JSON.parse(fs.readFileSync(metafile, 'utf8')).inputs);
    return inputs.every((input) => fs.statSync(path.join(root, input)).mtimeMs <= built);
  } catch {
    return false;
  }
}

if (!isFresh()) {
  const result = require('esbuild').buildSync({
    entryPoints: [path.resolve(root, entry)],
    outfile,
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
  fs.writeFileSync(metafile, JSON.stringify({ inputs: result.metafile.inputs }));
  fs.rmSync(cachefile, { force: true });
}

/**
 * Loads the bundle like `require` would, but through a V8 code cache kept beside it, so that an
 * unchanged bundle is not parsed and compiled again on every run.
 */
function loadBundle() {
  const source = fs.readFileSync(outfile, 'utf8');
  const cachedData = fs.existsSync(cachefile) ? fs.readFileSync(cachefile) : undefined;
  const script = new vm.Script(Module.wrap(source), { filename: outfile, cachedData });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, Module.createRequire(outfile), mod, outfile, path.dirname(outfile));
  if (cachedData === undefined || script.cachedDataRejected) {
    fs.writeFileSync(cachefile, script.createCachedData());
  }
  return mod.exports;
}

// Output piped into `head` and the like closes early; that is not an error of ours.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw err; });

// Every entry point exports `main(args)` returning an exit code (or a promise of one), so that
// tests can import the same modules without running them.
Promise.resolve().then(() => loadBundle().main(args)).then(
  (code) => { process.exitCode = code ?? 0; },
  (err) => { process.stderr.write(`${err && err.stack ? err.stack : err}\n`); process.exitCode = 1; },
);

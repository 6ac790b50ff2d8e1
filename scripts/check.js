#!/usr/bin/env node
// `npm test`'s first step: the type check (tsc -b) and the lint (eslint .) at once, one per core,
// each with its own output; fails when either fails. (Sequentially they take ≈ 11 s here.)
//
// The type check builds the project references of tsconfig.json, one tier each: the library
// (constructs/), the app (main.ts, kcp/, environments/, release/, review/, synth/, validate/, scripts/), the Pulumi
// program (pulumi/ and its test) and the tests. Checking the library or the app never loads
// @pulumi/*. Each tier keeps its state in .build/tsc/, so an unchanged tier is not checked again
// and an edit re-checks only its tier and the tiers whose view of its declarations changed.
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const bin = (pkg, file) => path.join(root, 'node_modules', pkg, 'bin', file);
const run = (name, args) => new Promise((resolve) => {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  child.on('close', (code) => resolve({ name, code, output }));
});

Promise.all([
  // (both keep what they learnt in .build/, so that an unchanged file is not checked again)
  run('tsc -b', [bin('typescript', 'tsc'), '-b']),
  run('eslint .', [bin('eslint', 'eslint.js'), '--cache', '--cache-location', '.build/eslintcache', '.']),
]).then((results) => {
  for (const r of results) {
    if (r.output !== '') process.stdout.write(r.output.endsWith('\n') ? r.output : `${r.output}\n`);
    if (r.code !== 0) process.stderr.write(`${r.name} failed (exit ${r.code})\n`);
  }
  process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
});

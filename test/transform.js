// Jest transformer: esbuild strips the types (fast); tsc type-checks separately in `npm test`.
'use strict';
const esbuild = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = esbuild.transformSync(source, {
      loader: 'ts',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'external',
      sourcefile: filename,
    });
    return { code, map };
  },
};

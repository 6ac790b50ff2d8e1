/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': '<rootDir>/test/transform.js' },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Two workers on the 2-core CI machine (jest's default is one fewer than the cores): many suites
  // wait on child processes (promtool, npm, the release command), so two overlap well (≈ 47 -> 40 s).
  maxWorkers: 2,
};

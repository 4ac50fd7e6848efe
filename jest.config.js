/** Jest runs the TypeScript tests as ES modules on Node 24 (see package.json scripts). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false, tsconfig: 'tsconfig.check.json' }] },
  testTimeout: 30000,
  // Two workers on two cores: the end-to-end suites mostly wait on the simulated cluster.
  maxWorkers: 2,
};

// Shared jest settings: every package's jest.config.js calls this with its own folder.
// ts-jest transpiles only (type checking is the `typecheck` task); workspace packages
// resolve to their TypeScript sources so a test never runs against a stale dist/.
const path = require('node:path');

module.exports = function jestConfig(packageDir, overrides = {}) {
  return {
    rootDir: packageDir,
    displayName: path.basename(packageDir),
    testEnvironment: 'node',
    testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(packageDir, 'tsconfig.json') }],
    },
    moduleNameMapper: {
      '^@fuel-code/([a-z-]+)$': path.join(__dirname, 'libs/$1/src'),
    },
    globalSetup: path.join(__dirname, 'libs/testing/src/global-setup.ts'),
    testTimeout: 60_000,
    // Exit when the run is over, whatever a test left behind: a leftover handle once kept the
    // consumer package's jest spinning after every test had passed, which would hold CI.
    forceExit: true,
    ...overrides,
  };
};

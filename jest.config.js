/**
 * Three projects: unit (pure logic), infra (CDK assertions, cdk-nag) and integ (real handlers on
 * DynamoDB Local, started once for the whole run by test/integ/global-setup.ts, and only when an
 * integration test runs).
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }];

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      setupFiles: ['<rootDir>/test/env.ts'],
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'infra',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      setupFiles: ['<rootDir>/test/env.ts'],
      testMatch: ['<rootDir>/test/infra/**/*.test.ts'],
    },
    {
      displayName: 'integ',
      testEnvironment: 'node',
      // Project-level: runs only when at least one integration test does, so `npm run test:unit`
      // needs neither Java nor DynamoDB Local.
      globalSetup: '<rootDir>/test/integ/global-setup.ts',
      globalTeardown: '<rootDir>/test/integ/global-teardown.ts',
      transform: { '^.+\\.ts$': tsJest },
      setupFiles: ['<rootDir>/test/env.ts'],
      testMatch: ['<rootDir>/test/integ/**/*.test.ts'],
    },
  ],
};

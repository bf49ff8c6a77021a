/**
 * Three projects: unit (pure logic), infra (CDK assertions, cdk-nag) and integ (real handlers on
 * DynamoDB Local, started once for the whole run by test/integ/global-setup.ts).
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }];

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/integ/global-setup.ts',
  globalTeardown: '<rootDir>/test/integ/global-teardown.ts',
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
      transform: { '^.+\\.ts$': tsJest },
      setupFiles: ['<rootDir>/test/env.ts'],
      testMatch: ['<rootDir>/test/integ/**/*.test.ts'],
    },
  ],
};

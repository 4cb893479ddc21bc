/** Unit tests (pure logic) and integration tests (real PostgreSQL, Kafka, gRPC, HTTP) as two projects. */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  // Two cores: one worker per core keeps Kafka, PostgreSQL and the tests from starving each other.
  maxWorkers: 2,
  // Integration tests start services and wait for Kafka; a hang still fails, just not at jest's 5 s default.
  testTimeout: 120000,
};

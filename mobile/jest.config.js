/** Unit, component, hook and router tests (jest-expo, iOS platform by default). */
module.exports = {
  preset: 'jest-expo',
  setupFilesAfterEnv: ['<rootDir>/jest.setup.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/e2e/', '/dist/'],
  moduleNameMapper: { '^@/(.*)$': '<rootDir>/$1' },
  clearMocks: true,
  // The first test of a suite also pays for transforming its modules on a cold cache.
  testTimeout: 20000,
};

// Shared Jest settings. Tests import @gpl/* from source (not dist), so a
// test run never needs a prior build; tsc type-checks in the `typecheck` target.
const path = require('path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias.replace(/[/]/g, '\\/')}$`] = path.join(__dirname, target);
}

// Dependencies that ship ES modules only (fast-png and its iobuffer); Jest's CommonJS runtime needs them
// transpiled, which ts-jest does file by file.
const ESM_ONLY = ['fast-png', 'iobuffer'];

module.exports = {
  // Node's environment with the main realm's typed arrays, so onnxruntime-node's outputs pass the
  // typed-array checks of code under test (the loss network runs on onnxruntime by default).
  testEnvironment: path.join(__dirname, 'tools/jest-environment.js'),
  // Drops TensorFlow.js's "install our node backend" banner from test logs (see the file).
  setupFiles: [path.join(__dirname, 'tools/jest-setup.js')],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.jest.json') }],
    [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', target: 'ES2022' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  moduleNameMapper,
  testTimeout: 120000,
  reporters: ['default', path.join(__dirname, 'tools/jest-summary-reporter.js')],
};

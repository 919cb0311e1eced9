module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'loss',
  rootDir: __dirname,
  // onnxruntime-node's outputs must pass typed-array checks inside the test sandbox (see the file).
  testEnvironment: require.resolve('./jest-environment.js'),
};

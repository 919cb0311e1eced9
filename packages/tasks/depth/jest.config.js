module.exports = { ...require('../../../jest.preset.js'), displayName: 'depth', rootDir: __dirname };

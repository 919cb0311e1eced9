module.exports = { ...require('../../../jest.preset.js'), displayName: 'condinst', rootDir: __dirname };

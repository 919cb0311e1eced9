module.exports = { ...require('../../../jest.preset.js'), displayName: 'ade20k', rootDir: __dirname };

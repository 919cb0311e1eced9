module.exports = { ...require('../../../jest.preset.js'), displayName: 'sr', rootDir: __dirname };

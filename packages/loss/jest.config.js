module.exports = { ...require('../../jest.preset.js'), displayName: 'loss', rootDir: __dirname };

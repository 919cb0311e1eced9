module.exports = { ...require('../../../jest.preset.js'), displayName: 'seg', rootDir: __dirname };

module.exports = { ...require('../../../jest.preset.js'), displayName: 'hrnet', rootDir: __dirname };

module.exports = { ...require('../../../jest.preset.js'), displayName: 'nyudv2', rootDir: __dirname };

module.exports = { ...require('../../../jest.preset.js'), displayName: 'pspnet', rootDir: __dirname };

module.exports = { ...require('../../../jest.preset.js'), displayName: 'cityscapes', rootDir: __dirname };

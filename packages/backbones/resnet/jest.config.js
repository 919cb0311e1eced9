module.exports = { ...require('../../../jest.preset.js'), displayName: 'resnet', rootDir: __dirname };

module.exports = { ...require('../../../jest.preset.js'), displayName: 'deeplabv3plus', rootDir: __dirname };

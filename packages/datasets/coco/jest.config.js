module.exports = { ...require('../../../jest.preset.js'), displayName: 'coco', rootDir: __dirname };

module.exports = { ...require('../../jest.preset.js'), displayName: 'weights', rootDir: __dirname };

module.exports = { ...require('../../jest.preset.js'), displayName: 'teacher', rootDir: __dirname };

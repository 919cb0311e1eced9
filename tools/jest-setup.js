// TensorFlow.js's plain-JavaScript backend prints an "install our node backend" banner on its
// first tensor in every test file that sets the 'cpu' backend itself (the CLIs silence it through
// @gpl/core's backend choice). Specs choose that backend on purpose, so the banner is dropped here;
// every other warning still reaches the log.
const BANNER = 'looks like you are running TensorFlow.js in Node.js';
const warn = console.warn.bind(console);
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes(BANNER)) return;
  warn(...args);
};

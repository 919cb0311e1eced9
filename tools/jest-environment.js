// Jest's node environment gives each test file its own realm, so typed arrays made by native
// addons (onnxruntime-node returns outputs from the main realm) fail `instanceof Float32Array`
// checks made inside the sandbox (onnxruntime-common's Tensor). Sharing the main realm's typed
// array classes makes both sides agree, as they do in a plain Node process.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;

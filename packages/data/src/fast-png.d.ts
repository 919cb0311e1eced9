/**
 * fast-png ships ES modules with an `exports` map only, which this workspace's `moduleResolution:
 * node` cannot see; its own declarations are re-exported here under the package name. At run time
 * Node (≥ 20.19, `require(esm)`) and Jest (jest.preset.js transpiles it) load the real package.
 */
declare module 'fast-png' {
  export { decode, encode, hasPngSignature, type DecodedPng, type ImageData } from 'fast-png/lib/index.js';
}

/**
 * Seeded randomness. One `Rng` per concern (weights, data order, augmentation), each
 * derived from the run seed by name, so changing how one stream is consumed never shifts
 * another, and the whole state can be saved in a checkpoint and restored exactly.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Serializable generator state: four 32-bit words of xoshiro128** and a pending normal draw. */
export interface RngState {
  readonly s: readonly [number, number, number, number];
  readonly spare?: number;
}

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a: turns a stream name into 32 bits, stable across platforms. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * xoshiro128** generator: fast, 2^128 − 1 period, identical output on every platform
 * (pure 32-bit integer arithmetic), unlike `Math.random` or backend RNG kernels.
 */
export class Rng {
  private s: [number, number, number, number] = [1, 0, 0, 0];
  private spareNormal: number | undefined;

  constructor(seed: number | RngState) {
    if (typeof seed === 'number') {
      if (!Number.isFinite(seed)) throw new RangeError(`[@gpl/core] Rng: seed must be a finite number, received ${seed}.`);
      const next = splitmix32(Math.floor(seed) ^ Math.floor(seed / 0x100000000));
      this.s = [next(), next(), next(), next()];
      if (this.s.every((v) => v === 0)) this.s[0] = 1;
    } else {
      this.setState(seed);
    }
  }

  /** An independent stream derived from this generator's seed material and a name. */
  fork(name: string): Rng {
    const h = hashName(name);
    const next = splitmix32((this.s[0] ^ h) >>> 0);
    const child = new Rng(0);
    child.s = [next() ^ this.s[1], next() ^ this.s[2], next() ^ this.s[3], next() ^ h].map((v) => v >>> 0) as [
      number,
      number,
      number,
      number,
    ];
    if (child.s.every((v) => v === 0)) child.s[0] = 1;
    return child;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    for (let i = 0; i < 4; i++) s[i] >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`[@gpl/core] Rng.int: n must be a positive integer, received ${n}.`);
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal draw (Box–Muller, both values used). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** A permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }

  /** Float32 normal samples, e.g. for weight initialisation. */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Float32 uniform samples in [lo, hi). */
  uniformArray(n: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }

  /** A tensor of normal samples; identical on every backend for the same generator state. */
  randomNormal(shape: number[], mean = 0, std = 1): tf.Tensor {
    return tf.tensor(this.normalArray(shape.reduce((a, b) => a * b, 1), mean, std), shape);
  }

  /** Current state, for checkpoints (JSON-serializable). */
  state(): RngState {
    const s = [...this.s] as [number, number, number, number];
    return this.spareNormal === undefined ? { s } : { s, spare: this.spareNormal };
  }

  /** Restores a state captured by `state()`. */
  setState(state: RngState): void {
    if (!Array.isArray(state?.s) || state.s.length !== 4 || !state.s.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new TypeError('[@gpl/core] Rng.setState: expected { s: [four unsigned 32-bit integers] }.');
    }
    this.s = [...state.s] as [number, number, number, number];
    this.spareNormal = typeof state.spare === 'number' ? state.spare : undefined;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A 31-bit integer seed for libraries that take one (tfjs-layers initializers). */
export function deriveSeed(rng: Rng): number {
  return rng.nextUint32() >>> 1;
}

/**
 * A small seeded PRNG for data order and augmentation (kept here so `@gpl/data` needs no
 * `@gpl/core`). Pure 32-bit integer arithmetic: identical streams on every platform.
 */
import type { RandomSource } from './types';

/** Seeded uniform generator (mulberry32 core; 2^32 states is plenty for one sample's draws). */
export interface SeededRng extends RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** Mixes 32-bit words into one seed (a murmur3-style finaliser per word). */
export function deriveSeed(...words: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    // Split so seeds above 2^32 (e.g. Date-based) still contribute every bit.
    for (const part of [w >>> 0, Math.floor(w / 0x100000000) >>> 0]) {
      let k = Math.imul(part, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Creates a generator from a 32-bit seed (any finite number; non-integers are floored). */
export function createRng(seed: number): SeededRng {
  if (!Number.isFinite(seed)) throw new RangeError(`[@gpl/data] createRng: seed must be a finite number, received ${seed}.`);
  let a = deriveSeed(Math.floor(seed));
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (n) => Math.floor(next() * n),
  };
}

/** Uniform integer in [0, n) from any `RandomSource`. */
export function randomInt(rng: RandomSource, n: number): number {
  return Math.min(n - 1, Math.floor(rng.next() * n));
}

/** Seeded Fisher–Yates permutation of 0..n−1. */
export function shuffledIndices(n: number, seed: number): number[] {
  const rng = createRng(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

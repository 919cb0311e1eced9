/**
 * Paper Eq. 5: with N(0, √(2/n_l)), n_l = k²·c_l, the variance of the responses (and of the
 * gradient flowing back) neither explodes nor vanishes with depth; N(0, 1) explodes and
 * N(0, 0.01) vanishes. Measured on a plain stack of 16 convolutions with ReLU.
 */
import { initBackend } from '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { seededTensor } from '@gpl/core/testing';
import { FrozenNetwork, initialiseWeights } from './network';
import { inferShapes, vggSpec } from './spec';
import { KernelRng, drawKernel, initScale, type InitScheme } from './init';

/** In float64: with N(0, 1) the squares reach 1e34 and a float32 sum would overflow. */
function meanSquare(t: tf.Tensor4D, margin: number): number {
  const [, h, w] = t.shape;
  const v = tf.tidy(() => tf.slice(t, [0, margin, margin, 0], [-1, h - 2 * margin, w - 2 * margin, -1])).dataSync();
  let sum = 0;
  for (const x of v) sum += x * x;
  return sum / v.length;
}

/**
 * Second moment of the 1st and the 16th convolution's outputs, and of the gradient at the input
 * relative to the one injected at the 16th, for one network (seed) of the given width. Measured
 * 16 px inside the borders: 16 layers of 'same' zero padding reach that far and would otherwise
 * attenuate the map (on a 32×32 input, borders alone cut the ratio to 0.06).
 */
function depthProfile(init: InitScheme, width: number, seed: number, size: number): { first: number; last: number; gradient: number } {
  const spec = vggSpec(width, [16], [width], 3, 'stack16');
  const net = new FrozenNetwork(spec, initialiseWeights(spec, init, seed));
  try {
    return tf.tidy(() => {
      const x = seededTensor([1, size, size, width], 100 + seed) as tf.Tensor4D;
      const outputs = net.forward(x, [1, 16], true);
      const top = seededTensor([1, size, size, width], 200 + seed) as tf.Tensor4D;
      const shapes = inferShapes(spec, size, size).map((s) => [1, ...s!]);
      const dx = net.backward(new Map([[16, top]]), net.savedFor(outputs), shapes);
      // E[x²] of the ReLU outputs = Var(y)/2 of the zero-mean responses y that Eq. 5 is about.
      return { first: meanSquare(outputs.get(1)!, 16), last: meanSquare(outputs.get(16)!, 16), gradient: meanSquare(dx, 16) / meanSquare(top, 16) };
    });
  } finally {
    net.dispose();
  }
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('initialisation (Table 4, Eq. 5)', () => {
  // Eq. 5 is a statement about the expectation over weights: one network's ratio is a product of
  // 15 random per-layer gains and spreads widely (measured 0.2–2.0 at 128–256 channels, because
  // deep ReLU responses become strongly correlated across positions), so the ratio of the means
  // over 16 networks is what is tested.
  it("the paper's scheme keeps the response variance within 2× over 16 convolutions, and the input gradient too (mean of 16 networks)", () => {
    const runs = Array.from({ length: 16 }, (_, seed) => depthProfile({ kind: 'he' }, 128, seed, 40));
    const mean = (f: (r: (typeof runs)[number]) => number) => runs.reduce((s, r) => s + f(r), 0) / runs.length;
    const forward = mean((r) => r.last) / mean((r) => r.first);
    const backward = mean((r) => r.gradient);
    if (process.env.GPL_VERBOSE) console.log(`Eq. 5 (He, 16 networks): forward ${forward}, backward ${backward}`);
    expect(forward).toBeGreaterThan(0.5);
    expect(forward).toBeLessThan(2);
    expect(backward).toBeGreaterThan(0.5);
    expect(backward).toBeLessThan(2);
  });

  it('N(0, 1) makes both grow by more than 10^6', () => {
    const { first, last, gradient } = depthProfile({ kind: 'normal', std: 1 }, 32, 1, 40);
    expect(Number.isFinite(last)).toBe(true);
    expect(last / first).toBeGreaterThan(1e6);
    expect(gradient).toBeGreaterThan(1e6);
  });

  it('N(0, 0.01) makes both shrink by more than 10^6', () => {
    const { first, last, gradient } = depthProfile({ kind: 'normal', std: 0.01 }, 32, 1, 40);
    expect(last).toBeGreaterThan(0);
    expect(last / first).toBeLessThan(1e-6);
    expect(gradient).toBeLessThan(1e-6);
  });

  it('draws kernels with the stated moments for every scheme', () => {
    const cases: [InitScheme, number][] = [
      [{ kind: 'he' }, 2 / (9 * 64)],
      [{ kind: 'xavier' }, 2 / (9 * 64 + 9 * 128)],
      [{ kind: 'normal', std: 0.05 }, 0.0025],
      [{ kind: 'uniform', limit: 0.3 }, 0.09 / 3],
    ];
    for (const [init, expectedVariance] of cases) {
      const v = drawKernel(200_000, init, 9 * 64, 9 * 128, new KernelRng(5, 1));
      let sum = 0;
      let sq = 0;
      let max = 0;
      for (const x of v) {
        sum += x;
        sq += x * x;
        max = Math.max(max, Math.abs(x));
      }
      expect(Math.abs(sum / v.length)).toBeLessThan(0.01 * Math.sqrt(expectedVariance));
      expect(sq / v.length / expectedVariance).toBeCloseTo(1, 1);
      if (init.kind === 'uniform') expect(max).toBeLessThanOrEqual(0.3);
      expect(initScale(init, 9 * 64, 9 * 128).scale).toBeGreaterThan(0);
    }
  });

  it('gives each layer its own stream: the same seed and layer give the same kernel, another layer or seed a different one', () => {
    const a = drawKernel(100, { kind: 'he' }, 9, 9, new KernelRng(7, 3));
    expect(drawKernel(100, { kind: 'he' }, 9, 9, new KernelRng(7, 3))).toEqual(a);
    expect(drawKernel(100, { kind: 'he' }, 9, 9, new KernelRng(7, 4))).not.toEqual(a);
    expect(drawKernel(100, { kind: 'he' }, 9, 9, new KernelRng(8, 3))).not.toEqual(a);
  });
});

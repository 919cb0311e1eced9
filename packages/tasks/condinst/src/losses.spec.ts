/** CondInst's losses on hand-computed cases, and the gradients against central differences. */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gpl/core';
import { bceWithLogits, centernessLoss, diceLoss, giouLoss, sigmoidFocalLoss } from './losses';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

const value = (t: tf.Scalar) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

/** Largest |analytic − numeric| / (1 + |numeric|) of d f / d x, central differences in x's own precision. */
function gradError(f: (x: tf.Tensor) => tf.Scalar, x0: number[], shape: number[]): number {
  const x = tf.tensor(x0, shape);
  const g = tf.grad(f)(x);
  const analytic = g.dataSync();
  let worst = 0;
  const h = 1e-2;
  for (let i = 0; i < x0.length; i++) {
    const plus = [...x0];
    const minus = [...x0];
    plus[i] += h;
    minus[i] -= h;
    const numeric = (value(f(tf.tensor(plus, shape))) - value(f(tf.tensor(minus, shape)))) / (2 * h);
    worst = Math.max(worst, Math.abs(analytic[i] - numeric) / (1 + Math.abs(numeric)));
  }
  tf.dispose([x, g]);
  return worst;
}

describe('sigmoidFocalLoss', () => {
  it('matches α_t (1 − p_t)^γ · BCE by hand', () => {
    // x = 0, t = 1: p = ½, BCE = ln 2, (1 − ½)² = ¼, α_t = 0.25 → 0.0625 ln 2.
    // x = 0, t = 0: α_t = 0.75 → 0.1875 ln 2.  x = 2, t = 1: BCE = ln(1 + e⁻²), (1 − σ(2))², α 0.25.
    const s2 = 1 / (1 + Math.exp(-2));
    const expected = 0.0625 * Math.LN2 + 0.1875 * Math.LN2 + 0.25 * (1 - s2) ** 2 * Math.log1p(Math.exp(-2));
    expect(value(sigmoidFocalLoss(tf.tensor2d([[0, 0, 2]]), tf.tensor2d([[1, 0, 1]])))).toBeCloseTo(expected, 6);
    // γ = 0, α < 0 (off): plain BCE sum.
    expect(value(sigmoidFocalLoss(tf.tensor1d([0, 0]), tf.tensor1d([1, 0]), -1, 0))).toBeCloseTo(2 * Math.LN2, 6);
  });

  it('is stable for large logits and has the right gradient', () => {
    expect(value(tf.sum(bceWithLogits(tf.tensor1d([80, -80]), tf.tensor1d([1, 0]))) as tf.Scalar)).toBeCloseTo(0, 10);
    const t = tf.tensor2d([[1, 0, 0], [0, 0, 1]]);
    expect(gradError((x) => sigmoidFocalLoss(x, t), [0.3, -1.2, 2.5, -0.4, 0.9, -2], [2, 3])).toBeLessThan(2e-3);
  });
});

describe('giouLoss', () => {
  it('is 0 for identical boxes and matches hand values for nested and disjoint ones', () => {
    expect(value(giouLoss(tf.tensor2d([[3, 2, 1, 4]]), tf.tensor2d([[3, 2, 1, 4]])))).toBeCloseTo(0, 6);
    // Nested: 2×2 inside 4×4, I = 4, U = 16, IoU = 5/17, C = U → loss 12/17.
    expect(value(giouLoss(tf.tensor2d([[1, 1, 1, 1]]), tf.tensor2d([[2, 2, 2, 2]])))).toBeCloseTo(12 / 17, 6);
    // Diagonal neighbours: I = 0, U = 2, IoU = 1/3, C = 4 → GIoU = 1/3 − ½ → loss 7/6.
    expect(value(giouLoss(tf.tensor2d([[0, 0, 1, 1]]), tf.tensor2d([[1, 1, 0, 0]])))).toBeCloseTo(7 / 6, 6);
  });

  it('weights each location (Σ wᵢ lossᵢ) and has the right gradient', () => {
    const pred = tf.tensor2d([[1, 1, 1, 1], [0, 0, 1, 1]]);
    const target = tf.tensor2d([[2, 2, 2, 2], [1, 1, 0, 0]]);
    expect(value(giouLoss(pred, target, tf.tensor1d([0.5, 2])))).toBeCloseTo(0.5 * (12 / 17) + 2 * (7 / 6), 6);
    expect(gradError((x) => giouLoss(x as tf.Tensor2D, tf.tensor2d([[2, 1.5, 2, 2.5]])), [1.2, 1.1, 0.7, 1.6], [1, 4])).toBeLessThan(2e-3);
  });
});

describe('centernessLoss and diceLoss', () => {
  it('sums BCE with logits over positives', () => {
    expect(value(centernessLoss(tf.tensor1d([0, 0]), tf.tensor1d([0.25, 1])))).toBeCloseTo(2 * Math.LN2, 6);
  });

  it('computes 1 − 2Σxy/(Σx² + Σy² + 1e-5) per instance, averaged', () => {
    // Instance 1: x = [½, ½], y = [1, 0]: 1 − 1/1.50001. Instance 2: x = y = [1, 0]: 1 − 2/2.00001.
    const d = value(diceLoss(tf.tensor2d([[0.5, 0.5], [1, 0]]), tf.tensor2d([[1, 0], [1, 0]])));
    expect(d).toBeCloseTo((1 - 1 / 1.50001 + (1 - 2 / 2.00001)) / 2, 6);
    expect(value(diceLoss(tf.zeros([0, 4]), tf.zeros([0, 4])))).toBe(0);
    const y = tf.tensor2d([[1, 0, 1, 1]]);
    expect(gradError((x) => diceLoss(x, y), [0.2, 0.7, 0.4, 0.9], [1, 4])).toBeLessThan(2e-3);
  });
});

/**
 * `reduction: 'sum'` (the paper's Eq. 3: squared differences summed over each sample's embedding,
 * averaged over the batch) against 'mean' (Eq. 1), on the tfjs engine; engine.spec.ts holds the
 * onnxruntime graph to the same values.
 */
import { initBackend } from '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, expectNoLeak, maxAbsDiff, seededTensor } from '@gpl/core/testing';
import { GenericPerceptualLoss, minimumInputSizeOf } from './loss';

// Finite differences need the exact, deterministic cpu kernels.
beforeAll(async () => {
  expect((await initBackend({ prefer: 'cpu' })).backend).toBe('cpu');
});

describe("reduction 'sum'", () => {
  it('is the identity network’s squared difference summed per sample, averaged over the batch (hand-checked)', () => {
    // One 1×1 convolution with kernel 1 and no pooling: the embedding is the input itself.
    const weights = [{ kernel: tf.ones([1, 1, 1, 1]) as tf.Tensor4D }];
    const sum = new GenericPerceptualLoss({ inChannels: 1, blocks: [1], channels: [1], kernelSize: 1, weights, reduction: 'sum', engine: 'tfjs' });
    const mean = new GenericPerceptualLoss({ inChannels: 1, blocks: [1], channels: [1], kernelSize: 1, weights, reduction: 'mean', engine: 'tfjs' });
    tf.tidy(() => {
      // Sample 0 differs by 1, 2 on two of its four pixels; sample 1 by 3 on one pixel.
      const pred = tf.tensor4d([1, 2, 0, 0, 3, 0, 0, 0], [2, 2, 2, 1]);
      const target = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D;
      // Σ per sample: 1 + 4 = 5 and 9; batch mean 7. Mean over all 8 elements: 14 / 8.
      expect(sum.compute(pred, target).dataSync()[0]).toBeCloseTo(7, 6);
      expect(mean.compute(pred, target).dataSync()[0]).toBeCloseTo(14 / 8, 6);
      // Inputs ≥ 0 pass the convolution's ReLU unchanged.
      const g = tf.grad((x: tf.Tensor) => sum.compute(x as tf.Tensor4D, target))(pred);
      // d/dx (1/N)·Σ x² = 2x / N with N = 2.
      expect(Array.from(g.dataSync())).toEqual([1, 2, 0, 0, 3, 0, 0, 0]);
    });
    sum.dispose();
    mean.dispose();
    tf.dispose(weights.map((w) => w.kernel));
  });

  it("equals 'mean' × C·H·W of the tapped layer, with and without a mask", () => {
    const config = { inChannels: 3, blocks: [1, 1], channels: [4, 5], seed: 2, engine: 'tfjs' as const };
    const sum = new GenericPerceptualLoss({ ...config, reduction: 'sum' });
    const mean = new GenericPerceptualLoss({ ...config });
    expect(mean.config.reduction).toBe('mean');
    tf.tidy(() => {
      const pred = tf.sigmoid(seededTensor([2, 12, 8, 3], 1)) as tf.Tensor4D;
      const target = tf.sigmoid(seededTensor([2, 12, 8, 3], 2)) as tf.Tensor4D;
      const mask = tf.cast(tf.greater(seededTensor([2, 12, 8, 1], 3), 0), 'float32') as tf.Tensor4D;
      // The final tap: after one 2×2 pooling, 6×4 pixels of 5 channels.
      const chw = 6 * 4 * 5;
      for (const m of [undefined, mask]) {
        const a = mean.compute(pred, target, m).dataSync()[0];
        expect(sum.compute(pred, target, m).dataSync()[0]).toBeCloseTo(a * chw, 3);
        const ga = tf.grad((x: tf.Tensor) => mean.compute(x as tf.Tensor4D, target, m))(pred);
        const gs = tf.grad((x: tf.Tensor) => sum.compute(x as tf.Tensor4D, target, m))(pred);
        expect(maxAbsDiff(gs, tf.mul(ga, chw))).toBeLessThan(1e-5 * tf.max(tf.abs(gs)).dataSync()[0]);
      }
    });
    sum.dispose();
    mean.dispose();
  });

  it('reduces each level before the level weights', () => {
    const config = { inChannels: 2, blocks: [1, 1], channels: [3, 4], seed: 5, engine: 'tfjs' as const };
    const both = new GenericPerceptualLoss({ ...config, levels: [0.5, 2], reduction: 'sum' });
    const shallow = new GenericPerceptualLoss({ ...config, levels: [1, 0], reduction: 'sum' });
    const deep = new GenericPerceptualLoss({ ...config, levels: [0, 1], reduction: 'sum' });
    tf.tidy(() => {
      const pred = tf.sigmoid(seededTensor([1, 8, 8, 2], 4)) as tf.Tensor4D;
      const target = tf.sigmoid(seededTensor([1, 8, 8, 2], 5)) as tf.Tensor4D;
      const expected = 0.5 * shallow.compute(pred, target).dataSync()[0] + 2 * deep.compute(pred, target).dataSync()[0];
      expect(both.compute(pred, target).dataSync()[0]).toBeCloseTo(expected, 3);
    });
    [both, shallow, deep].forEach((l) => l.dispose());
  });

  it('has the gradient of central finite differences (mask, all levels)', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 2, blocks: [1, 1], channels: [4, 4], levels: 'all', reduction: 'sum', seed: 6, engine: 'tfjs' });
    const target = tf.sigmoid(seededTensor([2, 6, 6, 2], 7)) as tf.Tensor4D;
    const pred = tf.sigmoid(seededTensor([2, 6, 6, 2], 8)) as tf.Tensor4D;
    const mask = tf.cast(tf.greater(seededTensor([2, 6, 6, 1], 9), -0.2), 'float32') as tf.Tensor4D;
    const [result] = checkGradients((x) => gpl.compute(x as tf.Tensor4D, target, mask), [pred], { epsilon: 1e-3, maxEntries: 64 });
    expect(result.checked).toBeGreaterThanOrEqual(64);
    expect(result.maxRelError).toBeLessThan(2e-2);
    tf.dispose([target, pred, mask]);
    gpl.dispose();
  });

  it('frees its intermediates', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 2, blocks: [1], channels: [3], reduction: 'sum', engine: 'tfjs' });
    const [p, t] = [tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.zeros([1, 4, 4, 2]) as tf.Tensor4D];
    expectNoLeak(() => gpl.compute(p, t), { returns: 1 });
    tf.dispose([p, t]);
    gpl.dispose();
  });

  it('refuses other values in one line naming the option', () => {
    expect(() => new GenericPerceptualLoss({ inChannels: 2, blocks: [1], reduction: 'total' as never })).toThrow(
      "[@gpl/loss] 'reduction' must be 'mean' (Eq. 1) or 'sum' (Eq. 3), received \"total\".",
    );
  });
});

describe('minimumInputSizeOf', () => {
  it('gives the poolings’ minimum without drawing kernels', () => {
    const before = tf.memory().numTensors;
    expect(minimumInputSizeOf({ inChannels: 19, blocks: [1, 1, 1, 1, 1] })).toBe(16);
    expect(minimumInputSizeOf({ inChannels: 19, preset: 'vgg16' })).toBe(16);
    expect(minimumInputSizeOf({ inChannels: 2, blocks: [1, 1] })).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });
});

import '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, expectNoLeak, seededTensor } from '@gpl/core/testing';
import { DepthBins } from './bins';
import { depthLoss, gplRepresentation, weightedCrossEntropy } from './losses';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const small = new DepthBins({ count: 6, min: 0.01, max: 1.7 });
const W = () => tf.tensor2d(small.softTargets(), [6, 6]);

describe('weightedCrossEntropy', () => {
  it('matches a hand computation over valid pixels only', () => {
    const soft = W();
    const w = small.softTargets();
    // Pixel 0: uniform logits, target bin 2 → −Σ W[2][i]·ln(1/6) = ln 6. Pixel 1: logit 3 on bin 0, target bin 0.
    const logits = tf.tensor4d([0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, -9], [1, 1, 3, 6]);
    const bins = tf.tensor3d([2, 0, 5], [1, 1, 3], 'int32');
    const valid = tf.tensor3d([1, 1, 0], [1, 1, 3]);
    const z = Math.log(Math.exp(3) + 5);
    const p1 = -(w[0] * (3 - z) + (1 - w[0]) * (0 - z));
    expect(weightedCrossEntropy(logits, bins, valid, soft).dataSync()[0]).toBeCloseTo((Math.log(6) + p1) / 2, 5);
    expectNoLeak(() => weightedCrossEntropy(logits, bins, valid, soft), { returns: 1 });
    // All pixels invalid: 0, not NaN.
    expect(weightedCrossEntropy(logits, bins, tf.zeros([1, 1, 3]) as tf.Tensor3D, soft).dataSync()[0]).toBe(0);
    expect(() => weightedCrossEntropy(logits, tf.zeros([1, 1, 2], 'int32') as tf.Tensor3D, valid, soft)).toThrow(RangeError);
    tf.dispose([logits, bins, valid, soft]);
  });

  it('has the gradient of finite differences', () => {
    const soft = W();
    const logits = seededTensor([1, 2, 3, 6], 7) as tf.Tensor4D;
    const bins = tf.tensor3d([0, 1, 2, 3, 4, 5], [1, 2, 3], 'int32');
    const valid = tf.tensor3d([1, 1, 0, 1, 1, 1], [1, 2, 3]);
    const [r] = checkGradients((x) => weightedCrossEntropy(x as tf.Tensor4D, bins, valid, soft), [logits], { epsilon: 1e-2, maxEntries: 36 });
    expect(r.checked).toBe(36);
    expect(r.maxRelError).toBeLessThan(2e-2);
    // The masked pixel (index 2) gets no gradient at all.
    const g = tf.grad((x: tf.Tensor) => weightedCrossEntropy(x as tf.Tensor4D, bins, valid, soft))(logits);
    expect(Array.from(g.dataSync().slice(2 * 6, 3 * 6), Math.abs)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Math.max(...Array.from(g.dataSync().slice(0, 6), Math.abs))).toBeGreaterThan(1e-3);
    tf.dispose([soft, logits, bins, valid, g]);
  });
});

describe('gplRepresentation', () => {
  it('masks invalid pixels to 0 in every representation', () => {
    const d = tf.tensor4d([0.2, 0.4, 0, 0.1], [1, 2, 2, 1]);
    const m = tf.tensor4d([1, 1, 0, 1], [1, 2, 2, 1]);
    expect(Array.from(gplRepresentation(d, m, 'metric').dataSync()).map((v) => +v.toFixed(5))).toEqual([0.2, 0.4, 0, 0.1]);
    expect(Array.from(gplRepresentation(d, m, 'log').dataSync()).map((v) => +v.toFixed(5))).toEqual([+(Math.log10(0.2) + 2).toFixed(5), +(Math.log10(0.4) + 2).toFixed(5), 0, 1]);
    const mean = (0.2 + 0.4 + 0.1) / 3;
    expect(Array.from(gplRepresentation(d, m, 'normalised').dataSync()).map((v) => +v.toFixed(5))).toEqual([0.2 / mean, 0.4 / mean, 0, 0.1 / mean].map((v) => +v.toFixed(5)));
    expectNoLeak(() => gplRepresentation(d, m, 'normalised'), { returns: 1 });
    tf.dispose([d, m]);
  });
});

describe('depthLoss', () => {
  it('names its terms by configuration and weights them into the total', () => {
    const bins = new DepthBins();
    const soft = tf.tensor2d(bins.softTargets(), [150, 150]);
    const logits = tf.mul(seededTensor([1, 8, 8, 150], 3), 2) as tf.Tensor4D;
    // A tilted plane in metres with a hole.
    const depth = tf.tensor4d(Float32Array.from({ length: 64 }, (_, i) => (i === 9 ? 0 : 1 + 0.1 * (i % 8) + 0.05 * Math.floor(i / 8))), [1, 8, 8, 1]);
    let s = 1;
    const rng = { next: () => ((s = (s * 16807) % 2147483647) / 2147483647) };
    const perceptual = (p: tf.Tensor4D, t: tf.Tensor4D, m: tf.Tensor4D) => tf.mean(tf.square(tf.mul(tf.sub(p, t), m))) as tf.Scalar;
    const base = { bins, softTargets: soft, vnl: { fx: 5, fy: 5, sampleRatio: 1 }, gplInput: 'metric' as const, rng };
    const wce = depthLoss(logits, depth, { ...base, vnlWeight: 0, lambda: 0 });
    expect(Object.keys(wce.terms)).toEqual(['loss_wce']);
    const all = depthLoss(logits, depth, { ...base, vnlWeight: 6, lambda: 0.1 }, perceptual);
    expect(Object.keys(all.terms)).toEqual(['loss_wce', 'loss_vnl', 'loss_gpl']);
    const t = Object.fromEntries(Object.entries(all.terms).map(([k, v]) => [k, v.dataSync()[0]]));
    expect(t.loss_vnl).toBeGreaterThan(0);
    expect(t.loss_gpl).toBeGreaterThan(0);
    expect(all.total.dataSync()[0]).toBeCloseTo(t.loss_wce + 6 * t.loss_vnl + 0.1 * t.loss_gpl, 4);
    expect(wce.total.dataSync()[0]).toBeCloseTo(t.loss_wce, 6);
    tf.dispose([soft, logits, depth, wce.total, all.total, ...Object.values(wce.terms), ...Object.values(all.terms)]);
  });
});

describe('depthLoss memory', () => {
  it('returns only its total and terms', () => {
    const bins = new DepthBins();
    const soft = tf.tensor2d(bins.softTargets(), [150, 150]);
    const logits = seededTensor([1, 8, 8, 150], 4) as tf.Tensor4D;
    const depth = tf.fill([1, 8, 8, 1], 2.5) as tf.Tensor4D;
    const perceptual = (p: tf.Tensor4D, t: tf.Tensor4D) => tf.mean(tf.square(tf.sub(p, t))) as tf.Scalar;
    const opts = { bins, softTargets: soft, vnl: { fx: 5, fy: 5 }, gplInput: 'log' as const, rng: { next: () => 0.5 }, vnlWeight: 6, lambda: 0.1 };
    expectNoLeak(() => {
      const r = depthLoss(logits, depth, opts, perceptual);
      return [r.total, ...Object.values(r.terms)];
    }, { returns: 4 });
    tf.dispose([soft, logits, depth]);
  });
});

import '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeak } from '@gpl/core/testing';
import { DepthBins } from './bins';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('DepthBins (VNL NYUDv2 layout)', () => {
  const bins = new DepthBins();

  it("has VNL's interval and centres: Δ = 0.0148697, c_i = −2 + Δ(i + ½)", () => {
    expect(bins.count).toBe(150);
    expect(bins.interval).toBeCloseTo(0.0148697, 7);
    expect(bins.centres[0]).toBeCloseTo(-2 + 0.0148697 / 2, 6);
    expect(bins.centres[149]).toBeCloseTo(Math.log10(1.7) - 0.0148697 / 2, 6);
  });

  it('puts a depth in the right bin, and its centre decodes back within half a bin', () => {
    // 2.5 m = 0.25 VNL units: (log10 0.25 + 2) / Δ = 94.013 → bin 94.
    expect(bins.binOf(0.25)).toBe(Math.floor((Math.log10(0.25) + 2) / bins.interval));
    expect(bins.binOf(0.25)).toBe(94);
    // Just below the edge of bin 94 falls in bin 93.
    expect(bins.binOf(10 ** (-2 + 94 * bins.interval) * 0.9999)).toBe(93);
    for (const metres of [0.1, 0.37, 1, 2.5, 4.2, 9.99, 16.9]) {
      const d = metres / 10;
      const b = bins.binOf(d);
      expect(Math.abs(Math.log10(bins.centreDepth(b)) - Math.log10(d))).toBeLessThanOrEqual(bins.interval / 2 + 1e-6); // float32 centres
    }
    // Out of range clamps (VNL): below 0.1 m → bin 0, 17 m and above → the last bin.
    expect([bins.binOf(0.001), bins.binOf(1.7), bins.binOf(5)]).toEqual([0, 149, 149]);
  });

  it('decodes one-hot probabilities to the bin centre and a two-bin mix to the geometric mean', () => {
    const oneHot = tf.tidy(() => tf.cast(tf.reshape(tf.oneHot(tf.tensor1d([93, 10], 'int32'), 150), [1, 1, 2, 150]), 'float32')) as tf.Tensor4D;
    const d = bins.decode(oneHot).dataSync();
    expect(d[0]).toBeCloseTo(bins.centreDepth(93), 5);
    expect(d[1]).toBeCloseTo(bins.centreDepth(10), 6);
    const mix = tf.tidy(() => tf.reshape(tf.add(tf.mul(tf.cast(tf.oneHot(tf.tensor1d([20], 'int32'), 150), 'float32'), 0.5), tf.mul(tf.cast(tf.oneHot(tf.tensor1d([40], 'int32'), 150), 'float32'), 0.5)), [1, 1, 1, 150])) as tf.Tensor4D;
    expect(bins.decode(mix).dataSync()[0]).toBeCloseTo(Math.sqrt(bins.centreDepth(20) * bins.centreDepth(40)), 5);
    expect(() => bins.decode(tf.zeros([1, 1, 1, 10]) as tf.Tensor4D)).toThrow(RangeError);
    expectNoLeak(() => bins.decode(oneHot), { returns: 1 });
    tf.dispose([oneHot, mix]);
  });

  it('soft targets: each row sums to 1, peaks at the ground-truth bin, exp(−0.2·k²) shape', () => {
    const w = bins.softTargets();
    for (const g of [0, 1, 74, 148, 149]) {
      const row = w.subarray(g * 150, (g + 1) * 150);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(row.indexOf(Math.max(...row))).toBe(g);
    }
    // Away from the edges the ratio of neighbours is exp(−0.2·(k² − 0)).
    expect(w[74 * 150 + 76] / w[74 * 150 + 74]).toBeCloseTo(Math.exp(-0.2 * 4), 5);
  });

  it('maps a depth map to int32 bins with invalid (0) pixels masked', () => {
    const depth = tf.tensor4d([0, 0.25, 0.001, -1], [1, 1, 4, 1]);
    const { bins: b, valid } = bins.binsOf(depth);
    expect(Array.from(b.dataSync())).toEqual([0, 94, 0, 0]);
    expect(Array.from(valid.dataSync())).toEqual([0, 1, 1, 0]);
    tf.dispose([depth, b, valid]);
  });
});

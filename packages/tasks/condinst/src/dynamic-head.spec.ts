/**
 * The dynamic mask head: the 169-parameter split on a hand-built vector, the forward against a
 * plain loop over instances, pixels and layers, gradients reaching both the parameters and the
 * features; aligned bilinear upsampling against its sampling rule and a hand-worked row.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gpl/core';
import { CONDINST_HEAD, alignedBilinear, dynamicMaskLogits, dynamicParamLayout, splitDynamicParams } from './dynamic-head';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('dynamic parameters', () => {
  it('are 169 = (10·8 + 8) + (8·8 + 8) + (8 + 1), laid out [w0 w1 w2 b0 b1 b2]', () => {
    expect(dynamicParamLayout()).toEqual({ weights: [80, 64, 8], biases: [8, 8, 1], total: 169 });
    const params = tf.tensor2d([Array.from({ length: 169 }, (_, i) => i)]);
    const [l0, l1, l2] = splitDynamicParams(params);
    expect(l0.weight.shape).toEqual([1, 8, 10]);
    // w0 row-major 8 out × 10 in: weight[o][i] = 10·o + i.
    expect((l0.weight.arraySync() as number[][][])[0][3][7]).toBe(37);
    expect((l1.weight.arraySync() as number[][][])[0][2][5]).toBe(80 + 2 * 8 + 5);
    expect(Array.from(l2.weight.dataSync())).toEqual([144, 145, 146, 147, 148, 149, 150, 151]);
    expect(Array.from(l0.bias.dataSync())).toEqual([152, 153, 154, 155, 156, 157, 158, 159]);
    expect(Array.from(l2.bias.dataSync())).toEqual([168]);
    expect(() => splitDynamicParams(tf.zeros([2, 168]) as tf.Tensor2D)).toThrow('expected 169 parameters per instance, received 168');
  });
});

/** The head written as loops: [rel_x, rel_y, features] → 1×1 layers with ReLU between. */
function loopHead(feat: number[][][][], params: number[][], image: number[], loc: number[][], soi: number[], stride: number): number[][][] {
  const h = feat[0].length;
  const w = feat[0][0].length;
  return params.map((p, k) => {
    const W0 = (o: number, i: number) => p[10 * o + i];
    const W1 = (o: number, i: number) => p[80 + 8 * o + i];
    const W2 = (i: number) => p[144 + i];
    return Array.from({ length: h }, (_, y) =>
      Array.from({ length: w }, (_, x) => {
        const input = [(loc[k][0] - (x * stride + stride / 2)) / soi[k], (loc[k][1] - (y * stride + stride / 2)) / soi[k], ...feat[image[k]][y][x]];
        const a = Array.from({ length: 8 }, (_, o) => Math.max(0, p[152 + o] + input.reduce((s, v, i) => s + W0(o, i) * v, 0)));
        const b = Array.from({ length: 8 }, (_, o) => Math.max(0, p[160 + o] + a.reduce((s, v, i) => s + W1(o, i) * v, 0)));
        return p[168] + b.reduce((s, v, i) => s + W2(i) * v, 0);
      }),
    );
  });
}

describe('dynamicMaskLogits', () => {
  it('equals the loop over instances, pixels and layers, each instance reading its own image', () => {
    const features = tf.randomNormal([2, 3, 4, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
    const params = tf.randomNormal([3, 169], 0, 0.5, 'float32', 2) as tf.Tensor2D;
    const sites = { image: Int32Array.from([1, 0, 1]), location: Float32Array.from([12, 4, 28, 20, 4, 12]), sizeOfInterest: Float32Array.from([64, 128, 256]) };
    const got = dynamicMaskLogits(features, params, sites, 8).arraySync();
    const want = loopHead(features.arraySync(), params.arraySync(), [1, 0, 1], [[12, 4], [28, 20], [4, 12]], [64, 128, 256], 8);
    expect(got.flat(2).map((v, i) => Math.abs(v - want.flat(2)[i])).reduce((a, b) => Math.max(a, b))).toBeLessThan(1e-4);
    // Instance 0 sits on image 1: changing image 0's features must not move it.
    const other = tf.concat([tf.zeros([1, 3, 4, 8]), tf.slice(features, [1, 0, 0, 0], [1, -1, -1, -1])]) as tf.Tensor4D;
    const moved = dynamicMaskLogits(other, params, sites, 8).arraySync();
    expect(moved[0]).toEqual(got[0]);
    expect(moved[1]).not.toEqual(got[1]);
  });

  it('passes gradients to the parameters and the features, and handles zero instances', () => {
    const features = tf.randomNormal([1, 2, 2, 8], 0, 1, 'float32', 3) as tf.Tensor4D;
    const params = tf.randomNormal([2, 169], 0, 0.5, 'float32', 4) as tf.Tensor2D;
    const sites = { image: Int32Array.from([0, 0]), location: Float32Array.from([4, 4, 12, 12]), sizeOfInterest: Float32Array.from([64, 64]) };
    const [gf, gp] = tf.grads((f: tf.Tensor, p: tf.Tensor) => tf.sum(dynamicMaskLogits(f as tf.Tensor4D, p as tf.Tensor2D, sites, 8)))([features, params]);
    expect(tf.sum(tf.abs(gf)).dataSync()[0]).toBeGreaterThan(0);
    // The last bias enters every output pixel once: its gradient is h·w = 4 for each instance.
    expect(Array.from(tf.slice(gp, [0, 168], [2, 1]).dataSync())).toEqual([4, 4]);
    expect(dynamicMaskLogits(features, tf.zeros([0, 169]) as tf.Tensor2D, { image: new Int32Array(0), location: new Float32Array(0), sizeOfInterest: new Float32Array(0) }, 8).shape).toEqual([0, 2, 2]);
    expect(CONDINST_HEAD.inChannels).toBe(8);
  });
});

/** Bilinear sample of a 2-D array at fractional (y, x), coordinates clamped to the array. */
function sample2d(a: number[][], y: number, x: number): number {
  const h = a.length;
  const w = a[0].length;
  const cy = Math.min(Math.max(y, 0), h - 1);
  const cx = Math.min(Math.max(x, 0), w - 1);
  const y0 = Math.floor(cy);
  const x0 = Math.floor(cx);
  const y1 = Math.min(y0 + 1, h - 1);
  const x1 = Math.min(x0 + 1, w - 1);
  const fy = cy - y0;
  const fx = cx - x0;
  return (1 - fy) * ((1 - fx) * a[y0][x0] + fx * a[y0][x1]) + fy * ((1 - fx) * a[y1][x0] + fx * a[y1][x1]);
}

describe('alignedBilinear', () => {
  it('upsamples the row [0, 1] by 2 to two rows [0, 0, ½, 1] (output j samples (j − 1)/2, clamped)', () => {
    const x = tf.tensor4d([0, 1], [1, 1, 2, 1]);
    expect(Array.from(alignedBilinear(x, 2).dataSync())).toEqual([0, 0, 0.5, 1, 0, 0, 0.5, 1]);
  });

  it('samples the input at ((i − ⌊f/2⌋)/f, (j − ⌊f/2⌋)/f) with edges replicated, for factors 2 and 4', () => {
    const a = [[1, 5, 2], [7, -3, 4]];
    const x = tf.tensor4d(a.flat(), [1, 2, 3, 1]);
    for (const f of [2, 4]) {
      const got = alignedBilinear(x, f).arraySync()[0];
      const p = Math.floor(f / 2);
      for (let i = 0; i < 2 * f; i++) {
        for (let j = 0; j < 3 * f; j++) expect({ f, i, j, v: got[i][j][0] }).toEqual({ f, i, j, v: expect.closeTo(sample2d(a, (i - p) / f, (j - p) / f), 5) });
      }
    }
    expect(() => alignedBilinear(x, 1.5)).toThrow('factor must be a positive integer');
  });
});

describe('gatherRows', () => {
  it('gathers rows and sums the gradient of repeated rows (ScatterNd), on the wasm backend too', async () => {
    const { gatherRows } = await import('./gather');
    await initBackend({ prefer: 'wasm' });
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    expect(gatherRows(x, [2, 0, 2]).arraySync()).toEqual([[5, 6], [1, 2], [5, 6]]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gatherRows(t, [2, 0, 2]), tf.tensor2d([[1, 10], [100, 1000], [2, 20]]))))(x);
    expect(g.arraySync()).toEqual([[100, 1000], [0, 0], [3, 30]]);
    await initBackend({ prefer: 'cpu' });
  });
});

import './setup';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { flipSpatial, installGradientCompleteness } from './gradients';
import { checkGradients, expectNoLeak, maxAbsDiff, seededTensor } from './testing';

/*
 * Tolerances. Gradients are compared with central differences of a quadratic loss
 * (sum of squares of the op's output weighted by a fixed random tensor), for which the
 * central difference is exact up to float32 round-off. Relative error is measured against
 * the largest gradient entry of that input. Measured here: ≤ 2e-4 on cpu and ≤ 1e-3 on wasm
 * (its SIMD convolutions sum in a different order), so 5e-3 leaves headroom while a wrong
 * index or a missing tap (errors of order 1) still fails.
 */
const FD_TOL = 5e-3;

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const EXPLICIT: Pad = [[0, 0], [2, 1], [0, 3], [0, 0]];

function weightedSquare(y: tf.Tensor, seed: number): tf.Scalar {
  return tf.tidy(() => {
    const r = seededTensor(y.shape, seed);
    return tf.sum(tf.mul(tf.square(y), tf.add(r, 1.5)));
  });
}

function expectFiniteDifferences(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[]): void {
  const results = checkGradients(f, inputs, { epsilon: 1e-2, maxEntries: 40 });
  results.forEach((r) => {
    expect(r.checked).toBeGreaterThan(0);
    expect(r.maxRelError).toBeLessThan(FD_TOL);
  });
}

interface ConvCase {
  stride: number;
  dilation: number;
  pad: Pad;
  size: number;
}

// Every dilation the models use (ASPP 6/12/18, PSPNet 2/4), each padding mode, strides 1 and 2
// (TensorFlow.js forbids stride > 1 together with dilation > 1, in the forward op too).
const convCases: ConvCase[] = [
  ...[1, 2].flatMap((stride) => (['same', 'valid', EXPLICIT] as Pad[]).map((pad) => ({ stride, dilation: 1, pad, size: 9 }))),
  ...[2, 4].flatMap((dilation) => (['same', 'valid', EXPLICIT] as Pad[]).map((pad) => ({ stride: 1, dilation, pad, size: 11 }))),
  ...[6, 12, 18].flatMap((dilation) => (['same', 'valid'] as Pad[]).map((pad) => ({ stride: 1, dilation, pad, size: 2 * dilation + 4 }))),
];


describe.each(['cpu', 'wasm'])('gradient completeness on %s', (backend) => {
  beforeAll(async () => {
    installGradientCompleteness();
    expect(await tf.setBackend(backend)).toBe(true);
  });

  it.each(convCases)('conv2d dx and dW match finite differences: %#', (c) => {
    const x = seededTensor([2, c.size, c.size - 1, 3], 11);
    const w = seededTensor([3, 3, 3, 4], 12);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      weightedSquare(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation), 13);
    expectFiniteDifferences(f, [x, w]);
    tf.dispose([x, w]);
  });

  it.each(
    [1, 2].flatMap((mult) =>
      [
        { stride: 1, dilation: 1, pad: 'same' as Pad },
        { stride: 2, dilation: 1, pad: 'same' as Pad },
        { stride: 2, dilation: 1, pad: 'valid' as Pad },
        { stride: 1, dilation: 2, pad: 'same' as Pad },
        { stride: 1, dilation: 4, pad: 'valid' as Pad },
        { stride: 1, dilation: 2, pad: EXPLICIT },
      ].map((c) => ({ ...c, mult })),
    ),
  )('depthwise conv2d dx and dW match finite differences: $stride/$dilation/$mult %#', (c) => {
    const x = seededTensor([2, 11, 10, 3], 21);
    const w = seededTensor([3, 3, 3, c.mult], 22);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      weightedSquare(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation), 23);
    expectFiniteDifferences(f, [x, w]);
    tf.dispose([x, w]);
  });

  it.each([
    { dilation: 1, activation: 'linear' as const },
    { dilation: 2, activation: 'linear' as const },
    { dilation: 2, activation: 'relu' as const },
  ])('fused conv2d (the tfjs-layers path) with bias, dilation $dilation, $activation', (c) => {
    const x = seededTensor([1, 9, 9, 3], 31);
    const w = seededTensor([3, 3, 3, 2], 32);
    const b = seededTensor([2], 33);
    const f = (a: tf.Tensor, k: tf.Tensor, bias: tf.Tensor) =>
      weightedSquare(
        tf.fused.conv2d({
          x: a as tf.Tensor4D,
          filter: k as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          dilations: c.dilation,
          bias,
          activation: c.activation,
        }),
        34,
      );
    expectFiniteDifferences(f, [x, w, b]);
    tf.dispose([x, w, b]);
  });

  it('fused depthwise conv2d with bias and dilation 2', () => {
    const x = seededTensor([1, 9, 9, 3], 41);
    const w = seededTensor([3, 3, 3, 1], 42);
    const b = seededTensor([3], 43);
    const f = (a: tf.Tensor, k: tf.Tensor, bias: tf.Tensor) =>
      weightedSquare(
        tf.fused.depthwiseConv2d({ x: a as tf.Tensor4D, filter: k as tf.Tensor4D, strides: 1, pad: 'same', dilations: 2, bias }),
        44,
      );
    expectFiniteDifferences(f, [x, w, b]);
    tf.dispose([x, w, b]);
  });

  it.each([false, true])('resizeBilinear, alignCorners %s', (alignCorners) => {
    const x = seededTensor([1, 5, 6, 2], 51);
    expectFiniteDifferences((a) => weightedSquare(tf.image.resizeBilinear(a as tf.Tensor4D, [11, 9], alignCorners), 52), [x]);
    x.dispose();
  });

  it('maxPool and avgPool (3×3, stride 2, same)', () => {
    // Distinct values far apart so that ±ε never changes which element is the maximum.
    const x = tf.tidy(() => tf.mul(tf.reshape(tf.gather(tf.range(0, 98), seededPermutation(98, 61)), [1, 7, 7, 2]), 0.1));
    expectFiniteDifferences((a) => weightedSquare(tf.maxPool(a as tf.Tensor4D, 3, 2, 'same'), 62), [x]);
    expectFiniteDifferences((a) => weightedSquare(tf.avgPool(a as tf.Tensor4D, 3, 2, 'same'), 63), [x]);
    x.dispose();
  });

  it('batch normalisation in training mode (batch statistics), scale and offset', () => {
    const x = seededTensor([2, 4, 3, 3], 71);
    const gamma = seededTensor([3], 72);
    const beta = seededTensor([3], 73);
    const f = (a: tf.Tensor, g: tf.Tensor, o: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return weightedSquare(tf.batchNorm(a, mean, variance, o, g, 1e-3), 74);
    };
    expectFiniteDifferences(f, [x, gamma, beta]);
    tf.dispose([x, gamma, beta]);
  });

  it.each([
    { name: 'per-channel [C] moments', x: [2, 5, 4, 3], stats: [3] },
    { name: '[1, 1, 1, C] moments', x: [2, 3, 4, 3], stats: [1, 1, 1, 3] },
    { name: '2-D input', x: [6, 4], stats: [4] },
  ])('the batch-norm gradient (x, mean, variance, offset, scale) equals that of the same expression in elementwise ops: $name', ({ x: xs, stats }) => {
    const x = seededTensor(xs, 131);
    const mean = seededTensor(stats, 132);
    const variance = tf.tidy(() => tf.add(tf.square(seededTensor(stats, 133)), 0.3));
    const gamma = seededTensor(stats, 134);
    const beta = seededTensor(stats, 135);
    const dy = seededTensor(xs, 136);
    const eps = 1e-3;
    const probe = (y: tf.Tensor) => tf.sum(tf.mul(y, dy)) as tf.Scalar;
    // (tfjs-core cannot record a batchNorm without a scale: its kernel saves the absent input.)
    const fused = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, g: tf.Tensor) => probe(tf.batchNorm(a, m, v, o, g, eps));
    const plain = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, g: tf.Tensor) => probe(tf.add(tf.mul(tf.mul(tf.sub(a, m), tf.rsqrt(tf.add(v, eps))), g), o));
    const inputs = [x, mean, variance, beta, gamma];
    const got = tf.grads(fused)(inputs);
    const want = tf.grads(plain)(inputs);
    got.forEach((g, i) => {
      expect(g.shape).toEqual(inputs[i].shape);
      const scaleOf = tf.max(tf.abs(want[i])).dataSync()[0];
      expect(scaleOf).toBeGreaterThan(0);
      expect(maxAbsDiff(g, want[i]) / scaleOf).toBeLessThan(1e-5);
    });
    tf.dispose([x, mean, variance, gamma, beta, dy, ...got, ...want]);
  });

  it('a training step through batch normalisation leaves no tensors behind', () => {
    const x = seededTensor([2, 6, 6, 4], 141);
    const gamma = tf.variable(seededTensor([4], 142));
    const beta = tf.variable(seededTensor([4], 143));
    const opt = tf.train.sgd(0.01);
    const step = () =>
      opt.minimize(() => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.mean(tf.square(tf.batchNorm(x, mean, variance, beta, gamma, 1e-5))) as tf.Scalar;
      }, true) as tf.Scalar;
    expectNoLeak(step, { returns: 1, repeats: 3 });
    tf.dispose([x, gamma, beta]);
    opt.dispose();
  });

  it.each([
    [3, 3, 2, 5],
    [5, 5, 3, 1],
    [3, 1, 2, 2],
    [1, 1, 4, 3],
  ])('flipSpatial equals Reverse on the two spatial axes: %j', (...shape) => {
    const f = seededTensor(shape, 151) as tf.Tensor4D;
    const flipped = flipSpatial(f);
    const want = tf.reverse(f, [0, 1]);
    expect(flipped.shape).toEqual(shape);
    expect(Array.from(flipped.dataSync())).toEqual(Array.from(want.dataSync()));
    tf.dispose([f, flipped, want]);
  });

  it('concat, slice and pad', () => {
    const a = seededTensor([1, 4, 5, 2], 81);
    const b = seededTensor([1, 4, 5, 3], 82);
    const f = (p: tf.Tensor, q: tf.Tensor) => {
      const joined = tf.concat([p, q], 3);
      const cut = tf.slice(joined, [0, 1, 0, 1], [1, 3, 4, 3]);
      return weightedSquare(tf.pad(cut, [[0, 0], [1, 2], [2, 0], [0, 1]]), 83);
    };
    expectFiniteDifferences(f, [a, b]);
    tf.dispose([a, b]);
  });

  it('a gradient step leaves no tensors behind', () => {
    const x = seededTensor([1, 12, 12, 3], 91);
    const w = tf.variable(seededTensor([3, 3, 3, 4], 92)) as tf.Variable<tf.Rank.R4>;
    const dw = tf.variable(seededTensor([3, 3, 4, 1], 93)) as tf.Variable<tf.Rank.R4>;
    const opt = tf.train.momentum(0.01, 0.9);
    const step = () =>
      opt.minimize(() => {
        const y = tf.depthwiseConv2d(tf.conv2d(x as tf.Tensor4D, w, 1, 'same', 'NHWC', 2), dw, 1, 'same', 'NHWC', 4);
        return tf.mean(tf.square(y)) as tf.Scalar;
      }, true) as tf.Scalar;
    tf.dispose(step()); // creates the momentum slots once
    expectNoLeak(step, { returns: 1, repeats: 5 });
    tf.dispose([x, w, dw]);
    opt.dispose();
  });
});

function seededPermutation(n: number, seed: number): tf.Tensor1D {
  const order = Array.from(seededTensor([n], seed).dataSync()).map((v, i) => [v, i] as const);
  order.sort((p, q) => p[0] - q[0]);
  return tf.tensor1d(order.map(([, i]) => i), 'int32');
}

describe('against the native gradients (cpu, dilation 1)', () => {
  it('matches the stock Conv2D gradient and Conv2DBackpropFilter', async () => {
    await tf.setBackend('cpu');
    const x = seededTensor([2, 9, 8, 3], 101) as tf.Tensor4D;
    const w = seededTensor([3, 3, 3, 5], 102) as tf.Tensor4D;
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid', EXPLICIT] as Pad[]) {
        const y = tf.conv2d(x, w, stride, pad);
        const dy = seededTensor(y.shape, 103) as tf.Tensor4D;
        const nativeDw = tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { strides: stride, pad, dataFormat: 'NHWC', filterShape: w.shape },
        ) as tf.Tensor;
        const nativeDx = tf.engine().runKernel(
          'Conv2DBackpropInput',
          { dy, filter: w },
          { strides: stride, pad, dataFormat: 'NHWC', inputShape: x.shape },
        ) as tf.Tensor;
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), dy)))([x, w]);
        expect(maxAbsDiff(dw, nativeDw)).toBeLessThan(1e-4);
        expect(maxAbsDiff(dx, nativeDx)).toBeLessThan(1e-4);
        tf.dispose([y, dy, nativeDw, nativeDx, dx, dw]);
      }
    }
    tf.dispose([x, w]);
  });

  it('wasm max pooling routes tied maxima to the first in window order, as cpu and PyTorch do', async () => {
    installGradientCompleteness();
    // 4×4, one channel; the bottom-right 2×2 window holds 5, 5 (a tie) and the 3×3 windows more ties.
    const x = tf.tensor4d([1, 1, 1, 1, 2, 3, 3, 2, 0, 5, 5, 5, 1, 4, 4, 1], [1, 4, 4, 1]);
    const routed = (size: number, stride: number, pad: 'valid' | 'same') =>
      Array.from(tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, size, stride, pad)))(x).dataSync());
    // Values at 0.5 steps, so that most windows of the random case below tie.
    const ties = tf.tidy(() => tf.div(tf.round(tf.mul(tf.sigmoid(seededTensor([2, 9, 8, 3], 121)), 4)), 2)) as tf.Tensor4D;
    const dy = (size: number, stride: number, pad: 'valid' | 'same') => seededTensor(tf.maxPool(ties, size, stride, pad).shape, 122);
    const configs = [[2, 2, 'valid'], [3, 2, 'same'], [3, 1, 'same'], [3, 2, 'valid']] as const;
    const random = () => configs.map(([k, s, p]) => Array.from(tf.tidy(() => tf.engine().runKernel('MaxPoolGrad', { dy: dy(k, s, p), input: ties, output: tf.maxPool(ties, k, s, p) }, { filterSize: k, strides: s, pad: p }) as tf.Tensor).dataSync()));
    await tf.setBackend('cpu');
    const cpu = random();
    await tf.setBackend('wasm');
    try {
      expect(routed(2, 2, 'valid')).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
      expect(routed(3, 2, 'same')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0]);
      random().forEach((values, i) => {
        expect(values.filter((v) => v !== 0).length).toBeGreaterThan(0);
        values.forEach((v, j) => expect(v).toBeCloseTo(cpu[i][j], 5));
      });
    } finally {
      await tf.setBackend('cpu');
      tf.dispose([x, ties]);
    }
  });

  it('substitute wasm kernels agree with the cpu kernels', async () => {
    installGradientCompleteness();
    const x = seededTensor([2, 10, 9, 3], 111) as tf.Tensor4D;
    const dyConv = seededTensor([2, 5, 5, 4], 112) as tf.Tensor4D; // stride 2, same
    const filterDw = seededTensor([3, 3, 3, 2], 113) as tf.Tensor4D;
    const dyDw = seededTensor([2, 10, 9, 6], 114) as tf.Tensor4D; // stride 1, same
    const run = () => [
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dyConv }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] }),
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dyDw, filter: filterDw }, { strides: 1, dilations: 1, pad: 'same', inputShape: x.shape }),
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dyDw }, { strides: 1, dilations: 1, pad: 'same', filterShape: filterDw.shape }),
    ] as tf.Tensor[];
    await tf.setBackend('cpu');
    const onCpu = run().map((t) => ({ shape: t.shape, values: t.dataSync().slice() }));
    await tf.setBackend('wasm');
    const onWasm = run();
    onWasm.forEach((t, i) => {
      expect(t.shape).toEqual(onCpu[i].shape);
      const ref = tf.tensor(onCpu[i].values, onCpu[i].shape);
      expect(maxAbsDiff(t, ref)).toBeLessThan(1e-3);
      ref.dispose();
    });
    tf.dispose(onWasm);
    await tf.setBackend('cpu');
    tf.dispose([x, dyConv, filterDw, dyDw]);
  });
});

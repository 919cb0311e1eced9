import './setup';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { installGradientCompleteness } from './gradients';
import { InputSizeCheck } from './layers';
import { ResizeLike, resizeLikeTorch, type ResizeMode } from './resize';
import { checkGradients, expectNoLeak, maxAbsDiff, roundTripLayersModel, seededTensor } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
  installGradientCompleteness();
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('resizeLikeTorch', () => {
  it('bilinear, alignCorners false: PyTorch half-pixel values with border clamping (2× along width)', () => {
    const x = tf.tensor4d([0, 1, 2, 3], [1, 1, 4, 1]);
    const y = resizeLikeTorch(x, [1, 8], 'bilinear', false);
    // src = (o + 0.5)/2 − 0.5, clamped to [0, 3]: −0.25→0, 0.25, 0.75, …, 3.25→3
    expect(values(y)).toEqual([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
    tf.dispose([x, y]);
  });

  it('bilinear, alignCorners false: 4× along height', () => {
    const x = tf.tensor4d([0, 4], [1, 2, 1, 1]);
    const y = resizeLikeTorch(x, [8, 1], 'bilinear', false);
    // src = (o + 0.5)/4 − 0.5: −0.375, −0.125 → 0; 0.125 … 0.875 → 0.5 … 3.5; 1.125, 1.375 → 1
    expect(values(y)).toEqual([0, 0, 0.5, 1.5, 2.5, 3.5, 4, 4]);
    tf.dispose([x, y]);
  });

  it('bilinear, alignCorners false: agrees with an independent half-pixel implementation (tfjs forward kernel)', () => {
    const x = seededTensor([2, 3, 5, 4], 3) as tf.Tensor4D;
    for (const size of [[6, 10], [24, 40], [3, 20]] as [number, number][]) {
      const ours = resizeLikeTorch(x, size, 'bilinear', false);
      const kernel = tf.image.resizeBilinear(x, size, false, true);
      expect(maxAbsDiff(ours, kernel)).toBeLessThan(1e-6);
      tf.dispose([ours, kernel]);
    }
    x.dispose();
  });

  it('nearest repeats rows and columns (PyTorch floor(o / s))', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const y = resizeLikeTorch(x, [4, 4], 'nearest', false);
    expect(values(y)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    tf.dispose([x, y]);
  });

  it('bilinear, alignCorners true: corner pixels map onto corner pixels', () => {
    const x = tf.tensor4d([0, 1, 2, 3], [1, 2, 2, 1]);
    const y = resizeLikeTorch(x, [3, 3], 'bilinear', true);
    expect(values(y)).toEqual([0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
    tf.dispose([x, y]);
  });

  it('rejects a non-integer upsampling factor without corner alignment, naming the sizes', () => {
    const x = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
    expect(() => resizeLikeTorch(x, [4, 6], 'bilinear', false)).toThrow(/height 3 → 4 is not an integer/);
    expect(() => resizeLikeTorch(x, [6, 4], 'nearest', false)).toThrow(RangeError);
    x.dispose();
  });

  it.each([
    ['bilinear', false],
    ['bilinear', true],
    ['nearest', false],
  ] as const)('has correct gradients (%s, alignCorners %s) on a non-square input', (mode, alignCorners) => {
    const x = seededTensor([1, 3, 2, 2], 7);
    const w = seededTensor([1, 12, 8, 2], 8); // weights a non-trivial function of the output
    const [r] = checkGradients((a) => tf.sum(tf.mul(resizeLikeTorch(a as tf.Tensor4D, [12, 8], mode, alignCorners), w)), [x]);
    expect(r.maxRelError).toBeLessThan(1e-3);
    tf.dispose([x, w]);
  });

  it('frees its intermediates', () => {
    const x = seededTensor([2, 4, 4, 3], 1) as tf.Tensor4D;
    expectNoLeak(() => resizeLikeTorch(x, [16, 16], 'bilinear', false), { returns: 1 });
    expectNoLeak(() => resizeLikeTorch(x, [8, 8], 'nearest', false), { returns: 1 });
    expectNoLeak(() => resizeLikeTorch(x, [4, 4], 'bilinear', false), { returns: 1 });
    x.dispose();
  });
});

describe('ResizeLike and InputSizeCheck layers', () => {
  it('resize to the size of a second input, for any input size', () => {
    const a = tfl.input({ shape: [null, null, 3] });
    const ref = tfl.input({ shape: [null, null, 1] });
    const out = new ResizeLike({ mode: 'bilinear', alignCorners: false }).apply([a, ref]) as tfl.SymbolicTensor;
    expect(out.shape).toEqual([null, null, null, 3]);
    const model = tfl.model({ inputs: [a, ref], outputs: out });
    const x = tf.ones([2, 4, 8, 3]);
    const r = tf.zeros([2, 16, 32, 1]);
    const y = model.predict([x, r]) as tf.Tensor;
    expect(y.shape).toEqual([2, 16, 32, 3]);
    expect(maxAbsDiff(y, tf.onesLike(y))).toBe(0);
    expectNoLeak(() => model.predict([x, r]) as tf.Tensor, { returns: 1 });
    tf.dispose([x, r, y]);
  });

  it.each([
    ['bilinear', false],
    ['bilinear', true],
    ['nearest', false],
  ] as const)('ResizeLike (%s, alignCorners %s) computes resizeLikeTorch and keeps its settings through model JSON', async (mode, alignCorners) => {
    const a = tfl.input({ shape: [null, null, 2] });
    const ref = tfl.input({ shape: [null, null, 1] });
    const model = tfl.model({ inputs: [a, ref], outputs: new ResizeLike({ mode, alignCorners }).apply([a, ref]) as tfl.SymbolicTensor });
    const loaded = await roundTripLayersModel(model);
    expect(loaded.layers[2].getClassName()).toBe('GplResizeLike');
    expect(loaded.layers[2].getConfig()).toMatchObject({ mode, alignCorners });
    const x = seededTensor([1, 3, 2, 2], 5) as tf.Tensor4D;
    const r = tf.zeros([1, 12, 8, 1]);
    const expected = resizeLikeTorch(x, [12, 8], mode, alignCorners);
    const y = loaded.predict([x, r]) as tf.Tensor;
    expect(maxAbsDiff(y, expected)).toBe(0);
    tf.dispose([x, r, expected, y]);
  });

  it('ResizeLike refuses an unknown mode or a non-boolean alignCorners', () => {
    expect(() => new ResizeLike({ mode: 'bicubic' as ResizeMode, alignCorners: false })).toThrow(/mode must be 'bilinear' or 'nearest', received "bicubic"/);
    expect(() => new ResizeLike({ mode: 'nearest', alignCorners: undefined as unknown as boolean })).toThrow(TypeError);
  });

  it('InputSizeCheck passes multiples of the divisor through and names the package and the fix otherwise, also after model JSON', async () => {
    const input = tfl.input({ shape: [null, null, 3] });
    const model = tfl.model({ inputs: input, outputs: new InputSizeCheck({ divisor: 32, packageName: '@gpl/hrnet' }).apply(input) as tfl.SymbolicTensor });
    const ok = tf.ones([1, 64, 32, 3]);
    const y = model.predict(ok) as tf.Tensor;
    expect(maxAbsDiff(y, ok)).toBe(0);
    // The input tensor survives the model (the layer returns its own handle, not the input).
    expect(ok.isDisposed).toBe(false);
    const bad = tf.ones([1, 60, 32, 3]);
    expect(() => model.predict(bad)).toThrow('[@gpl/hrnet] input height 60 is not a positive multiple of 32; use 64.');
    const loaded = await roundTripLayersModel(model);
    expect(loaded.layers[1].getClassName()).toBe('GplInputSizeCheck');
    expect(() => loaded.predict(bad)).toThrow('[@gpl/hrnet] input height 60 is not a positive multiple of 32; use 64.');
    const plain = new InputSizeCheck({ divisor: 8 });
    const narrow = tf.zeros([1, 8, 12, 3]);
    expect(() => plain.apply(narrow)).toThrow(/^\[@gpl\/core\] input width 12 is not a positive multiple of 8; use 16\.$/);
    expect(() => new InputSizeCheck({ divisor: 0 })).toThrow(/divisor must be a positive integer, received 0/);
    tf.dispose([ok, y, bad, narrow]);
    model.dispose();
    loaded.dispose();
  });
});

import './setup';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { AdaptiveAvgPool2D, addRelu, convUnit, layerSeed, ResizeBilinear, scaleWidth } from './layers';
import { checkInputSize, importWeightsByName, summarizeModel } from './backbone';
import { expectNoLeak, maxAbsDiff, seededTensor } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('AdaptiveAvgPool2D', () => {
  it('matches PyTorch cell bounds, including overlapping cells (5 rows into 3 bins)', () => {
    const layer = new AdaptiveAvgPool2D({ bins: [3, 2] });
    // x[0, r, c, 0] = 10r + c on a 5×4 grid
    const x = tf.tensor4d(Array.from({ length: 20 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4)), [1, 5, 4, 1]);
    const y = layer.apply(x) as tf.Tensor;
    // rows: [0,1], [1,2,3], [3,4] (floor(i·5/3) … ceil((i+1)·5/3)); cols: [0,1], [2,3]
    const rowMeans = [5, 20, 35];
    const colMeans = [0.5, 2.5];
    expect(y.shape).toEqual([1, 3, 2, 1]);
    expect(Array.from(y.dataSync())).toEqual(rowMeans.flatMap((r) => colMeans.map((c) => r + c)));
    expect(layer.computeOutputShape([null, 5, 4, 1])).toEqual([null, 3, 2, 1]);
    expectNoLeak(() => layer.apply(x) as tf.Tensor, { returns: 1 });
    tf.dispose([x, y]);
  });

  it('uses plain pooling when bins divide the size, with the same result as cell means', () => {
    const x = seededTensor([2, 6, 6, 3], 1) as tf.Tensor4D;
    const y = new AdaptiveAvgPool2D({ bins: [2, 3] }).apply(x) as tf.Tensor;
    const cell = tf.mean(tf.slice(x, [0, 3, 2, 0], [-1, 3, 2, -1]), [1, 2]);
    expect(maxAbsDiff(tf.reshape(tf.slice(y, [0, 1, 1, 0], [-1, 1, 1, -1]), [2, 3]), cell)).toBeLessThan(1e-6);
    tf.dispose([x, y, cell]);
  });
});

describe('ResizeBilinear', () => {
  it('resizes to a fixed size with either corner convention', () => {
    const x = tf.tensor4d([0, 1, 2, 3], [1, 2, 2, 1]);
    const aligned = new ResizeBilinear({ size: [3, 3], alignCorners: true }).apply(x) as tf.Tensor;
    expect(Array.from(aligned.dataSync())).toEqual([0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
    const half = new ResizeBilinear({ size: [4, 4] }).apply(x) as tf.Tensor;
    expect(half.shape).toEqual([1, 4, 4, 1]);
    expect(() => new ResizeBilinear({ size: [0, 3] as [number, number] })).toThrow(RangeError);
    tf.dispose([x, aligned, half]);
  });
});

describe('convUnit', () => {
  it('pads strided convolutions symmetrically like PyTorch (padding 1, stride 2)', () => {
    const input = tfl.input({ shape: [6, 6, 1] });
    const out = convUnit(input, { name: 'stem.conv1', filters: 1, kernelSize: 3, strides: 2, bn: false, relu: false, seed: 1 });
    const model = tfl.model({ inputs: input, outputs: out });
    model.getLayer('stem.conv1').setWeights([tf.ones([3, 3, 1, 1]), tf.zeros([1])]);
    const x = tf.ones([1, 6, 6, 1]);
    const y = model.predict(x) as tf.Tensor;
    // Top-left output covers rows/cols −1…1: 4 real pixels; interior ones cover 9.
    expect(y.shape).toEqual([1, 3, 3, 1]);
    expect(Array.from(y.dataSync())).toEqual([4, 6, 6, 6, 9, 9, 6, 9, 9]);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('names layers stably and counts parameters', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const out = convUnit(input, { name: 'layer1.0.conv1', filters: 4, kernelSize: 3, dilation: 2, seed: 1 });
    const model = tfl.model({ inputs: input, outputs: out });
    expect(model.layers.map((l) => l.name)).toEqual(['input1', 'layer1.0.conv1', 'layer1.0.conv1.bn', 'layer1.0.conv1.relu'].map((n, i) => (i === 0 ? model.layers[0].name : n)));
    const s = summarizeModel(model);
    expect(s.trainable).toBe(3 * 3 * 3 * 4 + 2 * 4); // kernel + BN gamma/beta
    expect(s.nonTrainable).toBe(2 * 4); // moving mean/variance
    expect(s.byPrefix.layer1).toBe(116);
    model.dispose();
  });
});

describe('importWeightsByName', () => {
  const build = (seed: number, extra: boolean) => {
    const input = tfl.input({ shape: [8, 8, 3] });
    let y = convUnit(input, { name: 'enc.conv', filters: 4, kernelSize: 3, seed });
    if (extra) y = convUnit(y, { name: 'head.cls', filters: 2, kernelSize: 1, bn: false, relu: false, seed });
    return tfl.model({ inputs: input, outputs: y });
  };

  it('copies matching weights and reports missing and unused ones', () => {
    const source = build(1, false);
    const target = build(2, true);
    const report = importWeightsByName(target, source);
    expect(report.loaded).toEqual(['enc.conv/kernel', 'enc.conv.bn/gamma', 'enc.conv.bn/beta', 'enc.conv.bn/moving_mean', 'enc.conv.bn/moving_variance']);
    expect(report.missing).toEqual(['head.cls/kernel', 'head.cls/bias']);
    expect(report.unused).toEqual([]);
    expect(maxAbsDiff(target.getLayer('enc.conv').getWeights()[0], source.getLayer('enc.conv').getWeights()[0])).toBe(0);
    expect(() => importWeightsByName(target, source, { strict: true })).toThrow(/2 weights missing from the source/);
    source.dispose();
    target.dispose();
  });
});

describe('helpers', () => {
  it('checkInputSize names the nearest valid size', () => {
    expect(() => checkInputSize('@gpl/pspnet', 100, 64, 32)).toThrow('[@gpl/pspnet] input height 100 is not a positive multiple of 32; use 96.');
    expect(() => checkInputSize('@gpl/pspnet', 96, 64, 32)).not.toThrow();
  });

  it('layerSeed depends on the model seed and the layer name only', () => {
    expect(layerSeed(1, 'layer1.0.conv1')).toBe(layerSeed(1, 'layer1.0.conv1'));
    expect(layerSeed(1, 'layer1.0.conv1')).not.toBe(layerSeed(1, 'layer1.0.conv2'));
    expect(layerSeed(1, 'layer1.0.conv1')).not.toBe(layerSeed(2, 'layer1.0.conv1'));
    expect(Number.isInteger(layerSeed(1, 'conv1'))).toBe(true);
  });

  it('addRelu sums its terms then applies ReLU, as <name>.add and <name>.relu', () => {
    const a = tfl.input({ shape: [2] });
    const b = tfl.input({ shape: [2] });
    const model = tfl.model({ inputs: [a, b], outputs: addRelu([a, b], 'layer1.0') });
    expect(model.layers.slice(2).map((l) => l.name)).toEqual(['layer1.0.add', 'layer1.0.relu']);
    const [x, y] = [tf.tensor2d([[1, -3]]), tf.tensor2d([[0.5, 1]])];
    const out = model.predict([x, y]) as tf.Tensor;
    expect(Array.from(out.dataSync())).toEqual([1.5, 0]);
    tf.dispose([x, y, out]);
    model.dispose();
  });

  it('scaleWidth rounds to multiples of 8 with a floor of 8', () => {
    expect(scaleWidth(64, 1)).toBe(64);
    expect(scaleWidth(64, 0.25)).toBe(16);
    expect(scaleWidth(18, 0.25)).toBe(8);
    expect(() => scaleWidth(64, 0)).toThrow(RangeError);
  });
});

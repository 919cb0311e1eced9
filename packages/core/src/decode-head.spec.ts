import './setup';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { classifierHead, resizeToReference } from './decode-head';
import { expectNoLeak, maxAbsDiff, seededTensor } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('resizeToReference', () => {
  it('uses ResizeBilinear for a size known at build time and ResizeLike otherwise; both align corners', () => {
    const fixedX = tfl.input({ shape: [2, 2, 1] });
    const fixedRef = tfl.input({ shape: [3, 3, 4] });
    const fixed = resizeToReference(fixedX, fixedRef, 'head.up');
    expect(fixed.shape).toEqual([null, 3, 3, 1]);
    const anyX = tfl.input({ shape: [null, null, 1] });
    const anyRef = tfl.input({ shape: [null, null, 4] });
    const any = resizeToReference(anyX, anyRef, 'head.up2');
    expect(any.shape).toEqual([null, null, null, 1]);

    const fixedModel = tfl.model({ inputs: [fixedX, fixedRef], outputs: fixed });
    const anyModel = tfl.model({ inputs: [anyX, anyRef], outputs: any });
    expect(fixedModel.getLayer('head.up').getClassName()).toBe('GplResizeBilinear');
    expect(anyModel.getLayer('head.up2').getClassName()).toBe('GplResizeLike');
    const x = tf.tensor4d([0, 1, 2, 3], [1, 2, 2, 1]);
    const ref = tf.zeros([1, 3, 3, 4]);
    const a = fixedModel.predict([x, ref]) as tf.Tensor;
    const b = anyModel.predict([x, ref]) as tf.Tensor;
    // align_corners: the corners stay, the centre is the mean.
    expect(Array.from(a.dataSync())).toEqual([0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
    expect(maxAbsDiff(a, b)).toBe(0);
    expectNoLeak(() => anyModel.predict([x, ref]) as tf.Tensor, { returns: 1 });
    tf.dispose([x, ref, a, b]);
  });
});

describe('classifierHead', () => {
  it('is channel dropout then a near-zero 1×1 classifier with zero bias, named by its prefix', () => {
    const input = tfl.input({ shape: [4, 4, 16] });
    const model = tfl.model({ inputs: input, outputs: classifierHead(input, 'decode', 7, 0.1, 3) });
    expect(model.layers.map((l) => l.name).slice(1)).toEqual(['decode.dropout', 'decode.cls']);
    expect(model.outputs[0].shape).toEqual([null, 4, 4, 7]);
    const [kernel, bias] = model.getLayer('decode.cls').getWeights();
    expect(kernel.shape).toEqual([1, 1, 16, 7]);
    expect(Array.from(bias.dataSync()).every((v) => v === 0)).toBe(true);
    const std = tf.tidy(() => Math.sqrt(tf.moments(kernel).variance.dataSync()[0]));
    expect(std).toBeGreaterThan(0.005);
    expect(std).toBeLessThan(0.02);
    // Dropout2d drops whole channels: in training mode each (image, channel) map is all zero or all scaled.
    const dropout = model.getLayer('decode.dropout');
    const x = tf.ones([2, 4, 4, 16]);
    const dropped = dropout.apply(x, { training: true }) as tf.Tensor;
    const perMap = tf.tidy(() => {
      const m = tf.reshape(tf.transpose(dropped, [0, 3, 1, 2]), [32, 16]);
      return tf.sub(tf.max(m, 1), tf.min(m, 1)).dataSync();
    });
    expect(Array.from(perMap).every((v) => v === 0)).toBe(true);
    tf.dispose([x, dropped]);
    model.dispose();
  });

  it('leaves the dropout out at rate 0; the same seed gives the same kernel, another seed another', () => {
    const build = (seed: number, dropout: number) => {
      const input = tfl.input({ shape: [2, 2, 8] });
      return tfl.model({ inputs: input, outputs: classifierHead(input, 'aux', 3, dropout, seed) });
    };
    const [a, b, c] = [build(1, 0), build(1, 0), build(2, 0)];
    expect(a.layers.map((l) => l.name).slice(1)).toEqual(['aux.cls']);
    const kernel = (m: tfl.LayersModel) => m.getLayer('aux.cls').getWeights()[0];
    expect(maxAbsDiff(kernel(a), kernel(b))).toBe(0);
    expect(maxAbsDiff(kernel(a), kernel(c))).toBeGreaterThan(0);
    const x = seededTensor([1, 2, 2, 8], 4);
    expectNoLeak(() => a.predict(x) as tf.Tensor, { returns: 1 });
    x.dispose();
    [a, b, c].forEach((m) => m.dispose());
  });
});

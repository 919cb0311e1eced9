import '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { expectNoLeak, seededTensor } from '@gpl/core/testing';
import { predictImage, slideCoverage, splitOutputs, windowStarts } from './predict';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sliding-window geometry', () => {
  it('places windows with the given step, the last one flush with the end', () => {
    expect(windowStarts(128, 64, 43)).toEqual([0, 43, 64]);
    expect(windowStarts(64, 64, 43)).toEqual([0]);
    expect(windowStarts(40, 64, 43)).toEqual([0]);
    expect(windowStarts(256, 128, 86)).toEqual([0, 86, 128]);
  });

  it('counts how many windows cover each pixel (hand-computed 1-D case, outer product in 2-D)', () => {
    // Width 10, window 4, step 3: windows [0,4) [3,7) [6,10) → counts 1 1 1 2 1 1 2 1 1 1.
    const c = slideCoverage(1, 10, [1, 4], [1, 3]);
    expect(Array.from(c)).toEqual([1, 1, 1, 2, 1, 1, 2, 1, 1, 1]);
    const c2 = slideCoverage(10, 10, [4, 4], [3, 3]);
    const row = [1, 1, 1, 2, 1, 1, 2, 1, 1, 1];
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) expect(c2[y * 10 + x]).toBe(row[y] * row[x]);
  });
});

describe('predictImage', () => {
  // A per-pixel model (1×1 convolutions) is translation-equivariant with no border effects, so
  // sliding-window averaging of overlapping windows must reproduce whole-image inference.
  let model: tfl.Sequential;
  beforeAll(() => {
    model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [null, null, 3], filters: 8, kernelSize: 1, activation: 'relu', kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }) }),
      tfl.layers.conv2d({ filters: 5, kernelSize: 1, kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }) }),
    ],
    });
  });

  it('whole-image and sliding-window inference agree for a translation-equivariant model', () => {
    const x = seededTensor([1, 96, 160, 3], 7) as tf.Tensor4D;
    const whole = predictImage(model, x, { mode: 'whole', crop: [64, 64] });
    const slide = predictImage(model, x, { mode: 'slide', crop: [64, 64], stride: [43, 43] });
    expect(whole.shape).toEqual([1, 96, 160, 5]);
    expect(slide.shape).toEqual([1, 96, 160, 5]);
    expect(tf.max(tf.abs(tf.sub(whole, slide))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, whole, slide]);
  });

  it('pads inputs that are not a multiple of the size divisor and crops the logits back', () => {
    const x = seededTensor([1, 50, 70, 3], 8) as tf.Tensor4D;
    const y = predictImage(model, x, { mode: 'whole', crop: [64, 64] });
    expect(y.shape).toEqual([1, 50, 70, 5]);
    const s = predictImage(model, x, { mode: 'slide', crop: [32, 32] });
    expect(tf.max(tf.abs(tf.sub(y, s))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, y, s]);
  });

  it('frees its intermediates', () => {
    const x = seededTensor([1, 64, 96, 3], 9) as tf.Tensor4D;
    expectNoLeak(() => predictImage(model, x, { mode: 'slide', crop: [32, 32] }), { returns: 1 });
    expectNoLeak(() => predictImage(model, x, { mode: 'whole', crop: [32, 32] }), { returns: 1 });
    x.dispose();
  });
});

describe('splitOutputs', () => {
  it('names the main and the auxiliary output and refuses other counts', () => {
    const a = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    const b = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    expect(splitOutputs(a)).toEqual({ logits: a });
    expect(splitOutputs([a])).toEqual({ logits: a });
    expect(splitOutputs([a, b])).toEqual({ logits: a, auxLogits: b });
    expect(() => splitOutputs([a, b, a])).toThrow('expected 1 or 2 outputs');
    tf.dispose([a, b]);
  });
});

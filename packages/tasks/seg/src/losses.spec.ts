import '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeak } from '@gpl/core/testing';
import { crossEntropyWithIgnore, segmentationLoss } from './losses';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('crossEntropyWithIgnore', () => {
  it('matches a hand computation and skips ignored pixels', () => {
    // Two pixels count: logits [2, 0] with label 0, logits [0, ln 3] with label 1; one is void.
    const logits = tf.tensor4d([2, 0, 0, Math.log(3), 5, -5], [1, 1, 3, 2]);
    const labels = tf.tensor3d([0, 1, 255], [1, 1, 3], 'int32');
    const expected = (-Math.log(Math.exp(2) / (Math.exp(2) + 1)) - Math.log(3 / 4)) / 2;
    expect(crossEntropyWithIgnore(logits, labels).dataSync()[0]).toBeCloseTo(expected, 6);
    expectNoLeak(() => crossEntropyWithIgnore(logits, labels), { returns: 1 });
    tf.dispose([logits, labels]);
  });

  it('is 0 (not NaN) when every pixel is void, and checks shapes', () => {
    const logits = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    const labels = tf.fill([1, 2, 2], 255, 'int32') as tf.Tensor3D;
    expect(crossEntropyWithIgnore(logits, labels).dataSync()[0]).toBe(0);
    expect(() => crossEntropyWithIgnore(logits, tf.zeros([1, 2, 3], 'int32') as tf.Tensor3D)).toThrow(RangeError);
    tf.dispose([logits, labels]);
  });
});

describe('segmentationLoss', () => {
  it('adds 0.4·aux and λ·perceptual(softmax(logits), target) to the cross-entropy', () => {
    const logits = tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2]);
    const aux = tf.tensor4d([0, 0, 0, 0], [1, 1, 2, 2]);
    const labels = tf.tensor3d([0, 255], [1, 1, 2], 'int32');
    const target = tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2]);
    let seenMask: number[] = [];
    // A stand-in perceptual term: sum of squared differences over valid pixels.
    const fn = (p: tf.Tensor4D, t: tf.Tensor4D, m: tf.Tensor4D) => {
      seenMask = Array.from(m.dataSync());
      return tf.sum(tf.mul(tf.square(tf.sub(p, t)), m)) as tf.Scalar;
    };
    const { total, terms } = segmentationLoss({ logits, auxLogits: aux }, labels, { ignoreIndex: 255, auxWeight: 0.4, percepLambda: 0.1 }, { fn, target });
    const ce = -Math.log(Math.E / (Math.E + 1));
    const auxCe = Math.log(2);
    const p0 = Math.E / (Math.E + 1);
    const gpl = (p0 - 1) ** 2 + (1 - p0) ** 2;
    expect(terms.loss_ce.dataSync()[0]).toBeCloseTo(ce, 6);
    expect(terms.loss_aux.dataSync()[0]).toBeCloseTo(auxCe, 6);
    expect(terms.loss_gpl.dataSync()[0]).toBeCloseTo(gpl, 6);
    expect(total.dataSync()[0]).toBeCloseTo(ce + 0.4 * auxCe + 0.1 * gpl, 6);
    expect(seenMask).toEqual([1, 0]);
    tf.dispose([logits, aux, labels, target, total, ...Object.values(terms)]);
  });
});

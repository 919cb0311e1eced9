import '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeak, seededTensor } from '@gpl/core/testing';
import { GradientNormProbe, sgdStep } from '@gpl/engine';
import { GenericPerceptualLoss } from '@gpl/loss';
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
    const fn = (p: tf.Tensor4D, t: tf.Tensor4D, m?: tf.Tensor4D) => {
      seenMask = Array.from(m!.dataSync());
      return tf.sum(tf.mul(tf.square(tf.sub(p, t)), m!)) as tf.Scalar;
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

describe('segmentationLoss at percepScale < 1', () => {
  it('compares block means of the masked probabilities and target (hand-checked at 1/2)', () => {
    // One 2×4 image, 2 classes: logits give p(class 0) = 0.5 (zeros) on the left block, and
    // softmax([ln 3, 0]) = 0.75 on the right block; one pixel of each block is void.
    const l3 = Math.log(3);
    const logits = tf.tensor4d([0, 0, 0, 0, l3, 0, l3, 0, 0, 0, 0, 0, l3, 0, l3, 0], [1, 2, 4, 2]);
    const labels = tf.tensor3d([0, 255, 1, 1, 0, 0, 255, 1], [1, 2, 4], 'int32');
    const target = tf.tensor4d([1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1], [1, 2, 4, 2]);
    const seen: { p: number[]; t: number[]; shape: number[]; mask: boolean }[] = [];
    const fn = (p: tf.Tensor4D, t: tf.Tensor4D, m?: tf.Tensor4D) => {
      seen.push({ p: Array.from(p.dataSync()), t: Array.from(t.dataSync()), shape: p.shape, mask: m !== undefined });
      return tf.sum(tf.square(tf.sub(p, t))) as tf.Scalar;
    };
    tf.tidy(() => {
      segmentationLoss({ logits }, labels, { ignoreIndex: 255, auxWeight: 0, percepLambda: 0.1, percepScale: 0.5 }, { fn, target });
    });
    // Each block has 3 valid pixels of 4: left 3·(0.5, 0.5) / 4, right 3·(0.75, 0.25) / 4.
    expect(seen[0].shape).toEqual([1, 1, 2, 2]);
    expect(seen[0].mask).toBe(false);
    [0.375, 0.375, 0.5625, 0.1875].forEach((v, i) => expect(seen[0].p[i]).toBeCloseTo(v, 6));
    // Target: left block's valid pixels are class 0 ×3; right block's are class 1 ×3.
    expect(seen[0].t).toEqual([0.75, 0, 0, 0.75]);
    tf.dispose([logits, labels, target]);
  });

  it('gives the loss network (H·s)×(W·s) inputs at every scale, and refuses sizes the scale does not divide', () => {
    const logits = seededTensor([1, 16, 24, 3], 1) as tf.Tensor4D;
    const labels = tf.zeros([1, 16, 24], 'int32') as tf.Tensor3D;
    const target = tf.softmax(seededTensor([1, 16, 24, 3], 2)) as tf.Tensor4D;
    const shapes: number[][] = [];
    const fn = (p: tf.Tensor4D) => {
      shapes.push(p.shape);
      return tf.sum(p) as tf.Scalar;
    };
    for (const percepScale of [1, 0.5, 0.25, 0.125]) {
      tf.tidy(() => {
        segmentationLoss({ logits }, labels, { ignoreIndex: 255, auxWeight: 0, percepLambda: 0.1, percepScale }, { fn, target });
      });
    }
    expect(shapes).toEqual([[1, 16, 24, 3], [1, 8, 12, 3], [1, 4, 6, 3], [1, 2, 3, 3]]);
    const odd = tf.zeros([1, 12, 12, 3]) as tf.Tensor4D;
    const oddLabels = tf.zeros([1, 12, 12], 'int32') as tf.Tensor3D;
    expect(() => segmentationLoss({ logits: odd }, oddLabels, { ignoreIndex: 255, auxWeight: 0, percepLambda: 0.1, percepScale: 0.125 }, { fn, target: odd })).toThrow(
      '[seg] segmentationLoss: percepScale 0.125 needs logits whose height and width are multiples of 8, received [1,12,12,3]',
    );
    tf.dispose([logits, labels, target, odd, oddLabels]);
  });
});

describe('segmentationLoss gradient norms (grad_ce, grad_gpl)', () => {
  it('equal the norms of each term’s own gradient at the logits, in one backward pass, without leaking', () => {
    // A tiny model: a 1×1 convolution from 2 input channels to 3 classes, at 8×8 (GPL at 1/2).
    const kernel = tf.variable(tf.tidy(() => tf.mul(seededTensor([1, 1, 2, 3], 3), 0.5)) as tf.Tensor4D, true, 'tiny/kernel');
    const images = seededTensor([2, 8, 8, 2], 4) as tf.Tensor4D;
    const labels = tf.tensor3d(Array.from({ length: 128 }, (_, i) => (i % 7 === 0 ? 255 : i % 3)), [2, 8, 8], 'int32');
    const target = tf.softmax(seededTensor([2, 8, 8, 3], 5)) as tf.Tensor4D;
    const gpl = new GenericPerceptualLoss({ inChannels: 3, blocks: [1, 1], channels: [4, 4], seed: 1, engine: 'tfjs' });
    const options = { ignoreIndex: 255, auxWeight: 0, percepLambda: 0.1, percepScale: 0.5 };
    const perceptual = { fn: (p: tf.Tensor4D, t: tf.Tensor4D, m?: tf.Tensor4D) => gpl.compute(p, t, m), target };
    const optimizer = tf.train.sgd(0.05);
    const expected = () =>
      tf.tidy(() => {
        const logits = tf.conv2d(images, kernel, 1, 'same');
        const term = (name: 'loss_ce' | 'loss_gpl', weight: number) => (z: tf.Tensor) => tf.mul(segmentationLoss({ logits: z as tf.Tensor4D }, labels, options, perceptual).terms[name], weight);
        const norm = (g: tf.Tensor) => tf.sqrt(tf.sum(tf.square(g))).dataSync()[0];
        return { grad_ce: norm(tf.grad(term('loss_ce', 1))(logits)), grad_gpl: norm(tf.grad(term('loss_gpl', options.percepLambda))(logits)) };
      });
    const counts: number[] = [];
    for (let step = 0; step < 3; step++) {
      const want = expected();
      const out = sgdStep({ vars: [kernel], optimizer, weightDecay: 0 }, () =>
        segmentationLoss({ logits: tf.conv2d(images, kernel, 1, 'same') }, labels, options, perceptual, new GradientNormProbe()),
      );
      expect(Object.keys(out.stats)).toEqual(['grad_ce', 'grad_gpl']);
      expect(Math.abs(out.stats.grad_ce - want.grad_ce)).toBeLessThanOrEqual(1e-5 * want.grad_ce);
      expect(Math.abs(out.stats.grad_gpl - want.grad_gpl)).toBeLessThanOrEqual(1e-5 * want.grad_gpl);
      counts.push(tf.memory().numTensors);
    }
    // Step 1 creates the optimizer's learning-rate scalar; afterwards nothing may accumulate.
    expect(counts[2]).toBe(counts[1]);
    optimizer.dispose();
    gpl.dispose();
    tf.dispose([kernel, images, labels, target]);
  });
});


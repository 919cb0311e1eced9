import { initBackend } from '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeak, maxAbsDiff, seededTensor } from '@gpl/core/testing';
import { GenericPerceptualLoss, disposeCachedLosses, genericPerceptualLoss, parseNetworkSpec } from './loss';
import { parseInitSpec } from './init';

const probs = (shape: number[], seed: number) => tf.softmax(tf.mul(seededTensor(shape, seed), 3)) as tf.Tensor4D;
const scalar = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

beforeAll(async () => {
  // The default backend where no native TensorFlow is installed (the gradient spec covers cpu).
  expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
});

describe('GenericPerceptualLoss: the value', () => {
  it('is Eq. 1 on a hand-computed case: mean over C·H·W of the squared embedding difference, averaged over the batch', () => {
    // One 1×1 convolution with kernel [2, -1] (2 channels → 1) and ReLU: f(x) = max(0, 2·x0 − x1).
    const kernel = tf.tensor4d([2, -1], [1, 1, 2, 1]);
    const gpl = new GenericPerceptualLoss({ inChannels: 2, blocks: [1], channels: [1], kernelSize: 1, weights: [{ kernel }] });
    // Sample 1 (2×1 pixels): f(pred) = [2, 0], f(target) = [0, 0] → mean 4/2 = 2.
    // Sample 2: f(pred) = [1, 3], f(target) = [1, 0] → mean 9/2 = 4.5.  Batch mean: 3.25.
    const pred = tf.tensor4d([1, 0, 0, 1, 1, 1, 2, 1], [2, 2, 1, 2]);
    const target = tf.tensor4d([0, 0, 0, 5, 1, 1, 0, 0], [2, 2, 1, 2]);
    expect(scalar(gpl.compute(pred, target))).toBeCloseTo(3.25, 6);
    // A mask zeroes pixels of both inputs before the network: masking the second pixel of sample 2
    // leaves f(pred) = [1, 0] vs f(target) = [1, 0] there → sample 2 contributes 0; batch mean 1.
    const mask = tf.tensor4d([1, 1, 1, 0], [2, 2, 1, 1]);
    expect(scalar(gpl.compute(pred, target, mask))).toBeCloseTo(1, 6);
    tf.dispose([kernel, pred, target, mask]);
    gpl.dispose();
  });

  it('weights levels: weighted = Σ 2^-(L-1-l)·level_l, all = Σ level_l, final = last level', () => {
    const config = { inChannels: 3, blocks: [1, 1, 1], channels: [4, 6, 8], seed: 9 };
    const p = probs([2, 16, 16, 3], 1);
    const t = probs([2, 16, 16, 3], 2);
    const perLevel = [0, 1, 2].map((l) => {
      const g = new GenericPerceptualLoss({ ...config, levels: [0, 1, 2].map((i) => (i === l ? 1 : 0)) });
      const v = scalar(g.compute(p, t));
      g.dispose();
      return v;
    });
    const value = (levels: 'final' | 'all' | 'weighted') => {
      const g = new GenericPerceptualLoss({ ...config, levels });
      const v = scalar(g.compute(p, t));
      g.dispose();
      return v;
    };
    expect(perLevel.every((v) => v > 0)).toBe(true);
    expect(value('final')).toBeCloseTo(perLevel[2], 6);
    expect(value('all')).toBeCloseTo(perLevel[0] + perLevel[1] + perLevel[2], 6);
    expect(value('weighted')).toBeCloseTo(perLevel[0] / 4 + perLevel[1] / 2 + perLevel[2], 6);
    tf.dispose([p, t]);
  });

  it('is 0 for pred = target, positive otherwise, symmetric', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 5, preset: 'vgg11', seed: 2 });
    const p = probs([1, 16, 16, 5], 3);
    const t = probs([1, 16, 16, 5], 4);
    expect(scalar(gpl.compute(t, t))).toBe(0);
    const forward = scalar(gpl.compute(p, t));
    expect(forward).toBeGreaterThan(0);
    expect(scalar(gpl.compute(t, p))).toBeCloseTo(forward, 6);
    tf.dispose([p, t]);
    gpl.dispose();
  });

  // Monotonic along the segment from a perturbed prediction to its target. Not a global property:
  // between two different label maps (a boundary shifted by 3 px) the VGG16 loss along the segment
  // peaks near the midpoint at up to 1.9× its endpoint value, because a mixture of two maps has a
  // smaller norm and a zero-bias ReLU network is positively homogeneous (measured, see the notes).
  it.each([
    ['vgg16', 32, 19],
    ['vgg11', 16, 5],
    ['resnet18', 32, 5],
  ] as const)('falls monotonically as a perturbed prediction moves to the target along a straight line (%s)', (preset, size, c) => {
    const gpl = new GenericPerceptualLoss({ inChannels: c, preset, seed: 2 });
    for (const seed of [1, 2]) {
      tf.tidy(() => {
        const t = tf.cast(tf.greater(seededTensor([1, size, size, c], 10 + seed), 0.6), 'float32') as tf.Tensor4D;
        const d = tf.mul(0.2, seededTensor([1, size, size, c], 20 + seed));
        const along = [1, 0.8, 0.6, 0.4, 0.2, 0.05].map((a) => gpl.compute(tf.add(t, tf.mul(a, d)) as tf.Tensor4D, t).dataSync()[0]);
        for (let i = 1; i < along.length; i++) expect(along[i]).toBeLessThan(along[i - 1]);
      });
    }
    gpl.dispose();
  });

  it('ignores masked pixels entirely: changing pred there changes neither the value nor the gradient elsewhere, and its gradient there is 0', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 3, blocks: [1, 1], channels: [4, 4], seed: 5 });
    tf.tidy(() => {
      const t = probs([1, 8, 8, 3], 1);
      const p = probs([1, 8, 8, 3], 2);
      const mask = tf.concat([tf.ones([1, 8, 4, 1]), tf.zeros([1, 8, 4, 1])], 2) as tf.Tensor4D;
      const p2 = tf.concat([tf.slice(p, [0, 0, 0, 0], [1, 8, 4, 3]), probs([1, 8, 4, 3], 7)], 2) as tf.Tensor4D;
      expect(gpl.compute(p, t, mask).dataSync()[0]).toBeCloseTo(gpl.compute(p2, t, mask).dataSync()[0], 7);
      const g = tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, t, mask))(p);
      expect(tf.max(tf.abs(tf.slice(g, [0, 0, 4, 0], [1, 8, 4, 3]))).dataSync()[0]).toBe(0);
      expect(tf.max(tf.abs(tf.slice(g, [0, 0, 0, 0], [1, 8, 4, 3]))).dataSync()[0]).toBeGreaterThan(0);
    });
    gpl.dispose();
  });

  it('gives the same value from the function form, which caches one network per configuration', () => {
    const p = probs([1, 16, 16, 2], 1);
    const t = probs([1, 16, 16, 2], 2);
    const gpl = new GenericPerceptualLoss({ inChannels: 2, preset: 'vgg13', seed: 4 });
    const a = scalar(gpl.compute(p, t));
    const before = tf.memory().numTensors;
    const b = scalar(genericPerceptualLoss(p, t, { inChannels: 2, preset: 'vgg13', seed: 4 }));
    const afterFirst = tf.memory().numTensors;
    scalar(genericPerceptualLoss(p, t, { inChannels: 2, preset: 'vgg13', seed: 4 }));
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(afterFirst).toBeGreaterThan(before);
    expect(b).toBe(a);
    disposeCachedLosses();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([p, t]);
    gpl.dispose();
  });
});

describe('GenericPerceptualLoss: weights', () => {
  it('draws identical weights for the same seed and different ones for another seed', () => {
    const x = probs([1, 16, 16, 3], 1);
    const embedFinal = (seed: number) => {
      const g = new GenericPerceptualLoss({ inChannels: 3, preset: 'vgg11', seed });
      const e = g.embed(x);
      const last = e.pop()!;
      tf.dispose(e);
      g.dispose();
      return last;
    };
    const [a, b, c] = [embedFinal(7), embedFinal(7), embedFinal(8)];
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(0);
    tf.dispose([x, a, b, c]);
  });

  it('never creates variables, and training a model with the loss leaves the loss network bitwise unchanged while moving the output to the target', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 1, blocks: [1, 1, 1], channels: [8, 16, 16], seed: 1 });
    const probe = seededTensor([1, 16, 16, 1], 11) as tf.Tensor4D;
    const before = gpl.embed(probe);
    tf.tidy(() => void tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, probe))(tf.zerosLike(probe)));
    expect(tf.engine().state.registeredVariables).toEqual({});
    // A one-layer "model": a 3×3 conv over coordinate channels (y, x, 1, noise), trained with the
    // perceptual loss only, toward a diagonal edge it can represent.
    const [input, target] = tf.tidy(() => {
      const yy = tf.tile(tf.reshape(tf.div(tf.range(0, 16), 8), [1, 16, 1, 1]), [2, 1, 16, 1]);
      const xx = tf.tile(tf.reshape(tf.div(tf.range(0, 16), 8), [1, 1, 16, 1]), [2, 16, 1, 1]);
      const features = tf.concat([yy, xx, tf.onesLike(yy), seededTensor([2, 16, 16, 1], 12)], 3) as tf.Tensor4D;
      return [features, tf.cast(tf.greater(tf.add(yy, xx), 1.9), 'float32') as tf.Tensor4D];
    });
    const kernel = tf.variable(tf.mul(seededTensor([3, 3, 4, 1], 13), 0.1), true, 'kernel');
    const model = () => tf.sigmoid(tf.conv2d(input, kernel as tf.Tensor4D, 1, 'same')) as tf.Tensor4D;
    const distance = () => tf.tidy(() => tf.mean(tf.square(tf.sub(model(), target))).dataSync()[0]);
    const lossNow = () => scalar(tf.tidy(() => gpl.compute(model(), target)));
    const [d0, l0] = [distance(), lossNow()];
    const optimizer = tf.train.adam(0.1);
    tf.dispose(optimizer.minimize(() => gpl.compute(model(), target), true) ?? undefined);
    const numTensors = tf.memory().numTensors; // Adam's slots exist from the first step on
    for (let step = 1; step < 60; step++) tf.dispose(optimizer.minimize(() => gpl.compute(model(), target), true) ?? undefined);
    expect(tf.memory().numTensors).toBe(numTensors);
    const [d1, l1] = [distance(), lossNow()];
    expect(l1).toBeLessThan(0.2 * l0);
    expect(d1).toBeLessThan(0.7 * d0);
    const after = gpl.embed(probe);
    after.forEach((e, i) => expect(maxAbsDiff(e, before[i])).toBe(0));
    tf.dispose([probe, input, target, ...before, ...after]);
    kernel.dispose();
    optimizer.dispose();
    gpl.dispose();
  });

  it('computes no gradient for the target: it is outside the tape', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 2, blocks: [1, 1], channels: [4, 4] });
    const p = probs([1, 8, 8, 2], 1);
    const t = tf.variable(probs([1, 8, 8, 2], 2), true, 'target');
    const { grads } = tf.variableGrads(() => tf.add(gpl.compute(p, t as tf.Tensor4D), tf.mul(0, tf.sum(t))), [t]);
    // Only the explicit 0·Σt term reaches the target: its gradient is exactly 0 everywhere.
    expect(tf.max(tf.abs(grads.target)).dataSync()[0]).toBe(0);
    tf.dispose([p, grads.target]);
    t.dispose();
    gpl.dispose();
  });
});

describe('GenericPerceptualLoss: memory', () => {
  it('leaks no tensor over 20 compute() calls, with and without a gradient', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 4, preset: 'vgg11', levels: 'weighted' });
    const p = probs([1, 16, 16, 4], 1);
    const t = probs([1, 16, 16, 4], 2);
    const m = tf.ones([1, 16, 16, 1]) as tf.Tensor4D;
    expectNoLeak(() => gpl.compute(p, t, m), { returns: 1, repeats: 20 });
    expectNoLeak(() => tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, t, m))(p), { returns: 1, repeats: 20 });
    const count = tf.memory().numTensors;
    gpl.dispose();
    expect(tf.memory().numTensors).toBeLessThan(count);
    tf.dispose([p, t, m]);
  });

  it('frees every kernel on dispose()', () => {
    const before = tf.memory().numTensors;
    const gpl = new GenericPerceptualLoss({ inChannels: 2, preset: 'resnet18' }).warmUp();
    expect(tf.memory().numTensors).toBe(before + 2 * 20);
    gpl.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('GenericPerceptualLoss: bad input', () => {
  const gpl = new GenericPerceptualLoss({ inChannels: 3, preset: 'vgg16' });
  afterAll(() => gpl.dispose());
  const t = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => tf.zeros(shape, dtype) as tf.Tensor as tf.Tensor4D;

  it.each([
    ['rank 3', () => gpl.compute(t([16, 16, 3]), t([16, 16, 3])), /pred: expected rank 4 \[N, H, W, 3\] \(NHWC\), received shape \[16,16,3\]/],
    ['channels', () => gpl.compute(t([1, 16, 16, 4]), t([1, 16, 16, 4])), /expected 3 channels \(inChannels\).*\[1,16,16,4\]/],
    ['NCHW by mistake', () => gpl.compute(t([1, 3, 16, 16]), t([1, 3, 16, 16])), /expected 3 channels \(inChannels\) in the last axis of NHWC/],
    ['different shapes', () => gpl.compute(t([1, 16, 16, 3]), t([1, 32, 16, 3])), /pred \[1,16,16,3\] and target \[1,32,16,3\] must have the same shape/],
    ['too small', () => gpl.compute(t([1, 8, 64, 3]), t([1, 8, 64, 3])), /input 8×64 is too small for the vgg16 network \(its poolings need at least 16×16\)/],
    ['int dtype', () => gpl.compute(t([1, 16, 16, 3], 'int32'), t([1, 16, 16, 3])), /pred: expected dtype float32.*received int32/],
    ['mask shape', () => gpl.compute(t([1, 16, 16, 3]), t([1, 16, 16, 3]), t([1, 16, 16, 2])), /mask: expected shape \[1, 16, 16, 1\] or \[1, 16, 16, 3\], received \[1,16,16,2\]/],
  ])('%s gets a clear error', (_name, call, message) => {
    const before = tf.memory().numTensors;
    expect(call).toThrow(message);
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(before); // the inputs made by t() are the only new tensors
  });

  it.each([
    [{ inChannels: 0 }, /'inChannels' must be a positive integer/],
    [{ inChannels: 3, preset: 'vgg17' as never }, /unknown preset 'vgg17'/],
    [{ inChannels: 3, blocks: [2, 0] }, /'blocks' must list at least one positive integer/],
    [{ inChannels: 3, blocks: [1, 1], channels: [8] }, /'channels' must give one positive integer per block \(2\)/],
    [{ inChannels: 3, kernelSize: 4 }, /'kernelSize' must be 1, 3, 5 or 7, received 4/],
    [{ inChannels: 3, levels: [1, 2] }, /expected 5 non-negative numbers \(one per level\)/],
    [{ inChannels: 3, blocks: [1], channels: [2], weights: [{ kernel: tf.zeros([3, 3, 2, 2]) }] }, /weights\[0\]\.kernel \(conv1_1\): expected a tensor of shape \[3,3,3,2\] \(HWIO\), received \[3,3,2,2\]/],
  ])('config %j gets a clear error', (config, message) => {
    expect(() => new GenericPerceptualLoss(config as never)).toThrow(message);
  });
});

describe('parsing the CLI spellings', () => {
  it('parses networks and inits, and rejects the rest', () => {
    expect(parseNetworkSpec('vgg19')).toEqual({ preset: 'vgg19' });
    expect(parseNetworkSpec('mobilenetv2')).toEqual({ preset: 'mobilenetv2' });
    expect(parseNetworkSpec('3,3,4,4,4')).toEqual({ blocks: [3, 3, 4, 4, 4] });
    expect(() => parseNetworkSpec('none')).toThrow(/expected a preset/);
    expect(() => parseNetworkSpec('1,0,1')).toThrow(/received '1,0,1'/);
    expect(parseInitSpec('he')).toEqual({ kind: 'he' });
    expect(parseInitSpec('xavier')).toEqual({ kind: 'xavier' });
    expect(parseInitSpec('normal:0.01')).toEqual({ kind: 'normal', std: 0.01 });
    expect(parseInitSpec('uniform:1e-2')).toEqual({ kind: 'uniform', limit: 0.01 });
    for (const bad of ['normal', 'normal:-1', 'he:2', 'gauss:1', 'uniform:abc']) expect(() => parseInitSpec(bad)).toThrow(/expected 'he', 'xavier'/);
  });
});

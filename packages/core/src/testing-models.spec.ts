import './setup';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { convUnit } from './layers';
import { IGNORE_LABEL, batchNormModes, blockLabels, crossEntropyWithIgnore, formatOverfit, overfitOneBatch, overfitProblems, roundTripLayersModel, sgdStepTensorCounts, trainableVariables, unreachedWeights, withZeroInitializers, type OverfitResult } from './testing-models';
import { expectNoLeak, maxAbsDiff, seededTensor } from './testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** conv 3×3 → BN → ReLU → 1×1 classifier: a tiny segmentation model. */
function tinySegmenter(classes: number): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, 3] });
  const y = convUnit(input, { name: 'enc', filters: 16, kernelSize: 3, seed: 1 });
  const logits = tfl.layers.conv2d({ name: 'cls', filters: classes, kernelSize: 1, kernelInitializer: tfl.initializers.randomNormal({ stddev: 0.01, seed: 2 }) }).apply(y);
  return tfl.model({ inputs: input, outputs: logits as tfl.SymbolicTensor });
}

describe('withZeroInitializers', () => {
  it('builds the same structure with zero kernels, and restores the random initialisers, also after a throw', () => {
    const original = tfl.initializers.varianceScaling;
    const zero = withZeroInitializers(() => tinySegmenter(3));
    const random = tinySegmenter(3);
    expect(zero.weights.map((w) => w.shape)).toEqual(random.weights.map((w) => w.shape));
    const absSum = (m: tfl.LayersModel) => tf.tidy(() => tf.sum(tf.abs(m.getLayer('enc').getWeights()[0])).dataSync()[0]);
    expect(absSum(zero)).toBe(0);
    expect(absSum(random)).toBeGreaterThan(0);
    expect(() => withZeroInitializers(() => {
      throw new Error('build failed');
    })).toThrow('build failed');
    expect(tfl.initializers.varianceScaling).toBe(original);
    expect(trainableVariables(random).map((v) => v.name)).toEqual(random.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val.name));
    expect(trainableVariables(random).length).toBe(5); // enc kernel, BN gamma and beta, cls kernel and bias
    zero.dispose();
    random.dispose();
  });
});

describe('crossEntropyWithIgnore', () => {
  it('averages −log p(label) over the labelled pixels only', () => {
    // Two pixels, two classes: logits (0, 0) → p = ½ each; (ln 3, 0) → p = ¾, ¼. Third pixel ignored.
    const logits = tf.tensor4d([0, 0, Math.log(3), 0, 50, -50], [1, 1, 3, 2]);
    const labels = tf.tensor3d([0, 1, IGNORE_LABEL], [1, 1, 3], 'int32');
    const ce = crossEntropyWithIgnore(logits, labels);
    expect(ce.dataSync()[0]).toBeCloseTo((Math.log(2) + Math.log(4)) / 2, 5);
    const none = tf.fill([1, 1, 3], IGNORE_LABEL, 'int32') as tf.Tensor3D;
    const zero = crossEntropyWithIgnore(logits, none);
    expect(zero.dataSync()[0]).toBeCloseTo(0, 10);
    expectNoLeak(() => crossEntropyWithIgnore(logits, labels), { returns: 1 });
    tf.dispose([logits, labels, ce, none, zero]);
  });
});

describe('blockLabels', () => {
  it('is constant on blocks, ignores the top rows, and is seeded', () => {
    const labels = blockLabels(2, 32, 16, 4, 7, 16, 4);
    const again = blockLabels(2, 32, 16, 4, 7, 16, 4);
    const other = blockLabels(2, 32, 16, 4, 8, 16, 4);
    const v = labels.arraySync();
    expect(labels.shape).toEqual([2, 32, 16]);
    expect(v[0].slice(0, 4).every((row) => row.every((l) => l === IGNORE_LABEL))).toBe(true);
    // Rows 4…15 form one block, rows 16…31 the next: one class each, within 0…3.
    for (const img of v) {
      for (const [r0, r1] of [[4, 16], [16, 32]]) {
        const cls = new Set(img.slice(r0, r1).flat());
        expect(cls.size).toBe(1);
        expect([...cls][0]).toBeLessThan(4);
      }
    }
    expect(Array.from(again.dataSync())).toEqual(Array.from(labels.dataSync()));
    expect(Array.from(other.dataSync())).not.toEqual(Array.from(labels.dataSync()));
    expect(() => blockLabels(1, 20, 16, 4, 1)).toThrow('blockLabels: size 20×16 must be a multiple of the block 16; use 32×16.');
    tf.dispose([labels, again, other]);
  });
});

describe('overfitOneBatch', () => {
  it('fits a learnable target and reports falling losses, a flat tensor count and the accuracy; frees its batch', () => {
    const model = tinySegmenter(2);
    // One image, one 16×16 block: a single class on every labelled pixel, learnable by the classifier's bias.
    const before = tf.memory().numTensors;
    const r = overfitOneBatch({ model, batch: [1, 16, 16], classes: 2, learningRate: 0.05, maxSteps: 80, targetFraction: 0.2 });
    expect(tf.memory().numTensors).toBe(before); // the batch and the optimizer's slots are freed
    expect(Math.abs(r.losses[0] - Math.log(2))).toBeLessThan(0.05);
    expect(r.reached).toBe(true);
    expect(r.losses[r.losses.length - 1]).toBeLessThanOrEqual(0.2 * r.losses[0]);
    expect(r.accuracy).toBe(1);
    expect(new Set(r.tensorCounts.slice(1)).size).toBe(1);
    // An objective that never falls: every step runs and the target is not reached.
    const frozen = overfitOneBatch({ model, batch: [1, 16, 16], classes: 2, learningRate: 0, maxSteps: 3, targetFraction: 0.2, extraLoss: () => tf.scalar(1) });
    expect(frozen.losses.length).toBe(3);
    expect(frozen.reached).toBe(false);
    model.dispose();
  });
});

describe('model checks', () => {
  it('unreachedWeights names the weights the loss does not train, and nothing when all train', () => {
    const model = tinySegmenter(2);
    const x = seededTensor([2, 4, 4, 3], 1);
    const all = () => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
    expect(unreachedWeights(model, all)).toEqual([]);
    // A loss of the conv output alone (before BN) leaves BN and classifier without a gradient.
    const encoderOnly = tfl.model({ inputs: model.inputs, outputs: model.getLayer('enc').output as tfl.SymbolicTensor });
    const unreached = unreachedWeights(model, () => tf.sum(encoderOnly.apply(x) as tf.Tensor) as tf.Scalar);
    expect(unreached.length).toBe(4); // BN gamma, beta; cls kernel, bias
    expect(unreached.every((n) => !n.includes('enc/kernel'))).toBe(true);
    expectNoLeak(() => void unreachedWeights(model, all));
    x.dispose();
    model.dispose();
  });

  it('sgdStepTensorCounts is flat for a clean step and grows for a leaking one', () => {
    const model = tinySegmenter(2);
    const x = seededTensor([1, 4, 4, 3], 2);
    const loss = () => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
    expect(new Set(sgdStepTensorCounts(model, loss, 3)).size).toBe(1);
    const leaked: tf.Tensor[] = [];
    const leaky = () => {
      leaked.push(tf.keep(tf.ones([1]))); // kept on purpose: a step that leaks one tensor
      return loss();
    };
    const counts = sgdStepTensorCounts(model, leaky, 3);
    expect(counts[2] - counts[0]).toBe(2);
    tf.dispose(leaked);
    x.dispose();
    model.dispose();
  });

  it('batchNormModes sees statistics kept in inference, updated in training, and the two modes differ', () => {
    const model = tinySegmenter(2);
    const x = seededTensor([2, 4, 4, 3], 3);
    const modes = batchNormModes(model, 'enc.bn', x);
    expect(modes).toMatchObject({ inferenceKeptStatistics: true, trainingUpdatedStatistics: true });
    expect(modes.modeDifference).toBeGreaterThan(0);
    x.dispose();
    model.dispose();
  });

  it('roundTripLayersModel reloads the same function', async () => {
    const model = tinySegmenter(3);
    const loaded = await roundTripLayersModel(model);
    const x = seededTensor([1, 4, 4, 3], 4);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(loaded).not.toBe(model);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('overfitProblems lists each unmet expectation, and formatOverfit summarises a run', () => {
    const good: OverfitResult = { losses: [Math.log(4), 0.5, 0.1], reached: true, tensorCounts: [10, 12, 12], accuracy: 0.97, msPerStep: 12 };
    expect(overfitProblems(good, { classes: 4, minAccuracy: 0.95 })).toEqual([]);
    const bad: OverfitResult = { losses: [3, NaN], reached: false, tensorCounts: [10, 12, 13], accuracy: 0.5, msPerStep: 12 };
    const problems = overfitProblems(bad, { classes: 4, minAccuracy: 0.9 });
    expect(problems.length).toBe(5);
    expect(problems[3]).toBe('pixel accuracy 0.5 < 0.9');
    expect(formatOverfit('Tiny', good)).toBe('Tiny overfit: CE 1.386 → 0.100 in 3 steps (12 ms/step on cpu), pixel accuracy 0.970');
  });
});

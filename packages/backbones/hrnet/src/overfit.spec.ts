/**
 * The CPU-width HRNet learns: on the wasm backend (the default where no native library is
 * installed), a width-reduced model overfits one small batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { installGradientCompleteness } from '@gpl/core';
import { seededTensor } from '@gpl/core/testing';
import { buildHRNetSegmenter } from './hrnet';

const IGNORE = 255;

/** Mean cross-entropy over the pixels whose label is not `ignoreIndex`. logits [N,H,W,C], labels [N,H,W] int32. */
function crossEntropyWithIgnore(logits: tf.Tensor4D, labels: tf.Tensor3D, ignoreIndex = IGNORE): tf.Scalar {
  return tf.tidy(() => {
    const valid = tf.cast(tf.notEqual(labels, ignoreIndex), 'float32');
    const safe = tf.where(tf.notEqual(labels, ignoreIndex), labels, tf.zerosLike(labels)) as tf.Tensor3D;
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(safe, logits.shape[3])), -1);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, valid))), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}

/** Labels constant on 16×16 blocks (seeded classes 0…3), the top 4 rows ignored. */
function blockLabels(n: number, size: number, classes: number, seed: number): tf.Tensor3D {
  const g = size / 16;
  const noise = seededTensor([n, g, g], seed).dataSync(); // uniform in [-1, 1)
  const data = new Int32Array(n * size * size);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        const u = (noise[(b * g + Math.floor(r / 16)) * g + Math.floor(c / 16)] + 1) / 2;
        data[(b * size + r) * size + c] = r < 4 ? IGNORE : Math.min(classes - 1, Math.floor(u * classes));
      }
    }
  }
  return tf.tensor3d(data, [n, size, size], 'int32');
}

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  installGradientCompleteness();
});

it('width-reduced HRNet-W18-small overfits one batch on wasm: cross-entropy falls by 90% within 60 Adam steps', () => {
  const classes = 4;
  const model = buildHRNetSegmenter('hrnet-w18-small', { widthMultiplier: 0.25, numClasses: classes, seed: 5 });
  const x = seededTensor([2, 64, 64, 3], 21) as tf.Tensor4D;
  const labels = blockLabels(2, 64, classes, 22);
  const opt = tf.train.adam(0.01);
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const losses: number[] = [];
  const counts: number[] = [];
  for (let step = 0; step < 60; step++) {
    const loss = opt.minimize(() => crossEntropyWithIgnore(model.apply(x, { training: true }) as tf.Tensor4D, labels), true, vars) as tf.Scalar;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    counts.push(tf.memory().numTensors);
    if (losses[losses.length - 1] <= 0.1 * losses[0]) break;
  }
  expect(losses.every(Number.isFinite)).toBe(true);
  // The classifier starts near zero: the first loss is ≈ ln(4), not inflated by large logits.
  expect(Math.abs(losses[0] - Math.log(classes))).toBeLessThan(0.1);
  expect({ steps: losses.length, final: losses[losses.length - 1] <= 0.1 * losses[0] }).toEqual({ steps: losses.length, final: true });
  // Fitted, not just shrunk: the argmax is right on ≥ 95% of the labelled pixels.
  const accuracy = tf.tidy(() => {
    const pred = tf.argMax(model.apply(x, { training: true }) as tf.Tensor4D, -1);
    const valid = tf.notEqual(labels, IGNORE);
    return tf.div(tf.sum(tf.cast(tf.logicalAnd(valid, tf.equal(pred, labels)), 'float32')), tf.sum(tf.cast(valid, 'float32'))).dataSync()[0];
  });
  expect(accuracy).toBeGreaterThanOrEqual(0.95);
  // Adam's slots appear in the first step; afterwards the tensor count is flat (no leak per step).
  expect(new Set(counts.slice(1)).size).toBe(1);
  console.log(`overfit: CE ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)} in ${losses.length} steps, pixel accuracy ${accuracy.toFixed(3)}`);
  tf.dispose([x, labels]);
  opt.dispose();
  model.dispose();
});

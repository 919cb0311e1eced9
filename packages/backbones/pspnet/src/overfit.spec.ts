/**
 * The CPU-width PSPNet learns: on the wasm backend (the default where no native library is
 * installed), a width-reduced PSPNet on a dilated ResNet-18 overfits one small batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { installGradientCompleteness } from '@gpl/core';
import { seededTensor } from '@gpl/core/testing';
import { createResNet } from '@gpl/resnet';
import { defaultPSPNetConfig } from './config';
import { buildPSPNet, splitOutputs } from './pspnet';

const IGNORE = 255;

/** Mean cross-entropy over the pixels whose label is not `IGNORE`. logits [N,H,W,C], labels [N,H,W] int32. */
function crossEntropyWithIgnore(logits: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
  const valid = tf.notEqual(labels, IGNORE);
  const safe = tf.where(valid, labels, tf.zerosLike(labels)) as tf.Tensor3D;
  const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(safe, logits.shape[3])), -1);
  const mask = tf.cast(valid, 'float32');
  return tf.div(tf.neg(tf.sum(tf.mul(picked, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** Labels constant on 16×16 blocks (seeded classes), the top 4 rows ignored. */
function blockLabels(n: number, h: number, w: number, classes: number, seed: number): tf.Tensor3D {
  const [gh, gw] = [h / 16, w / 16];
  const noise = seededTensor([n, gh, gw], seed).dataSync(); // uniform in [-1, 1)
  const data = new Int32Array(n * h * w);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const u = (noise[(b * gh + Math.floor(r / 16)) * gw + Math.floor(c / 16)] + 1) / 2;
        data[(b * h + r) * w + c] = r < 4 ? IGNORE : Math.min(classes - 1, Math.floor(u * classes));
      }
    }
  }
  return tf.tensor3d(data, [n, h, w], 'int32');
}

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  installGradientCompleteness();
});

it('width-reduced PSPNet-R18 (d8) overfits one batch on wasm: cross-entropy falls by 90% within 60 Adam steps', () => {
  const classes = 4;
  const backbone = createResNet('resnet18', { outputStride: 8, deepStem: true, widthMultiplier: 0.25, seed: 3 });
  const model = buildPSPNet(backbone, { numClasses: classes, widthMultiplier: 0.25, seed: 4 });
  const x = seededTensor([2, 64, 64, 3], 21) as tf.Tensor4D;
  const labels = blockLabels(2, 64, 64, classes, 22);
  const opt = tf.train.adam(0.005);
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const mainLoss: number[] = [];
  const counts: number[] = [];
  const started = Date.now();
  for (let step = 0; step < 60; step++) {
    let ce = 0;
    const total = opt.minimize(
      () => {
        const { logits, auxLogits } = splitOutputs(model.apply(x, { training: true }) as tf.Tensor[]);
        const main = crossEntropyWithIgnore(logits, labels);
        ce = main.dataSync()[0];
        // The training objective of PSPNet: main + 0.4 · auxiliary cross-entropy.
        return tf.add(main, tf.mul(defaultPSPNetConfig.auxLossWeight, crossEntropyWithIgnore(auxLogits!, labels))) as tf.Scalar;
      },
      true,
      vars,
    ) as tf.Scalar;
    total.dispose();
    mainLoss.push(ce);
    counts.push(tf.memory().numTensors);
    if (ce <= 0.1 * mainLoss[0]) break;
  }
  expect(mainLoss.every(Number.isFinite)).toBe(true);
  // The classifier starts near zero: the first loss is ≈ ln(4), not inflated by large logits.
  expect(Math.abs(mainLoss[0] - Math.log(classes))).toBeLessThan(0.1);
  expect({ steps: mainLoss.length, reached: mainLoss[mainLoss.length - 1] <= 0.1 * mainLoss[0] }).toEqual({ steps: mainLoss.length, reached: true });
  // Fitted, not just shrunk: the argmax is right on ≥ 90% of the labelled pixels (dropout stays on).
  const accuracy = tf.tidy(() => {
    const pred = tf.argMax(splitOutputs(model.apply(x, { training: true }) as tf.Tensor[]).logits, -1);
    const valid = tf.notEqual(labels, IGNORE);
    return tf.div(tf.sum(tf.cast(tf.logicalAnd(valid, tf.equal(pred, labels)), 'float32')), tf.sum(tf.cast(valid, 'float32'))).dataSync()[0];
  });
  expect(accuracy).toBeGreaterThanOrEqual(0.9);
  // Adam's slots appear in the first step; afterwards the tensor count is flat (no leak per step).
  expect(new Set(counts.slice(1)).size).toBe(1);
  console.log(
    `PSPNet overfit: CE ${mainLoss[0].toFixed(3)} → ${mainLoss[mainLoss.length - 1].toFixed(3)} in ${mainLoss.length} steps ` +
      `(${((Date.now() - started) / mainLoss.length).toFixed(0)} ms/step on wasm), pixel accuracy ${accuracy.toFixed(3)}`,
  );
  tf.dispose([x, labels]);
  opt.dispose();
  model.dispose();
});

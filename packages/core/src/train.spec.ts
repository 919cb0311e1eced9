import './setup';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { installGradientCompleteness } from './gradients';
import { seededTensor } from './testing';

/** A small segmentation-like net with every convolution kind the backbones use. */
function buildNet(seed: number): tfl.LayersModel {
  const init = (k: number) => tfl.initializers.heNormal({ seed: seed + k });
  const input = tfl.input({ shape: [16, 16, 3] });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: init(1) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ momentum: 0.9 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', dilationRate: 2, kernelInitializer: init(2) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .depthwiseConv2d({ kernelSize: 3, padding: 'same', dilationRate: 4, depthwiseInitializer: init(3), activation: 'relu' })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', depthwiseInitializer: init(4), pointwiseInitializer: init(5) })
    .apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: init(6) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** Per-pixel classification target that depends on the image (not learnable from a bias alone). */
function batch(): { x: tf.Tensor4D; y: tf.Tensor4D } {
  return tf.tidy(() => {
    const x = seededTensor([2, 16, 16, 3], 5) as tf.Tensor4D;
    // Two sign bits of the first two channels: a 4-class map that only the image explains.
    const bits = tf.cast(tf.greater(tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 2]), 0), 'int32');
    const cls = tf.add(tf.slice(bits, [0, 0, 0, 0], [-1, -1, -1, 1]), tf.mul(tf.slice(bits, [0, 0, 0, 1], [-1, -1, -1, 1]), 2));
    return { x, y: tf.cast(tf.oneHot(tf.cast(tf.reshape(cls, [2, 16, 16]), 'int32') as tf.Tensor3D, 4), 'float32') as tf.Tensor4D };
  });
}

function lossOf(model: tfl.LayersModel, x: tf.Tensor4D, y: tf.Tensor4D): tf.Scalar {
  const logits = model.apply(x, { training: true }) as tf.Tensor4D;
  return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
}

describe.each(['wasm', 'cpu'])('a tfjs-layers model with dilated and depthwise convolutions on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    installGradientCompleteness();
  });

  it('trains: loss falls over 20 Adam steps, every weight moves, no tensor growth', () => {
    const model = buildNet(1);
    const { x, y } = batch();
    const opt = tf.train.adam(0.01);
    const before = model.getWeights().map((w) => w.dataSync().slice());
    const losses: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < 20; i++) {
      const loss = opt.minimize(() => lossOf(model, x, y), true, model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val)) as tf.Scalar;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]).toBeLessThan(0.7 * losses[0]);
    // The first step creates the momentum slots; after that the count is flat.
    expect(new Set(counts.slice(1)).size).toBe(1);
    const after = model.getWeights().map((w) => w.dataSync());
    const trainableNames = new Set(model.trainableWeights.map((w) => w.originalName));
    model.weights.forEach((w, i) => {
      const moved = after[i].some((v, j) => v !== before[i][j]);
      // Trainable weights move; BatchNorm moving statistics move too (they update in training mode).
      if (trainableNames.has(w.originalName) || /moving_/.test(w.originalName)) expect({ w: w.originalName, moved }).toEqual({ w: w.originalName, moved: true });
    });
    tf.dispose([x, y]);
    model.dispose();
    opt.dispose();
  });
});

import { initBackend } from '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { maxAbsDiff, seededTensor } from '@gpl/core/testing';
import { GenericPerceptualLoss } from './loss';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

/** A small VGG-style classifier on RGB, like a converted ImageNet VGG: conv blocks, then a head. */
function rgbClassifier(): tfl.Sequential {
  const model = tfl.sequential({ name: 'tiny_vgg' });
  model.add(tfl.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'block1_conv1', biasInitializer: 'randomNormal' }));
  model.add(tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'block1_conv2', biasInitializer: 'randomNormal' }));
  model.add(tfl.layers.reLU({ name: 'block1_relu2' }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'block1_pool' }));
  model.add(tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', name: 'block2_conv1' }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'block2_pool' }));
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  model.add(tfl.layers.dense({ units: 10, name: 'predictions' }));
  return model;
}

describe('supplied networks (Table 1, T rows)', () => {
  it('takes the conv front of a tfjs-layers model: embeddings equal the model\'s own activations', () => {
    const model = rgbClassifier();
    const gpl = new GenericPerceptualLoss({ inChannels: 3, layersModel: model, levels: 'all' });
    const d = gpl.describe();
    expect(d.label).toBe('layers:tiny_vgg');
    expect(d.init).toBe('supplied');
    expect(d.layers.map((l) => l.name)).toEqual(['block1_conv1', 'block1_conv2', 'block1_pool', 'block2_conv1']);
    expect(d.levels.map((l) => l.name)).toEqual(['block1_conv2', 'block2_conv1']);
    expect(d.parameters).toBe(3 * 9 * 8 + 8 + 8 * 9 * 8 + 8 + 8 * 9 * 16 + 16);
    const feature = (name: string) => tfl.model({ inputs: model.inputs, outputs: model.getLayer(name).output as tfl.SymbolicTensor });
    tf.tidy(() => {
      const x = tf.sigmoid(seededTensor([2, 16, 16, 3], 1)) as tf.Tensor4D;
      const [e1, e2] = gpl.embed(x);
      expect(maxAbsDiff(e1, feature('block1_relu2').predict(x) as tf.Tensor)).toBeLessThan(1e-5);
      expect(maxAbsDiff(e2, feature('block2_conv1').predict(x) as tf.Tensor)).toBeLessThan(1e-5);
    });
    gpl.dispose();
    // The model's weights are copied, not taken: the model still works after the loss is disposed.
    tf.tidy(() => expect((model.predict(tf.zeros([1, 16, 16, 3])) as tf.Tensor).shape).toEqual([1, 10]));
    model.dispose();
  });

  it('puts a frozen 1×1 adapter from the task\'s channels to RGB in front, drawn from the seed', () => {
    const model = rgbClassifier();
    const gpl = new GenericPerceptualLoss({ inChannels: 19, layersModel: model, seed: 3 });
    const d = gpl.describe();
    expect(d.layers[0]).toMatchObject({ name: 'adapter', detail: '1×1/1 19→3 linear', parameters: 57 });
    const adapter = (gpl as unknown as { network: { weights: { kernel: tf.Tensor4D }[] } }).network.weights[1].kernel;
    const feature = tfl.model({ inputs: model.inputs, outputs: model.getLayer('block2_conv1').output as tfl.SymbolicTensor });
    tf.tidy(() => {
      const x = tf.softmax(seededTensor([1, 16, 16, 19], 2)) as tf.Tensor4D;
      const e = gpl.embed(x).pop()!;
      expect(maxAbsDiff(e, feature.predict(tf.conv2d(x, adapter, 1, 'valid')) as tf.Tensor)).toBeLessThan(1e-5);
      const g = tf.grad((p: tf.Tensor) => gpl.compute(p as tf.Tensor4D, tf.softmax(seededTensor([1, 16, 16, 19], 3)) as tf.Tensor4D))(x);
      expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    });
    const again = new GenericPerceptualLoss({ inChannels: 19, layersModel: model, seed: 3 });
    const adapter2 = (again as unknown as { network: { weights: { kernel: tf.Tensor4D }[] } }).network.weights[1].kernel;
    expect(maxAbsDiff(adapter, adapter2)).toBe(0);
    again.dispose();
    gpl.dispose();
    model.dispose();
  });

  it('rejects layers it cannot freeze faithfully, naming the layer', () => {
    const model = tfl.sequential();
    model.add(tfl.layers.conv2d({ inputShape: [16, 16, 3], filters: 4, kernelSize: 3, name: 'conv' }));
    model.add(tfl.layers.batchNormalization({ name: 'bn' }));
    const before = tf.memory().numTensors;
    expect(() => new GenericPerceptualLoss({ inChannels: 3, layersModel: model })).toThrow(/layer 'bn' of class BatchNormalization is not supported/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    expect(() => new GenericPerceptualLoss({ inChannels: 3, layersModel: {} as never })).toThrow(/expected a tfjs-layers model/);
  });

  it('takes explicit HWIO kernels and biases for a VGG structure', () => {
    const k1 = seededTensor([3, 3, 2, 4], 1);
    const b1 = seededTensor([4], 2);
    const k2 = seededTensor([3, 3, 4, 6], 3);
    const gpl = new GenericPerceptualLoss({ inChannels: 2, blocks: [1, 1], channels: [4, 6], weights: [{ kernel: k1, bias: b1 }, { kernel: k2 }], levels: 'all' });
    expect(gpl.describe().init).toBe('supplied');
    tf.tidy(() => {
      const x = seededTensor([1, 8, 8, 2], 4) as tf.Tensor4D;
      const y1 = tf.relu(tf.add(tf.conv2d(x, k1 as tf.Tensor4D, 1, 'same'), b1));
      const y2 = tf.relu(tf.conv2d(tf.maxPool(y1 as tf.Tensor4D, 2, 2, 'valid'), k2 as tf.Tensor4D, 1, 'same'));
      const [e1, e2] = gpl.embed(x);
      expect(maxAbsDiff(e1, y1)).toBeLessThan(1e-5);
      expect(maxAbsDiff(e2, y2)).toBeLessThan(1e-5);
    });
    // Copies: the caller may dispose its kernels.
    tf.dispose([k1, b1, k2]);
    tf.tidy(() => expect(gpl.compute(tf.ones([1, 8, 8, 2]), tf.zeros([1, 8, 8, 2])).dataSync()[0]).toBeGreaterThan(0));
    gpl.dispose();
  });
});

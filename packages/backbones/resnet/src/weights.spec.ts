import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { folderIOHandler } from '@gpl/core';
import { maxAbsDiff, seededTensor, withZeroInitializers } from '@gpl/core/testing';
import { buildResNetModel, createResNet } from './resnet';
import { loadBackboneWeights } from './weights';
import type { ResNetConfig } from './config';

let dir: string;
/** A plain-stem ResNet-18 classifier, saved once in `plainFolder` for the tests that read it. */
let plain: tfl.LayersModel;
let plainFolder: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-resnet-weights-'));
  plainFolder = path.join(dir, 'r18-plain');
  plain = await saveClassifier(plainFolder, { seed: 1 });
});

afterAll(() => {
  plain.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * An "ImageNet classifier" as a user would convert one: the encoder plus global pooling and an
 * `fc` layer, saved as a TensorFlow.js layers-model folder.
 */
async function saveClassifier(folder: string, config: Partial<ResNetConfig>): Promise<tfl.LayersModel> {
  const backbone = createResNet('resnet18', config);
  const input = tfl.input({ shape: [null, null, 3], name: 'image' });
  const c5 = backbone.build(input).c5!;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(c5) as tfl.SymbolicTensor;
  const fc = tfl.layers.dense({ units: 10, name: 'fc' }).apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: fc });
  // Non-trivial BN statistics, so that the import of buffers is visible in inference outputs.
  const x = seededTensor([2, 32, 32, 3], 11);
  tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
  x.dispose();
  await model.save(folderIOHandler(folder));
  return model;
}

/** An encoder with a small head, as PSPNet / DeepLabV3+ put one on a ResNet. */
function encoderWithHead(config: Partial<ResNetConfig>): tfl.LayersModel {
  const input = tfl.input({ shape: [32, 32, 3], name: 'image' });
  const c5 = createResNet('resnet18', config).build(input).c5!;
  const out = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'decode.cls' }).apply(c5) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

describe('loadBackboneWeights', () => {
  it('imports a converted encoder from a layers-model folder by name: identical features, classifier reported unused', async () => {
    const folder = path.join(dir, 'r18-v1c');
    const source = await saveClassifier(folder, { deepStem: true, seed: 1 });
    const target = buildResNetModel(createResNet('resnet18', { deepStem: true, seed: 2, outputStride: 8 }));
    const x = seededTensor([1, 32, 32, 3], 12);
    const reference = tfl.model({ inputs: source.inputs, outputs: source.getLayer('layer4.1.relu').output as tfl.SymbolicTensor });
    // Dilation changes the computation but not the weights; compare at output stride 32 below.
    const before = (target.predict(x) as tf.Tensor[])[2];
    const report = await loadBackboneWeights(target, folder);
    expect(report.missing).toEqual([]);
    expect([...report.unused].sort()).toEqual(['fc/bias', 'fc/kernel']);
    expect(report.loaded.length).toBe(target.weights.length);
    const after = (target.predict(x) as tf.Tensor[])[2];
    expect(maxAbsDiff(before, after)).toBeGreaterThan(1e-3);

    const os32 = buildResNetModel(createResNet('resnet18', { deepStem: true, seed: 3 }));
    await loadBackboneWeights(os32, folder);
    const c5 = (os32.predict(x) as tf.Tensor[])[4];
    const expected = reference.predict(x) as tf.Tensor;
    expect(maxAbsDiff(c5, expected)).toBeLessThan(1e-5);
    tf.dispose([x, before, after, c5, expected]);
    for (const m of [source, target, os32]) m.dispose();
  });

  it('fills the encoder of a model with a head and leaves the head as initialised', async () => {
    const source = plain;
    const model = encoderWithHead({ seed: 4 });
    const head = model.getLayer('decode.cls').getWeights()[0].dataSync().slice();
    const report = await loadBackboneWeights(model, plainFolder);
    expect([...report.missing].sort()).toEqual(['decode.cls/bias', 'decode.cls/kernel']);
    expect(model.getLayer('decode.cls').getWeights()[0].dataSync()).toEqual(head);
    expect(maxAbsDiff(model.getLayer('layer3.0.conv1').getWeights()[0], source.getLayer('layer3.0.conv1').getWeights()[0])).toBe(0);
    model.dispose();
  });

  it('refuses, copying nothing, a source with another stem or width; accepts a partial one only when asked', async () => {
    const deep = buildResNetModel(createResNet('resnet18', { deepStem: true, seed: 5 }));
    const kernel = deep.getLayer('layer1.0.conv1').getWeights()[0].dataSync().slice();
    await expect(loadBackboneWeights(deep, plainFolder)).rejects.toThrow(/15 encoder weights are missing .*stem\.0\/kernel.*allowPartial/s);
    expect(deep.getLayer('layer1.0.conv1').getWeights()[0].dataSync()).toEqual(kernel);
    const partial = await loadBackboneWeights(deep, plainFolder, { allowPartial: true });
    expect(partial.missing.filter((k) => k.startsWith('stem.')).length).toBe(15);
    expect(partial.unused).toContain('conv1/kernel');
    expect(maxAbsDiff(deep.getLayer('layer1.0.conv1').getWeights()[0], plain.getLayer('layer1.0.conv1').getWeights()[0])).toBe(0);

    // Shapes only: built with zero kernels.
    const half = withZeroInitializers(() => buildResNetModel(createResNet('resnet18', { widthMultiplier: 0.5 })));
    await expect(loadBackboneWeights(half, plainFolder)).rejects.toThrow(/has shape \[7,7,3,16\] in the source, \[7,7,3,32\] in the model/);
    for (const m of [deep, half]) m.dispose();
  });

  it('rejects a folder without a model, and a path that does not exist', async () => {
    const model = withZeroInitializers(() => buildResNetModel(createResNet('resnet18')));
    const empty = path.join(dir, 'empty-folder');
    fs.mkdirSync(empty, { recursive: true });
    await expect(loadBackboneWeights(model, empty)).rejects.toThrow(/model\.json is missing/);
    await expect(loadBackboneWeights(model, path.join(dir, 'nothing-here'))).rejects.toThrow(
      /^\[@gpl\/resnet\] loadBackboneWeights: .*nothing-here does not exist \(expected a TensorFlow\.js layers-model folder, a \.safetensors file or a torch\.save \.pth\/\.pt file\)\.$/,
    );
    model.dispose();
  });
});

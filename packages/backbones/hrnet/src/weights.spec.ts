import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { folderIOHandler } from '@gpl/core';
import { maxAbsDiff, seededTensor, withZeroInitializers } from '@gpl/core/testing';
import { buildHRNetSegmenter, createHRNet } from './hrnet';
import { loadBackboneWeights, toPyTorchName } from './weights';

let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-hrnet-'));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const tiny = { widthMultiplier: 0.25, numClasses: 5 } as const;

/** An encoder-only model, as a user would save after converting ImageNet weights into it. */
function encoderModel(seed: number, widthMultiplier = 0.25): tfl.LayersModel {
  const backbone = createHRNet('hrnet-w18-small', { widthMultiplier, seed });
  const input = tfl.input({ shape: [null, null, 3] });
  const f = backbone.build(input);
  return tfl.model({ inputs: input, outputs: [f.c2!, f.c3!, f.c4!, f.c5!] });
}

const weightsByName = (model: tfl.LayersModel) =>
  new Map(model.layers.flatMap((l) => l.weights.map((w) => [`${l.name}/${w.originalName.split('/').pop()}`, w] as const)));

describe('toPyTorchName', () => {
  it.each([
    ['conv1/kernel', 'conv1.weight'],
    ['conv2.bn/moving_variance', 'bn2.running_var'],
    ['layer1.0.conv3.bn/gamma', 'layer1.0.bn3.weight'],
    ['layer1.0.downsample.0.bn/beta', 'layer1.0.downsample.1.bias'],
    ['transition1.0.0.bn/moving_mean', 'transition1.0.1.running_mean'],
    ['transition2.2.0.0/kernel', 'transition2.2.0.0.weight'],
    ['stage2.0.branches.1.0.conv1.bn/gamma', 'stage2.0.branches.1.0.bn1.weight'],
    ['stage3.1.fuse_layers.2.0.1.0.bn/beta', 'stage3.1.fuse_layers.2.0.1.1.bias'],
    ['last_layer.0.bn/gamma', 'last_layer.1.weight'],
    ['last_layer.3/bias', 'last_layer.3.bias'],
  ])('%s → %s', (key, expected) => {
    expect(toPyTorchName(key)).toBe(expected);
  });

  it('rejects keys it cannot map', () => {
    expect(() => toPyTorchName('conv1')).toThrow(/expected 'layer\/weight'/);
    expect(() => toPyTorchName('conv1/depthwise_kernel')).toThrow(RangeError);
  });
});

describe('loadBackboneWeights', () => {
  it('imports an encoder saved as a TensorFlow.js layers-model folder; the head keeps its initialisation', async () => {
    const source = encoderModel(11);
    const folder = path.join(dir, 'encoder');
    await source.save(folderIOHandler(folder));
    expect(fs.existsSync(path.join(folder, 'model.json'))).toBe(true);

    const target = buildHRNetSegmenter('hrnet-w18-small', { ...tiny, seed: 12 });
    const headBefore = target.getLayer('last_layer.3').getWeights().map((t) => t.clone());
    const report = await loadBackboneWeights(target, folder);

    const src = weightsByName(source);
    const dst = weightsByName(target);
    expect(report.loaded.length).toBe(src.size);
    expect(report.unused).toEqual([]);
    expect(report.missing.every((k) => k.startsWith('last_layer.'))).toBe(true);
    expect(report.missing.length).toBe(7); // last_layer.0 kernel, its BN's 4 weights, last_layer.3 kernel and bias
    for (const [key, w] of src) expect({ key, diff: maxAbsDiff(w.read(), dst.get(key)!.read()) }).toEqual({ key, diff: 0 });
    target.getLayer('last_layer.3').getWeights().forEach((t, i) => expect(maxAbsDiff(t, headBefore[i])).toBe(0));

    // Same encoder weights ⇒ same features from the target's encoder.
    const x = seededTensor([1, 64, 64, 3], 13);
    const c2 = tfl.model({ inputs: target.inputs, outputs: target.getLayer('stage4.1.fuse.0.relu').output as tfl.SymbolicTensor });
    const [a] = source.predict(x) as tf.Tensor[];
    const b = c2.predict(x) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    tf.dispose([x, a, b, ...headBefore]);
    source.dispose();
    target.dispose();
  });

  it('refuses an encoder of another width, naming the problem', async () => {
    const folder = path.join(dir, 'wide');
    // Shapes only: both built with zero kernels.
    const source = withZeroInitializers(() => encoderModel(1, 0.5));
    await source.save(folderIOHandler(folder));
    source.dispose();
    const target = withZeroInitializers(() => buildHRNetSegmenter('hrnet-w18-small', tiny));
    await expect(loadBackboneWeights(target, folder)).rejects.toThrow(/has shape .* in the source/);
    target.dispose();
  });

  it('refuses a source that lacks encoder weights unless a partial import is allowed', async () => {
    const folder = path.join(dir, 'stem-only');
    const input = tfl.input({ shape: [null, null, 3] });
    const stem = tfl.layers.conv2d({ name: 'conv1', filters: 16, kernelSize: 3, strides: 2, useBias: false }).apply(input) as tfl.SymbolicTensor;
    const partial = tfl.model({ inputs: input, outputs: stem });
    await partial.save(folderIOHandler(folder));
    const target = buildHRNetSegmenter('hrnet-w18-small', tiny);
    const before = target.getLayer('conv1').getWeights()[0].clone();
    await expect(loadBackboneWeights(target, folder)).rejects.toThrow(/encoder weights are missing .* allowPartial/);
    expect(maxAbsDiff(target.getLayer('conv1').getWeights()[0], before)).toBe(0); // refused ⇒ untouched
    const report = await loadBackboneWeights(target, folder, { allowPartial: true });
    expect(report.loaded).toEqual(['conv1/kernel']);
    expect(maxAbsDiff(target.getLayer('conv1').getWeights()[0], before)).toBeGreaterThan(0);
    before.dispose();
    partial.dispose();
    target.dispose();
  });
});

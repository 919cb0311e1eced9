import './setup';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { folderIOHandler } from './checkpoint';
import { convUnit } from './layers';
import { backboneWeightsLoader, loadEncoderWeights, toPyTorchName, weightKeys } from './pytorch-weights';
import { maxAbsDiff } from './testing';

let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-core-weights-'));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('toPyTorchName', () => {
  it.each([
    ['enc.conv7/kernel', 'enc.conv7.weight'], // a conv keeps its module path
    ['enc.conv7.bn/moving_variance', 'enc.bn7.running_var'], // BN after convK: bnK
    ['block.2.conv12.bn/gamma', 'block.2.bn12.weight'],
    ['proj.4.bn/beta', 'proj.5.bias'], // BN after an indexed conv: the next Sequential index
    ['proj.9.bn/moving_mean', 'proj.10.running_mean'],
    ['cls/bias', 'cls.bias'],
  ])('%s → %s', (key, expected) => {
    expect(toPyTorchName(key)).toBe(expected);
  });

  it('rejects keys it cannot map, naming the package it is given', () => {
    expect(() => toPyTorchName('conv1', '@gpl/resnet')).toThrow("[@gpl/resnet] toPyTorchName: expected 'layer/weight', received 'conv1'.");
    expect(() => toPyTorchName('conv1/depthwise_kernel')).toThrow(/^\[@gpl\/core\] toPyTorchName: unknown weight 'depthwise_kernel' in 'conv1\/depthwise_kernel'; known: kernel, bias/);
    expect(() => toPyTorchName('head.bn/gamma', '@gpl/hrnet')).toThrow(/\[@gpl\/hrnet\] toPyTorchName: no PyTorch name for the BatchNorm after 'head'/);
  });
});

describe('loadEncoderWeights', () => {
  /** enc.conv (+ BN) → head.cls: a two-part model whose encoder is `enc.*`. */
  function twoPart(seed: number, encFilters = 4, withHead = true): tfl.LayersModel {
    const input = tfl.input({ shape: [8, 8, 3] });
    let y = convUnit(input, { name: 'enc.conv', filters: encFilters, kernelSize: 3, seed });
    if (withHead) y = convUnit(y, { name: 'head.cls', filters: 2, kernelSize: 1, bn: false, relu: false, seed: seed + 1 });
    return tfl.model({ inputs: input, outputs: y });
  }
  const options = {
    isEncoderWeight: (key: string) => key.startsWith('enc.'),
    caller: '[@gpl/test] loadBackboneWeights',
    expectedSource: 'the same test encoder',
  };
  async function saved(name: string, model: tfl.LayersModel): Promise<string> {
    const folder = path.join(dir, name);
    await model.save(folderIOHandler(folder));
    model.dispose();
    return folder;
  }

  it('lists layer/weight keys as importWeightsByName matches them', () => {
    const model = twoPart(1);
    expect(weightKeys(model)).toEqual([
      'enc.conv/kernel', 'enc.conv.bn/gamma', 'enc.conv.bn/beta', 'enc.conv.bn/moving_mean', 'enc.conv.bn/moving_variance',
      'head.cls/kernel', 'head.cls/bias',
    ]);
    model.dispose();
  });

  it('copies the encoder of a saved model; the head keeps its initialisation; extra source weights are reported unused', async () => {
    const source = twoPart(1);
    const sourceKernel = source.getLayer('enc.conv').getWeights()[0].clone();
    const folder = await saved('full', source);
    const target = twoPart(5, 4, false);
    // The source's head is not in the target: unused. Nothing of the target is missing.
    const report = await loadEncoderWeights(target, folder, options);
    expect(report.missing).toEqual([]);
    expect([...report.unused].sort()).toEqual(['head.cls/bias', 'head.cls/kernel']);
    expect(maxAbsDiff(target.getLayer('enc.conv').getWeights()[0], sourceKernel)).toBe(0);

    const encoderOnly = await saved('encoder', twoPart(2, 4, false));
    const withHead = twoPart(7);
    const head = withHead.getLayer('head.cls').getWeights()[0].clone();
    const r2 = await loadEncoderWeights(withHead, encoderOnly, options);
    expect([...r2.missing].sort()).toEqual(['head.cls/bias', 'head.cls/kernel']); // not encoder weights: allowed
    expect(maxAbsDiff(withHead.getLayer('head.cls').getWeights()[0], head)).toBe(0);
    tf.dispose([sourceKernel, head]);
    target.dispose();
    withHead.dispose();
  });

  it('refuses, copying nothing, a source without the encoder weights unless allowPartial; refuses another width and a source with nothing in common', async () => {
    // A source with only the BN of the encoder: the kernel is missing.
    const input = tfl.input({ shape: [8, 8, 4] });
    const bnOnly = tfl.model({ inputs: input, outputs: tfl.layers.batchNormalization({ name: 'enc.conv.bn' }).apply(input) as tfl.SymbolicTensor });
    const partialFolder = await saved('bn-only', bnOnly);
    const target = twoPart(3);
    const before = target.getLayer('enc.conv.bn').getWeights()[0].clone();
    await expect(loadEncoderWeights(target, partialFolder, options)).rejects.toThrow(
      /^\[@gpl\/test\] loadBackboneWeights: 1 encoder weights are missing from .*bn-only \(e\.g\. enc\.conv\/kernel\); 4 match\. The source must be the same test encoder; pass \{ allowPartial: true \}/,
    );
    expect(maxAbsDiff(target.getLayer('enc.conv.bn').getWeights()[0], before)).toBe(0);
    const report = await loadEncoderWeights(target, partialFolder, { ...options, allowPartial: true });
    expect(report.loaded).toEqual(['enc.conv.bn/gamma', 'enc.conv.bn/beta', 'enc.conv.bn/moving_mean', 'enc.conv.bn/moving_variance']);

    const wide = await saved('wide', twoPart(4, 8));
    await expect(loadEncoderWeights(target, wide, options)).rejects.toThrow(/'enc\.conv\/kernel' has shape \[3,3,3,8\] in the source, \[3,3,3,4\] in the model/);

    const otherInput = tfl.input({ shape: [8, 8, 3] });
    const unrelated = tfl.model({ inputs: otherInput, outputs: tfl.layers.conv2d({ name: 'x', filters: 1, kernelSize: 1 }).apply(otherInput) as tfl.SymbolicTensor });
    const unrelatedFolder = await saved('unrelated', unrelated);
    await expect(loadEncoderWeights(target, unrelatedFolder, { ...options, allowPartial: true })).rejects.toThrow(/0 match/);
    before.dispose();
    target.dispose();
  });

  it('backboneWeightsLoader fixes a package\'s encoder test and messages, leaving allowPartial to the caller', async () => {
    const load = backboneWeightsLoader({ ...options, toTorchName: (k) => toPyTorchName(k, '@gpl/test') });
    const encoderOnly = await saved('encoder-2', twoPart(9, 4, false));
    const input = tfl.input({ shape: [8, 8, 3] });
    const otherConv = tfl.model({ inputs: input, outputs: convUnit(input, { name: 'enc.conv', filters: 4, kernelSize: 3, bn: false, seed: 3 }) });
    const bnless = await saved('bn-less', otherConv);
    const target = twoPart(6);
    expect([...(await load(target, encoderOnly)).missing].sort()).toEqual(['head.cls/bias', 'head.cls/kernel']);
    await expect(load(target, bnless)).rejects.toThrow(/^\[@gpl\/test\] loadBackboneWeights: 4 encoder weights are missing/);
    expect((await load(target, bnless, { allowPartial: true })).loaded).toEqual(['enc.conv/kernel']);
    target.dispose();
  });

  it('rejects a folder without a model', async () => {
    const target = twoPart(1);
    await expect(loadEncoderWeights(target, path.join(dir, 'nothing-here'), options)).rejects.toThrow(/model\.json is missing/);
    target.dispose();
  });
});

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { AdaptiveAvgPool2D, installGradientCompleteness, type Backbone } from '@gpl/core';
import { batchNormModes, expectNoLeak, maxAbsDiff, roundTripLayersModel, seededTensor, sgdStepTensorCounts, unreachedWeights, withZeroInitializers } from '@gpl/core/testing';
import { createResNet } from '@gpl/resnet';
import { defaultPSPNetConfig, resolvePSPNetConfig } from './config';
import { splitOutputs } from '@gpl/engine';
import { buildPSPNet, formatPSPNetSummary, inferenceModel, summarizePSPNet } from './pspnet';

beforeAll(async () => {
  await tf.setBackend('cpu');
  installGradientCompleteness();
});

/** The reference encoder at CPU width: dilated ResNetV1c-18, output stride 8. */
const r18d8 = (seed = 1) => createResNet('resnet18', { outputStride: 8, deepStem: true, widthMultiplier: 0.25, seed });
const tiny = { numClasses: 5, widthMultiplier: 0.25 } as const;

/**
 * The any-size PSPNet on `r18d8()` with `tiny`, built once: the shape, layout, inference and
 * serialization tests read it (training tests use smaller models of their own).
 */
let shared: tfl.LayersModel;
beforeAll(() => {
  shared = buildPSPNet(r18d8(), tiny);
});
afterAll(() => shared.dispose());

/**
 * Trainable parameters of MMSegmentation's PSPHead + FCNHead, from their module lists (not the
 * tfjs build): ConvModule k×k without bias + BN (2·out), classifier 1×1 with bias.
 */
function referenceHeads(c5: number, c4: number, channels: number, auxChannels: number, bins: number, classes: number) {
  const convBn = (k: number, i: number, o: number) => k * k * i * o + 2 * o;
  const cls = (i: number) => i * classes + classes;
  const decode = bins * convBn(1, c5, channels) + convBn(3, c5 + bins * channels, channels) + cls(channels);
  const aux = convBn(3, c4, auxChannels) + cls(auxChannels);
  return { decode, aux };
}

describe('config', () => {
  it('has frozen defaults: MMSegmentation PSPHead widths, bins 1/2/3/6, aux weight 0.4, CPU width 0.25', () => {
    expect(Object.isFrozen(defaultPSPNetConfig)).toBe(true);
    expect(defaultPSPNetConfig).toMatchObject({ channels: 512, poolScales: [1, 2, 3, 6], auxChannels: 256, auxLossWeight: 0.4, dropout: 0.1, widthMultiplier: 0.25 });
  });

  it('rejects bad values with the field, the expectation and the value', () => {
    expect(() => resolvePSPNetConfig({ numClasses: 0 })).toThrow(/config\.numClasses must be a positive integer, received 0/);
    expect(() => resolvePSPNetConfig({ poolScales: [1, 0] })).toThrow(/poolScales/);
    expect(() => resolvePSPNetConfig({ inFeature: 'c6' as 'c5' })).toThrow(/inFeature must be one of c1, c2, c3, c4, c5/);
    expect(() => resolvePSPNetConfig({ dropout: 1 })).toThrow(/dropout/);
  });

  it('rejects a non-backbone, a backbone without the features it reads, and an input size the encoder cannot take', () => {
    expect(() => buildPSPNet({} as Backbone, tiny)).toThrow(TypeError);
    const onlyC5: Backbone = { name: 'c5-only', sizeDivisor: 32, featureSpecs: () => ({ c5: { channels: 8, stride: 32 } }), build: () => ({}) };
    expect(() => buildPSPNet(onlyC5, tiny)).toThrow(/has no feature 'c4' \(it has c5\); set config\.auxFeature to one of those or auxHead: false/);
    expect(() => buildPSPNet(r18d8(), { ...tiny, inputSize: [60, 64] })).toThrow(/input height 60 is not a positive multiple of 8; use 64/);
  });
});

describe('shapes', () => {
  it('dilated ResNet-18 (output stride 8): logits and aux logits at the input size, for 1×64×64 and 2×64×128', () => {
    const model = shared;
    expect(model.outputNames).toEqual(['logits', 'aux_logits']);
    for (const shape of [[1, 64, 64, 3], [2, 64, 128, 3]]) {
      const x = seededTensor(shape, 1);
      const outs = model.predict(x) as tf.Tensor[];
      expect(outs.map((t) => t.shape)).toEqual([[...shape.slice(0, 3), 5], [...shape.slice(0, 3), 5]]);
      tf.dispose([x, ...outs]);
    }
  });

  it.each([16, 32] as const)('works on any Backbone: ResNet-18 at output stride %i, input 1×64×96', (os) => {
    const model = buildPSPNet(createResNet('resnet18', { outputStride: os }), { ...tiny, inputSize: [64, 96] });
    expect(model.outputs.map((o) => o.shape)).toEqual([[null, 64, 96, 5], [null, 64, 96, 5]]);
    const x = seededTensor([1, 64, 96, 3], 2);
    const outs = model.predict(x) as tf.Tensor[];
    expect(outs[0].shape).toEqual([1, 64, 96, 5]);
    tf.dispose([x, ...outs]);
    model.dispose();
  });

  it('a fixed-size model (core ResizeBilinear) computes what the any-size model (ResizeLike) does', () => {
    const any = shared;
    const fixed = buildPSPNet(r18d8(), { ...tiny, inputSize: [64, 64] });
    expect(fixed.getLayer('logits').getClassName()).toBe('GplResizeBilinear');
    expect(any.getLayer('logits').getClassName()).toBe('GplResizeLike');
    fixed.setWeights(any.getWeights());
    const x = seededTensor([1, 64, 64, 3], 3);
    const [a, f] = [any.predict(x) as tf.Tensor[], fixed.predict(x) as tf.Tensor[]];
    expect(maxAbsDiff(a[0], f[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(a[1], f[1])).toBeLessThan(1e-5);
    tf.dispose([x, ...a, ...f]);
    fixed.dispose();
  });

  it('the pyramid pools c5 into 1, 2, 3 and 6 bins; the width multiplier scales every head conv', () => {
    const model = shared;
    expect([0, 1, 2, 3].map((i) => (model.getLayer(`decode.psp.${i}.pool`) as AdaptiveAvgPool2D).bins)).toEqual([[1, 1], [2, 2], [3, 3], [6, 6]]);
    // c5 of ResNet-18 at width 0.25 has 128 channels; branches 512·0.25 = 128; aux 256·0.25 = 64.
    expect(model.getLayer('decode.psp.0.conv').getWeights()[0].shape).toEqual([1, 1, 128, 128]);
    expect(model.getLayer('decode.bottleneck').getWeights()[0].shape).toEqual([3, 3, 128 + 4 * 128, 128]);
    expect(model.getLayer('aux.conv').getWeights()[0].shape).toEqual([3, 3, 64, 64]);
    expect(model.getLayer('decode.cls').getWeights()[0].shape).toEqual([1, 1, 128, 5]);
  });

  it('without the auxiliary head: one output, no aux layers; inferenceModel shares the weights of a two-output model', () => {
    const single = withZeroInitializers(() => buildPSPNet(r18d8(), { ...tiny, auxHead: false })); // structure only
    expect(single.outputs.length).toBe(1);
    expect(single.layers.some((l) => l.name.startsWith('aux.'))).toBe(false);
    expect(inferenceModel(single)).toBe(single);
    single.dispose();

    const model = shared;
    const infer = inferenceModel(model);
    expect(infer.outputs.length).toBe(1);
    expect(infer.getLayer('decode.cls')).toBe(model.getLayer('decode.cls'));
    const x = seededTensor([1, 32, 32, 3], 4);
    const both = model.predict(x) as tf.Tensor[];
    const logits = infer.predict(x) as tf.Tensor;
    expect(maxAbsDiff(both[0], logits)).toBe(0);
    expect(splitOutputs(both).auxLogits).toBe(both[1]);
    expect(splitOutputs(logits)).toEqual({ logits });
    tf.dispose([x, ...both, logits]);
  });
});

// Counts depend on the structure only: these models are built with zero kernels, not run.
describe('parameter counts at full width', () => {
  it('PSPNet-R18 (ResNetV1c-18 d8): 24,055,667 without aux = 22.94 × 2^20, the paper\'s 22.9M; 150 classes: 23.0M', () => {
    const backbone = createResNet('resnet18', { outputStride: 8, deepStem: true, widthMultiplier: 1 });
    const model = withZeroInitializers(() => buildPSPNet(backbone, { numClasses: 19, widthMultiplier: 1 }));
    const s = summarizePSPNet(model);
    const ref = referenceHeads(512, 256, 512, 256, 4, 19);
    expect(s.backbone).toBe(11_195_744); // torchvision resnet18 without fc (11,176,512) + deep stem (19,232)
    expect(s.decodeHead).toBe(ref.decode);
    expect(s.auxHead).toBe(ref.aux);
    expect(s.inference).toBe(24_055_667);
    expect(s.trainable).toBe(24_650_886);
    expect((s.inference / 2 ** 20).toFixed(1)).toBe('22.9'); // GPL paper Table 6, Cityscapes
    expect(formatPSPNetSummary(s)).toMatch(/inference\s+24,055,667 {3}\(24\.06M; 22\.94 × 2\^20\)/);
    model.dispose();

    const ade = withZeroInitializers(() => buildPSPNet(createResNet('resnet18', { outputStride: 8, deepStem: true, widthMultiplier: 1 }), { numClasses: 150, widthMultiplier: 1 }));
    const sa = summarizePSPNet(ade);
    expect(sa.inference).toBe(11_195_744 + referenceHeads(512, 256, 512, 256, 4, 150).decode);
    expect((sa.inference / 2 ** 20).toFixed(1)).toBe('23.0'); // Table 6, ADE20K
    ade.dispose();
  });

  it('MMSegmentation\'s own pspnet_r18-d8 config (channels 128, aux 64) is 12,641,267: not the paper\'s PSPRes18', () => {
    const backbone = createResNet('resnet18', { outputStride: 8, deepStem: true, widthMultiplier: 1 });
    const model = withZeroInitializers(() => buildPSPNet(backbone, { numClasses: 19, widthMultiplier: 1, channels: 128, auxChannels: 64 }));
    const s = summarizePSPNet(model);
    const ref = referenceHeads(512, 256, 128, 64, 4, 19);
    expect([s.decodeHead, s.auxHead]).toEqual([ref.decode, ref.aux]);
    expect(s.inference).toBe(12_641_267);
    expect((s.inference / 2 ** 20).toFixed(1)).not.toBe('22.9');
    model.dispose();
  });

  it('PSPNet-R50 (ResNetV1c-50 d8) equals MMSegmentation pspnet_r50-d8: 46,610,803 + aux 2,364,691', () => {
    const model = withZeroInitializers(() => buildPSPNet(createResNet('resnet50', { outputStride: 8, deepStem: true, widthMultiplier: 1 }), { numClasses: 19, widthMultiplier: 1 }));
    const s = summarizePSPNet(model);
    const ref = referenceHeads(2048, 1024, 512, 256, 4, 19);
    expect(s.backbone).toBe(23_527_264);
    expect([s.decodeHead, s.auxHead]).toEqual([ref.decode, ref.aux]);
    expect([s.inference, s.trainable]).toEqual([46_610_803, 48_975_494]);
    model.dispose();
  });
});

// Width 0.125 (encoder planes 8…64, head 64 / 32): on the cpu backend a backward pass costs
// about in proportion to the number of weights, and none of these checks depends on width.
const r18d8Small = () => createResNet('resnet18', { outputStride: 8, deepStem: true, widthMultiplier: 0.125, seed: 1 });
const small = { numClasses: 5, widthMultiplier: 0.125 } as const;

describe('training', () => {
  let model: tfl.LayersModel;
  let x: tf.Tensor;
  beforeAll(() => {
    model = buildPSPNet(r18d8Small(), small);
    x = seededTensor([2, 32, 32, 3], 5);
  });
  afterAll(() => {
    x.dispose();
    model.dispose();
  });

  it('the gradient of main + 0.4·aux loss reaches every trainable weight of encoder and both heads', () => {
    const r = seededTensor([2, 32, 32, 5], 6);
    const unreached = unreachedWeights(model, () => {
      const { logits, auxLogits } = splitOutputs(model.apply(x, { training: true }) as tf.Tensor[]);
      return tf.add(tf.sum(tf.mul(logits, r)), tf.mul(0.4, tf.sum(tf.mul(auxLogits!, r)))) as tf.Scalar;
    });
    expect(unreached).toEqual([]);
    r.dispose();
  });

  it('frees every intermediate: inference returns its two outputs only; a training step keeps the tensor count flat', () => {
    expectNoLeak(() => model.predict(x) as tf.Tensor[], { returns: 2, repeats: 2 });
    const counts = sgdStepTensorCounts(model, () => {
      const { logits, auxLogits } = splitOutputs(model.apply(x, { training: true }) as tf.Tensor[]);
      return tf.add(tf.mean(tf.square(logits)), tf.mean(tf.square(auxLogits!))) as tf.Scalar;
    });
    expect(new Set(counts).size).toBe(1);
  });

  it('batch norm in the head: training mode updates its moving statistics, inference mode reads them', () => {
    // Without dropout, so that only batch norm can make the two modes differ.
    const plain = buildPSPNet(r18d8Small(), { ...small, dropout: 0 });
    const modes = batchNormModes(plain, 'decode.bottleneck.bn', x);
    expect(modes).toMatchObject({ inferenceKeptStatistics: true, trainingUpdatedStatistics: true });
    expect(modes.modeDifference).toBeGreaterThan(1e-4);
    plain.dispose();
  });
});

describe('serialization', () => {
  it('round-trips through a layers-model JSON (custom layers registered)', async () => {
    const loaded = await roundTripLayersModel(shared);
    const x = seededTensor([1, 32, 64, 3], 9);
    const [a, b] = [shared.predict(x) as tf.Tensor[], loaded.predict(x) as tf.Tensor[]];
    expect(maxAbsDiff(a[0], b[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(a[1], b[1])).toBeLessThan(1e-5);
    tf.dispose([x, ...a, ...b]);
    loaded.dispose();
  });
});

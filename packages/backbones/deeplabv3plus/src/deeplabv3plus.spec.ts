import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { installGradientCompleteness, type Backbone } from '@gpl/core';
import { batchNormModes, expectNoLeak, maxAbsDiff, roundTripLayersModel, seededTensor, sgdStepTensorCounts, unreachedWeights, withZeroInitializers } from '@gpl/core/testing';
import { createResNet, type ResNetName } from '@gpl/resnet';
import { defaultDeepLabV3PlusConfig, resolveDeepLabV3PlusConfig } from './config';
import { asppRatesFor, buildDeepLabV3Plus, formatDeepLabV3PlusSummary, summarizeDeepLabV3Plus } from './deeplabv3plus';

beforeAll(async () => {
  await tf.setBackend('cpu');
  installGradientCompleteness();
});

/** The reference encoder at CPU width: ResNet-50 (or another variant), output stride 16. */
const os16 = (name: ResNetName = 'resnet50') => createResNet(name, { outputStride: 16, widthMultiplier: 0.25 });
const tiny = { numClasses: 5, widthMultiplier: 0.25 } as const;

/** The any-size DeepLabV3+ on `os16()` with `tiny`, built once: the shape and serialization tests read it. */
let shared: tfl.LayersModel;
beforeAll(() => {
  shared = buildDeepLabV3Plus(os16(), tiny);
});
afterAll(() => shared.dispose());

/** Dilation of a conv layer. */
function dilation(model: tfl.LayersModel, name: string): number {
  const d = (model.getLayer(name).getConfig() as { dilationRate: number | number[] }).dilationRate;
  return Array.isArray(d) ? d[0] : d;
}

/**
 * Trainable parameters of the paper's DeepLabV3+ head (VainF's DeepLabHeadV3Plus with
 * `convs` decoder 3×3 convs), from its module list, not the tfjs build: convs without bias
 * + BN (2·out), classifier 1×1 with bias.
 */
function referenceHead(c5: number, c2: number, classes: number, convs: number): number {
  const convBn = (k: number, i: number, o: number) => k * k * i * o + 2 * o;
  const aspp = convBn(1, c5, 256) + 3 * convBn(3, c5, 256) + convBn(1, c5, 256) + convBn(1, 5 * 256, 256);
  let decoder = convBn(1, c2, 48) + convBn(3, 256 + 48, 256);
  for (let k = 1; k < convs; k++) decoder += convBn(3, 256, 256);
  return aspp + decoder + 256 * classes + classes;
}

/**
 * Trainable parameters of MMSegmentation's DepthwiseSeparableASPPHead (deeplabv3plus_r50-d8:
 * channels 512, dilations 1/12/24/36, c1 48), from its module list: image pooling 1×1, ASPP
 * 1×1 and three separable 3×3 (depthwise + BN, pointwise + BN), 3×3 bottleneck, c1 1×1, two
 * separable 3×3 decoder convs, classifier.
 */
function mmsegSepAsppHead(c5: number, c1: number, classes: number): number {
  const convBn = (k: number, i: number, o: number) => k * k * i * o + 2 * o;
  const sep = (i: number, o: number) => 9 * i + 2 * i + convBn(1, i, o);
  const ch = 512;
  const aspp = convBn(1, c5, ch) + convBn(1, c5, ch) + 3 * sep(c5, ch) + convBn(3, 4 * ch + ch, ch);
  return aspp + convBn(1, c1, 48) + sep(ch + 48, ch) + sep(ch, ch) + ch * classes + classes;
}

describe('config', () => {
  it('has frozen defaults: ASPP 256 at rates 6/12/18 (output stride 16), low-level 48, two 3×3 decoder convs, CPU width 0.25', () => {
    expect(Object.isFrozen(defaultDeepLabV3PlusConfig)).toBe(true);
    expect(defaultDeepLabV3PlusConfig).toMatchObject({
      asppChannels: 256, asppRates: [6, 12, 18], lowLevelChannels: 48, decoderChannels: 256, decoderConvs: 2, widthMultiplier: 0.25,
    });
  });

  it('rejects bad values and unusable backbones with actionable messages', () => {
    expect(() => resolveDeepLabV3PlusConfig({ asppRates: [6, 0] })).toThrow(/config\.asppRates must be a list of positive integers, received \[6,0\]/);
    expect(() => resolveDeepLabV3PlusConfig({ decoderConvs: -1 })).toThrow(/decoderConvs/);
    expect(() => buildDeepLabV3Plus(null as unknown as Backbone, tiny)).toThrow(TypeError);
    const coarse: Backbone = {
      name: 'coarse', sizeDivisor: 32, build: () => ({}),
      featureSpecs: () => ({ c2: { channels: 8, stride: 4 }, c5: { channels: 8, stride: 32 } }),
    };
    expect(() => buildDeepLabV3Plus(coarse, { ...tiny, lowLevelFeature: 'c3' })).toThrow(/has no feature 'c3' \(it has c2, c5\); set config\.lowLevelFeature/);
    expect(() => buildDeepLabV3Plus(coarse, { ...tiny, inFeature: 'c2', lowLevelFeature: 'c5' })).toThrow(/must not be coarser/);
    expect(() => buildDeepLabV3Plus(os16(), { ...tiny, inputSize: [64, 72] })).toThrow(/input width 72 is not a positive multiple of 16; use 80/);
  });
});

describe('shapes and layout', () => {
  it('ResNet-50 at output stride 16: logits at the input size for 1×64×64 and 2×64×128', () => {
    const model = shared;
    expect(model.outputNames).toEqual(['logits']);
    for (const shape of [[1, 64, 64, 3], [2, 64, 128, 3]]) {
      const x = seededTensor(shape, 1);
      const logits = model.predict(x) as tf.Tensor;
      expect(logits.shape).toEqual([...shape.slice(0, 3), 5]);
      tf.dispose([x, logits]);
    }
  });

  it('ASPP: 1×1 + three 3×3 at rates 6/12/18 + image pooling at output stride 16; rates double at output stride 8', () => {
    // Structure only: built with zero kernels, not run.
    const d16 = withZeroInitializers(() => buildDeepLabV3Plus(os16(), { ...tiny, inputSize: [64, 64] }));
    expect([1, 2, 3].map((i) => dilation(d16, `decode.aspp.${i}`))).toEqual([6, 12, 18]);
    expect(d16.getLayer('decode.aspp.0').getWeights()[0].shape).toEqual([1, 1, 512, 64]);
    expect(d16.getLayer('decode.aspp.4.conv').getWeights()[0].shape).toEqual([1, 1, 512, 64]);
    expect(d16.getLayer('decode.aspp.project').getWeights()[0].shape).toEqual([1, 1, 5 * 64, 64]);
    // Low-level projection of c2 (256·0.25 = 64 channels) to 48·0.25 → 16 (scaleWidth: multiple of 8).
    expect(d16.getLayer('decode.lowlevel').getWeights()[0].shape).toEqual([1, 1, 64, 16]);
    expect(d16.getLayer('decode.conv1').getWeights()[0].shape).toEqual([3, 3, 64 + 16, 64]);
    expect(d16.getLayer('decode.conv2').getWeights()[0].shape).toEqual([3, 3, 64, 64]);
    // ASPP output at stride 16 is resized ×4 to c2 (stride 4), the logits ×4 to the input.
    expect(d16.getLayer('decode.up').output).toHaveProperty('shape', [null, 16, 16, 64]);
    d16.dispose();
    const os8 = withZeroInitializers(() => buildDeepLabV3Plus(createResNet('resnet50', { outputStride: 8, widthMultiplier: 0.25 }), { ...tiny, inputSize: [64, 64] }));
    expect([1, 2, 3].map((i) => dilation(os8, `decode.aspp.${i}`))).toEqual([12, 24, 36]);
    os8.dispose();
    expect(asppRatesFor([6, 12, 18], 32)).toEqual([3, 6, 9]);
  });

  it('a fixed-size model (core ResizeBilinear) computes what the any-size model (ResizeLike) does', () => {
    const any = shared;
    const fixed = buildDeepLabV3Plus(os16(), { ...tiny, inputSize: [64, 96] });
    expect(fixed.getLayer('decode.up').getClassName()).toBe('GplResizeBilinear');
    expect(any.getLayer('decode.up').getClassName()).toBe('GplResizeLike');
    fixed.setWeights(any.getWeights());
    const x = seededTensor([1, 64, 96, 3], 3);
    const [a, f] = [any.predict(x) as tf.Tensor, fixed.predict(x) as tf.Tensor];
    expect(maxAbsDiff(a, f)).toBeLessThan(1e-5);
    tf.dispose([x, a, f]);
    fixed.dispose();
  });
});

// Counts depend on the structure only: these models are built with zero kernels, not run.
describe('parameter counts at full width', () => {
  it('DeepLabV3+-R50 (OS16, paper head): 40,351,667; one decoder conv: 39,761,331 = VainF; vs the paper\'s 39.3M (MMSegmentation d8 in units of 2^20)', () => {
    const model = withZeroInitializers(() => buildDeepLabV3Plus(createResNet('resnet50', { outputStride: 16, widthMultiplier: 1 }), { numClasses: 19, widthMultiplier: 1 }));
    const s = summarizeDeepLabV3Plus(model);
    expect(s.backbone).toBe(23_508_032); // torchvision resnet50 without fc
    expect(s.trainable - s.backbone).toBe(referenceHead(2048, 256, 19, 2));
    expect(s.trainable).toBe(40_351_667);
    expect(s.aspp).toBe(15_535_104);
    expect(formatDeepLabV3PlusSummary(s)).toMatch(/trainable\s+40,351,667 {3}\(40\.35M; 38\.48 × 2\^20\)/);
    model.dispose();

    const vainf = withZeroInitializers(() =>
      buildDeepLabV3Plus(createResNet('resnet50', { outputStride: 16, widthMultiplier: 1 }), { numClasses: 19, widthMultiplier: 1, decoderConvs: 1 }),
    );
    const sv = summarizeDeepLabV3Plus(vainf);
    expect(sv.trainable).toBe(23_508_032 + referenceHead(2048, 256, 19, 1));
    expect(sv.trainable).toBe(39_761_331);
    vainf.dispose();

    // The paper's Table 6 value matches MMSegmentation's deeplabv3plus_r50-d8 (ResNetV1c-50 +
    // separable 512-channel head, no auxiliary head), 41,225,187 parameters, counted in 2^20:
    expect(mmsegSepAsppHead(2048, 256, 19)).toBe(17_697_923);
    const resnetV1c50 = 23_508_032 + 19_232;
    expect(resnetV1c50 + mmsegSepAsppHead(2048, 256, 19)).toBe(41_225_187);
    expect(((resnetV1c50 + mmsegSepAsppHead(2048, 256, 19)) / 2 ** 20).toFixed(1)).toBe('39.3'); // Cityscapes row
    expect(((resnetV1c50 + mmsegSepAsppHead(2048, 256, 150)) / 2 ** 20).toFixed(1)).toBe('39.4'); // ADE20K row
  });
});

// Width 0.125 (encoder planes 8…64, ASPP 32 channels): on the cpu backend a backward pass costs
// about in proportion to the number of weights, and none of these checks depends on width.
const small = { numClasses: 5, widthMultiplier: 0.125 } as const;
const os16Small = () => createResNet('resnet50', { outputStride: 16, widthMultiplier: 0.125 });

describe('training', () => {
  let model: tfl.LayersModel;
  let x: tf.Tensor;
  beforeAll(() => {
    model = buildDeepLabV3Plus(os16Small(), small);
    x = seededTensor([2, 32, 32, 3], 5);
  });
  afterAll(() => {
    x.dispose();
    model.dispose();
  });

  it('the gradient reaches every trainable weight (ASPP dilations 6/12/18 and the dilated stage 4 included)', () => {
    const r = seededTensor([2, 32, 32, 5], 6);
    expect(unreachedWeights(model, () => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar)).toEqual([]);
    r.dispose();
  });

  it('frees every intermediate: inference returns the logits only; a training step keeps the tensor count flat', () => {
    expectNoLeak(() => model.predict(x) as tf.Tensor, { returns: 1, repeats: 2 });
    const counts = sgdStepTensorCounts(model, () => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
    expect(new Set(counts).size).toBe(1);
  });

  it('batch norm in the head: training mode updates its moving statistics and differs from inference mode', () => {
    // Without dropout, so that only batch norm can make the two modes differ.
    const plain = buildDeepLabV3Plus(os16Small(), { ...small, dropout: 0, asppDropout: 0 });
    const modes = batchNormModes(plain, 'decode.conv2.bn', x);
    expect(modes).toMatchObject({ inferenceKeptStatistics: true, trainingUpdatedStatistics: true });
    expect(modes.modeDifference).toBeGreaterThan(1e-4);
    plain.dispose();
  });
});

describe('serialization', () => {
  it('round-trips through a layers-model JSON (custom layers registered)', async () => {
    const loaded = await roundTripLayersModel(shared);
    const x = seededTensor([1, 32, 64, 3], 9);
    const [a, b] = [shared.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    tf.dispose([x, a, b]);
    loaded.dispose();
  });
});

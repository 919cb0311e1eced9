import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { installGradientCompleteness } from '@gpl/core';
import { expectNoLeak, maxAbsDiff, seededTensor, trainableVariables, unreachedWeights, withZeroInitializers } from '@gpl/core/testing';
import { defaultHRNetConfig, resolveHRNetConfig } from './config';
import {
  HRNET_NAMES,
  HRNET_VARIANTS,
  buildHRNetSegmenter,
  createHRNet,
  formatHRNetSummary,
  summarizeHRNet,
  type HRNetName,
  type HRNetStages,
} from './hrnet';
import { toPyTorchName } from './weights';

beforeAll(async () => {
  await tf.setBackend('cpu');
  installGradientCompleteness();
});

/** CPU-test size: width 0.25, 5 classes. */
const tiny = { widthMultiplier: 0.25, numClasses: 5 } as const;

/**
 * Parameters and state-dict tensors of the reference PyTorch model, derived here from the
 * stage table by following HRNet-Semantic-Segmentation's construction (not the tfjs build):
 * conv k×k: k²·in·out (no bias); BN: weight + bias (2·c) and 4 tensors; head per `headBias`.
 */
function referenceCounts(stages: HRNetStages, numClasses: number, headBias: boolean): { parameters: number; tensors: number } {
  let parameters = 0;
  let tensors = 0;
  const convBn = (k: number, i: number, o: number) => {
    parameters += k * k * i * o + 2 * o;
    tensors += 1 + 4;
  };
  convBn(3, 3, 64);
  convBn(3, 64, 64);
  const width = stages[0].channels[0];
  let inC = 64;
  for (let b = 0; b < stages[0].blocks[0]; b++) {
    convBn(1, inC, width);
    convBn(3, width, width);
    convBn(1, width, 4 * width);
    if (inC !== 4 * width) convBn(1, inC, 4 * width);
    inC = 4 * width;
  }
  let pre = [inC];
  for (const s of stages.slice(1)) {
    const cur = s.channels;
    cur.forEach((c, i) => {
      if (i < pre.length) {
        if (c !== pre[i]) convBn(3, pre[i], c);
      } else {
        for (let k = 0; k <= i - pre.length; k++) convBn(3, pre[pre.length - 1], k === i - pre.length ? c : pre[pre.length - 1]);
      }
    });
    for (let m = 0; m < s.modules; m++) {
      cur.forEach((c, b) => {
        for (let k = 0; k < s.blocks[b]; k++) {
          convBn(3, c, c);
          convBn(3, c, c);
        }
      });
      cur.forEach((ci, i) =>
        cur.forEach((cj, j) => {
          if (j > i) convBn(1, cj, ci);
          for (let k = 0; k < i - j; k++) convBn(3, cj, k === i - j - 1 ? ci : cj);
        }),
      );
    }
    pre = [...cur];
  }
  const c = pre.reduce((a, b) => a + b, 0);
  convBn(1, c, c);
  if (headBias) {
    parameters += c;
    tensors += 1;
  }
  parameters += c * numClasses + numClasses;
  tensors += 2;
  return { parameters, tensors };
}

describe('variants and registry', () => {
  it('holds the stage table of REFERENCE.md §6 (modules, blocks per branch, channels)', () => {
    const row = (name: keyof typeof HRNET_VARIANTS) => HRNET_VARIANTS[name].map((s) => [s.modules, s.blocks, s.channels]);
    expect(row('hrnet-w18-small-v1')).toEqual([[1, [1], [32]], [1, [2, 2], [16, 32]], [1, [2, 2, 2], [16, 32, 64]], [1, [2, 2, 2, 2], [16, 32, 64, 128]]]);
    expect(row('hrnet-w18-small-v2')).toEqual([[1, [2], [64]], [1, [2, 2], [18, 36]], [3, [2, 2, 2], [18, 36, 72]], [2, [2, 2, 2, 2], [18, 36, 72, 144]]]);
    expect(row('hrnet-w18')).toEqual([[1, [4], [64]], [1, [4, 4], [18, 36]], [4, [4, 4, 4], [18, 36, 72]], [3, [4, 4, 4, 4], [18, 36, 72, 144]]]);
    expect(row('hrnet-w48')).toEqual([[1, [4], [64]], [1, [4, 4], [48, 96]], [4, [4, 4, 4], [48, 96, 192]], [3, [4, 4, 4, 4], [48, 96, 192, 384]]]);
    expect(Object.isFrozen(HRNET_VARIANTS)).toBe(true);
  });

  it("registers 'hrnet-w18-small' as small-v2 and fails loudly on unknown names", () => {
    expect(HRNET_NAMES).toEqual(['hrnet-w18-small', 'hrnet-w18-small-v1', 'hrnet-w18-small-v2', 'hrnet-w18', 'hrnet-w48']);
    expect(createHRNet('hrnet-w18-small', { widthMultiplier: 1 }).stages).toEqual(createHRNet('hrnet-w18-small-v2', { widthMultiplier: 1 }).stages);
    expect(() => createHRNet('hrnet-w32' as HRNetName)).toThrow(/unknown HRNet 'hrnet-w32'; known: 'hrnet-w18-small', .*'hrnet-w48'/);
    expect(() => buildHRNetSegmenter('resnet50' as HRNetName)).toThrow(RangeError);
    expect(() => createHRNet('toString' as HRNetName)).toThrow(/unknown HRNet 'toString'/);
  });

  it('validates the config and keeps the defaults frozen', () => {
    expect(Object.isFrozen(defaultHRNetConfig)).toBe(true);
    expect(resolveHRNetConfig()).toEqual(defaultHRNetConfig);
    expect(() => resolveHRNetConfig({ numClasses: 0 })).toThrow(/config.numClasses must be a positive integer, received 0/);
    expect(() => resolveHRNetConfig({ widthMultiplier: 0 })).toThrow(RangeError);
    expect(() => resolveHRNetConfig({ fuseUpsample: 'bicubic' as 'nearest' })).toThrow(/fuseUpsample/);
  });

  it('reports c2…c5 with the stage-4 branch widths at strides 4…32, scaled by the width multiplier', () => {
    expect(createHRNet('hrnet-w48', { widthMultiplier: 1 }).featureSpecs()).toEqual({
      c2: { channels: 48, stride: 4 },
      c3: { channels: 96, stride: 8 },
      c4: { channels: 192, stride: 16 },
      c5: { channels: 384, stride: 32 },
    });
    const small = createHRNet('hrnet-w18-small', tiny);
    expect(Object.values(small.featureSpecs()).map((s) => s.channels)).toEqual([8, 8, 16, 40]);
    expect(small.sizeDivisor).toBe(32);
  });
});

describe('shapes', () => {
  /** One any-size segmenter per variant (small-v2 is registered as hrnet-w18-small), built once. */
  const names = HRNET_NAMES.filter((n) => n !== 'hrnet-w18-small-v2');
  const segmenters = new Map<HRNetName, tfl.LayersModel>();
  beforeAll(() => names.forEach((name) => segmenters.set(name, buildHRNetSegmenter(name, tiny))));
  afterAll(() => segmenters.forEach((m) => m.dispose()));

  it.each(names)('%s: logits [1, 64, 64, 5] and features at strides 4…32', (name) => {
    const backbone = createHRNet(name, tiny);
    const specs = backbone.featureSpecs();
    const keys = ['c2', 'c3', 'c4', 'c5'] as const;
    // The Backbone contract, symbolically: build() on a 64×64 input gives c2…c5 of the reported widths and strides.
    const input = tfl.input({ shape: [64, 64, 3] });
    const probe = withZeroInitializers(() => {
      const f = backbone.build(input);
      return tfl.model({ inputs: input, outputs: keys.map((k) => f[k]!) });
    });
    expect(probe.outputs.map((o) => o.shape)).toEqual(keys.map((k) => [null, 64 / specs[k]!.stride, 64 / specs[k]!.stride, specs[k]!.channels]));
    probe.dispose();
    // And when the segmenter runs: its encoder's outputs (the last stage-4 module's fuse layers) and its logits.
    const seg = segmenters.get(name)!;
    const lastModule = backbone.stages[3].modules - 1;
    const featureOutputs = keys.map((_, b) => seg.getLayer(`stage4.${lastModule}.fuse.${b}.relu`).output as tfl.SymbolicTensor);
    const x = seededTensor([1, 64, 64, 3], 1);
    const [logits, ...features] = tfl.model({ inputs: seg.inputs, outputs: [...seg.outputs, ...featureOutputs] }).predict(x) as tf.Tensor[];
    expect(features.map((t) => t.shape)).toEqual(keys.map((k) => [1, 64 / specs[k]!.stride, 64 / specs[k]!.stride, specs[k]!.channels]));
    expect(logits.shape).toEqual([1, 64, 64, 5]);
    expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, logits, ...features]);
  });

  it('runs one model at several sizes (multiples of 32) and names the fix for others', () => {
    const seg = segmenters.get('hrnet-w18-small-v1')!;
    expect(seg.inputs[0].shape).toEqual([null, null, null, 3]);
    for (const [h, w] of [[32, 96], [96, 64]]) {
      const x = tf.zeros([2, h, w, 3]);
      const y = seg.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([2, h, w, 5]);
      tf.dispose([x, y]);
    }
    const bad = tf.zeros([1, 48, 64, 3]);
    expect(() => seg.predict(bad)).toThrow(/\[@gpl\/hrnet\] input height 48 is not a positive multiple of 32; use 64/);
    bad.dispose();
  });

  it('builds for a fixed input size, checked at build time', () => {
    const seg = withZeroInitializers(() => buildHRNetSegmenter('hrnet-w18-small-v1', { ...tiny, inputSize: [64, 96] })); // shapes only
    expect(seg.inputs[0].shape).toEqual([null, 64, 96, 3]);
    expect(seg.outputs[0].shape).toEqual([null, 64, 96, 5]);
    seg.dispose();
    expect(() => buildHRNetSegmenter('hrnet-w18-small-v1', { ...tiny, inputSize: [60, 64] })).toThrow(/input height 60 .*use 64/);
  });

  it("fuses with 'nearest' upsampling and corner-aligned bilinear resizing as well", () => {
    const x = seededTensor([1, 64, 64, 3], 2);
    const outs = (['nearest', 'bilinear'] as const).map((fuseUpsample) => {
      const seg = buildHRNetSegmenter('hrnet-w18-small-v1', { ...tiny, fuseUpsample, alignCorners: true });
      const y = seg.predict(x) as tf.Tensor;
      seg.dispose();
      return y;
    });
    expect(outs[0].shape).toEqual([1, 64, 64, 5]);
    // Same seed, same weights: only the fuse resizing differs.
    expect(maxAbsDiff(outs[0], outs[1])).toBeGreaterThan(0);
    tf.dispose([x, ...outs]);
  });
});

describe('parameter counts at full width (built with zero kernels, not run)', () => {
  const MiB = 2 ** 20;
  const trainable = (name: HRNetName, numClasses: number) => {
    const model = withZeroInitializers(() => buildHRNetSegmenter(name, { widthMultiplier: 1, numClasses }));
    const summary = summarizeHRNet(model);
    const weights = model.weights.length;
    model.dispose();
    return { summary, weights };
  };

  it('hrnet-w18-small (small-v2): 3,939,309 = reference construction; the paper\'s 3.76M / 3.79M are these counts in units of 2^20', () => {
    const cs = trainable('hrnet-w18-small', 19);
    const ref = referenceCounts(HRNET_VARIANTS['hrnet-w18-small-v2'], 19, false);
    expect(cs.summary.trainable).toBe(3_939_309);
    expect(cs.summary.trainable).toBe(ref.parameters);
    // Every tfjs weight is one state-dict tensor (num_batches_tracked aside).
    expect(cs.weights).toBe(ref.tensors);
    // HR's seg_hrnet.py adds a bias to last_layer.0 (270): 3,939,579, its README's "3.9M".
    expect(referenceCounts(HRNET_VARIANTS['hrnet-w18-small-v2'], 19, true).parameters).toBe(3_939_579);
    // GPL paper Table 6: 3.76M (Cityscapes, 19 classes) and 3.79M (ADE20K, 150 classes).
    expect((cs.summary.trainable / MiB).toFixed(2)).toBe('3.76');
    const ade = trainable('hrnet-w18-small', 150);
    expect(ade.summary.trainable - cs.summary.trainable).toBe(131 * (270 + 1));
    expect((ade.summary.trainable / MiB).toFixed(2)).toBe('3.79');
    expect(cs.summary.head).toBe(270 * 270 + 2 * 270 + 270 * 19 + 19);
    expect(cs.summary.bnStatistics).toBe(16_488);
  });

  it('hrnet-w48: 65,858,659 = reference construction (HR: 65,859,379 with its head bias; README 65.8M)', () => {
    const { summary, weights } = trainable('hrnet-w48', 19);
    const ref = referenceCounts(HRNET_VARIANTS['hrnet-w48'], 19, false);
    expect(summary.trainable).toBe(65_858_659);
    expect(summary.trainable).toBe(ref.parameters);
    expect(weights).toBe(ref.tensors);
    expect(summary.head).toBe(720 * 720 + 2 * 720 + 720 * 19 + 19);
  });

  it('hrnet-w18-small-v1 and hrnet-w18 match the reference construction (1.54M, 9.64M)', () => {
    for (const [name, expected] of [
      ['hrnet-w18-small-v1', 1_540_579],
      ['hrnet-w18', 9_640_849],
    ] as const) {
      const { summary } = trainable(name, 19);
      expect({ name, n: summary.trainable }).toEqual({ name, n: expected });
      expect(summary.trainable).toBe(referenceCounts(HRNET_VARIANTS[name], 19, false).parameters);
    }
  });

  it('formats a summary table', () => {
    const model = withZeroInitializers(() => buildHRNetSegmenter('hrnet-w18-small', tiny));
    const s = summarizeHRNet(model);
    expect(s.backbone + s.head).toBe(s.trainable);
    expect(s.total).toBe(s.trainable + s.bnStatistics);
    const text = formatHRNetSummary(s, 'hrnet-w18-small');
    for (const prefix of ['conv1', 'layer1', 'transition1', 'stage2', 'stage3', 'stage4', 'last_layer', 'trainable']) expect(text).toContain(prefix);
    model.dispose();
  });
});

describe('layer names', () => {
  it('follow the PyTorch module paths, and map one-to-one onto state-dict keys', () => {
    const model = withZeroInitializers(() => buildHRNetSegmenter('hrnet-w18-small', tiny)); // names only
    const keys = model.layers.flatMap((l) => l.weights.map((w) => toPyTorchName(`${l.name}/${w.originalName.split('/').pop()}`)));
    expect(new Set(keys).size).toBe(keys.length);
    const expected = [
      'conv1.weight', 'bn1.weight', 'bn2.running_var',
      'layer1.0.conv3.weight', 'layer1.0.bn3.bias', 'layer1.0.downsample.0.weight', 'layer1.0.downsample.1.running_mean', 'layer1.1.conv1.weight',
      'transition1.0.0.weight', 'transition1.0.1.weight', 'transition1.1.0.0.weight', 'transition1.1.0.1.bias',
      'transition2.2.0.0.weight', 'transition3.3.0.1.running_var',
      'stage2.0.branches.0.0.conv1.weight', 'stage2.0.branches.1.1.bn2.weight',
      'stage2.0.fuse_layers.0.1.0.weight', 'stage2.0.fuse_layers.0.1.1.weight',
      'stage2.0.fuse_layers.1.0.0.0.weight', 'stage2.0.fuse_layers.1.0.0.1.running_mean',
      'stage3.2.fuse_layers.2.0.0.1.weight', 'stage3.2.fuse_layers.2.0.1.0.weight',
      'stage4.1.fuse_layers.0.3.0.weight', 'stage4.1.fuse_layers.3.0.2.1.bias',
      'last_layer.0.weight', 'last_layer.1.running_var', 'last_layer.3.weight', 'last_layer.3.bias',
    ];
    expect(expected.filter((k) => !keys.includes(k))).toEqual([]);
    // No module the reference lacks: stage 4 of small-v2 has modules 0 and 1 only; no transition for unchanged branches.
    expect(keys.some((k) => k.startsWith('stage4.2.') || k.startsWith('transition2.0.') || k.startsWith('transition2.1.'))).toBe(false);
    model.dispose();
  });
});

// Width 0.125 (branches 8, 8, 8, 16): on the cpu backend a backward pass costs about in proportion
// to the number of weights, and none of these checks depends on width.
const small = { widthMultiplier: 0.125, numClasses: 5 } as const;

describe('training behaviour (cpu)', () => {
  const labels = (n: number, size: number, classes: number) =>
    tf.tidy(() => tf.oneHot(tf.cast(tf.mul(tf.add(seededTensor([n, size, size], 9), 1), classes / 2), 'int32') as tf.Tensor3D, classes));

  it('gradients reach every trainable weight', () => {
    // 64×64, so that the stride-32 branch is 2×2: batch norm of a single 1×1 map would output zeros.
    const model = buildHRNetSegmenter('hrnet-w18-small', small);
    const x = seededTensor([1, 64, 64, 3], 4);
    const y = labels(1, 64, 5);
    expect(unreachedWeights(model, () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar)).toEqual([]);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('batch norm uses batch statistics and updates its moving statistics in training, not in inference', () => {
    const model = buildHRNetSegmenter('hrnet-w18-small', small);
    const x = seededTensor([2, 32, 32, 3], 5);
    const bn = model.getLayer('conv1.bn');
    const stat = (suffix: string) => bn.weights.find((w) => w.originalName.endsWith(suffix))!;
    // The conv before the BN behaves identically in both modes: its output gives the batch statistics.
    const conv1 = tfl.model({ inputs: model.inputs, outputs: model.getLayer('conv1').output as tfl.SymbolicTensor });
    const { mean, variance } = tf.tidy(() => tf.moments(conv1.predict(x) as tf.Tensor, [0, 1, 2]));

    const inference1 = model.predict(x) as tf.Tensor;
    expect(maxAbsDiff(stat('moving_mean').read(), tf.zerosLike(mean))).toBe(0);
    const inference2 = model.predict(x) as tf.Tensor;
    expect(maxAbsDiff(inference1, inference2)).toBe(0);

    const training = tf.tidy(() => model.apply(x, { training: true }) as tf.Tensor);
    expect(maxAbsDiff(training, inference1)).toBeGreaterThan(1e-3);
    // Keras momentum 0.9 (PyTorch 0.1): moving = 0.9·moving + 0.1·batch, from mean 0 and variance 1.
    const expectedMean = tf.mul(mean, 0.1);
    const expectedVar = tf.add(tf.mul(variance, 0.1), 0.9);
    expect(maxAbsDiff(stat('moving_mean').read(), expectedMean)).toBeLessThan(1e-5);
    expect(maxAbsDiff(stat('moving_variance').read(), expectedVar)).toBeLessThan(1e-3);
    const inference3 = model.predict(x) as tf.Tensor;
    expect(maxAbsDiff(inference3, inference1)).toBeGreaterThan(0);
    tf.dispose([x, mean, variance, inference1, inference2, inference3, training, expectedMean, expectedVar]);
    // conv1 is a view sharing the model's layers: disposing the model frees them.
    model.dispose();
  });

  it('leaks no tensors: inference, training forward, gradient step', () => {
    const model = buildHRNetSegmenter('hrnet-w18-small-v1', small);
    const x = seededTensor([1, 32, 32, 3], 6);
    const y = labels(1, 32, 5);
    const vars = trainableVariables(model);
    expectNoLeak(() => model.predict(x) as tf.Tensor, { returns: 1, repeats: 2 });
    expectNoLeak(() => tf.tidy(() => model.apply(x, { training: true }) as tf.Tensor), { returns: 1, repeats: 2 });
    expectNoLeak(
      () => {
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
        tf.dispose(grads);
        return value;
      },
      { returns: 1, repeats: 2 },
    );
    tf.dispose([x, y]);
    model.dispose();
  });
});

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { installGradientCompleteness } from '@gpl/core';
import { expectNoLeak, maxAbsDiff, seededTensor, sgdStepTensorCounts, unreachedWeights, withZeroInitializers } from '@gpl/core/testing';
import { defaultResNetConfig, resolveResNetConfig, type OutputStride } from './config';
import {
  RESNET_NAMES,
  RESNET_VARIANTS,
  blockDilations,
  buildResNetModel,
  createResNet,
  formatResNetSummary,
  summarizeResNet,
  type ResNetName,
} from './resnet';
import { toPyTorchName } from './weights';

beforeAll(async () => {
  await tf.setBackend('cpu');
  installGradientCompleteness();
});

const KEYS = ['c1', 'c2', 'c3', 'c4', 'c5'] as const;
/** Strides of c1…c5 per output stride: the dilated stages keep the resolution they start at. */
const STRIDES: Record<OutputStride, number[]> = { 32: [2, 4, 8, 16, 32], 16: [2, 4, 8, 16, 16], 8: [2, 4, 8, 8, 8] };

/** Kernel stride and dilation of a conv layer, as [stride, dilation]. */
function geometry(model: tfl.LayersModel, name: string): [number, number] {
  const cfg = model.getLayer(name).getConfig() as { strides: number | number[]; dilationRate: number | number[] };
  const first = (v: number | number[]) => (Array.isArray(v) ? v[0] : v);
  return [first(cfg.strides), first(cfg.dilationRate)];
}

describe('registry and config', () => {
  it('describes the variants as data: block kind and blocks per stage', () => {
    expect(RESNET_NAMES).toEqual(['resnet18', 'resnet34', 'resnet50', 'resnet101']);
    expect(RESNET_VARIANTS.resnet18).toEqual({ block: 'basic', depths: [2, 2, 2, 2] });
    expect(RESNET_VARIANTS.resnet50).toEqual({ block: 'bottleneck', depths: [3, 4, 6, 3] });
    expect(RESNET_VARIANTS.resnet101).toEqual({ block: 'bottleneck', depths: [3, 4, 23, 3] });
    expect(Object.isFrozen(defaultResNetConfig)).toBe(true);
    expect(defaultResNetConfig.widthMultiplier).toBe(0.25);
  });

  it('names the encoder by variant, stem and output stride', () => {
    expect(createResNet('resnet50', { outputStride: 8, deepStem: true }).name).toBe('resnet50-v1c-d8');
    expect(createResNet('resnet18').name).toBe('resnet18-d32');
  });

  it('fails loudly on unknown names and bad options, naming what is accepted', () => {
    expect(() => createResNet('resnet152' as ResNetName)).toThrow(/unknown ResNet 'resnet152'; known: 'resnet18', 'resnet34', 'resnet50', 'resnet101'/);
    expect(() => createResNet(18 as unknown as ResNetName)).toThrow(TypeError);
    expect(() => resolveResNetConfig({ outputStride: 4 as OutputStride })).toThrow(/outputStride must be 8, 16 or 32, received 4/);
    expect(() => resolveResNetConfig({ widthMultiplier: 0 })).toThrow(RangeError);
    expect(() => resolveResNetConfig({ bnMomentum: 1 })).toThrow(/bnMomentum/);
    expect(() => resolveResNetConfig(null as unknown as object)).toThrow(TypeError);
  });
});

describe('feature maps', () => {
  it.each([
    ['resnet18', 8],
    ['resnet18', 16],
    ['resnet18', 32],
    ['resnet50', 8],
    ['resnet50', 16],
    ['resnet50', 32],
  ] as const)('%s at output stride %i: c1…c5 have the reported channels and real strides (1×32×32 input)', (name, os) => {
    const backbone = createResNet(name, { outputStride: os });
    const specs = backbone.featureSpecs();
    expect(KEYS.map((k) => specs[k]!.stride)).toEqual(STRIDES[os]);
    const expansion = name === 'resnet50' ? 4 : 1;
    // Width 0.25: stem 16, planes 16, 32, 64, 128.
    expect(KEYS.map((k) => specs[k]!.channels)).toEqual([16, 16 * expansion, 32 * expansion, 64 * expansion, 128 * expansion]);
    expect(backbone.sizeDivisor).toBe(os);
    const model = buildResNetModel(backbone);
    const x = seededTensor([1, 32, 32, 3], 1);
    const maps = model.predict(x) as tf.Tensor[];
    expect(maps.map((t) => t.shape)).toEqual(KEYS.map((k) => [1, 32 / specs[k]!.stride, 32 / specs[k]!.stride, specs[k]!.channels]));
    tf.dispose([x, ...maps]);
    model.dispose();
  });

  it('handles non-square batches (2×64×128) and, with a fixed input size, infers every shape when built', () => {
    const backbone = createResNet('resnet18', { outputStride: 8 });
    const model = buildResNetModel(backbone);
    const x = seededTensor([2, 64, 128, 3], 2);
    const maps = model.predict(x) as tf.Tensor[];
    expect(maps.map((t) => t.shape)).toEqual([[2, 32, 64, 16], [2, 16, 32, 16], [2, 8, 16, 32], [2, 8, 16, 64], [2, 8, 16, 128]]);
    tf.dispose([x, ...maps]);
    model.dispose();
    for (const name of ['resnet34', 'resnet101'] as const) {
      // Shapes only: built, not run.
      const fixed = withZeroInitializers(() => buildResNetModel(createResNet(name, { outputStride: 16, deepStem: true }), { inputSize: [64, 96] }));
      expect(fixed.outputs.map((o) => o.shape)).toEqual([
        [null, 32, 48, 16],
        [null, 16, 24, name === 'resnet34' ? 16 : 64],
        [null, 8, 12, name === 'resnet34' ? 32 : 128],
        [null, 4, 6, name === 'resnet34' ? 64 : 256],
        [null, 4, 6, name === 'resnet34' ? 128 : 512],
      ]);
      fixed.dispose();
    }
  });

  it('refuses input sizes that are not multiples of the output stride, naming the nearest valid size', () => {
    expect(() => buildResNetModel(createResNet('resnet18', { outputStride: 32 }), { inputSize: [60, 64] })).toThrow(
      /\[@gpl\/resnet\] input height 60 is not a positive multiple of 32; use 64\./,
    );
    const model = buildResNetModel(createResNet('resnet18', { outputStride: 16 }));
    const x = tf.zeros([1, 40, 64, 3]);
    expect(() => model.predict(x)).toThrow(/input height 40 is not a positive multiple of 16; use 48/);
    x.dispose();
    model.dispose();
  });
});

describe('strides and dilations', () => {
  it('output stride 8 (d8): strides (1, 2, 1, 1), dilations (1, 1, 2, 4), first dilated block contracted', () => {
    const model = withZeroInitializers(() => buildResNetModel(createResNet('resnet50', { outputStride: 8, contractDilation: true }), { inputSize: [64, 64] }));
    expect(geometry(model, 'layer1.0.conv2')).toEqual([1, 1]);
    expect(geometry(model, 'layer2.0.conv2')).toEqual([2, 1]);
    expect(geometry(model, 'layer2.0.downsample.0')).toEqual([2, 1]);
    expect(geometry(model, 'layer3.0.conv2')).toEqual([1, 1]);
    expect(geometry(model, 'layer3.5.conv2')).toEqual([1, 2]);
    expect(geometry(model, 'layer4.0.conv2')).toEqual([1, 2]);
    expect(geometry(model, 'layer4.2.conv2')).toEqual([1, 4]);
    // Dilated stages still project the shortcut (width changes), without a stride.
    expect(geometry(model, 'layer4.0.downsample.0')).toEqual([1, 1]);
    model.dispose();
  });

  it('output stride 16: only stage 4 dilated; without contraction every block of a stage has its dilation', () => {
    const os16 = withZeroInitializers(() => buildResNetModel(createResNet('resnet50', { outputStride: 16 }), { inputSize: [64, 64] }));
    expect(geometry(os16, 'layer3.0.conv2')).toEqual([2, 1]);
    expect(geometry(os16, 'layer4.0.conv2')).toEqual([1, 1]);
    expect(geometry(os16, 'layer4.1.conv2')).toEqual([1, 2]);
    os16.dispose();
    const plain = withZeroInitializers(() => buildResNetModel(createResNet('resnet50', { outputStride: 8, contractDilation: false }), { inputSize: [64, 64] }));
    expect(geometry(plain, 'layer3.0.conv2')).toEqual([1, 2]);
    expect(geometry(plain, 'layer4.0.conv2')).toEqual([1, 4]);
    plain.dispose();
    expect(blockDilations(3, 4, true)).toEqual([2, 4, 4]);
    expect(blockDilations(2, 1, true)).toEqual([1, 1]);
  });

  it('BasicBlock dilates its first conv only (MMSegmentation), stride on the 3×3 conv', () => {
    const model = withZeroInitializers(() => buildResNetModel(createResNet('resnet18', { outputStride: 8 }), { inputSize: [64, 64] }));
    expect(geometry(model, 'layer4.1.conv1')).toEqual([1, 4]);
    expect(geometry(model, 'layer4.1.conv2')).toEqual([1, 1]);
    expect(geometry(model, 'layer2.0.conv1')).toEqual([2, 1]);
    expect(geometry(model, 'conv1')).toEqual([2, 1]);
    model.dispose();
  });
});

// Counts and names depend on the structure only: these models are built with zero kernels, not run.
describe('parameter counts at full width', () => {
  // torchvision `sum(p.numel() for p in model.parameters())` minus the ImageNet classifier
  // `fc` (512·1000 + 1000 = 513,000 for 18/34; 2048·1000 + 1000 = 2,049,000 for 50/101):
  // resnet18 11,689,512; resnet34 21,797,672; resnet50 25,557,032; resnet101 44,549,160.
  const TORCHVISION: Record<ResNetName, number> = {
    resnet18: 11_689_512 - 513_000,
    resnet34: 21_797_672 - 513_000,
    resnet50: 25_557_032 - 2_049_000,
    resnet101: 44_549_160 - 2_049_000,
  };

  it.each(RESNET_NAMES.map((n) => [n]))('%s equals torchvision without fc; output stride does not change it', (name) => {
    const model = withZeroInitializers(() => buildResNetModel(createResNet(name, { widthMultiplier: 1, outputStride: name === 'resnet18' ? 8 : 32 })));
    const s = summarizeResNet(model);
    expect(s.trainable).toBe(TORCHVISION[name]);
    expect(s.backbone).toBe(s.trainable);
    expect(s.head).toBe(0);
    // Two BatchNorm statistics per BN channel; BN channels = half the BN parameters.
    const bnParams = model.layers.filter((l) => l.name.endsWith('.bn')).reduce((n, l) => n + l.trainableWeights.reduce((k, w) => k + w.shape[0]!, 0), 0);
    expect(s.bnStatistics).toBe(bnParams);
    model.dispose();
  });

  it('the ResNetV1c deep stem (3→32 s2, 32→32, 32→64) adds 19,232 parameters; width 0.25 shrinks the network', () => {
    const deepModel = withZeroInitializers(() => buildResNetModel(createResNet('resnet50', { widthMultiplier: 1, deepStem: true })));
    const deep = summarizeResNet(deepModel);
    deepModel.dispose();
    // 27·32 + 9·32·32 + 9·32·64 conv weights + 2·(32 + 32 + 64) BN, minus 7·7·3·64 + 2·64 for the plain stem.
    expect(27 * 32 + 9 * 32 * 32 + 9 * 32 * 64 + 2 * 128 - (49 * 3 * 64 + 128)).toBe(19_232);
    expect(deep.trainable).toBe(TORCHVISION.resnet50 + 19_232);
    expect(deep.byPrefix.stem).toBe(28_768);
    const quarterModel = withZeroInitializers(() => buildResNetModel(createResNet('resnet50', { widthMultiplier: 0.25 })));
    const quarter = summarizeResNet(quarterModel);
    quarterModel.dispose();
    expect(quarter.trainable).toBeLessThan(TORCHVISION.resnet50 / 12);
    const text = formatResNetSummary(deep, 'resnet50-v1c');
    expect(text).toContain('23,527,264');
    expect(text).toMatch(/layer3\s+7,098,368/);
  });
});

describe('layer names (PyTorch module paths)', () => {
  /** torchvision's state-dict keys without fc and num_batches_tracked, from its module structure. */
  function torchvisionKeys(name: ResNetName): string[] {
    const { block, depths } = RESNET_VARIANTS[name];
    const bn = (p: string) => ['weight', 'bias', 'running_mean', 'running_var'].map((w) => `${p}.${w}`);
    const keys = ['conv1.weight', ...bn('bn1')];
    const convs = block === 'basic' ? 2 : 3;
    depths.forEach((blocks, s) => {
      for (let b = 0; b < blocks; b++) {
        const p = `layer${s + 1}.${b}`;
        for (let k = 1; k <= convs; k++) keys.push(`${p}.conv${k}.weight`, ...bn(`${p}.bn${k}`));
        if (b === 0 && (s > 0 || block === 'bottleneck')) keys.push(`${p}.downsample.0.weight`, ...bn(`${p}.downsample.1`));
      }
    });
    return keys;
  }

  it.each([['resnet18', 100], ['resnet50', 265]] as const)('%s: every weight maps to a torchvision key, one to one (%i keys)', (name, count) => {
    const model = withZeroInitializers(() => buildResNetModel(createResNet(name, { widthMultiplier: 0.25 }), { inputSize: [32, 32] }));
    const mapped = model.layers.flatMap((l) => l.weights.map((w) => toPyTorchName(`${l.name}/${w.originalName.split('/').pop()}`)));
    expect(mapped.length).toBe(count);
    expect([...mapped].sort()).toEqual(torchvisionKeys(name).sort());
    model.dispose();
  });

  it('deep-stem names map to MMSegmentation ResNetV1c keys', () => {
    const model = withZeroInitializers(() => buildResNetModel(createResNet('resnet18', { deepStem: true }), { inputSize: [32, 32] }));
    const names = model.layers.flatMap((l) => l.weights.map((w) => `${l.name}/${w.originalName.split('/').pop()}`));
    const stem = names.filter((n) => n.startsWith('stem.')).map(toPyTorchName);
    expect(stem).toEqual([
      'stem.0.weight', 'stem.1.weight', 'stem.1.bias', 'stem.1.running_mean', 'stem.1.running_var',
      'stem.3.weight', 'stem.4.weight', 'stem.4.bias', 'stem.4.running_mean', 'stem.4.running_var',
      'stem.6.weight', 'stem.7.weight', 'stem.7.bias', 'stem.7.running_mean', 'stem.7.running_var',
    ]);
    expect(toPyTorchName('layer2.0.downsample.0.bn/moving_variance')).toBe('layer2.0.downsample.1.running_var');
    expect(toPyTorchName('layer3.5.conv2.bn/beta')).toBe('layer3.5.bn2.bias');
    expect(() => toPyTorchName('layer1.0.conv1')).toThrow(/expected 'layer\/weight'/);
    model.dispose();
  });
});

describe('batch norm', () => {
  // One model for both tests; the first reads the initial statistics, so it runs first.
  let model: tfl.LayersModel;
  beforeAll(() => {
    model = buildResNetModel(createResNet('resnet18', { outputStride: 32 }), { inputSize: [32, 32] });
  });
  afterAll(() => model.dispose());

  it('training mode normalises with batch statistics and updates the moving averages (Keras momentum 0.9); inference mode does neither', () => {
    const conv1 = tfl.model({ inputs: model.inputs, outputs: model.getLayer('conv1').output as tfl.SymbolicTensor });
    const bn = model.getLayer('conv1.bn');
    const stats = () => bn.getWeights().slice(2).map((w) => w.dataSync().slice()); // [moving_mean, moving_variance]
    const x = seededTensor([2, 32, 32, 3], 3);

    const [mean0, var0] = stats();
    expect(Array.from(mean0).every((v) => v === 0) && Array.from(var0).every((v) => v === 1)).toBe(true);
    const evalA = model.predict(x) as tf.Tensor[];
    const evalB = model.apply(x, { training: false }) as tf.Tensor[];
    expect(maxAbsDiff(evalA[4], evalB[4])).toBe(0);
    expect(stats()[0]).toEqual(mean0); // inference leaves the statistics alone

    const train = model.apply(x, { training: true }) as tf.Tensor[];
    expect(maxAbsDiff(train[4], evalA[4])).toBeGreaterThan(1e-3);
    const [mean1, var1] = stats();
    const { m, v } = tf.tidy(() => {
      const y = conv1.predict(x) as tf.Tensor4D;
      const moments = tf.moments(y, [0, 1, 2]);
      return { m: moments.mean.dataSync().slice(), v: moments.variance.dataSync().slice() };
    });
    // moving = 0.9·moving + 0.1·batch (variance biased, as tfjs-layers computes it)
    m.forEach((bm, c) => expect(mean1[c]).toBeCloseTo(0.1 * bm, 5));
    v.forEach((bv, c) => expect(var1[c]).toBeCloseTo(0.9 + 0.1 * bv, 4));
    tf.dispose([x, ...evalA, ...evalB, ...train]);
  });

  it('in inference mode an image gives the same features alone and in a batch; in training mode it does not', () => {
    const pair = seededTensor([2, 32, 32, 3], 4);
    const first = tf.slice(pair, [0, 0, 0, 0], [1, -1, -1, -1]);
    const run = (x: tf.Tensor, training: boolean) => tf.tidy(() => tf.slice((model.apply(x, { training }) as tf.Tensor[])[4], [0, 0, 0, 0], [1, -1, -1, -1]));
    const [alone, inBatch] = [run(first, false), run(pair, false)];
    expect(maxAbsDiff(alone, inBatch)).toBeLessThan(1e-5);
    const [aloneT, inBatchT] = [run(first, true), run(pair, true)];
    expect(maxAbsDiff(aloneT, inBatchT)).toBeGreaterThan(1e-3);
    tf.dispose([pair, first, alone, inBatch, aloneT, inBatchT]);
  });
});

// Width 0.125 (planes 8…64): on the cpu backend a backward pass costs about in proportion to the
// number of weights (it flips and transposes every kernel), and neither check depends on width.
describe('training', () => {
  /** The weights the gradient of a random projection of c5 does not reach (none, if the model trains). */
  function unreachedByC5(model: tfl.LayersModel, x: tf.Tensor): string[] {
    const c5 = tf.tidy(() => (model.predict(x) as tf.Tensor[])[4]);
    const r = seededTensor(c5.shape, 6);
    try {
      return unreachedWeights(model, () => tf.sum(tf.mul((model.apply(x, { training: true }) as tf.Tensor[])[4], r)) as tf.Scalar);
    } finally {
      tf.dispose([c5, r]);
    }
  }

  it('resnet50 at output stride 16 (deep stem): the gradient reaches every trainable weight, dilated convs included', () => {
    const model = buildResNetModel(createResNet('resnet50', { outputStride: 16, deepStem: true, widthMultiplier: 0.125 }), { inputSize: [32, 32] });
    const x = seededTensor([2, 32, 32, 3], 5);
    expect(unreachedByC5(model, x)).toEqual([]);
    x.dispose();
    model.dispose();
  });

  describe('resnet18 at output stride 8, any input size', () => {
    let model: tfl.LayersModel;
    let x: tf.Tensor;
    beforeAll(() => {
      model = buildResNetModel(createResNet('resnet18', { outputStride: 8, widthMultiplier: 0.125 }));
      x = seededTensor([2, 32, 32, 3], 7);
    });
    afterAll(() => {
      x.dispose();
      model.dispose();
    });

    it('the gradient reaches every trainable weight, dilated convs included', () => {
      expect(unreachedByC5(model, x)).toEqual([]);
    });

    it('frees every intermediate: inference returns only its five maps; a training step keeps the tensor count flat', () => {
      expectNoLeak(() => model.predict(x) as tf.Tensor[], { returns: 5, repeats: 2 });
      const counts = sgdStepTensorCounts(model, () => tf.mean(tf.square((model.apply(x, { training: true }) as tf.Tensor[])[4])) as tf.Scalar);
      expect(new Set(counts).size).toBe(1);
    });
  });
});

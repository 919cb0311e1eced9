/**
 * The onnxruntime engine against the tfjs engine (every supported network) and both against
 * PyTorch float64 (fixtures/torch-reference.json, written by tools/torch/gpl_reference.py).
 *
 * Tolerances (float32 engines): loss within 2e-5 relative; gradient max |difference| within
 * 1e-4 of the gradient's largest entry (measured: ≤ 1.1e-5 on vgg16, ≤ 1e-6 on small networks).
 */
import { initBackend } from '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { expectNoLeak, maxAbsDiff, seededTensor } from '@gpl/core/testing';
import { GenericPerceptualLoss, type GenericPerceptualLossConfig } from './loss';
import { formatEngineReport, loadOnnxRuntime, setPackageLoader, type OnnxRuntime } from './onnx-engine';
import { buildLossGraph } from './onnx-graph';
import { encodeOnnxModel } from './onnx-proto';
import reference from './fixtures/torch-reference.json';

// Where onnxruntime-node is absent (an install without optional dependencies), the tests that
// need it are skipped and the fallback tests still run.
const HAS_ORT = 'runtime' in loadOnnxRuntime();
const describeOrt = HAS_ORT ? describe : describe.skip;
const itOrt = HAS_ORT ? it : it.skip;

const LOSS_TOLERANCE = 2e-5;
const GRAD_TOLERANCE = 1e-4;

type Config = Partial<GenericPerceptualLossConfig> & { inChannels: number };

beforeAll(async () => {
  expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
});

/** Value and gradient of `gpl` at (pred, target, mask), as plain numbers. */
function valueAndGrad(gpl: GenericPerceptualLoss, pred: tf.Tensor4D, target: tf.Tensor4D, mask?: tf.Tensor4D): { loss: number; grad: tf.Tensor } {
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, target, mask))(pred);
  return { loss: value.dataSync()[0], grad };
}

function inputs(shape: [number, number, number, number], mask: 'none' | 'pixel' | 'channel') {
  const pred = tf.sigmoid(seededTensor(shape, 1)) as tf.Tensor4D;
  const target = tf.sigmoid(seededTensor(shape, 2)) as tf.Tensor4D;
  const maskShape = [shape[0], shape[1], shape[2], mask === 'channel' ? shape[3] : 1];
  const m = mask === 'none' ? undefined : (tf.cast(tf.greater(seededTensor(maskShape, 3), -0.3), 'float32') as tf.Tensor4D);
  return { pred, target, mask: m };
}

/** The tfjs path of an onnxruntime-engine instance (the code engine 'tfjs' runs), same kernels. */
function tfjsPathOf(gpl: GenericPerceptualLoss): GenericPerceptualLoss {
  const inner = gpl as unknown as { computeTfjs: GenericPerceptualLoss['compute'] };
  return { compute: (p: tf.Tensor4D, t: tf.Tensor4D, m?: tf.Tensor4D) => inner.computeTfjs(p, t, m) } as GenericPerceptualLoss;
}

/**
 * Builds the network once on onnxruntime and compares its loss and gradient with the same
 * instance's tfjs path (the code engine 'tfjs' runs), so the kernels are drawn only once.
 */
function expectEnginesAgree(config: Config, shape: [number, number, number, number], mask: 'none' | 'pixel' | 'channel' = 'none'): void {
  const ort = new GenericPerceptualLoss({ ...config, engine: 'onnxruntime', threads: 2 });
  const tfjs = tfjsPathOf(ort);
  try {
    expect(ort.engineReport().engine).toBe('onnxruntime');
    tf.tidy(() => {
      const { pred, target, mask: m } = inputs(shape, mask);
      const a = valueAndGrad(tfjs, pred, target, m);
      const b = valueAndGrad(ort, pred, target, m);
      const scale = tf.max(tf.abs(a.grad)).dataSync()[0];
      expect(a.loss).toBeGreaterThan(0);
      expect(scale).toBeGreaterThan(0);
      expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(LOSS_TOLERANCE * a.loss);
      expect(maxAbsDiff(a.grad, b.grad)).toBeLessThanOrEqual(GRAD_TOLERANCE * scale);
    });
  } finally {
    ort.dispose();
  }
}

describeOrt('the ONNX graph', () => {
  it('gives the same gradient with ConvTranspose or flipped-kernel Conv for stride-1 input gradients', () => {
    const runtime = (loadOnnxRuntime() as { runtime: OnnxRuntime }).runtime;
    const gpl = new GenericPerceptualLoss({ inChannels: 2, blocks: [1, 2], channels: [4, 6], kernelSize: 5, engine: 'onnxruntime', levels: 'all' });
    const weights = (gpl as unknown as { onnx: { onnxWeights(): never } }).onnx.onnxWeights();
    const shape: [number, number, number, number] = [1, 9, 10, 2];
    const size = 9 * 10 * 2;
    const pred = new runtime.Tensor('float32', Float32Array.from({ length: size }, (_, i) => Math.sin(i)), shape);
    const target = new runtime.Tensor('float32', Float32Array.from({ length: size }, (_, i) => Math.cos(i)), shape);
    const grads = [false, true].map((flippedConv) => {
      const model = buildLossGraph(gpl.spec, weights, { shape, maskChannels: null, tapWeights: [1, 1], withGradient: true, flippedConv });
      expect(model.graph.node.filter((n) => n.opType === 'ConvTranspose').length).toBe(flippedConv ? 0 : 3);
      const bytes = encodeOnnxModel(runtime.protobuf, model);
      const session = new runtime.InferenceSession();
      session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, { logSeverityLevel: 3 });
      const out = session.run({ pred, target }, { loss: null, grad: null }, {});
      session.dispose();
      return out.grad.data as Float32Array;
    });
    const scale = Math.max(...grads[0].map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    expect(Math.max(...grads[0].map((g, i) => Math.abs(g - grads[1][i])))).toBeLessThan(1e-5 * scale);
    gpl.dispose();
  });

  it('gives the same gradient with ReLU masks as Where or as a clipped 1×1 Conv, also where ReLU outputs are 0 and where maxima tie', () => {
    const runtime = (loadOnnxRuntime() as { runtime: OnnxRuntime }).runtime;
    // 16 channels (onnxruntime's blocked layout on AVX-512) and 6 (plain layout); a pooled ReLU and a tapped one.
    const gpl = new GenericPerceptualLoss({ inChannels: 3, blocks: [2, 1], channels: [16, 6], engine: 'onnxruntime', levels: 'all', seed: 4 });
    const weights = (gpl as unknown as { onnx: { onnxWeights(): never } }).onnx.onnxWeights();
    const shape: [number, number, number, number] = [2, 12, 10, 3];
    const size = 2 * 12 * 10 * 3;
    // Piecewise-constant inputs (2×2 patches) so that pooling windows tie and many ReLU outputs are exactly 0.
    const at = (i: number, f: (v: number) => number) => {
      const x = Math.floor(i / 3) % 10, y = Math.floor(i / 30) % 12;
      return f((Math.floor(x / 2) * 7 + Math.floor(y / 2) * 3 + (i % 3) + Math.floor(i / 360) * 11) * 0.61);
    };
    const pred = new runtime.Tensor('float32', Float32Array.from({ length: size }, (_, i) => at(i, Math.sin)), shape);
    const target = new runtime.Tensor('float32', Float32Array.from({ length: size }, (_, i) => at(i, Math.cos)), shape);
    const results = [false, true].map((convMasks) => {
      const model = buildLossGraph(gpl.spec, weights, { shape, maskChannels: null, tapWeights: [1, 1], withGradient: true, flippedConv: true, convMasks });
      const wheres = model.graph.node.filter((n) => n.opType === 'Where').length;
      if (convMasks) expect(wheres).toBe(0);
      else expect(wheres).toBeGreaterThan(0);
      const bytes = encodeOnnxModel(runtime.protobuf, model);
      const session = new runtime.InferenceSession();
      session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, { logSeverityLevel: 3, graphOptimizationLevel: 'all' });
      const out = session.run({ pred, target }, { loss: null, grad: null }, {});
      session.dispose();
      return { loss: (out.loss.data as Float32Array)[0], grad: out.grad.data as Float32Array };
    });
    expect(results[1].loss).toBe(results[0].loss);
    const scale = Math.max(...results[0].grad.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    expect(Math.max(...results[0].grad.map((g, i) => Math.abs(g - results[1].grad[i])))).toBeLessThan(1e-6 * scale);
    gpl.dispose();
  });
});

/** A small VGG-style RGB classifier, as an ImageNet VGG converted with tensorflowjs_converter would be. */
function rgbClassifier(): tfl.Sequential {
  const model = tfl.sequential({ name: 'tiny_rgb_vgg' });
  model.add(tfl.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', biasInitializer: 'randomNormal' }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'valid', strides: 2 }));
  model.add(tfl.layers.reLU());
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 4 }));
  return model;
}

describeOrt('onnxruntime engine = tfjs engine', () => {
  it.each(['vgg11', 'vgg13', 'vgg16', 'vgg19'] as const)('preset %s', (preset) => {
    expectEnginesAgree({ inChannels: 3, preset, seed: 1 }, [1, 16, 16, 3]);
  });

  it.each([
    ['[1,1,1,1,1], weighted levels, pixel mask', { inChannels: 4, blocks: [1, 1, 1, 1, 1] as number[], levels: 'weighted' as const }, [2, 16, 16, 4], 'pixel'],
    ['[3,3,4,4,4], all levels', { inChannels: 2, blocks: [3, 3, 4, 4, 4] as number[], levels: 'all' as const }, [1, 16, 16, 2], 'none'],
    ['custom channels, kernel 1', { inChannels: 3, blocks: [1, 2], channels: [6, 8], kernelSize: 1 }, [2, 9, 11, 3], 'none'],
    ['custom channels, kernel 5, channel mask', { inChannels: 3, blocks: [1, 2], channels: [6, 8], kernelSize: 5 }, [2, 9, 11, 3], 'channel'],
    ['custom channels, kernel 7', { inChannels: 3, blocks: [2, 1], channels: [5, 7], kernelSize: 7 }, [1, 13, 10, 3], 'none'],
    ['xavier init', { inChannels: 2, blocks: [1, 1], channels: [8, 8], init: { kind: 'xavier' as const } }, [1, 12, 12, 2], 'none'],
    ['normal(0.1) init', { inChannels: 2, blocks: [1, 1], channels: [8, 8], init: { kind: 'normal' as const, std: 0.1 } }, [1, 12, 12, 2], 'none'],
    ['uniform(±0.05) init', { inChannels: 2, blocks: [1, 1], channels: [8, 8], init: { kind: 'uniform' as const, limit: 0.05 } }, [1, 12, 12, 2], 'none'],
    ['explicit levels with the deepest off (pruned graph)', { inChannels: 2, blocks: [1, 1, 1], channels: [4, 6, 8], levels: [1, 0.5, 0] }, [1, 16, 16, 2], 'pixel'],
    ['resnet18 (strided convs, residual adds, padded overlapping max pool), odd size', { inChannels: 2, preset: 'resnet18' as const, levels: 'all' as const }, [1, 35, 41, 2], 'none'],
    ['alexnet (11×11 stride 4, overlapping pools)', { inChannels: 2, preset: 'alexnet' as const, levels: 'all' as const }, [1, 67, 67, 2], 'pixel'],
    ['googlenet (inception concat, same max pools), odd size', { inChannels: 2, preset: 'googlenet' as const, levels: 'all' as const }, [1, 37, 33, 2], 'none'],
    ['mobilenetv2 (depthwise stride 2, relu6, linear bottlenecks)', { inChannels: 2, preset: 'mobilenetv2' as const, levels: 'all' as const }, [1, 32, 32, 2], 'none'],
  ])('%s', (_name, config, shape, mask) => {
    expectEnginesAgree(config as Config, shape as [number, number, number, number], mask as 'none' | 'pixel' | 'channel');
  });

  it.each([
    ["reduction 'sum', [1,1], final layer", { inChannels: 3, blocks: [1, 1] as number[], channels: [6, 8], reduction: 'sum' as const }, [2, 12, 10, 3], 'none'],
    ["reduction 'sum', [1,1,1], weighted levels, pixel mask", { inChannels: 2, blocks: [1, 1, 1] as number[], channels: [4, 6, 8], levels: 'weighted' as const, reduction: 'sum' as const }, [2, 16, 16, 2], 'pixel'],
    ["reduction 'sum', [2,1] kernel 5, all levels, channel mask, odd size", { inChannels: 2, blocks: [2, 1] as number[], channels: [4, 6], kernelSize: 5, levels: 'all' as const, reduction: 'sum' as const }, [1, 13, 11, 2], 'channel'],
  ])('%s', (_name, config, shape, mask) => {
    expectEnginesAgree(config as Config, shape as [number, number, number, number], mask as 'none' | 'pixel' | 'channel');
  });

  it('supplied weights with biases', () => {
    const weights = [
      { kernel: tf.mul(seededTensor([3, 3, 3, 6], 11), 0.3), bias: tf.mul(seededTensor([6], 12), 0.1) },
      { kernel: tf.mul(seededTensor([3, 3, 6, 6], 13), 0.3), bias: tf.mul(seededTensor([6], 14), 0.1) },
    ];
    expectEnginesAgree({ inChannels: 3, blocks: [1, 1], channels: [6, 6], weights, levels: 'all' }, [2, 10, 10, 3], 'pixel');
    tf.dispose(weights.flatMap((w) => [w.kernel, w.bias]));
  });

  it('max-pool windows whose maxima tie route the gradient to the first maximum on both engines', () => {
    // Piecewise-constant one-hot inputs and positive biases: the first ReLU's outputs are equal,
    // and positive, across each constant patch, so most pooling windows hold tied maxima (counted
    // below). Routing to every tied input, or masking with the wrong tensor, would change the gradient.
    // Before wasm's MaxPoolGrad was replaced (core's gradients.ts) the engines differed by 96 % of
    // the gradient's scale here; PyTorch float64 on the same case agreed with both to 1.2e-9.
    const weights = [
      { kernel: tf.mul(seededTensor([3, 3, 3, 6], 21), 0.3), bias: tf.add(tf.abs(seededTensor([6], 22)), 0.5) },
      { kernel: tf.mul(seededTensor([3, 3, 6, 8], 23), 0.3), bias: tf.mul(seededTensor([8], 24), 0.1) },
    ];
    const patches = (salt: number) =>
      tf.tidy(() => {
        const classes = tf.floor(tf.mul(tf.sigmoid(seededTensor([2, 4, 4], salt)), 2.999));
        const onehot = tf.cast(tf.oneHot(tf.cast(classes, 'int32'), 3), 'float32') as tf.Tensor4D;
        return tf.image.resizeNearestNeighbor(onehot, [16, 16]);
      });
    const pred = patches(25);
    const target = patches(26);
    const firstRelu = tf.tidy(() => tf.relu(tf.add(tf.conv2d(pred, weights[0].kernel as tf.Tensor4D, 1, 'same'), weights[0].bias)));
    const windows = tf.tidy(() => {
      const pooled = tf.maxPool(firstRelu as tf.Tensor4D, 2, 2, 'valid');
      const atMax = tf.cast(tf.equal(firstRelu, tf.image.resizeNearestNeighbor(pooled, [16, 16])), 'float32');
      return tf.sum(tf.greater(tf.mul(tf.avgPool(atMax as tf.Tensor4D, 2, 2, 'valid'), 4), 1.5)).dataSync()[0];
    });
    expect(windows).toBeGreaterThan(0.3 * 2 * 8 * 8 * 6);
    const gpl = new GenericPerceptualLoss({ inChannels: 3, blocks: [1, 1], channels: [6, 8], weights, engine: 'onnxruntime', threads: 2 });
    try {
      const a = valueAndGrad(tfjsPathOf(gpl), pred, target);
      const b = valueAndGrad(gpl, pred, target);
      const scale = tf.max(tf.abs(a.grad)).dataSync()[0];
      expect(scale).toBeGreaterThan(0);
      expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(LOSS_TOLERANCE * a.loss);
      expect(maxAbsDiff(a.grad, b.grad)).toBeLessThanOrEqual(GRAD_TOLERANCE * scale);
      tf.dispose([a.grad, b.grad]);
    } finally {
      gpl.dispose();
      tf.dispose([pred, target, firstRelu, ...weights.flatMap((w) => [w.kernel, w.bias])]);
    }
  });

  it('an imported layers model behind the 1×1 adapter (19 → 3 channels)', () => {
    const model = rgbClassifier();
    expectEnginesAgree({ inChannels: 19, layersModel: model, levels: 'all', seed: 2 }, [1, 16, 16, 19], 'pixel');
    model.dispose();
  });
});

/** The fixture's integer pattern, as tools/torch/gpl_reference.py computes it (double, then float32). */
function pattern(count: number, salt: number): number[] {
  return Array.from({ length: count }, (_, k) => ((k * 7919 + salt * 104729 + 12345) % 65521) / 65521 - 0.5);
}

interface ReferenceCase {
  name: string;
  inChannels: number;
  blocks: number[];
  channels: number[];
  kernelSize: number;
  bias: boolean;
  levels: 'final' | 'all' | 'weighted' | number[];
  mask: boolean;
  shape: [number, number, number, number];
  /** One input value per `patches`×`patches` patch instead of per element (tied max-pool maxima). */
  patches?: number;
  loss: number;
  gradient: number[];
}

/** pred (salt 1) or target (salt 2) of a fixture case, NHWC, as gpl_reference.py's image() builds it. */
function image(c: ReferenceCase, salt: number): number[] {
  const [n, h, w, ch] = c.shape;
  const p = c.patches;
  if (p === undefined) return pattern(n * h * w * ch, salt).map((v) => v + 0.5);
  const [ph, pw] = [Math.ceil(h / p), Math.ceil(w / p)];
  const values = pattern(n * ph * pw * ch, salt);
  const out: number[] = [];
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) for (let k = 0; k < ch; k++) out.push(values[((b * ph + Math.floor(y / p)) * pw + Math.floor(x / p)) * ch + k] + 0.5);
  return out;
}

describe('both engines = PyTorch float64 on supplied weights', () => {
  const cases = reference.cases as ReferenceCase[];
  it('has the fixture written by tools/torch/gpl_reference.py', () => {
    expect(reference.generator).toBe('tools/torch/gpl_reference.py');
    expect(cases.length).toBeGreaterThanOrEqual(5);
    expect(cases.some((c) => c.patches)).toBe(true);
  });

  describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    it.each((HAS_ORT ? ['tfjs', 'onnxruntime'] : ['tfjs']) as ('tfjs' | 'onnxruntime')[])('%s', (engine) => {
      const [n, h, w] = c.shape;
      let cin = c.inChannels;
      let conv = 0;
      const weights = c.blocks.flatMap((count, b) =>
        Array.from({ length: count }, () => {
          const cout = c.channels[b];
          const k = c.kernelSize;
          const scale = Math.sqrt(24 / (k * k * cin));
          const kernel = tf.tensor4d(pattern(k * k * cin * cout, 10 + conv).map((v) => v * scale), [k, k, cin, cout]);
          const bias = c.bias ? tf.tensor1d(pattern(cout, 50 + conv).map((v) => v * 0.1)) : null;
          cin = cout;
          conv++;
          return { kernel, bias };
        }),
      );
      const gpl = new GenericPerceptualLoss({ inChannels: c.inChannels, blocks: c.blocks, channels: c.channels, kernelSize: c.kernelSize, levels: c.levels, weights, engine });
      tf.dispose(weights.flatMap((x) => (x.bias ? [x.kernel, x.bias] : [x.kernel])));
      tf.tidy(() => {
        const pred = tf.tensor4d(image(c, 1), c.shape);
        const target = tf.tensor4d(image(c, 2), c.shape);
        const mask = c.mask ? tf.tensor4d(pattern(n * h * w, 3).map((v) => (v > -0.2 ? 1 : 0)), [n, h, w, 1]) : undefined;
        const { loss, grad } = valueAndGrad(gpl, pred, target, mask);
        const ref = tf.tensor4d(c.gradient, c.shape);
        expect(Math.abs(loss - c.loss)).toBeLessThanOrEqual(LOSS_TOLERANCE * c.loss);
        expect(maxAbsDiff(grad, ref)).toBeLessThanOrEqual(GRAD_TOLERANCE * tf.max(tf.abs(ref)).dataSync()[0]);
      });
      gpl.dispose();
    });
  });
});

describe('engine choice and report', () => {
  const small: Config = { inChannels: 2, blocks: [1, 1], channels: [4, 4] };
  afterEach(() => {
    setPackageLoader(null);
  });

  itOrt("'auto' takes onnxruntime when it loads, and says why tfjs was skipped", () => {
    const gpl = new GenericPerceptualLoss(small);
    const report = gpl.engineReport();
    expect(report).toMatchObject({ engine: 'onnxruntime', requested: 'auto', version: require('onnxruntime-node/package.json').version });
    expect(report.threads).toBeGreaterThanOrEqual(1);
    expect(report.skipped).toEqual([{ engine: 'tfjs', reason: 'onnxruntime loaded (auto prefers it)' }]);
    expect(gpl.describe().engine).toEqual(report);
    expect(formatEngineReport(report)).toMatch(/^onnxruntime \(onnxruntime-node \d+\.\d+\.\d+, \d+ threads?\); skipped: tfjs — onnxruntime loaded/);
    gpl.dispose();
  });

  itOrt("'tfjs' runs on TensorFlow.js; threads are reported only for onnxruntime", () => {
    const gpl = new GenericPerceptualLoss({ ...small, engine: 'tfjs', threads: 1 });
    expect(gpl.engineReport()).toEqual({ engine: 'tfjs', requested: 'tfjs', threads: null, version: null, skipped: [{ engine: 'onnxruntime', reason: "not requested (engine: 'tfjs')" }] });
    expect(gpl.lastRunStats()).toBeNull();
    gpl.dispose();
    const one = new GenericPerceptualLoss({ ...small, engine: 'onnxruntime', threads: 1 });
    expect(one.engineReport().threads).toBe(1);
    one.dispose();
  });

  it("without onnxruntime-node, 'auto' falls back to tfjs with the reason and 'onnxruntime' fails with the fix", () => {
    setPackageLoader((pkg) => {
      if (pkg.startsWith('onnxruntime-node')) throw Object.assign(new Error(`Cannot find module '${pkg}'`), { code: 'MODULE_NOT_FOUND' });
      return require(pkg);
    });
    const before = tf.memory().numTensors;
    const gpl = new GenericPerceptualLoss(small);
    expect(gpl.engineReport()).toMatchObject({ engine: 'tfjs', requested: 'auto', skipped: [{ engine: 'onnxruntime', reason: 'onnxruntime-node is not installed (npm i onnxruntime-node protobufjs)' }] });
    tf.tidy(() => expect(gpl.compute(tf.ones([1, 8, 8, 2]), tf.zeros([1, 8, 8, 2])).dataSync()[0]).toBeGreaterThan(0));
    gpl.dispose();
    expect(() => new GenericPerceptualLoss({ ...small, engine: 'onnxruntime' })).toThrow(
      "[@gpl/loss] engine 'onnxruntime': onnxruntime-node is not installed (npm i onnxruntime-node protobufjs); install it, or use engine 'auto' to fall back to TensorFlow.js.",
    );
    // The failed constructor freed the kernels it had made.
    expect(tf.memory().numTensors).toBe(before);
  });

  itOrt('a binding that fails to load, or a missing protobufjs, is reported as such', () => {
    setPackageLoader((pkg) => {
      if (pkg === 'onnxruntime-node/dist/binding') throw new Error('libonnxruntime.so.1: cannot open shared object file\nat dlopen');
      return require(pkg);
    });
    expect(new GenericPerceptualLoss(small).engineReport().skipped[0].reason).toBe('onnxruntime-node failed to load: libonnxruntime.so.1: cannot open shared object file');
    setPackageLoader((pkg) => {
      if (pkg === 'protobufjs') throw Object.assign(new Error("Cannot find module 'protobufjs'"), { code: 'MODULE_NOT_FOUND' });
      return require(pkg);
    });
    expect(new GenericPerceptualLoss(small).engineReport().skipped[0].reason).toBe('protobufjs is not installed (npm i onnxruntime-node protobufjs)');
  });

  it.each([
    [{ engine: 'gpu' as never }, /'engine' must be 'auto', 'tfjs' or 'onnxruntime', received "gpu"/],
    [{ threads: 0 }, /'threads' must be a positive integer \(onnxruntime intra-op threads\), received 0/],
    [{ threads: 1.5 }, /received 1.5/],
  ])('config %j gets a clear error', (config, message) => {
    expect(() => new GenericPerceptualLoss({ ...small, ...config })).toThrow(message);
  });
});

describeOrt('onnxruntime engine: gradient plumbing and memory', () => {
  const config: Config = { inChannels: 3, blocks: [1, 2], channels: [6, 8], engine: 'onnxruntime', threads: 1, levels: 'all' };
  let gpl: GenericPerceptualLoss;
  beforeAll(() => {
    gpl = new GenericPerceptualLoss(config);
  });
  afterAll(() => gpl.dispose());

  it('runs the value-only graph when no gradient is recorded, and moves the gradient only when it is', () => {
    tf.tidy(() => {
      const { pred, target } = inputs([2, 8, 8, 3], 'none');
      const plain = gpl.compute(pred, target).dataSync()[0];
      expect(gpl.lastRunStats()!.transferBytes).toBe(2 * pred.size * 4);
      const { loss } = valueAndGrad(gpl, pred, target);
      expect(gpl.lastRunStats()!.transferBytes).toBe(3 * pred.size * 4);
      expect(loss).toBeCloseTo(plain, 7);
    });
  });

  it('scales the gradient by the upstream gradient (d(λ·ℓ)/dx = λ·dℓ/dx)', () => {
    tf.tidy(() => {
      const { pred, target } = inputs([2, 8, 8, 3], 'none');
      const g1 = tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, target))(pred);
      const g3 = tf.grad((x: tf.Tensor) => tf.mul(gpl.compute(x as tf.Tensor4D, target), -0.1))(pred);
      const scale = tf.max(tf.abs(g1)).dataSync()[0];
      expect(scale).toBeGreaterThan(0);
      expect(maxAbsDiff(tf.mul(g1, -0.1), g3)).toBeLessThan(1e-6 * scale);
    });
  });

  it('leaks no tensor: value, gradient, masked gradient', () => {
    const { pred, target, mask } = inputs([2, 8, 8, 3], 'pixel');
    expectNoLeak(() => gpl.compute(pred, target), { returns: 1 });
    expectNoLeak(() => tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, target))(pred), { returns: 1 });
    expectNoLeak(() => tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, target, mask))(pred), { returns: 1 });
    tf.dispose([pred, target, mask!]);
  });

  it('trains: SGD on logits through softmax lowers the loss', () => {
    const target = tf.tidy(() => tf.expandDims(tf.cast(tf.oneHot(tf.tile(tf.tensor2d([[0, 1, 2, 0, 1, 2, 0, 1]], [1, 8], 'int32'), [8, 1]), 3), 'float32'), 0) as tf.Tensor4D);
    const logits = tf.variable(tf.zeros([1, 8, 8, 3]));
    const f = () => gpl.compute(tf.softmax(logits) as tf.Tensor4D, target);
    const before = tf.tidy(() => f().dataSync()[0]);
    const opt = tf.train.sgd(20);
    for (let i = 0; i < 10; i++) opt.minimize(f);
    const after = tf.tidy(() => f().dataSync()[0]);
    expect(after).toBeLessThan(0.7 * before);
    opt.dispose();
    tf.dispose([target, logits]);
  });

  it('refuses compute() after dispose()', () => {
    const g = new GenericPerceptualLoss(config);
    g.dispose();
    tf.tidy(() => expect(() => g.compute(tf.zeros([1, 8, 8, 3]), tf.zeros([1, 8, 8, 3]))).toThrow(/compute\(\) called after dispose\(\)/));
  });
});

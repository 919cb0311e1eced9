/**
 * The generic perceptual loss (Liu et al., CVPR 2021, Eq. 1–2): a frozen, randomly initialised
 * network f embeds a prediction and its target, and the loss is the mean squared difference of
 * the embeddings, 1/(C·H·W) per sample, averaged over the batch (`reduction: 'mean'`), or, as in
 * the paper's Eq. 3, the squared difference summed over each sample's embedding and averaged over
 * the batch (`reduction: 'sum'`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { formatInitScheme, parseInitSpec, type InitScheme } from './init';
import { FrozenNetwork, initialiseWeights, type ConvWeights, type SuppliedConvWeights } from './network';
import {
  DEFAULT_VGG_CHANNELS,
  FAMILIES,
  VGG_PRESETS,
  convParameters,
  familySpec,
  inferShapes,
  minimumInputSize,
  reductionFactor,
  vggSpec,
  LOSS_REDUCTIONS,
  type LossReduction,
  type Family,
  type NetworkSpec,
  type Preset,
} from './spec';
import { specFromLayersModel, type LayersModelLike } from './import';
import { pretrainedNetwork, type StateDict } from './pretrained';
import { OnnxLossRunner, defaultThreads, loadOnnxRuntime, type EngineReport, type LossEngine, type OnnxRunStats } from './onnx-engine';

/** Where the loss is taken: the final layer, every tap with weight 1, the paper's 1/16…1, or explicit weights (shallow to deep). */
export type LossLevels = 'final' | 'all' | 'weighted' | readonly number[];

export interface GenericPerceptualLossConfig {
  /** Channels of the prediction and target: classes for segmentation, 1 for depth and instance masks. */
  readonly inChannels: number;
  /** A VGG structure or a family of Table 1. Ignored when `blocks` or `layersModel` is given. */
  readonly preset: Preset;
  /** VGG convolutions per block, e.g. [1,1,1,1,1] (Table 2); overrides `preset`. */
  readonly blocks?: readonly number[];
  /** VGG filters per block; default 64, 128, 256, 512, 512 (repeating the last for deeper structures). */
  readonly channels?: readonly number[];
  /** VGG kernel size: 1, 3, 5 or 7 (Table 5). */
  readonly kernelSize: number;
  /** Kernel initialisation (Table 4); the paper's is 'he': N(0, √(2/n_l)), n_l = k²·c_in. */
  readonly init: InitScheme;
  /** Seed of the kernels: the same seed gives bitwise identical weights on every backend. */
  readonly seed: number;
  readonly levels: LossLevels;
  /**
   * 'mean' (default, Eq. 1) or 'sum' (Eq. 3): applied to each level before the level weights, so
   * with 'sum' a level counts C_l·H_l·W_l times more than with 'mean'. Masks keep their meaning
   * (masked pixels are zero in both inputs; the normaliser does not change with the mask).
   */
  readonly reduction: LossReduction;
  /** Explicit kernels (HWIO) and optional biases for every convolution of the VGG structure, in order. */
  readonly weights?: readonly SuppliedConvWeights[];
  /**
   * A sequential tfjs-layers model (e.g. an ImageNet VGG16 converted with tensorflowjs_converter):
   * its Conv2D/MaxPooling2D/ReLU layers up to the first other layer become the network, preceded
   * by a frozen 1×1 adapter from `inChannels` to the model's input channels when they differ.
   */
  readonly layersModel?: LayersModelLike;
  /**
   * torchvision's ImageNet weights for `preset` (vgg11/13/16/19, resnet18, alexnet, googlenet,
   * mobilenetv2) as a state dict of float32 tensors in PyTorch's layout (e.g. `@gpl/weights`'
   * `readWeightFile(file).tensors`): paper Table 1's 'T' rows. The network sits behind a frozen 1×1
   * adapter from `inChannels` to RGB; BatchNorm is folded into the convolutions.
   */
  readonly pretrained?: StateDict;
  /**
   * With `pretrained` and inChannels 3: the prediction and target are RGB images, normalised as
   * torchvision's ImageNet models expect ((x − mean)/std, mean 0.485/0.456/0.406, std
   * 0.229/0.224/0.225 on 0..1), and go into the network directly, without the 1×1 adapter.
   */
  readonly rgbInput?: boolean;
  /**
   * What runs the loss and its gradient: 'onnxruntime' (one native graph for both, on
   * onnxruntime-node, multi-threaded), 'tfjs' (the TensorFlow.js backend in use), or 'auto'
   * (onnxruntime when onnxruntime-node and protobufjs load, tfjs otherwise). See `engineReport()`.
   */
  readonly engine: LossEngine;
  /** onnxruntime's intra-op threads; default: the machine's cores. Ignored by the tfjs engine. */
  readonly threads?: number;
}

/** The paper's main setting: VGG16 structure, 3×3, He init, final layer. */
export const defaultGenericPerceptualLossConfig: Omit<GenericPerceptualLossConfig, 'inChannels'> = Object.freeze({
  preset: 'vgg16',
  kernelSize: 3,
  init: { kind: 'he' } as InitScheme,
  seed: 0,
  levels: 'final',
  reduction: 'mean',
  engine: 'auto',
});

export interface LayerDescription {
  readonly name: string;
  readonly op: string;
  /** e.g. '3×3/1 19→64 relu' or '2×2/2'. */
  readonly detail: string;
  /** Input pixels per output pixel along one side. */
  readonly stride: number;
  readonly parameters: number;
}

export interface LossDescription {
  readonly label: string;
  readonly family: string;
  readonly inChannels: number;
  readonly convolutions: number;
  /** Kernels, biases and batch-norm γ/β; none of them is trainable. */
  readonly parameters: number;
  /** Multiply–adds ×2 of one forward pass, per input pixel. */
  readonly flopsPerPixel: number;
  readonly init: string;
  readonly seed: number;
  /** Name, channels, stride and loss weight of each level (tap). */
  readonly levels: readonly { name: string; channels: number; stride: number; weight: number }[];
  /** Smallest input side the network accepts. */
  readonly minimumSize: number;
  readonly layers: readonly LayerDescription[];
  /** The engine that runs compute(), and why the other was not taken. */
  readonly engine: EngineReport;
}

/** 'vgg16' → { preset }, '1,1,1,1,1' → { blocks } (the CLI spelling of a loss network). */
export function parseNetworkSpec(text: string): { preset: Preset } | { blocks: number[] } {
  const t = String(text).trim();
  if ((Object.keys(VGG_PRESETS) as string[]).includes(t) || (FAMILIES as readonly string[]).includes(t)) return { preset: t as Preset };
  if (/^\d+(,\d+)*$/.test(t)) {
    const blocks = t.split(',').map(Number);
    if (blocks.every((b) => b >= 1)) return { blocks };
  }
  throw new RangeError(
    `[@gpl/loss] parseNetworkSpec: expected a preset (${[...Object.keys(VGG_PRESETS), ...FAMILIES].join(', ')}) or convolutions per block such as 1,1,1,1,1, received '${text}'.`,
  );
}

export { parseInitSpec };

function fail(message: string, Err: typeof RangeError = RangeError): never {
  throw new Err(`[@gpl/loss] ${message}`);
}

function resolveSpec(config: GenericPerceptualLossConfig): { spec: NetworkSpec; supplied: readonly (ConvWeights | null)[] | null } {
  const c = config.inChannels;
  if (config.layersModel) return specFromLayersModel(config.layersModel, c, config.init, config.seed);
  if (config.pretrained) {
    if (config.blocks || config.weights) fail("'pretrained' takes a preset (torchvision's network), not 'blocks' or 'weights'.");
    if (config.kernelSize !== 3) fail(`'pretrained' networks have torchvision's kernels; 'kernelSize' must stay 3, received ${config.kernelSize}.`);
    return pretrainedNetwork(config.preset, c, config.pretrained, config.init, config.seed, !config.rgbInput);
  }
  if (config.rgbInput) fail("'rgbInput' feeds RGB images to a pretrained network; give 'pretrained' (torchvision's weights) with it, or leave it out.");
  if (config.blocks || !(FAMILIES as readonly string[]).includes(config.preset)) {
    const blocks = config.blocks ?? VGG_PRESETS[config.preset as keyof typeof VGG_PRESETS];
    if (!blocks) fail(`unknown preset '${config.preset}': expected one of ${[...Object.keys(VGG_PRESETS), ...FAMILIES].join(', ')}.`);
    if (!Array.isArray(blocks) || blocks.length === 0 || !blocks.every((b) => Number.isInteger(b) && b >= 1)) {
      fail(`'blocks' must list at least one positive integer (convolutions per block), received ${JSON.stringify(blocks)}.`);
    }
    const channels = config.channels ?? blocks.map((_, b) => DEFAULT_VGG_CHANNELS[Math.min(b, DEFAULT_VGG_CHANNELS.length - 1)]);
    if (channels.length !== blocks.length || !channels.every((v) => Number.isInteger(v) && v >= 1)) {
      fail(`'channels' must give one positive integer per block (${blocks.length}), received ${JSON.stringify(channels)}.`);
    }
    if (![1, 3, 5, 7].includes(config.kernelSize)) fail(`'kernelSize' must be 1, 3, 5 or 7, received ${config.kernelSize}.`);
    const label = config.blocks ? `vgg[${blocks.join(',')}]` : config.preset;
    const spec = vggSpec(c, blocks, channels, config.kernelSize, config.kernelSize === 3 ? label : `${label} k${config.kernelSize}`);
    return { spec, supplied: config.weights ? importKernels(spec, config.weights) : null };
  }
  if (config.weights) fail(`'weights' can only be supplied for a VGG structure, not for the '${config.preset}' family.`);
  return { spec: familySpec(config.preset as Family, c), supplied: null };
}

/** Checks supplied kernels against the spec's convolutions and copies them (the caller keeps theirs). */
function importKernels(spec: NetworkSpec, weights: readonly SuppliedConvWeights[]): (ConvWeights | null)[] {
  const convs = spec.nodes.filter((n) => n.op === 'conv');
  if (weights.length !== convs.length) fail(`'weights' has ${weights.length} entries; the ${spec.label} network has ${convs.length} convolutions.`);
  let k = 0;
  return spec.nodes.map((node) => {
    if (node.op !== 'conv') return null;
    const { kernel, bias } = weights[k++];
    const expected = [node.kernel, node.kernel, node.inChannels, node.outChannels];
    if (!(kernel instanceof tf.Tensor) || kernel.shape.join() !== expected.join()) {
      fail(`weights[${k - 1}].kernel (${node.name}): expected a tensor of shape [${expected}] (HWIO), received ${kernel instanceof tf.Tensor ? `[${kernel.shape}]` : typeof kernel}.`);
    }
    if (bias && bias.shape.join() !== String(node.outChannels)) {
      fail(`weights[${k - 1}].bias (${node.name}): expected shape [${node.outChannels}], received [${bias.shape}].`);
    }
    return {
      kernel: tf.tidy(() => tf.cast(kernel, 'float32').clone() as tf.Tensor4D),
      bias: bias ? tf.tidy(() => tf.cast(bias, 'float32').clone() as tf.Tensor1D) : null,
    };
  });
}

/**
 * The smallest input side of the network a config describes (its poolings' need), without
 * drawing its kernels. A pretrained preset has the structure of the random one (the 1×1 RGB
 * adapter in front does not change sizes), so `pretrained`, `weights` and `layersModel` are not
 * needed here; pass the preset or `blocks` and `kernelSize`.
 */
export function minimumInputSizeOf(config: Pick<GenericPerceptualLossConfig, 'inChannels'> & Partial<Pick<GenericPerceptualLossConfig, 'preset' | 'blocks' | 'channels' | 'kernelSize'>>): number {
  const { spec } = resolveSpec({ ...defaultGenericPerceptualLossConfig, ...config, weights: undefined, pretrained: undefined, layersModel: undefined } as GenericPerceptualLossConfig);
  return minimumInputSize(spec);
}

function levelWeights(levels: LossLevels, taps: number): number[] {
  if (levels === 'final') return Array.from({ length: taps }, (_, i) => (i === taps - 1 ? 1 : 0));
  if (levels === 'all') return Array.from({ length: taps }, () => 1);
  // The paper's multi-level weights 1/16, 1/8, 1/4, 1/2, 1: halving from the deepest level.
  if (levels === 'weighted') return Array.from({ length: taps }, (_, i) => 2 ** -(taps - 1 - i));
  if (!Array.isArray(levels) || levels.length !== taps || !levels.every((w) => Number.isFinite(w) && w >= 0)) {
    fail(`'levels' weights: expected ${taps} non-negative numbers (one per level), received ${JSON.stringify(levels)}.`);
  }
  return [...levels];
}

/**
 * The generic perceptual loss. Owns its constant kernels: call `dispose()` when done.
 *
 * ```ts
 * const gpl = new GenericPerceptualLoss({ inChannels: 19, preset: 'vgg16', seed: 1 });
 * const loss = tf.add(ce, tf.mul(0.1, gpl.compute(tf.softmax(logits), teacherProbs)));
 * ```
 */
export class GenericPerceptualLoss {
  readonly config: GenericPerceptualLossConfig;
  private readonly network: FrozenNetwork;
  private readonly weightsPerTap: number[];
  private readonly report: EngineReport;
  private readonly onnx: OnnxLossRunner | null;
  private disposed = false;

  constructor(config: Partial<GenericPerceptualLossConfig> & { inChannels: number }) {
    if (!Number.isInteger(config.inChannels) || config.inChannels < 1) {
      fail(`'inChannels' must be a positive integer (classes, or 1 for depth), received ${JSON.stringify(config.inChannels)}.`);
    }
    const init = typeof config.init === 'string' ? parseInitSpec(config.init) : config.init;
    this.config = { ...defaultGenericPerceptualLossConfig, ...config, ...(init ? { init } : {}) };
    if (!Number.isInteger(this.config.seed)) fail(`'seed' must be an integer, received ${JSON.stringify(this.config.seed)}.`);
    if (!LOSS_REDUCTIONS.includes(this.config.reduction)) {
      fail(`'reduction' must be 'mean' (Eq. 1) or 'sum' (Eq. 3), received ${JSON.stringify(this.config.reduction)}.`);
    }
    const { spec, supplied } = resolveSpec(this.config);
    this.weightsPerTap = levelWeights(this.config.levels, spec.taps.length);
    this.network = new FrozenNetwork(spec, supplied ?? initialiseWeights(spec, this.config.init, this.config.seed));
    try {
      ({ report: this.report, runner: this.onnx } = chooseEngine(this.config, this.network, this.weightsPerTap));
    } catch (e) {
      this.network.dispose();
      throw e;
    }
  }

  /** The network graph (nodes and taps). */
  get spec(): NetworkSpec {
    return this.network.spec;
  }

  /**
   * ℓ = Σ_levels w_l · mean((f_l(pred·mask) − f_l(target·mask))²), a scalar; with `reduction:
   * 'sum'` each level's mean is multiplied by its C_l·H_l·W_l (a per-sample sum, batch-averaged).
   * Differentiable with respect to `pred` only; the target's embedding is computed without a tape.
   * @param pred [N, H, W, inChannels] float32, e.g. softmax probabilities or a depth map.
   * @param target same shape: soft labels, one-hot labels or the ground-truth depth.
   * @param mask optional [N, H, W, 1] (or the shape of pred), 1 where the pixel counts, 0 for ignored pixels or invalid depth.
   */
  compute(pred: tf.Tensor4D, target: tf.Tensor4D, mask?: tf.Tensor4D): tf.Scalar {
    this.checkInputs(pred, target, mask);
    return this.onnx ? this.computeOnnx(this.onnx, pred, target, mask) : this.computeTfjs(pred, target, mask);
  }

  /** The loss on the TensorFlow.js backend, with the hand-written backward of FrozenNetwork. */
  private computeTfjs(pred: tf.Tensor4D, target: tf.Tensor4D, mask?: tf.Tensor4D): tf.Scalar {
    const net = this.network;
    const taps = net.spec.taps;
    const weights = this.weightsPerTap;
    const reduction = this.config.reduction;
    const used = taps.map((t, l) => ({ t, w: weights[l] })).filter((x) => x.w > 0);
    const keep = used.map((u) => u.t);
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const p = args[0] as tf.Tensor;
      const save = args[1] as tf.GradSaveFunc;
      const x = (mask ? tf.mul(p, mask) : p) as tf.Tensor4D;
      const y = (mask ? tf.mul(target, mask) : target) as tf.Tensor4D;
      // customGrad's forward runs with the tape paused, so neither pass is recorded.
      const targetEmb = net.forward(y, keep, false);
      const outputs = net.forward(x, keep, true);
      const diffs = used.map((u) => tf.sub(outputs.get(u.t)!, targetEmb.get(u.t)!) as tf.Tensor4D);
      const coefficients = diffs.map((d, l) => used[l].w * reductionFactor(reduction, d.shape));
      const value = used.reduce<tf.Scalar>((acc, _, l) => tf.add(acc, tf.mul(tf.mean(tf.square(diffs[l])), coefficients[l])), tf.scalar(0));
      const shapes = inferShapes(net.spec, pred.shape[1], pred.shape[2]).map((s) => [pred.shape[0], ...s!]);
      save([...net.savedFor(outputs), ...diffs, ...(mask ? [mask] : [])]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const nSaved = saved.length - diffs.length - (mask ? 1 : 0);
          const seeds = new Map<number, tf.Tensor4D>();
          used.forEach((u, l) => {
            const diff = saved[nSaved + l];
            // d/dx mean(x²) = 2x / numel, times the level's coefficient and the upstream gradient.
            seeds.set(u.t, tf.mul(diff, tf.mul(dy, (2 * coefficients[l]) / diff.size)) as tf.Tensor4D);
          });
          const dx = net.backward(seeds, saved.slice(0, nSaved), shapes);
          tf.dispose([...seeds.values()]);
          return mask ? tf.mul(dx, saved[saved.length - 1]) : dx;
        },
      };
    });
    return f(pred) as tf.Scalar;
  }

  /**
   * One onnxruntime run gives the value and, when a gradient tape is recording, d loss / d pred
   * (for an upstream gradient of 1, scaled by dy in the gradient function).
   */
  private computeOnnx(runner: OnnxLossRunner, pred: tf.Tensor4D, target: tf.Tensor4D, mask?: tf.Tensor4D): tf.Scalar {
    // customGrad saves tensors only while the tape records; without it no gradient is asked for.
    const withGradient = tf.engine().isTapeOn();
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args[1] as tf.GradSaveFunc;
      const { loss, grad } = runner.run(pred, target, mask, withGradient);
      if (grad) save([grad]);
      return {
        value: loss,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0], dy),
      };
    });
    return f(pred) as tf.Scalar;
  }

  /** Which engine runs compute() and why (requested engine, threads, what was skipped). */
  engineReport(): EngineReport {
    return this.report;
  }

  /** Timing and bytes moved by the last onnxruntime run (null on the tfjs engine). */
  lastRunStats(): OnnxRunStats | null {
    return this.onnx ? this.onnx.lastStats : null;
  }

  /** Embeddings of every level for `x` (no gradient), shallow to deep. The caller disposes them. */
  embed(x: tf.Tensor4D): tf.Tensor4D[] {
    this.checkInputs(x, x);
    const outputs = this.network.forward(x, this.network.spec.taps, false);
    return this.network.spec.taps.map((t) => outputs.get(t)!);
  }

  /** Layers, parameters, FLOPs per input pixel, and the levels with their weights. */
  describe(): LossDescription {
    const spec = this.network.spec;
    const shapes = inferShapes(spec, 256, 256);
    // Nominal strides (products of layer strides), exact even where padding makes sizes uneven.
    const strides: number[] = [];
    spec.nodes.forEach((node) => {
      if (node.op === 'input') strides.push(1);
      else if (node.op === 'conv' || node.op === 'maxpool') strides.push(strides[node.input] * node.stride);
      else strides.push(strides[node.inputs[0]]);
    });
    const strideOf = (i: number) => strides[i];
    let flops = 0;
    const layers: LayerDescription[] = [];
    spec.nodes.forEach((node, i) => {
      if (node.op === 'input') return;
      let detail = '';
      let parameters = 0;
      if (node.op === 'conv') {
        parameters = convParameters(node);
        const macs = node.kernel * node.kernel * node.inChannels * (node.depthwise ? 1 : node.outChannels);
        flops += (2 * macs) / strideOf(i) ** 2;
        detail = `${node.kernel}×${node.kernel}/${node.stride} ${node.inChannels}→${node.outChannels}${node.depthwise ? ' depthwise' : ''}${node.batchNormEps !== null ? ' bn' : ''} ${node.activation}`;
      } else if (node.op === 'maxpool') {
        detail = `${node.size}×${node.size}/${node.stride}`;
      } else if (node.op === 'add') {
        detail = `residual ${node.activation}`;
      } else {
        detail = `${node.inputs.length} branches`;
      }
      layers.push({ name: node.name, op: node.op, detail, stride: strideOf(i), parameters });
    });
    return {
      label: spec.label,
      family: spec.family,
      inChannels: this.config.inChannels,
      convolutions: spec.nodes.filter((n) => n.op === 'conv').length,
      parameters: layers.reduce((s, l) => s + l.parameters, 0),
      flopsPerPixel: flops,
      init: this.config.pretrained ? 'pretrained (torchvision)' : this.config.layersModel || this.config.weights ? 'supplied' : formatInitScheme(this.config.init),
      seed: this.config.seed,
      levels: spec.taps.map((t, l) => ({ name: spec.nodes[t].name, channels: shapes[t]![2], stride: strideOf(t), weight: this.weightsPerTap[l] })),
      minimumSize: minimumInputSize(spec),
      layers,
      engine: this.report,
    };
  }

  /** Builds the flipped kernels of the backward pass now, so that the first training step is not slower. */
  warmUp(): this {
    this.network.prepareBackward();
    return this;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onnx?.dispose();
    this.network.dispose();
  }

  private checkInputs(pred: tf.Tensor, target: tf.Tensor, mask?: tf.Tensor): void {
    if (this.disposed) fail('compute() called after dispose().', TypeError);
    const c = this.config.inChannels;
    for (const [name, t] of [
      ['pred', pred],
      ['target', target],
    ] as const) {
      if (!(t instanceof tf.Tensor)) fail(`${name}: expected a tf.Tensor, received ${typeof t}.`, TypeError);
      if (t.rank !== 4) fail(`${name}: expected rank 4 [N, H, W, ${c}] (NHWC), received shape [${t.shape}].`);
      if (t.dtype !== 'float32') fail(`${name}: expected dtype float32 (probabilities or depth), received ${t.dtype}; cast with tf.cast(${name}, 'float32').`, TypeError);
      if (t.shape[3] !== c) fail(`${name}: expected ${c} channels (inChannels) in the last axis of NHWC, received shape [${t.shape}].`);
    }
    if (pred.shape.join() !== target.shape.join()) fail(`pred [${pred.shape}] and target [${target.shape}] must have the same shape.`);
    if (mask) {
      if (!(mask instanceof tf.Tensor)) fail(`mask: expected a tf.Tensor, received ${typeof mask}.`, TypeError);
      const [n, h, w] = pred.shape;
      if (mask.rank !== 4 || mask.shape[0] !== n || mask.shape[1] !== h || mask.shape[2] !== w || (mask.shape[3] !== 1 && mask.shape[3] !== c)) {
        fail(`mask: expected shape [${n}, ${h}, ${w}, 1] or [${n}, ${h}, ${w}, ${c}], received [${mask.shape}].`);
      }
      if (mask.dtype !== 'float32') fail(`mask: expected dtype float32 (1 = valid, 0 = ignored), received ${mask.dtype}.`, TypeError);
    }
    const [, h, w] = pred.shape;
    const shapes = inferShapes(this.network.spec, h, w);
    if (shapes.some((s) => s === null)) {
      const min = minimumInputSize(this.network.spec);
      fail(`input ${h}×${w} is too small for the ${this.network.spec.label} network (its poolings need at least ${min}×${min}); resize the inputs or use fewer blocks.`);
    }
  }
}

/** Resolves `engine`: onnxruntime when asked for (or on 'auto') and it loads; tfjs otherwise. */
function chooseEngine(config: GenericPerceptualLossConfig, network: FrozenNetwork, tapWeights: number[]): { report: EngineReport; runner: OnnxLossRunner | null } {
  const requested = config.engine;
  if (!['auto', 'tfjs', 'onnxruntime'].includes(requested)) fail(`'engine' must be 'auto', 'tfjs' or 'onnxruntime', received ${JSON.stringify(requested)}.`);
  const threads = config.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) fail(`'threads' must be a positive integer (onnxruntime intra-op threads), received ${JSON.stringify(config.threads)}.`);
  if (requested === 'tfjs') {
    return { report: { engine: 'tfjs', requested, threads: null, version: null, skipped: [{ engine: 'onnxruntime', reason: "not requested (engine: 'tfjs')" }] }, runner: null };
  }
  const loaded = loadOnnxRuntime();
  if ('reason' in loaded) {
    if (requested === 'onnxruntime') fail(`engine 'onnxruntime': ${loaded.reason}; install it, or use engine 'auto' to fall back to TensorFlow.js.`, Error as typeof RangeError);
    return { report: { engine: 'tfjs', requested, threads: null, version: null, skipped: [{ engine: 'onnxruntime', reason: loaded.reason }] }, runner: null };
  }
  const runner = new OnnxLossRunner(loaded.runtime, network.spec, network.weights, tapWeights, threads, config.reduction);
  const reason = requested === 'auto' ? 'onnxruntime loaded (auto prefers it)' : "not requested (engine: 'onnxruntime')";
  return { report: { engine: 'onnxruntime', requested, threads, version: loaded.runtime.version, skipped: [{ engine: 'tfjs', reason }] }, runner };
}

const cache = new Map<string, GenericPerceptualLoss>();

/**
 * Function form: `genericPerceptualLoss(pred, target, { inChannels: 19 })`. Networks are built
 * once per distinct configuration and cached; `disposeCachedLosses()` frees them.
 */
export function genericPerceptualLoss(
  pred: tf.Tensor4D,
  target: tf.Tensor4D,
  config: Partial<Omit<GenericPerceptualLossConfig, 'weights' | 'layersModel' | 'pretrained'>> & { inChannels: number; mask?: tf.Tensor4D },
): tf.Scalar {
  const { mask, ...rest } = config;
  const key = JSON.stringify(rest);
  let loss = cache.get(key);
  if (!loss) {
    loss = new GenericPerceptualLoss(rest);
    cache.set(key, loss);
  }
  return loss.compute(pred, target, mask);
}

export function disposeCachedLosses(): void {
  for (const loss of cache.values()) loss.dispose();
  cache.clear();
}

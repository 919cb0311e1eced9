/**
 * HRNetV2 (Wang et al., "Deep High-Resolution Representation Learning for Visual Recognition",
 * TPAMI 2020) on tfjs-layers: the encoder as a `Backbone`, and the segmentation model of
 * HRNet-Semantic-Segmentation's `seg_hrnet.py` (the HRNetV2 head).
 *
 * Variants are data (REFERENCE.md §6): each is four stages of (modules, blocks per branch,
 * channels per branch); stage 1 is one branch of Bottleneck blocks, stages 2–4 are
 * HighResolutionModules of BasicBlock branches followed by fuse layers.
 *
 * Layer names follow the PyTorch module paths of the references, so that converted weights
 * import by name. Every convolution is named exactly as its PyTorch module; the BatchNorm
 * after it is named `<conv>.bn` (PyTorch: `bnK` after `convK`, or the next Sequential index
 * after an indexed conv — see `toPyTorchName`):
 *
 *   conv1, conv2                                        stem, two 3×3 stride-2 convs
 *   layer1.<k>.conv{1,2,3}, layer1.0.downsample.0      stage 1 Bottlenecks
 *   transition<t>.<i>.0                                 3×3 conv changing an existing branch's width
 *   transition<t>.<i>.<k>.0                             k-th 3×3 stride-2 conv creating branch i
 *   stage<s>.<m>.branches.<b>.<k>.conv{1,2}             BasicBlock k of branch b in module m
 *   stage<s>.<m>.fuse_layers.<i>.<j>.0                  j > i: 1×1 conv (+ BN), then `.up` resize
 *   stage<s>.<m>.fuse_layers.<i>.<j>.<k>.0              j < i: k-th 3×3 stride-2 conv (+ BN, ReLU but the last)
 *   last_layer.0, last_layer.3                          head: 1×1 conv + BN + ReLU, 1×1 classifier
 *
 * Weightless layers carry names of their own (`….add`, `….relu`, `….pad`, `head.up.<j>`,
 * `head.concat`, `logits`).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { InputSizeCheck, ResizeLike, addRelu, checkInputSize, convUnit, formatParameterTable, layerSeed, scaleWidth, summarizeModel, type Backbone, type FeatureKey, type FeatureMaps, type FeatureSpecs, type ModelSummary, type ResizeMode } from '@gpl/core';
import { defaultHRNetConfig, resolveHRNetConfig, type HRNetConfig } from './config';

/** One stage: how many modules, blocks in each branch, channels of each branch. */
export interface HRNetStageSpec {
  readonly modules: number;
  readonly blocks: readonly number[];
  readonly channels: readonly number[];
}

/**
 * Stages 1–4. Stage 1 has one branch of Bottleneck blocks whose width is `channels[0]`
 * (output 4× that); stages 2–4 have 2, 3 and 4 branches of BasicBlocks.
 */
export type HRNetStages = readonly [HRNetStageSpec, HRNetStageSpec, HRNetStageSpec, HRNetStageSpec];

const stage = (modules: number, blocksPerBranch: number, channels: readonly number[]): HRNetStageSpec =>
  Object.freeze({ modules, blocks: Object.freeze(channels.map(() => blocksPerBranch)), channels: Object.freeze([...channels]) });
const variant = (...stages: HRNetStages): HRNetStages => Object.freeze(stages);

/**
 * The variants of REFERENCE.md §6 (HRNet-Semantic-Segmentation `experiments/cityscapes/
 * seg_hrnet_*.yaml`): stage(modules, blocks per branch, channels).
 */
export const HRNET_VARIANTS: Readonly<Record<'hrnet-w18-small-v1' | 'hrnet-w18-small-v2' | 'hrnet-w18' | 'hrnet-w48', HRNetStages>> = Object.freeze({
  'hrnet-w18-small-v1': variant(stage(1, 1, [32]), stage(1, 2, [16, 32]), stage(1, 2, [16, 32, 64]), stage(1, 2, [16, 32, 64, 128])),
  'hrnet-w18-small-v2': variant(stage(1, 2, [64]), stage(1, 2, [18, 36]), stage(3, 2, [18, 36, 72]), stage(2, 2, [18, 36, 72, 144])),
  'hrnet-w18': variant(stage(1, 4, [64]), stage(1, 4, [18, 36]), stage(4, 4, [18, 36, 72]), stage(3, 4, [18, 36, 72, 144])),
  'hrnet-w48': variant(stage(1, 4, [64]), stage(1, 4, [48, 96]), stage(4, 4, [48, 96, 192]), stage(3, 4, [48, 96, 192, 384])),
});

/**
 * Registry names → variant. 'hrnet-w18-small' is small-v2: MMSegmentation's fcn_hr18s and the
 * GPL paper's "HRNetw18s" (Table 6, 3.76M parameters), which small-v1 (≈1.5M) cannot be.
 */
const HRNET_REGISTRY = Object.freeze({
  'hrnet-w18-small': 'hrnet-w18-small-v2',
  'hrnet-w18-small-v1': 'hrnet-w18-small-v1',
  'hrnet-w18-small-v2': 'hrnet-w18-small-v2',
  'hrnet-w18': 'hrnet-w18',
  'hrnet-w48': 'hrnet-w48',
} as const);

export type HRNetName = keyof typeof HRNET_REGISTRY;
export const HRNET_NAMES: readonly HRNetName[] = Object.freeze(Object.keys(HRNET_REGISTRY) as HRNetName[]);

/** Stem width of every variant (two 3×3 stride-2 convs). */
const STEM_CHANNELS = 64;
const BOTTLENECK_EXPANSION = 4;
const FEATURE_KEYS: readonly FeatureKey[] = ['c2', 'c3', 'c4', 'c5'];

/** Constructor arguments of `HRNet` (`createHRNet` maps a registry name and a config onto them). */
export interface HRNetOptions {
  /** Name reported by the backbone, e.g. 'hrnet-w18-small'. */
  readonly name: string;
  /** Stage settings at full width, e.g. `HRNET_VARIANTS['hrnet-w48']`. */
  readonly stages: HRNetStages;
  /** As `HRNetConfig.widthMultiplier`. */
  readonly widthMultiplier: number;
  /** As `HRNetConfig.seed`. */
  readonly seed: number;
  /** As `HRNetConfig.alignCorners` (fuse layers). */
  readonly alignCorners: boolean;
  /** As `HRNetConfig.fuseUpsample`. */
  readonly fuseUpsample: ResizeMode;
  /** As `HRNetConfig.bnMomentum`. */
  readonly bnMomentum: number;
}

/** Everything a block builder needs besides its input. */
interface BuildContext {
  readonly seed: number;
  readonly bnMomentum: number;
  readonly fuseUpsample: ResizeMode;
  readonly alignCorners: boolean;
}

type ST = tfl.SymbolicTensor;

function conv(x: ST, ctx: BuildContext, name: string, filters: number, kernelSize: number, strides = 1, relu = true): ST {
  return convUnit(x, { name, filters, kernelSize, strides, relu, seed: layerSeed(ctx.seed, name), bnMomentum: ctx.bnMomentum });
}

/** 1×1 conv + BN on the residual path when the block changes the width. */
function shortcut(x: ST, ctx: BuildContext, name: string, inChannels: number, outChannels: number): ST {
  return inChannels === outChannels ? x : conv(x, ctx, `${name}.downsample.0`, outChannels, 1, 1, false);
}

/** BasicBlock: 3×3 conv-BN-ReLU, 3×3 conv-BN, + shortcut, ReLU. */
function basicBlock(x: ST, ctx: BuildContext, name: string, inChannels: number, channels: number): ST {
  let y = conv(x, ctx, `${name}.conv1`, channels, 3);
  y = conv(y, ctx, `${name}.conv2`, channels, 3, 1, false);
  return addRelu([y, shortcut(x, ctx, name, inChannels, channels)], name);
}

/** Bottleneck: 1×1 (width), 3×3 (width), 1×1 (4·width) without ReLU, + shortcut, ReLU. */
function bottleneck(x: ST, ctx: BuildContext, name: string, inChannels: number, width: number): ST {
  const out = width * BOTTLENECK_EXPANSION;
  let y = conv(x, ctx, `${name}.conv1`, width, 1);
  y = conv(y, ctx, `${name}.conv2`, width, 3);
  y = conv(y, ctx, `${name}.conv3`, out, 1, 1, false);
  return addRelu([y, shortcut(x, ctx, name, inChannels, out)], name);
}

/**
 * From the branches of one stage to those of the next: an existing branch whose width changes
 * gets a 3×3 conv; each new branch is a chain of 3×3 stride-2 convs from the last old branch.
 */
function transition(branches: ST[], ctx: BuildContext, name: string, pre: readonly number[], cur: readonly number[]): ST[] {
  return cur.map((channels, i) => {
    if (i < pre.length) return channels === pre[i] ? branches[i] : conv(branches[i], ctx, `${name}.${i}.0`, channels, 3);
    let y = branches[pre.length - 1];
    const steps = i + 1 - pre.length;
    for (let k = 0; k < steps; k++) {
      y = conv(y, ctx, `${name}.${i}.${k}.0`, k === steps - 1 ? channels : pre[pre.length - 1], 3, 2);
    }
    return y;
  });
}

/**
 * One HighResolutionModule: each branch runs its BasicBlocks, then output i sums every branch
 * brought to branch i's resolution and width (j > i: 1×1 conv + BN, then upsampling;
 * j < i: i − j stride-2 3×3 convs + BN, with ReLU between them), followed by ReLU.
 */
function hrModule(inputs: ST[], ctx: BuildContext, name: string, spec: HRNetStageSpec, inChannels: readonly number[]): ST[] {
  const channels = spec.channels;
  const x = inputs.map((input, b) => {
    let y = input;
    for (let k = 0; k < spec.blocks[b]; k++) {
      y = basicBlock(y, ctx, `${name}.branches.${b}.${k}`, k === 0 ? inChannels[b] : channels[b], channels[b]);
    }
    return y;
  });
  if (x.length === 1) return x;
  return x.map((xi, i) => {
    const terms = x.map((xj, j) => {
      const prefix = `${name}.fuse_layers.${i}.${j}`;
      if (j === i) return xj;
      if (j > i) {
        const y = conv(xj, ctx, `${prefix}.0`, channels[i], 1, 1, false);
        return new ResizeLike({ name: `${prefix}.up`, mode: ctx.fuseUpsample, alignCorners: ctx.alignCorners }).apply([y, xi]) as ST;
      }
      let y = xj;
      for (let k = 0; k < i - j; k++) {
        const last = k === i - j - 1;
        y = conv(y, ctx, `${prefix}.${k}.0`, last ? channels[i] : channels[j], 3, 2, !last);
      }
      return y;
    });
    return addRelu(terms, `${name}.fuse.${i}`);
  });
}

/** Applies the width multiplier to every channel count of a variant. */
function scaleStages(stages: HRNetStages, multiplier: number): HRNetStages {
  return stages.map((s) => ({ ...s, channels: s.channels.map((c) => scaleWidth(c, multiplier)) })) as unknown as HRNetStages;
}

/**
 * The HRNetV2 encoder: stem, stage 1 and stages 2–4 with repeated multi-resolution fusion.
 * Feature maps c2…c5 are the four outputs of the last module of stage 4 (strides 4, 8, 16, 32;
 * widths = stage-4 branch channels, e.g. 18, 36, 72, 144 for W18 at full width).
 */
export class HRNet implements Backbone {
  readonly name: string;
  readonly sizeDivisor = 32;
  /** Stages after the width multiplier. */
  readonly stages: HRNetStages;
  readonly stemChannels: number;
  private readonly ctx: BuildContext;

  constructor(options: HRNetOptions) {
    if (options.stages.length !== 4 || options.stages[0].channels.length !== 1 || options.stages[0].modules !== 1) {
      throw new RangeError('[@gpl/hrnet] HRNet: stages must be four, the first with one module and one branch (Bottleneck).');
    }
    options.stages.forEach((s, k) => {
      if (s.channels.length !== k + 1 || s.blocks.length !== k + 1) {
        throw new RangeError(`[@gpl/hrnet] HRNet: stage ${k + 1} must have ${k + 1} branches, received channels [${s.channels}], blocks [${s.blocks}].`);
      }
    });
    this.name = options.name;
    this.stages = scaleStages(options.stages, options.widthMultiplier);
    this.stemChannels = scaleWidth(STEM_CHANNELS, options.widthMultiplier);
    this.ctx = {
      seed: options.seed,
      bnMomentum: options.bnMomentum,
      fuseUpsample: options.fuseUpsample,
      alignCorners: options.alignCorners,
    };
  }

  /** c2…c5: the stage-4 branches, strides 4…32. */
  featureSpecs(): FeatureSpecs {
    const specs: FeatureSpecs = {};
    this.stages[3].channels.forEach((channels, b) => {
      specs[FEATURE_KEYS[b]] = { channels, stride: 4 * 2 ** b };
    });
    return specs;
  }

  /** Creates the encoder's layers on `input` [N, H, W, 3] (H, W multiples of 32) and returns c2…c5. */
  build(input: ST): FeatureMaps {
    const ctx = this.ctx;
    const [, h, w] = input.shape;
    if (h != null && w != null) checkInputSize('@gpl/hrnet', h, w, this.sizeDivisor);
    let x = new InputSizeCheck({ name: 'input_check', divisor: this.sizeDivisor, packageName: '@gpl/hrnet' }).apply(input) as ST;
    x = conv(x, ctx, 'conv1', this.stemChannels, 3, 2);
    x = conv(x, ctx, 'conv2', this.stemChannels, 3, 2);

    const [s1, ...rest] = this.stages;
    let inChannels = this.stemChannels;
    for (let k = 0; k < s1.blocks[0]; k++) {
      x = bottleneck(x, ctx, `layer1.${k}`, inChannels, s1.channels[0]);
      inChannels = s1.channels[0] * BOTTLENECK_EXPANSION;
    }

    let branches = [x];
    let pre: readonly number[] = [inChannels];
    rest.forEach((spec, k) => {
      branches = transition(branches, ctx, `transition${k + 1}`, pre, spec.channels);
      for (let m = 0; m < spec.modules; m++) {
        // Transitions already produce each branch's width, so every module starts at spec.channels.
        branches = hrModule(branches, ctx, `stage${k + 2}.${m}`, spec, spec.channels);
      }
      pre = spec.channels;
    });

    const maps: FeatureMaps = {};
    branches.forEach((t, b) => {
      maps[FEATURE_KEYS[b]] = t;
    });
    return maps;
  }
}

/** Throws, listing the known names, unless `name` is registered. */
function resolveName(name: string): (typeof HRNET_REGISTRY)[HRNetName] {
  if (typeof name !== 'string') throw new TypeError(`[@gpl/hrnet] model name must be a string, received ${typeof name}.`);
  if (!Object.prototype.hasOwnProperty.call(HRNET_REGISTRY, name)) {
    throw new RangeError(`[@gpl/hrnet] unknown HRNet '${name}'; known: ${HRNET_NAMES.map((n) => `'${n}'`).join(', ')}.`);
  }
  return HRNET_REGISTRY[name as HRNetName];
}

/** The encoder of a registered variant with a config's width, seed and resizing choices. */
export function createHRNet(name: HRNetName, config: Partial<HRNetConfig> = defaultHRNetConfig): HRNet {
  const key = resolveName(name);
  const c = resolveHRNetConfig(config);
  return new HRNet({
    name,
    stages: HRNET_VARIANTS[key],
    widthMultiplier: c.widthMultiplier,
    seed: c.seed,
    alignCorners: c.alignCorners,
    fuseUpsample: c.fuseUpsample,
    bnMomentum: c.bnMomentum,
  });
}

/**
 * The HRNetV2 segmentation model: image [N, H, W, 3] → logits [N, H, W, numClasses].
 * Head (REFERENCE.md §6): branches 2–4 resized bilinearly to branch 1 (stride 4), concatenated
 * (Σ branch channels: 270 for W18, 720 for W48), 1×1 conv (same width) + BN + ReLU, 1×1
 * classifier with bias, then the logits resized to the input size. With `widthMultiplier` 1
 * the trainable parameters equal MMSegmentation's fcn_hr18s / fcn_hr48 exactly and
 * HRNet-Semantic-Segmentation's model minus the dead bias of its `last_layer.0` (270 / 720).
 * The fuse layers upsample per `config.fuseUpsample`, the head always bilinearly.
 * H and W must be multiples of 32 (fixed by `config.inputSize`, or checked when the model runs).
 */
export function buildHRNetSegmenter(name: HRNetName, config: Partial<HRNetConfig> = defaultHRNetConfig): tfl.LayersModel {
  const c = resolveHRNetConfig(config);
  const backbone = createHRNet(name, c);
  if (c.inputSize) checkInputSize('@gpl/hrnet', c.inputSize[0], c.inputSize[1], backbone.sizeDivisor);
  const input = tfl.input({ shape: [c.inputSize?.[0] ?? null, c.inputSize?.[1] ?? null, 3], name: 'image' });
  const features = backbone.build(input);
  const branches = FEATURE_KEYS.map((k) => features[k] as ST);
  const upsampled = branches.map((t, j) =>
    j === 0 ? t : (new ResizeLike({ name: `head.up.${j}`, mode: 'bilinear', alignCorners: c.alignCorners }).apply([t, branches[0]]) as ST),
  );
  const concat = tfl.layers.concatenate({ name: 'head.concat', axis: -1 }).apply(upsampled) as ST;
  const width = backbone.stages[3].channels.reduce((a, b) => a + b, 0);
  // No bias before the BN (as MMSegmentation's FCNHead): HR's `last_layer.0` has one, but BN
  // subtracts the batch mean, so its gradient is identically zero and it never trains.
  let y = convUnit(concat, { name: 'last_layer.0', filters: width, kernelSize: 1, seed: layerSeed(c.seed, 'last_layer.0'), bnMomentum: c.bnMomentum });
  // The classifier starts near zero (normal, σ 0.01, as MMSegmentation's conv_seg), so the
  // initial cross-entropy is ≈ ln(numClasses) instead of being inflated by He-scaled logits.
  y = tfl.layers
    .conv2d({
      name: 'last_layer.3',
      filters: c.numClasses,
      kernelSize: 1,
      kernelInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 0.01, seed: layerSeed(c.seed, 'last_layer.3') }),
    })
    .apply(y) as ST;
  const logits = new ResizeLike({ name: 'logits', mode: 'bilinear', alignCorners: c.alignCorners }).apply([y, input]) as ST;
  return tfl.model({ inputs: input, outputs: logits, name });
}

/** Parameter counts of an HRNet model, split as the references count them. */
export interface HRNetSummary extends ModelSummary {
  /** Trainable parameters of the encoder (stem to stage 4): PyTorch `parameters()` of the backbone. */
  readonly backbone: number;
  /** Trainable parameters of the head (`last_layer.*`). */
  readonly head: number;
  /** BatchNorm moving means and variances (PyTorch buffers, not parameters): `nonTrainable`. */
  readonly bnStatistics: number;
}

/** Parameter counts of a model built here (`trainable` is what PyTorch's `parameters()` counts). */
export function summarizeHRNet(model: tfl.LayersModel): HRNetSummary {
  const s = summarizeModel(model);
  const head = s.byPrefix['last_layer'] ?? 0;
  return { ...s, backbone: s.trainable - head, head, bnStatistics: s.nonTrainable };
}

/** A printable table of a summary: one row per top-level prefix, then the totals. */
export function formatHRNetSummary(s: HRNetSummary, title = 'HRNet'): string {
  return formatParameterTable(`${title}: parameters by prefix (trainable)`, s.byPrefix, [
    { label: 'backbone', count: s.backbone },
    { label: 'head', count: s.head },
    { label: 'trainable', count: s.trainable, note: `${(s.trainable / 1e6).toFixed(2)}M, as PyTorch counts` },
    { label: 'BN statistics', count: s.bnStatistics },
    { label: 'total', count: s.total },
  ]);
}

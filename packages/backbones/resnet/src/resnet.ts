/**
 * ResNet encoders (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016) on
 * tfjs-layers, as the segmentation references use them: BasicBlock (18, 34) or Bottleneck
 * (50, 101) stages, the stride on the 3×3 conv ("pytorch" style, ResNet v1.5), an optional
 * ResNetV1c deep stem, and output stride 8 or 16 by trading the strides of the last stages
 * for dilation (REFERENCE.md §6).
 *
 * Layer names are the PyTorch module paths of torchvision's `resnet*` (plain stem) and of
 * MMSegmentation's `ResNetV1c` (deep stem), so converted ImageNet weights import by name.
 * Every convolution is named exactly as its PyTorch module; the BatchNorm after it is named
 * `<conv>.bn` (PyTorch: `bnK` after `convK`, the next Sequential index after an indexed conv;
 * see `toPyTorchName`):
 *
 *   conv1                          plain stem: 7×7 stride-2 conv (BN → torchvision `bn1`)
 *   stem.0, stem.3, stem.6         deep stem: 3×3 convs (BNs → `stem.1`, `stem.4`, `stem.7`)
 *   maxpool                        3×3 stride-2 max pooling (+ `maxpool.pad`)
 *   layer<s>.<b>.conv1 … conv3     block b of stage s (conv3 only in Bottlenecks)
 *   layer<s>.<b>.downsample.0      1×1 (strided) projection shortcut (BN → `downsample.1`)
 *
 * Weightless layers carry names of their own: `input_check`, `<conv>.pad`, `<conv>.relu`,
 * `layer<s>.<b>.add`, `layer<s>.<b>.relu`.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { InputSizeCheck, addRelu, checkInputSize, convUnit, formatParameterTable, layerSeed, scaleWidth, summarizeModel, type Backbone, type FeatureKey, type FeatureMaps, type FeatureSpecs, type ModelSummary } from '@gpl/core';
import { defaultResNetConfig, resolveResNetConfig, type OutputStride, type ResNetConfig } from './config';

export type BlockKind = 'basic' | 'bottleneck';

/** One ResNet family member: its residual block and the number of blocks in stages 1–4. */
export interface ResNetVariant {
  readonly block: BlockKind;
  readonly depths: readonly [number, number, number, number];
}

const variant = (block: BlockKind, depths: [number, number, number, number]): ResNetVariant =>
  Object.freeze({ block, depths: Object.freeze(depths) as ResNetVariant['depths'] });

/** The variants (He et al. Table 1; torchvision and MMSegmentation `arch_settings`). */
export const RESNET_VARIANTS = Object.freeze({
  resnet18: variant('basic', [2, 2, 2, 2]),
  resnet34: variant('basic', [3, 4, 6, 3]),
  resnet50: variant('bottleneck', [3, 4, 6, 3]),
  resnet101: variant('bottleneck', [3, 4, 23, 3]),
});

export type ResNetName = keyof typeof RESNET_VARIANTS;
export const RESNET_NAMES: readonly ResNetName[] = Object.freeze(Object.keys(RESNET_VARIANTS) as ResNetName[]);

/** Stride of the first block and dilation of each stage, per output stride (MMSegmentation's d8/d16). */
export const STAGE_LAYOUTS: Readonly<Record<OutputStride, { readonly strides: readonly number[]; readonly dilations: readonly number[] }>> =
  Object.freeze({
    32: Object.freeze({ strides: Object.freeze([1, 2, 2, 2]), dilations: Object.freeze([1, 1, 1, 1]) }),
    16: Object.freeze({ strides: Object.freeze([1, 2, 2, 1]), dilations: Object.freeze([1, 1, 1, 2]) }),
    8: Object.freeze({ strides: Object.freeze([1, 2, 1, 1]), dilations: Object.freeze([1, 1, 2, 4]) }),
  });

const EXPANSION: Readonly<Record<BlockKind, number>> = Object.freeze({ basic: 1, bottleneck: 4 });
/** Stage-1 planes; stage s has 64·2^(s−1). */
const BASE_PLANES = 64;
/** Plain stem width, and the deep stem's (half, half, full) widths. */
const STEM_CHANNELS = 64;

/** Constructor arguments of `ResNet` (`createResNet` maps a registry name and a config onto them). */
export interface ResNetOptions extends ResNetConfig {
  /** Registry name of the variant, e.g. 'resnet50'. */
  readonly variant: ResNetName;
}

type ST = tfl.SymbolicTensor;

/** Everything a block builder needs besides its input. */
interface BuildContext {
  readonly seed: number;
  readonly bnMomentum: number;
}

function conv(x: ST, ctx: BuildContext, name: string, filters: number, kernelSize: number, o: { strides?: number; dilation?: number; relu?: boolean } = {}): ST {
  return convUnit(x, {
    name,
    filters,
    kernelSize,
    strides: o.strides ?? 1,
    dilation: o.dilation ?? 1,
    relu: o.relu ?? true,
    seed: layerSeed(ctx.seed, name),
    bnMomentum: ctx.bnMomentum,
  });
}

/** Identity, or a 1×1 (strided) conv + BN when the block changes resolution or width. */
function shortcut(x: ST, ctx: BuildContext, name: string, inChannels: number, outChannels: number, stride: number): ST {
  if (stride === 1 && inChannels === outChannels) return x;
  return conv(x, ctx, `${name}.downsample.0`, outChannels, 1, { strides: stride, relu: false });
}

/**
 * BasicBlock: 3×3 conv (stride, dilation) + BN + ReLU, 3×3 conv + BN, + shortcut, ReLU.
 * The second conv is not dilated, as in MMSegmentation (torchvision's BasicBlock refuses
 * dilation; MMSegmentation's dilated ResNet-18 is the one PSPNet-R18 results come from).
 */
function basicBlock(x: ST, ctx: BuildContext, name: string, inChannels: number, planes: number, stride: number, dilation: number): ST {
  let y = conv(x, ctx, `${name}.conv1`, planes, 3, { strides: stride, dilation });
  y = conv(y, ctx, `${name}.conv2`, planes, 3, { relu: false });
  return addRelu([y, shortcut(x, ctx, name, inChannels, planes, stride)], name);
}

/** Bottleneck: 1×1 (planes), 3×3 (planes; stride, dilation), 1×1 (4·planes) + BN, + shortcut, ReLU. */
function bottleneckBlock(x: ST, ctx: BuildContext, name: string, inChannels: number, planes: number, stride: number, dilation: number): ST {
  const out = planes * EXPANSION.bottleneck;
  let y = conv(x, ctx, `${name}.conv1`, planes, 1);
  y = conv(y, ctx, `${name}.conv2`, planes, 3, { strides: stride, dilation });
  y = conv(y, ctx, `${name}.conv3`, out, 1, { relu: false });
  return addRelu([y, shortcut(x, ctx, name, inChannels, out, stride)], name);
}

const BLOCKS = { basic: basicBlock, bottleneck: bottleneckBlock } as const;

/** Dilation of each block of a stage: the first one halved under `contractDilation`. */
export function blockDilations(blocks: number, dilation: number, contract: boolean): number[] {
  return Array.from({ length: blocks }, (_, b) => (b === 0 && contract && dilation > 1 ? dilation / 2 : dilation));
}

/**
 * A ResNet encoder implementing the `Backbone` contract of @gpl/core. `build` returns
 *   c1: stem output (before max pooling), stride 2;
 *   c2…c5: outputs of stages 1–4, strides 4, 8, then 16 and 32 or their dilated equivalents
 * (c4 and c5 keep stride 8 at output stride 8; c5 keeps stride 16 at output stride 16).
 * Widths at full width: 64, then 64·2^s (basic) or 256·2^s (bottleneck) for s = 0…3.
 */
export class ResNet implements Backbone {
  readonly name: string;
  readonly variant: ResNetName;
  readonly config: ResNetConfig;
  /** The true constraint: every stage divides the size evenly when H and W are multiples of the output stride. */
  readonly sizeDivisor: number;
  /** Channels of the stem convolutions (after the width multiplier). */
  readonly stemChannels: readonly number[];
  /** Planes of stages 1–4 (after the width multiplier); block outputs are planes × expansion. */
  readonly planes: readonly number[];
  private readonly specs: FeatureSpecs;

  constructor(options: ResNetOptions) {
    const { variant: name, ...config } = options;
    if (!Object.prototype.hasOwnProperty.call(RESNET_VARIANTS, name)) {
      throw new RangeError(`[@gpl/resnet] unknown ResNet '${String(name)}'; known: ${RESNET_NAMES.map((n) => `'${n}'`).join(', ')}.`);
    }
    this.variant = name;
    this.config = resolveResNetConfig(config);
    const c = this.config;
    this.name = `${name}${c.deepStem ? '-v1c' : ''}-d${c.outputStride}`;
    this.sizeDivisor = c.outputStride;
    const m = c.widthMultiplier;
    this.stemChannels = c.deepStem
      ? [scaleWidth(STEM_CHANNELS / 2, m), scaleWidth(STEM_CHANNELS / 2, m), scaleWidth(STEM_CHANNELS, m)]
      : [scaleWidth(STEM_CHANNELS, m)];
    this.planes = [0, 1, 2, 3].map((s) => scaleWidth(BASE_PLANES * 2 ** s, m));
    const expansion = EXPANSION[RESNET_VARIANTS[name].block];
    const { strides } = STAGE_LAYOUTS[c.outputStride];
    let stride = 4;
    const keys: FeatureKey[] = ['c2', 'c3', 'c4', 'c5'];
    const specs: FeatureSpecs = { c1: { channels: this.stemChannels[this.stemChannels.length - 1], stride: 2 } };
    keys.forEach((k, s) => {
      stride *= strides[s];
      specs[k] = { channels: this.planes[s] * expansion, stride };
    });
    this.specs = Object.freeze(specs);
  }

  /** c1…c5 with their real strides (see the class comment). */
  featureSpecs(): FeatureSpecs {
    return this.specs;
  }

  /**
   * Creates the encoder's layers on `input` [N, H, W, 3] (H, W multiples of `sizeDivisor`,
   * checked now if the shape is known, else when the model runs) and returns c1…c5.
   */
  build(input: ST): FeatureMaps {
    const c = this.config;
    const ctx: BuildContext = { seed: c.seed, bnMomentum: c.bnMomentum };
    const [, h, w] = input.shape;
    if (h != null && w != null) checkInputSize('@gpl/resnet', h, w, this.sizeDivisor);
    let x = new InputSizeCheck({ name: 'input_check', divisor: this.sizeDivisor, packageName: '@gpl/resnet' }).apply(input) as ST;
    if (c.deepStem) {
      const [a, b, d] = this.stemChannels;
      x = conv(x, ctx, 'stem.0', a, 3, { strides: 2 });
      x = conv(x, ctx, 'stem.3', b, 3);
      x = conv(x, ctx, 'stem.6', d, 3);
    } else {
      x = conv(x, ctx, 'conv1', this.stemChannels[0], 7, { strides: 2 });
    }
    const maps: FeatureMaps = { c1: x };
    // PyTorch pads max pooling with −∞; after a ReLU every value is ≥ 0 and each window holds
    // at least one real pixel, so zero padding gives the same maxima.
    x = tfl.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'maxpool.pad' }).apply(x) as ST;
    x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'maxpool' }).apply(x) as ST;

    const block = RESNET_VARIANTS[this.variant].block;
    const expansion = EXPANSION[block];
    const { strides, dilations } = STAGE_LAYOUTS[c.outputStride];
    const depths = RESNET_VARIANTS[this.variant].depths;
    let inChannels = this.stemChannels[this.stemChannels.length - 1];
    const keys: FeatureKey[] = ['c2', 'c3', 'c4', 'c5'];
    for (let s = 0; s < 4; s++) {
      const blockDil = blockDilations(depths[s], dilations[s], c.contractDilation);
      for (let b = 0; b < depths[s]; b++) {
        x = BLOCKS[block](x, ctx, `layer${s + 1}.${b}`, inChannels, this.planes[s], b === 0 ? strides[s] : 1, blockDil[b]);
        inChannels = this.planes[s] * expansion;
      }
      maps[keys[s]] = x;
    }
    return maps;
  }
}

/**
 * The encoder of a registered variant, e.g. `createResNet('resnet50', { outputStride: 8,
 * deepStem: true, widthMultiplier: 1 })` for PSPNet's dilated ResNetV1c-50. Unset options
 * take `defaultResNetConfig`.
 */
export function createResNet(name: ResNetName, config: Partial<ResNetConfig> = defaultResNetConfig): ResNet {
  if (typeof name !== 'string') throw new TypeError(`[@gpl/resnet] model name must be a string, received ${typeof name}.`);
  return new ResNet({ ...resolveResNetConfig(config), variant: name });
}

export interface ResNetModelOptions {
  /** Fixed input [height, width] (multiples of `sizeDivisor`), or null (default) for any size. */
  readonly inputSize?: readonly [number, number] | null;
}

/**
 * The encoder alone as a LayersModel: image [N, H, W, 3] → [c1, c2, c3, c4, c5]. Use it to
 * extract features, or as the container of converted ImageNet weights (build it, set its
 * weights from a PyTorch state dict via `toPyTorchName`, save it with `folderIOHandler`).
 */
export function buildResNetModel(backbone: ResNet, options: ResNetModelOptions = {}): tfl.LayersModel {
  const size = options.inputSize ?? null;
  if (size) checkInputSize('@gpl/resnet', size[0], size[1], backbone.sizeDivisor);
  const input = tfl.input({ shape: [size?.[0] ?? null, size?.[1] ?? null, 3], name: 'image' });
  const maps = backbone.build(input);
  const outputs = (['c1', 'c2', 'c3', 'c4', 'c5'] as const).map((k) => maps[k] as ST);
  return tfl.model({ inputs: input, outputs, name: backbone.name });
}

/** Parameter counts of a model built on a ResNet, split as the references count them. */
export interface ResNetSummary extends ModelSummary {
  /** Trainable parameters of the encoder layers (stem, layer1–layer4): PyTorch `parameters()` of the backbone without `fc`. */
  readonly backbone: number;
  /** Trainable parameters of every other layer (a decode head, …). */
  readonly head: number;
  /** BatchNorm moving means and variances (PyTorch buffers, not parameters): `nonTrainable`. */
  readonly bnStatistics: number;
}

/** Whether a layer name belongs to the encoder (stem or a stage). */
export function isResNetLayer(layerName: string): boolean {
  return /^(conv1|stem|maxpool|layer[1-4]|input_check)(\.|$)/.test(layerName);
}

/** Parameter counts of a model containing a ResNet (`trainable` is what PyTorch's `parameters()` counts). */
export function summarizeResNet(model: tfl.LayersModel): ResNetSummary {
  const s = summarizeModel(model);
  const backbone = Object.entries(s.byPrefix)
    .filter(([prefix]) => isResNetLayer(prefix))
    .reduce((n, [, v]) => n + v, 0);
  return { ...s, backbone, head: s.trainable - backbone, bnStatistics: s.nonTrainable };
}

/** A printable table of a summary: one row per top-level prefix, then the totals. */
export function formatResNetSummary(s: ResNetSummary, title = 'ResNet'): string {
  return formatParameterTable(`${title}: trainable parameters by prefix`, s.byPrefix, [
    { label: 'backbone', count: s.backbone },
    { label: 'head', count: s.head },
    { label: 'trainable', count: s.trainable, note: `${(s.trainable / 1e6).toFixed(2)}M, as PyTorch counts` },
    { label: 'BN statistics', count: s.bnStatistics },
    { label: 'total', count: s.total },
  ]);
}

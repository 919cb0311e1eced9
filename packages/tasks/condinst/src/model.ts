/**
 * The CondInst network as one tfjs LayersModel (AdelaiDet `CondInst` with `FCOS`, REFERENCE.md §7):
 *
 *   ResNet (c3, c4, c5) → FPN P3–P5, P6/P7 from P5 (3×3 stride-2 convs, ReLU before P7)
 *   → FCOS head shared over levels: classification and box towers (4 × conv 3×3 + GroupNorm +
 *     ReLU each), class logits, (l, t, r, b) = ReLU(scaleₗ · conv) in strides, centre-ness on the
 *     box tower, and the controller (conv 3×3 → 169 dynamic-head parameters) on the box tower
 *   → mask branch on P3–P5: conv 3×3 + BN + ReLU each, P4/P5 aligned-bilinear upsampled to P3 and
 *     summed, 4 × (conv 3×3 + BN + ReLU), 1×1 → 8 channels at stride 8.
 *
 * Outputs: one tensor per level `[N, h, w, C + 4 + 1 + 169]` (class logits, box distances,
 * centre-ness logit, controller parameters; `splitHead` names the parts), then the mask features
 * `[N, H/8, W/8, 8]`. Initialisation follows AdelaiDet: towers and predictors N(0, 0.01) with the
 * class bias −log(99) (prior 0.01), FPN and mask branch Kaiming-uniform (a = 1).
 *
 * Deliberate differences for training from scratch at CPU sizes: widths scale with `width`
 * (1 is the reference network), and the ResNet's BatchNorm trains (detectron2 freezes it, and
 * stage 1, because it starts from ImageNet weights this project cannot download).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { convUnit, layerSeed, scaleWidth } from '@gpl/core';
import { createResNet, type ResNetName } from '@gpl/resnet';
import { CONDINST_HEAD, dynamicParamLayout } from './dynamic-head';
import { FCOS_STRIDES } from './fcos-targets';
import { AlignedUpsample, GroupNorm, Scale, groupsFor } from './layers';

type ST = tfl.SymbolicTensor;

/** Options of {@link buildCondInst}. */
export interface CondInstModelOptions {
  readonly numClasses: number;
  /** Encoder (ResNet-50 in the paper). */
  readonly backbone: ResNetName;
  /** Width multiplier of the encoder, FPN, head and mask branch (1: the reference network). */
  readonly width: number;
  readonly seed: number;
  /** Convolutions per FCOS tower (4). */
  readonly towerConvs?: number;
  /** Convolutions of the mask branch's tower (4). */
  readonly maskConvs?: number;
}

/** Mask-branch output stride and the mask head's output stride. */
export const MASK_FEATURE_STRIDE = 8;
export const MASK_OUT_STRIDE = 4;
/** Channels of one level's head output besides the classes: 4 box distances, centre-ness, 169 parameters. */
export const HEAD_EXTRA = 4 + 1 + dynamicParamLayout(CONDINST_HEAD).total;

const normal = (seed: number) => tfl.initializers.randomNormal({ mean: 0, stddev: 0.01, seed });
const kaimingUniform = (seed: number) => tfl.initializers.varianceScaling({ scale: 1, mode: 'fanIn', distribution: 'uniform', seed });

/** A 3×3 (or k×k) stride-1 convolution with bias, 'same' padding (symmetric at stride 1). */
type Initializer = ReturnType<typeof tfl.initializers.zeros>;

function conv(x: ST, name: string, filters: number, kernelSize: number, init: Initializer, biasInit: Initializer = tfl.initializers.zeros()): ST {
  return tfl.layers.conv2d({ filters, kernelSize, padding: 'same', useBias: true, kernelInitializer: init, biasInitializer: biasInit, name }).apply(x) as ST;
}

/** Layers applied to every level with shared weights. */
class SharedTower {
  private readonly layers: tfl.layers.Layer[][] = [];
  constructor(prefix: string, convs: number, channels: number, seed: number) {
    for (let i = 0; i < convs; i++) {
      const name = `${prefix}.${3 * i}`;
      this.layers.push([
        tfl.layers.conv2d({ filters: channels, kernelSize: 3, padding: 'same', useBias: true, kernelInitializer: normal(layerSeed(seed, name)), name }),
        new GroupNorm({ groups: groupsFor(channels), name: `${prefix}.${3 * i + 1}` }),
        tfl.layers.reLU({ name: `${prefix}.${3 * i + 2}` }),
      ]);
    }
  }
  apply(x: ST): ST {
    return this.layers.flat().reduce((y, layer) => layer.apply(y) as ST, x);
  }
}

/** Builds the network for any input size whose sides are multiples of 32 (checked by the encoder). */
export function buildCondInst(o: CondInstModelOptions): tfl.LayersModel {
  const { numClasses, seed, width } = o;
  const encoder = createResNet(o.backbone, { outputStride: 32, widthMultiplier: width, seed });
  const input = tfl.input({ shape: [null, null, 3], name: 'image' });
  const maps = encoder.build(input);
  const channels = scaleWidth(256, width);

  // FPN (detectron2 names): laterals 1×1, top-down nearest ×2, outputs 3×3; P6, P7 from P5.
  const lateral = (['c3', 'c4', 'c5'] as const).map((k, i) => conv(maps[k] as ST, `fpn_lateral${i + 3}`, channels, 1, kaimingUniform(layerSeed(seed, `fpn_lateral${i + 3}`))));
  const merged: ST[] = [lateral[2]];
  for (let i = 1; i >= 0; i--) {
    const up = tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `fpn_up${i + 3}` }).apply(merged[0]) as ST;
    merged.unshift(tfl.layers.add({ name: `fpn_merge${i + 3}` }).apply([lateral[i], up]) as ST);
  }
  const p = merged.map((m, i) => conv(m, `fpn_output${i + 3}`, channels, 3, kaimingUniform(layerSeed(seed, `fpn_output${i + 3}`))));
  const p6 = convUnit(p[2], { name: 'top_block.p6', filters: channels, kernelSize: 3, strides: 2, bn: false, relu: false, bias: true, seed: layerSeed(seed, 'top_block.p6') });
  const p7 = convUnit(tfl.layers.reLU({ name: 'top_block.p6_relu' }).apply(p6) as ST, { name: 'top_block.p7', filters: channels, kernelSize: 3, strides: 2, bn: false, relu: false, bias: true, seed: layerSeed(seed, 'top_block.p7') });
  const pyramid = [...p, p6, p7];

  // FCOS head with the controller, shared over levels.
  const convs = o.towerConvs ?? 4;
  const clsTower = new SharedTower('fcos_head.cls_tower', convs, channels, seed);
  const boxTower = new SharedTower('fcos_head.bbox_tower', convs, channels, seed);
  const prior = -Math.log((1 - 0.01) / 0.01);
  const predictor = (name: string, filters: number, bias = 0) =>
    tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: true, kernelInitializer: normal(layerSeed(seed, name)), biasInitializer: tfl.initializers.constant({ value: bias }), name });
  const clsLogits = predictor('fcos_head.cls_logits', numClasses, prior);
  const bboxPred = predictor('fcos_head.bbox_pred', 4);
  const ctrness = predictor('fcos_head.ctrness', 1);
  const controller = predictor('controller', dynamicParamLayout(CONDINST_HEAD).total);
  const heads = pyramid.map((feature, l) => {
    const cls = clsTower.apply(feature);
    const box = boxTower.apply(feature);
    const scaled = new Scale({ name: `fcos_head.scales.${l}` }).apply(bboxPred.apply(box) as ST) as ST;
    const reg = tfl.layers.reLU({ name: `fcos_head.reg_relu.${l}` }).apply(scaled) as ST;
    return tfl.layers.concatenate({ axis: -1, name: `head_p${l + 3}` }).apply([clsLogits.apply(cls) as ST, reg, ctrness.apply(box) as ST, controller.apply(box) as ST]) as ST;
  });

  // Mask branch on P3–P5.
  const maskChannels = scaleWidth(128, width);
  const unit = (x: ST, name: string, filters: number) => convUnit(x, { name, filters, kernelSize: 3, seed: layerSeed(seed, name) });
  const refined = p.map((f, i) => unit(f, `mask_branch.refine.${i}`, maskChannels));
  let m = refined[0];
  refined.slice(1).forEach((r, i) => {
    const up = new AlignedUpsample({ factor: 2 ** (i + 1), name: `mask_branch.up.${i + 1}` }).apply(r) as ST;
    m = tfl.layers.add({ name: `mask_branch.sum.${i + 1}` }).apply([m, up]) as ST;
  });
  for (let i = 0; i < (o.maskConvs ?? 4); i++) m = unit(m, `mask_branch.tower.${i}`, maskChannels);
  const maskFeatures = conv(m, 'mask_branch.tower.out', CONDINST_HEAD.inChannels, 1, kaimingUniform(layerSeed(seed, 'mask_branch.tower.out')));

  return tfl.model({ inputs: input, outputs: [...heads, maskFeatures], name: `condinst-${o.backbone}` });
}

/** One level's head output split into its parts, each `[N, h, w, ·]`. */
export interface HeadParts {
  readonly logits: tf.Tensor4D;
  readonly regression: tf.Tensor4D;
  readonly centerness: tf.Tensor4D;
  readonly params: tf.Tensor4D;
}

/** Splits a level's `[N, h, w, C + 174]` output into class logits, distances, centre-ness and parameters. */
export function splitHead(head: tf.Tensor4D, numClasses: number): HeadParts {
  const [logits, regression, centerness, params] = tf.split(head, [numClasses, 4, 1, HEAD_EXTRA - 5], 3) as tf.Tensor4D[];
  return { logits, regression, centerness, params };
}

/** The model's outputs as levels and mask features. */
export function condInstOutputs(outputs: tf.Tensor | tf.Tensor[]): { levels: tf.Tensor4D[]; maskFeatures: tf.Tensor4D } {
  const list = outputs as tf.Tensor4D[];
  if (!Array.isArray(list) || list.length !== FCOS_STRIDES.length + 1) {
    throw new RangeError(`[@gpl/condinst] expected ${FCOS_STRIDES.length} level outputs and the mask features, received ${Array.isArray(list) ? list.length : 1} tensors.`);
  }
  return { levels: list.slice(0, FCOS_STRIDES.length), maskFeatures: list[FCOS_STRIDES.length] };
}

/**
 * The segmentation models a run can train, as data: registry key → builder. The task wires
 * encoders into decoders here (PSPNet and DeepLabV3+ receive a ResNet `Backbone`), so the
 * backbone packages never import each other.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildDeepLabV3Plus } from '@gpl/deeplabv3plus';
import { buildHRNetSegmenter, toPyTorchName as hrnetTorchName } from '@gpl/hrnet';
import { buildPSPNet } from '@gpl/pspnet';
import { createResNet, isResNetLayer, toPyTorchName as resnetTorchName, type ResNetName } from '@gpl/resnet';

/** What every registered model is built from. */
export interface ModelOptions {
  readonly numClasses: number;
  /** Width multiplier of encoder and head (1 = the published model). */
  readonly width: number;
  /** Seed of the weight initialisation. */
  readonly seed: number;
}

/** One registry entry. */
export interface ModelEntry {
  /** Paper / reference name, for logs. */
  readonly title: string;
  /** Weight of the auxiliary head's cross-entropy (PSPNet 0.4; 0 without an auxiliary head). */
  readonly auxWeight: number;
  build(o: ModelOptions): tfl.LayersModel;
  /** What a pretrained encoder file must supply (`--pretrained`): the encoder's weights, their PyTorch names, and which checkpoints fit. */
  readonly encoder: {
    readonly isEncoderWeight: (weightKey: string) => boolean;
    readonly toTorchName: (weightKey: string) => string;
    readonly expected: string;
  };
}

// A ResNet encoder wired into a decoder. Encoder and head get distinct seeds derived from the run seed.
const resnetDecoder = (
  decoder: (encoder: ReturnType<typeof createResNet>, o: { numClasses: number; widthMultiplier: number; seed: number }) => tfl.LayersModel,
  outputStride: 8 | 16,
  auxWeight: number,
) => (encoder: ResNetName, title: string): ModelEntry => ({
  title,
  auxWeight,
  encoder: {
    isEncoderWeight: (key) => isResNetLayer(key.slice(0, key.lastIndexOf('/'))),
    toTorchName: resnetTorchName,
    // The deep (3×3) stem of mmseg's ResNetV1c, as PSPNet and DeepLabV3+ use it.
    expected: `an mmseg ResNetV1c-${encoder.slice(6)} state dict (deep stem, e.g. open-mmlab://${encoder}_v1c, or an mmseg ${title} checkpoint) at the run's width`,
  },
  build: (o) =>
    decoder(createResNet(encoder, { outputStride, deepStem: true, widthMultiplier: o.width, seed: o.seed * 2 + 1 }), {
      numClasses: o.numClasses,
      widthMultiplier: o.width,
      seed: o.seed * 2 + 2,
    }),
});

// PSPNet: dilated encoder at output stride 8, auxiliary head weighted 0.4. DeepLabV3+: OS 16, no auxiliary head.
const pspnet = resnetDecoder(buildPSPNet, 8, 0.4);
const deeplab = resnetDecoder(buildDeepLabV3Plus, 16, 0);

const hrnet = (name: 'hrnet-w18-small' | 'hrnet-w48', title: string): ModelEntry => ({
  title,
  auxWeight: 0,
  encoder: {
    isEncoderWeight: (key) => !key.startsWith('last_layer.'),
    toTorchName: hrnetTorchName,
    expected: `an ${title} state dict (HRNet-Semantic-Segmentation's ImageNet model or an mmseg checkpoint) at the run's width`,
  },
  build: (o) => buildHRNetSegmenter(name, { numClasses: o.numClasses, widthMultiplier: o.width, seed: o.seed * 2 + 1 }),
});

/** Registry of trainable segmentation models (students and teachers of the paper). */
export const SEG_MODELS: Readonly<Record<string, ModelEntry>> = Object.freeze({
  'pspnet-r18': pspnet('resnet18', 'PSPNet-R18 (d8)'),
  'pspnet-r50': pspnet('resnet50', 'PSPNet-R50 (d8)'),
  'pspnet-r101': pspnet('resnet101', 'PSPNet-R101 (d8)'),
  'hrnet-w18-small': hrnet('hrnet-w18-small', 'HRNetV2-W18-small'),
  'hrnet-w48': hrnet('hrnet-w48', 'HRNetV2-W48'),
  'deeplabv3plus-r50': deeplab('resnet50', 'DeepLabV3+-R50 (OS16)'),
  'deeplabv3plus-r101': deeplab('resnet101', 'DeepLabV3+-R101 (OS16)'),
});

export const SEG_MODEL_NAMES: readonly string[] = Object.freeze(Object.keys(SEG_MODELS));

/** Registry lookup that fails loudly with the list of valid names. */
export function modelEntry(name: string): ModelEntry {
  const e = Object.prototype.hasOwnProperty.call(SEG_MODELS, name) ? SEG_MODELS[name] : undefined;
  if (!e) throw new RangeError(`[seg] option 'model': expected one of ${SEG_MODEL_NAMES.join(', ')}, received '${name}'.`);
  return e;
}

/** Builds a registered model. */
export function createSegModel(name: string, o: ModelOptions): tfl.LayersModel {
  return modelEntry(name).build(o);
}

/**
 * DeepLabV3+ (Chen et al., "Encoder-Decoder with Atrous Separable Convolution for Semantic
 * Image Segmentation", ECCV 2018) on tfjs-layers, on any `Backbone`. This is the paper's
 * output-stride-16 model (REFERENCE.md §6; VainF/DeepLabV3Plus-Pytorch's layout), not
 * MMSegmentation's d8 variant (512-channel depthwise-separable ASPP at rates 12/24/36,
 * separable decoder convs, auxiliary head):
 *
 *   decode.aspp.0          1×1 conv (asppChannels) + BN + ReLU on c5
 *   decode.aspp.1 … 3      3×3 convs at rates 6, 12, 18 (× 16 / c5 stride) + BN + ReLU
 *   decode.aspp.4.pool     image pooling: global average, `decode.aspp.4.conv` 1×1 + BN + ReLU,
 *                          `decode.aspp.4.up` back to c5's size
 *   decode.aspp.concat     5 × asppChannels
 *   decode.aspp.project    1×1 conv (asppChannels) + BN + ReLU, `decode.aspp.dropout` 0.1
 *   decode.lowlevel        1×1 conv (48) + BN + ReLU on c2
 *   decode.up              ASPP output resized to c2's size (×4 at output stride 16)
 *   decode.concat          [upsampled ASPP, low-level]  (asppChannels + 48)
 *   decode.conv1, conv2    3×3 convs (decoderChannels) + BN + ReLU
 *   decode.dropout/.cls    Dropout2d 0.1, 1×1 classifier; `logits` resizes to the input (×4)
 *
 * The encoder's layers keep their own names (e.g. `layer4.0.conv2`), so encoder weights
 * import into a whole DeepLabV3+ by name.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { AdaptiveAvgPool2D, checkInputSize, classifierHead, convUnit, formatParameterTable, layerSeed, millionsNote, resizeToReference, scaleWidth, summarizeModel, type Backbone, type ModelSummary } from '@gpl/core';
import { defaultDeepLabV3PlusConfig, resolveDeepLabV3PlusConfig, type DeepLabV3PlusConfig } from './config';

type ST = tfl.SymbolicTensor;

/** The output stride the configured ASPP rates refer to (Chen et al.). */
const RATES_STRIDE = 16;

/** ASPP rates for an encoder whose c5 has stride `stride`: the configured (OS16) rates × 16 / stride. */
export function asppRatesFor(rates: readonly number[], stride: number): number[] {
  return rates.map((r) => Math.max(1, Math.round((r * RATES_STRIDE) / stride)));
}

function checkBackbone(backbone: Backbone, c: DeepLabV3PlusConfig): void {
  if (backbone == null || typeof backbone.featureSpecs !== 'function' || typeof backbone.build !== 'function') {
    throw new TypeError(
      '[@gpl/deeplabv3plus] buildDeepLabV3Plus: expected a Backbone (featureSpecs(), build(input), sizeDivisor), e.g. createResNet from @gpl/resnet.',
    );
  }
  const specs = backbone.featureSpecs();
  for (const [field, key] of [['inFeature', c.inFeature], ['lowLevelFeature', c.lowLevelFeature]] as const) {
    if (!specs[key]) {
      throw new RangeError(
        `[@gpl/deeplabv3plus] buildDeepLabV3Plus: backbone '${backbone.name}' has no feature '${key}' ` +
          `(it has ${Object.keys(specs).join(', ')}); set config.${field} to one of those.`,
      );
    }
  }
  const high = specs[c.inFeature]!.stride;
  const low = specs[c.lowLevelFeature]!.stride;
  if (low > high) {
    throw new RangeError(
      `[@gpl/deeplabv3plus] buildDeepLabV3Plus: the low-level feature '${c.lowLevelFeature}' (stride ${low}) must not be coarser than '${c.inFeature}' (stride ${high}).`,
    );
  }
  if (c.inputSize) checkInputSize('@gpl/deeplabv3plus', c.inputSize[0], c.inputSize[1], backbone.sizeDivisor);
}

/**
 * Builds DeepLabV3+ on `backbone`: image [N, H, W, 3] → logits [N, H, W, numClasses]. Apply
 * with `{ training: true }` inside `optimizer.minimize` to train (batch statistics, moving
 * averages updated, dropout on). H and W must be multiples of `backbone.sizeDivisor` (fixed
 * by `config.inputSize`, or checked when the model runs).
 *
 * Parameters at full width (trainable, as PyTorch counts), 19 classes, torchvision-layout
 * ResNet-50 at output stride 16: 40,351,155 (encoder 23,508,032 + head 16,843,123); with one
 * decoder conv (`decoderConvs: 1`, VainF's layout) 39,760,819. The GPL paper's Table 6 lists
 * DeepLabV3+ (R50) as 39.3M, which is MMSegmentation's d8 model (ResNetV1c-50, separable
 * 512-channel head, no auxiliary head: 41,225,187) counted in units of 2^20 (39.32). See
 * README.md "Parameter counts".
 */
export function buildDeepLabV3Plus(backbone: Backbone, config: Partial<DeepLabV3PlusConfig> = defaultDeepLabV3PlusConfig): tfl.LayersModel {
  const c = resolveDeepLabV3PlusConfig(config);
  checkBackbone(backbone, c);
  const specs = backbone.featureSpecs();
  const m = c.widthMultiplier;
  const asppChannels = scaleWidth(c.asppChannels, m);
  const lowLevelChannels = scaleWidth(c.lowLevelChannels, m);
  const decoderChannels = scaleWidth(c.decoderChannels, m);
  const unit = (x: ST, name: string, filters: number, kernelSize: number, dilation = 1) =>
    convUnit(x, { name, filters, kernelSize, dilation, seed: layerSeed(c.seed, name), bnMomentum: c.bnMomentum });

  const input = tfl.input({ shape: [c.inputSize?.[0] ?? null, c.inputSize?.[1] ?? null, 3], name: 'image' });
  const features = backbone.build(input);
  const x = features[c.inFeature] as ST;

  const rates = asppRatesFor(c.asppRates, specs[c.inFeature]!.stride);
  const branches = [unit(x, 'decode.aspp.0', asppChannels, 1), ...rates.map((r, i) => unit(x, `decode.aspp.${i + 1}`, asppChannels, 3, r))];
  const poolIndex = rates.length + 1;
  let pooled = new AdaptiveAvgPool2D({ bins: [1, 1], name: `decode.aspp.${poolIndex}.pool` }).apply(x) as ST;
  pooled = unit(pooled, `decode.aspp.${poolIndex}.conv`, asppChannels, 1);
  branches.push(resizeToReference(pooled, x, `decode.aspp.${poolIndex}.up`));
  let aspp = tfl.layers.concatenate({ axis: -1, name: 'decode.aspp.concat' }).apply(branches) as ST;
  aspp = unit(aspp, 'decode.aspp.project', asppChannels, 1);
  if (c.asppDropout > 0) aspp = tfl.layers.dropout({ rate: c.asppDropout, name: 'decode.aspp.dropout' }).apply(aspp) as ST;

  const lowLevel = unit(features[c.lowLevelFeature] as ST, 'decode.lowlevel', lowLevelChannels, 1);
  const up = resizeToReference(aspp, lowLevel, 'decode.up');
  let y = tfl.layers.concatenate({ axis: -1, name: 'decode.concat' }).apply([up, lowLevel]) as ST;
  for (let k = 1; k <= c.decoderConvs; k++) y = unit(y, `decode.conv${k}`, decoderChannels, 3);
  const logits = resizeToReference(classifierHead(y, 'decode', c.numClasses, c.dropout, c.seed), input, 'logits');
  return tfl.model({ inputs: input, outputs: logits, name: `deeplabv3plus-${backbone.name}` });
}

/** Parameter counts of a DeepLabV3+, split as the references count them. */
export interface DeepLabV3PlusSummary extends ModelSummary {
  /** Trainable parameters of the encoder (every layer outside the head). */
  readonly backbone: number;
  /** Trainable parameters of the ASPP (`decode.aspp.*`). */
  readonly aspp: number;
  /** Trainable parameters of the decoder and classifier (the rest of `decode.*`). */
  readonly decoder: number;
  /** BatchNorm moving means and variances (PyTorch buffers, not parameters): `nonTrainable`. */
  readonly bnStatistics: number;
}

/** Parameter counts of a model built by `buildDeepLabV3Plus` (`trainable` is what PyTorch's `parameters()` counts). */
export function summarizeDeepLabV3Plus(model: tfl.LayersModel): DeepLabV3PlusSummary {
  const s = summarizeModel(model);
  const count = (w: tfl.LayerVariable) => w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
  const aspp = model.layers
    .filter((l) => l.name.startsWith('decode.aspp.'))
    .reduce((n, l) => n + l.trainableWeights.reduce((k, w) => k + count(w), 0), 0);
  const head = s.byPrefix['decode'] ?? 0;
  return { ...s, backbone: s.trainable - head, aspp, decoder: head - aspp, bnStatistics: s.nonTrainable };
}

/** A printable table of a summary: one row per top-level prefix, then the totals. */
export function formatDeepLabV3PlusSummary(s: DeepLabV3PlusSummary, title = 'DeepLabV3+'): string {
  return formatParameterTable(
    `${title}: trainable parameters by prefix`,
    s.byPrefix,
    [
      { label: 'backbone', count: s.backbone },
      { label: 'ASPP', count: s.aspp },
      { label: 'decoder', count: s.decoder },
      { label: 'trainable', count: s.trainable, note: millionsNote(s.trainable) },
      { label: 'BN statistics', count: s.bnStatistics },
      { label: 'total', count: s.total },
    ],
    16,
  );
}

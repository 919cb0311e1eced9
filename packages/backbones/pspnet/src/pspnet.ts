/**
 * PSPNet (Zhao et al., "Pyramid Scene Parsing Network", CVPR 2017) on tfjs-layers, with the
 * head of MMSegmentation's PSPHead and FCNHead (REFERENCE.md §6) on any `Backbone`:
 *
 *   decode.psp.<i>.pool   adaptive average pooling of c5 to b×b bins, b = 1, 2, 3, 6
 *   decode.psp.<i>.conv   1×1 conv (channels) + BN + ReLU, then `decode.psp.<i>.up` to c5's size
 *   decode.concat         [c5, branch 0 … branch 3]  (C5 + 4·channels)
 *   decode.bottleneck     3×3 conv (channels) + BN + ReLU
 *   decode.dropout/.cls   Dropout2d 0.1, 1×1 classifier; `logits` resizes to the input
 *   aux.conv              on c4: 3×3 conv (auxChannels) + BN + ReLU
 *   aux.dropout/.cls      Dropout2d 0.1, 1×1 classifier; `aux_logits` resizes to the input
 *
 * The encoder's layers keep their own names (e.g. `layer3.0.conv1`), so encoder weights
 * import into a whole PSPNet by name.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { AdaptiveAvgPool2D, checkInputSize, classifierHead, convUnit, formatParameterTable, layerSeed, millionsNote, resizeToReference, scaleWidth, summarizeModel, type Backbone, type ModelSummary } from '@gpl/core';
import { defaultPSPNetConfig, resolvePSPNetConfig, type PSPNetConfig } from './config';

type ST = tfl.SymbolicTensor;

function checkBackbone(backbone: Backbone, c: PSPNetConfig): void {
  if (backbone == null || typeof backbone.featureSpecs !== 'function' || typeof backbone.build !== 'function') {
    throw new TypeError('[@gpl/pspnet] buildPSPNet: expected a Backbone (featureSpecs(), build(input), sizeDivisor), e.g. createResNet from @gpl/resnet.');
  }
  const specs = backbone.featureSpecs();
  const needed = c.auxHead ? [c.inFeature, c.auxFeature] : [c.inFeature];
  for (const key of needed) {
    if (!specs[key]) {
      throw new RangeError(
        `[@gpl/pspnet] buildPSPNet: backbone '${backbone.name}' has no feature '${key}' (it has ${Object.keys(specs).join(', ')}); ` +
          `set config.${key === c.inFeature ? 'inFeature' : 'auxFeature'} to one of those${key === c.auxFeature ? ' or auxHead: false' : ''}.`,
      );
    }
  }
  if (c.inputSize) checkInputSize('@gpl/pspnet', c.inputSize[0], c.inputSize[1], backbone.sizeDivisor);
}

/**
 * Builds PSPNet on `backbone`: image [N, H, W, 3] → logits [N, H, W, numClasses], and with
 * `auxHead` a second output, the auxiliary logits [N, H, W, numClasses] for the training loss
 * (weight `auxLossWeight`). Apply with `{ training: true }` inside `optimizer.minimize` to
 * train (batch statistics, moving averages updated, dropout on); `inferenceModel` drops the
 * auxiliary branch. H and W must be multiples of `backbone.sizeDivisor` (fixed by
 * `config.inputSize`, or checked when the model runs).
 *
 * Parameters at full width (trainable, as PyTorch counts), 19 classes, ResNetV1c-18 at output
 * stride 8: 24,055,667 without the auxiliary head (encoder 11,195,744 + head 12,859,923) and
 * 24,650,886 with it. The GPL paper's Table 6 lists PSPRes18 as 22.9M: 24,055,667 / 2^20 =
 * 22.94, i.e. the same network counted in units of 2^20 (its ADE20K row, 23.0M, is the
 * 150-class head: 24,122,870 / 2^20 = 23.005). See README.md "Parameter counts".
 */
export function buildPSPNet(backbone: Backbone, config: Partial<PSPNetConfig> = defaultPSPNetConfig): tfl.LayersModel {
  const c = resolvePSPNetConfig(config);
  checkBackbone(backbone, c);
  const channels = scaleWidth(c.channels, c.widthMultiplier);
  const auxChannels = scaleWidth(c.auxChannels, c.widthMultiplier);
  const unit = (x: ST, name: string, filters: number, kernelSize: number) =>
    convUnit(x, { name, filters, kernelSize, seed: layerSeed(c.seed, name), bnMomentum: c.bnMomentum });

  const input = tfl.input({ shape: [c.inputSize?.[0] ?? null, c.inputSize?.[1] ?? null, 3], name: 'image' });
  const features = backbone.build(input);
  const x = features[c.inFeature] as ST;

  const branches = c.poolScales.map((bins, i) => {
    let y = new AdaptiveAvgPool2D({ bins: [bins, bins], name: `decode.psp.${i}.pool` }).apply(x) as ST;
    y = unit(y, `decode.psp.${i}.conv`, channels, 1);
    return resizeToReference(y, x, `decode.psp.${i}.up`);
  });
  const concat = tfl.layers.concatenate({ axis: -1, name: 'decode.concat' }).apply([x, ...branches]) as ST;
  const bottleneck = unit(concat, 'decode.bottleneck', channels, 3);
  const logits = resizeToReference(classifierHead(bottleneck, 'decode', c.numClasses, c.dropout, c.seed), input, 'logits');
  if (!c.auxHead) return tfl.model({ inputs: input, outputs: logits, name: `pspnet-${backbone.name}` });

  const aux = unit(features[c.auxFeature] as ST, 'aux.conv', auxChannels, 3);
  const auxLogits = resizeToReference(classifierHead(aux, 'aux', c.numClasses, c.dropout, c.seed), input, 'aux_logits');
  return tfl.model({ inputs: input, outputs: [logits, auxLogits], name: `pspnet-${backbone.name}` });
}

/**
 * The model without its auxiliary branch, for inference and evaluation: the same layers (and
 * weights, shared, not copied), one output `logits`. A model with one output is returned as is.
 */
export function inferenceModel(model: tfl.LayersModel): tfl.LayersModel {
  if (model.outputs.length === 1) return model;
  return tfl.model({ inputs: model.inputs, outputs: model.outputs[0], name: `${model.name}-inference` });
}

/** Parameter counts of a PSPNet, split as the references count them. */
export interface PSPNetSummary extends ModelSummary {
  /** Trainable parameters of the encoder (every layer outside the heads). */
  readonly backbone: number;
  /** Trainable parameters of the pyramid-pooling head (`decode.*`). */
  readonly decodeHead: number;
  /** Trainable parameters of the auxiliary head (`aux.*`), 0 without one. */
  readonly auxHead: number;
  /** Trainable parameters of the inference model (backbone + decode head): what the papers report. */
  readonly inference: number;
  /** BatchNorm moving means and variances (PyTorch buffers, not parameters): `nonTrainable`. */
  readonly bnStatistics: number;
}

/** Parameter counts of a model built by `buildPSPNet` (`trainable` is what PyTorch's `parameters()` counts). */
export function summarizePSPNet(model: tfl.LayersModel): PSPNetSummary {
  const s = summarizeModel(model);
  const decodeHead = s.byPrefix['decode'] ?? 0;
  const auxHead = s.byPrefix['aux'] ?? 0;
  const backbone = s.trainable - decodeHead - auxHead;
  return { ...s, backbone, decodeHead, auxHead, inference: backbone + decodeHead, bnStatistics: s.nonTrainable };
}

/** A printable table of a summary: one row per top-level prefix, then the totals. */
export function formatPSPNetSummary(s: PSPNetSummary, title = 'PSPNet'): string {
  return formatParameterTable(
    `${title}: trainable parameters by prefix`,
    s.byPrefix,
    [
      { label: 'backbone', count: s.backbone },
      { label: 'decode head', count: s.decodeHead },
      { label: 'aux head', count: s.auxHead },
      { label: 'inference', count: s.inference, note: millionsNote(s.inference) },
      { label: 'trainable', count: s.trainable },
      { label: 'BN statistics', count: s.bnStatistics },
      { label: 'total', count: s.total },
    ],
    16,
  );
}

/**
 * Semantic segmentation as an engine task (paper Eq. 2): its data (a dataset descriptor, the
 * augmentation recipe, teacher soft labels checked against their manifest), its models, its loss
 * (CE + aux CE + λ·GPL(softmax(ŷ), y_t)), mIoU evaluation and the drawings of the last one.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { withPretrainedEncoder } from '@gpl/core';
import { readWeightFile, type WeightFile } from '@gpl/weights';
import {
  augmentFor,
  checkSoftLabelManifest,
  formatInputNormalization,
  inputNormalization,
  trainTransform,
  withSoftLabels,
  type AugmentConfig,
  type Dataset,
  type Sample,
  type SegmentationSample,
} from '@gpl/data';
import { GradientNormProbe, splitOutputs, train, type TaskSpec, type TrainOptions, type TrainResult } from '@gpl/engine';
import type { SegConfig } from './config';
import { segDataset } from './datasets';
import { evaluate } from './eval';
import { segmentationLoss } from './losses';
import type { SegMetrics } from './metrics';
import { createSegModel, modelEntry } from './models';
import { writeSampleDrawing } from './overlay';

/** What the seg task keeps from opening its data. */
export interface SegInfo {
  readonly val: Dataset<SegmentationSample>;
  readonly classNames: readonly string[];
  readonly ignoreIndex: number;
  readonly augment: AugmentConfig;
  readonly auxWeight: number;
  /** The encoder's pretrained weights (`--pretrained`), read once when the data opens. */
  readonly pretrained?: WeightFile;
}

/** The GPL target y_t: teacher probabilities resized to the crop, or the one-hot ground truth (zeros on void pixels). */
function perceptualTarget(labels: tf.Tensor3D, numClasses: number, soft?: tf.Tensor4D): tf.Tensor4D {
  if (!soft) return tf.cast(tf.oneHot(tf.cast(labels, 'int32'), numClasses), 'float32') as tf.Tensor4D;
  const [, h, w] = labels.shape;
  if (soft.shape[1] === h && soft.shape[2] === w) return soft;
  // Half-pixel centres: the same pixel-centre convention as @gpl/data's warps.
  return tf.image.resizeBilinear(soft, [h, w], false, true);
}

const evalOptions = (cfg: SegConfig, info: SegInfo) => ({
  mode: 'whole' as const,
  crop: cfg.crop,
  numClasses: info.classNames.length,
  ignoreIndex: info.ignoreIndex,
  mean: info.augment.mean,
  std: info.augment.std,
});

export const segTask: TaskSpec<SegConfig, SegInfo, SegMetrics> = {
  name: 'seg',

  async openData(cfg) {
    const d = segDataset(cfg.dataset);
    const split = d.splitName('train');
    let trainDs: Dataset<SegmentationSample> = await d.open(cfg.dataRoot, split);
    const val = await d.open(cfg.dataRoot, d.splitName('val'));
    const notes: string[] = [];
    if (cfg.softLabels) {
      const m = checkSoftLabelManifest(cfg.softLabels, { dataset: cfg.dataset, split, classNames: trainDs.classNames, ids: await trainDs.sampleIds() });
      notes.push(`soft labels: ${cfg.softLabels} (teacher ${m.model}, stride ${m.stride})`);
      trainDs = withSoftLabels(trainDs, cfg.softLabels);
    }
    const augment = augmentFor(d, cfg.dataRoot, cfg.crop);
    notes.push(formatInputNormalization(inputNormalization(augment.mean, augment.std)));
    return {
      train: trainDs as Dataset<Sample>,
      transform: trainTransform(augment, trainDs.ignoreIndex),
      info: {
        val,
        classNames: trainDs.classNames,
        ignoreIndex: trainDs.ignoreIndex,
        augment,
        auxWeight: modelEntry(cfg.model).auxWeight,
        ...(cfg.pretrained ? { pretrained: readWeightFile(cfg.pretrained) } : {}),
      },
      notes,
    };
  },

  buildModel(cfg, info, log) {
    const model = createSegModel(cfg.model, { numClasses: info.classNames.length, width: cfg.width, seed: cfg.seed });
    const { encoder } = modelEntry(cfg.model);
    return withPretrainedEncoder(
      model,
      info.pretrained,
      { isEncoderWeight: encoder.isEncoderWeight, toTorchName: encoder.toTorchName, caller: "[seg] option 'pretrained'", expectedSource: `${encoder.expected} (${cfg.width})` },
      log,
    );
  },

  perceptualChannels: (info) => info.classNames.length,

  // metrics.csv's grad_ce and grad_gpl (the two terms' gradient norms at the main logits) are
  // recorded only when the run has a perceptual term: without one there is nothing to compare.
  loss({ model, batch, cfg, info, gpl, lambda }) {
    const outputs = splitOutputs(model.apply(batch.images, { training: true }) as tf.Tensor | tf.Tensor[]);
    const target = gpl ? perceptualTarget(batch.labels!, info.classNames.length, batch.softLabels) : undefined;
    return segmentationLoss(
      outputs,
      batch.labels!,
      { ignoreIndex: info.ignoreIndex, auxWeight: info.auxWeight, percepLambda: lambda, percepScale: cfg.percepScale },
      gpl && target ? { fn: (p, t, m) => gpl.compute(p, t, m), target } : undefined,
      gpl && lambda > 0 ? new GradientNormProbe() : undefined,
    );
  },

  addedOptions: { percepScale: 1 },

  evaluate: (model, cfg, info) => evaluate(model, info.val, evalOptions(cfg, info)),

  finalEvaluate: ({ model, cfg, info, runDir, samples }) =>
    evaluate(model, info.val, {
      ...evalOptions(cfg, info),
      onPrediction: async (s, pred, i) => {
        if (i < samples) await writeSampleDrawing(path.join(runDir, 'samples', `${s.id}.png`), s, pred, info.classNames, info.val.palette, info.ignoreIndex);
      },
    }),

  metricRow: (m) => ({ val_miou: m.mIoU, val_pixel_acc: m.pixelAccuracy, val_mean_acc: m.meanAccuracy }),
  score: (m) => m.mIoU,
  describe: (m) => `val mIoU ${(100 * m.mIoU).toFixed(2)}%, pixel accuracy ${(100 * m.pixelAccuracy).toFixed(2)}%`,
  checkpointState: (cfg, info) => ({
    model: cfg.model,
    dataset: cfg.dataset,
    numClasses: info.classNames.length,
    classNames: info.classNames,
    width: cfg.width,
    normalization: inputNormalization(info.augment.mean, info.augment.std),
  }),
  finalRecord: (m, info) => ({ mIoU: m.mIoU, pixelAccuracy: m.pixelAccuracy, meanAccuracy: m.meanAccuracy, iou: m.iou, classNames: info.classNames }),
  metricPlots: [
    { file: 'miou.png', column: 'val_miou', title: 'Validation mIoU', yLabel: 'mIoU (%)', scale: 100 },
    { file: 'pixel_accuracy.png', column: 'val_pixel_acc', title: 'Validation pixel accuracy', yLabel: 'pixel accuracy (%)', scale: 100 },
  ],
};

/** Trains (or resumes) a segmentation run; see the engine's `train`. */
export function trainSeg(cfg: SegConfig, options: TrainOptions = {}): Promise<TrainResult<SegMetrics, SegInfo>> {
  return train(segTask, cfg, options);
}

/**
 * Evaluation of a segmentation model over a split: whole-image or sliding-window inference (the
 * engine's), argmax at the labels' resolution, and the confusion-matrix metrics (mmseg's mIoU).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { normalizeImage, type Dataset, type SegmentationSample } from '@gpl/data';
import { predictImage, type InferenceOptions } from '@gpl/engine';
import { ConfusionMatrix, type SegMetrics } from './metrics';

/** Options of `evaluate`. */
export interface EvaluateOptions extends InferenceOptions {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  /** Normalisation of the 0..255 image (default ImageNet). */
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  /** Only the first n samples (default all). */
  readonly limit?: number;
  /** Called with each sample's prediction (class indices, H×W), e.g. to draw or export it. */
  readonly onPrediction?: (sample: SegmentationSample, prediction: Uint8Array, index: number) => void | Promise<void>;
}

/** Predicted classes (argmax of the logits) of one sample, row-major H×W. */
export async function predictClasses(model: tfl.LayersModel, sample: SegmentationSample, o: InferenceOptions & { mean?: readonly number[]; std?: readonly number[] }): Promise<Uint8Array> {
  const img = normalizeImage(sample.image, o.mean, o.std);
  const pred = tf.tidy(() => {
    const x = tf.tensor4d(img.data as Float32Array, [1, img.height, img.width, img.channels]);
    return tf.argMax(predictImage(model, x, o), -1);
  });
  try {
    return Uint8Array.from(await pred.data());
  } finally {
    pred.dispose();
  }
}

/** mIoU, per-class IoU and accuracies of a model over a dataset split, at the labels' resolution. */
export async function evaluate(model: tfl.LayersModel, ds: Dataset<SegmentationSample>, o: EvaluateOptions): Promise<SegMetrics> {
  const cm = new ConfusionMatrix(o.numClasses, o.ignoreIndex);
  const n = Math.min(ds.length, o.limit ?? ds.length);
  for (let i = 0; i < n; i++) {
    const s = await ds.get(i);
    if (s.label.height !== s.image.height || s.label.width !== s.image.width) {
      throw new RangeError(`[seg] evaluate: sample '${s.id}' has a ${s.label.width}×${s.label.height} label for a ${s.image.width}×${s.image.height} image.`);
    }
    const pred = await predictClasses(model, s, o);
    cm.add(s.label.data, pred);
    await o.onPrediction?.(s, pred, i);
  }
  return cm.metrics();
}

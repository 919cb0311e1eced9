/**
 * Evaluation of a depth model over a split: each image at its own resolution (padded to the
 * encoder's multiple of 32), bin probabilities decoded to depth, metrics inside the Eigen crop.
 *
 * Test-time scale: the model sees an image at its native resolution, i.e. a window of side =
 * crop resized by 1, so depth needs no rescaling (factor window/crop = 1, inside the training
 * range 1–1.67). VNL instead pads 480→640, resizes to 385 and multiplies by 385/640; both follow
 * from the same depth-rescaling rule.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { normalizeImage, type Dataset, type DepthSample } from '@gpl/data';
import { predictPadded } from '@gpl/engine';
import { eigenCropMask } from '@gpl/nyudv2';
import { VNL_DEPTH_UNIT, type DepthBins } from './bins';
import { DepthMetricAccumulator, type DepthEvalOptions, type DepthMetrics } from './metrics';

export interface EvaluateDepthOptions extends DepthEvalOptions {
  readonly bins: DepthBins;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Evaluate inside the Eigen crop (scaled to the image size; default true). */
  readonly eigenCrop?: boolean;
  /** Only the first n samples. */
  readonly limit?: number;
  /** Called with each sample's predicted depth (metres, H×W). */
  readonly onPrediction?: (sample: DepthSample, depth: Float32Array, index: number) => void | Promise<void>;
}

/** Predicted depth in metres, row-major H×W, of one sample at its own resolution. */
export async function predictDepth(model: tfl.LayersModel, sample: DepthSample, bins: DepthBins, mean: readonly number[], std: readonly number[]): Promise<Float32Array> {
  const img = normalizeImage(sample.image, mean, std);
  const depth = tf.tidy(() => {
    const x = tf.tensor4d(img.data as Float32Array, [1, img.height, img.width, img.channels]);
    const logits = predictPadded(model, x, 32);
    return tf.mul(bins.decode(tf.softmax(logits) as tf.Tensor4D), VNL_DEPTH_UNIT);
  });
  try {
    return (await depth.data()) as Float32Array;
  } finally {
    depth.dispose();
  }
}

/** Pooled and per-image depth metrics of a model over a split. */
export async function evaluateDepth(model: tfl.LayersModel, ds: Dataset<DepthSample>, o: EvaluateDepthOptions): Promise<DepthMetrics> {
  const acc = new DepthMetricAccumulator({ maxDepth: o.maxDepth, minDepth: o.minDepth });
  const n = Math.min(ds.length, o.limit ?? ds.length);
  for (let i = 0; i < n; i++) {
    const s = await ds.get(i);
    const pred = await predictDepth(model, s, o.bins, o.mean, o.std);
    acc.add(s.depth.data, pred, o.eigenCrop === false ? undefined : eigenCropMask(s.depth.height, s.depth.width));
    await o.onPrediction?.(s, pred, i);
  }
  return acc.result();
}

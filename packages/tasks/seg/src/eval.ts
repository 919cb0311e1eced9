/**
 * Evaluation: whole-image and sliding-window inference (mmseg `whole` / `slide` test modes) and
 * the confusion-matrix metrics over a split.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { normalizeImage, type Dataset, type SegmentationSample } from '@gpl/data';
import { ConfusionMatrix, type SegMetrics } from './metrics';

/** How a full image is turned into logits. */
export interface InferenceOptions {
  /** 'whole': one pass over the image padded to `sizeDivisor`; 'slide': crop-sized windows. */
  readonly mode: 'whole' | 'slide';
  /** Window [height, width] for 'slide'. */
  readonly crop: readonly [number, number];
  /** Window step [height, width] for 'slide'; default ⌈2/3 of the crop⌉ (mmseg 769/513). */
  readonly stride?: readonly [number, number];
  /** Input sides must be multiples of this (32 for every registered model). */
  readonly sizeDivisor?: number;
}

/** Main logits of a model's output (the first output when there is an auxiliary head). */
function mainLogits(out: tf.Tensor | tf.Tensor[]): tf.Tensor4D {
  return (Array.isArray(out) ? out[0] : out) as tf.Tensor4D;
}

/** Runs the model in inference mode on x [N, H, W, 3] (H, W multiples of `divisor`), padding bottom/right if needed. */
function runPadded(model: tfl.LayersModel, x: tf.Tensor4D, divisor: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const ph = Math.ceil(h / divisor) * divisor - h;
    const pw = Math.ceil(w / divisor) * divisor - w;
    const input = ph || pw ? tf.pad(x, [[0, 0], [0, ph], [0, pw], [0, 0]]) : x;
    const logits = mainLogits(model.apply(input, { training: false }) as tf.Tensor | tf.Tensor[]);
    return ph || pw ? (tf.slice(logits, [0, 0, 0, 0], [-1, h, w, -1]) as tf.Tensor4D) : logits;
  });
}

/** Window start positions covering [0, size) with windows of `win` and step `step` (last one flush with the end). */
export function windowStarts(size: number, win: number, step: number): number[] {
  if (size <= win) return [0];
  const n = Math.ceil((size - win) / step) + 1;
  return Array.from({ length: n }, (_, i) => Math.min(i * step, size - win));
}

/**
 * How many windows cover each pixel in sliding-window inference: [H, W] counts (every entry ≥ 1).
 */
export function slideCoverage(h: number, w: number, crop: readonly [number, number], stride: readonly [number, number]): Int32Array {
  const counts = new Int32Array(h * w);
  for (const y0 of windowStarts(h, crop[0], stride[0])) {
    for (const x0 of windowStarts(w, crop[1], stride[1])) {
      for (let y = y0; y < Math.min(h, y0 + crop[0]); y++) for (let x = x0; x < Math.min(w, x0 + crop[1]); x++) counts[y * w + x]++;
    }
  }
  return counts;
}

/**
 * Logits [N, H, W, C] of a batch of normalised images [N, H, W, 3] at their own size.
 * 'slide' averages the logits of overlapping crop-sized windows (mmseg `slide_inference`).
 */
export function predictLogits(model: tfl.LayersModel, images: tf.Tensor4D, o: InferenceOptions): tf.Tensor4D {
  const divisor = o.sizeDivisor ?? 32;
  if (o.mode === 'whole') return runPadded(model, images, divisor);
  const [, h, w] = images.shape;
  const [ch, cw] = o.crop;
  const stride = o.stride ?? [Math.ceil((ch * 2) / 3), Math.ceil((cw * 2) / 3)];
  if (!(stride[0] > 0 && stride[1] > 0)) throw new RangeError(`[seg] predictLogits: slide stride must be positive, received [${stride}].`);
  return tf.tidy(() => {
    let sum: tf.Tensor4D | undefined;
    const counts = tf.tensor4d(slideCoverage(h, w, o.crop, stride), [1, h, w, 1], 'int32');
    for (const y0 of windowStarts(h, ch, stride[0])) {
      for (const x0 of windowStarts(w, cw, stride[1])) {
        const wh = Math.min(ch, h - y0);
        const ww = Math.min(cw, w - x0);
        const logits = tf.tidy(() => {
          const win = tf.slice(images, [0, y0, x0, 0], [-1, wh, ww, -1]) as tf.Tensor4D;
          const out = runPadded(model, win, divisor);
          // Place the window's logits in a full-size canvas (zeros elsewhere).
          return tf.pad(out, [[0, 0], [y0, h - y0 - wh], [x0, w - x0 - ww], [0, 0]]) as tf.Tensor4D;
        });
        const next = sum ? (tf.add(sum, logits) as tf.Tensor4D) : logits;
        if (sum) tf.dispose([sum, logits]);
        sum = next;
      }
    }
    return tf.div(sum!, tf.cast(counts, 'float32')) as tf.Tensor4D;
  });
}

/** Options of `evaluate`. */
export interface EvaluateOptions extends InferenceOptions {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  /** Normalisation of the 0..255 image (default ImageNet). */
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  /** Only the first n samples (default all). */
  readonly limit?: number;
  /** Called with each sample's prediction (class indices, H×W), e.g. to draw overlays. */
  readonly onPrediction?: (sample: SegmentationSample, prediction: Uint8Array, index: number) => void | Promise<void>;
}

/** Predicted classes (argmax of the logits) of one normalised sample, row-major H×W. */
export async function predictClasses(model: tfl.LayersModel, sample: SegmentationSample, o: InferenceOptions & { mean?: readonly number[]; std?: readonly number[] }): Promise<Uint8Array> {
  const img = normalizeImage(sample.image, o.mean, o.std);
  const pred = tf.tidy(() => {
    const x = tf.tensor4d(img.data as Float32Array, [1, img.height, img.width, img.channels]);
    return tf.argMax(predictLogits(model, x, o), -1);
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

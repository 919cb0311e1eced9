/**
 * Inference over whole images for every task: the model-output split, a padded whole-image pass
 * and sliding-window inference (mmseg's `whole` and `slide` test modes).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * The outputs of `model.apply(...)` by meaning: the main output and, for a model with an
 * auxiliary head (PSPNet's FCN head on c4), the auxiliary output.
 */
export function splitOutputs(outputs: tf.Tensor | tf.Tensor[]): { logits: tf.Tensor4D; auxLogits?: tf.Tensor4D } {
  if (!Array.isArray(outputs)) return { logits: outputs as tf.Tensor4D };
  if (outputs.length < 1 || outputs.length > 2) {
    throw new RangeError(`[@gpl/engine] splitOutputs: expected 1 or 2 outputs (main, auxiliary), received ${outputs.length}.`);
  }
  return outputs.length === 1 ? { logits: outputs[0] as tf.Tensor4D } : { logits: outputs[0] as tf.Tensor4D, auxLogits: outputs[1] as tf.Tensor4D };
}

/**
 * The main output of the model in inference mode on x [N, H, W, C], padding bottom/right with
 * zeros to multiples of `divisor` and cropping the output back to H×W.
 */
export function predictPadded(model: tfl.LayersModel, x: tf.Tensor4D, divisor = 32): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const ph = Math.ceil(h / divisor) * divisor - h;
    const pw = Math.ceil(w / divisor) * divisor - w;
    const input = ph || pw ? tf.pad(x, [[0, 0], [0, ph], [0, pw], [0, 0]]) : x;
    const out = splitOutputs(model.apply(input, { training: false }) as tf.Tensor | tf.Tensor[]).logits;
    return ph || pw ? (tf.slice(out, [0, 0, 0, 0], [-1, h, w, -1]) as tf.Tensor4D) : out;
  });
}

/** Window start positions covering [0, size) with windows of `win` and step `step` (the last one flush with the end). */
export function windowStarts(size: number, win: number, step: number): number[] {
  if (size <= win) return [0];
  const n = Math.ceil((size - win) / step) + 1;
  return Array.from({ length: n }, (_, i) => Math.min(i * step, size - win));
}

/** How many windows cover each pixel in sliding-window inference: [H, W] counts (every entry ≥ 1). */
export function slideCoverage(h: number, w: number, crop: readonly [number, number], stride: readonly [number, number]): Int32Array {
  const counts = new Int32Array(h * w);
  for (const y0 of windowStarts(h, crop[0], stride[0])) {
    for (const x0 of windowStarts(w, crop[1], stride[1])) {
      for (let y = y0; y < Math.min(h, y0 + crop[0]); y++) for (let x = x0; x < Math.min(w, x0 + crop[1]); x++) counts[y * w + x]++;
    }
  }
  return counts;
}

/** How a full image is turned into outputs. */
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

/** The sliding-window step: the given one, or ⌈2/3⌉ of the crop. */
export function slideStride(o: Pick<InferenceOptions, 'crop' | 'stride'>): readonly [number, number] {
  return o.stride ?? [Math.ceil((o.crop[0] * 2) / 3), Math.ceil((o.crop[1] * 2) / 3)];
}

/**
 * Outputs [N, H, W, K] of a batch of normalised images [N, H, W, 3] at their own size. 'slide'
 * averages the outputs of overlapping crop-sized windows (mmseg `slide_inference`).
 */
export function predictImage(model: tfl.LayersModel, images: tf.Tensor4D, o: InferenceOptions): tf.Tensor4D {
  const divisor = o.sizeDivisor ?? 32;
  if (o.mode === 'whole') return predictPadded(model, images, divisor);
  const [, h, w] = images.shape;
  const [ch, cw] = o.crop;
  const stride = slideStride(o);
  if (!(ch > 0 && cw > 0)) throw new RangeError(`[@gpl/engine] sliding-window inference: the window (crop) must be positive, received ${ch}×${cw}.`);
  if (!(stride[0] > 0 && stride[1] > 0)) throw new RangeError(`[@gpl/engine] sliding-window inference: the stride must be positive, received ${stride[0]}×${stride[1]}.`);
  return tf.tidy(() => {
    let sum: tf.Tensor4D | undefined;
    const counts = tf.tensor4d(slideCoverage(h, w, o.crop, stride), [1, h, w, 1], 'int32');
    for (const y0 of windowStarts(h, ch, stride[0])) {
      for (const x0 of windowStarts(w, cw, stride[1])) {
        const wh = Math.min(ch, h - y0);
        const ww = Math.min(cw, w - x0);
        const out = tf.tidy(() => {
          const win = tf.slice(images, [0, y0, x0, 0], [-1, wh, ww, -1]) as tf.Tensor4D;
          // Place the window's outputs in a full-size canvas (zeros elsewhere).
          return tf.pad(predictPadded(model, win, divisor), [[0, 0], [y0, h - y0 - wh], [x0, w - x0 - ww], [0, 0]]) as tf.Tensor4D;
        });
        const next = sum ? (tf.add(sum, out) as tf.Tensor4D) : out;
        if (sum) tf.dispose([sum, out]);
        sum = next;
      }
    }
    return tf.div(sum!, tf.cast(counts, 'float32')) as tf.Tensor4D;
  });
}

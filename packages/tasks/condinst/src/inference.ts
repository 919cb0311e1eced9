/**
 * CondInst inference (AdelaiDet `FCOSOutputs.predict_proposals` + `CondInst.postprocess`,
 * REFERENCE.md §7), for one image:
 *
 * - per level: class probabilities × centre-ness probability above `scoreThreshold` (0.05,
 *   `THRESH_WITH_CTR`), the `preNmsTopK` (1000) best candidates, boxes = location ∓ distances × stride;
 * - over all levels: class-wise NMS at IoU `nmsThreshold` (0.6; a box is suppressed by a kept box
 *   of its class with IoU strictly greater), the `maxDetections` (100) best, score √(cls·ctr);
 * - masks: the dynamic head at each kept detection's location and level, ×4 aligned-bilinear from
 *   stride 4 to the padded input, cropped to the resized image, bilinearly resized to the original
 *   image, thresholded at 0.5; boxes scaled to the original image and clipped to it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BoxXYXY } from '@gpl/data';
import { RELATIVE_COORD_SCALES, alignedBilinear, dynamicMaskLogits } from './dynamic-head';
import { fcosLevels, type FcosLevel } from './fcos-targets';
import { HEAD_EXTRA, MASK_FEATURE_STRIDE, MASK_OUT_STRIDE, condInstOutputs } from './model';

/** Options of {@link predictInstances}. */
export interface InferenceOptions {
  readonly numClasses: number;
  /** `INFERENCE_TH_TEST` (0.05), applied to cls·ctr. */
  readonly scoreThreshold?: number;
  /** `PRE_NMS_TOPK_TEST` per level (1000). */
  readonly preNmsTopK?: number;
  /** `NMS_TH` (0.6). */
  readonly nmsThreshold?: number;
  /** `POST_NMS_TOPK_TEST` (100). */
  readonly maxDetections?: number;
  /** Mask probability threshold (0.5). */
  readonly maskThreshold?: number;
}

/** One detection in the original image's pixels. */
export interface Detection {
  readonly classIndex: number;
  readonly score: number;
  readonly box: BoxXYXY;
  /** Row-major original-size mask, 1 inside. */
  readonly mask: Uint8Array;
}

/** Sizes of the image as the network saw it and as the user has it. */
export interface ImageSizes {
  /** The resized image before padding (the padded input is larger or equal). */
  readonly resized: readonly [number, number];
  /** The original image. */
  readonly original: readonly [number, number];
}

/** A detection before NMS, in the padded input's pixels. */
export interface Candidate {
  score: number;
  classIndex: number;
  box: [number, number, number, number];
  level: number;
  x: number;
  y: number;
  /** Row of the level's flattened head output. */
  row: number;
}

/** IoU of two xyxy boxes (torchvision's `box_iou`: areas without +1). */
export function boxIou(a: readonly number[], b: readonly number[]): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy class-wise NMS: indices of kept entries, best score first (ties keep input order). An
 * entry is dropped when a kept entry of its class overlaps it with IoU > `threshold`.
 */
export function classwiseNms(boxes: readonly (readonly number[])[], scores: readonly number[], classes: readonly number[], threshold: number): number[] {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const kept: number[] = [];
  for (const i of order) {
    if (!kept.some((k) => classes[k] === classes[i] && boxIou(boxes[k], boxes[i]) > threshold)) kept.push(i);
  }
  return kept;
}

/**
 * Candidates of every level from the levels' flattened head outputs (`[h·w, C + 174]` each, as
 * `Float32Array`s): cls·ctr probabilities above `threshold`, the `topK` best per level (best first).
 */
export function decodeCandidates(levelData: readonly Float32Array[], levels: readonly FcosLevel[], C: number, threshold: number, topK: number): Candidate[] {
  const D = C + HEAD_EXTRA;
  const candidates: Candidate[] = [];
  levels.forEach(({ stride, width, height }, l) => {
    const data = levelData[l];
    if (data.length !== height * width * D) throw new RangeError(`[@gpl/condinst] level P${l + 3}: expected ${height}×${width}×${D} values, received ${data.length}.`);
    const half = Math.floor(stride / 2);
    const found: Candidate[] = [];
    for (let row = 0; row < height * width; row++) {
      const base = row * D;
      const ctr = 1 / (1 + Math.exp(-data[base + C + 4]));
      for (let c = 0; c < C; c++) {
        const s = ctr / (1 + Math.exp(-data[base + c]));
        if (!(s > threshold)) continue;
        const x = (row % width) * stride + half;
        const y = Math.floor(row / width) * stride + half;
        const [dl, dt, dr, db] = [0, 1, 2, 3].map((k) => data[base + C + k] * stride);
        found.push({ score: s, classIndex: c, box: [x - dl, y - dt, x + dr, y + db], level: l, x, y, row });
      }
    }
    // Stable: equal scores keep location order.
    found.sort((a, b) => b.score - a.score);
    candidates.push(...found.slice(0, topK));
  });
  return candidates;
}

/** Detections of one normalised, padded image `[1, H, W, 3]` (H, W multiples of 32). */
export async function predictInstances(model: tfl.LayersModel, image: tf.Tensor4D, sizes: ImageSizes, o: InferenceOptions): Promise<Detection[]> {
  const C = o.numClasses;
  const threshold = o.scoreThreshold ?? 0.05;
  const topK = o.preNmsTopK ?? 1000;
  const [, H, W] = image.shape;
  const levels = fcosLevels(H, W);
  const outputs = condInstOutputs(model.predict(image) as tf.Tensor[]);
  try {
    const levelData: Float32Array[] = [];
    for (const level of outputs.levels) levelData.push((await level.data()) as Float32Array);
    const candidates = decodeCandidates(levelData, levels, C, threshold, topK);
    const kept = classwiseNms(
      candidates.map((c) => c.box),
      candidates.map((c) => c.score),
      candidates.map((c) => c.classIndex),
      o.nmsThreshold ?? 0.6,
    ).slice(0, o.maxDetections ?? 100);
    const chosen = kept.map((i) => candidates[i]);
    if (chosen.length === 0) return [];

    // Masks of the kept detections, at the original size.
    const D = C + HEAD_EXTRA;
    const params = new Float32Array(chosen.length * (HEAD_EXTRA - 5));
    chosen.forEach((c, i) => params.set(levelData[c.level].subarray(c.row * D + C + 5, (c.row + 1) * D), i * (HEAD_EXTRA - 5)));
    const [rh, rw] = sizes.resized;
    const [oh, ow] = sizes.original;
    const masks = tf.tidy(() => {
      const logits = dynamicMaskLogits(
        outputs.maskFeatures,
        tf.tensor2d(params, [chosen.length, HEAD_EXTRA - 5]),
        {
          image: new Int32Array(chosen.length),
          location: Float32Array.from(chosen.flatMap((c) => [c.x, c.y])),
          sizeOfInterest: Float32Array.from(chosen, (c) => RELATIVE_COORD_SCALES[c.level]),
        },
        MASK_FEATURE_STRIDE,
      );
      const stride4 = alignedBilinear(tf.expandDims(logits, 3) as tf.Tensor4D, MASK_FEATURE_STRIDE / MASK_OUT_STRIDE);
      const full = alignedBilinear(stride4, MASK_OUT_STRIDE);
      const cropped = tf.slice(full, [0, 0, 0, 0], [-1, Math.min(rh, H), Math.min(rw, W), -1]);
      const resized = tf.image.resizeBilinear(tf.sigmoid(cropped) as tf.Tensor4D, [oh, ow], false, true);
      return tf.greater(resized, o.maskThreshold ?? 0.5);
    });
    const maskData = await masks.data();
    masks.dispose();
    const sx = ow / rw;
    const sy = oh / rh;
    return chosen.map((c, i) => {
      const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
      const box: BoxXYXY = [clip(c.box[0] * sx, ow), clip(c.box[1] * sy, oh), clip(c.box[2] * sx, ow), clip(c.box[3] * sy, oh)];
      return { classIndex: c.classIndex, score: Math.sqrt(c.score), box, mask: Uint8Array.from(maskData.subarray(i * oh * ow, (i + 1) * oh * ow)) };
    });
  } finally {
    tf.dispose([...outputs.levels, outputs.maskFeatures]);
  }
}

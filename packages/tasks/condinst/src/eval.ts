/**
 * CondInst evaluation on a COCO-format split: every image through the test resize, the network and
 * `predictInstances`, the detections written as COCO results (boxes and compressed-RLE masks in
 * the original image's pixels) and scored by `@gpl/coco`'s COCOeval for both `bbox` and `segm`,
 * exactly as pycocotools scores the same file.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { normalizeImage, type InstanceSample, type Transform } from '@gpl/data';
import {
  CocoDataset,
  cocoEvaluate,
  readEvalGroundTruth,
  toCocoResult,
  toEvalDetections,
  type CocoEvalResult,
  type CocoResult,
  type EvalGroundTruth,
} from '@gpl/coco';
import { predictInstances, type Detection, type InferenceOptions } from './inference';

/** Box and mask results of one evaluation. */
export interface CondInstMetrics {
  /** COCOeval of the boxes and of the masks; `.stats` are pycocotools' 12 numbers (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl). */
  readonly box: CocoEvalResult;
  readonly mask: CocoEvalResult;
  /** Detections written. */
  readonly detections: number;
  readonly images: number;
}

/** Options of {@link evaluateCondInst}. */
export interface EvaluateOptions extends InferenceOptions {
  /** The test resize (`instanceTestTransform` of the recipe). */
  readonly resize: Transform;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Called with each image's detections (drawings, exports). */
  readonly onPrediction?: (sample: InstanceSample, detections: readonly Detection[], index: number) => Promise<void> | void;
}

const ceil32 = (v: number) => Math.ceil(v / 32) * 32;

/** The padded, normalised network input of a resized sample, and its sizes. */
export function networkInput(sample: InstanceSample, resized: InstanceSample, mean: readonly number[], std: readonly number[]): { input: tf.Tensor4D; resized: [number, number]; original: [number, number] } {
  const img = normalizeImage(resized.image, mean, std);
  const { height: h, width: w } = img;
  const input = tf.tidy(() => {
    const x = tf.tensor4d(img.data as Float32Array, [1, h, w, 3]);
    return tf.pad(x, [[0, 0], [0, ceil32(h) - h], [0, ceil32(w) - w], [0, 0]]) as tf.Tensor4D;
  });
  const original = sample.originalSize ?? { height: sample.image.height, width: sample.image.width };
  return { input, resized: [h, w], original: [original.height, original.width] };
}

/** COCO results of `val` (one entry per detection) and the images they cover. */
export async function predictResults(model: tfl.LayersModel, val: CocoDataset, o: EvaluateOptions): Promise<CocoResult[]> {
  const results: CocoResult[] = [];
  const ids = { category: (k: number) => val.categoryMap.categories[k].id };
  for (let i = 0; i < val.length; i++) {
    const sample = await val.get(i);
    const resized = o.resize.apply(sample, { next: () => 0.5 });
    const { input, resized: rs, original } = networkInput(sample, resized, o.mean, o.std);
    let dets: Detection[];
    try {
      dets = await predictInstances(model, input, { resized: rs, original }, o);
    } finally {
      input.dispose();
    }
    for (const d of dets) {
      results.push(
        toCocoResult({
          imageId: val.images[i].id,
          categoryId: ids.category(d.classIndex),
          score: d.score,
          bbox: [d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]],
          mask: d.mask,
          height: original[0],
          width: original[1],
        }),
      );
    }
    await o.onPrediction?.(sample, dets, i);
  }
  return results;
}

/** Scores COCO results against a ground truth for boxes and masks. */
export function scoreResults(gt: EvalGroundTruth, results: readonly CocoResult[], file: string, images: number): CondInstMetrics {
  const run = (iouType: 'bbox' | 'segm') => {
    // Box scores from box-only entries, mask scores from the masks (as two pycocotools runs on the same file would read them).
    const entries = iouType === 'bbox' ? results.map(({ segmentation: _s, ...r }) => r) : results;
    return cocoEvaluate(gt, toEvalDetections(entries, file, gt), { iouType });
  };
  return { box: run('bbox'), mask: run('segm'), detections: results.length, images };
}

/** Evaluates `model` on `val`: predictions, then pycocotools-equal box and mask AP. */
export async function evaluateCondInst(model: tfl.LayersModel, val: CocoDataset, o: EvaluateOptions): Promise<CondInstMetrics> {
  const results = await predictResults(model, val, o);
  const gtFile = path.join(val.config.root, val.annotationFile);
  return scoreResults(readEvalGroundTruth(gtFile), results, `${val.name} predictions`, val.length);
}

const fmt = (v: number) => (v < 0 ? '  n/a' : (100 * v).toFixed(2).padStart(5));

/** Two lines: box and mask AP, AP50, AP75, APs, APm, APl (in %, 'n/a' where pycocotools reports −1). */
export function formatMetrics(m: CondInstMetrics): string {
  const line = (name: string, s: readonly number[]) => `${name} AP ${fmt(s[0])}  AP50 ${fmt(s[1])}  AP75 ${fmt(s[2])}  APs ${fmt(s[3])}  APm ${fmt(s[4])}  APl ${fmt(s[5])}`;
  return `${line('box ', m.box.stats)}\n${line('mask', m.mask.stats)}`;
}

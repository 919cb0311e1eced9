/**
 * COCO results files (`[{image_id, category_id, bbox, score, segmentation}]`): a writer whose
 * files pycocotools' `COCO.loadRes` reads, and a reader that turns any tool's results into
 * detections the way `loadRes` does:
 * - the first result decides the kind: with a non-empty `bbox` every result is a box result
 *   (area = w·h, even when a mask is also given; a missing segmentation becomes the box's
 *   polygon), otherwise a mask result (area = the mask's pixel count; a missing `bbox` becomes
 *   the mask's box, `toBbox`);
 * - ids are 1-based positions in the file, every result is non-crowd.
 * Deviations, each on input pycocotools would crash on: an empty list is accepted (no
 * detections); `image_id`s and `category_id`s must be listed in the ground truth (pycocotools
 * checks images only and silently drops unknown categories); scores must be finite numbers.
 * Every problem is one `DataError` line naming the file, the result's index and the field.
 */
import { DataError, writeFileAtomic } from '@gpl/data';
import { cocoRleArea, cocoRleBbox, segmentationToRle, SegmentationError } from './eval/iou';
import { parseJsonText, readTextFile, showValue, type EvalGroundTruth } from './eval/ground-truth';
import { compressRle, encodeMask, type BboxXywh, type CompressedRle, type Rle } from './rle';

/** One result as stored in the file (pycocotools' format). */
export interface CocoResult {
  readonly image_id: number;
  readonly category_id: number;
  /** [x, y, width, height] in pixels of the original image. */
  readonly bbox?: BboxXywh;
  readonly score: number;
  /** Compressed RLE of the full-image mask (`counts` as pycocotools' string). */
  readonly segmentation?: CompressedRle;
}

/** A detection as COCOeval sees it after `loadRes`. */
export interface EvalDetection {
  /** 1-based position in the results file (`loadRes`' ids). */
  readonly id: number;
  readonly imageId: number;
  readonly categoryId: number;
  readonly score: number;
  readonly bbox: BboxXywh;
  /** What the area ranges test: w·h for box results, the mask's pixel count for mask results. */
  readonly area: number;
  /** The segmentation (the box's polygon when a box result has none). */
  readonly segmentation: unknown;
  /** The mask as RLE when the reader already decoded it. */
  readonly rle?: Rle;
}

/** Results read and checked against a ground truth. */
export interface LoadedResults {
  readonly file: string;
  /** Which `loadRes` branch the first result chose. */
  readonly kind: 'bbox' | 'segm';
  readonly detections: readonly EvalDetection[];
}

/** Input of {@link toCocoResult}: one detection in the original image's pixels. */
export interface DetectionInput {
  readonly imageId: number;
  readonly categoryId: number;
  readonly score: number;
  /** [x, y, width, height]; omitted: the mask's tight box. */
  readonly bbox?: BboxXywh;
  /** Row-major H×W binary mask of the original image, when the detector predicts masks. */
  readonly mask?: Uint8Array;
  /** Original image size; needed with `mask`. */
  readonly height?: number;
  readonly width?: number;
}

/** One result entry from a detection: the mask becomes compressed RLE, the box `[x, y, w, h]`. */
export function toCocoResult(d: DetectionInput): CocoResult {
  if (!Number.isFinite(d.score)) throw new RangeError(`[@gpl/coco] toCocoResult: score must be a finite number, received ${d.score}.`);
  let segmentation: CompressedRle | undefined;
  let bbox = d.bbox;
  if (d.mask) {
    if (d.height === undefined || d.width === undefined) {
      throw new TypeError('[@gpl/coco] toCocoResult: a mask needs the image height and width.');
    }
    const rle = encodeMask(d.mask, d.height, d.width);
    segmentation = compressRle(rle);
    bbox ??= cocoRleBbox(rle);
  }
  if (!bbox) throw new TypeError('[@gpl/coco] toCocoResult: give a bbox, a mask, or both.');
  return {
    image_id: d.imageId,
    category_id: d.categoryId,
    bbox: [bbox[0], bbox[1], bbox[2], bbox[3]],
    score: d.score,
    ...(segmentation ? { segmentation } : {}),
  };
}

/** Writes results atomically as one JSON array (what `COCO.loadRes` reads). */
export async function writeCocoResults(file: string, results: readonly CocoResult[]): Promise<void> {
  if (!Array.isArray(results)) throw new TypeError('[@gpl/coco] writeCocoResults: expected an array of results.');
  await writeFileAtomic(file, JSON.stringify(results) + '\n');
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks parsed results against `gt` and makes `loadRes`' detections. `file` names the results in messages. */
export function toEvalDetections(json: unknown, file: string, gt: EvalGroundTruth): LoadedResults {
  const fail = (expected: string, received: string): never => {
    throw new DataError({ pkg: '@gpl/coco', code: 'malformed-json', file, expected, received });
  };
  if (!Array.isArray(json)) fail('a JSON array of results [{image_id, category_id, bbox, score, segmentation}]', showValue(json));
  const list = json as unknown[];
  const first = list[0];
  const kind: 'bbox' | 'segm' = isObj(first) && 'bbox' in first && !(Array.isArray(first.bbox) && first.bbox.length === 0) ? 'bbox' : 'segm';
  const catIds = new Set(gt.categories.map((c) => c.id));
  const detections: EvalDetection[] = list.map((r, i) => {
    const l = `[${i}]`;
    if (!isObj(r)) fail(`result ${l} to be an object {image_id, category_id, bbox, score, segmentation}`, showValue(r));
    const o = r as Record<string, unknown>;
    if (!isInt(o.image_id)) fail(`${l}.image_id to be an integer`, showValue(o.image_id));
    const image = gt.imageById.get(o.image_id as number);
    if (!image) fail(`${l}.image_id to be an image id of ${gt.file}`, `${o.image_id}, which it does not list`);
    if (!isInt(o.category_id) || !catIds.has(o.category_id)) {
      fail(`${l}.category_id to be a category id of ${gt.file} (${[...catIds].join(', ')})`, showValue(o.category_id));
    }
    if (!isNum(o.score)) fail(`${l}.score to be a finite number`, showValue(o.score));
    const hasBox = 'bbox' in o;
    if (hasBox && (!Array.isArray(o.bbox) || o.bbox.length !== 4 || !o.bbox.every(isNum))) {
      fail(`${l}.bbox to be [x, y, width, height] of finite numbers`, showValue(o.bbox));
    }
    const hasSeg = 'segmentation' in o;
    const readSeg = (): Rle => {
      try {
        return segmentationToRle(o.segmentation, image!.height, image!.width);
      } catch (e) {
        if (e instanceof SegmentationError) return fail(`${l}.segmentation to be an RLE {size: [h, w], counts} or polygons`, e.message);
        throw e;
      }
    };
    const base = { id: i + 1, imageId: o.image_id as number, categoryId: o.category_id as number, score: o.score as number };
    if (kind === 'bbox') {
      if (!hasBox) fail(`${l}.bbox, as result [0] has one (pycocotools reads every result as a box result then)`, 'nothing (field missing)');
      const [x, y, w, h] = o.bbox as number[];
      const segmentation = hasSeg ? o.segmentation : [[x, y, x, y + h, x + w, y + h, x + w, y]];
      // The mask, if any, is decoded only by segm evaluation (as pycocotools does).
      return { ...base, bbox: [x, y, w, h] as const, area: w * h, segmentation };
    }
    if (!hasSeg || !isObj(o.segmentation)) {
      fail(`${l}.segmentation to be an RLE {size: [h, w], counts} (result [0] has no bbox, so every result is a mask result)`, showValue(o.segmentation));
    }
    const rle = readSeg();
    const bbox = hasBox ? ((o.bbox as number[]).slice() as unknown as BboxXywh) : cocoRleBbox(rle);
    return { ...base, bbox, area: cocoRleArea(rle), segmentation: o.segmentation, rle };
  });
  return { file, kind, detections };
}

/** Parses results text (see {@link toEvalDetections}). */
export function parseCocoResults(text: string, file: string, gt: EvalGroundTruth): LoadedResults {
  return toEvalDetections(parseJsonText(text, file, 'a JSON array of COCO results'), file, gt);
}

/** Reads a results file (see {@link toEvalDetections}). */
export function readCocoResults(file: string, gt: EvalGroundTruth): LoadedResults {
  return parseCocoResults(readTextFile(file, 'a COCO results JSON file'), file, gt);
}

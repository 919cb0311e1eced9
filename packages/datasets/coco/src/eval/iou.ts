/**
 * IoU as COCOeval computes it (`maskUtils.iou` → `bbIou` / `rleIou` in COCO `common/maskApi.c`),
 * and segmentations turned into RLE as `COCO.annToRLE` / `maskUtils.frPyObjects` do.
 *
 * What differs from a plain IoU, and why it is kept:
 * - a crowd ground truth's union is the detection's own area, so a detection inside a crowd
 *   region scores 1;
 * - `rleIou` first computes the IoU of the masks' boxes (`rleToBbox`) and computes the mask
 *   IoU only where that box IoU is > 0; masks of different sizes then give −1 (never a match)
 *   rather than an error, and zero where their boxes do not touch;
 * - a polygon list whose first part has exactly 4 numbers is read as a list of [x, y, w, h]
 *   boxes (`frPyObjects` decides by the first part's length; on a JSON list pycocotools then fails
 *   in `frBbox`, which takes numpy arrays only, so this follows its intent, not its crash);
 * - an uncompressed RLE keeps its own `size`, whatever the image's size is.
 * Matrices are row-major D×G (detections × ground truths), pycocotools' `(m, n)` layout.
 */
import { bboxToRle, polygonToRle } from '../polygon';
import { checkRle, countsFromString, mergeRles, rleToBbox, type BboxXywh, type Rle } from '../rle';

/** 2³², for C's unsigned wrap-around in `rleToBbox`. */
const UINT = 4294967296;

/**
 * The box of an RLE exactly as pycocotools 2.0.x computes it (`rleToBbox`, the version PyPI ships):
 * the tight box of the foreground, empty runs skipped; an RLE whose counts hold no foreground but
 * more than one run gives C's unsigned wrap-around `[w, h, 2³² + 1 − w, 2³² + 1 − h]` (so its box
 * "overlaps" everything), a single run `[0, 0, 0, 0]`. (cocoapi's older `maskApi.c` counted every
 * run boundary instead, which widens boxes of RLEs with empty runs.)
 */
export function cocoRleBbox(rle: Rle): [number, number, number, number] {
  const [h, w] = rle.size;
  if (cocoRleArea(rle) > 0) return rleToBbox(rle);
  if (rle.counts.length - (rle.counts.length % 2) === 0) return [0, 0, 0, 0];
  return [w, h, (1 - w + UINT) % UINT, (1 - h + UINT) % UINT];
}

/** `bbIou`: IoU of [x, y, w, h] boxes, D×G row-major; crowd columns divide by the detection's area. */
export function bboxIouMatrix(dts: readonly BboxXywh[], gts: readonly BboxXywh[], iscrowd: readonly boolean[]): Float64Array {
  const D = dts.length;
  const G = gts.length;
  const out = new Float64Array(D * G);
  for (let g = 0; g < G; g++) {
    const gb = gts[g];
    const ga = gb[2] * gb[3];
    for (let d = 0; d < D; d++) {
      const db = dts[d];
      const iw = Math.min(db[2] + db[0], gb[2] + gb[0]) - Math.max(db[0], gb[0]);
      if (!(iw > 0)) continue;
      const ih = Math.min(db[3] + db[1], gb[3] + gb[1]) - Math.max(db[1], gb[1]);
      if (!(ih > 0)) continue;
      const inter = iw * ih;
      const da = db[2] * db[3];
      out[d * G + g] = inter / (iscrowd[g] ? da : da + ga - inter);
    }
  }
  return out;
}

/**
 * Intersection and union pixel counts of two same-size RLEs, walking both run lists together as
 * `rleIou` does: the walk stops as soon as both current runs are used up at once, which, for RLEs
 * with empty runs in the middle, can be before their end (pycocotools then reports that smaller
 * overlap, and so do we).
 */
function overlap(a: readonly number[], b: readonly number[]): { inter: number; union: number } {
  let ca = a[0] ?? 0;
  let cb = b[0] ?? 0;
  let ia = 1;
  let ib = 1;
  let onA = false;
  let onB = false;
  let inter = 0;
  let union = 0;
  let left = 1;
  while (left > 0) {
    const n = Math.min(ca, cb);
    if (onA || onB) {
      union += n;
      if (onA && onB) inter += n;
    }
    ca -= n;
    if (ca === 0 && ia < a.length) {
      ca = a[ia++];
      onA = !onA;
    }
    cb -= n;
    if (cb === 0 && ib < b.length) {
      cb = b[ib++];
      onB = !onB;
    }
    left = ca + cb;
  }
  return { inter, union };
}

/** Foreground pixels of an RLE (`rleArea`: the sum of the odd-index counts). */
export function cocoRleArea(rle: Rle): number {
  let a = 0;
  for (let i = 1; i < rle.counts.length; i += 2) a += rle.counts[i];
  return a;
}

/** `rleIou`: mask IoU after the box pre-check, D×G row-major; −1 for masks of different sizes whose boxes overlap. */
export function rleIouMatrix(dts: readonly Rle[], gts: readonly Rle[], iscrowd: readonly boolean[]): Float64Array {
  const out = bboxIouMatrix(dts.map(cocoRleBbox), gts.map(cocoRleBbox), iscrowd);
  const G = gts.length;
  for (let d = 0; d < dts.length; d++) {
    for (let g = 0; g < G; g++) {
      if (!(out[d * G + g] > 0)) continue;
      const dt = dts[d];
      const gt = gts[g];
      if (dt.size[0] !== gt.size[0] || dt.size[1] !== gt.size[1]) {
        out[d * G + g] = -1;
        continue;
      }
      const { inter, union } = overlap(dt.counts, gt.counts);
      out[d * G + g] = inter === 0 ? 0 : inter / (iscrowd[g] ? cocoRleArea(dt) : union);
    }
  }
  return out;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Why a segmentation cannot be read, for the caller to place in its file/index message. */
export class SegmentationError extends Error {}

/**
 * A COCO segmentation as RLE, as `COCO.annToRLE` makes it for an image of `height × width`:
 * polygons rasterised (`rleFrPoly`) and merged; a first part of exactly 4 numbers makes every part
 * a box [x, y, w, h]; an RLE ({size, counts} with a list or a compressed string) keeps its own size.
 * Parts with fewer than 3 points rasterise to nothing (as `rleFrPoly` does); an odd count drops
 * its last number. Throws {@link SegmentationError} for anything else.
 */
export function segmentationToRle(seg: unknown, height: number, width: number): Rle {
  if (Array.isArray(seg)) {
    if (seg.length === 0) throw new SegmentationError('an empty polygon list (expected polygons [x1, y1, …] or an RLE {size, counts})');
    seg.forEach((part, p) => {
      if (!Array.isArray(part) || !part.every(isNum)) {
        throw new SegmentationError(`polygon ${p} is not a list of finite numbers`);
      }
    });
    const parts = seg as number[][];
    if (parts[0].length === 4) {
      const bad = parts.findIndex((p) => p.length !== 4);
      if (bad >= 0) {
        throw new SegmentationError(`part 0 has 4 numbers, so every part is read as a box [x, y, w, h], but part ${bad} has ${parts[bad].length}`);
      }
      return mergeRles(parts.map((b) => bboxToRle(b as unknown as BboxXywh, height, width)));
    }
    if (parts[0].length < 4) throw new SegmentationError(`polygon 0 has ${parts[0].length} numbers (expected ≥ 6, or 4 for a box)`);
    return mergeRles(
      parts.map((p) => {
        const even = p.length - (p.length % 2);
        return even >= 6 ? polygonToRle(even === p.length ? p : p.slice(0, even), height, width) : { size: [height, width], counts: [height * width] };
      }),
    );
  }
  if (seg !== null && typeof seg === 'object') {
    const o = seg as { size?: unknown; counts?: unknown };
    const size = o.size;
    if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new SegmentationError(`RLE size ${JSON.stringify(size)} is not [height, width]`);
    }
    let counts: number[];
    if (typeof o.counts === 'string') {
      try {
        counts = countsFromString(o.counts);
      } catch (e) {
        throw new SegmentationError((e as Error).message.replace(/^\[@gpl\/coco\] countsFromString: /, 'RLE counts: '));
      }
    } else if (Array.isArray(o.counts)) counts = o.counts as number[];
    else throw new SegmentationError('RLE counts must be a compressed string or a list of integers');
    const rle: Rle = { size: [size[0], size[1]], counts };
    try {
      checkRle(rle, 'RLE');
    } catch (e) {
      throw new SegmentationError((e as Error).message.replace(/^\[@gpl\/coco\] RLE: /, 'RLE ').replace(/\.$/, ''));
    }
    return rle;
  }
  throw new SegmentationError(`${JSON.stringify(seg) ?? String(seg)} is neither polygons nor an RLE {size, counts}`);
}

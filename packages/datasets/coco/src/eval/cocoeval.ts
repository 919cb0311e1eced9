/**
 * COCO detection evaluation equal to pycocotools' `COCOeval` (`evaluate`, `evaluateImg`,
 * `accumulate`, `summarize` in `PythonAPI/pycocotools/cocoeval.py`) for `iouType` bbox and segm,
 * with its default parameters.
 *
 * The rules, in the order COCOeval applies them:
 * - images are the ground truth's image ids, sorted; categories its category ids, sorted;
 * - per image and category, detections are sorted by score (stable, as numpy's mergesort) and
 *   cut to 100; IoUs come from `bbIou` / `rleIou` (see `iou.ts`);
 * - per area range, a ground truth is ignored when it is crowd or its JSON `area` lies outside the
 *   range (bounds inclusive); ignored ground truths go last (stable);
 * - per IoU threshold, each detection in score order takes the still-free ground truth of the
 *   highest IoU ≥ the threshold (the later one on ties; crowd ones stay free), and stops looking
 *   once it holds a regular one and reaches the ignored ones; a detection matched to an ignored
 *   ground truth, or unmatched with an area outside the range, is ignored;
 * - per category, area range and maxDets, the detections of all images are sorted by score
 *   (stable, images in id order), TP/FP are summed cumulatively, recall = TP / #non-ignored
 *   ground truth, precision = TP / (TP + FP + 2⁻⁵²) made non-increasing from the right and read at
 *   the first index whose recall ≥ each of the 101 recall points (0 past the end); a category
 *   with no non-ignored ground truth keeps −1 and is left out of every mean.
 */
import { DataError } from '@gpl/data';
import { type Rle } from '../rle';
import type { EvalDetection, LoadedResults } from '../results';
import { type EvalGroundTruth, type EvalGtAnnotation } from './ground-truth';
import { bboxIouMatrix, rleIouMatrix, segmentationToRle, SegmentationError } from './iou';
import { linspace, numpyMean, SPACING_ONE } from './numpy';

/** What the IoU compares: boxes or masks. */
export type IouType = 'bbox' | 'segm';

/** An area range label, in COCOeval's order. */
export type AreaLabel = 'all' | 'small' | 'medium' | 'large';

/** COCOeval's default detection parameters (`Params.setDetParams`). */
export interface CocoEvalParams {
  /** `np.linspace(.5, 0.95, 10)`. */
  readonly iouThrs: readonly number[];
  /** `np.linspace(.0, 1.00, 101)`. */
  readonly recThrs: readonly number[];
  readonly maxDets: readonly number[];
  /** [lo, hi] pixel areas, inclusive. */
  readonly areaRng: readonly (readonly [number, number])[];
  readonly areaLabels: readonly AreaLabel[];
}

export const COCO_EVAL_PARAMS: CocoEvalParams = Object.freeze({
  iouThrs: Object.freeze(linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1)),
  recThrs: Object.freeze(linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1)),
  maxDets: Object.freeze([1, 10, 100]),
  areaRng: Object.freeze([
    [0 ** 2, 1e5 ** 2],
    [0 ** 2, 32 ** 2],
    [32 ** 2, 96 ** 2],
    [96 ** 2, 1e5 ** 2],
  ] as const),
  areaLabels: Object.freeze(['all', 'small', 'medium', 'large'] as const),
});

/** One of the 12 summary numbers: what `_summarize` is called with. */
export interface StatSpec {
  readonly ap: boolean;
  readonly iouThr?: number;
  readonly area: AreaLabel;
  readonly maxDets: number;
}

/** The 12 statistics in `_summarizeDets`' order: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl. */
export const COCO_STATS: readonly StatSpec[] = Object.freeze([
  { ap: true, area: 'all', maxDets: 100 },
  { ap: true, iouThr: 0.5, area: 'all', maxDets: 100 },
  { ap: true, iouThr: 0.75, area: 'all', maxDets: 100 },
  { ap: true, area: 'small', maxDets: 100 },
  { ap: true, area: 'medium', maxDets: 100 },
  { ap: true, area: 'large', maxDets: 100 },
  { ap: false, area: 'all', maxDets: 1 },
  { ap: false, area: 'all', maxDets: 10 },
  { ap: false, area: 'all', maxDets: 100 },
  { ap: false, area: 'small', maxDets: 100 },
  { ap: false, area: 'medium', maxDets: 100 },
  { ap: false, area: 'large', maxDets: 100 },
]);

/** AP of one category (area all, 100 detections), −1 where it has no ground truth. */
export interface CategoryAp {
  readonly id: number;
  readonly name: string;
  readonly AP: number;
  readonly AP50: number;
  readonly AP75: number;
  /** Non-crowd ground truths of the category. */
  readonly numGt: number;
  /** Detections of the category in the results. */
  readonly numDt: number;
}

/** Everything `accumulate` and `summarize` produce. */
export interface CocoEvalResult {
  readonly iouType: IouType;
  readonly params: CocoEvalParams;
  readonly imageIds: readonly number[];
  readonly categoryIds: readonly number[];
  /** T×R×K×A×M, C order (`eval['precision']`); −1 where undefined. */
  readonly precision: Float64Array;
  /** T×K×A×M, C order (`eval['recall']`). */
  readonly recall: Float64Array;
  /** The 12 summary numbers (−1 where undefined). */
  readonly stats: readonly number[];
  readonly perCategory: readonly CategoryAp[];
  /** Where the input took a path on which pycocotools itself fails (see `cocoEvaluate`); empty normally. */
  readonly notes: readonly string[];
}

/** One (image, category, area range) of `evaluateImg`, kept as `accumulate` reads it. */
interface ImageEval {
  /** Detection scores in score order (≤ 100). */
  readonly scores: Float64Array;
  /** T×D: matched to a ground truth with a non-zero id (`dtMatches` truthy). */
  readonly matched: Uint8Array;
  /** T×D: `dtIgnore`. */
  readonly ignored: Uint8Array;
  /** Ground truths not ignored in this range. */
  readonly regularGt: number;
}

/** Stable argsort, descending by `key` (numpy `argsort(-key, kind='mergesort')`). */
function argsortDescending(key: ArrayLike<number>): number[] {
  const idx = Array.from({ length: key.length }, (_, i) => i);
  return idx.sort((a, b) => key[b] - key[a] || a - b);
}

function evaluateImage(
  gts: readonly EvalGtAnnotation[],
  dts: readonly EvalDetection[],
  ious: Float64Array | undefined,
  area: readonly [number, number],
  iouThrs: readonly number[],
): ImageEval {
  const [lo, hi] = area;
  const G = gts.length;
  const D = dts.length;
  const T = iouThrs.length;
  const ignoreOf = gts.map((g) => g.iscrowd || g.area < lo || g.area > hi);
  // Regular ground truths first, ignored ones after, each group in file order.
  const order = [...gts.keys()].sort((a, b) => Number(ignoreOf[a]) - Number(ignoreOf[b]) || a - b);
  const gtIg = order.map((j) => ignoreOf[j]);
  const crowd = order.map((j) => gts[j].iscrowd);
  const idNonZero = order.map((j) => gts[j].id !== 0);
  const taken = new Uint8Array(T * G);
  const matched = new Uint8Array(T * D);
  const ignored = new Uint8Array(T * D);
  if (ious && D > 0 && G > 0) {
    for (let t = 0; t < T; t++) {
      const thr = Math.min(iouThrs[t], 1 - 1e-10);
      for (let d = 0; d < D; d++) {
        let best = thr;
        let m = -1;
        for (let j = 0; j < G; j++) {
          if (taken[t * G + j] && !crowd[j]) continue;
          if (m > -1 && !gtIg[m] && gtIg[j]) break;
          const v = ious[d * G + order[j]];
          if (v < best) continue;
          best = v;
          m = j;
        }
        if (m === -1) continue;
        ignored[t * D + d] = gtIg[m] ? 1 : 0;
        matched[t * D + d] = idNonZero[m] ? 1 : 0;
        taken[t * G + m] = 1;
      }
    }
  }
  for (let d = 0; d < D; d++) {
    const a = dts[d].area;
    if (!(a < lo || a > hi)) continue;
    // `dtm == 0`: unmatched, or matched to a ground truth whose id is 0.
    for (let t = 0; t < T; t++) if (!matched[t * D + d]) ignored[t * D + d] = 1;
  }
  return {
    scores: Float64Array.from(dts, (d) => d.score),
    matched,
    ignored,
    regularGt: gtIg.filter((g) => !g).length,
  };
}

/** Options of {@link cocoEvaluate}. */
export interface CocoEvaluateOptions {
  readonly iouType: IouType;
  /** Evaluation parameters (default COCOeval's). */
  readonly params?: CocoEvalParams;
}

/**
 * Evaluates detections against ground truth as `COCOeval(gt, dt, iouType)` followed by
 * `evaluate()`, `accumulate()` and `summarize()`. Throws a `DataError` naming the file and entry
 * for a segmentation that cannot be read (segm only).
 */
export function cocoEvaluate(gt: EvalGroundTruth, results: LoadedResults, options: CocoEvaluateOptions): CocoEvalResult {
  const { iouType } = options;
  if (iouType !== 'bbox' && iouType !== 'segm') {
    throw new RangeError(`[@gpl/coco] cocoEvaluate: iouType must be 'bbox' or 'segm', received ${JSON.stringify(iouType)}.`);
  }
  const p = options.params ?? COCO_EVAL_PARAMS;
  const imageIds = [...new Set(gt.images.map((im) => im.id))].sort((a, b) => a - b);
  const categoryIds = gt.categories.map((c) => c.id);
  const I = imageIds.length;
  const K = categoryIds.length;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const T = p.iouThrs.length;
  const R = p.recThrs.length;
  const maxDet = Math.max(...p.maxDets);
  const imgIndex = new Map(imageIds.map((id, i) => [id, i]));
  const catIndex = new Map(categoryIds.map((id, k) => [id, k]));

  const gtCells = new Map<number, EvalGtAnnotation[]>();
  const dtCells = new Map<number, EvalDetection[]>();
  const push = <V>(m: Map<number, V[]>, key: number, v: V) => {
    const list = m.get(key);
    if (list) list.push(v);
    else m.set(key, [v]);
  };
  for (const a of gt.annotations) push(gtCells, catIndex.get(a.categoryId)! * I + imgIndex.get(a.imageId)!, a);
  for (const d of results.detections) {
    const i = imgIndex.get(d.imageId);
    const k = catIndex.get(d.categoryId);
    if (i !== undefined && k !== undefined) push(dtCells, k * I + i, d);
  }

  // frPyObjects sends a polygon list whose first part has 4 numbers to frBbox, which accepts only a
  // numpy array: pycocotools raises TypeError on such JSON lists. We read them as the boxes frPyObjects
  // means them to be, and say so.
  const boxParts = { gt: 0, dt: 0 };
  const startsWithBox = (seg: unknown) => Array.isArray(seg) && Array.isArray(seg[0]) && seg[0].length === 4;
  const gtMask = (a: EvalGtAnnotation): Rle => {
    if (startsWithBox(a.segmentation)) boxParts.gt++;
    const im = gt.imageById.get(a.imageId)!;
    try {
      return segmentationToRle(a.segmentation, im.height, im.width);
    } catch (e) {
      if (!(e instanceof SegmentationError)) throw e;
      throw new DataError({ pkg: '@gpl/coco', code: 'malformed-annotation', file: gt.file, expected: `annotations[${a.index}].segmentation to be polygons or an RLE {size, counts}`, received: e.message });
    }
  };
  const dtMask = (d: EvalDetection): Rle => {
    if (d.rle) return d.rle;
    if (startsWithBox(d.segmentation)) boxParts.dt++;
    const im = gt.imageById.get(d.imageId)!;
    try {
      return segmentationToRle(d.segmentation, im.height, im.width);
    } catch (e) {
      if (!(e instanceof SegmentationError)) throw e;
      throw new DataError({ pkg: '@gpl/coco', code: 'malformed-json', file: results.file, expected: `[${d.id - 1}].segmentation to be an RLE {size: [h, w], counts} or polygons`, received: e.message });
    }
  };

  // evaluate(): IoUs per (image, category), then evaluateImg per (category, area, image).
  const evalImgs: (ImageEval | undefined)[] = new Array(K * A * I);
  for (const key of new Set([...gtCells.keys(), ...dtCells.keys()])) {
    const k = Math.floor(key / I);
    const i = key - k * I;
    const gts = gtCells.get(key) ?? [];
    const all = dtCells.get(key) ?? [];
    const dts = argsortDescending(all.map((d) => d.score)).slice(0, maxDet).map((j) => all[j]);
    let ious: Float64Array | undefined;
    if (gts.length > 0 && dts.length > 0) {
      const crowd = gts.map((g) => g.iscrowd);
      ious = iouType === 'bbox' ? bboxIouMatrix(dts.map((d) => d.bbox), gts.map((g) => g.bbox), crowd) : rleIouMatrix(dts.map(dtMask), gts.map(gtMask), crowd);
    }
    for (let a = 0; a < A; a++) evalImgs[(k * A + a) * I + i] = evaluateImage(gts, dts, ious, p.areaRng[a], p.iouThrs);
  }

  // accumulate()
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const pIndex = (t: number, r: number, k: number, a: number, m: number) => (((t * R + r) * K + k) * A + a) * M + m;
  const rIndex = (t: number, k: number, a: number, m: number) => ((t * K + k) * A + a) * M + m;
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const E: ImageEval[] = [];
      for (let i = 0; i < I; i++) {
        const e = evalImgs[(k * A + a) * I + i];
        if (e) E.push(e);
      }
      if (E.length === 0) continue;
      const npig = E.reduce((s, e) => s + e.regularGt, 0);
      for (let m = 0; m < M; m++) {
        if (npig === 0) continue;
        const cap = p.maxDets[m];
        let nd = 0;
        for (const e of E) nd += Math.min(cap, e.scores.length);
        const scores = new Float64Array(nd);
        const owner = new Int32Array(nd); // which E
        const pos = new Int32Array(nd); // index within it
        let n = 0;
        E.forEach((e, ei) => {
          const D = Math.min(cap, e.scores.length);
          for (let d = 0; d < D; d++) {
            scores[n] = e.scores[d];
            owner[n] = ei;
            pos[n] = d;
            n++;
          }
        });
        const order = argsortDescending(scores);
        const rc = new Float64Array(nd);
        const pr = new Float64Array(nd);
        for (let t = 0; t < T; t++) {
          let tp = 0;
          let fp = 0;
          for (let q = 0; q < nd; q++) {
            const e = E[owner[order[q]]];
            const D = e.scores.length;
            const at = t * D + pos[order[q]];
            if (!e.ignored[at]) {
              if (e.matched[at]) tp++;
              else fp++;
            }
            rc[q] = tp / npig;
            pr[q] = tp / (fp + tp + SPACING_ONE);
          }
          recall[rIndex(t, k, a, m)] = nd ? rc[nd - 1] : 0;
          for (let q = nd - 1; q > 0; q--) if (pr[q] > pr[q - 1]) pr[q - 1] = pr[q];
          // searchsorted(rc, recThrs, 'left'): the first index with rc ≥ r; past the end stays 0.
          let q = 0;
          for (let r = 0; r < R; r++) {
            while (q < nd && rc[q] < p.recThrs[r]) q++;
            precision[pIndex(t, r, k, a, m)] = q < nd ? pr[q] : 0;
          }
        }
      }
    }
  }

  // summarize()
  const mean = (values: number[]): number => {
    const kept = values.filter((v) => v > -1);
    return kept.length === 0 ? -1 : numpyMean(kept);
  };
  const thresholdsFor = (iouThr: number | undefined): number[] =>
    iouThr === undefined ? p.iouThrs.map((_, t) => t) : p.iouThrs.flatMap((v, t) => (v === iouThr ? [t] : []));
  const precisionValues = (ts: number[], ks: number[], a: number, m: number): number[] => {
    const out: number[] = [];
    for (const t of ts) for (let r = 0; r < R; r++) for (const k of ks) out.push(precision[pIndex(t, r, k, a, m)]);
    return out;
  };
  const allK = categoryIds.map((_, k) => k);
  const stats = COCO_STATS.map((s) => {
    const a = p.areaLabels.indexOf(s.area);
    const m = p.maxDets.indexOf(s.maxDets);
    if (a < 0 || m < 0) return -1;
    const ts = thresholdsFor(s.iouThr);
    if (s.ap) return mean(precisionValues(ts, allK, a, m));
    const out: number[] = [];
    for (const t of ts) for (const k of allK) out.push(recall[rIndex(t, k, a, m)]);
    return mean(out);
  });
  const aAll = p.areaLabels.indexOf('all');
  const mLast = p.maxDets.indexOf(maxDet);
  const numGt = new Map<number, number>();
  const numDt = new Map<number, number>();
  for (const g of gt.annotations) if (!g.iscrowd) numGt.set(g.categoryId, (numGt.get(g.categoryId) ?? 0) + 1);
  for (const d of results.detections) numDt.set(d.categoryId, (numDt.get(d.categoryId) ?? 0) + 1);
  const perCategory = gt.categories.map((c, k) => ({
    id: c.id,
    name: c.name,
    AP: mean(precisionValues(thresholdsFor(undefined), [k], aAll, mLast)),
    AP50: mean(precisionValues(thresholdsFor(0.5), [k], aAll, mLast)),
    AP75: mean(precisionValues(thresholdsFor(0.75), [k], aAll, mLast)),
    numGt: numGt.get(c.id) ?? 0,
    numDt: numDt.get(c.id) ?? 0,
  }));
  const notes: string[] = [];
  for (const [side, file] of [['gt', gt.file], ['dt', results.file]] as const) {
    const n = boxParts[side];
    if (n > 0) {
      notes.push(
        `${file}: ${n} segmentation(s) start with a 4-number part, read as [x, y, w, h] boxes (frPyObjects' rule); ` +
          'pycocotools itself raises TypeError on these JSON lists, so it gives no segm result to compare with.',
      );
    }
  }
  return { iouType, params: p, imageIds, categoryIds, precision, recall, stats, perCategory, notes };
}

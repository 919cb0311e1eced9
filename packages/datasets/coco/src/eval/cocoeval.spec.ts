// COCOeval against hand-computed values. pycocotools is not installed here (no pip access), so each
// expected number is worked out from COCOeval's rules in the comment beside it.
import { cocoEvaluate, COCO_EVAL_PARAMS, type IouType } from './cocoeval';
import { toEvalGroundTruth } from './ground-truth';
import { numpyMean, SPACING_ONE } from './numpy';
import { toEvalDetections } from '../results';

type Box = [number, number, number, number];
interface GtAnn {
  image_id?: number;
  category_id?: number;
  bbox: Box;
  area?: number;
  iscrowd?: 0 | 1;
  segmentation?: unknown;
  id?: number;
}

function groundTruth(anns: GtAnn[], opts: { images?: number[]; categories?: number[]; size?: [number, number] } = {}) {
  const [h, w] = opts.size ?? [200, 200];
  return toEvalGroundTruth(
    {
      images: (opts.images ?? [1]).map((id) => ({ id, width: w, height: h, file_name: `${id}.jpg` })),
      categories: (opts.categories ?? [1]).map((id) => ({ id, name: `c${id}` })),
      annotations: anns.map((a, i) => {
        const [x, y, bw, bh] = a.bbox;
        return {
          id: a.id ?? i + 1,
          image_id: a.image_id ?? 1,
          category_id: a.category_id ?? 1,
          bbox: a.bbox,
          area: a.area ?? bw * bh,
          iscrowd: a.iscrowd ?? 0,
          segmentation: a.segmentation ?? [[x, y, x + bw, y, x + bw, y + bh, x, y + bh]],
        };
      }),
    },
    'gt.json',
  );
}

function evaluate(gt: ReturnType<typeof groundTruth>, results: unknown[], iouType: IouType = 'bbox') {
  return cocoEvaluate(gt, toEvalDetections(results, 'dt.json', gt), { iouType });
}

const det = (bbox: Box, score: number, extra: Record<string, unknown> = {}) => ({ image_id: 1, category_id: 1, bbox, score, ...extra });

/** Precision 1 as COCOeval computes it for a lone TP: 1 / (1 + 0 + np.spacing(1)). */
const ONE = 1 / (1 + SPACING_ONE);

// TP, FP, TP over 2 GT at every threshold: recall [.5, .5, 1], precision [1, .5, 2/3] → made
// non-increasing from the right [1, 2/3, 2/3]; recall points 0.00..0.50 (51) read 1, 0.51..1 (50)
// read 2/3: AP = (51 + 50·2/3)/101 = 253/303.
const TP_FP_TP = 253 / 303;

describe('cocoEvaluate (bbox)', () => {
  const A: Box = [0, 0, 10, 10];
  const B: Box = [20, 0, 10, 10];

  it('averages precision over 101 recall points', () => {
    const r = evaluate(groundTruth([{ bbox: A }, { bbox: B }]), [det(A, 0.9), det([100, 100, 10, 10], 0.8), det(B, 0.7)]);
    expect(r.stats[0]).toBeCloseTo(TP_FP_TP, 12);
    expect(r.stats[1]).toBeCloseTo(TP_FP_TP, 12);
    expect(r.stats[2]).toBeCloseTo(TP_FP_TP, 12);
    // areas 100 ≤ 32²: everything is small; no GT is medium or large → −1
    expect(r.stats[3]).toBeCloseTo(TP_FP_TP, 12);
    expect(r.stats[4]).toBe(-1);
    expect(r.stats[5]).toBe(-1);
    // AR1: only the top detection (a TP) of the image counts → recall 1/2; AR10 = AR100 = 1
    expect(r.stats[6]).toBeCloseTo(0.5, 12);
    expect(r.stats[7]).toBe(1);
    expect(r.stats[8]).toBe(1);
  });

  it('adds np.spacing(1) to the precision denominator (a perfect detection scores just below 1)', () => {
    const r = evaluate(groundTruth([{ bbox: A }]), [det(A, 0.9)]);
    // all 1010 precision samples are 1/(1+2⁻⁵²) = 1 − 2⁻⁵²
    expect(r.stats[0]).toBe(numpyMean(new Array(1010).fill(ONE)));
    expect(r.stats[0]).toBeLessThan(1);
  });

  it('lets detections inside a crowd region match it again and again, and ignores them', () => {
    // crowd IoU = intersection / detection area = 1 for both detections inside the crowd box: both match
    // it (a crowd stays free), both are ignored, leaving one TP over one regular GT → AP ≈ 1. (Counted
    // as ordinary detections they would be false positives ranked above the TP.)
    const gt = groundTruth([{ bbox: A }, { bbox: [50, 50, 100, 100], iscrowd: 1 }]);
    const r = evaluate(gt, [det([60, 60, 10, 10], 0.9), det(A, 0.8), det([120, 120, 10, 10], 0.7)]);
    expect(r.stats[0]).toBeCloseTo(ONE, 12);
    // a detection half inside the crowd (crowd IoU 0.5), ranked above the TP: at t = 0.5 it matches the
    // crowd (ignored) → precision ≈ 1; at the other 9 thresholds it is a FP → FP, TP → precision ½ at
    // every recall point. AP = (1 + 9·½)/10.
    const half = evaluate(gt, [det([45, 60, 10, 10], 0.9), det(A, 0.8)]);
    expect(half.stats[0]).toBeCloseTo((ONE + 9 * (1 / (2 + SPACING_ONE))) / 10, 12);
  });

  it('counts detections on images without annotations as false positives', () => {
    // FP (0.95, image 2) then TP (0.5, image 1): precision [0, .5] → [.5, .5]; recall [0, 1] → AP 0.5
    const gt = groundTruth([{ bbox: A }], { images: [1, 2] });
    const r = evaluate(gt, [{ ...det(A, 0.95), image_id: 2 }, det(A, 0.5)]);
    expect(r.stats[0]).toBeCloseTo(0.5, 12);
    expect(r.stats[8]).toBe(1);
  });

  it('gives −1 to categories without ground truth and 0 to categories without detections', () => {
    // c1: perfect (AP ≈ 1); c2: GT but no detection (AP 0); c3: detections but no GT (−1, left out);
    // c4: nothing (−1). Mean over c1, c2 = 1/2.
    const gt = groundTruth([{ bbox: A }, { bbox: B, category_id: 2 }], { categories: [1, 2, 3, 4] });
    const r = evaluate(gt, [det(A, 0.9), { ...det(B, 0.8), category_id: 3 }]);
    expect(r.stats[0]).toBeCloseTo(ONE / 2, 12);
    expect(r.perCategory.map((c) => c.AP)).toEqual([r.perCategory[0].AP, 0, -1, -1]);
    expect(r.perCategory[0].AP).toBeCloseTo(ONE, 12);
    expect(r.perCategory.map((c) => [c.numGt, c.numDt])).toEqual([[1, 1], [1, 0], [0, 1], [0, 0]]);
  });

  it('reports −1 for every statistic when no category has ground truth', () => {
    const gt = groundTruth([], { categories: [1] });
    const r = evaluate(gt, [det(A, 0.9)]);
    expect(r.stats).toEqual(new Array(12).fill(-1));
  });

  it('makes a duplicate detection a false positive', () => {
    // A, A again (GT taken → FP), B: the TP, FP, TP case
    const r = evaluate(groundTruth([{ bbox: A }, { bbox: B }]), [det(A, 0.9), det(A, 0.8), det(B, 0.7)]);
    expect(r.stats[0]).toBeCloseTo(TP_FP_TP, 12);
  });

  it('keeps file order for tied scores within an image (stable sort)', () => {
    // FP and TP tied at 0.8, FP first in the file: FP, TP, TP → precision [0, .5, 2/3] → all 2/3 → AP 2/3
    const r = evaluate(groundTruth([{ bbox: A }, { bbox: B }]), [det([100, 100, 10, 10], 0.8), det(A, 0.8), det(B, 0.6)]);
    expect(r.stats[0]).toBeCloseTo(2 / 3, 12);
    // the same detections with the TP first in the file: TP, FP, TP → 253/303
    const swapped = evaluate(groundTruth([{ bbox: A }, { bbox: B }]), [det(A, 0.8), det([100, 100, 10, 10], 0.8), det(B, 0.6)]);
    expect(swapped.stats[0]).toBeCloseTo(TP_FP_TP, 12);
  });

  it('orders tied scores across images by image id, not by file order', () => {
    // image 2's FP comes first in the file, but accumulate concatenates images in id order: image 1's TP
    // (0.8) precedes image 2's FP (0.8): TP, FP, TP (B, 0.6) → 253/303 (file order would give 2/3)
    const gt = groundTruth([{ bbox: A }, { bbox: B }], { images: [1, 2] });
    const r = evaluate(gt, [{ ...det([100, 100, 10, 10], 0.8), image_id: 2 }, det(A, 0.8), det(B, 0.6)]);
    expect(r.stats[0]).toBeCloseTo(TP_FP_TP, 12);
  });

  it('lets a tied IoU go to the later ground truth', () => {
    // G1 = [0,0,10,10], G2 = [2,0,10,10]; d1 = [1,0,10,10] has IoU 90/110 with both, d2 = [-2,0,10,10]
    // has 80/120 = 2/3 with G1 and 60/140 with G2. The later GT wins the tie, so d1 takes G2 (t ≤ 0.8)
    // and d2 takes G1 (t ≤ 0.65): t = .50–.65: TP, TP → ≈1; t = .70–.80: TP, FP → 51/101 (recall
    // points ≤ .5 read 1, the rest 0); t ≥ .85: 0. AP = (4·101 + 3·51)/1010 = 557/1010.
    // (Ties to the earlier GT would leave d2 a FP everywhere: 7·51/1010.)
    const gt = groundTruth([{ bbox: [0, 0, 10, 10] }, { bbox: [2, 0, 10, 10] }]);
    const r = evaluate(gt, [det([1, 0, 10, 10], 0.9), det([-2, 0, 10, 10], 0.8)]);
    expect(r.stats[0]).toBeCloseTo((557 * ONE) / 1010, 12);
  });

  it('uses only the 100 best-scoring detections of an image', () => {
    // 100 FPs scored above the lone TP: ranked 101st it is cut → AP 0, AR100 0
    const fps = Array.from({ length: 100 }, (_, i) => det([100 + (i % 10), 100, 10, 10], 0.9 - i * 0.001));
    const cut = evaluate(groundTruth([{ bbox: A }]), [...fps, det(A, 0.1)]);
    expect(cut.stats[0]).toBe(0);
    expect(cut.stats[8]).toBe(0);
    // 99 FPs: the TP is 100th → recall 1 at index 99 with precision 1/100 → every recall point reads 0.01
    const kept = evaluate(groundTruth([{ bbox: A }]), [...fps.slice(0, 99), det(A, 0.1)]);
    expect(kept.stats[0]).toBeCloseTo(1 / (100 + SPACING_ONE), 12);
    expect(kept.stats[8]).toBe(1);
    expect(kept.stats[7]).toBe(0); // AR10: the TP is not among the first 10
  });

  it('tests ground truth against its JSON area and unmatched detections against their own', () => {
    // GT with a 10×10 box but JSON area 5000 (medium): APm uses it, APs ignores it (→ −1, no regular GT)
    const gt = groundTruth([{ bbox: A, area: 5000 }]);
    const r = evaluate(gt, [det([150, 150, 10, 10], 0.9), det(A, 0.8)]);
    // all: FP then TP → AP 0.5; medium: the unmatched FP (area 100) is outside the range → ignored → AP 1
    expect(r.stats[0]).toBeCloseTo(0.5, 12);
    expect(r.stats[3]).toBe(-1);
    expect(r.stats[4]).toBeCloseTo(ONE, 12);
    expect(r.stats[5]).toBe(-1);
  });

  it('includes both bounds of an area range (an area of exactly 32² is small and medium)', () => {
    const r = evaluate(groundTruth([{ bbox: [0, 0, 32, 32] }]), [det([0, 0, 32, 32], 0.9)]);
    expect(r.stats[3]).toBeCloseTo(ONE, 12);
    expect(r.stats[4]).toBeCloseTo(ONE, 12);
    expect(r.stats[5]).toBe(-1);
  });

  it("uses np.linspace's thresholds: an IoU of exactly 0.85 matches at the 0.85 threshold", () => {
    // det [0,0,17,1] vs GT [0,0,20,1]: IoU 17/20 = 0.85 → matched at 0.50 … 0.85 (8 of 10) → AP 0.8.
    // (0.5 + 7·(0.45/9) = 0.8500000000000001 would drop it: 0.7.)
    const r = evaluate(groundTruth([{ bbox: [0, 0, 20, 1] }]), [det([0, 0, 17, 1], 0.9)]);
    expect(r.stats[0]).toBeCloseTo((8 * ONE) / 10, 12);
    // IoU 3/4 exactly matches at 0.75 → AP75 = 1, AP = 6/10
    const r75 = evaluate(groundTruth([{ bbox: [0, 0, 4, 1] }]), [det([0, 0, 3, 1], 0.9)]);
    expect(r75.stats[2]).toBeCloseTo(ONE, 12);
    expect(r75.stats[0]).toBeCloseTo((6 * ONE) / 10, 12);
    expect(COCO_EVAL_PARAMS.iouThrs[7]).toBe(0.85);
  });

  it('stops at ignored ground truth once a regular one is matched', () => {
    // GT: regular A (IoU 0.6 with the det) and a crowd region around it (crowd IoU = 60/60 = 1). At
    // t ≤ 0.6 (3 thresholds) the det takes A and stops before the ignored crowd: TP → precision ≈ 1.
    // At t > 0.6 it skips A and matches the crowd: ignored, so no TP and no FP → precision 0 at every
    // recall point. AP = 3/10 (had it preferred the crowd's higher IoU at t ≤ 0.6, AP would be 0).
    const gt = groundTruth([{ bbox: [0, 0, 10, 10] }, { bbox: [0, 0, 200, 200], iscrowd: 1 }]);
    const r = evaluate(gt, [det([0, 0, 10, 6], 0.9)]);
    expect(r.stats[0]).toBeCloseTo((3 * ONE) / 10, 12);
  });

  it("does not read a JSON 'ignore' field (COCOeval's _prepare overwrites it with iscrowd)", () => {
    const gt = toEvalGroundTruth(
      {
        images: [{ id: 1, width: 50, height: 50 }],
        categories: [{ id: 1, name: 'a' }],
        annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: A, area: 100, iscrowd: 0, ignore: 1 }],
      },
      'gt.json',
    );
    // honouring ignore would leave no regular GT (AP −1); COCOeval scores the match: ≈ 1
    expect(cocoEvaluate(gt, toEvalDetections([det(A, 0.9)], 'dt.json', gt), { iouType: 'bbox' }).stats[0]).toBeCloseTo(ONE, 12);
  });
});

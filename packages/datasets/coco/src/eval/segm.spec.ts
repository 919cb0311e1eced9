// Mask IoU (rleIou), annToRLE's segmentation rules and segm evaluation, against hand-computed values.
import { cocoEvaluate } from './cocoeval';
import { toEvalGroundTruth } from './ground-truth';
import { bboxIouMatrix, cocoRleArea, cocoRleBbox, rleIouMatrix, segmentationToRle, SegmentationError } from './iou';
import { SPACING_ONE } from './numpy';
import { toEvalDetections } from '../results';
import { compressRle, encodeMask, rleToBbox, type Rle } from '../rle';

const ONE = 1 / (1 + SPACING_ONE);

/** Row-major h×w mask of the pixel rectangle [x, x+bw) × [y, y+bh). */
function rectMask(h: number, w: number, [x, y, bw, bh]: number[]): Uint8Array {
  const m = new Uint8Array(h * w);
  for (let r = y; r < y + bh; r++) for (let c = x; c < x + bw; c++) m[r * w + c] = 1;
  return m;
}
const rectRle = (h: number, w: number, box: number[]): Rle => encodeMask(rectMask(h, w, box), h, w);

describe('rleIouMatrix / bboxIouMatrix', () => {
  it('computes mask IoU, with the detection area as union for crowd ground truth', () => {
    const d = rectRle(10, 10, [0, 0, 4, 4]); // 16 px
    const g = rectRle(10, 10, [2, 0, 4, 4]); // overlap 2×4 = 8, union 24
    const iou = rleIouMatrix([d], [g, g], [false, true]);
    expect(Array.from(iou)).toEqual([8 / 24, 8 / 16]);
  });

  it('gives −1 for masks of different sizes whose boxes overlap, 0 where they do not (the box pre-check)', () => {
    const d = rectRle(20, 20, [0, 0, 4, 4]);
    const near = rectRle(10, 10, [2, 2, 4, 4]);
    const far = rectRle(10, 10, [6, 6, 4, 4]);
    expect(Array.from(rleIouMatrix([d], [near, far], [false, false]))).toEqual([-1, 0]);
  });

  it("stops the run walk where both masks' current runs end together, as rleIou does", () => {
    // 2×5 masks: dt = 4 off, 2 on, 0 off, 4 on (pixels 4–9); gt = 2 off, 4 on, 0 off, 4 on (pixels 2–9).
    // Pixel IoU 6/8, but the C walk ends when both reach their empty runs at pixel 6: 2/4.
    const iou = rleIouMatrix([{ size: [2, 5], counts: [4, 2, 0, 4] }], [{ size: [2, 5], counts: [2, 4, 0, 4] }], [false]);
    expect(Array.from(iou)).toEqual([0.5]);
  });

  it('lays matrices out detections × ground truths', () => {
    const iou = bboxIouMatrix([[0, 0, 2, 2], [10, 10, 2, 2]], [[0, 0, 2, 1], [0, 0, 1, 1], [10, 10, 2, 2]], [false, false, false]);
    expect(Array.from(iou)).toEqual([0.5, 0.25, 0, 0, 0, 1]);
  });
});

describe('cocoRleBbox (rleToBbox)', () => {
  it('matches the tight box on ordinary masks, including runs that wrap into the next column', () => {
    const r = rectRle(10, 12, [3, 2, 5, 4]);
    expect(cocoRleBbox(r)).toEqual([3, 2, 5, 4]);
    // a run from (x=0, y=8) to (x=1, y=1) wraps → full height
    const wrap: Rle = { size: [10, 3], counts: [8, 4, 18] };
    expect(cocoRleBbox(wrap)).toEqual([0, 0, 2, 10]);
  });

  it('skips empty runs, and wraps around like C for an empty mask written with several runs (pycocotools 2.0.11)', () => {
    // h=5, w=2: 2 zeros, 0 ones, 3 zeros, 5 ones → the pixels of column 1. (cocoapi's older maskApi.c
    // counted the empty run's boundary in column 0 and gave [0, 0, 2, 5].)
    expect(cocoRleBbox({ size: [5, 2], counts: [2, 0, 3, 5] })).toEqual([1, 0, 1, 5]);
    expect(cocoRleBbox({ size: [4, 4], counts: [16] })).toEqual([0, 0, 0, 0]);
    // no foreground but two runs: xs = w, ys = h, xe = ye = 0 in unsigned arithmetic (toBbox prints
    // [4, 4, 4294967293, 4294967293])
    expect(cocoRleBbox({ size: [4, 4], counts: [0, 0, 16] })).toEqual([4, 4, 4294967293, 4294967293]);
    expect(rleToBbox({ size: [4, 4], counts: [0, 0, 16] })).toEqual([0, 0, 0, 0]);
  });
});

describe('segmentationToRle (annToRLE / frPyObjects)', () => {
  it('reads a polygon list whose first part has 4 numbers as boxes [x, y, w, h]', () => {
    const r = segmentationToRle([[2, 2, 6, 4]], 10, 10);
    // as the polygon of its corners: columns 2..7, rows 2..5 → 24 px; read as 2 points it would be empty
    expect(cocoRleArea(r)).toBe(24);
    expect(cocoRleBbox(r)).toEqual([2, 2, 6, 4]);
    expect(cocoRleArea(segmentationToRle([[2, 2, 6, 4], [0, 0, 1, 1]], 10, 10))).toBe(25);
    expect(() => segmentationToRle([[2, 2, 6, 4], [0, 0, 1, 0, 1, 1]], 10, 10)).toThrow(SegmentationError);
    expect(() => segmentationToRle([[2, 2, 6, 4], [0, 0, 1, 0, 1, 1]], 10, 10)).toThrow(/part 1 has 6/);
  });

  it('rasterises polygons and merges their parts; parts of fewer than 3 points add nothing', () => {
    const square = [0, 0, 4, 0, 4, 4, 0, 4];
    expect(cocoRleArea(segmentationToRle([square], 10, 10))).toBe(16);
    expect(cocoRleArea(segmentationToRle([square, [6, 6, 8, 6, 8, 8, 6, 8]], 10, 10))).toBe(20);
    expect(cocoRleArea(segmentationToRle([square, [6, 6, 8, 8]], 10, 10))).toBe(16);
  });

  it("keeps an RLE's own size and reads compressed strings", () => {
    const r = rectRle(6, 5, [1, 1, 2, 2]);
    expect(segmentationToRle({ size: [6, 5], counts: r.counts }, 100, 100).size).toEqual([6, 5]);
    expect(segmentationToRle(compressRle(r), 100, 100).counts).toEqual(r.counts);
    expect(() => segmentationToRle({ size: [6, 5], counts: [3, 4] }, 6, 5)).toThrow(/sum to 7/);
    expect(() => segmentationToRle([], 6, 5)).toThrow(SegmentationError);
  });
});

describe('cocoEvaluate (segm)', () => {
  const H = 40;
  const W = 40;
  const gtOf = (annotations: Record<string, unknown>[]) =>
    toEvalGroundTruth(
      {
        images: [{ id: 7, width: W, height: H }],
        categories: [{ id: 1, name: 'thing' }],
        annotations: annotations.map((a, i) => ({ id: i + 1, image_id: 7, category_id: 1, iscrowd: 0, ...a })),
      },
      'gt.json',
    );
  const run = (gt: ReturnType<typeof gtOf>, results: unknown[], iouType: 'bbox' | 'segm') =>
    cocoEvaluate(gt, toEvalDetections(results, 'dt.json', gt), { iouType });
  const square = [0, 0, 10, 0, 10, 10, 0, 10]; // 10×10 px at the origin

  it('scores a mask equal to a 4-number "polygon" ground truth as a match, with a note', () => {
    const gt = gtOf([{ bbox: [2, 2, 6, 4], area: 24, segmentation: [[2, 2, 6, 4]] }]);
    const seg = compressRle(rectRle(H, W, [2, 2, 6, 4]));
    const r = run(gt, [{ image_id: 7, category_id: 1, score: 0.9, segmentation: seg }], 'segm');
    expect(r.stats[0]).toBeCloseTo(ONE, 12);
    // pycocotools 2.0.11 raises TypeError here (frBbox takes only numpy arrays): the result says so
    expect(r.notes).toEqual([expect.stringMatching(/^gt\.json: 1 segmentation\(s\) start with a 4-number part, read as \[x, y, w, h\] boxes/)]);
    expect(run(gt, [{ image_id: 7, category_id: 1, score: 0.9, segmentation: seg }], 'bbox').notes).toEqual([]);
  });

  it('differs from bbox evaluation on the same detections', () => {
    // mask equal to the GT's (segm IoU 1) but a box twice as tall (box IoU 100/200 = 0.5: TP at t = 0.5 only)
    const gt = gtOf([{ bbox: [0, 0, 10, 10], area: 100, segmentation: [square] }]);
    const results = [{ image_id: 7, category_id: 1, score: 0.9, bbox: [0, 0, 10, 20], segmentation: compressRle(rectRle(H, W, [0, 0, 10, 10])) }];
    expect(run(gt, results, 'segm').stats[0]).toBeCloseTo(ONE, 12);
    expect(run(gt, results, 'bbox').stats[0]).toBeCloseTo(ONE / 10, 12);
  });

  it('takes a detection area from the box when results carry boxes, from the mask otherwise (loadRes)', () => {
    // GT small (area 100). An unmatched FP with a 100 px mask but a 40×40 box, scored above the TP.
    // With boxes: FP area 1600 is outside "small" → ignored → APs ≈ 1. Masks only: area 100 → FP counts:
    // FP, TP → precision [0, ½] → APs = ½.
    const gt = gtOf([{ bbox: [0, 0, 10, 10], area: 100, segmentation: [square] }]);
    const fpMask = compressRle(rectRle(H, W, [30, 30, 10, 10]));
    const tpMask = compressRle(rectRle(H, W, [0, 0, 10, 10]));
    const withBoxes = [
      { image_id: 7, category_id: 1, score: 0.9, bbox: [0, 0, 40, 40], segmentation: fpMask },
      { image_id: 7, category_id: 1, score: 0.8, bbox: [0, 0, 10, 10], segmentation: tpMask },
    ];
    const masksOnly = withBoxes.map(({ bbox: _bbox, ...rest }) => rest);
    expect(run(gt, withBoxes, 'segm').stats[3]).toBeCloseTo(ONE, 12);
    expect(run(gt, masksOnly, 'segm').stats[3]).toBeCloseTo(1 / (2 + SPACING_ONE), 12);
    // bbox evaluation of mask-only results uses the mask's box (toBbox): the TP's box is the GT's exactly
    expect(run(gt, masksOnly.slice(1), 'bbox').stats[0]).toBeCloseTo(ONE, 12);
  });

  it('rasterises the box of box-only results for segm evaluation', () => {
    const gt = gtOf([{ bbox: [0, 0, 10, 10], area: 100, segmentation: [square] }]);
    expect(run(gt, [{ image_id: 7, category_id: 1, score: 0.5, bbox: [0, 0, 10, 10] }], 'segm').stats[0]).toBeCloseTo(ONE, 12);
  });

  it('matches masks inside a crowd RLE to it (union = detection area) and ignores them', () => {
    // crowd: uncompressed RLE over the right half; FP-looking detection inside it, then the TP
    const crowd = rectRle(H, W, [20, 0, 20, 40]);
    const gt = gtOf([
      { bbox: [0, 0, 10, 10], area: 100, segmentation: [square] },
      { bbox: [20, 0, 20, 40], area: 800, iscrowd: 1, segmentation: { size: crowd.size, counts: crowd.counts } },
    ]);
    const results = [
      { image_id: 7, category_id: 1, score: 0.9, segmentation: compressRle(rectRle(H, W, [25, 5, 5, 5])) },
      { image_id: 7, category_id: 1, score: 0.8, segmentation: compressRle(rectRle(H, W, [0, 0, 10, 10])) },
    ];
    expect(run(gt, results, 'segm').stats[0]).toBeCloseTo(ONE, 12);
  });

  it('never matches a mask of another size (IoU −1): a false positive', () => {
    const gt = gtOf([{ bbox: [0, 0, 10, 10], area: 100, segmentation: [square] }]);
    const wrongSize = compressRle(rectRle(H + 1, W, [0, 0, 10, 10]));
    expect(run(gt, [{ image_id: 7, category_id: 1, score: 0.9, segmentation: wrongSize }], 'segm').stats[0]).toBe(0);
  });

  it('names the file and annotation of an unreadable ground-truth segmentation', () => {
    const gt = gtOf([{ bbox: [0, 0, 10, 10], area: 100, segmentation: [[1, 2]] }]);
    expect(() => run(gt, [{ image_id: 7, category_id: 1, score: 0.9, bbox: [0, 0, 10, 10] }], 'segm')).toThrow(
      /gt\.json: expected annotations\[0\]\.segmentation .* received polygon 0 has 2 numbers/,
    );
  });
});

// The printed summary and the numpy behaviours behind the numbers (expected values printed by numpy 2.4
// on this machine: python3 -c 'import numpy as np; print(np.linspace(.5, .95, 10).tolist())' etc.).
import { COCO_EVAL_PARAMS, cocoEvaluate } from './cocoeval';
import { toEvalGroundTruth } from './ground-truth';
import { linspace, numpyMean } from './numpy';
import { formatFixed3, perCategoryTable, statsJson, summaryLines } from './summary';
import { toEvalDetections } from '../results';

describe('numpy behaviours', () => {
  it("reproduces np.linspace's thresholds bit for bit", () => {
    expect(COCO_EVAL_PARAMS.iouThrs).toEqual([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95]);
    expect(COCO_EVAL_PARAMS.recThrs).toHaveLength(101);
    expect(COCO_EVAL_PARAMS.recThrs[57]).toBe(0.5700000000000001);
    expect(COCO_EVAL_PARAMS.recThrs[100]).toBe(1);
    // numpy's step is (0.95 − 0.5)/9, not 0.45/9 (which would give 0.8500000000000001 and 0.9)
    expect(linspace(0.5, 0.95, 10)[7]).not.toBe(7 * (0.45 / 9) + 0.5);
  });

  it('averages with pairwise summation, as np.mean does', () => {
    // np.mean([0.1]*7 + [0.3]*130 + [1/3]*50) = 0.30142602495543674; a running sum gives …724
    const x = [...new Array(7).fill(0.1), ...new Array(130).fill(0.3), ...new Array(50).fill(1 / 3)];
    expect(numpyMean(x)).toBe(0.30142602495543674);
    expect(x.reduce((s, v) => s + v, 0) / x.length).not.toBe(0.30142602495543674);
  });
});

describe('formatFixed3', () => {
  it("rounds like Python's '{:0.3f}' (exact value, ties to even)", () => {
    expect(formatFixed3(0.0625)).toBe('0.062');
    expect(formatFixed3(0.1875)).toBe('0.188');
    expect(formatFixed3(0.3125)).toBe('0.312');
    expect(formatFixed3(0.8349834983498)).toBe('0.835');
    expect(formatFixed3(1)).toBe('1.000');
    expect(formatFixed3(-1)).toBe('-1.000');
    expect(formatFixed3(0.0005)).toBe('0.001'); // 0.0005 is not exactly a tie in binary (it is above it)
  });
});

describe('summaryLines', () => {
  const gt = toEvalGroundTruth(
    {
      images: [{ id: 1, width: 100, height: 100 }],
      categories: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0 }],
    },
    'gt.json',
  );
  const result = cocoEvaluate(gt, toEvalDetections([{ image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], score: 1 }], 'dt.json', gt), { iouType: 'bbox' });

  it("prints pycocotools' 12 lines exactly, −1 as -1.000", () => {
    expect(summaryLines(result)).toEqual([
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000',
      ' Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 1.000',
      ' Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 1.000',
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 1.000',
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000',
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 1.000',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 1.000',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 1.000',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000',
      ' Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000',
    ]);
  });

  it('shows n/a (not NaN) for a category without ground truth, in the table and as −1 in the JSON', () => {
    const table = perCategoryTable(result);
    expect(table[3]).toMatch(/^b\s+2\s+n\/a\s+n\/a\s+n\/a\s+0\s+0$/);
    expect(table.join('\n')).not.toMatch(/NaN/);
    const json = statsJson(result) as { stats: number[]; perCategory: Record<string, { AP: number }> };
    expect(json.stats).toHaveLength(12);
    expect(json.perCategory.b.AP).toBe(-1);
    expect(json.perCategory.a.AP).toBeGreaterThan(0.999);
  });
});

import { ConfusionMatrix, formatClassTable } from './metrics';

describe('ConfusionMatrix', () => {
  it('computes IoU, accuracies and mIoU of a hand-worked 3-class case, skipping ignored pixels', () => {
    // gt:   0 0 0 1 1 2 255 255
    // pred: 0 0 1 1 2 2  0   1
    const cm = new ConfusionMatrix(3, 255);
    cm.add([0, 0, 0, 1, 1, 2, 255, 255], [0, 0, 1, 1, 2, 2, 0, 1]);
    // matrix rows gt, cols pred: [[2,1,0],[0,1,1],[0,0,1]]
    expect(Array.from(cm.counts)).toEqual([2, 1, 0, 0, 1, 1, 0, 0, 1]);
    const m = cm.metrics();
    // IoU0 = 2/(3+2-2)=2/3; IoU1 = 1/(2+2-1)=1/3; IoU2 = 1/(1+2-1)=1/2
    expect(m.iou[0]).toBeCloseTo(2 / 3, 12);
    expect(m.iou[1]).toBeCloseTo(1 / 3, 12);
    expect(m.iou[2]).toBeCloseTo(1 / 2, 12);
    expect(m.mIoU).toBeCloseTo((2 / 3 + 1 / 3 + 1 / 2) / 3, 12);
    expect(m.pixelAccuracy).toBeCloseTo(4 / 6, 12);
    expect(m.classAccuracy).toEqual([2 / 3, 1 / 2, 1]);
    expect(m.pixels).toBe(6);
  });

  it('leaves classes absent from ground truth and prediction out of the mean; a false positive class counts as 0', () => {
    const cm = new ConfusionMatrix(4);
    cm.add([0, 0, 1, 1], [0, 0, 1, 2]);
    const m = cm.metrics();
    expect(Number.isNaN(m.iou[3])).toBe(true);
    expect(m.iou[2]).toBe(0); // predicted but never true
    expect(m.mIoU).toBeCloseTo((1 + 0.5 + 0) / 3, 12);
    expect(Number.isNaN(m.classAccuracy[2])).toBe(true);
  });

  it('merges shards to the same result as one pass, and rejects bad labels', () => {
    const a = new ConfusionMatrix(3);
    const b = new ConfusionMatrix(3);
    const all = new ConfusionMatrix(3);
    a.add([0, 1], [0, 2]);
    b.add([2, 2], [2, 1]);
    all.add([0, 1, 2, 2], [0, 2, 2, 1]);
    a.merge(b);
    expect(Array.from(a.counts)).toEqual(Array.from(all.counts));
    expect(() => a.add([3], [0])).toThrow('pixel 0 has ground truth 3 and prediction 0; expected 0..2 (or 255 to ignore)');
    expect(() => a.add([0, 1], [0])).toThrow(RangeError);
  });

  it('prints a class table', () => {
    const cm = new ConfusionMatrix(2);
    cm.add([0, 1, 1, 1], [0, 1, 1, 0]);
    const t = formatClassTable(cm.metrics(), ['road', 'sky']);
    expect(t.split('\n')).toEqual([
      'class         IoU    Acc',
      'road        50.00 100.00',
      'sky         66.67  66.67',
      'mean        58.33  83.33',
      'pixel accuracy 75.00%  over 4 pixels',
    ]);
  });
});

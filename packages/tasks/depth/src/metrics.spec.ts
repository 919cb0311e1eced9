import { DepthMetricAccumulator, formatDepthTable } from './metrics';

describe('depth metrics', () => {
  it('match hand computations on one image; invalid and out-of-region pixels are skipped', () => {
    const acc = new DepthMetricAccumulator({ maxDepth: 10, minDepth: 1e-3 });
    // d = 2, 4 (valid), 0 (invalid), 12 (beyond the cap), 1 (outside the region).
    const e = acc.add([2, 4, 0, 12, 1], [1, 5, 3, 3, 9], [1, 1, 1, 1, 0])!;
    expect(e.absRel).toBeCloseTo((1 / 2 + 1 / 4) / 2, 10);
    expect(e.sqRel).toBeCloseTo((1 / 2 + 1 / 4) / 2, 10);
    expect(e.sqRelVnl).toBeCloseTo((1 / 4 + 1 / 16) / 2, 10);
    expect(e.rms).toBeCloseTo(1, 10);
    expect(e.rmsLog).toBeCloseTo(Math.sqrt((Math.log(2) ** 2 + Math.log(5 / 4) ** 2) / 2), 10);
    expect(e.log10).toBeCloseTo((Math.log10(2) + Math.log10(5 / 4)) / 2, 10);
    // Ratios 2 and 1.25: 1.25 is not < 1.25 (strict, as BTS and VNL) but is < 1.25²; 2 exceeds 1.25³ = 1.95.
    expect([e.d1, e.d2, e.d3]).toEqual([0, 0.5, 0.5]);
    const errs = [Math.log(1 / 2), Math.log(5 / 4)];
    const mean = (errs[0] + errs[1]) / 2;
    expect(e.silog).toBeCloseTo(100 * Math.sqrt((errs[0] ** 2 + errs[1] ** 2) / 2 - mean ** 2), 8);
  });

  it('pooled (VNL) and per-image (BTS) reductions differ where they should', () => {
    const acc = new DepthMetricAccumulator({ maxDepth: 0, minDepth: 1e-3 });
    // Image A: 1 pixel, abs rel 0.5. Image B: 3 pixels, abs rel 0.
    acc.add([2], [1]);
    acc.add([1, 1, 1], [1, 1, 1]);
    const m = acc.result();
    expect(m.images).toBe(2);
    expect(m.pixels).toBe(4);
    expect(m.perImage.absRel).toBeCloseTo(0.25, 10);
    expect(m.pooled.absRel).toBeCloseTo(0.125, 10);
    // RMS: per image mean(1, 0) = 0.5; pooled √(1/4) = 0.5 — equal here; RMS of A and B with equal
    // counts still differ by the square root's concavity:
    const b = new DepthMetricAccumulator({ maxDepth: 0, minDepth: 1e-3 });
    b.add([2, 2], [1, 1]);
    b.add([2, 2], [2, 2]);
    const r = b.result();
    expect(r.perImage.rms).toBeCloseTo(0.5, 10);
    expect(r.pooled.rms).toBeCloseTo(Math.sqrt(0.5), 10);
    // Linear measures agree when every image has as many pixels.
    expect(r.perImage.absRel).toBeCloseTo(r.pooled.absRel, 12);
  });

  it('caps depth as asked: BTS 10 m clamps predictions and skips far ground truth; 0 keeps all', () => {
    const capped = new DepthMetricAccumulator({ maxDepth: 10, minDepth: 1e-3 });
    capped.add([5, 11], [20, 11]);
    expect(capped.result().pooled.absRel).toBeCloseTo(1, 10);
    const none = new DepthMetricAccumulator({ maxDepth: 0, minDepth: 1e-3 });
    none.add([5, 11], [20, 11]);
    expect(none.result().pooled.absRel).toBeCloseTo(1.5, 10);
  });

  it('refuses mismatched sizes and an empty evaluation, and labels both columns', () => {
    const acc = new DepthMetricAccumulator();
    expect(() => acc.add([1, 2], [1])).toThrow(RangeError);
    expect(acc.add([0, 0], [1, 1])).toBeUndefined();
    expect(() => acc.result()).toThrow('no image had a valid ground-truth pixel');
    acc.add([1], [2]);
    const table = formatDepthTable(acc.result());
    expect(table).toContain('| metric | pooled over pixels (VNL) | mean per image (BTS) |');
    expect(table).toContain('| abs rel | 1.0000 | 1.0000 |');
    expect(table).toContain('sq rel VNL (/d²)');
  });
});

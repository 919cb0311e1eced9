/**
 * Depth evaluation (REFERENCE.md §4) over the valid ground-truth pixels inside the Eigen crop,
 * in metres: AbsRel = mean|d−p|/d; SqRel = mean (d−p)²/d (Eigen, BTS); SqRel(VNL) = mean
 * (d−p)²/d² (VNL's `evaluate_depth_error.py`, reported beside it); RMS = √mean(d−p)²;
 * RMSlog = √mean(ln d − ln p)²; log10 = mean|log10 d − log10 p|; δk = frac(max(d/p, p/d) < 1.25^k);
 * SILog = 100·√(mean e² − (mean e)²), e = ln p − ln d (BTS; VNL has no ×100).
 *
 * Two reductions, both reported: pooled over every pixel of the split (VNL, DenseDepth) and the
 * mean of per-image values (BTS `compute_errors` per image). They differ whenever images have
 * different numbers of valid pixels or the metric is non-linear in its pixels (RMS, SILog).
 */

/** The error measures of one reduction. */
export interface DepthErrors {
  readonly absRel: number;
  readonly sqRel: number;
  readonly sqRelVnl: number;
  readonly rms: number;
  readonly rmsLog: number;
  readonly log10: number;
  readonly d1: number;
  readonly d2: number;
  readonly d3: number;
  readonly silog: number;
}

export interface DepthMetrics {
  /** Over all evaluated pixels of the split (VNL). */
  readonly pooled: DepthErrors;
  /** Mean over images of per-image values (BTS). */
  readonly perImage: DepthErrors;
  readonly images: number;
  readonly pixels: number;
}

/** Sums over pixels from which both reductions are formed. */
class Sums {
  n = 0;
  absRel = 0;
  sqRel = 0;
  sqRelVnl = 0;
  sq = 0;
  sqLog = 0;
  log10 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;
  e = 0;
  e2 = 0;

  add(d: number, p: number): void {
    const diff = d - p;
    const e = Math.log(p) - Math.log(d);
    const ratio = Math.max(d / p, p / d);
    this.n++;
    this.absRel += Math.abs(diff) / d;
    this.sqRel += (diff * diff) / d;
    this.sqRelVnl += (diff * diff) / (d * d);
    this.sq += diff * diff;
    this.sqLog += e * e;
    this.log10 += Math.abs(Math.log10(d) - Math.log10(p));
    if (ratio < 1.25) this.d1++;
    if (ratio < 1.25 ** 2) this.d2++;
    if (ratio < 1.25 ** 3) this.d3++;
    this.e += e;
    this.e2 += e * e;
  }

  merge(o: Sums): void {
    for (const k of Object.keys(o) as (keyof Sums)[]) if (typeof o[k] === 'number') (this[k] as number) += o[k] as number;
  }

  errors(): DepthErrors {
    const n = this.n;
    const me = this.e / n;
    return {
      absRel: this.absRel / n,
      sqRel: this.sqRel / n,
      sqRelVnl: this.sqRelVnl / n,
      rms: Math.sqrt(this.sq / n),
      rmsLog: Math.sqrt(this.sqLog / n),
      log10: this.log10 / n,
      d1: this.d1 / n,
      d2: this.d2 / n,
      d3: this.d3 / n,
      silog: 100 * Math.sqrt(Math.max(0, this.e2 / n - me * me)),
    };
  }
}

export const ERROR_KEYS: readonly (keyof DepthErrors)[] = Object.freeze(['absRel', 'sqRel', 'sqRelVnl', 'rms', 'rmsLog', 'log10', 'd1', 'd2', 'd3', 'silog']);

/** Options of the accumulator. */
export interface DepthEvalOptions {
  /** Depth cap in metres: pixels with ground truth ≥ cap are skipped and predictions clamped to it (BTS: 10); 0 = no cap (VNL). */
  readonly maxDepth: number;
  /** Smallest ground truth counted and smallest prediction, metres (BTS: 1e-3). */
  readonly minDepth: number;
}

/** Accumulates images; `result()` gives both reductions. */
export class DepthMetricAccumulator {
  private readonly pooled = new Sums();
  private readonly images: DepthErrors[] = [];

  constructor(private readonly o: DepthEvalOptions = { maxDepth: 10, minDepth: 1e-3 }) {}

  /**
   * Adds one image: ground truth and prediction in metres (row-major, same length) and an
   * optional region mask (1 = evaluated, e.g. the Eigen crop). Returns the image's errors, or
   * undefined when it has no valid pixel.
   */
  add(gt: ArrayLike<number>, pred: ArrayLike<number>, region?: ArrayLike<number>): DepthErrors | undefined {
    if (gt.length !== pred.length || (region && region.length !== gt.length)) {
      throw new RangeError(`[depth] metrics: ground truth (${gt.length}), prediction (${pred.length})${region ? ` and region (${region.length})` : ''} must have the same number of pixels.`);
    }
    const { maxDepth, minDepth } = this.o;
    const s = new Sums();
    for (let i = 0; i < gt.length; i++) {
      const d = gt[i];
      if (!(d > minDepth) || (maxDepth > 0 && !(d < maxDepth)) || (region && !region[i])) continue;
      let p = Math.max(minDepth, pred[i]);
      if (maxDepth > 0) p = Math.min(maxDepth, p);
      s.add(d, p);
    }
    if (s.n === 0) return undefined;
    this.pooled.merge(s);
    const e = s.errors();
    this.images.push(e);
    return e;
  }

  result(): DepthMetrics {
    if (this.images.length === 0) throw new RangeError('[depth] metrics: no image had a valid ground-truth pixel in the evaluated region.');
    const mean = {} as Record<keyof DepthErrors, number>;
    for (const k of ERROR_KEYS) mean[k] = this.images.reduce((a, e) => a + e[k], 0) / this.images.length;
    return { pooled: this.pooled.errors(), perImage: mean, images: this.images.length, pixels: this.pooled.n };
  }
}

const ROWS: readonly [keyof DepthErrors, string, number, number][] = [
  ['absRel', 'abs rel', 1, 4],
  ['sqRel', 'sq rel (/d)', 1, 4],
  ['sqRelVnl', 'sq rel VNL (/d²)', 1, 4],
  ['rms', 'rms (m)', 1, 4],
  ['rmsLog', 'rms log', 1, 4],
  ['log10', 'log10', 1, 4],
  ['d1', 'δ < 1.25', 1, 4],
  ['d2', 'δ < 1.25²', 1, 4],
  ['d3', 'δ < 1.25³', 1, 4],
  ['silog', 'SILog (×100)', 1, 3],
];

/** Both reductions as a labelled table. */
export function formatDepthTable(m: DepthMetrics): string {
  const lines = [
    `| metric | pooled over pixels (VNL) | mean per image (BTS) |`,
    `|---|---|---|`,
    ...ROWS.map(([k, label, scale, digits]) => `| ${label} | ${(m.pooled[k] * scale).toFixed(digits)} | ${(m.perImage[k] * scale).toFixed(digits)} |`),
    `(${m.images} images, ${m.pixels} pixels)`,
  ];
  return lines.join('\n');
}

/**
 * The few numpy behaviours COCOeval's numbers depend on, reproduced bit for bit:
 * `np.linspace` (the IoU and recall thresholds), `np.mean` (pairwise summation, so the 12
 * statistics equal pycocotools' to the last bit, not just to three decimals) and `np.spacing(1)`.
 */

/** `np.spacing(1)`: the gap between 1 and the next double (2⁻⁵²), added to precision's denominator. */
export const SPACING_ONE = Number.EPSILON;

/**
 * `np.linspace(start, stop, num)` with `endpoint=True`: value i is `i·step + start` with
 * `step = (stop − start)/(num − 1)` in double arithmetic, and the last value is `stop` itself.
 * (Not `start + i·0.05`: summing or rounding the step differently moves thresholds such as 0.85
 * and 0.9 by one ulp, which changes matches of IoUs that sit exactly on them.)
 */
export function linspace(start: number, stop: number, num: number): number[] {
  if (!Number.isInteger(num) || num < 1) throw new RangeError(`[@gpl/coco] linspace: num must be a positive integer, received ${num}.`);
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  out[num - 1] = stop;
  return out;
}

/** numpy's pairwise summation of `a[lo .. lo+n)` (`pairwise_sum_DOUBLE`: 8 accumulators up to 128 values, halving above). */
function pairwiseSum(a: ArrayLike<number>, lo: number, n: number): number {
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[lo + i];
    return s;
  }
  if (n <= 128) {
    const r = [a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]];
    const whole = n - (n % 8);
    let i = 8;
    for (; i < whole; i += 8) {
      for (let j = 0; j < 8; j++) r[j] += a[lo + i + j];
    }
    // numpy's grouping of the eight accumulators, spelled out
    let s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) s += a[lo + i];
    return s;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(a, lo, half) + pairwiseSum(a, lo + half, n - half);
}

/** `np.sum` of a contiguous float64 array. */
export function numpySum(a: ArrayLike<number>): number {
  return pairwiseSum(a, 0, a.length);
}

/** `np.mean` of a non-empty contiguous float64 array. */
export function numpyMean(a: ArrayLike<number>): number {
  if (a.length === 0) throw new RangeError('[@gpl/coco] numpyMean: expected at least one value.');
  return numpySum(a) / a.length;
}

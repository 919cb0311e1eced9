/**
 * COCOeval's printed summary (`COCOeval.summarize` → `_summarize`), character for character,
 * plus a per-category AP table and the `--out` JSON. Undefined values print as −1.000 (as
 * pycocotools prints them), never NaN; the table shows 'n/a' for a category without ground truth.
 */
import { COCO_STATS, type CocoEvalResult, type StatSpec } from './cocoeval';

/**
 * Python's `'{:0.3f}'.format(x)`: the exact binary value rounded to 3 decimals, ties to even.
 * (`toFixed` rounds ties up: 0.0625 → '0.063' where Python prints '0.062'.)
 */
export function formatFixed3(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  // 100 exact decimals decide whether x is exactly halfway (a double near 1 that is not a tie
  // cannot agree with one to 100 places).
  const long = Math.abs(x).toFixed(100);
  const dot = long.indexOf('.');
  const tail = long.slice(dot + 4);
  if (!/^50*$/.test(tail)) return x.toFixed(3);
  const digits = long.slice(0, dot) + long.slice(dot + 1, dot + 4); // the value ×1000, truncated
  let n = BigInt(digits);
  if (n % 2n === 1n) n += 1n; // tie: to even
  const s = n.toString().padStart(4, '0');
  const out = `${s.slice(0, -3)}.${s.slice(-3)}`;
  return x < 0 ? `-${out}` : out;
}

/** Python's `'{:0.2f}'` for the thresholds printed in the lines (0.50, 0.75, 0.95: no ties). */
const fixed2 = (x: number): string => x.toFixed(2);

/** One `_summarize` line: ` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.123`. */
export function summaryLine(spec: StatSpec, value: number, iouThrs: readonly number[]): string {
  const title = (spec.ap ? 'Average Precision' : 'Average Recall').padEnd(18);
  const type = spec.ap ? '(AP)' : '(AR)';
  const iou = (spec.iouThr === undefined ? `${fixed2(iouThrs[0])}:${fixed2(iouThrs[iouThrs.length - 1])}` : fixed2(spec.iouThr)).padEnd(9);
  return ` ${title} ${type} @[ IoU=${iou} | area=${spec.area.padStart(6)} | maxDets=${String(spec.maxDets).padStart(3)} ] = ${formatFixed3(value)}`;
}

/** The 12 lines pycocotools prints for bbox/segm. */
export function summaryLines(result: CocoEvalResult): string[] {
  return COCO_STATS.map((s, i) => summaryLine(s, result.stats[i], result.params.iouThrs));
}

/** A number ×100 with one decimal, or 'n/a' for −1. */
const pct = (v: number): string => (v < 0 ? 'n/a' : (v * 100).toFixed(1));

/** Per-category AP (area all, 100 detections) as an aligned text table, in category-id order. */
export function perCategoryTable(result: CocoEvalResult): string[] {
  const nameWidth = Math.max(8, ...result.perCategory.map((c) => c.name.length));
  const header = `${'category'.padEnd(nameWidth)}  ${'id'.padStart(4)}  ${'AP'.padStart(5)}  ${'AP50'.padStart(5)}  ${'AP75'.padStart(5)}  ${'#gt'.padStart(6)}  ${'#dt'.padStart(6)}`;
  const rows = result.perCategory.map(
    (c) =>
      `${c.name.padEnd(nameWidth)}  ${String(c.id).padStart(4)}  ${pct(c.AP).padStart(5)}  ${pct(c.AP50).padStart(5)}  ${pct(c.AP75).padStart(5)}  ${String(c.numGt).padStart(6)}  ${String(c.numDt).padStart(6)}`,
  );
  return [`per-category ${result.iouType} AP (%, IoU 0.50:0.95, area all, maxDets 100; n/a: no ground truth)`, header, ...rows];
}

/** The `--out` file: `{ iouType, stats: [12 numbers], statNames, perCategory: { name: {id, AP, AP50, AP75, numGt, numDt} } }`. */
export function statsJson(result: CocoEvalResult): Record<string, unknown> {
  const perCategory: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const c of result.perCategory) {
    const key = seen.has(c.name) ? `${c.name} (${c.id})` : c.name;
    seen.add(c.name);
    perCategory[key] = { id: c.id, AP: c.AP, AP50: c.AP50, AP75: c.AP75, numGt: c.numGt, numDt: c.numDt };
  }
  return {
    iouType: result.iouType,
    stats: [...result.stats],
    statNames: STAT_NAMES,
    perCategory,
  };
}

/** Names of the 12 statistics, in pycocotools' order. */
export const STAT_NAMES: readonly string[] = Object.freeze(['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl']);

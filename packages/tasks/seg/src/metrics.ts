/**
 * Segmentation metrics from a confusion matrix, as in the standard protocols (mmseg / Cityscapes
 * scripts): pixels whose ground truth is the ignore index are left out; a class that appears
 * neither in the ground truth nor in the prediction has no IoU (NaN) and is left out of the mean.
 */

/** A C×C confusion matrix, rows = ground truth, columns = prediction (float64 counts). */
export class ConfusionMatrix {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly counts: Float64Array;

  constructor(numClasses: number, ignoreIndex = 255) {
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new RangeError(`[seg] ConfusionMatrix: numClasses must be a positive integer, received ${numClasses}.`);
    }
    this.numClasses = numClasses;
    this.ignoreIndex = ignoreIndex;
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds one batch of integer labels (same length: one entry per pixel). */
  add(groundTruth: ArrayLike<number>, prediction: ArrayLike<number>): void {
    if (groundTruth.length !== prediction.length) {
      throw new RangeError(`[seg] ConfusionMatrix.add: ${groundTruth.length} ground-truth pixels but ${prediction.length} predicted.`);
    }
    const c = this.numClasses;
    for (let i = 0; i < groundTruth.length; i++) {
      const g = groundTruth[i];
      if (g === this.ignoreIndex) continue;
      const p = prediction[i];
      if (!(g >= 0 && g < c) || !(p >= 0 && p < c)) {
        throw new RangeError(
          `[seg] ConfusionMatrix.add: pixel ${i} has ground truth ${g} and prediction ${p}; expected 0..${c - 1} (or ${this.ignoreIndex} to ignore).`,
        );
      }
      this.counts[g * c + p]++;
    }
  }

  /** Adds another matrix (e.g. from a shard of the evaluation set). */
  merge(other: ConfusionMatrix): void {
    if (other.numClasses !== this.numClasses) throw new RangeError('[seg] ConfusionMatrix.merge: class counts differ.');
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
  }

  /** Metrics of everything added so far. */
  metrics(): SegMetrics {
    const c = this.numClasses;
    const iou: number[] = [];
    const acc: number[] = [];
    let correct = 0;
    let total = 0;
    for (let k = 0; k < c; k++) {
      let rowSum = 0;
      let colSum = 0;
      for (let j = 0; j < c; j++) {
        rowSum += this.counts[k * c + j];
        colSum += this.counts[j * c + k];
      }
      const tp = this.counts[k * c + k];
      const union = rowSum + colSum - tp;
      iou.push(union > 0 ? tp / union : NaN);
      acc.push(rowSum > 0 ? tp / rowSum : NaN);
      correct += tp;
      total += rowSum;
    }
    return { iou, classAccuracy: acc, mIoU: nanMean(iou), meanAccuracy: nanMean(acc), pixelAccuracy: total > 0 ? correct / total : NaN, pixels: total };
  }
}

export interface SegMetrics {
  /** IoU per class; NaN for a class absent from both ground truth and prediction. */
  readonly iou: readonly number[];
  /** Recall per class (correct / ground-truth pixels); NaN for classes absent from the ground truth. */
  readonly classAccuracy: readonly number[];
  /** Mean of the defined IoUs. */
  readonly mIoU: number;
  /** Mean of the defined class accuracies. */
  readonly meanAccuracy: number;
  /** Correct / all non-ignored pixels. */
  readonly pixelAccuracy: number;
  /** Non-ignored pixels counted. */
  readonly pixels: number;
}

function nanMean(v: readonly number[]): number {
  const ok = v.filter((x) => !Number.isNaN(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
}

/** A fixed-width text table of per-class IoU and accuracy, with the means. */
export function formatClassTable(m: SegMetrics, classNames: readonly string[]): string {
  const width = Math.max(10, ...classNames.map((n) => n.length));
  const pct = (v: number) => (Number.isNaN(v) ? '   n/a' : (100 * v).toFixed(2).padStart(6));
  const lines = [`${'class'.padEnd(width)}    IoU    Acc`];
  classNames.forEach((n, k) => lines.push(`${n.padEnd(width)} ${pct(m.iou[k])} ${pct(m.classAccuracy[k])}`));
  lines.push(`${'mean'.padEnd(width)} ${pct(m.mIoU)} ${pct(m.meanAccuracy)}`);
  lines.push(`pixel accuracy ${pct(m.pixelAccuracy).trim()}%  over ${m.pixels} pixels`);
  return lines.join('\n');
}

/**
 * `seg compare`: the baseline (cross-entropy only) against +GPL over several seeds, as in the
 * paper's tables (mean ± std) and Fig. 2 (pixel accuracy and mIoU against iterations), on the
 * engine's variant × seed runner.
 */
import * as path from 'path';
import { runVariants, writeComparison, type CompareRun, type TrainOptions } from '@gpl/engine';
import type { SegConfig } from './config';
import { trainSeg } from './task';

export interface CompareResult {
  readonly markdown: string;
  readonly tableFile: string;
  readonly plotFile: string;
  readonly runs: readonly CompareRun[];
}

const METRICS = [
  { column: 'val_miou', title: 'mIoU', scale: 100 },
  { column: 'val_pixel_acc', title: 'pixel accuracy', scale: 100 },
];

/**
 * Trains `baseline-seed<k>` (percep none) and `gpl-seed<k>` for each seed under `cfg.out`
 * (resuming runs already there), then writes compare.md and compare.png.
 */
export async function compare(cfg: SegConfig, seeds: readonly number[], options: TrainOptions = {}): Promise<CompareResult> {
  const root = path.resolve(cfg.out);
  const runs = await runVariants(
    root,
    ['baseline', 'gpl'],
    seeds,
    async (variant, seed, out, resume) => {
      const r = await trainSeg({ ...cfg, seed, out, resume, percep: variant === 'baseline' ? 'none' : cfg.percep }, options);
      return { history: r.history, metrics: r.history[r.history.length - 1].metrics };
    },
    options.log,
  );
  const labels = { baseline: 'baseline (cross-entropy)', gpl: `+GPL (${cfg.percep}, λ ${cfg.percepLambda}${cfg.softLabels ? ', teacher soft labels' : ', one-hot target'})` };
  const caption = `Model ${cfg.model} (width ${cfg.width}) on ${cfg.dataset} (${cfg.dataRoot}), ${cfg.iters} iterations, crop ${cfg.crop.join('×')}, batch ${cfg.batch}, seeds ${seeds.join(', ')} (mean ± std, %).`;
  return { ...(await writeComparison(root, runs, labels, METRICS, caption)), runs };
}

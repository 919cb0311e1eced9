/**
 * `seg compare`: the baseline (cross-entropy only) against +GPL over several seeds, as in the
 * paper's tables (mean ± std) and Fig. 2 (pixel accuracy and mIoU against iterations), on the
 * engine's comparison runner.
 */
import { compareWithBaseline, type ComparisonResult, type TrainOptions } from '@gpl/engine';
import type { SegConfig } from './config';
import { trainSeg } from './task';

/** Trains `baseline-seed<k>` and `gpl-seed<k>` for each seed under `cfg.out` (resuming runs already there), then writes compare.md and compare.png. */
export function compare(cfg: SegConfig, seeds: readonly number[], options: TrainOptions = {}): Promise<ComparisonResult> {
  return compareWithBaseline(cfg, seeds, (c) => trainSeg(c, options), {
    labels: { baseline: 'baseline (cross-entropy)', gpl: `+GPL (${cfg.percep}, λ ${cfg.percepLambda}${cfg.softLabels ? ', teacher soft labels' : ', one-hot target'})` },
    metrics: [
      { column: 'val_miou', title: 'mIoU', scale: 100 },
      { column: 'val_pixel_acc', title: 'pixel accuracy', scale: 100 },
    ],
    caption: `Model ${cfg.model} (width ${cfg.width}) on ${cfg.dataset} (${cfg.dataRoot}), ${cfg.iters} iterations, crop ${cfg.crop.join('×')}, batch ${cfg.batch}, seeds ${seeds.join(', ')} (mean ± std, %).`,
    ...(options.log ? { log: options.log } : {}),
  });
}

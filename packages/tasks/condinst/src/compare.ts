/**
 * `condinst compare`: the baseline (FCOS + dice) against +GPL over several seeds, as the paper's
 * Table 5 (box and mask AP, mean ± std), on the engine's comparison runner.
 */
import { compareWithBaseline, type ComparisonResult, type TrainOptions } from '@gpl/engine';
import type { CondInstConfig } from './config';
import { trainCondInst } from './task';

/** Trains baseline and +GPL runs for each seed under `cfg.out` (resuming those there) and writes compare.md / compare.png. */
export function compare(cfg: CondInstConfig, seeds: readonly number[], options: TrainOptions = {}): Promise<ComparisonResult> {
  return compareWithBaseline(cfg, seeds, (c) => trainCondInst(c, options), {
    labels: { baseline: 'baseline (FCOS + dice)', gpl: `+GPL (${cfg.percep}, λ ${cfg.percepLambda}, ${cfg.teacher ? 'teacher masks' : 'ground-truth masks'})` },
    metrics: [
      { column: 'val_box_ap', title: 'box AP', scale: 100 },
      { column: 'val_mask_ap', title: 'mask AP', scale: 100 },
    ],
    caption: `CondInst ${cfg.backbone} (width ${cfg.width}) on ${cfg.dataRoot}, ${cfg.iters} iterations, batch ${cfg.batch}, seeds ${seeds.join(', ')} (mean ± std, %).`,
    ...(options.log ? { log: options.log } : {}),
  });
}

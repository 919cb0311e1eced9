/**
 * `depth compare`: Table 7's four configurations (wce, wce+gpl, wce+vnl, wce+vnl+gpl) over
 * several seeds, on the engine's variant × seed runner (finished runs are resumed, i.e. only
 * re-evaluated): Markdown table of mean ± std and curves of abs rel and δ1 against iterations.
 */
import * as path from 'path';
import { runVariants, writeComparison, type CompareRun, type TrainOptions } from '@gpl/engine';
import { TABLE7_VARIANTS, parseLosses, type DepthConfig } from './config';
import { trainDepth } from './task';

export interface DepthCompareResult {
  readonly markdown: string;
  readonly tableFile: string;
  readonly plotFile: string;
  readonly runs: readonly CompareRun[];
}

/** Variant names: 'wce', 'wce-gpl', 'wce-vnl', 'wce-vnl-gpl'. */
export const TABLE7_NAMES: readonly string[] = Object.freeze(TABLE7_VARIANTS.map((v) => v.join('-')));

const METRICS = [
  { column: 'val_abs_rel', title: 'abs rel ×100 (pooled)', scale: 100 },
  { column: 'val_abs_rel_per_image', title: 'abs rel ×100 (per image)', scale: 100 },
  { column: 'val_d1', title: 'δ1 (%)', scale: 100 },
];

/** Paper Table 7 (Rel. ×100, ResNet-50 on NYUDv2). */
export const TABLE7_PAPER: Readonly<Record<string, number>> = Object.freeze({ wce: 14.5, 'wce-gpl': 14.0, 'wce-vnl': 13.6, 'wce-vnl-gpl': 13.2 });

/**
 * Trains `<variant>-seed<k>` under `cfg.out` for each variant and seed (resuming runs already
 * there), then writes compare.md and compare.png.
 */
export async function compareDepth(cfg: DepthConfig, seeds: readonly number[], variants: readonly string[] = TABLE7_NAMES, options: TrainOptions = {}): Promise<DepthCompareResult> {
  const root = path.resolve(cfg.out);
  const runs = await runVariants(
    root,
    variants,
    seeds,
    async (variant, seed, out, resume) => {
      const losses = parseLosses(variant.split('-'));
      const percep = losses.includes('gpl') ? (cfg.percep === 'none' ? '1,1,1,1,1' : cfg.percep) : 'none';
      const r = await trainDepth({ ...cfg, seed, out, resume, losses, percep }, options);
      return { history: r.history, metrics: r.history[r.history.length - 1].metrics };
    },
    options.log,
  );
  const labels: Record<string, string> = {};
  for (const v of variants) labels[v] = `${v.split('-').join(' + ').toUpperCase()} (paper ${TABLE7_PAPER[v]?.toFixed(1) ?? '–'})`;
  const caption =
    `ResNet-50 (width ${cfg.width}) + VNL lateral decoder on ${cfg.dataset} (${cfg.dataRoot}), ${cfg.iters} iterations, batch ${cfg.batch}, ` +
    `VNL weight ${cfg.vnlWeight}, GPL ${cfg.percep === 'none' ? '1,1,1,1,1' : cfg.percep} λ ${cfg.percepLambda} on ${cfg.gplInput} depth, seeds ${seeds.join(', ')} (mean ± std). Paper Table 7 Rel. in brackets.`;
  return { ...(await writeComparison(root, runs, labels, METRICS, caption)), runs };
}

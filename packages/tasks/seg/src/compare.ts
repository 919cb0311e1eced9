/**
 * `seg compare`: the baseline (cross-entropy only) against +GPL over several seeds, as in the
 * paper's tables (mean ± std) and Fig. 2 (pixel accuracy and mIoU against iterations).
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeLinePlotPng, type Series } from '@gpl/core';
import { writeFileAtomic } from '@gpl/data';
import type { SegConfig } from './config';
import { train, type EvalRecord, type TrainOptions } from './train';

export interface CompareResult {
  readonly markdown: string;
  readonly tableFile: string;
  readonly plotFile: string;
  readonly runs: readonly { variant: 'baseline' | 'gpl'; seed: number; history: readonly EvalRecord[]; mIoU: number; pixelAccuracy: number }[];
}

/** Mean and sample standard deviation (0 for one value). */
export function meanStd(v: readonly number[]): { mean: number; std: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std };
}

function pm(v: readonly number[]): string {
  const { mean, std } = meanStd(v.map((x) => 100 * x));
  return `${mean.toFixed(2)} ± ${std.toFixed(2)}`;
}

/** Mean over runs of a metric at each evaluated step present in every run. */
function meanCurve(histories: readonly (readonly EvalRecord[])[], key: 'mIoU' | 'pixelAccuracy'): { x: number[]; y: number[] } {
  const steps = histories[0].map((h) => h.step).filter((s) => histories.every((hs) => hs.some((h) => h.step === s)));
  return { x: steps, y: steps.map((s) => (100 * histories.reduce((a, hs) => a + hs.find((h) => h.step === s)![key], 0)) / histories.length) };
}

/**
 * Trains `baseline-seed<k>` (percep none) and `gpl-seed<k>` for each seed under `cfg.out`
 * (resuming runs already there), then writes compare.md and compare.png.
 */
export async function compare(cfg: SegConfig, seeds: readonly number[], options: TrainOptions = {}): Promise<CompareResult> {
  const root = path.resolve(cfg.out);
  fs.mkdirSync(root, { recursive: true });
  const runs: CompareResult['runs'][number][] = [];
  for (const seed of seeds) {
    for (const variant of ['baseline', 'gpl'] as const) {
      const out = path.join(root, `${variant}-seed${seed}`);
      const runCfg: SegConfig = { ...cfg, seed, out, percep: variant === 'baseline' ? 'none' : cfg.percep, resume: fs.existsSync(path.join(out, 'config.json')) };
      (options.log ?? console.log)(`\n== ${variant}, seed ${seed} → ${out}`);
      const r = await train(runCfg, options);
      runs.push({ variant, seed, history: r.history, mIoU: r.final!.mIoU, pixelAccuracy: r.final!.pixelAccuracy });
    }
  }
  const of = (v: 'baseline' | 'gpl') => runs.filter((r) => r.variant === v);
  const gplName = `+GPL (${cfg.percep}, λ ${cfg.percepLambda}${cfg.softLabels ? ', teacher soft labels' : ', one-hot target'})`;
  const markdown = [
    `Model ${cfg.model} (width ${cfg.width}) on ${cfg.dataset} (${cfg.dataRoot}), ${cfg.iters} iterations, crop ${cfg.crop.join('×')}, batch ${cfg.batch}, seeds ${seeds.join(', ')} (mean ± std, %).`,
    '',
    '| method | mIoU | pixel accuracy |',
    '|---|---|---|',
    `| baseline (cross-entropy) | ${pm(of('baseline').map((r) => r.mIoU))} | ${pm(of('baseline').map((r) => r.pixelAccuracy))} |`,
    `| ${gplName} | ${pm(of('gpl').map((r) => r.mIoU))} | ${pm(of('gpl').map((r) => r.pixelAccuracy))} |`,
    '',
  ].join('\n');
  const tableFile = path.join(root, 'compare.md');
  await writeFileAtomic(tableFile, markdown);
  const series: Series[] = [];
  for (const [v, label, colors] of [
    ['baseline', 'baseline', ['#1f77b4', '#aec7e8']],
    ['gpl', '+GPL', ['#d62728', '#ff9896']],
  ] as const) {
    const hs = of(v).map((r) => r.history);
    const miou = meanCurve(hs, 'mIoU');
    const acc = meanCurve(hs, 'pixelAccuracy');
    series.push({ name: `${label} pixel acc.`, ...acc, color: colors[1] }, { name: `${label} mIoU`, ...miou, color: colors[0] });
  }
  const plotFile = path.join(root, 'compare.png');
  await writeLinePlotPng(plotFile, series, { title: `Validation pixel accuracy and mIoU (mean of ${seeds.length} seeds)`, xLabel: 'iteration', yLabel: '%' });
  return { markdown, tableFile, plotFile, runs };
}

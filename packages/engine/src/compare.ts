/**
 * Comparing variants of a run over seeds, as the paper's tables (mean ± std) and Fig. 2 (metric
 * curves against iterations): a variant × seed runner that resumes finished or interrupted runs,
 * the Markdown table and the mean-curve plot.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeLinePlotPng, type Series } from '@gpl/core';
import { writeFileAtomic } from '@gpl/data';
import { resumeCandidates } from './run-folder';
import type { EvalRecord } from './train-loop';

/** Mean and sample standard deviation (0 for one value). */
export function meanStd(v: readonly number[]): { mean: number; std: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std };
}

/** `mean ± std` of values × scale, with two decimals. */
export function formatMeanStd(v: readonly number[], scale = 1): string {
  const { mean, std } = meanStd(v.map((x) => x * scale));
  return `${mean.toFixed(2)} ± ${std.toFixed(2)}`;
}

/** Mean over runs of a metric at each evaluated step present in every run. */
export function meanCurve(histories: readonly (readonly EvalRecord[])[], metric: string, scale = 1): { x: number[]; y: number[] } {
  if (histories.length === 0) return { x: [], y: [] };
  const at = (hs: readonly EvalRecord[], s: number) => hs.find((h) => h.step === s)?.metrics[metric];
  const steps = histories[0].map((h) => h.step).filter((s) => histories.every((hs) => at(hs, s) !== undefined));
  return { x: steps, y: steps.map((s) => (scale * histories.reduce((a, hs) => a + at(hs, s)!, 0)) / histories.length) };
}

/** One finished run of a comparison. */
export interface CompareRun {
  readonly variant: string;
  readonly seed: number;
  readonly history: readonly EvalRecord[];
  /** The final metric row. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** A metric column of the comparison. */
export interface CompareMetric {
  readonly column: string;
  readonly title: string;
  /** 100 for percentages. */
  readonly scale?: number;
}

/**
 * Runs every variant for every seed under `root` (`<variant>-seed<k>`, resuming a run folder
 * that has a checkpoint and starting again one that stopped before its first), in seed-major order so that an interrupted comparison has whole
 * seeds done.
 */
export async function runVariants(
  root: string,
  variants: readonly string[],
  seeds: readonly number[],
  runOne: (variant: string, seed: number, out: string, resume: boolean) => Promise<{ history: readonly EvalRecord[]; metrics: Readonly<Record<string, number>> }>,
  log: (line: string) => void = (l) => console.log(l),
): Promise<CompareRun[]> {
  fs.mkdirSync(root, { recursive: true });
  const runs: CompareRun[] = [];
  for (const seed of seeds) {
    for (const variant of variants) {
      const out = path.join(root, `${variant}-seed${seed}`);
      log(`\n== ${variant}, seed ${seed} → ${out}`);
      const started = fs.existsSync(path.join(out, 'config.json'));
      const resumable = started && resumeCandidates(path.join(out, 'checkpoints')).length > 0;
      if (started && !resumable) {
        // Stopped before its first checkpoint: nothing to resume, so the run starts again.
        log(`${out} has no checkpoint to resume from; starting that run again`);
        fs.rmSync(out, { recursive: true, force: true });
      }
      const r = await runOne(variant, seed, out, resumable);
      runs.push({ variant, seed, history: r.history, metrics: r.metrics });
    }
  }
  return runs;
}

/** The Markdown table: one row per variant (its label), one column per metric, mean ± std over seeds. */
export function compareTable(runs: readonly CompareRun[], labels: Readonly<Record<string, string>>, metrics: readonly CompareMetric[], caption: string): string {
  const variants = [...new Set(runs.map((r) => r.variant))];
  return [
    caption,
    '',
    `| method | ${metrics.map((m) => m.title).join(' | ')} |`,
    `|---|${metrics.map(() => '---').join('|')}|`,
    ...variants.map((v) => {
      const of = runs.filter((r) => r.variant === v);
      return `| ${labels[v] ?? v} | ${metrics.map((m) => formatMeanStd(of.map((r) => r.metrics[m.column]), m.scale ?? 1)).join(' | ')} |`;
    }),
    '',
  ].join('\n');
}

const COLOURS = [
  ['#1f77b4', '#aec7e8'],
  ['#d62728', '#ff9896'],
  ['#2ca02c', '#98df8a'],
  ['#9467bd', '#c5b0d5'],
];

/** Writes compare.md and compare.png (mean curves of each metric per variant) under `root`. */
export async function writeComparison(
  root: string,
  runs: readonly CompareRun[],
  labels: Readonly<Record<string, string>>,
  metrics: readonly CompareMetric[],
  caption: string,
): Promise<{ markdown: string; tableFile: string; plotFile: string }> {
  const markdown = compareTable(runs, labels, metrics, caption);
  const tableFile = path.join(root, 'compare.md');
  await writeFileAtomic(tableFile, markdown);
  const variants = [...new Set(runs.map((r) => r.variant))];
  const series: Series[] = [];
  variants.forEach((v, i) => {
    const hs = runs.filter((r) => r.variant === v).map((r) => r.history);
    metrics.forEach((m, j) => series.push({ name: `${labels[v] ?? v} ${m.title}`, ...meanCurve(hs, m.column, m.scale ?? 1), color: COLOURS[i % COLOURS.length][j % 2] }));
  });
  const plotFile = path.join(root, 'compare.png');
  const seeds = new Set(runs.map((r) => r.seed)).size;
  await writeLinePlotPng(plotFile, series, { title: `Validation ${metrics.map((m) => m.title).join(' and ')} (mean of ${seeds} seeds)`, xLabel: 'iteration', yLabel: metrics.every((m) => m.scale === 100) ? '%' : 'value' });
  return { markdown, tableFile, plotFile };
}

/** What a comparison wrote and ran. */
export interface ComparisonResult {
  readonly markdown: string;
  readonly tableFile: string;
  readonly plotFile: string;
  readonly runs: readonly CompareRun[];
}

/**
 * The paper's comparison for any task: `baseline-seed<k>` (the run with `percep: 'none'`) and
 * `gpl-seed<k>` (the run as configured) for each seed under `cfg.out`, resuming runs already
 * there, then compare.md and compare.png.
 */
export async function compareWithBaseline<C extends { readonly out: string; readonly seed: number; readonly resume: boolean; readonly percep: string }>(
  cfg: C,
  seeds: readonly number[],
  trainRun: (cfg: C) => Promise<{ readonly history: readonly EvalRecord[] }>,
  o: { readonly labels: { readonly baseline: string; readonly gpl: string }; readonly metrics: readonly CompareMetric[]; readonly caption: string; readonly log?: (line: string) => void },
): Promise<ComparisonResult> {
  const root = path.resolve(cfg.out);
  const runs = await runVariants(
    root,
    ['baseline', 'gpl'],
    seeds,
    async (variant, seed, out, resume) => {
      const r = await trainRun({ ...cfg, seed, out, resume, percep: variant === 'baseline' ? 'none' : cfg.percep });
      return { history: r.history, metrics: r.history[r.history.length - 1].metrics };
    },
    o.log,
  );
  return { ...(await writeComparison(root, runs, o.labels, o.metrics, o.caption)), runs };
}

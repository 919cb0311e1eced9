/**
 * A table's results from its cell folders: one row per setting with mean ± std of the final
 * validation mIoU over the finished seeds beside the paper's number, the mean gradient ratio
 * ‖∇ λ·GPL‖ / ‖∇ CE‖ and the step time against the baseline; written as results.md, results.csv
 * and curves.png (Fig. 2: mean validation mIoU against iterations per setting).
 */
import * as path from 'path';
import { stringify } from 'csv-stringify/sync';
import { writeLinePlotPng, type Series } from '@gpl/core';
import { writeFileAtomic } from '@gpl/data';
import { meanCurve, meanStd } from '@gpl/engine';
import type { CellOutcome } from './cells';
import type { Setting, TableSpec } from './grids';

/** A setting's verdict. */
export type RowStatus = 'ok' | 'partial' | 'diverged' | 'not run' | 'skipped (no weights supplied)';

/** One seed of a row. */
export interface SeedResult {
  readonly seed: number;
  /** mIoU in %, when the cell finished. */
  readonly miou?: number;
  readonly status: 'finished' | 'diverged' | 'not run' | 'skipped';
}

/** One row of a results table. */
export interface ResultRow {
  readonly setting: Setting;
  readonly status: RowStatus;
  /** What the status leaves out ('diverged: seed 2; not run: seed 3'). */
  readonly note: string;
  readonly seeds: readonly SeedResult[];
  /** Over the finished seeds (%). */
  readonly mean?: number;
  readonly std?: number;
  readonly n: number;
  readonly gradRatio?: number;
  readonly secondsPerStep?: number;
  /** secondsPerStep / the baseline's. */
  readonly stepTimeVsBaseline?: number;
}

/** How a row reads its cells: the outcome of (setting, seed), and whether a pretrained row has its weights. */
export interface RowSources {
  readonly outcome: (setting: Setting, seed: number) => CellOutcome | undefined;
  readonly hasWeights: (preset: string) => boolean;
}

const avg = (v: readonly number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined);

/** The rows of `table` over `seeds`, in the table's order (the baseline first). */
export function resultRows(table: TableSpec, seeds: readonly number[], src: RowSources): ResultRow[] {
  const rows = table.settings.map((setting) => {
    const outcomes = seeds.map((seed) => ({ seed, o: src.outcome(setting, seed) }));
    const skipped = setting.pretrained !== undefined && !src.hasWeights(setting.pretrained);
    const perSeed: SeedResult[] = outcomes.map(({ seed, o }) => {
      if (o?.status === 'finished' && o.miou !== undefined) return { seed, miou: 100 * o.miou, status: 'finished' };
      if (o?.status === 'diverged') return { seed, status: 'diverged' };
      return { seed, status: skipped ? 'skipped' : 'not run' };
    });
    const finished = outcomes.filter(({ o }) => o?.status === 'finished' && o.miou !== undefined).map(({ o }) => o!);
    const values = perSeed.filter((s) => s.status === 'finished').map((s) => s.miou!);
    const stats = values.length ? meanStd(values) : undefined;
    const diverged = perSeed.filter((s) => s.status === 'diverged').map((s) => s.seed);
    const missing = perSeed.filter((s) => s.status === 'not run').map((s) => s.seed);
    const status: RowStatus =
      values.length === seeds.length ? 'ok' : diverged.length && !values.length ? 'diverged' : values.length ? 'partial' : skipped ? 'skipped (no weights supplied)' : 'not run';
    const seedList = (label: string, s: number[]) => (s.length ? `${label}: seed${s.length > 1 ? 's' : ''} ${s.join(', ')}` : '');
    const note = status === 'partial' ? [seedList('diverged', diverged), seedList('not run', missing)].filter(Boolean).join('; ') : '';
    const gradRatio = avg(finished.map((o) => o.gradRatio).filter((v): v is number => v !== undefined));
    const secondsPerStep = avg(finished.map((o) => o.secondsPerStep).filter((v): v is number => v !== undefined));
    return {
      setting,
      status,
      note,
      seeds: perSeed,
      n: values.length,
      ...(stats ? { mean: stats.mean, std: stats.std } : {}),
      ...(gradRatio !== undefined ? { gradRatio } : {}),
      ...(secondsPerStep !== undefined ? { secondsPerStep } : {}),
    };
  });
  const base = rows[0].secondsPerStep;
  return rows.map((r) => (base && r.secondsPerStep !== undefined ? { ...r, stepTimeVsBaseline: r.secondsPerStep / base } : r));
}

/** Everything results.md states besides the rows. */
export interface TableContext {
  /** The ablation commands that made the cells (several for sharded runs). */
  readonly commands: readonly string[];
  /** One seg command line, as an example of what a cell runs. */
  readonly segCommand?: string;
  readonly backends: readonly string[];
  readonly engines: readonly string[];
  readonly date: string;
  readonly seeds: readonly number[];
}

const paperText = (p: Setting['paper']) => (p === undefined ? '—' : typeof p === 'number' ? p.toFixed(2) : p);
const miouText = (r: ResultRow) => {
  if (r.mean === undefined) return r.status;
  const text = r.n > 1 ? `${r.mean.toFixed(2)} ± ${r.std!.toFixed(2)}` : r.mean.toFixed(2);
  return r.status === 'ok' ? text : `${text} (n = ${r.n}; ${r.note})`;
};
const seedText = (s: SeedResult) => (s.miou !== undefined ? s.miou.toFixed(2) : s.status);

/** results.md: the table with its caption, commands, date, backend and loss engine. */
export function resultsMarkdown(table: TableSpec, rows: readonly ResultRow[], ctx: TableContext): string {
  const grad = rows.some((r) => r.gradRatio !== undefined);
  const head = ['setting', 'val mIoU % (mean ± std)', 'paper', ...ctx.seeds.map((s) => `seed ${s}`), ...(grad ? ['‖∇λ·GPL‖ / ‖∇CE‖'] : []), 's/step (× baseline)'];
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const body = rows.map((r) =>
    line([
      r.setting.label,
      miouText(r),
      paperText(r.setting.paper),
      ...r.seeds.map(seedText),
      ...(grad ? [r.gradRatio !== undefined ? r.gradRatio.toPrecision(3) : '—'] : []),
      r.secondsPerStep !== undefined ? `${r.secondsPerStep.toFixed(2)}${r.stepTimeVsBaseline !== undefined ? ` (${r.stepTimeVsBaseline.toFixed(2)}×)` : ''}` : '—',
    ]),
  );
  const list = (label: string, v: readonly string[]) => (v.length ? [`- ${label}: ${v.length > 1 ? '' : v[0]}`, ...(v.length > 1 ? v.map((x) => `  - ${x}`) : [])] : [`- ${label}: (no finished cell)`]);
  return [
    `# ${table.caption}`,
    '',
    `PSPNet student on the seg task's data; final validation mIoU (%) over seeds ${ctx.seeds.join(', ')}; the paper's numbers are Cityscapes val at full scale (REFERENCE §10), for the trend only.`,
    '',
    line(head),
    `|${head.map(() => '---').join('|')}|`,
    ...body,
    '',
    ...list('date', [ctx.date]),
    ...list('backend', ctx.backends),
    ...list('loss-network engine', ctx.engines),
    ...list('command', ctx.commands.map((c) => `\`${c}\``)),
    ...(ctx.segCommand ? [`- a cell runs: \`${ctx.segCommand}\``] : []),
    '',
  ].join('\n');
}

/** results.csv: one row per setting. */
export function resultsCsv(table: TableSpec, rows: readonly ResultRow[], seeds: readonly number[]): string {
  const fixed = (v: number | undefined, digits: number) => (v === undefined ? '' : v.toFixed(digits));
  return stringify(
    rows.map((r) => ({
      table: table.name,
      setting: r.setting.key,
      label: r.setting.label,
      status: r.status,
      note: r.note,
      n: r.n,
      mean: fixed(r.mean, 4),
      std: fixed(r.std, 4),
      ...Object.fromEntries(seeds.map((s, i) => [`seed_${s}`, r.seeds[i].miou !== undefined ? r.seeds[i].miou!.toFixed(4) : r.seeds[i].status])),
      paper: r.setting.paper === undefined ? '' : String(r.setting.paper),
      grad_ratio: r.gradRatio === undefined ? '' : r.gradRatio.toPrecision(4),
      seconds_per_step: fixed(r.secondsPerStep, 4),
      step_time_vs_baseline: fixed(r.stepTimeVsBaseline, 4),
    })),
    { header: true, columns: ['table', 'setting', 'label', 'status', 'note', 'n', 'mean', 'std', ...seeds.map((s) => `seed_${s}`), 'paper', 'grad_ratio', 'seconds_per_step', 'step_time_vs_baseline'] },
  );
}

/** The Fig. 2-style series: mean validation mIoU (%) against iterations for each setting with finished cells. */
export function curveSeries(table: TableSpec, seeds: readonly number[], outcome: RowSources['outcome']): Series[] {
  return table.settings.flatMap((setting) => {
    const histories = seeds.map((seed) => outcome(setting, seed)).filter((o) => o?.status === 'finished').map((o) => o!.history);
    if (!histories.length) return [];
    // The legend sits inside the plot: long labels give way to the row key.
    const name = setting.label.length <= 18 ? setting.label : setting.key;
    return [{ name: histories.length === seeds.length ? name : `${name} (${histories.length} of ${seeds.length} seeds)`, ...meanCurve(histories, 'val_miou', 100), ...(setting.key === 'baseline' ? { color: '#000000' } : {}) }];
  });
}

/** Writes results.md, results.csv and curves.png into `dir`; returns the Markdown. */
export async function writeResults(dir: string, table: TableSpec, seeds: readonly number[], src: RowSources, ctx: TableContext): Promise<{ markdown: string; files: string[] }> {
  const rows = resultRows(table, seeds, src);
  const markdown = resultsMarkdown(table, rows, ctx);
  const files = [path.join(dir, 'results.md'), path.join(dir, 'results.csv'), path.join(dir, 'curves.png')];
  await writeFileAtomic(files[0], markdown);
  await writeFileAtomic(files[1], resultsCsv(table, rows, seeds));
  await writeLinePlotPng(files[2], curveSeries(table, seeds, src.outcome), { title: `${table.caption.split(':')[0]}: validation mIoU, mean over seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')}`, xLabel: 'iteration', yLabel: 'mIoU (%)', width: 960, height: 480 });
  return { markdown, files };
}

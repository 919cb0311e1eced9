/**
 * metrics.csv and the run's plots. Columns come from what the run logs: `step`, `lr`, `loss`,
 * then the loss-term names and per-step statistics (`grad_*` gradient norms) in the order the
 * task first returned them, `seconds`, then the
 * evaluation metrics' names (`val_*`). The file is rewritten whole at each checkpoint (atomically),
 * so a resumed run's CSV holds every step once.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { writeLinePlotPng, type Series } from '@gpl/core';
import { writeFileAtomic } from '@gpl/data';

/** One row: `step` and any named numbers (missing = empty cell). */
export type MetricsRow = { step: number } & Record<string, number | undefined>;

const LEADING = ['step', 'lr', 'loss'];

/** The rows of a run, with the column order of first appearance. */
export class MetricsLog {
  private rows: MetricsRow[] = [];
  private termColumns: string[] = [];
  private metricColumns: string[] = [];

  constructor(readonly file: string) {}

  /** Reads the rows of an existing metrics.csv up to `step` (the checkpoint a run resumes from). */
  static async resume(file: string, step: number): Promise<MetricsLog> {
    const log = new MetricsLog(file);
    if (!fs.existsSync(file)) return log;
    const records = parse(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    for (const r of records) {
      const row: MetricsRow = { step: Number(r.step) };
      for (const [k, v] of Object.entries(r)) if (k !== 'step' && v !== '') row[k] = Number(v);
      if (row.step <= step) log.addRow(row);
    }
    return log;
  }

  private addRow(row: MetricsRow): void {
    for (const k of Object.keys(row)) {
      if (LEADING.includes(k) || k === 'seconds') continue;
      const list = k.startsWith('val_') ? this.metricColumns : this.termColumns;
      if (!list.includes(k)) list.push(k);
    }
    this.rows.push(row);
  }

  /** Logs a training step: its loss terms, then its statistics (`stats`, e.g. `grad_*` gradient norms). */
  step(step: number, values: { lr: number; loss: number; seconds: number; terms: Readonly<Record<string, number>>; stats?: Readonly<Record<string, number>> }): void {
    this.addRow({ step, lr: values.lr, loss: values.loss, ...values.terms, ...values.stats, seconds: values.seconds });
  }

  /** Adds evaluation metrics (keys `val_*`) to the row of `step`. */
  evaluation(step: number, metrics: Readonly<Record<string, number>>): void {
    let row = this.rows.find((r) => r.step === step);
    if (!row) {
      row = { step };
      this.rows.push(row);
    }
    for (const [k, v] of Object.entries(metrics)) {
      const key = k.startsWith('val_') ? k : `val_${k}`;
      row[key] = v;
      if (!this.metricColumns.includes(key)) this.metricColumns.push(key);
    }
  }

  get columns(): string[] {
    return [...LEADING, ...this.termColumns, 'seconds', ...this.metricColumns];
  }

  /** All rows (shared, not copied). */
  get all(): readonly MetricsRow[] {
    return this.rows;
  }

  /** The CSV text. */
  toCsv(): string {
    const columns = this.columns;
    const cell = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(v));
    return stringify(
      this.rows.map((r) => columns.map((c) => cell(r[c]))),
      { header: true, columns },
    );
  }

  async write(): Promise<void> {
    await writeFileAtomic(this.file, this.toCsv());
  }

  /** (step, value) points of a column, skipping empty cells. */
  series(column: string, name: string, scale = 1): Series[] {
    const pts = this.rows.filter((r) => r[column] !== undefined && Number.isFinite(r[column] as number));
    return pts.length ? [{ name, x: pts.map((r) => r.step), y: pts.map((r) => (r[column] as number) * scale) }] : [];
  }
}

/**
 * Exponential moving average with bias correction (TensorBoard's smoothing): s_t = β·s_{t−1} + (1−β)·y_t,
 * divided by 1 − β^t so the curve starts at the first value.
 */
export function emaSmooth(y: readonly number[], beta = 0.9): number[] {
  let s = 0;
  let n = 0;
  return y.map((v) => {
    if (!Number.isFinite(v)) return v;
    n++;
    s = beta * s + (1 - beta) * v;
    return s / (1 - beta ** n);
  });
}

/** A metric plotted from metrics.csv: plots/<file>. */
export interface MetricPlot {
  readonly file: string;
  readonly column: string;
  readonly title: string;
  readonly yLabel: string;
  /** Multiply values by this (100 for percentages). */
  readonly scale?: number;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const LIGHT = ['#aec7e8', '#ff9896', '#98df8a', '#ffbb78', '#c5b0d5', '#c49c94'];

/** Names shown in plot legends for the loss columns. */
const TERM_LABELS: Readonly<Record<string, string>> = { loss: 'total' };

/**
 * plots/loss.png (every loss column, raw in a light colour with its EMA over it), plots/lr.png and
 * one plot per metric.
 */
export async function writeRunPlots(runDir: string, log: MetricsLog, metricPlots: readonly MetricPlot[], termLabels: Readonly<Record<string, string>> = {}): Promise<void> {
  const dir = path.join(runDir, 'plots');
  const losses = log.columns.filter((c) => c === 'loss' || c.startsWith('loss_'));
  const series: Series[] = [];
  losses.forEach((c, i) => {
    const label = termLabels[c] ?? TERM_LABELS[c] ?? c.replace(/^loss_/, '');
    for (const raw of log.series(c, label)) {
      series.push({ ...raw, name: `${label} (raw)`, color: LIGHT[i % LIGHT.length] });
      series.push({ ...raw, name: `${label} (EMA 0.9)`, y: emaSmooth(raw.y), color: COLOURS[i % COLOURS.length] });
    }
  });
  if (series.length) {
    await writeLinePlotPng(path.join(dir, 'loss.png'), series, { title: 'Training loss', xLabel: 'iteration', yLabel: 'loss' });
    await writeLinePlotPng(path.join(dir, 'lr.png'), log.series('lr', 'lr'), { title: 'Learning rate', xLabel: 'iteration', yLabel: 'lr' });
  }
  for (const p of metricPlots) {
    const s = log.series(p.column, p.title, p.scale ?? 1);
    if (s.length) await writeLinePlotPng(path.join(dir, p.file), s, { title: p.title, xLabel: 'iteration', yLabel: p.yLabel });
  }
}

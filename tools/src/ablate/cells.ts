/**
 * A cell's folder and what it says. The folder is a seg run folder (config.json, metrics.csv,
 * checkpoints/, final.json, written by the engine) plus what the ablation runner adds:
 * `cell.json` (which table, setting and seed, and the exact commands), `train.log` (the seg
 * CLI's output, every attempt appended) and, for a run whose loss stopped being finite,
 * `diverged.json`.
 *
 * - finished: final.json is there (the engine writes it last, atomically, once the final
 *   evaluation is done);
 * - diverged: diverged.json is there (the seg CLI ended with the engine's non-finite-loss exit code);
 * - partial: checkpoints exist but no final.json: the next run resumes it (`--resume`);
 * - missing: none of these.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import type { EvalRecord } from '@gpl/engine';

export const CELL_RECORD = 'cell.json';
export const DIVERGED_RECORD = 'diverged.json';
export const FINAL_RECORD = 'final.json';
export const CELL_LOG = 'train.log';

export type CellStatus = 'finished' | 'diverged' | 'partial' | 'missing';

/** What the runner writes to cell.json before a cell's first attempt. */
export interface CellRecord {
  readonly table: string;
  readonly setting: string;
  readonly seed: number;
  /** The seg flags of the cell, without --out and --resume: a repeat must give the same. */
  readonly segArgs: readonly string[];
  /** The ablation command that made the cell. */
  readonly command: string;
  /** The seg command line of its first attempt. */
  readonly segCommand: string;
}

/** What diverged.json holds. */
export interface DivergedRecord {
  /** Step at which the loss stopped being finite, when the seg CLI said. */
  readonly step?: number;
  /** The seg CLI's message. */
  readonly message: string;
  readonly date: string;
}

/** What a cell's folder says about its run. */
export interface CellOutcome {
  readonly status: CellStatus;
  readonly record?: CellRecord;
  /** Final validation mIoU (fraction), when finished. */
  readonly miou?: number;
  /** Validation metrics at each evaluated step (from metrics.csv). */
  readonly history: readonly EvalRecord[];
  /** Mean over logged steps of ‖∇ λ·GPL‖ / ‖∇ CE‖ w.r.t. the logits (metrics.csv grad_gpl, grad_ce), when logged. */
  readonly gradRatio?: number;
  /** Mean wall-clock seconds per training step (metrics.csv `seconds`; step 1's start-up left out). */
  readonly secondsPerStep?: number;
  /** The backend and loss-network engine lines of the seg log. */
  readonly backend?: string;
  readonly engine?: string;
  readonly diverged?: DivergedRecord;
}

function readJson<T>(file: string): T | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new RangeError(`[ablate] ${file} is not readable JSON (${(e as Error).message}); remove the cell folder ${path.dirname(file)} to run the cell again.`);
  }
}

/** Whether the engine's checkpoints/ holds a step folder or its `latest` pointer, i.e. `--resume` has something to continue. */
function hasCheckpoint(dir: string): boolean {
  const checkpoints = path.join(dir, 'checkpoints');
  return fs.existsSync(checkpoints) && fs.readdirSync(checkpoints).some((n) => n === 'latest' || /^step-\d+$/.test(n));
}

/** The status of a cell folder (see the file comment). */
export function cellStatus(dir: string): CellStatus {
  if (fs.existsSync(path.join(dir, FINAL_RECORD))) return 'finished';
  if (fs.existsSync(path.join(dir, DIVERGED_RECORD))) return 'diverged';
  if (hasCheckpoint(dir)) return 'partial';
  return 'missing';
}

function readCellRecord(dir: string): CellRecord | undefined {
  return readJson<CellRecord>(path.join(dir, CELL_RECORD));
}

const mean = (v: readonly number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined);

/** metrics.csv → evaluation history, mean gradient ratio and mean step time. */
function readMetrics(file: string): Pick<CellOutcome, 'history' | 'gradRatio' | 'secondsPerStep'> {
  if (!fs.existsSync(file)) return { history: [] };
  const rows = parse(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const num = (r: Record<string, string>, k: string) => (r[k] === undefined || r[k] === '' ? undefined : Number(r[k]));
  const history: EvalRecord[] = [];
  const ratios: number[] = [];
  const seconds: number[] = [];
  for (const r of rows) {
    const metrics: Record<string, number> = {};
    for (const k of Object.keys(r)) if (k.startsWith('val_') && num(r, k) !== undefined) metrics[k] = num(r, k)!;
    if (Object.keys(metrics).length) history.push({ step: Number(r.step), metrics });
    const s = num(r, 'seconds');
    // Step 1 also pays for start-up (kernel compilation, the loss network's session): left out when later steps exist.
    if (s !== undefined && Number.isFinite(s) && (Number(r.step) > 1 || rows.length === 1)) seconds.push(s);
    const ce = num(r, 'grad_ce');
    const g = num(r, 'grad_gpl');
    if (ce !== undefined && g !== undefined && ce > 0 && Number.isFinite(g)) ratios.push(g / ce);
  }
  const gradRatio = mean(ratios);
  const secondsPerStep = mean(seconds);
  return { history, ...(gradRatio !== undefined ? { gradRatio } : {}), ...(secondsPerStep !== undefined ? { secondsPerStep } : {}) };
}

/** The first `backend: …` and `loss network engine: …` lines of the cell's log. */
function readLogFacts(file: string): Pick<CellOutcome, 'backend' | 'engine'> {
  if (!fs.existsSync(file)) return {};
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const after = (prefix: string) => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length).trim();
  const backend = after('backend: ');
  const engine = after('loss network engine: ');
  return { ...(backend ? { backend } : {}), ...(engine ? { engine } : {}) };
}

/** Everything the tables need from one cell folder. */
export function readCell(dir: string): CellOutcome {
  const status = cellStatus(dir);
  const record = readCellRecord(dir);
  const final = status === 'finished' ? readJson<{ mIoU?: number }>(path.join(dir, FINAL_RECORD)) : undefined;
  const diverged = status === 'diverged' ? readJson<DivergedRecord>(path.join(dir, DIVERGED_RECORD)) : undefined;
  return {
    status,
    ...(record ? { record } : {}),
    ...(final && typeof final.mIoU === 'number' ? { miou: final.mIoU } : {}),
    ...readMetrics(path.join(dir, 'metrics.csv')),
    ...readLogFacts(path.join(dir, CELL_LOG)),
    ...(diverged ? { diverged } : {}),
  };
}

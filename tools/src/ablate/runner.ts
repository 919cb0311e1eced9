/**
 * Runs a table's cells (or one shard of them) and writes its results. A cell is skipped when its
 * folder says it is finished or diverged, resumed when it holds checkpoints, and refused when
 * cell.json shows it was made with other seg flags (its numbers would not belong to this
 * table). What runs a cell is injected (`CellExecutor`): the seg CLI as a child process in use,
 * a deterministic fake in the runner's own tests.
 */
import * as fs from 'fs';
import * as path from 'path';
import { formatDuration } from '@gpl/core';
import { writeFileAtomic } from '@gpl/data';
import { CELL_RECORD, DIVERGED_RECORD, readCell, type CellOutcome, type CellRecord, type DivergedRecord } from './cells';
import { cellsOf, pretrainedWeightsFile, shardCells, type Cell, type Setting, type Shard, type TableSpec } from './grids';
import { writeResults, type RowSources } from './results';

/** What an executor is asked to run. */
export interface CellRun {
  readonly cell: Cell;
  /** The cell's run folder (seg's --out). */
  readonly dir: string;
  /** Continue from the folder's checkpoints. */
  readonly resume: boolean;
  /** seg flags of the cell (identity flags, then run-neutral ones such as --backend). */
  readonly segArgs: readonly string[];
  /** Where the seg output goes (appended). */
  readonly logFile: string;
}

/** How a cell's run ended; any other end is thrown. */
export type CellResult = { readonly status: 'finished' } | { readonly status: 'diverged'; readonly step?: number; readonly message: string };

/** Runs cells. */
export interface CellExecutor {
  /** The command line a run amounts to (recorded in cell.json and results.md). */
  commandLine(run: CellRun): string;
  run(run: CellRun): Promise<CellResult>;
}

/** Options of a grid run. */
export interface GridOptions {
  readonly table: TableSpec;
  readonly seeds: readonly number[];
  readonly shard: Shard;
  /** Root of every table (`--out`); cells live in `<out>/<table folder>/<setting>-seed<k>`. */
  readonly out: string;
  /** seg flags every cell shares and that make up its identity (e.g. --iters, --soft-labels). */
  readonly commonArgs: readonly string[];
  /** seg flags every cell gets that do not change what it computes (--backend, --percep-engine). */
  readonly neutralArgs?: readonly string[];
  /** Folder of torchvision weights for Table 1's 'T' rows ('' for none). */
  readonly pretrainedDir: string;
  /** The ablation command, for cell.json and results.md. */
  readonly command: string;
  readonly executor: CellExecutor;
  /** List cells and what would run, running nothing. */
  readonly dryRun?: boolean;
  readonly log?: (line: string) => void;
  /** Clock (ms), for tests. */
  readonly now?: () => number;
}

/** What a grid run did. */
export interface GridSummary {
  readonly total: number;
  readonly inShard: number;
  readonly ran: number;
  readonly skipped: number;
  readonly diverged: number;
  /** results.md, results.csv, curves.png (none for a dry run). */
  readonly files: readonly string[];
  readonly markdown?: string;
}

/** The folder of a table under an output root. */
export const tableDir = (out: string, table: TableSpec) => path.join(out, table.folder);

/** A setting's flags as seg arguments, in a fixed order. */
function settingArgs(setting: Setting, pretrainedDir: string): string[] {
  const args = Object.entries(setting.flags).flatMap(([flag, value]) => [`--${flag}`, String(value)]);
  const weights = setting.pretrained ? pretrainedWeightsFile(pretrainedDir, setting.pretrained) : undefined;
  return weights ? [...args, '--percep-pretrained', weights] : args;
}

/** The identity flags of a cell: seed, setting, then the flags every cell shares. */
export function cellSegArgs(cell: Cell, commonArgs: readonly string[], pretrainedDir: string): string[] {
  return ['--seed', String(cell.seed), ...settingArgs(cell.setting, pretrainedDir), ...commonArgs];
}

/** A 'T' row whose weights are not in the folder given. */
const lacksWeights = (cell: Cell, pretrainedDir: string) => cell.setting.pretrained !== undefined && !pretrainedWeightsFile(pretrainedDir, cell.setting.pretrained);

function checkSameCell(dir: string, record: CellRecord | undefined, segArgs: readonly string[]): void {
  if (!record || JSON.stringify(record.segArgs) === JSON.stringify(segArgs)) return;
  throw new RangeError(
    `[ablate] ${dir} was made with other seg flags (${record.segArgs.join(' ')}), not this command's (${segArgs.join(' ')}); ` +
      'give the same flags (e.g. the same --iters), another --out, or remove that folder.',
  );
}

/** Runs the shard's cells of a table, then writes the table from every cell folder under `out`. */
export async function runGrid(o: GridOptions): Promise<GridSummary> {
  const log = o.log ?? ((l: string) => console.log(l));
  const now = o.now ?? Date.now;
  const root = tableDir(o.out, o.table);
  const all = cellsOf(o.table, o.seeds);
  const mine = shardCells(all, o.shard);
  const plan = mine.map((cell) => {
    const dir = path.join(root, cell.name);
    const segArgs = cellSegArgs(cell, o.commonArgs, o.pretrainedDir);
    const outcome = readCell(dir);
    // Refuse before anything runs: a mismatch found halfway would leave a mixed table.
    if (!lacksWeights(cell, o.pretrainedDir)) checkSameCell(dir, outcome.record, segArgs);
    return { cell, dir, segArgs, outcome };
  });
  const shardText = o.shard.count > 1 ? ` (shard ${o.shard.index}/${o.shard.count}: ${mine.length} of ${all.length} cells)` : '';
  log(`ablate ${o.table.folder}: ${all.length} cells (${o.table.settings.length} settings × ${o.seeds.length} seed${o.seeds.length > 1 ? 's' : ''})${shardText} → ${root}`);

  const todo = plan.filter((p) => !lacksWeights(p.cell, o.pretrainedDir) && (p.outcome.status === 'missing' || p.outcome.status === 'partial'));
  for (const p of plan) {
    const state = lacksWeights(p.cell, o.pretrainedDir)
      ? 'skipped (no weights supplied)'
      : p.outcome.status === 'missing'
        ? 'to run'
        : p.outcome.status === 'partial'
          ? 'to resume'
          : p.outcome.status;
    if (o.dryRun || state !== 'to run') log(`  #${p.cell.index} ${p.cell.name}: ${state}${o.dryRun && todo.includes(p) ? ` — ${o.executor.commandLine({ cell: p.cell, dir: p.dir, resume: p.outcome.status === 'partial', segArgs: [...p.segArgs, ...(o.neutralArgs ?? [])], logFile: '' })}` : ''}`);
  }
  if (o.dryRun) return { total: all.length, inShard: mine.length, ran: 0, skipped: mine.length - todo.length, diverged: 0, files: [] };

  let ran = 0;
  let diverged = 0;
  let spent = 0;
  for (const p of todo) {
    const run: CellRun = { cell: p.cell, dir: p.dir, resume: p.outcome.status === 'partial', segArgs: [...p.segArgs, ...(o.neutralArgs ?? [])], logFile: path.join(p.dir, 'train.log') };
    if (!p.outcome.record) {
      const record: CellRecord = { table: o.table.name, setting: p.cell.setting.key, seed: p.cell.seed, segArgs: p.segArgs, command: o.command, segCommand: o.executor.commandLine(run) };
      await writeFileAtomic(path.join(p.dir, CELL_RECORD), JSON.stringify(record, null, 1) + '\n');
    }
    log(`\n== ${o.table.folder}/${p.cell.name} (cell #${p.cell.index})${run.resume ? ', resuming' : ''}`);
    const started = now();
    const result = await o.executor.run(run);
    spent += now() - started;
    ran++;
    if (result.status === 'diverged') {
      diverged++;
      const record: DivergedRecord = { ...(result.step !== undefined ? { step: result.step } : {}), message: result.message, date: new Date(now()).toISOString() };
      await writeFileAtomic(path.join(p.dir, DIVERGED_RECORD), JSON.stringify(record, null, 1) + '\n');
      log(`${p.cell.name}: diverged${result.step !== undefined ? ` at step ${result.step}` : ''}; recorded in ${DIVERGED_RECORD}, the grid goes on.`);
    }
    const left = todo.length - ran;
    const done = mine.length - left;
    log(`ablate ${o.table.folder}${shardText ? ` shard ${o.shard.index}/${o.shard.count}` : ''}: ${done}/${mine.length} cells done, ETA ${left ? formatDuration((left * spent) / ran / 1000) : '0s'} (${formatDuration(spent / ran / 1000)} per cell run here)`);
  }
  const { markdown, files } = await writeTable({ table: o.table, seeds: o.seeds, roots: [o.out], out: o.out, pretrainedDir: o.pretrainedDir });
  return { total: all.length, inShard: mine.length, ran, skipped: mine.length - todo.length, diverged, files, markdown };
}

/** The rank of a status when several roots hold the same cell: a finished run wins. */
const RANK: Readonly<Record<CellOutcome['status'], number>> = { finished: 3, diverged: 2, partial: 1, missing: 0 };

/** Options of `writeTable`. */
export interface TableOptions {
  readonly table: TableSpec;
  readonly seeds: readonly number[];
  /** Output roots whose `<table folder>/<cell>` folders to read (the best state of each cell wins). */
  readonly roots: readonly string[];
  /** Where `<table folder>/results.*` go. */
  readonly out: string;
  readonly pretrainedDir: string;
  readonly date?: Date;
}

/**
 * Builds a table from whatever cell folders exist under `roots` (a merge of shards run on other
 * machines, or one process's own run) and writes results.md, results.csv and curves.png.
 */
export async function writeTable(o: TableOptions): Promise<{ markdown: string; files: string[] }> {
  const outcomes = new Map<string, CellOutcome>();
  for (const cell of cellsOf(o.table, o.seeds)) {
    const found = o.roots.map((r) => readCell(path.join(tableDir(r, o.table), cell.name)));
    outcomes.set(cell.name, found.reduce((best, x) => (RANK[x.status] > RANK[best.status] ? x : best)));
  }
  const present = [...outcomes.values()].filter((x) => x.status !== 'missing');
  const distinct = (v: (string | undefined)[]) => [...new Set(v.filter((x): x is string => Boolean(x)))];
  const src: RowSources = {
    outcome: (setting, seed) => outcomes.get(`${setting.key}-seed${seed}`),
    hasWeights: (preset) => Boolean(pretrainedWeightsFile(o.pretrainedDir, preset)) || present.some((x) => x.record?.setting === `${preset}-pretrained`),
  };
  const example = (present.find((x) => x.status === 'finished' && x.record && x.record.setting !== 'baseline') ?? present.find((x) => x.record))?.record;
  return writeResults(tableDir(o.out, o.table), o.table, o.seeds, src, {
    commands: distinct(present.map((x) => x.record?.command)),
    ...(example ? { segCommand: example.segCommand } : {}),
    backends: distinct(present.map((x) => x.backend)),
    engines: distinct(present.map((x) => x.engine)),
    date: (o.date ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z'),
    seeds: o.seeds,
  });
}

/** Whether a folder exists and is a directory (for --from roots). */
export function isFolder(p: string): boolean {
  return fs.existsSync(p) && fs.statSync(p).isDirectory();
}

/**
 * The cell executor in use: the seg CLI (`packages/tasks/seg/src/main.ts train`) as a child
 * process per cell, so each cell is exactly the run a user gets from `nx run seg:train` with the
 * same flags, with its own memory (native backends can grow RSS with a flat tensor count). Its
 * output is appended to the cell's train.log and passed through. Exit code 3 is the engine's
 * non-finite-loss stop: the cell diverged.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EXIT_CODES } from '@gpl/engine';
import type { CellExecutor, CellResult, CellRun } from './runner';
import { FINAL_RECORD } from './cells';

/** The workspace root (the folder holding node_modules and packages/). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..');

const SEG_MAIN = path.join('packages', 'tasks', 'seg', 'src', 'main.ts');
const TSX = path.join(WORKSPACE_ROOT, 'node_modules', '.bin', 'tsx');

/** The seg command of a run, as argv (run from the workspace root). */
function segArgv(run: CellRun): string[] {
  return ['--tsconfig', 'tsconfig.base.json', SEG_MAIN, 'train', ...run.segArgs, '--out', run.dir, ...(run.resume ? ['--resume'] : [])];
}

/** An argument as a POSIX shell reads it back. */
export const shellQuote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** Options of the seg executor. */
export interface SegExecutorOptions {
  /** Pass the seg output through to this process's stdout/stderr as well as the log (default true). */
  readonly echo?: boolean;
  /** Environment of the child (default this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs cells through the seg CLI. */
export function segExecutor(o: SegExecutorOptions = {}): CellExecutor {
  return {
    commandLine: (run) => ['npx', 'tsx', ...segArgv(run)].map(shellQuote).join(' '),
    run: (run) => runSeg(run, o),
  };
}

function runSeg(run: CellRun, o: SegExecutorOptions): Promise<CellResult> {
  fs.mkdirSync(run.dir, { recursive: true });
  const logFd = fs.openSync(run.logFile, 'a');
  fs.writeSync(logFd, `\n# ${new Date().toISOString()} ${segExecutor().commandLine(run)}\n`);
  const child = spawn(TSX, segArgv(run), { cwd: WORKSPACE_ROOT, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderrTail = '';
  child.stdout.on('data', (b: Buffer) => {
    fs.writeSync(logFd, b);
    if (o.echo !== false) process.stdout.write(b);
  });
  child.stderr.on('data', (b: Buffer) => {
    fs.writeSync(logFd, b);
    stderrTail = (stderrTail + b.toString('utf8')).slice(-4000);
    if (o.echo !== false) process.stderr.write(b);
  });
  // A scheduler stops a job by signalling this process: the cell stops too, keeping its last checkpoint.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.once(s, h);
  return new Promise<CellResult>((resolve, reject) => {
    child.on('error', (e) => reject(new RangeError(`[ablate] could not start the seg CLI (${TSX}): ${e.message}; run npm ci first.`)));
    child.on('close', (code, signal) => {
      for (const [s, h] of handlers) process.removeListener(s, h);
      fs.closeSync(logFd);
      const last = stderrTail.trim().split('\n').filter((l) => !/^\s*train\s/.test(l)).pop() ?? '';
      if (code === EXIT_CODES.ok && fs.existsSync(path.join(run.dir, FINAL_RECORD))) return resolve({ status: 'finished' });
      if (code === EXIT_CODES.nonFiniteLoss) {
        const step = /at step (\d+)/.exec(stderrTail)?.[1];
        return resolve({ status: 'diverged', message: last, ...(step ? { step: Number(step) } : {}) });
      }
      const how = signal ? `was stopped by ${signal}` : code === EXIT_CODES.ok ? `ended without writing ${FINAL_RECORD}` : `exited with code ${code}`;
      reject(new RangeError(`[ablate] cell ${path.basename(path.dirname(run.dir))}/${path.basename(run.dir)}: seg ${how}${last ? `: ${last}` : ''} (log: ${run.logFile}).`));
    });
  });
}

/** The flags of `flags` that this checkout's seg CLI does not accept (asked from `seg train --help`). */
export function missingSegFlags(flags: readonly string[]): string[] {
  if (!flags.length) return [];
  const r = spawnSync(TSX, ['--tsconfig', 'tsconfig.base.json', SEG_MAIN, 'train', '--help'], { cwd: WORKSPACE_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new RangeError(`[ablate] seg train --help failed (exit code ${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').trim().split('\n').pop()}`);
  return flags.filter((f) => !new RegExp(`--${f}\\b`).test(r.stdout));
}

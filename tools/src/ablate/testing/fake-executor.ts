/**
 * A deterministic stand-in for the seg CLI, for the runner's tests: it writes a real cell folder
 * in the engine's layout (config.json, metrics.csv with the grad_ce / grad_gpl / seconds columns,
 * final.json, a train.log with the backend lines) whose numbers are a hash of the cell's flags,
 * and "diverges" for the inits the paper reports as diverging (normal:1, uniform:1), as the
 * engine's NaN stop would: no final.json, the steps up to the failure in metrics.csv.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { CellExecutor, CellResult, CellRun } from '../runner';

/** `--name value` pairs of seg arguments. */
function flagsOf(args: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < args.length; i++) if (args[i].startsWith('--')) m.set(args[i].slice(2), args[i + 1] ?? 'true');
  return m;
}

/** A number in [0, 1) from the text. */
const unit = (text: string) => createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;

/** The fake executor; `runs` collects what it was asked to run (for assertions in-process). */
export function fakeExecutor(runs: CellRun[] = []): CellExecutor {
  return {
    commandLine: (run) => `fake-seg train ${run.segArgs.join(' ')} --out ${run.dir}${run.resume ? ' --resume' : ''}`,
    async run(run): Promise<CellResult> {
      runs.push(run);
      const flags = flagsOf(run.segArgs);
      const iters = Number(flags.get('iters') ?? 6);
      const identity = run.segArgs.filter((a) => a !== '--backend').join(' ');
      const diverges = ['normal:1', 'uniform:1'].includes(flags.get('percep-init') ?? '');
      const gpl = flags.get('percep') !== 'none';
      fs.mkdirSync(run.dir, { recursive: true });
      fs.appendFileSync(run.logFile, 'backend: fake (test executor)\n' + (gpl ? 'loss network engine: fake\n' : ''));
      fs.writeFileSync(path.join(run.dir, 'config.json'), JSON.stringify(Object.fromEntries(flags), null, 1));
      const stop = diverges ? 2 : iters;
      const header = ['step', 'lr', 'loss', 'loss_ce', ...(gpl ? ['loss_gpl', 'grad_ce', 'grad_gpl'] : []), 'seconds', 'val_miou'];
      const rows = [header.join(',')];
      const final = 0.2 + 0.1 * unit(identity);
      for (let s = 1; s <= stop; s++) {
        const ce = 2 / s;
        const miou = s % 2 === 0 || s === iters ? (final * s) / iters : '';
        const seconds = (gpl ? 1.5 : 1) * (1 + 0.01 * s);
        rows.push([s, 0.01, ce + 0.01, ce, ...(gpl ? [0.01, ce, 0.02 * ce * (1 + unit(identity))] : []), seconds, diverges ? '' : miou].join(','));
      }
      fs.writeFileSync(path.join(run.dir, 'metrics.csv'), rows.join('\n') + '\n');
      if (diverges) return { status: 'diverged', step: stop + 1, message: `[seg] loss is NaN at step ${stop + 1}: training stopped.` };
      fs.writeFileSync(path.join(run.dir, 'final.json'), JSON.stringify({ step: iters, mIoU: final, pixelAccuracy: 0.5 }));
      return { status: 'finished' };
    },
  };
}

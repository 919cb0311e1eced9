/**
 * `sr:eval`: re-measures a finished (or interrupted) pilot run from its checkpoints — every
 * variant folder of the run with a checkpoint — and rewrites results.md, results.csv and samples/.
 */
import * as fs from 'fs';
import * as path from 'path';
import { resolveCheckpoint } from '@gpl/core';
import { restoreModel } from '@gpl/engine';
import type { SrConfig } from './config';
import { openSrData } from './data';
import { bicubicRow, measure, superResolve, writeReport, type ReportRow } from './evaluate';
import { SR_VARIANTS } from './losses';
import { buildSrModel } from './model';
import { skipReason, variantLabel } from './train';

/** Evaluates the run in `runDir`; `valImages` overrides the run's count. Returns the Markdown table. */
export async function evalSr(runDir: string, o: { valImages?: number; log?: (line: string) => void } = {}): Promise<string> {
  const log = o.log ?? ((l: string) => console.log(l));
  const configFile = path.join(runDir, 'config.json');
  if (!fs.existsSync(configFile)) throw new RangeError(`[sr] option 'run': ${runDir} has no config.json; expected the --out folder of an sr:train run.`);
  const cfg = JSON.parse(fs.readFileSync(configFile, 'utf8')) as SrConfig;
  const data = await openSrData({ roots: cfg.dataRoots, patch: cfg.patch, valImages: o.valImages ?? cfg.valImages });
  for (const n of data.notes) log(n);
  const rows: ReportRow[] = [bicubicRow(data.val)];
  let found = 0;
  for (const variant of SR_VARIANTS) {
    const checkpoints = path.join(runDir, variant, 'checkpoints');
    const dir = fs.existsSync(path.join(checkpoints, 'latest')) ? resolveCheckpoint(checkpoints) : undefined;
    if (!dir) {
      rows.push({ method: variantLabel(variant, cfg), note: skipReason(variant, cfg) ?? 'no checkpoint in the run' });
      continue;
    }
    found++;
    const model = await restoreModel(dir, () => buildSrModel({ features: cfg.features, blocks: cfg.blocks, seed: cfg.seed }));
    try {
      const outputs = await superResolve(model, data.val);
      const metrics = measure(data.val, outputs);
      log(`${variant} (${path.relative(process.cwd(), dir)}): PSNR ${metrics.psnr.toFixed(2)} dB, SSIM ${metrics.ssim.toFixed(4)}`);
      rows.push({ method: variantLabel(variant, cfg), metrics, outputs });
    } finally {
      model.dispose();
    }
  }
  if (!found) throw new RangeError(`[sr] option 'run': ${runDir} holds no variant checkpoint (expected ${path.join(runDir, 'pixel', 'checkpoints', 'latest')}).`);
  return writeReport(runDir, data.val, rows, `${data.val.length} validation images of ${cfg.dataRoots.map((r) => path.basename(r)).join(', ')}; re-evaluated from checkpoints`);
}

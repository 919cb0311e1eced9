/**
 * `seg eval`: loads any checkpoint of a run, checks it against the dataset, and prints the class
 * table for whole-image and/or sliding-window inference.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { DatasetName, SegConfig } from './config';
import { MINI_ROOTS, augmentFor, openSegDataset } from './data';
import { evaluate } from './eval';
import { formatClassTable, type SegMetrics } from './metrics';
import { writeOverlay } from './overlay';
import { loadRunModel } from './train';

export interface RunEvalOptions {
  readonly checkpoint: string;
  readonly dataset?: DatasetName;
  readonly dataRoot?: string;
  readonly split: string;
  readonly mode: 'whole' | 'slide' | 'both';
  readonly crop?: readonly [number, number];
  readonly stride?: readonly [number, number];
  readonly overlays?: number;
  readonly log?: (line: string) => void;
}

/** The run's config.json next to a checkpoint (run/checkpoints/step-*), if there is one. */
function findRunConfig(checkpoint: string): Partial<SegConfig> {
  let dir = path.resolve(checkpoint);
  for (let i = 0; i < 3; i++) {
    const f = path.join(dir, 'config.json');
    if (fs.existsSync(f)) return JSON.parse(fs.readFileSync(f, 'utf8')) as Partial<SegConfig>;
    dir = path.dirname(dir);
  }
  return {};
}

/** Evaluates a checkpoint; returns the metrics per mode. */
export async function runEval(o: RunEvalOptions): Promise<Record<string, SegMetrics>> {
  const log = o.log ?? ((l: string) => console.log(l));
  if (!o.checkpoint) throw new RangeError('[seg] eval: no --checkpoint given and no run with checkpoints under runs/seg.');
  const runCfg = findRunConfig(o.checkpoint);
  const { model, state, dir } = await loadRunModel(o.checkpoint, { model: runCfg.model, width: runCfg.width });
  try {
    const dataset = (o.dataset ?? (state.dataset as DatasetName | undefined) ?? runCfg.dataset ?? 'cityscapes') as DatasetName;
    const dataRoot = o.dataRoot ?? (runCfg.dataset === dataset ? runCfg.dataRoot : undefined) ?? MINI_ROOTS[dataset];
    if (!dataRoot) throw new RangeError(`[seg] eval: --dataset ${dataset} has no embedded data; pass --data-root.`);
    const ds = await openSegDataset(dataset, dataRoot, o.split);
    const numClasses = state.numClasses as number;
    if (state.dataset && state.dataset !== dataset) {
      throw new RangeError(`[seg] eval: checkpoint ${dir} was trained on '${String(state.dataset)}', not '${dataset}'. Pass the matching --dataset.`);
    }
    if (numClasses !== ds.classNames.length) {
      throw new RangeError(`[seg] eval: checkpoint ${dir} predicts ${numClasses} classes, ${ds.name} has ${ds.classNames.length}.`);
    }
    const crop = o.crop ?? (runCfg.crop as [number, number] | undefined) ?? [128, 128];
    const augment = augmentFor(dataset, dataRoot, crop);
    log(`checkpoint ${dir} (${String(state.model)}, width ${String(state.width)}, step ${String(state.step)}) on ${ds.name} (${ds.length} images)`);
    const modes: ('whole' | 'slide')[] = o.mode === 'both' ? ['whole', 'slide'] : [o.mode];
    const out: Record<string, SegMetrics> = {};
    for (const mode of modes) {
      const started = Date.now();
      const m = await evaluate(model, ds, {
        mode, crop, ...(o.stride ? { stride: o.stride } : {}), numClasses, ignoreIndex: ds.ignoreIndex, mean: augment.mean, std: augment.std,
        onPrediction: async (s, pred, i) => {
          if (i < (o.overlays ?? 0)) await writeOverlay(path.join(path.dirname(path.dirname(dir)), 'eval-samples', mode, `${s.id}.png`), s, pred, ds.palette, ds.ignoreIndex);
        },
      });
      out[mode] = m;
      log(`\n${mode === 'whole' ? 'whole-image' : `sliding-window (${crop.join('×')}${o.stride ? `, stride ${o.stride.join('×')}` : ''})`} inference, ${((Date.now() - started) / 1000).toFixed(1)} s`);
      log(formatClassTable(m, ds.classNames));
    }
    return out;
  } finally {
    model.dispose();
  }
}

/**
 * `seg eval`: loads any checkpoint of a run (the engine resolves the path), checks it against the
 * dataset, prints the class table for whole-image and/or sliding-window inference, and can draw
 * samples and export raw predictions.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { restoreCheckpoint } from '@gpl/core';
import { augmentFor } from '@gpl/data';
import { explainDataRoot, resolveCheckpointPath, type ResolvedCheckpoint } from '@gpl/engine';
import { SEG_DATASET_NAMES, segDataset, type DatasetName } from './datasets';
import { evaluate } from './eval';
import { formatClassTable, type SegMetrics } from './metrics';
import { createSegModel } from './models';
import { exportPrediction, writeSampleDrawing } from './overlay';

export interface RunEvalOptions {
  readonly checkpoint: string;
  readonly dataset?: DatasetName;
  readonly dataRoot?: string;
  readonly split: string;
  readonly mode: 'whole' | 'slide' | 'both';
  readonly crop?: readonly [number, number];
  readonly stride?: readonly [number, number];
  /** Draw this many samples to <run>/eval-samples/<mode>/. */
  readonly overlays?: number;
  /** Write every prediction as a palette PNG of class indices to <export>/<mode>/<id>.png. */
  readonly export?: string;
  readonly log?: (line: string) => void;
}

/** Builds the checkpoint's model from the registry (name, width and classes from its state.json) and loads its weights. */
export async function loadSegModel(ck: ResolvedCheckpoint): Promise<tfl.LayersModel> {
  const name = (ck.state.model ?? ck.config?.model) as string | undefined;
  const width = (ck.state.width ?? ck.config?.width) as number | undefined;
  const numClasses = ck.state.numClasses as number | undefined;
  if (!name || !width || !numClasses) throw new RangeError(`[seg] ${ck.dir}/state.json does not name the model, width and classes of the checkpoint.`);
  const model = createSegModel(name, { numClasses, width, seed: 0 });
  try {
    await restoreCheckpoint(ck.dir, { model });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** Checks the options a user typed, before any checkpoint or data is read. */
function checkEvalOptions(o: RunEvalOptions): void {
  const window = (v: readonly [number, number] | undefined, option: string) => {
    if (v !== undefined && !(v.length === 2 && v.every((x) => Number.isInteger(x) && x > 0))) {
      throw new RangeError(`[seg] eval option '${option}': expected 'height,width' of positive integers (e.g. 128,128), received '${v.join(',')}'.`);
    }
  };
  window(o.crop, 'crop');
  window(o.stride, 'stride');
  if (o.overlays !== undefined && !(Number.isInteger(o.overlays) && o.overlays >= 0)) {
    throw new RangeError(`[seg] eval option 'overlays': expected a number of samples ≥ 0, received ${o.overlays}.`);
  }
}

/** Evaluates a checkpoint; returns the metrics per mode. */
export async function runEval(o: RunEvalOptions): Promise<Record<string, SegMetrics>> {
  const log = o.log ?? ((l: string) => console.log(l));
  checkEvalOptions(o);
  const ck = resolveCheckpointPath(o.checkpoint, { option: '--checkpoint', hint: o.checkpoint ? undefined : 'No run with checkpoints under runs/seg: train one first (npx nx run seg:train).' });
  const runCfg = ck.config ?? {};
  const trainedOn = (ck.state.dataset ?? runCfg.dataset) as string | undefined;
  const dataset = (o.dataset ?? trainedOn ?? 'cityscapes') as DatasetName;
  if (!SEG_DATASET_NAMES.includes(dataset)) throw new RangeError(`[seg] checkpoint ${ck.dir} was trained on '${dataset}', which seg cannot open.`);
  if (trainedOn && trainedOn !== dataset) {
    throw new RangeError(`[seg] eval: checkpoint ${ck.dir} was trained on '${trainedOn}', not '${dataset}'. Pass the matching --dataset.`);
  }
  const d = segDataset(dataset);
  const dataRoot = o.dataRoot ?? (runCfg.dataset === dataset ? (runCfg.dataRoot as string | undefined) : undefined) ?? d.miniRoot;
  if (!dataRoot) throw new RangeError(`[seg] eval: --dataset ${dataset} has no embedded data; pass --data-root.`);
  const ds = await d.open(dataRoot, d.splitName(o.split)).catch((e: unknown) => {
    throw explainDataRoot(e, dataset, SEG_DATASET_NAMES);
  });
  const numClasses = ck.state.numClasses as number;
  if (numClasses !== ds.classNames.length) {
    throw new RangeError(`[seg] eval: checkpoint ${ck.dir} predicts ${numClasses} classes, ${ds.name} has ${ds.classNames.length}.`);
  }
  const crop = o.crop ?? (runCfg.crop as [number, number] | undefined) ?? [128, 128];
  const augment = augmentFor(d, dataRoot, crop);
  const model = await loadSegModel(ck);
  try {
    log(`checkpoint ${ck.dir} (${String(ck.state.model)}, width ${String(ck.state.width)}, step ${String(ck.state.step)}) on ${ds.name} (${ds.length} images)`);
    const modes: ('whole' | 'slide')[] = o.mode === 'both' ? ['whole', 'slide'] : [o.mode];
    const drawings = path.join(ck.runDir ?? path.dirname(ck.dir), 'eval-samples');
    const out: Record<string, SegMetrics> = {};
    for (const mode of modes) {
      const started = Date.now();
      if (o.export) fs.mkdirSync(path.join(o.export, mode), { recursive: true });
      const m = await evaluate(model, ds, {
        mode, crop, ...(o.stride ? { stride: o.stride } : {}), numClasses, ignoreIndex: ds.ignoreIndex, mean: augment.mean, std: augment.std,
        onPrediction: async (s, pred, i) => {
          if (i < (o.overlays ?? 0)) await writeSampleDrawing(path.join(drawings, mode, `${s.id}.png`), s, pred, ds.classNames, ds.palette, ds.ignoreIndex);
          if (o.export) await exportPrediction(path.join(o.export, mode), s, pred, ds.palette);
        },
      });
      out[mode] = m;
      log(`\n${mode === 'whole' ? 'whole-image' : `sliding-window (${crop.join('×')}${o.stride ? `, stride ${o.stride.join('×')}` : ''})`} inference, ${((Date.now() - started) / 1000).toFixed(1)} s`);
      log(formatClassTable(m, ds.classNames));
      if (o.export) log(`predictions: ${path.join(o.export, mode)} (${ds.length} palette PNGs of class indices)`);
    }
    return out;
  } finally {
    model.dispose();
  }
}

/**
 * `depth eval`: loads any checkpoint of a run (the engine resolves the path), evaluates a split
 * with both reductions printed and labelled, and can draw samples and export predictions as
 * 16-bit PNG (millimetres) and PLY point clouds.
 */
import * as path from 'path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { restoreCheckpoint } from '@gpl/core';
import { resolveCheckpointPath, type ResolvedCheckpoint } from '@gpl/engine';
import { DepthBins, type DepthBinsConfig } from './bins';
import { cameraOf, depthDataset, DEPTH_DATASET_NAMES } from './datasets';
import { evaluateDepth } from './eval';
import { formatDepthTable, type DepthMetrics } from './metrics';
import { buildDepthModel } from './model';
import { exportPrediction, writeDepthDrawing } from './output';
import { evalOptions, runRecipe } from './task';

export interface RunDepthEvalOptions {
  readonly checkpoint: string;
  readonly dataset?: string;
  readonly dataRoot?: string;
  readonly split: string;
  /** Depth cap in metres (0 = none); default the run's. */
  readonly maxDepth?: number;
  /** Draw this many samples to <run>/eval-samples/. */
  readonly overlays?: number;
  /** Write every prediction as <export>/<id>.png (16-bit mm) and <export>/<id>.ply. */
  readonly export?: string;
  readonly log?: (line: string) => void;
}

/** Rebuilds a checkpoint's model from its state.json (width, output stride, bins) and loads its weights. */
export async function loadDepthModel(ck: ResolvedCheckpoint): Promise<{ model: tfl.LayersModel; bins: DepthBins }> {
  const width = (ck.state.width ?? ck.config?.width) as number | undefined;
  const outputStride = (ck.state.outputStride ?? ck.config?.outputStride) as 8 | 16 | 32 | undefined;
  const binCfg = ck.state.bins as DepthBinsConfig | undefined;
  if (ck.state.task !== 'depth' || !width || !outputStride || !binCfg) {
    throw new RangeError(`[depth] ${ck.dir}/state.json is not a depth checkpoint (task '${String(ck.state.task)}'); pass a run of depth:train.`);
  }
  const bins = new DepthBins(binCfg);
  const model = buildDepthModel({ bins: bins.count, width, outputStride, seed: 0 });
  try {
    await restoreCheckpoint(ck.dir, { model });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, bins };
}

/** Evaluates a checkpoint; returns its metrics. */
export async function runDepthEval(o: RunDepthEvalOptions): Promise<DepthMetrics> {
  const log = o.log ?? ((l: string) => console.log(l));
  const ck = resolveCheckpointPath(o.checkpoint, { option: '--checkpoint', hint: o.checkpoint ? undefined : 'No run with checkpoints under runs/depth: train one first (npx nx run depth:train).' });
  const runCfg = ck.config ?? {};
  const trainedOn = (ck.state.dataset ?? runCfg.dataset) as string | undefined;
  const dataset = o.dataset ?? trainedOn ?? 'nyudv2';
  if (!(DEPTH_DATASET_NAMES as readonly string[]).includes(dataset)) throw new RangeError(`[depth] eval: dataset '${dataset}' is not one of ${DEPTH_DATASET_NAMES.join(', ')}.`);
  const d = depthDataset(dataset);
  const dataRoot = o.dataRoot ?? (runCfg.dataset === dataset ? (runCfg.dataRoot as string | undefined) : undefined) ?? d.miniRoot;
  if (!dataRoot) throw new RangeError(`[depth] eval: --dataset ${dataset} has no embedded data; pass --data-root.`);
  const ds = await d.open(dataRoot, d.splitName(o.split));
  const maxDepth = o.maxDepth ?? (runCfg.maxDepth as number | undefined) ?? 10;
  const recipe = runRecipe({ dataset: dataset as 'nyudv2', dataRoot, crop: (runCfg.crop as number | undefined) ?? 0 });
  const { model, bins } = await loadDepthModel(ck);
  try {
    log(`checkpoint ${ck.dir} (ResNet-50 lateral, width ${String(ck.state.width)}, step ${String(ck.state.step)}) on ${ds.name} (${ds.length} images), Eigen crop, depth cap ${maxDepth ? `${maxDepth} m` : 'none'}`);
    const drawings = path.join(ck.runDir ?? path.dirname(ck.dir), 'eval-samples');
    const started = Date.now();
    let exported = 0;
    const m = await evaluateDepth(model, ds, {
      ...evalOptions({ maxDepth }, { bins, recipe }),
      onPrediction: async (s, pred, i) => {
        if (i < (o.overlays ?? 0)) await writeDepthDrawing(path.join(drawings, `${s.id}.png`), s, pred);
        if (o.export) {
          await exportPrediction(o.export, s, pred, cameraOf(ds, s.depth.width, s.depth.height).camera);
          exported++;
        }
      },
    });
    log(`\n${((Date.now() - started) / 1000).toFixed(1)} s`);
    log(formatDepthTable(m));
    if (o.export) log(`predictions: ${o.export} (${exported} 16-bit PNGs in millimetres and ${exported} PLY point clouds)`);
    return m;
  } finally {
    model.dispose();
  }
}

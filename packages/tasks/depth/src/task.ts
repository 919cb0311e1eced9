/**
 * Monocular depth as an engine task (paper Sec. 3.1, 4.2.2, Table 7): its data (a dataset
 * descriptor and VNL's crop/scale recipe), the ResNet-50 + lateral-decoder model, the loss
 * (WCE [+ 6·VNL] [+ λ·GPL on the decoded depth]), pooled/per-image metrics on the Eigen crop and
 * the drawings of the last evaluation.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { withPretrainedEncoder } from '@gpl/core';
import { formatInputNormalization, inputNormalization, recipeFor, type Dataset, type DepthSample, type Sample } from '@gpl/data';
import { isResNetLayer, toPyTorchName } from '@gpl/resnet';
import { readWeightFile, type WeightFile } from '@gpl/weights';
import { train, type TaskSpec, type TrainOptions, type TrainResult } from '@gpl/engine';
import { depthTrainTransform, recipeWithCrop, type CameraIntrinsics, type DepthRecipe } from '@gpl/nyudv2';
import { DepthBins } from './bins';
import type { DepthConfig } from './config';
import { cameraOf, depthDataset } from './datasets';
import { evaluateDepth, type EvaluateDepthOptions } from './eval';
import { depthLoss } from './losses';
import type { DepthMetrics } from './metrics';
import { buildDepthModel } from './model';
import { writeDepthDrawing } from './output';

/** What the depth task keeps from opening its data. */
export interface DepthInfo {
  readonly val: Dataset<DepthSample>;
  readonly recipe: DepthRecipe;
  /** Camera of the dataset's images (native resolution). */
  readonly camera: CameraIntrinsics;
  readonly bins: DepthBins;
  /** The bins' soft-target matrix, one tensor for the whole run (freed by the task's `dispose`). */
  readonly softTargets: tf.Tensor2D;
  /** The encoder's pretrained weights (`--pretrained`), read once when the data opens. */
  readonly pretrained?: WeightFile;
}

/** The training recipe of a run: the dataset's (mini or paper), with the run's crop if given. */
export function runRecipe(cfg: Pick<DepthConfig, 'dataset' | 'dataRoot' | 'crop'>): DepthRecipe {
  const base = recipeFor(depthDataset(cfg.dataset), cfg.dataRoot);
  return cfg.crop ? recipeWithCrop(base, cfg.crop) : base;
}

export const evalOptions = (cfg: Pick<DepthConfig, 'maxDepth'> & Partial<Pick<DepthConfig, 'evalLimit'>>, info: Pick<DepthInfo, 'bins' | 'recipe'>): EvaluateDepthOptions => ({
  ...(cfg.evalLimit ? { limit: cfg.evalLimit } : {}),
  bins: info.bins,
  mean: info.recipe.mean,
  std: info.recipe.std,
  maxDepth: cfg.maxDepth,
  minDepth: 1e-3,
});

export const depthTask: TaskSpec<DepthConfig, DepthInfo, DepthMetrics> = {
  name: 'depth',

  async openData(cfg) {
    const d = depthDataset(cfg.dataset);
    const trainDs = await d.open(cfg.dataRoot, d.splitName('train'));
    const val = await d.open(cfg.dataRoot, d.splitName('val'));
    const recipe = runRecipe(cfg);
    if (recipe.cropSize % 32 !== 0) {
      throw new RangeError(`[depth] the training crop ${recipe.cropSize} of ${cfg.dataset} is not a multiple of 32; pass --crop ${Math.max(32, Math.round(recipe.cropSize / 32) * 32)}.`);
    }
    const first = await trainDs.get(0);
    const { camera, assumed } = cameraOf(trainDs, first.image.width, first.image.height);
    const bins = new DepthBins();
    const notes = [
      `data: ${trainDs.name} (${trainDs.length}) / ${val.name} (${val.length}); crops ${recipe.cropSize}² from windows ${recipe.windowSides.join(', ')}`,
      `camera: fx ${camera.fx.toFixed(2)} fy ${camera.fy.toFixed(2)} at ${camera.width}×${camera.height}${assumed ? ' (assumed: NYU camera scaled to the image size)' : ''}`,
      formatInputNormalization(inputNormalization(recipe.mean, recipe.std)),
      `losses: ${cfg.losses.join(' + ')}${cfg.losses.includes('vnl') ? ` (VNL weight ${cfg.vnlWeight})` : ''}${cfg.losses.includes('gpl') ? ` (GPL λ ${cfg.percepLambda} on ${cfg.gplInput} depth)` : ''}`,
    ];
    return {
      train: trainDs as Dataset<Sample>,
      transform: depthTrainTransform(recipe),
      info: {
        val,
        recipe,
        camera,
        bins,
        softTargets: tf.tensor2d(bins.softTargets(), [bins.count, bins.count]),
        ...(cfg.pretrained ? { pretrained: readWeightFile(cfg.pretrained) } : {}),
      },
      notes,
    };
  },

  buildModel: (cfg, info, log) =>
    withPretrainedEncoder(
      buildDepthModel({ bins: info.bins.count, width: cfg.width, outputStride: cfg.outputStride, seed: cfg.seed }),
      info.pretrained,
      {
        // The encoder is @gpl/resnet's ResNet-50 (torchvision's 7×7 stem); the decoder's layers keep their initialisation.
        isEncoderWeight: (key) => isResNetLayer(key.slice(0, key.lastIndexOf('/'))),
        toTorchName: toPyTorchName,
        caller: "[depth] option 'pretrained'",
        expectedSource: `a torchvision-layout resnet50 state dict at width ${cfg.width} (torchvision .pth, timm .safetensors, or an mmseg/mmdet checkpoint)`,
      },
      log,
    ),

  perceptualChannels: () => 1,

  loss({ model, batch, cfg, info, gpl, lambda }) {
    const logits = model.apply(batch.images, { training: true }) as tf.Tensor4D;
    const useGpl = cfg.losses.includes('gpl') && gpl !== undefined;
    return depthLoss(
      logits,
      batch.depth!,
      {
        bins: info.bins,
        softTargets: info.softTargets,
        vnlWeight: cfg.losses.includes('vnl') ? cfg.vnlWeight : 0,
        vnl: { fx: info.camera.fx, fy: info.camera.fy },
        lambda: useGpl ? lambda : 0,
        gplInput: cfg.gplInput,
        // The engine seeds Math.random during a step and checkpoints its state, so the triplets
        // are reproducible and a resumed run draws the same ones.
        rng: { next: () => Math.random() },
      },
      useGpl ? (p, t, m) => gpl.compute(p, t, m) : undefined,
    );
  },

  evaluate: (model, cfg, info) => evaluateDepth(model, info.val, evalOptions(cfg, info)),

  finalEvaluate: ({ model, cfg, info, runDir, samples }) =>
    evaluateDepth(model, info.val, {
      ...evalOptions(cfg, info),
      onPrediction: async (s, pred, i) => {
        if (i < samples) await writeDepthDrawing(path.join(runDir, 'samples', `${s.id}.png`), s, pred);
      },
    }),

  metricRow: (m) => ({
    val_abs_rel: m.pooled.absRel,
    val_sq_rel: m.pooled.sqRel,
    val_rms: m.pooled.rms,
    val_rms_log: m.pooled.rmsLog,
    val_log10: m.pooled.log10,
    val_d1: m.pooled.d1,
    val_d2: m.pooled.d2,
    val_d3: m.pooled.d3,
    val_silog: m.pooled.silog,
    val_abs_rel_per_image: m.perImage.absRel,
  }),
  score: (m) => -m.pooled.absRel,
  describe: (m) => `val abs rel ${m.pooled.absRel.toFixed(4)} (per image ${m.perImage.absRel.toFixed(4)}), rms ${m.pooled.rms.toFixed(3)} m, δ1 ${(100 * m.pooled.d1).toFixed(1)}%`,
  checkpointState: (cfg, info) => ({
    model: 'resnet50-lateral',
    dataset: cfg.dataset,
    width: cfg.width,
    outputStride: cfg.outputStride,
    bins: info.bins.config,
    normalization: inputNormalization(info.recipe.mean, info.recipe.std),
  }),
  finalRecord: (m) => ({ pooled: m.pooled, perImage: m.perImage, images: m.images, pixels: m.pixels }),
  metricPlots: [
    { file: 'abs_rel.png', column: 'val_abs_rel', title: 'Validation abs rel (pooled)', yLabel: 'abs rel' },
    { file: 'delta1.png', column: 'val_d1', title: 'Validation δ < 1.25 (pooled)', yLabel: 'δ1 (%)', scale: 100 },
  ],

  dispose: (info) => info.softTargets.dispose(),
};

/** Trains (or resumes) a depth run; see the engine's `train`. */
export function trainDepth(cfg: DepthConfig, options: TrainOptions = {}): Promise<TrainResult<DepthMetrics, DepthInfo>> {
  return train(depthTask, cfg, options);
}

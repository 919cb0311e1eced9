/**
 * CondInst instance segmentation as an engine task (paper §3.1, §4.2.3): COCO-format data with
 * detectron2's resize-and-flip recipe padded to a fixed canvas, the CondInst network, its loss
 * (FCOS + dice [+ λ·GPL of the sampled instances' mask probabilities against a teacher's]),
 * pycocotools-equal box and mask AP, and drawings of the last evaluation.
 */
import * as path from 'path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { withPretrainedEncoder } from '@gpl/core';
import { isResNetLayer, toPyTorchName } from '@gpl/resnet';
import { readWeightFile, type WeightFile } from '@gpl/weights';
import { IMAGENET_MEAN, IMAGENET_STD, compose, formatInputNormalization, inputNormalization, normalize, recipeFor, warpSample, type Dataset, type Sample, type Transform } from '@gpl/data';
import { CocoDataset, cocoDataset, instanceTestTransform, instanceTrainTransform, shortestEdgeSize, type InstanceRecipe } from '@gpl/coco';
import { resolveCheckpointPath, restoreModel, train, type ResolvedCheckpoint, type TaskSpec, type TrainOptions, type TrainResult } from '@gpl/engine';
import type { CondInstConfig } from './config';
import { evaluateCondInst, formatMetrics, type CondInstMetrics, type EvaluateOptions } from './eval';
import { buildCondInst } from './model';
import { writeInstanceDrawing } from './overlay';
import { condInstLoss } from './train-loss';

/** What the task keeps from opening its data. */
export interface CondInstInfo {
  readonly val: CocoDataset;
  readonly classNames: readonly string[];
  readonly recipe: InstanceRecipe;
  readonly canvas: readonly [number, number];
  /** The frozen teacher of the perceptual term, when there is one. */
  readonly teacher?: tfl.LayersModel;
  readonly teacherDir?: string;
  /** The encoder's pretrained weights, read once when the data opens. */
  readonly pretrained?: WeightFile;
}

const ceil32 = (v: number) => Math.ceil(v / 32) * 32;

/**
 * The smallest canvas (multiples of 32) that holds every training image at the recipe's largest
 * shortest-edge size.
 */
export function canvasFor(images: readonly { readonly height: number; readonly width: number }[], recipe: InstanceRecipe): [number, number] {
  const short = Math.max(...recipe.minSizes);
  let h = 32;
  let w = 32;
  for (const im of images) {
    const [oh, ow] = shortestEdgeSize(im.height, im.width, short, recipe.maxSize);
    h = Math.max(h, ceil32(oh));
    w = Math.max(w, ceil32(ow));
  }
  return [h, w];
}

/** Pads a sample at the bottom and right to `canvas`; refuses one larger than it, naming --canvas. */
export function padToCanvas(canvas: readonly [number, number]): Transform {
  const [ch, cw] = canvas;
  return {
    name: `pad-to-canvas(${ch}x${cw})`,
    apply<S extends Sample>(sample: S): S {
      const { height: h, width: w } = sample.image;
      if (h > ch || w > cw) {
        throw new RangeError(`[condinst] option 'canvas': sample ${sample.id} is ${h}×${w} after resizing, larger than the canvas ${ch}×${cw}; raise --canvas (multiples of 32).`);
      }
      if (h === ch && w === cw) return sample;
      return warpSample(sample, { height: ch, width: cw, y: { scale: 1, offset: 0 }, x: { scale: 1, offset: 0 } }, { image: 0, label: 255 });
    },
  };
}

/** A CondInst network rebuilt from a checkpoint's state.json and its weights restored. */
export async function loadCondInstModel(ck: ResolvedCheckpoint): Promise<tfl.LayersModel> {
  const s = ck.state;
  const numClasses = s.numClasses as number | undefined;
  const backbone = s.backbone as CondInstConfig['backbone'] | undefined;
  const width = s.width as number | undefined;
  if (s.task !== 'condinst' || !numClasses || !backbone || !width) {
    throw new RangeError(`[condinst] ${ck.dir}/state.json is not a CondInst checkpoint (expected task 'condinst' with backbone, width and numClasses; found task ${JSON.stringify(s.task)}).`);
  }
  return restoreModel(ck.dir, () => buildCondInst({ numClasses, backbone, width, seed: 0 }));
}

async function openTeacher(cfg: CondInstConfig, classNames: readonly string[]): Promise<{ teacher: tfl.LayersModel; dir: string } | undefined> {
  if (!cfg.teacher || cfg.percep === 'none') return undefined;
  const ck = resolveCheckpointPath(cfg.teacher, { prefer: 'best', option: '--teacher', hint: 'Train one with npx nx run condinst:train-teacher, or pass --teacher none.' });
  const names = ck.state.classNames as string[] | undefined;
  if (!names || names.join('\n') !== classNames.join('\n')) {
    throw new RangeError(`[condinst] --teacher ${cfg.teacher}: its classes (${names?.join(', ') ?? 'none recorded'}) differ from the dataset's (${classNames.join(', ')}).`);
  }
  return { teacher: await loadCondInstModel(ck), dir: ck.dir };
}

const evalOptions = (info: CondInstInfo): EvaluateOptions => ({
  numClasses: info.classNames.length,
  resize: instanceTestTransform(info.recipe),
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
});

const pct = (v: number) => (v < 0 ? 'n/a' : `${(100 * v).toFixed(2)}%`);

export const condInstTask: TaskSpec<CondInstConfig, CondInstInfo, CondInstMetrics> = {
  name: 'condinst',

  async openData(cfg) {
    const d = cocoDataset;
    const trainDs = await d.open(cfg.dataRoot, d.splitName('train'));
    const val = await d.open(cfg.dataRoot, d.splitName('val'));
    if (!(trainDs instanceof CocoDataset) || !(val instanceof CocoDataset)) throw new TypeError('[condinst] the COCO descriptor opened something other than a CocoDataset.');
    const recipe = recipeFor(d, cfg.dataRoot);
    const canvas: [number, number] = cfg.canvas.length === 2 ? [cfg.canvas[0], cfg.canvas[1]] : canvasFor(trainDs.images, recipe);
    const opened = await openTeacher(cfg, trainDs.classNames);
    const pretrained = cfg.pretrained ? readWeightFile(cfg.pretrained) : undefined;
    const notes = [formatInputNormalization(inputNormalization(IMAGENET_MEAN, IMAGENET_STD)), `training canvas ${canvas[0]}×${canvas[1]}; resize shortest edge ${recipe.minSizes.join('|')} (max ${recipe.maxSize}), test ${recipe.testMinSize}/${recipe.testMaxSize}`];
    if (cfg.percep !== 'none') notes.push(opened ? `GPL target: teacher masks from ${path.relative(process.cwd(), opened.dir) || opened.dir}` : 'GPL target: ground-truth masks at stride 4 (no teacher)');
    return {
      train: trainDs as Dataset<Sample>,
      transform: compose([instanceTrainTransform(recipe), normalize({ mean: IMAGENET_MEAN, std: IMAGENET_STD }), padToCanvas(canvas)]),
      info: { val, classNames: trainDs.classNames, recipe, canvas, ...(opened ? { teacher: opened.teacher, teacherDir: opened.dir } : {}), ...(pretrained ? { pretrained } : {}) },
      notes,
    };
  },

  buildModel(cfg, info, log) {
    const model = buildCondInst({ numClasses: info.classNames.length, backbone: cfg.backbone, width: cfg.width, seed: cfg.seed });
    return withPretrainedEncoder(
      model,
      info.pretrained,
      {
        isEncoderWeight: (key) => isResNetLayer(key.slice(0, key.lastIndexOf('/'))),
        toTorchName: toPyTorchName,
        caller: "[condinst] option 'pretrained'",
        expectedSource: `a torchvision-layout ${cfg.backbone} state dict at width ${cfg.width} (torchvision .pth, timm .safetensors, or an mmdet/mmseg checkpoint)`,
      },
      log,
    );
  },

  perceptualChannels: () => 1,

  loss({ model, batch, cfg, info, gpl, lambda }) {
    const r = condInstLoss(model, batch.images, batch.instances ?? [], {
      numClasses: info.classNames.length,
      maxProposals: cfg.maxProposals,
      radius: cfg.radius,
      ...(gpl ? { perceptual: { gpl, lambda, ...(info.teacher ? { teacher: info.teacher } : {}) } } : {}),
    });
    return { total: r.total, terms: r.terms };
  },

  evaluate: (model, _cfg, info) => evaluateCondInst(model, info.val, evalOptions(info)),

  finalEvaluate: ({ model, info, runDir, samples }) =>
    evaluateCondInst(model, info.val, {
      ...evalOptions(info),
      onPrediction: async (s, dets, i) => {
        if (i < samples) await writeInstanceDrawing(path.join(runDir, 'samples', `${s.id}.png`), s, dets, info.classNames, info.val.palette);
      },
    }),

  metricRow: (m) => ({ val_box_ap: m.box.stats[0], val_mask_ap: m.mask.stats[0], val_box_ap50: m.box.stats[1], val_mask_ap50: m.mask.stats[1] }),
  score: (m) => m.mask.stats[0],
  describe: (m) => `val box AP ${pct(m.box.stats[0])}, mask AP ${pct(m.mask.stats[0])} (${m.detections} detections on ${m.images} images)`,
  checkpointState: (cfg, info) => ({
    backbone: cfg.backbone,
    width: cfg.width,
    numClasses: info.classNames.length,
    classNames: info.classNames,
    canvas: info.canvas,
    normalization: inputNormalization(IMAGENET_MEAN, IMAGENET_STD),
  }),
  finalRecord: (m, info) => ({
    box: m.box.stats,
    mask: m.mask.stats,
    perCategory: { box: m.box.perCategory, mask: m.mask.perCategory },
    classNames: info.classNames,
    detections: m.detections,
    summary: formatMetrics(m).split('\n'),
  }),
  metricPlots: [
    { file: 'mask_ap.png', column: 'val_mask_ap', title: 'Validation mask AP', yLabel: 'mask AP (%)', scale: 100 },
    { file: 'box_ap.png', column: 'val_box_ap', title: 'Validation box AP', yLabel: 'box AP (%)', scale: 100 },
  ],

  dispose: (info) => info.teacher?.dispose(),
};

/** Trains (or resumes) a CondInst run; see the engine's `train`. */
export function trainCondInst(cfg: CondInstConfig, options: TrainOptions = {}): Promise<TrainResult<CondInstMetrics, CondInstInfo>> {
  return train(condInstTask, cfg, options);
}

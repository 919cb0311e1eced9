/**
 * Every option of a segmentation run, with defaults that work on the embedded mini dataset.
 * The loop's options (schedule, cadence, perceptual loss, run folder) are the engine's; this file
 * adds the dataset, the model and the teacher's soft labels. `main.ts` merges flags (and
 * `--config file.json`) over these, validates, and saves the resolved object as config.json.
 */
import { PAPER_PERCEPTUAL, perceptualMinimumSize, perceptualOption, validateLoopConfig, type TrainCliConfig } from '@gpl/engine';
import { SEG_DATASET_NAMES, type DatasetName } from './datasets';

export interface SegConfig extends TrainCliConfig {
  /** Dataset format of `dataRoot`. */
  readonly dataset: DatasetName;
  /** Dataset root folder; default: the embedded mini dataset of `dataset`. */
  readonly dataRoot: string;
  /** Model registry key, e.g. 'pspnet-r18', 'hrnet-w18-small', 'deeplabv3plus-r50'. */
  readonly model: string;
  /** Width multiplier for every convolution (1 = the published model). */
  readonly width: number;
  /** Training crop [height, width]; multiples of 32. */
  readonly crop: readonly [number, number];
  /**
   * Folder of teacher soft labels (manifest.json); '' = use one-hot ground truth as y_t;
   * 'auto' (CLI default) = the folder teacher:generate writes for the embedded dataset, if present.
   */
  readonly softLabels: string;
  /** Encoder weights from a PyTorch file (.pth/.safetensors, an mmseg checkpoint); '' trains from scratch. */
  readonly pretrained: string;
  /**
   * Resolution of the perceptual term, as a fraction of the crop (one of `PERCEP_SCALES`): at 1 the
   * loss network sees softmax(logits) and y_t at crop resolution; below 1 both are average-pooled
   * over s⁻¹×s⁻¹ blocks to (H·s)×(W·s) first (see `segmentationLoss`). Absent (an older config.json): 1.
   */
  readonly percepScale: number;
}

/** Resolutions the perceptual term can be taken at: the crop's, down to the stride-8 grid of PSPNet's logits. */
export const PERCEP_SCALES: readonly number[] = Object.freeze([1, 0.5, 0.25, 0.125]);

/**
 * Defaults of a run: a CPU-sized student on the embedded Cityscapes mini dataset, sized so the
 * whole default pipeline (teacher, soft labels, student) fits in about 15 minutes on 2 cores
 * with the wasm backend (measured step times in the README / bench-results/seg.json).
 */
export const defaultSegConfig: SegConfig = Object.freeze({
  // The paper's main benchmark, as the embedded 48/16-image mini dataset.
  dataset: 'cityscapes',
  dataRoot: 'datasets/cityscapes-mini',
  // The ablation student of the paper (PSPNet-R18), at a quarter of the width.
  model: 'pspnet-r18',
  width: 0.25,
  // cityscapesMiniAugment's crop: half of a 256×128 mini image.
  crop: Object.freeze([128, 128]) as readonly [number, number],
  batch: 4,
  // On wasm (2 cores) a step takes about 0.8 s for the baseline and 1.5 s with GPL [1,1,1,1,1];
  // 300 steps keep the default pipeline near 15 minutes. The mini dataset's val mIoU still climbs
  // steeply here (baseline, 400 steps: 13% at 100, 19% at 200, 24% at 300, 25.7% at 400).
  iters: 300,
  // Paper §3: SGD, lr 0.01, poly 0.9; mmseg: momentum 0.9, weight decay 5e-4.
  lr: 0.01,
  polyPower: 0.9,
  momentum: 0.9,
  weightDecay: 5e-4,
  seed: 1,
  // Table 2's [1,1,1,1,1] (70.88 vs VGG16's 70.68) at about a third of VGG16's cost on the CPU,
  // λ 0.1, the He-style N(0, √(2/n_l)), final layer only, on onnxruntime when it loads.
  ...PAPER_PERCEPTUAL,
  // teacher:generate's output for the embedded dataset when it exists.
  softLabels: 'auto',
  pretrained: '',
  // The paper's setting: the perceptual term at the resolution of the labels.
  percepScale: 1,
  evalEvery: 50,
  checkpointEvery: 50,
  resume: false,
  // Chosen by the CLI: runs/seg/<dataset>-<model>-<time>.
  out: '',
  backend: 'auto',
});

/** Throws a RangeError/TypeError naming the option, what was expected and what was received. */
export function validateSegConfig(c: SegConfig): SegConfig {
  const fail = (field: string, expected: string, value: unknown, Err: typeof RangeError = RangeError): never => {
    throw new Err(`[seg] option '${field}': expected ${expected}, received ${typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value)}.`);
  };
  if (!SEG_DATASET_NAMES.includes(c.dataset)) fail('dataset', `one of ${SEG_DATASET_NAMES.join(', ')}`, c.dataset);
  if (typeof c.dataRoot !== 'string') fail('dataRoot', 'a folder path', c.dataRoot, TypeError);
  if (typeof c.model !== 'string' || !c.model) fail('model', 'a model name', c.model, TypeError);
  if (!(typeof c.width === 'number' && c.width > 0 && c.width <= 4)) fail('width', 'a multiplier in (0, 4]', c.width);
  if (!Array.isArray(c.crop) || c.crop.length !== 2 || !c.crop.every((v) => Number.isInteger(v) && v > 0 && v % 32 === 0)) {
    fail('crop', '[height, width], positive multiples of 32 (e.g. 128,256)', c.crop);
  }
  if (typeof c.softLabels !== 'string') fail('softLabels', "a folder path, '' or 'none'", c.softLabels, TypeError);
  if (typeof c.pretrained !== 'string') fail('pretrained', "a .pth/.safetensors file or ''", c.pretrained, TypeError);
  if (!PERCEP_SCALES.includes(c.percepScale)) fail('percepScale', `one of ${PERCEP_SCALES.join(', ')} (a fraction of the crop)`, c.percepScale);
  validateLoopConfig(c, 'seg');
  const percep = perceptualOption(c, 'seg');
  if (percep) {
    const [h, w] = c.crop.map((v) => Math.round(v * c.percepScale));
    const min = perceptualMinimumSize(percep);
    if (Math.min(h, w) < min) {
      const enough = smallestScale(c.crop, min);
      const fix = enough !== undefined ? `use percepScale ${enough} or more, or a larger crop` : 'use a larger crop';
      throw new RangeError(`[seg] option 'percepScale': ${c.percepScale} of the ${c.crop.join('×')} crop is ${h}×${w}, smaller than the ${min}×${min} the loss network ${c.percep} needs; ${fix}.`);
    }
  }
  return c;
}

/** The smallest allowed percepScale that keeps both sides of `crop` at least `min`, if any. */
function smallestScale(crop: readonly number[], min: number): number | undefined {
  return [...PERCEP_SCALES].reverse().find((s) => Math.min(...crop.map((v) => Math.round(v * s))) >= min);
}

/** Parses '128,256' or '128x256' (or a single number for a square crop). */
export function parseCrop(text: string, option = 'crop'): [number, number] {
  const parts = String(text).split(/[,x]/).map((s) => (s.trim() === '' ? NaN : Number(s.trim())));
  if ((parts.length !== 1 && parts.length !== 2) || parts.some((v) => !Number.isFinite(v))) {
    throw new RangeError(`[seg] option '${option}': expected 'height,width' (e.g. 128,256), received '${text}'.`);
  }
  return parts.length === 1 ? [parts[0], parts[0]] : [parts[0], parts[1]];
}

/**
 * Every option of a segmentation run, with defaults that work on the embedded mini dataset.
 * `main.ts` merges flags (and `--config file.json`) over these, validates, and saves the
 * resolved object as the run's config.json.
 */

export const DATASETS = ['cityscapes', 'voc', 'ade20k', 'custom'] as const;
export type DatasetName = (typeof DATASETS)[number];

export const PERCEP_LEVELS = ['final', 'all', 'weighted'] as const;
export type PercepLevels = (typeof PERCEP_LEVELS)[number];

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

export interface SegConfig {
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
  /** Images per step. */
  readonly batch: number;
  /** Optimizer steps. */
  readonly iters: number;
  /** Base learning rate (paper: 0.01). */
  readonly lr: number;
  /** Poly decay power (paper: 0.9). */
  readonly polyPower: number;
  /** SGD momentum. */
  readonly momentum: number;
  /** L2 weight decay on convolution kernels (mmseg default 5e-4). */
  readonly weightDecay: number;
  /** Seed of weights, data order and augmentation. */
  readonly seed: number;
  /** Perceptual-loss network: 'none', a preset ('vgg16', …) or a structure '1,1,1,1,1'. */
  readonly percep: string;
  /** λ of Eq. 2 (paper: 0.1). */
  readonly percepLambda: number;
  /** Kernel size of the loss network (1, 3, 5, 7). */
  readonly percepKernel: number;
  /** Initialisation of the loss network: 'he' (paper), 'xavier', 'normal:σ', 'uniform:a'. */
  readonly percepInit: string;
  /** Where the perceptual loss is taken: final layer, every block equally, or 1/16…1 weights. */
  readonly percepLevels: PercepLevels;
  /**
   * Folder of teacher soft labels (manifest.json); '' = use one-hot ground truth as y_t;
   * 'auto' (CLI default) = the folder teacher:generate writes for the embedded dataset, if present.
   */
  readonly softLabels: string;
  /** Evaluate on the val split every this many steps (0 = only at the end). */
  readonly evalEvery: number;
  /** Save a checkpoint every this many steps (0 = only at evaluations and the end). */
  readonly checkpointEvery: number;
  /** Continue from the last checkpoint in `out`. */
  readonly resume: boolean;
  /** Run folder ('' in the CLI: runs/seg/<dataset>-<model>-<time>). */
  readonly out: string;
  /** TensorFlow.js backend. */
  readonly backend: (typeof BACKENDS)[number];
}

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
  // Table 2's [1,1,1,1,1] (70.88 vs VGG16's 70.68) at about a third of VGG16's cost on the CPU.
  percep: '1,1,1,1,1',
  // λ = 0.1 in all experiments of the paper.
  percepLambda: 0.1,
  percepKernel: 3,
  // The paper's He-style scheme, N(0, √(2/n_l)).
  percepInit: 'he',
  // Final-layer loss only (paper's main setting).
  percepLevels: 'final',
  // teacher:generate's output for the embedded dataset when it exists.
  softLabels: 'auto',
  evalEvery: 50,
  checkpointEvery: 50,
  resume: false,
  // Chosen by the CLI: runs/seg/<dataset>-<model>-<time>.
  out: '',
  backend: 'auto',
});

const PRESET_OR_STRUCTURE = /^(none|vgg11|vgg13|vgg16|vgg19|resnet18|alexnet|googlenet|mobilenetv2|\d+(,\d+)*)$/;
const INIT = /^(he|xavier|normal:\d*\.?\d+(e-?\d+)?|uniform:\d*\.?\d+(e-?\d+)?)$/;

/** Throws a RangeError/TypeError naming the option, what was expected and what was received. */
export function validateSegConfig(c: SegConfig): SegConfig {
  const fail = (field: string, expected: string, value: unknown, Err: typeof RangeError = RangeError): never => {
    throw new Err(`[seg] option '${field}': expected ${expected}, received ${typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value)}.`);
  };
  const positiveInt = (field: keyof SegConfig) => {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(field, 'a positive integer', v);
  };
  const nonNegative = (field: keyof SegConfig) => {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(field, 'a finite number ≥ 0', v);
  };
  if (!DATASETS.includes(c.dataset)) fail('dataset', `one of ${DATASETS.join(', ')}`, c.dataset);
  if (typeof c.dataRoot !== 'string') fail('dataRoot', 'a folder path', c.dataRoot, TypeError);
  if (typeof c.model !== 'string' || !c.model) fail('model', 'a model name', c.model, TypeError);
  if (!(typeof c.width === 'number' && c.width > 0 && c.width <= 4)) fail('width', 'a multiplier in (0, 4]', c.width);
  if (!Array.isArray(c.crop) || c.crop.length !== 2 || !c.crop.every((v) => Number.isInteger(v) && v > 0 && v % 32 === 0)) {
    fail('crop', '[height, width], positive multiples of 32 (e.g. 128,256)', c.crop);
  }
  (['batch', 'iters', 'percepKernel'] as const).forEach(positiveInt);
  (['lr', 'polyPower', 'momentum', 'weightDecay', 'percepLambda', 'evalEvery', 'checkpointEvery'] as const).forEach(nonNegative);
  if (!Number.isInteger(c.evalEvery)) fail('evalEvery', 'an integer ≥ 0', c.evalEvery);
  if (!Number.isInteger(c.checkpointEvery)) fail('checkpointEvery', 'an integer ≥ 0', c.checkpointEvery);
  if (typeof c.softLabels !== 'string') fail('softLabels', "a folder path, '' or 'none'", c.softLabels, TypeError);
  if (typeof c.resume !== 'boolean') fail('resume', 'true or false', c.resume, TypeError);
  if (!(c.lr > 0)) fail('lr', 'a learning rate > 0', c.lr);
  if (c.momentum >= 1) fail('momentum', 'a value in [0, 1)', c.momentum);
  if (!Number.isInteger(c.seed)) fail('seed', 'an integer', c.seed);
  if (![1, 3, 5, 7].includes(c.percepKernel)) fail('percepKernel', 'one of 1, 3, 5, 7', c.percepKernel);
  if (!PRESET_OR_STRUCTURE.test(c.percep)) fail('percep', "'none', a preset (vgg16, …) or convolutions per block like 1,1,1,1,1", c.percep);
  if (!INIT.test(c.percepInit)) fail('percepInit', "'he', 'xavier', 'normal:<σ>' or 'uniform:<a>'", c.percepInit);
  if (!PERCEP_LEVELS.includes(c.percepLevels)) fail('percepLevels', `one of ${PERCEP_LEVELS.join(', ')}`, c.percepLevels);
  if (!BACKENDS.includes(c.backend)) fail('backend', `one of ${BACKENDS.join(', ')}`, c.backend);
  if (typeof c.out !== 'string' || !c.out) fail('out', 'a folder path', c.out, TypeError);
  return c;
}

/** Parses '128,256' or '128x256' (or a single number for a square crop). */
export function parseCrop(text: string): [number, number] {
  const parts = String(text).split(/[,x]/).map((s) => Number(s.trim()));
  if (parts.length === 1) return [parts[0], parts[0]];
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v))) {
    throw new RangeError(`[seg] option 'crop': expected 'height,width' (e.g. 128,256), received '${text}'.`);
  }
  return [parts[0], parts[1]];
}

/**
 * Every option of a depth run, with defaults that work on the embedded nyudv2-mini. The loop's
 * options (schedule, cadence, perceptual loss network, run folder) are the engine's; this file
 * adds the dataset, the model, which of Table 7's loss terms run and their weights, and the
 * evaluation cap. `main.ts` merges flags (and `--config file.json`) over these, validates, and
 * saves the resolved object as config.json.
 */
import { PAPER_PERCEPTUAL, validateLoopConfig, type TrainCliConfig } from '@gpl/engine';
import { DEPTH_DATASET_NAMES, type DepthDatasetName } from './datasets';
import { GPL_INPUTS, type GplInput } from './losses';

/** The loss terms of Table 7. */
export const DEPTH_LOSSES = ['wce', 'vnl', 'gpl'] as const;
export type DepthLossName = (typeof DEPTH_LOSSES)[number];

/** Table 7's four configurations, as `--losses` values. */
export const TABLE7_VARIANTS: readonly (readonly DepthLossName[])[] = Object.freeze([['wce'], ['wce', 'gpl'], ['wce', 'vnl'], ['wce', 'vnl', 'gpl']]);

export interface DepthConfig extends TrainCliConfig {
  readonly dataset: DepthDatasetName;
  /** Dataset root; default: the embedded mini dataset. */
  readonly dataRoot: string;
  /** Width multiplier of the ResNet-50 encoder and the decoder (1 = full size). */
  readonly width: number;
  /** Encoder output stride (VNL: 16). */
  readonly outputStride: 8 | 16 | 32;
  /** Square training crop side (multiple of 32); 0 = the dataset recipe's (mini 96, NYU 385 → pass 384). */
  readonly crop: number;
  /** Loss terms: 'wce' always, plus 'vnl' and/or 'gpl'. */
  readonly losses: readonly DepthLossName[];
  /** Weight of the virtual normal loss (VNL `DIFF_LOSS_WEIGHT`: 6). */
  readonly vnlWeight: number;
  /** What GPL's loss network sees: depth in VNL units ('metric'), its log10, or per-image mean-normalised depth. */
  readonly gplInput: GplInput;
  /** Evaluation depth cap in metres (BTS 10; 0 = none, as VNL). */
  readonly maxDepth: number;
  /** Evaluate on the first n validation images only (0 = all): quick checks. */
  readonly evalLimit: number;
  /** ResNet-50 encoder weights from a PyTorch file (torchvision .pth, timm .safetensors, an mmseg/mmdet checkpoint); '' trains from scratch. */
  readonly pretrained: string;
}

export const defaultDepthConfig: DepthConfig = Object.freeze({
  dataset: 'nyudv2',
  dataRoot: 'datasets/nyudv2-mini',
  // A CPU-sized ResNet-50 (planes 8…64, 1.2 M parameters with the decoder).
  width: 0.125,
  outputStride: 16,
  // The mini recipe's 96² (VNL's 385² at NYU ÷ 4).
  crop: 0,
  // The paper's best row of Table 7.
  losses: Object.freeze(['wce', 'vnl', 'gpl']) as readonly DepthLossName[],
  vnlWeight: 6,
  gplInput: 'metric',
  maxDepth: 10,
  evalLimit: 0,
  pretrained: '',
  batch: 4,
  // About 2 s per step on 2 shared cores (wasm): a few minutes for the default run.
  iters: 100,
  // From scratch on the CPU: the paper's 1e-4 is for an ImageNet-initialised encoder over 30
  // epochs; at 100 steps from random weights 0.01 (the segmentation recipe) is what moves.
  lr: 0.01,
  polyPower: 0.9,
  momentum: 0.9,
  weightDecay: 5e-4,
  seed: 1,
  // The loss network of the segmentation runs (Table 2's [1,1,1,1,1]) with one input channel.
  ...PAPER_PERCEPTUAL,
  evalEvery: 50,
  checkpointEvery: 25,
  resume: false,
  out: '',
  backend: 'auto',
});

/** Parses `wce,vnl,gpl` (any order, 'wce' required). */
export function parseLosses(value: unknown): DepthLossName[] {
  const parts = (Array.isArray(value) ? value.map(String) : String(value).split(',')).map((s) => s.trim()).filter(Boolean);
  const bad = parts.filter((p) => !(DEPTH_LOSSES as readonly string[]).includes(p));
  if (bad.length || !parts.includes('wce') || new Set(parts).size !== parts.length) {
    throw new RangeError(`[depth] option 'losses': expected 'wce' plus any of vnl, gpl (wce | wce,gpl | wce,vnl | wce,vnl,gpl), received '${parts.join(',')}'.`);
  }
  return DEPTH_LOSSES.filter((l) => parts.includes(l));
}

/** Throws a RangeError/TypeError naming the option, what was expected and what was received. */
export function validateDepthConfig(c: DepthConfig): DepthConfig {
  const fail = (field: string, expected: string, value: unknown, Err: typeof RangeError = RangeError): never => {
    throw new Err(`[depth] option '${field}': expected ${expected}, received ${typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value)}.`);
  };
  if (!DEPTH_DATASET_NAMES.includes(c.dataset)) fail('dataset', `one of ${DEPTH_DATASET_NAMES.join(', ')}`, c.dataset);
  if (typeof c.dataRoot !== 'string' || !c.dataRoot) fail('dataRoot', 'a folder path', c.dataRoot, TypeError);
  if (!(typeof c.width === 'number' && c.width > 0 && c.width <= 4)) fail('width', 'a multiplier in (0, 4]', c.width);
  if (![8, 16, 32].includes(c.outputStride)) fail('outputStride', '8, 16 or 32', c.outputStride);
  if (!(Number.isInteger(c.crop) && c.crop >= 0 && c.crop % 32 === 0)) fail('crop', 'a square crop side, a multiple of 32 (0 = the dataset recipe)', c.crop);
  parseLosses(c.losses);
  if (!(typeof c.vnlWeight === 'number' && Number.isFinite(c.vnlWeight) && c.vnlWeight > 0)) fail('vnlWeight', 'a finite weight > 0', c.vnlWeight);
  if (!GPL_INPUTS.includes(c.gplInput)) fail('gplInput', `one of ${GPL_INPUTS.join(', ')}`, c.gplInput);
  if (!(typeof c.maxDepth === 'number' && c.maxDepth >= 0 && Number.isFinite(c.maxDepth))) fail('maxDepth', 'a cap in metres ≥ 0 (0 = none)', c.maxDepth);
  if (!(Number.isInteger(c.evalLimit) && c.evalLimit >= 0)) fail('evalLimit', 'an integer ≥ 0 (0 = every validation image)', c.evalLimit);
  if (typeof c.pretrained !== 'string') fail('pretrained', "a .pth/.safetensors file or ''", c.pretrained, TypeError);
  if (c.losses.includes('gpl') && c.percep === 'none') throw new RangeError("[depth] option 'losses' includes gpl but --percep is none; give a loss network (e.g. 1,1,1,1,1 or vgg16) or drop gpl.");
  validateLoopConfig(c, 'depth');
  return c;
}

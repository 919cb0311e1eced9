/**
 * The SR pilot's options: one frozen object of defaults (a comment per field) and its validation,
 * whose messages name the option, what was received and what is expected.
 */
import * as path from 'path';
import { BACKEND_PREFERENCES, type BackendPreference } from '@gpl/core';
import { PRETRAINED_PRESETS, type Preset } from '@gpl/loss';
import { PAPER_PERCEPTUAL, optionFailure, perceptualOption, type PerceptualFlags } from '@gpl/engine';
import { SR_VARIANTS, type SrVariant } from './losses';
import { SR_SCALE } from './model';

export interface SrConfig extends Required<PerceptualFlags> {
  /** Which variants to train, in table order. */
  readonly variants: readonly SrVariant[];
  /** Adam steps per variant. */
  readonly iters: number;
  /** HR patches per step. */
  readonly batch: number;
  /** HR patch side in pixels (a multiple of 4; LR patches are patch/4). */
  readonly patch: number;
  /** MSRResNet feature channels. */
  readonly features: number;
  /** MSRResNet residual blocks. */
  readonly blocks: number;
  /** Adam learning rate at step 0 (BasicSR: 2e-4). */
  readonly lr: number;
  /** Learning rate reached at the last step by cosine annealing (BasicSR: 1e-7). */
  readonly lrMin: number;
  /** Adam β1, β2 (BasicSR: 0.9, 0.99). */
  readonly beta1: number;
  readonly beta2: number;
  /**
   * Starting weights of the SR network: a BasicSR MSRResNet checkpoint (`{'params': …}` or
   * `params_ema`, .pth) or a state dict with its names (.pth/.safetensors) at the same features
   * and blocks; '' starts from BasicSR's initialisation.
   */
  readonly pretrained: string;
  /** Seed of the weights, the patches and the loss network (the same for every variant). */
  readonly seed: number;
  /** Validate every N steps (0: only at the end). */
  readonly evalEvery: number;
  /** Validation images (the first of the split). */
  readonly valImages: number;
  /** Dataset folders whose RGB images are the HR source. */
  readonly dataRoots: readonly string[];
  /** Run folder (one subfolder per variant). */
  readonly out: string;
  /** Continue the run in `out`. */
  readonly resume: boolean;
  readonly backend: BackendPreference;
}

/** The embedded mini datasets whose photographs are the HR images. */
export const EMBEDDED_ROOTS: readonly string[] = Object.freeze(['cityscapes-mini', 'voc-mini', 'ade20k-mini', 'coco-mini', 'nyudv2-mini'].map((d) => path.join('datasets', d)));

export const defaultSrConfig: SrConfig = Object.freeze({
  ...PAPER_PERCEPTUAL,
  // VGG16 structure, final layer: the same network random and pretrained, so the two differ only in weights.
  percep: 'vgg16',
  // λ 1: on 64-px patches the random VGG16's final-layer MSE is 6–7 % of the L1 term through the
  // default run (README), where the paper's 0.1 would leave it below 1 %.
  percepLambda: 1,
  variants: SR_VARIANTS,
  iters: 250,
  batch: 4,
  patch: 64,
  features: 32,
  blocks: 4,
  pretrained: '',
  lr: 2e-4,
  lrMin: 1e-7,
  beta1: 0.9,
  beta2: 0.99,
  seed: 1,
  evalEvery: 50,
  valImages: 8,
  dataRoots: EMBEDDED_ROOTS,
  out: '',
  resume: false,
  backend: 'auto',
});

/** Checks every option; returns the config unchanged. */
export function validateSrConfig(c: SrConfig): SrConfig {
  const fail = optionFailure('sr');
  const int = (field: keyof SrConfig, min: number) => {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(field, min > 0 ? `an integer ≥ ${min}` : 'an integer ≥ 0', v);
  };
  int('iters', 1);
  int('batch', 1);
  int('features', 1);
  int('blocks', 0);
  int('evalEvery', 0);
  int('valImages', 1);
  int('patch', 16);
  if (c.patch % SR_SCALE !== 0) fail('patch', `a multiple of ${SR_SCALE} (the LR patch is patch/${SR_SCALE})`, c.patch);
  if (!Number.isInteger(c.seed)) fail('seed', 'an integer', c.seed);
  if (typeof c.lr !== 'number' || !(c.lr > 0) || !Number.isFinite(c.lr)) fail('lr', 'a finite learning rate > 0', c.lr);
  if (typeof c.lrMin !== 'number' || !(c.lrMin >= 0 && c.lrMin <= c.lr)) fail('lrMin', `a learning rate in [0, lr = ${c.lr}]`, c.lrMin);
  for (const f of ['beta1', 'beta2'] as const) if (typeof c[f] !== 'number' || !(c[f] >= 0 && c[f] < 1)) fail(f, 'a value in [0, 1)', c[f]);
  if (!Array.isArray(c.variants) || !c.variants.length || !c.variants.every((v) => (SR_VARIANTS as readonly string[]).includes(v))) {
    fail('variants', `some of ${SR_VARIANTS.join(', ')}`, c.variants);
  }
  if (!Array.isArray(c.dataRoots) || !c.dataRoots.length || !c.dataRoots.every((r) => typeof r === 'string' && r)) fail('dataRoots', 'one or more dataset folders', c.dataRoots);
  if (typeof c.out !== 'string' || !c.out) fail('out', 'a folder path', c.out, TypeError);
  if (typeof c.resume !== 'boolean') fail('resume', 'true or false', c.resume, TypeError);
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(c.backend)) fail('backend', `one of ${BACKEND_PREFERENCES.join(', ')}`, c.backend);
  if (typeof c.pretrained !== 'string') fail('pretrained', "a BasicSR MSRResNet .pth or a .safetensors state dict, or ''", c.pretrained, TypeError);
  if (typeof c.percepPretrained !== 'string') fail('percepPretrained', "a torchvision .pth/.safetensors file or ''", c.percepPretrained, TypeError);
  perceptualOption({ ...c, percepPretrained: '' }, 'sr');
  if (c.percepPretrained && c.variants.includes('pretrained-vgg') && !PRETRAINED_PRESETS.includes(c.percep as Preset)) {
    fail('percep', `a network with torchvision weights (${PRETRAINED_PRESETS.join(', ')}) for --percep-pretrained`, c.percep);
  }
  return c;
}

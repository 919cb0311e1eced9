/**
 * The configuration of the PSPNet head, with its defaults in one place. The encoder is not
 * part of it: `buildPSPNet` takes a `Backbone` (a dilated ResNet at output stride 8 for the
 * reference model), wired in by the task.
 */
import type { FeatureKey } from '@gpl/core';

export interface PSPNetConfig {
  /** Classes of both classifiers (Cityscapes 19, VOC 21, ADE20K 150). */
  readonly numClasses: number;
  /**
   * Multiplies the head widths (`channels`, `auxChannels`; core's `scaleWidth`: multiples of 8,
   * at least 8). The encoder has its own multiplier; give both the same value. 1 builds the
   * reference head; the default 0.25 is the CPU-sized width.
   */
  readonly widthMultiplier: number;
  /** Width of each pyramid-pooling branch and of the bottleneck conv (MMSegmentation PSPHead: 512). */
  readonly channels: number;
  /** Output bins of the pyramid-pooling branches (Zhao et al.: 1, 2, 3, 6). */
  readonly poolScales: readonly number[];
  /** Channel-dropout rate before each classifier (PyTorch Dropout2d; MMSegmentation: 0.1). 0 removes the layer. */
  readonly dropout: number;
  /** Build the auxiliary FCN head on `auxFeature`, a second model output for training. */
  readonly auxHead: boolean;
  /** Width of the auxiliary head's 3×3 conv (MMSegmentation FCNHead: 256). */
  readonly auxChannels: number;
  /** Weight of the auxiliary cross-entropy in the training loss (Zhao et al.: 0.4). Read by the task's loss. */
  readonly auxLossWeight: number;
  /** Encoder feature the pyramid pooling reads (c5, stride 8 on a dilated ResNet). */
  readonly inFeature: FeatureKey;
  /** Encoder feature the auxiliary head reads (c4: ResNet stage 3). */
  readonly auxFeature: FeatureKey;
  /** Seed of the head's weight initialisation (each layer's seed is derived from it and the layer's name). */
  readonly seed: number;
  /** BatchNorm momentum, Keras convention (PyTorch's momentum 0.1 is 0.9 here). */
  readonly bnMomentum: number;
  /**
   * Fixed input [height, width], multiples of the encoder's `sizeDivisor`, or null for a model
   * that accepts any such size (checked when it runs).
   */
  readonly inputSize: readonly [number, number] | null;
}

export const defaultPSPNetConfig: PSPNetConfig = Object.freeze({
  numClasses: 19,
  widthMultiplier: 0.25,
  channels: 512,
  poolScales: Object.freeze([1, 2, 3, 6]),
  dropout: 0.1,
  auxHead: true,
  auxChannels: 256,
  auxLossWeight: 0.4,
  inFeature: 'c5',
  auxFeature: 'c4',
  seed: 1,
  bnMomentum: 0.9,
  inputSize: null,
});

const FEATURE_KEYS: readonly FeatureKey[] = ['c1', 'c2', 'c3', 'c4', 'c5'];

/** Merges `overrides` over the defaults and validates the result. */
export function resolvePSPNetConfig(overrides: Partial<PSPNetConfig> = {}): PSPNetConfig {
  if (overrides === null || typeof overrides !== 'object') {
    throw new TypeError(`[@gpl/pspnet] config must be an object, received ${overrides === null ? 'null' : typeof overrides}.`);
  }
  const c: PSPNetConfig = { ...defaultPSPNetConfig, ...overrides };
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new RangeError(`[@gpl/pspnet] config.${field} must be ${expected}, received ${JSON.stringify(got)}.`);
  };
  const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!positiveInt(c.numClasses)) fail('numClasses', 'a positive integer', c.numClasses);
  if (!(typeof c.widthMultiplier === 'number' && c.widthMultiplier > 0 && c.widthMultiplier <= 4)) {
    fail('widthMultiplier', 'a number in (0, 4]', c.widthMultiplier);
  }
  if (!positiveInt(c.channels)) fail('channels', 'a positive integer', c.channels);
  if (!Array.isArray(c.poolScales) || c.poolScales.length === 0 || !c.poolScales.every(positiveInt)) {
    fail('poolScales', 'a non-empty list of positive integers', c.poolScales);
  }
  if (!(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1)) fail('dropout', 'in [0, 1)', c.dropout);
  if (typeof c.auxHead !== 'boolean') fail('auxHead', 'a boolean', c.auxHead);
  if (!positiveInt(c.auxChannels)) fail('auxChannels', 'a positive integer', c.auxChannels);
  if (!(typeof c.auxLossWeight === 'number' && c.auxLossWeight >= 0)) fail('auxLossWeight', 'a number ≥ 0', c.auxLossWeight);
  if (!FEATURE_KEYS.includes(c.inFeature)) fail('inFeature', `one of ${FEATURE_KEYS.join(', ')}`, c.inFeature);
  if (!FEATURE_KEYS.includes(c.auxFeature)) fail('auxFeature', `one of ${FEATURE_KEYS.join(', ')}`, c.auxFeature);
  if (!Number.isFinite(c.seed)) fail('seed', 'a finite number', c.seed);
  if (!(typeof c.bnMomentum === 'number' && c.bnMomentum >= 0 && c.bnMomentum < 1)) fail('bnMomentum', 'in [0, 1)', c.bnMomentum);
  if (c.inputSize !== null && !(Array.isArray(c.inputSize) && c.inputSize.length === 2)) {
    fail('inputSize', 'null or [height, width]', c.inputSize);
  }
  return c;
}

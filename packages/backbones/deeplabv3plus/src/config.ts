/**
 * The configuration of the DeepLabV3+ head, with its defaults in one place. The encoder is not
 * part of it: `buildDeepLabV3Plus` takes a `Backbone` (a ResNet-50/101 at output stride 16 for
 * the reference model), wired in by the task.
 */
import type { FeatureKey } from '@gpl/core';

export interface DeepLabV3PlusConfig {
  /** Classes of the classifier (Cityscapes 19, VOC 21, ADE20K 150). */
  readonly numClasses: number;
  /**
   * Multiplies the head widths (ASPP, low-level projection, decoder; core's `scaleWidth`:
   * multiples of 8, at least 8). The encoder has its own multiplier; give both the same value.
   * 1 builds the reference head; the default 0.25 is the CPU-sized width.
   */
  readonly widthMultiplier: number;
  /** Width of every ASPP branch and of its 1×1 projection (Chen et al.: 256). */
  readonly asppChannels: number;
  /**
   * Dilation rates of the three 3×3 ASPP branches at output stride 16 (Chen et al.: 6, 12, 18).
   * They scale with the encoder's c5 stride: 12, 24, 36 at output stride 8.
   */
  readonly asppRates: readonly number[];
  /** Dropout after the ASPP projection (DeepLab's TensorFlow code and VainF: 0.1). 0 removes the layer. */
  readonly asppDropout: number;
  /** Width of the 1×1 projection of the low-level feature (Chen et al.: 48). */
  readonly lowLevelChannels: number;
  /** Width of the decoder's 3×3 convolutions (Chen et al.: 256). */
  readonly decoderChannels: number;
  /** Number of decoder 3×3 convolutions (Chen et al.: 2; VainF's DeepLabV3Plus-Pytorch: 1). */
  readonly decoderConvs: number;
  /** Channel-dropout rate before the classifier (MMSegmentation's decode heads: 0.1). 0 removes the layer. */
  readonly dropout: number;
  /** Encoder feature the ASPP reads (c5, stride 16 on the reference encoder). */
  readonly inFeature: FeatureKey;
  /** Encoder feature the decoder refines with (c2: ResNet stage 1, stride 4). */
  readonly lowLevelFeature: FeatureKey;
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

export const defaultDeepLabV3PlusConfig: DeepLabV3PlusConfig = Object.freeze({
  numClasses: 19,
  widthMultiplier: 0.25,
  asppChannels: 256,
  asppRates: Object.freeze([6, 12, 18]),
  asppDropout: 0.1,
  lowLevelChannels: 48,
  decoderChannels: 256,
  decoderConvs: 2,
  dropout: 0.1,
  inFeature: 'c5',
  lowLevelFeature: 'c2',
  seed: 1,
  bnMomentum: 0.9,
  inputSize: null,
});

const FEATURE_KEYS: readonly FeatureKey[] = ['c1', 'c2', 'c3', 'c4', 'c5'];

/** Merges `overrides` over the defaults and validates the result. */
export function resolveDeepLabV3PlusConfig(overrides: Partial<DeepLabV3PlusConfig> = {}): DeepLabV3PlusConfig {
  if (overrides === null || typeof overrides !== 'object') {
    throw new TypeError(`[@gpl/deeplabv3plus] config must be an object, received ${overrides === null ? 'null' : typeof overrides}.`);
  }
  const c: DeepLabV3PlusConfig = { ...defaultDeepLabV3PlusConfig, ...overrides };
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new RangeError(`[@gpl/deeplabv3plus] config.${field} must be ${expected}, received ${JSON.stringify(got)}.`);
  };
  const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  const rate = (v: unknown) => typeof v === 'number' && v >= 0 && v < 1;
  if (!positiveInt(c.numClasses)) fail('numClasses', 'a positive integer', c.numClasses);
  if (!(typeof c.widthMultiplier === 'number' && c.widthMultiplier > 0 && c.widthMultiplier <= 4)) {
    fail('widthMultiplier', 'a number in (0, 4]', c.widthMultiplier);
  }
  if (!positiveInt(c.asppChannels)) fail('asppChannels', 'a positive integer', c.asppChannels);
  if (!Array.isArray(c.asppRates) || !c.asppRates.every(positiveInt)) fail('asppRates', 'a list of positive integers', c.asppRates);
  if (!rate(c.asppDropout)) fail('asppDropout', 'in [0, 1)', c.asppDropout);
  if (!positiveInt(c.lowLevelChannels)) fail('lowLevelChannels', 'a positive integer', c.lowLevelChannels);
  if (!positiveInt(c.decoderChannels)) fail('decoderChannels', 'a positive integer', c.decoderChannels);
  if (!(Number.isInteger(c.decoderConvs) && c.decoderConvs >= 0)) fail('decoderConvs', 'an integer ≥ 0', c.decoderConvs);
  if (!rate(c.dropout)) fail('dropout', 'in [0, 1)', c.dropout);
  if (!FEATURE_KEYS.includes(c.inFeature)) fail('inFeature', `one of ${FEATURE_KEYS.join(', ')}`, c.inFeature);
  if (!FEATURE_KEYS.includes(c.lowLevelFeature)) fail('lowLevelFeature', `one of ${FEATURE_KEYS.join(', ')}`, c.lowLevelFeature);
  if (!Number.isFinite(c.seed)) fail('seed', 'a finite number', c.seed);
  if (!(typeof c.bnMomentum === 'number' && c.bnMomentum >= 0 && c.bnMomentum < 1)) fail('bnMomentum', 'in [0, 1)', c.bnMomentum);
  if (c.inputSize !== null && !(Array.isArray(c.inputSize) && c.inputSize.length === 2)) {
    fail('inputSize', 'null or [height, width]', c.inputSize);
  }
  return c;
}

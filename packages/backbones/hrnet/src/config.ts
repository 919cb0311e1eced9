/**
 * The configuration of every HRNet model this package builds, with its defaults in one place.
 */
import type { ResizeMode } from '@gpl/core';

export interface HRNetConfig {
  /** Classes of the segmentation head (Cityscapes 19, VOC 21, ADE20K 150). Unused by the bare encoder. */
  readonly numClasses: number;
  /**
   * Multiplies every width: stem, stage-1 bottleneck and branch channels (rounded by core's
   * `scaleWidth`: multiples of 8, at least 8). 1 builds the reference networks; the default
   * 0.5 makes 'hrnet-w18-small' a CPU-sized model (1.02M parameters; a training step at
   * 2×128×256 on wasm takes about a second; see README "Benchmark").
   */
  readonly widthMultiplier: number;
  /** Seed of the weight initialisation; each layer's seed is derived from it and the layer's name. */
  readonly seed: number;
  /**
   * PyTorch `align_corners` of every bilinear resize (fuse layers, head, logits). false as in
   * MMSegmentation's fcn_hr18s / fcn_hr48 at 512×1024; HRNet-Semantic-Segmentation uses true.
   */
  readonly alignCorners: boolean;
  /**
   * How a fuse layer upsamples a lower-resolution branch after its 1×1 conv + BN: 'bilinear'
   * (both segmentation references) or 'nearest' (the ImageNet classification HRNet).
   */
  readonly fuseUpsample: ResizeMode;
  /** BatchNorm momentum, Keras convention (PyTorch's BN_MOMENTUM 0.1 is 0.9 here). */
  readonly bnMomentum: number;
  /**
   * Fixed input [height, width], each a multiple of 32, or null for a model that accepts any
   * multiple of 32 (checked when it runs).
   */
  readonly inputSize: readonly [number, number] | null;
}

export const defaultHRNetConfig: HRNetConfig = Object.freeze({
  numClasses: 19,
  widthMultiplier: 0.5,
  seed: 1,
  alignCorners: false,
  fuseUpsample: 'bilinear',
  bnMomentum: 0.9,
  inputSize: null,
});

/** Merges `overrides` over the defaults and validates the result. */
export function resolveHRNetConfig(overrides: Partial<HRNetConfig> = {}): HRNetConfig {
  const c: HRNetConfig = { ...defaultHRNetConfig, ...overrides };
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new RangeError(`[@gpl/hrnet] config.${field} must be ${expected}, received ${JSON.stringify(got)}.`);
  };
  if (!Number.isInteger(c.numClasses) || c.numClasses < 1) fail('numClasses', 'a positive integer', c.numClasses);
  if (!(typeof c.widthMultiplier === 'number' && c.widthMultiplier > 0 && c.widthMultiplier <= 4)) {
    fail('widthMultiplier', 'a number in (0, 4]', c.widthMultiplier);
  }
  if (!Number.isFinite(c.seed)) fail('seed', 'a finite number', c.seed);
  if (typeof c.alignCorners !== 'boolean') fail('alignCorners', 'a boolean', c.alignCorners);
  if (c.fuseUpsample !== 'bilinear' && c.fuseUpsample !== 'nearest') fail('fuseUpsample', "'bilinear' or 'nearest'", c.fuseUpsample);
  if (!(c.bnMomentum >= 0 && c.bnMomentum < 1)) fail('bnMomentum', 'in [0, 1)', c.bnMomentum);
  if (c.inputSize !== null && !(Array.isArray(c.inputSize) && c.inputSize.length === 2)) {
    fail('inputSize', 'null or [height, width]', c.inputSize);
  }
  return c;
}

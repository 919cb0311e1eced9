/**
 * The options of every ResNet encoder this package builds, with their defaults in one place.
 */

/** Input pixels per c5 pixel; 16 and 8 trade the strides of the last stages for dilation. */
export type OutputStride = 8 | 16 | 32;
export const OUTPUT_STRIDES: readonly OutputStride[] = Object.freeze([8, 16, 32] as const);

export interface ResNetConfig {
  /**
   * Stride of c5. 32: the classification layout; 16: stage 4 keeps stride 1 and dilates by 2
   * (DeepLabV3+); 8: stages 3 and 4 keep stride 1 and dilate by 2 and 4 (PSPNet, "d8").
   */
  readonly outputStride: OutputStride;
  /**
   * ResNetV1c deep stem (MMSegmentation): three 3×3 convs 3→32 (stride 2), 32→32, 32→64
   * instead of one 7×7 stride-2 conv. false is the torchvision layout.
   */
  readonly deepStem: boolean;
  /**
   * In a dilated stage, the first block uses half the stage's dilation (MMSegmentation's
   * `contract_dilation`; torchvision's `replace_stride_with_dilation` does the same).
   */
  readonly contractDilation: boolean;
  /**
   * Multiplies every convolution width (stem, stage planes; rounded by core's `scaleWidth`:
   * multiples of 8, at least 8). 1 builds the reference networks; the default 0.25 is the
   * CPU-sized width (see README "Benchmark").
   */
  readonly widthMultiplier: number;
  /** Seed of the weight initialisation; each layer's seed is derived from it and the layer's name. */
  readonly seed: number;
  /** BatchNorm momentum, Keras convention (PyTorch's momentum 0.1 is 0.9 here). */
  readonly bnMomentum: number;
}

export const defaultResNetConfig: ResNetConfig = Object.freeze({
  outputStride: 32,
  deepStem: false,
  contractDilation: true,
  widthMultiplier: 0.25,
  seed: 1,
  bnMomentum: 0.9,
});

/** Merges `overrides` over the defaults and validates the result. */
export function resolveResNetConfig(overrides: Partial<ResNetConfig> = {}): ResNetConfig {
  if (overrides === null || typeof overrides !== 'object') {
    throw new TypeError(`[@gpl/resnet] config must be an object, received ${overrides === null ? 'null' : typeof overrides}.`);
  }
  const c: ResNetConfig = { ...defaultResNetConfig, ...overrides };
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new RangeError(`[@gpl/resnet] config.${field} must be ${expected}, received ${JSON.stringify(got)}.`);
  };
  if (!OUTPUT_STRIDES.includes(c.outputStride)) fail('outputStride', '8, 16 or 32', c.outputStride);
  if (typeof c.deepStem !== 'boolean') fail('deepStem', 'a boolean', c.deepStem);
  if (typeof c.contractDilation !== 'boolean') fail('contractDilation', 'a boolean', c.contractDilation);
  if (!(typeof c.widthMultiplier === 'number' && c.widthMultiplier > 0 && c.widthMultiplier <= 4)) {
    fail('widthMultiplier', 'a number in (0, 4]', c.widthMultiplier);
  }
  if (!Number.isFinite(c.seed)) fail('seed', 'a finite number', c.seed);
  if (!(typeof c.bnMomentum === 'number' && c.bnMomentum >= 0 && c.bnMomentum < 1)) fail('bnMomentum', 'in [0, 1)', c.bnMomentum);
  return c;
}

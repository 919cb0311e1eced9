/**
 * SRResNet ×4 in BasicSR's MSRResNet form (`basicsr/archs/srresnet_arch.py`), the variant that
 * trains on a CPU: no batch norm, 3×3 convolutions throughout, LeakyReLU 0.1, `blocks` residual
 * blocks (conv–ReLU–conv plus identity, BasicSR's `ResidualBlockNoBN`), two ×2 stages of a
 * convolution to 4·features channels and a pixel shuffle, a 3×3 `conv_hr`, a 3×3 `conv_last` to RGB,
 * and the bilinearly upsampled input added to the output (PyTorch's `align_corners=False`). The
 * original SRResNet of Ledig et al. (9×9 head and tail, batch norm, PReLU) is not built.
 *
 * Layer names follow BasicSR's parameter names (`conv_first`, `body.3.conv2`, `upconv1`, …).
 * Initialisation as BasicSR's `default_init_weights(…, 0.1)`: Kaiming-normal (fan-in) kernels
 * scaled by 0.1 (variance 0.02 / fan-in; tfjs draws it truncated at 2σ), zero biases.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ResizeLike, layerSeed } from '@gpl/core';
import { PixelShuffle } from './pixel-shuffle';

/** Upscaling factor of the model (two pixel-shuffle ×2 stages). */
export const SR_SCALE = 4;

export interface SrModelConfig {
  /** Feature channels (BasicSR: 64). */
  readonly features: number;
  /** Residual blocks (BasicSR: 16). */
  readonly blocks: number;
  /** Seed of the initial weights. */
  readonly seed: number;
}

/** The CPU-sized default: a quarter of BasicSR's blocks and half its width. */
export const defaultSrModelConfig: SrModelConfig = Object.freeze({
  features: 32,
  blocks: 4,
  seed: 1,
});

function checkModelConfig(c: SrModelConfig): void {
  const positive = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  if (!positive(c.features)) throw new RangeError(`[@gpl/sr] buildSrModel: features must be a positive integer, received ${JSON.stringify(c.features)}.`);
  if (!(typeof c.blocks === 'number' && Number.isInteger(c.blocks) && c.blocks >= 0)) {
    throw new RangeError(`[@gpl/sr] buildSrModel: blocks must be an integer ≥ 0, received ${JSON.stringify(c.blocks)}.`);
  }
  if (!Number.isInteger(c.seed)) throw new RangeError(`[@gpl/sr] buildSrModel: seed must be an integer, received ${JSON.stringify(c.seed)}.`);
}

/**
 * MSRResNet ×4: RGB in [0, 1] of any size [N, h, w, 3] → [N, 4h, 4w, 3] (not clamped; metrics
 * clamp and quantise as BasicSR's `tensor2img`).
 */
export function buildSrModel(config: Partial<SrModelConfig> = {}): tfl.LayersModel {
  const c = { ...defaultSrModelConfig, ...config };
  checkModelConfig(c);
  const conv = (name: string, filters: number) =>
    tfl.layers.conv2d({
      name,
      filters,
      kernelSize: 3,
      padding: 'same',
      kernelInitializer: tfl.initializers.varianceScaling({ scale: 2 * 0.1 ** 2, mode: 'fanIn', distribution: 'normal', seed: layerSeed(c.seed, name) }),
      biasInitializer: 'zeros',
    });
  const lrelu = (name: string) => tfl.layers.leakyReLU({ alpha: 0.1, name });
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => layer.apply(x) as tfl.SymbolicTensor;

  const input = tfl.input({ shape: [null, null, 3], name: 'lr' });
  let feat = apply(lrelu('lrelu_first'), apply(conv('conv_first', c.features), input));
  for (let b = 0; b < c.blocks; b++) {
    const p = `body.${b}`;
    const inner = apply(conv(`${p}.conv2`, c.features), apply(tfl.layers.reLU({ name: `${p}.relu` }), apply(conv(`${p}.conv1`, c.features), feat)));
    feat = apply(tfl.layers.add({ name: `${p}.add` }), [feat, inner]);
  }
  for (const stage of [1, 2]) {
    const up = apply(conv(`upconv${stage}`, 4 * c.features), feat);
    feat = apply(lrelu(`lrelu_up${stage}`), apply(new PixelShuffle({ factor: 2, name: `pixel_shuffle${stage}` }), up));
  }
  const residual = apply(conv('conv_last', 3), apply(lrelu('lrelu_hr'), apply(conv('conv_hr', c.features), feat)));
  const base = apply(new ResizeLike({ mode: 'bilinear', alignCorners: false, name: 'upsample_input' }), [input, residual]);
  const output = apply(tfl.layers.add({ name: 'sr' }), [base, residual]);
  return tfl.model({ inputs: input, outputs: output, name: `msrresnet_f${c.features}_b${c.blocks}` });
}

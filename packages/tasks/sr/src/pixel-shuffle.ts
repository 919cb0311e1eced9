/**
 * Pixel shuffle (sub-pixel convolution, Shi et al. 2016) as PyTorch's `nn.PixelShuffle` orders it,
 * written as reshape + transpose because TensorFlow.js 4.22 registers no gradient for
 * `tf.depthToSpace`.
 *
 * Channel order: PyTorch reads output pixel (h·r + i, w·r + j) of channel c from input channel
 * c·r² + i·r + j; TensorFlow's DepthToSpace reads it from (i·r + j)·C + c. This module follows
 * PyTorch, so MSRResNet weights exported from BasicSR drop in without permuting `upconv*` filters.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

function checkShuffleInput(x: tf.Tensor, factor: number): void {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new RangeError(`[@gpl/sr] pixelShuffle: factor must be a positive integer, received ${factor}.`);
  }
  if (x.rank !== 4) throw new RangeError(`[@gpl/sr] pixelShuffle: expected an NHWC tensor of rank 4, received rank ${x.rank} ([${x.shape}]).`);
  const c = x.shape[3] as number;
  if (c % (factor * factor) !== 0) {
    throw new RangeError(`[@gpl/sr] pixelShuffle: ${c} channels are not a multiple of factor² = ${factor * factor}; give the convolution before it C·${factor * factor} filters.`);
  }
}

/** The shuffle itself, unchecked: [N, H, W, C·r²] → [N, H·r, W·r, C]. */
function shuffle(x: tf.Tensor4D, r: number): tf.Tensor4D {
  const [n, h, w, cr2] = x.shape;
  const c = cr2 / (r * r);
  return tf.tidy(() => {
    // Channels split as (c, i, j), PyTorch's order; rank 5 keeps to the transposes every backend has.
    const split = tf.reshape(x, [n * h, w, c, r, r]);
    // (N·H, W, C, i, j) → (N·H, i, W, j, C): row h·r + i, column w·r + j.
    return tf.reshape(tf.transpose(split, [0, 3, 1, 4, 2]), [n, h * r, w * r, c]);
  });
}

/**
 * PyTorch's `F.pixel_shuffle` on NHWC tensors, differentiable on every backend.
 * @param x [N, H, W, C·r²]
 * @param factor r
 * @returns [N, H·r, W·r, C]; output (h·r + i, w·r + j, c) is input (h, w, c·r² + i·r + j).
 */
export function pixelShuffle(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  checkShuffleInput(x, factor);
  return shuffle(x, factor);
}

export interface PixelShuffleArgs {
  readonly name?: string;
  /** Upscaling factor r. */
  readonly factor: number;
}

/** `pixelShuffle` as a tfjs-layers layer (for functional models and their model.json). */
export class PixelShuffle extends tfl.layers.Layer {
  static readonly className = 'GplPixelShuffle';
  readonly factor: number;

  constructor(args: PixelShuffleArgs) {
    super(args);
    if (!Number.isInteger(args.factor) || args.factor < 1) {
      throw new RangeError(`[@gpl/sr] PixelShuffle: factor must be a positive integer, received ${JSON.stringify(args.factor)}.`);
    }
    this.factor = args.factor;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const r = this.factor;
    const mul = (v: number | null) => (v === null ? null : v * r);
    if (s[3] !== null && s[3] % (r * r) !== 0) {
      throw new RangeError(`[@gpl/sr] PixelShuffle: ${s[3]} channels are not a multiple of factor² = ${r * r}.`);
    }
    return [s[0], mul(s[1]), mul(s[2]), s[3] === null ? null : s[3] / (r * r)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return shuffle(x, this.factor);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
  }
}
tf.serialization.registerClass(PixelShuffle);

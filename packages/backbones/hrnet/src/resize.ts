/**
 * Resizing as the PyTorch references do it, with gradients on every backend.
 *
 * HRNet upsamples in two places: inside every fuse layer (a lower-resolution branch brought
 * to a higher one) and in the segmentation head (branches 2–4 to branch 1, logits to the
 * input). The target size is always that of another tensor, so the layer here takes that
 * tensor as a second input and works for any input size, fixed or not.
 *
 * Why not `tf.image.resizeBilinear(x, size, false)`: with `alignCorners = false` it maps
 * output pixel o to input o·in/out (TensorFlow 1's legacy rule), while PyTorch maps it to
 * (o + 0.5)·in/out − 0.5 (half-pixel centres). For a 4× upsample that shifts the result by
 * 1.5 output pixels. tfjs does have `halfPixelCenters`, but its ResizeBilinearGrad kernels
 * (cpu and wasm) ignore that flag, so the gradient would belong to a different function.
 * Half-pixel upsampling by an integer factor is therefore written here with slices, broadcasting
 * multiplies and a reshape, which differentiate exactly on every backend. With
 * `alignCorners = true` tfjs and PyTorch agree, and the native kernel is used.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkInputSize } from '@gpl/core';

type Kwargs = Record<string, unknown>;

/** Interpolation of a resize: PyTorch's `mode`. */
export type ResizeMode = 'bilinear' | 'nearest';

/** The input rows (or columns) a size divides into, or throws naming the sizes. */
function integerFactor(from: number, to: number, what: string): number {
  const s = to / from;
  if (!Number.isInteger(s) || s < 1) {
    throw new RangeError(
      `[@gpl/hrnet] resize: ${what} ${from} → ${to} is not an integer upsampling factor; ` +
        'HRNet branch sizes divide evenly when the input size is a multiple of 32.',
    );
  }
  return s;
}

/** A slice of `length` entries from `start` along `axis` (1 = rows, 2 = columns). */
function sliceAxis(x: tf.Tensor4D, axis: 1 | 2, start: number, length: number): tf.Tensor4D {
  const begin = [0, 0, 0, 0];
  const size = [-1, -1, -1, -1];
  begin[axis] = start;
  size[axis] = length;
  return tf.slice(x, begin, size);
}

/**
 * Upsamples one spatial axis by an integer factor s. Output row s·i + r reads input row
 * i + d_r with d_r = (2r + 1 − s) / 2s, i.e. PyTorch's half-pixel source (o + 0.5)/s − 0.5,
 * so it is a fixed blend of rows i − 1, i and i + 1; beyond the border the border row itself
 * is read, which is PyTorch's clamping. 'nearest' repeats each row s times (floor(o / s)).
 *
 * The blend is written as broadcasting multiplies into an [.., n, s, ..] tensor reshaped to
 * [.., n·s, ..]. Its gradient is then a multiply and a sum over the s axis; interleaving with
 * stack or concat instead made the backward pass de-interleave with wasm's generic slice
 * (Unpack / SplitV), which took over half of a training step.
 */
function upsampleAxis(x: tf.Tensor4D, axis: 1 | 2, s: number, mode: ResizeMode): tf.Tensor4D {
  if (s === 1) return x;
  const n = x.shape[axis];
  const shape = x.shape.slice() as [number, number, number, number];
  shape[axis] = n * s;
  const phaseShape = [1, 1, 1, 1, 1];
  phaseShape[axis + 1] = s;
  const weights = (w: number[]) => tf.tensor(w, phaseShape);
  const spread = (t: tf.Tensor4D, w: number[]) => tf.mul(tf.expandDims(t, axis + 1), weights(w));
  if (mode === 'nearest') return tf.reshape(spread(x, new Array<number>(s).fill(1)), shape);
  const d = Array.from({ length: s }, (_, r) => (2 * r + 1 - s) / (2 * s));
  const prev = n > 1 ? tf.concat([sliceAxis(x, axis, 0, 1), sliceAxis(x, axis, 0, n - 1)], axis) : x;
  const next = n > 1 ? tf.concat([sliceAxis(x, axis, 1, n - 1), sliceAxis(x, axis, n - 1, 1)], axis) : x;
  const blended = tf.addN([
    spread(x, d.map((v) => 1 - Math.abs(v))),
    spread(prev, d.map((v) => Math.max(0, -v))),
    spread(next, d.map((v) => Math.max(0, v))),
  ]);
  return tf.reshape(blended, shape);
}

/**
 * Resizes NHWC features to `size` [height, width] as PyTorch's `F.interpolate` does:
 * 'bilinear' with `alignCorners` true or false, or 'nearest'. Without corner alignment the
 * size must be an integer multiple of the input size (HRNet only upsamples by 2^k).
 */
export function resizeLikeTorch(x: tf.Tensor4D, size: readonly [number, number], mode: ResizeMode, alignCorners: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    if (h === size[0] && w === size[1]) return tf.clone(x);
    if (mode === 'bilinear' && alignCorners) return tf.image.resizeBilinear(x, [size[0], size[1]], true);
    const sh = integerFactor(h, size[0], 'height');
    const sw = integerFactor(w, size[1], 'width');
    return upsampleAxis(upsampleAxis(x, 1, sh, mode), 2, sw, mode);
  });
}

interface LayerArgs {
  readonly name?: string;
  readonly trainable?: boolean;
}

export interface ResizeLikeArgs extends LayerArgs {
  readonly mode: ResizeMode;
  readonly alignCorners: boolean;
}

/**
 * Two inputs [x, reference]: resizes x to the spatial size of `reference` (whose values are
 * not read). The counterpart of `F.interpolate(x, size=ref.shape[2:])` in the references.
 */
export class ResizeLike extends tfl.layers.Layer {
  static readonly className = 'GplResizeLike';
  readonly mode: ResizeMode;
  readonly alignCorners: boolean;

  constructor(args: ResizeLikeArgs) {
    super(args);
    this.mode = args.mode;
    this.alignCorners = args.alignCorners;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [x, ref] = inputShape as tfl.Shape[];
    return [x[0], ref[1], ref[2], x[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const [x, ref] = inputs as tf.Tensor4D[];
    return resizeLikeTorch(x, [ref.shape[1], ref.shape[2]], this.mode, this.alignCorners);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode, alignCorners: this.alignCorners };
  }
}
tf.serialization.registerClass(ResizeLike);

export interface InputSizeCheckArgs extends LayerArgs {
  /** Height and width must be multiples of this. */
  readonly divisor: number;
}

/**
 * Identity on the image that throws, naming the nearest valid size, when height or width is
 * not a multiple of `divisor`. Models built for any input size check it here, when they run.
 */
export class InputSizeCheck extends tfl.layers.Layer {
  static readonly className = 'GplInputSizeCheck';
  readonly divisor: number;

  constructor(args: InputSizeCheckArgs) {
    super(args);
    this.divisor = args.divisor;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    checkInputSize('@gpl/hrnet', x.shape[1], x.shape[2], this.divisor);
    // A new handle on the same data (no copy): a layer must not return its input tensor,
    // which the model executor would otherwise treat as an intermediate and dispose.
    return tf.clone(x);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), divisor: this.divisor };
  }
}
tf.serialization.registerClass(InputSizeCheck);

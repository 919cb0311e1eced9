/**
 * Resizing as the PyTorch references do it (`F.interpolate`), with gradients on every backend,
 * and the layer that resizes one tensor to the spatial size of another.
 *
 * Models built for any input size only learn a target size when they run: HRNet's fuse layers
 * bring a low-resolution branch to a higher one, decode heads bring logits back to the image.
 * `ResizeLike` takes the tensor whose size it copies as a second input, so the same layer
 * serves fixed and unknown sizes.
 *
 * Why not `tf.image.resizeBilinear(x, size, false)`: with `alignCorners = false` it maps
 * output pixel o to input o·in/out (TensorFlow 1's legacy rule), while PyTorch maps it to
 * (o + 0.5)·in/out − 0.5 (half-pixel centres); for a 4× upsample that shifts the result by
 * 1.5 output pixels. tfjs does have `halfPixelCenters`, but its ResizeBilinearGrad kernels
 * (cpu and wasm) ignore that flag, so the gradient would belong to a different function.
 * Half-pixel upsampling by an integer factor is therefore written here with slices,
 * broadcasting multiplies and a reshape, which differentiate exactly on every backend. With
 * `alignCorners = true` tfjs and PyTorch agree, and the native kernel is used.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type Kwargs = Record<string, unknown>;

/** Interpolation of a resize: PyTorch's `mode`. */
export type ResizeMode = 'bilinear' | 'nearest';
const RESIZE_MODES: readonly ResizeMode[] = ['bilinear', 'nearest'];

/** The upsampling factor from one size to another, or throws naming both sizes. */
function integerFactor(from: number, to: number, what: string): number {
  const s = to / from;
  if (!Number.isInteger(s) || s < 1) {
    throw new RangeError(
      `[@gpl/core] resizeLikeTorch: ${what} ${from} → ${to} is not an integer upsampling factor, which half-pixel ` +
        '(alignCorners false) and nearest resizing need; give the model an input size that is a multiple of its size divisor.',
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
 * Upsamples one spatial axis of x [N, H, W, C] by an integer factor s. Output row s·i + r reads
 * input row i + d_r with d_r = (2r + 1 − s) / 2s, i.e. PyTorch's half-pixel source
 * (o + 0.5)/s − 0.5, so it is a fixed blend of rows i − 1, i and i + 1; beyond the border the
 * border row itself is read, which is PyTorch's clamping. 'nearest' repeats each row s times
 * (floor(o / s)).
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
  const spread = (t: tf.Tensor4D, w: number[]) => tf.mul(tf.expandDims(t, axis + 1), tf.tensor(w, phaseShape));
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
 * Resizes x [N, H, W, C] to [N, size[0], size[1], C] as PyTorch's `F.interpolate` does:
 * 'bilinear' with `alignCorners` true (any size) or false (half-pixel centres), or 'nearest'
 * (which has no corner option). Without corner alignment the size must be an integer multiple
 * of the input size (HRNet and the decode heads only upsample by 2^k). Returns a new tensor
 * (a copy when the size already matches).
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

export interface ResizeLikeArgs {
  readonly name?: string;
  readonly trainable?: boolean;
  /** PyTorch `mode`. */
  readonly mode: ResizeMode;
  /** PyTorch `align_corners` (bilinear only; 'nearest' ignores it). */
  readonly alignCorners: boolean;
}

/**
 * Two inputs [x, reference]: resizes x [N, h, w, C] to [N, H, W, C], the spatial size of
 * `reference` [N, H, W, *] (whose values are not read), with `resizeLikeTorch`. The
 * counterpart of `F.interpolate(x, size=ref.shape[2:], mode, align_corners)` in the references.
 */
export class ResizeLike extends tfl.layers.Layer {
  static readonly className = 'GplResizeLike';
  readonly mode: ResizeMode;
  readonly alignCorners: boolean;

  constructor(args: ResizeLikeArgs) {
    super(args);
    if (!RESIZE_MODES.includes(args.mode)) {
      throw new RangeError(`[@gpl/core] ResizeLike: mode must be 'bilinear' or 'nearest', received ${JSON.stringify(args.mode)}.`);
    }
    if (typeof args.alignCorners !== 'boolean') {
      throw new TypeError(`[@gpl/core] ResizeLike: alignCorners must be a boolean, received ${JSON.stringify(args.alignCorners)}.`);
    }
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

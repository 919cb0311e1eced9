/**
 * CondInst's dynamic mask head (AdelaiDet `DynamicMaskHead`, REFERENCE.md §7): each instance
 * carries the 169 parameters its controller predicted at its FCOS location, which are the weights
 * of three 1×1 convolutions (10→8, 8→8, 8→1, ReLU between) run over the mask branch's 8 feature
 * channels plus 2 relative coordinates. Written as batched matrix products over instances, so one
 * call serves every instance of every image of a batch, and the gradient reaches both the
 * controller (through the parameters) and the mask branch (through the features).
 *
 * Also `alignedBilinear` (AdelaiDet `comm.aligned_bilinear`), the upsampling CondInst uses for
 * the mask branch and the mask logits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gatherRows } from './gather';

/** The head's shape: mask-branch channels in, hidden channels, number of 1×1 layers. */
export interface DynamicHeadShape {
  readonly inChannels: number;
  readonly channels: number;
  readonly layers: number;
  /** Relative coordinates appended in front of the features (2) or not (0). */
  readonly coordChannels: number;
}

/** CondInst's defaults: 8 mask-branch channels + 2 coordinates, 8 hidden, 3 layers. */
export const CONDINST_HEAD: DynamicHeadShape = Object.freeze({ inChannels: 8, channels: 8, layers: 3, coordChannels: 2 });

/** Weight and bias counts of each layer, in the parameter vector's order. */
export function dynamicParamLayout(s: DynamicHeadShape = CONDINST_HEAD): { weights: number[]; biases: number[]; total: number } {
  const weights: number[] = [];
  const biases: number[] = [];
  for (let l = 0; l < s.layers; l++) {
    const inCh = l === 0 ? s.inChannels + s.coordChannels : s.channels;
    const outCh = l === s.layers - 1 ? 1 : s.channels;
    weights.push(inCh * outCh);
    biases.push(outCh);
  }
  return { weights, biases, total: [...weights, ...biases].reduce((a, b) => a + b, 0) };
}

/** One layer's parameters for n instances: weights `[n, out, in]` (row-major out × in), biases `[n, 1, out]`. */
export interface DynamicLayer {
  readonly weight: tf.Tensor3D;
  readonly bias: tf.Tensor3D;
}

/**
 * Splits `[n, total]` parameters as `[w0, w1, …, b0, b1, …]` (AdelaiDet `parse_dynamic_params`):
 * all weights first, then all biases; each weight block reshaped row-major to out × in.
 */
export function splitDynamicParams(params: tf.Tensor2D, s: DynamicHeadShape = CONDINST_HEAD): DynamicLayer[] {
  const layout = dynamicParamLayout(s);
  if (params.shape[1] !== layout.total) {
    throw new RangeError(`[@gpl/condinst] splitDynamicParams: expected ${layout.total} parameters per instance, received ${params.shape[1]}.`);
  }
  const n = params.shape[0];
  const parts = tf.split(params, [...layout.weights, ...layout.biases], 1);
  return layout.weights.map((count, l) => {
    const outCh = layout.biases[l];
    return {
      weight: tf.reshape(parts[l], [n, outCh, count / outCh]) as tf.Tensor3D,
      bias: tf.reshape(parts[s.layers + l], [n, 1, outCh]) as tf.Tensor3D,
    };
  });
}

/** Where the instances come from: image index in the batch, location (pixels) and size of interest. */
export interface InstanceSites {
  /** Image of each instance in the batch. */
  readonly image: Int32Array;
  /** (x, y) of each instance's FCOS location, pixels: [x0, y0, x1, y1, …]. */
  readonly location: Float32Array;
  /** Normaliser of the relative coordinates (64·2^level: 64, 128, …, 1024 for P3–P7). */
  readonly sizeOfInterest: Float32Array;
}

/** CondInst's per-level normaliser of relative coordinates (`sizes_of_interest` 64…1024). */
export const RELATIVE_COORD_SCALES: readonly number[] = Object.freeze([64, 128, 256, 512, 1024]);

/**
 * Mask logits `[n, h, w]` at the mask branch's stride for n instances: features `[N, h, w, C]`
 * of the batch, parameters `[n, total]`. Relative coordinates are (instance location − pixel
 * location) / size of interest, pixel locations at `stride`·j + ⌊stride/2⌋.
 */
export function dynamicMaskLogits(features: tf.Tensor4D, params: tf.Tensor2D, sites: InstanceSites, stride: number, s: DynamicHeadShape = CONDINST_HEAD): tf.Tensor3D {
  return tf.tidy(() => {
    const [, h, w, c] = features.shape;
    const n = params.shape[0];
    if (c !== s.inChannels) throw new RangeError(`[@gpl/condinst] dynamicMaskLogits: features have ${c} channels, the head expects ${s.inChannels}.`);
    if (sites.image.length !== n) throw new RangeError(`[@gpl/condinst] dynamicMaskLogits: ${n} parameter rows but ${sites.image.length} instance sites.`);
    if (n === 0) return tf.zeros([0, h, w]) as tf.Tensor3D;
    let x = tf.reshape(gatherRows(features, sites.image), [n, h * w, c]) as tf.Tensor3D;
    if (s.coordChannels === 2) {
      const half = Math.floor(stride / 2);
      const coords = new Float32Array(n * h * w * 2);
      for (let k = 0; k < n; k++) {
        const lx = sites.location[2 * k];
        const ly = sites.location[2 * k + 1];
        const soi = sites.sizeOfInterest[k];
        let o = k * h * w * 2;
        for (let i = 0; i < h; i++) {
          for (let j = 0; j < w; j++) {
            coords[o++] = (lx - (j * stride + half)) / soi;
            coords[o++] = (ly - (i * stride + half)) / soi;
          }
        }
      }
      x = tf.concat([tf.tensor3d(coords, [n, h * w, 2]), x], 2) as tf.Tensor3D;
    }
    const layers = splitDynamicParams(params, s);
    layers.forEach((layer, l) => {
      x = tf.add(tf.matMul(x, layer.weight, false, true), layer.bias) as tf.Tensor3D;
      if (l < layers.length - 1) x = tf.relu(x);
    });
    return tf.reshape(x, [n, h, w]) as tf.Tensor3D;
  });
}

/** `x` with its last row (axis 1) or column (axis 2) repeated `count` times at the end or the start. */
function replicate(x: tf.Tensor4D, axis: 1 | 2, count: number, atStart: boolean): tf.Tensor4D {
  if (count === 0) return x;
  const begin = [0, 0, 0, 0];
  begin[axis] = atStart ? 0 : x.shape[axis] - 1;
  const size = [-1, -1, -1, -1];
  size[axis] = 1;
  const edge = tf.slice(x, begin, size);
  const reps = axis === 1 ? [1, count, 1, 1] : [1, 1, count, 1];
  const pad = tf.tile(edge, reps);
  return tf.concat(atStart ? [pad, x] : [x, pad], axis) as tf.Tensor4D;
}

/**
 * Upsampling by an integer `factor` whose output pixel (i, j) samples the input at
 * ((i − ⌊f/2⌋)/f, (j − ⌊f/2⌋)/f), edges replicated: replicate-pad right and bottom by 1,
 * align-corners bilinear to (f·h + 1, f·w + 1), replicate-pad left and top by ⌊f/2⌋, crop to
 * (f·h, f·w). `x` is `[N, h, w, C]`.
 */
export function alignedBilinear(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`[@gpl/condinst] alignedBilinear: factor must be a positive integer, received ${factor}.`);
  if (factor === 1) return tf.clone(x);
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    let y = replicate(replicate(x, 1, 1, false), 2, 1, false);
    y = tf.image.resizeBilinear(y, [factor * h + 1, factor * w + 1], true);
    const p = Math.floor(factor / 2);
    y = replicate(replicate(y, 1, p, true), 2, p, true);
    return tf.slice(y, [0, 0, 0, 0], [-1, factor * h, factor * w, -1]);
  });
}

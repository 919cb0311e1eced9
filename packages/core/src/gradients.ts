/**
 * Gradient completeness: lets every model of this project train on every backend.
 *
 * Stock TensorFlow.js 4.22 has three gaps:
 *  1. The Conv2D, fused conv2d and depthwise gradients assert dilation 1 (tfjs #7906),
 *     on every backend — PSPNet and DeepLabV3+ depend on dilation.
 *  2. The wasm backend has no Conv2DBackpropFilter and no depthwise backprop kernels.
 *  3. `tf.fused.conv2d` / `tf.fused.depthwiseConv2d` (used by tfjs-layers) carry their own
 *     gradient, which has gap 1 and, on wasm, gap 2.
 *
 * The gradients here are written with forward ops that every backend has:
 *  - filter gradient: a convolution of the transposed input with the transposed output
 *    gradient (batch becomes channels); forward stride becomes dilation and vice versa;
 *  - input gradient: for dilation 1 the stock Conv2DBackpropInput kernel; otherwise a
 *    correlation of the (zero-inserted, padded) output gradient with the flipped kernel.
 *
 * Two stock bugs found by the finite-difference tests are fixed here as well: the AvgPool
 * gradient with 'same' padding (all backends) and the shape of cpu's ResizeBilinearGrad. A third,
 * found against PyTorch: wasm's MaxPoolGrad routes a window whose maximum is tied to the *last*
 * tied input, where PyTorch, TensorFlow, onnxruntime and tfjs-cpu take the first; on piecewise-
 * constant inputs (saturated softmax, masked regions) that changed whole gradients. wasm gets a
 * first-maximum MaxPoolGrad here.
 *
 * Two gradients are rewritten for speed, with the same values up to float32 rounding: wasm's
 * Tile and Reverse kernels run 15–30× slower per element than its arithmetic (4×64×64×16: Tile
 * and multiply 18.6 ms, the broadcast multiply 0.65 ms). The stock FusedBatchNorm gradient tiles
 * the per-channel 1/√(var+ε) to the input's full shape and makes about ten full-size tensors; the
 * one here broadcasts it and makes three (dy·γ/σ, x−μ, dy·(x−μ)) besides per-channel sums. The
 * spatial flip of a kernel for input gradients is a product with a permutation matrix (exact for
 * finite weights) instead of Reverse.
 */
import * as tf from '@tensorflow/tfjs-core';

type Pair = [number, number];
type PadSpec = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type RoundingMode = 'floor' | 'round' | 'ceil' | undefined;
type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor. */
function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  let y = t;
  const ct = Math.max(0, -top);
  const cb = Math.max(0, -bottom);
  const cl = Math.max(0, -left);
  const cr = Math.max(0, -right);
  if (ct + cb + cl + cr > 0) y = tf.slice(y, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
  const pt = Math.max(0, top);
  const pb = Math.max(0, bottom);
  const pl = Math.max(0, left);
  const pr = Math.max(0, right);
  if (pt + pb + pl + pr > 0) y = tf.pad(y, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
  return y;
}

/** Spreads the output gradient back onto the stride grid: (h, w) → ((h−1)s+1, (w−1)s+1), zeros between. */
function insertZeros(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, h, 1, w, 1, c]), [
    [0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0],
  ]);
  return tf.slice(tf.reshape(spread, [n, h * sh, w * sw, c]), [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as tf.Tensor4D;
}

/** The input rows/columns the forward pass actually reads, padded or cropped to exactly that window. */
function readWindow(x: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  const needH = (info.outHeight - 1) * info.strideHeight + (info.filterHeight - 1) * info.dilationHeight + 1;
  const needW = (info.outWidth - 1) * info.strideWidth + (info.filterWidth - 1) * info.dilationWidth + 1;
  const { top, left } = info.padInfo;
  return padOrCrop(x, top, needH - info.inHeight - top, left, needW - info.inWidth - left);
}

/**
 * The output gradient laid out so that a stride-1 correlation with the flipped kernel at the
 * forward dilation yields the input gradient: dx[i] = Σ_k dyUp[i + pt − k·d]·W[k].
 */
function paddedForInputGrad(dy: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  const up = insertZeros(dy, info.strideHeight, info.strideWidth);
  const top = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const left = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const bottom = info.inHeight + info.padInfo.top - up.shape[1];
  const right = info.inWidth + info.padInfo.left - up.shape[2];
  return padOrCrop(up, top, bottom, left, right);
}

function geometry(
  xShape: number[],
  filterShape: number[],
  attrs: tf.NamedAttrMap,
  depthwise: boolean,
): Conv2DInfo {
  const strides = attrs.strides as number | Pair;
  const dilations = (attrs.dilations ?? 1) as number | Pair;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    attrs.pad as PadSpec,
    attrs.dimRoundingMode as RoundingMode,
    depthwise,
  );
}

function hasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) != null;
}

/**
 * filter[kh−1−y, kw−1−x] at (y, x): the spatial flip of a [kh, kw, a, b] kernel. The taps, as rows
 * of a [kh·kw, a·b] matrix, are reordered by the anti-diagonal permutation matrix: each output
 * is one weight times 1 plus zeros, so the result equals Reverse's for finite weights (a NaN or
 * infinite weight spreads along its column, where the convolution would have spread it anyway),
 * and wasm's matMul ran it 8× faster than its Reverse (3×3×128×128: 0.73 ms against 6.3 ms).
 */
export function flipSpatial(filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, a, b] = filter.shape;
  const taps = kh * kw;
  if (taps === 1) return filter;
  return tf.tidy(() => {
    const order = new Float32Array(taps * taps);
    for (let i = 0; i < taps; i++) order[i * taps + (taps - 1 - i)] = 1;
    return tf.reshape(tf.matMul(tf.tensor2d(order, [taps, taps]), tf.reshape(filter, [taps, a * b])), filter.shape) as tf.Tensor4D;
  });
}

/** dL/dW of a conv2d, [kh, kw, Ci, Co], for any stride / dilation / padding. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  return tf.tidy(() => {
    const xT = tf.transpose(readWindow(x, info), [3, 1, 2, 0]); // [Ci, needH, needW, N]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [oh, ow, N, Co] used as a filter
    const g = tf.conv2d(xT, dyT as tf.Tensor4D, [info.dilationHeight, info.dilationWidth], 'valid', 'NHWC', [
      info.strideHeight,
      info.strideWidth,
    ]); // [Ci, kh, kw, Co]
    return tf.transpose(g, [1, 2, 0, 3]);
  });
}

/** dL/dx of a conv2d, [N, H, W, Ci], for any stride / dilation / padding. */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  return tf.tidy(() => {
    const undilated = info.dilationHeight === 1 && info.dilationWidth === 1;
    // Every backend has Conv2DBackpropInput and it handles strides without materialising
    // zeros, but wasm's runs at a tenth of its forward convolution's speed (core:bench:
    // 4 vs 42 GFLOP/s at 2×64×64×64), so there the forward route wins even with zeros.
    if (undilated && tf.getBackend() !== 'wasm') {
      return tf.conv2dTranspose(dy, filter, [dy.shape[0], info.inHeight, info.inWidth, info.inChannels], [
        info.strideHeight,
        info.strideWidth,
      ], explicitPadding(info));
    }
    const flipped = tf.transpose(flipSpatial(filter), [0, 1, 3, 2]) as tf.Tensor4D; // [kh, kw, Co, Ci]
    return tf.conv2d(paddedForInputGrad(dy, info), flipped, 1, 'valid', 'NHWC', [
      info.dilationHeight,
      info.dilationWidth,
    ]);
  });
}

function explicitPadding(info: Conv2DInfo): tf.backend_util.ExplicitPadding {
  const p = info.padInfo;
  return [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
}

/** dL/dx of a depthwise conv2d with filter [kh, kw, C, M]: [N, H, W, C]. */
export function depthwiseInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, c, m] = filter.shape;
    const flipped = tf.reshape(flipSpatial(filter), [kh, kw, c * m, 1]) as tf.Tensor4D;
    const r = tf.depthwiseConv2d(paddedForInputGrad(dy, info), flipped, 1, 'valid', 'NHWC', [
      info.dilationHeight,
      info.dilationWidth,
    ]);
    if (m === 1) return r;
    const [n, h, w] = r.shape;
    return tf.sum(tf.reshape(r, [n, h, w, c, m]), 4) as tf.Tensor4D;
  });
}

/**
 * dL/dW of a depthwise conv2d: [kh, kw, C, M]. Batch and channels are folded into the
 * channel axis of a single depthwise correlation whose "filter" is the output gradient.
 */
export function depthwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, oh, ow] = dy.shape;
    const c = info.inChannels;
    const m = info.outChannels / c;
    const xw = readWindow(x, info);
    const [, hh, ww] = xw.shape;
    const xFolded = tf.reshape(tf.transpose(xw, [1, 2, 0, 3]), [1, hh, ww, n * c]) as tf.Tensor4D;
    const dyFolded = tf.reshape(tf.transpose(tf.reshape(dy, [n, oh, ow, c, m]), [1, 2, 0, 3, 4]), [
      oh,
      ow,
      n * c,
      m,
    ]) as tf.Tensor4D;
    const g = tf.depthwiseConv2d(xFolded, dyFolded, [info.dilationHeight, info.dilationWidth], 'valid', 'NHWC', [
      info.strideHeight,
      info.strideWidth,
    ]); // [1, kh, kw, n·c·m]
    return tf.sum(tf.reshape(g, [info.filterHeight, info.filterWidth, n, c, m]), 2) as tf.Tensor4D;
  });
}

function toNHWC<T extends tf.Tensor>(t: T, format: unknown): tf.Tensor4D {
  return (format === 'NCHW' ? tf.transpose(t, [0, 2, 3, 1]) : t) as tf.Tensor4D;
}

function fromNHWC(t: tf.Tensor4D, format: unknown): tf.Tensor4D {
  return format === 'NCHW' ? tf.transpose(t, [0, 3, 1, 2]) : t;
}

const conv2dGradConfig: tf.GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const fmt = attrs.dataFormat;
    const x4 = toNHWC(x, fmt);
    const dy4 = toNHWC(dy as tf.Tensor4D, fmt);
    const info = geometry(x4.shape, filter.shape, attrs, false);
    const dilated = info.dilationHeight > 1 || info.dilationWidth > 1;
    return {
      x: () => fromNHWC(conv2dInputGrad(dy4, filter, info), fmt),
      filter: () =>
        !dilated && hasKernel('Conv2DBackpropFilter') && tf.getBackend() !== 'cpu'
          ? (tf.engine().runKernel(
              'Conv2DBackpropFilter',
              { x: x4, dy: dy4 },
              { strides: attrs.strides, pad: attrs.pad, dataFormat: 'NHWC', dimRoundingMode: attrs.dimRoundingMode, filterShape: filter.shape },
            ) as tf.Tensor4D)
          : conv2dFilterGrad(x4, dy4, info),
    };
  },
};

const depthwiseGradConfig: tf.GradConfig = {
  kernelName: 'DepthwiseConv2dNative',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const info = geometry(x.shape, filter.shape, attrs, true);
    return {
      x: () => depthwiseInputGrad(dy as tf.Tensor4D, filter, info),
      filter: () => depthwiseFilterGrad(x, dy as tf.Tensor4D, info),
    };
  },
};

/**
 * y = (x − μ)·γ/σ + β with σ = √(var + ε), μ, var, γ, β broadcast over x (per channel in
 * tfjs-layers, whose training mode passes the batch's moments, so gradients reach x through
 * them as well). With g = γ/σ: dx = dy·g, dμ = −Σdy·g, dvar = −½·Σdy(x−μ)·g/σ², dγ = Σdy(x−μ)/σ,
 * dβ = Σdy, the sums over the broadcast axes. The tape runs each partial in a scope of its own
 * and frees what it made, so the two sums that two partials share are made beforehand.
 */
const batchNormGradConfig: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const g = dy as tf.Tensor;
    const [x, mean, variance, scale] = saved;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor) => tf.reshape(axes.length ? tf.sum(t, axes) : t, mean.shape);
    const rstd = tf.rsqrt(tf.add(variance, attrs.varianceEpsilon as number));
    const gain = scale == null ? rstd : tf.mul(rstd, scale);
    const dySum = reduce(g);
    const dyCentredSum = reduce(tf.mul(g, tf.sub(x, mean)));
    return {
      x: () => tf.mul(g, gain),
      mean: () => tf.neg(tf.mul(dySum, gain)),
      variance: () => tf.mul(dyCentredSum, tf.mul(gain, tf.mul(tf.square(rstd), -0.5))),
      scale: () => tf.mul(dyCentredSum, rstd),
      offset: () => tf.clone(dySum),
    };
  },
};

/**
 * AvgPool with 'same' padding averages over the in-image pixels of each window (padding is
 * not counted), but the stock AvgPoolGrad kernels divide by the full window size, so border
 * gradients were wrong on every backend. Here each output's gradient is divided by its own
 * count of in-image pixels and spread back over the window.
 */
const avgPoolGradConfig: tf.GradConfig = {
  kernelName: 'AvgPool',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x] = saved as [tf.Tensor4D];
    const size = attrs.filterSize as number | Pair;
    const [fh, fw] = typeof size === 'number' ? [size, size] : size;
    const c = x.shape[3];
    const strides = attrs.strides as number | Pair;
    const pad = attrs.pad as PadSpec;
    const rounding = attrs.dimRoundingMode as RoundingMode;
    return {
      x: () =>
        tf.tidy(() => {
          const count = tf.depthwiseConv2d(
            tf.ones([1, x.shape[1], x.shape[2], 1]) as tf.Tensor4D,
            tf.ones([fh, fw, 1, 1]) as tf.Tensor4D,
            strides,
            pad as 'same',
            'NHWC',
            1,
            rounding,
          );
          const info = tf.backend_util.computeConv2DInfo(x.shape, [fh, fw, c, 1], strides, 1, pad, rounding, true);
          return depthwiseInputGrad(tf.div(dy as tf.Tensor4D, count) as tf.Tensor4D, tf.ones([fh, fw, c, 1]) as tf.Tensor4D, info);
        }),
    };
  },
};

/**
 * Kernels whose output shape is wrong on some backend: tfjs-backend-cpu's ResizeBilinearGrad
 * declares its result as [batch, width, height, depth] while laying the data out as
 * [batch, height, width, depth]; non-square inputs then fail in backprop.
 */
function fixKernelShapes(): void {
  const key = 'ResizeBilinearGrad';
  for (const backend of KNOWN_BACKENDS) {
    const kernel = tf.getKernel(key, backend);
    if (!kernel || (kernel.kernelFunc as { gplShapeFix?: boolean }).gplShapeFix) continue;
    const original = kernel.kernelFunc;
    const fixed = ((args: Parameters<tf.KernelFunc>[0]) => {
      const out = original(args) as tf.TensorInfo;
      const images = args.inputs.images as tf.TensorInfo;
      if (out.shape.join() === images.shape.join()) return out;
      // Same element count, same layout: only the declared shape is wrong.
      return { ...out, shape: images.shape.slice() };
    }) as tf.KernelFunc & { gplShapeFix?: boolean };
    fixed.gplShapeFix = true;
    tf.unregisterKernel(key, backend);
    tf.registerKernel({ ...kernel, kernelFunc: fixed });
  }
}

interface WasmBackendLike {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/**
 * MaxPoolGrad (NHWC) routing each output gradient to the first maximum of its window in
 * row-major window order, as PyTorch's max_pool2d does; padded positions are never chosen.
 * Written in TypeScript on wasm's heap views: no tfjs op routes by argmax with that tie rule.
 */
export function firstMaxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  dx.fill(0);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        best.fill(-Infinity);
        at.fill(-1);
        for (let fy = 0; fy < fh; fy += dh) {
          const iy = y * sh - top + fy;
          if (iy < 0 || iy >= h) continue;
          for (let fx = 0; fx < fw; fx += dw) {
            const ix = xo * sw - left + fx;
            if (ix < 0 || ix >= w) continue;
            const base = ((b * h + iy) * w + ix) * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k];
              if (v > best[k]) {
                best[k] = v;
                at[k] = base + k;
              }
            }
          }
        }
        const out = ((b * oh + y) * ow + xo) * c;
        for (let k = 0; k < c; k++) if (at[k] >= 0) dx[at[k]] += dy[out + k];
      }
    }
  }
}

/** Replaces wasm's MaxPoolGrad (last-maximum ties) with firstMaxPoolGrad. */
function fixWasmMaxPoolTies(): void {
  const kernel = tf.getKernel('MaxPoolGrad', 'wasm');
  if (!kernel || (kernel.kernelFunc as { gplFirstMax?: boolean }).gplFirstMax) return;
  const fixed = (({ inputs, backend, attrs = {} }: Parameters<tf.KernelFunc>[0]) => {
    const wasm = backend as unknown as WasmBackendLike;
    const dy = inputs.dy as tf.TensorInfo;
    const input = inputs.input as tf.TensorInfo;
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      attrs.filterSize as number | [number, number],
      attrs.strides as number | [number, number],
      1,
      attrs.pad as 'valid' | 'same' | number,
      attrs.dimRoundingMode as RoundingMode,
    );
    const out = wasm.makeOutput(input.shape.slice(), 'float32');
    firstMaxPoolGrad(wasm.typedArrayFromHeap(input), wasm.typedArrayFromHeap(dy), wasm.typedArrayFromHeap(out), info);
    return out;
  }) as tf.KernelFunc & { gplFirstMax?: boolean };
  fixed.gplFirstMax = true;
  tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel({ ...kernel, kernelFunc: fixed });
}

/** Kernels some backends lack (wasm), written with ops that backend has. */
const substituteKernels: ReadonlyArray<{
  kernelName: string;
  kernelFunc: (args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }) => tf.Tensor;
}> = [
  {
    kernelName: 'Conv2DBackpropFilter',
    kernelFunc: ({ inputs, attrs = {} }) => {
      const x = inputs.x as unknown as tf.Tensor4D;
      const dy = inputs.dy as unknown as tf.Tensor4D;
      const x4 = toNHWC(x, attrs.dataFormat);
      const info = geometry(x4.shape, attrs.filterShape as number[], { ...attrs, dilations: 1 }, false);
      return conv2dFilterGrad(x4, toNHWC(dy, attrs.dataFormat), info);
    },
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    kernelFunc: ({ inputs, attrs = {} }) => {
      const dy = inputs.dy as unknown as tf.Tensor4D;
      const filter = inputs.filter as unknown as tf.Tensor4D;
      const info = geometry(attrs.inputShape as number[], filter.shape, attrs, true);
      return depthwiseInputGrad(dy, filter, info);
    },
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    kernelFunc: ({ inputs, attrs = {} }) => {
      const x = inputs.x as unknown as tf.Tensor4D;
      const dy = inputs.dy as unknown as tf.Tensor4D;
      const info = geometry(x.shape, attrs.filterShape as number[], attrs, true);
      return depthwiseFilterGrad(x, dy, info);
    },
  },
];

type FusedConvArgs = Parameters<typeof tf.fused.conv2d>[0];
type FusedDepthwiseArgs = Parameters<typeof tf.fused.depthwiseConv2d>[0];

function applyActivation(
  y: tf.Tensor4D,
  activation: string | undefined,
  prelu: tf.Tensor | tf.TensorLike | undefined,
  alpha: number | undefined,
): tf.Tensor4D {
  switch (activation ?? 'linear') {
    case 'linear':
      return y;
    case 'relu':
      return tf.relu(y);
    case 'relu6':
      return tf.relu6(y);
    case 'elu':
      return tf.elu(y);
    case 'sigmoid':
      return tf.sigmoid(y);
    case 'prelu':
      return tf.prelu(y, prelu as tf.Tensor) as tf.Tensor4D;
    case 'leakyrelu':
      return tf.leakyRelu(y, alpha ?? 0.2);
    default:
      throw new RangeError(`[@gpl/core] fused conv: unknown activation '${activation}'.`);
  }
}

interface FusedPatchState {
  conv2d: typeof tf.fused.conv2d;
  depthwiseConv2d: typeof tf.fused.depthwiseConv2d;
}

let originals: FusedPatchState | undefined;

function recording(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

/**
 * Routes `tf.fused.conv2d` / `tf.fused.depthwiseConv2d` through the unfused ops while a
 * gradient tape is recording (their built-in custom gradients are incomplete), and through
 * the fast fused kernels otherwise. Returns false if the fused namespace is read-only.
 */
function patchFusedOps(): boolean {
  const fused = tf.fused as unknown as Record<string, unknown>;
  if (originals) return true;
  const saved: FusedPatchState = { conv2d: tf.fused.conv2d, depthwiseConv2d: tf.fused.depthwiseConv2d };
  const conv2d = (args: FusedConvArgs): tf.Tensor => {
    if (!recording() || (args.dataFormat ?? 'NHWC') !== 'NHWC') return saved.conv2d(args);
    return tf.tidy(() => {
      let y = tf.conv2d(args.x as tf.Tensor4D, args.filter as tf.Tensor4D, args.strides, args.pad, 'NHWC', args.dilations, args.dimRoundingMode);
      if (args.bias != null) y = tf.add(y, args.bias);
      return applyActivation(y as tf.Tensor4D, args.activation, args.preluActivationWeights, args.leakyreluAlpha);
    });
  };
  const depthwiseConv2d = (args: FusedDepthwiseArgs): tf.Tensor => {
    if (!recording() || (args.dataFormat ?? 'NHWC') !== 'NHWC') return saved.depthwiseConv2d(args);
    return tf.tidy(() => {
      let y = tf.depthwiseConv2d(args.x as tf.Tensor4D, args.filter as tf.Tensor4D, args.strides, args.pad, 'NHWC', args.dilations, args.dimRoundingMode);
      if (args.bias != null) y = tf.add(y, args.bias);
      return applyActivation(y, args.activation, args.preluActivationWeights, args.leakyreluAlpha);
    });
  };
  try {
    fused.conv2d = conv2d;
    fused.depthwiseConv2d = depthwiseConv2d;
  } catch {
    return false;
  }
  if (tf.fused.conv2d !== conv2d) return false;
  originals = saved;
  return true;
}

export interface GradientCompletenessReport {
  /** Kernels registered as substitutes, as `backend/kernel`. */
  readonly substitutedKernels: readonly string[];
  /** Whether tf.fused conv ops were rerouted under gradient tapes (false for read-only ESM namespaces). */
  readonly fusedOpsPatched: boolean;
}

const KNOWN_BACKENDS = ['wasm', 'cpu', 'tensorflow', 'webgl', 'webgpu'];
const substituted = new Set<string>();

/**
 * Makes conv2d (any dilation, stride, padding), depthwise conv2d and their fused forms
 * differentiable on every registered backend. Idempotent; call again after registering a
 * backend package late. `initBackend` calls it.
 */
export function installGradientCompleteness(): GradientCompletenessReport {
  tf.registerGradient(conv2dGradConfig);
  tf.registerGradient(depthwiseGradConfig);
  tf.registerGradient(avgPoolGradConfig);
  tf.registerGradient(batchNormGradConfig);
  fixKernelShapes();
  fixWasmMaxPoolTies();
  for (const backend of KNOWN_BACKENDS) {
    if (tf.findBackendFactory(backend) == null) continue;
    for (const k of substituteKernels) {
      if (tf.getKernel(k.kernelName, backend) != null) continue;
      tf.registerKernel({
        kernelName: k.kernelName,
        backendName: backend,
        kernelFunc: k.kernelFunc as unknown as tf.KernelFunc,
      });
      substituted.add(`${backend}/${k.kernelName}`);
    }
  }
  return { substitutedKernels: [...substituted], fusedOpsPatched: patchFusedOps() };
}

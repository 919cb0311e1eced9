/**
 * Shared tfjs-layers building blocks for the backbones and heads: bilinear resizing to a fixed
 * size, PyTorch-style adaptive average pooling, the run-time input-size check of models built
 * for any size, and conv → BN → ReLU units with names that stay stable across builds (so
 * weights can be imported by name) and seeds derived from those names.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkInputSize } from './backbone';
import { Rng, deriveSeed } from './rng';

type Kwargs = Record<string, unknown>;
/** The base-layer options (name, trainable, …); tfjs-layers does not export the type. */
interface LayerArgs {
  readonly name?: string;
  readonly trainable?: boolean;
}

export interface ResizeBilinearArgs extends LayerArgs {
  /** Output [height, width]. */
  readonly size: [number, number];
  /** PyTorch `align_corners`. Default false. */
  readonly alignCorners?: boolean;
}

/** Resizes NHWC features to a fixed [height, width] with bilinear interpolation. */
export class ResizeBilinear extends tfl.layers.Layer {
  static readonly className = 'GplResizeBilinear';
  readonly size: [number, number];
  readonly alignCorners: boolean;

  constructor(args: ResizeBilinearArgs) {
    super(args);
    if (!Array.isArray(args.size) || args.size.length !== 2 || !args.size.every((v) => Number.isInteger(v) && v > 0)) {
      throw new RangeError(`[@gpl/core] ResizeBilinear: size must be [height, width] of positive integers, received ${JSON.stringify(args.size)}.`);
    }
    this.size = [args.size[0], args.size[1]];
    this.alignCorners = args.alignCorners ?? false;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [s[0], this.size[0], this.size[1], s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      if (x.shape[1] === this.size[0] && x.shape[2] === this.size[1]) return tf.clone(x);
      return tf.image.resizeBilinear(x, this.size, this.alignCorners);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: this.size, alignCorners: this.alignCorners };
  }
}
tf.serialization.registerClass(ResizeBilinear);

export interface AdaptiveAvgPoolArgs extends LayerArgs {
  /** Output bins [rows, cols] (PSPNet uses 1, 2, 3, 6). */
  readonly bins: [number, number];
}

/**
 * PyTorch's AdaptiveAvgPool2d: output cell (i, j) averages rows floor(i·H/b) … ceil((i+1)·H/b)−1
 * (and likewise columns), so cells may overlap when b does not divide H.
 */
export class AdaptiveAvgPool2D extends tfl.layers.Layer {
  static readonly className = 'GplAdaptiveAvgPool2D';
  readonly bins: [number, number];

  constructor(args: AdaptiveAvgPoolArgs) {
    super(args);
    this.bins = [args.bins[0], args.bins[1]];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [s[0], this.bins[0], this.bins[1], s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [, h, w] = x.shape;
      const [bh, bw] = this.bins;
      if (h % bh === 0 && w % bw === 0) {
        // Equal cells: one pooling kernel is exact and much cheaper than slicing.
        return tf.avgPool(x, [h / bh, w / bw], [h / bh, w / bw], 'valid');
      }
      const rows: tf.Tensor[] = [];
      for (let i = 0; i < bh; i++) {
        const r0 = Math.floor((i * h) / bh);
        const r1 = Math.ceil(((i + 1) * h) / bh);
        const cells: tf.Tensor[] = [];
        for (let j = 0; j < bw; j++) {
          const c0 = Math.floor((j * w) / bw);
          const c1 = Math.ceil(((j + 1) * w) / bw);
          cells.push(tf.mean(tf.slice(x, [0, r0, c0, 0], [-1, r1 - r0, c1 - c0, -1]), [1, 2], true));
        }
        rows.push(tf.concat(cells, 2));
      }
      return tf.concat(rows, 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), bins: this.bins };
  }
}
tf.serialization.registerClass(AdaptiveAvgPool2D);

export interface InputSizeCheckArgs extends LayerArgs {
  /** Height and width must be multiples of this (the encoder's `sizeDivisor`). */
  readonly divisor: number;
  /** The package the error names, e.g. '@gpl/resnet'. Default '@gpl/core'. */
  readonly packageName?: string;
}

/**
 * Identity on the image [N, H, W, C] that throws a RangeError naming the nearest valid size
 * when H or W is not a multiple of `divisor`. Sizes known when a model is built are checked
 * then (`checkInputSize`); this layer catches the rest when a model built for any size runs.
 */
export class InputSizeCheck extends tfl.layers.Layer {
  static readonly className = 'GplInputSizeCheck';
  readonly divisor: number;
  readonly packageName: string;

  constructor(args: InputSizeCheckArgs) {
    super(args);
    if (!Number.isInteger(args.divisor) || args.divisor < 1) {
      throw new RangeError(`[@gpl/core] InputSizeCheck: divisor must be a positive integer, received ${JSON.stringify(args.divisor)}.`);
    }
    this.divisor = args.divisor;
    this.packageName = args.packageName ?? '@gpl/core';
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    checkInputSize(this.packageName, x.shape[1], x.shape[2], this.divisor);
    // A new handle on the same data (no copy): a layer must not return its input tensor,
    // which the model executor would otherwise treat as an intermediate and dispose.
    return tf.clone(x);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), divisor: this.divisor, packageName: this.packageName };
  }
}
tf.serialization.registerClass(InputSizeCheck);

/**
 * Seed of one layer, from the model seed and the layer name: independent of build order, so
 * adding a layer elsewhere does not change the initialisation of this one.
 */
export function layerSeed(seed: number, name: string): number {
  return deriveSeed(new Rng(seed).fork(name));
}

/** Options of one convolution unit. */
export interface ConvUnitOptions {
  /** Stable layer-name prefix, e.g. 'layer1.0.conv1' (the weights import by these names). */
  readonly name: string;
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides?: number;
  readonly dilation?: number;
  /** Append BatchNorm (default true). */
  readonly bn?: boolean;
  /** Append ReLU (default true). */
  readonly relu?: boolean;
  /** Use a bias in the convolution (default: only when there is no BN). */
  readonly bias?: boolean;
  /** Depthwise-separable: depthwise k×k then pointwise 1×1 (DeepLabV3+ variants). */
  readonly separable?: boolean;
  /** Seed for He-normal initialisation (PyTorch's kaiming_normal_, fan_out). */
  readonly seed: number;
  /** BatchNorm momentum in Keras convention (PyTorch momentum 0.1 ⇒ 0.9). */
  readonly bnMomentum?: number;
}

/**
 * conv → BN → ReLU. Padding is explicit and symmetric, as in PyTorch: (k−1)/2·dilation on each
 * side, so strided convolutions read the same pixels as the reference implementations
 * (TensorFlow 'same' pads strided convolutions asymmetrically).
 */
export function convUnit(x: tfl.SymbolicTensor, o: ConvUnitOptions): tfl.SymbolicTensor {
  const strides = o.strides ?? 1;
  const dilation = o.dilation ?? 1;
  const pad = ((o.kernelSize - 1) / 2) * dilation;
  const useBn = o.bn ?? true;
  const init = tfl.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'normal', seed: o.seed });
  let y = x;
  if (pad > 0 && (strides > 1 || !Number.isInteger(pad))) {
    y = tfl.layers.zeroPadding2d({ padding: [[Math.floor(pad), Math.ceil(pad)], [Math.floor(pad), Math.ceil(pad)]], name: `${o.name}.pad` }).apply(y) as tfl.SymbolicTensor;
  }
  const padding = pad > 0 && strides === 1 && Number.isInteger(pad) ? 'same' : 'valid';
  if (o.separable) {
    y = tfl.layers
      .depthwiseConv2d({
        kernelSize: o.kernelSize, strides, dilationRate: dilation, padding, useBias: false,
        depthwiseInitializer: init, name: `${o.name}.depthwise`,
      })
      .apply(y) as tfl.SymbolicTensor;
    if (useBn) y = tfl.layers.batchNormalization({ momentum: o.bnMomentum ?? 0.9, epsilon: 1e-5, name: `${o.name}.depthwise_bn` }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.reLU({ name: `${o.name}.depthwise_relu` }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers
      .conv2d({ filters: o.filters, kernelSize: 1, useBias: o.bias ?? !useBn, kernelInitializer: init, name: `${o.name}.pointwise` })
      .apply(y) as tfl.SymbolicTensor;
  } else {
    y = tfl.layers
      .conv2d({
        filters: o.filters, kernelSize: o.kernelSize, strides, dilationRate: dilation, padding,
        useBias: o.bias ?? !useBn, kernelInitializer: init, name: o.name,
      })
      .apply(y) as tfl.SymbolicTensor;
  }
  if (useBn) y = tfl.layers.batchNormalization({ momentum: o.bnMomentum ?? 0.9, epsilon: 1e-5, name: `${o.name}.bn` }).apply(y) as tfl.SymbolicTensor;
  if (o.relu ?? true) y = tfl.layers.reLU({ name: `${o.name}.relu` }).apply(y) as tfl.SymbolicTensor;
  return y;
}

/** A residual join: the terms summed (`<name>.add`), then ReLU (`<name>.relu`). Shapes must be equal. */
export function addRelu(terms: tfl.SymbolicTensor[], name: string): tfl.SymbolicTensor {
  const sum = tfl.layers.add({ name: `${name}.add` }).apply(terms) as tfl.SymbolicTensor;
  return tfl.layers.reLU({ name: `${name}.relu` }).apply(sum) as tfl.SymbolicTensor;
}

/** Channels after a width multiplier: at least 8, rounded to a multiple of 8 (as MobileNets do). */
export function scaleWidth(channels: number, multiplier: number): number {
  if (!(multiplier > 0)) throw new RangeError(`[@gpl/core] scaleWidth: width multiplier must be > 0, received ${multiplier}.`);
  if (multiplier === 1) return channels;
  return Math.max(8, Math.round((channels * multiplier) / 8) * 8);
}

/**
 * The three layers CondInst needs that tfjs-layers lacks: GroupNorm (the FCOS towers' norm,
 * PyTorch `nn.GroupNorm`: statistics per sample and group of channels, ε 1e-5, per-channel affine),
 * FCOS's learnable per-level `Scale`, and aligned bilinear upsampling (see `alignedBilinear`).
 * All three serialise, so checkpoints of the model load back.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { alignedBilinear } from './dynamic-head';

type Kwargs = Record<string, unknown>;
interface LayerArgs {
  readonly name?: string;
  readonly trainable?: boolean;
}

const single = (inputs: tf.Tensor | tf.Tensor[]) => (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
const shapeOf = (s: tfl.Shape | tfl.Shape[]) => (Array.isArray(s[0]) ? s[0] : s) as tfl.Shape;

export interface GroupNormArgs extends LayerArgs {
  readonly groups: number;
  readonly epsilon?: number;
}

/** Group normalisation of NHWC features; the channel count must be a multiple of `groups`. */
export class GroupNorm extends tfl.layers.Layer {
  static readonly className = 'GplGroupNorm';
  readonly groups: number;
  readonly epsilon: number;
  private gamma?: tfl.LayerVariable;
  private beta?: tfl.LayerVariable;

  constructor(args: GroupNormArgs) {
    super(args);
    if (!Number.isInteger(args.groups) || args.groups < 1) throw new RangeError(`[@gpl/condinst] GroupNorm: groups must be a positive integer, received ${args.groups}.`);
    this.groups = args.groups;
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const c = shapeOf(inputShape)[3] as number;
    if (c % this.groups !== 0) throw new RangeError(`[@gpl/condinst] GroupNorm ${this.name}: ${c} channels are not a multiple of ${this.groups} groups.`);
    this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const [n, h, w, c] = x.shape;
      const g = tf.reshape(x, [n, h, w, this.groups, c / this.groups]);
      const { mean, variance } = tf.moments(g, [1, 2, 4], true);
      const y = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, this.epsilon))), [n, h, w, c]);
      return tf.add(tf.mul(y, this.gamma!.read()), this.beta!.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(GroupNorm);

/** Groups for `channels`: 32 (detectron2's GN default) or the largest divisor of both. */
export function groupsFor(channels: number, preferred = 32): number {
  let g = Math.min(preferred, channels);
  while (channels % g !== 0 || preferred % g !== 0) g--;
  return g;
}

/** x · s with one learnable scalar s (initialised to 1): FCOS's per-level regression scale. */
export class Scale extends tfl.layers.Layer {
  static readonly className = 'GplScale';
  private scale?: tfl.LayerVariable;

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override build(): void {
    this.scale = this.addWeight('scale', [], 'float32', tfl.initializers.ones());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => tf.mul(single(inputs), this.scale!.read()));
  }
}
tf.serialization.registerClass(Scale);

export interface AlignedUpsampleArgs extends LayerArgs {
  readonly factor: number;
}

/** `alignedBilinear` as a layer. */
export class AlignedUpsample extends tfl.layers.Layer {
  static readonly className = 'GplAlignedUpsample';
  readonly factor: number;

  constructor(args: AlignedUpsampleArgs) {
    super(args);
    this.factor = args.factor;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = shapeOf(inputShape);
    const up = (v: number | null) => (v === null ? null : v * this.factor);
    return [s[0], up(s[1]), up(s[2]), s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return alignedBilinear(single(inputs), this.factor);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
  }
}
tf.serialization.registerClass(AlignedUpsample);

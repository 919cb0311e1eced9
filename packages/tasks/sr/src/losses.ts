/**
 * The objectives of the three SR variants: the pixel loss (L1, as BasicSR's MSRResNet recipe), and
 * pixel + λ·perceptual through a frozen VGG, either random (the paper's generic perceptual loss,
 * He-style init, through `@gpl/engine`'s perceptual option) or with torchvision's ImageNet weights.
 *
 * The pretrained network is given its RGB input directly: `@gpl/loss`'s `pretrained` mode with
 * `rgbInput` (no 1×1 adapter from the task's channels, which would scramble the colours the
 * ImageNet filters expect), and both images are normalised with ImageNet's mean and std first, as
 * torchvision's models expect. The random network sees [0, 1] RGB, as
 * the generic perceptual loss sees a task's raw output.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createPerceptualLoss, perceptualOption, type PerceptualFlags } from '@gpl/engine';
import { GenericPerceptualLoss, PRETRAINED_PRESETS, type Preset, type StateDict } from '@gpl/loss';
import type { LossTerms } from '@gpl/engine';

/** The variants of the pilot, in table order. */
export const SR_VARIANTS = ['pixel', 'random-vgg', 'pretrained-vgg'] as const;
export type SrVariant = (typeof SR_VARIANTS)[number];

/** The pixel loss: mean |sr − hr| over pixels and channels (BasicSR's L1Loss, reduction mean). */
export function l1Loss(sr: tf.Tensor4D, hr: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(sr, hr))));
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** (x − mean) / std per RGB channel, for torchvision's ImageNet networks; x in [0, 1]. */
export function imagenetNormalize(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d(IMAGENET_MEAN)), tf.tensor1d(IMAGENET_STD)));
}

/** A variant's frozen loss network and how its inputs are prepared. */
export interface PerceptualTerm {
  readonly network: GenericPerceptualLoss;
  readonly lambda: number;
  /** Whether the images are ImageNet-normalised first (pretrained networks). */
  readonly imagenet: boolean;
}

/**
 * The perceptual term of a variant: none for 'pixel'; the random network of `flags` (without
 * weights) for 'random-vgg'; torchvision's weights from `dict` for 'pretrained-vgg'.
 */
export function createPerceptualTerm(variant: SrVariant, flags: PerceptualFlags, seed: number, dict?: StateDict): PerceptualTerm | undefined {
  if (variant === 'pixel') return undefined;
  const option = perceptualOption({ ...flags, percepPretrained: '' }, 'sr');
  if (!option) return undefined;
  if (variant === 'random-vgg') return { network: createPerceptualLoss(option, 3, seed)!, lambda: option.lambda, imagenet: false };
  if (!dict) throw new RangeError("[sr] variant 'pretrained-vgg' needs the torchvision weights (--percep-pretrained).");
  if (!('preset' in option.network) || !PRETRAINED_PRESETS.includes(option.network.preset as Preset)) {
    throw new RangeError(`[sr] option 'percep': the pretrained variant takes a network with torchvision weights (${PRETRAINED_PRESETS.join(', ')}), received '${flags.percep}'.`);
  }
  const preset = option.network.preset as Preset;
  try {
    const network = new GenericPerceptualLoss({ inChannels: 3, preset, pretrained: dict, rgbInput: true, kernelSize: 3, init: option.init, levels: option.levels, engine: option.engine, seed });
    return { network, lambda: option.lambda, imagenet: true };
  } catch (e) {
    // @gpl/loss names the key and shape; the user needs to know which option it concerns.
    throw new RangeError(`[sr] option 'percepPretrained': ${(e as Error).message.replace(/^\[@gpl\/loss\] (pretrained: )?/, '')}`);
  }
}

/** The loss of one step: `loss_pix` and, with a perceptual term, `loss_percep` (unweighted). */
export function srLoss(sr: tf.Tensor4D, hr: tf.Tensor4D, percep?: PerceptualTerm): LossTerms {
  const pix = l1Loss(sr, hr);
  if (!percep) return { total: pix, terms: { loss_pix: pix } };
  const p = percep.imagenet
    ? tf.tidy(() => percep.network.compute(imagenetNormalize(sr), imagenetNormalize(hr)))
    : percep.network.compute(sr, hr);
  const total = tf.tidy(() => tf.add(pix, tf.mul(p, percep.lambda)) as tf.Scalar);
  return { total, terms: { loss_pix: pix, loss_percep: p } };
}

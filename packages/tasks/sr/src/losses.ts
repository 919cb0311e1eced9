/**
 * The objectives of the three SR variants: the pixel loss (L1, as BasicSR's MSRResNet recipe), and
 * pixel + λ·perceptual through a frozen VGG, either random (the paper's generic perceptual loss,
 * He-style init, through `@gpl/engine`'s perceptual option) or with torchvision's ImageNet weights.
 *
 * The pretrained network is given its RGB input directly. `@gpl/loss`'s `pretrained` mode puts a
 * frozen random 1×1 adapter from the task's channels to RGB in front of the network — right for
 * class maps, but for an RGB prediction it would scramble the colours the ImageNet filters expect.
 * So the torchvision kernels are converted here and passed as the VGG structure's explicit
 * `weights` (no adapter when inChannels is 3), and both images are normalised with ImageNet's
 * mean and std first, as torchvision's models expect. The random network sees [0, 1] RGB, as
 * the generic perceptual loss sees a task's raw output.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createPerceptualLoss, perceptualOption, type PerceptualFlags } from '@gpl/engine';
import { GenericPerceptualLoss, VGG_PRESETS, type StateDict, type VggPreset } from '@gpl/loss';
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

/**
 * torchvision VGG kernels of `preset` (`features.<i>.weight` [O, I, 3, 3], `features.<i>.bias`)
 * as `@gpl/loss`'s explicit VGG weights (HWIO kernels, biases), in convolution order. The caller
 * disposes the tensors once the loss network has copied them.
 */
export function torchvisionVggWeights(dict: StateDict, preset: VggPreset): { kernel: tf.Tensor4D; bias: tf.Tensor1D }[] {
  const prefix = ['', 'module.'].find((p) => dict.has(`${p}features.0.weight`));
  if (prefix === undefined) {
    const first = [...dict.keys()].slice(0, 3).join(', ');
    throw new RangeError(`[sr] option 'percepPretrained': the file has no 'features.0.weight' (its keys begin ${first || '(none)'}); expected torchvision's ${preset} state dict.`);
  }
  if (dict.has(`${prefix}features.1.running_mean`)) {
    throw new RangeError(`[sr] option 'percepPretrained': this is torchvision's ${preset}_bn (batch norm after each convolution); supply the plain ${preset} weights.`);
  }
  const out: { kernel: tf.Tensor4D; bias: tf.Tensor1D }[] = [];
  let index = 0;
  let cin = 3;
  try {
    VGG_PRESETS[preset].forEach((convs, block) => {
      const cout = [64, 128, 256, 512, 512][Math.min(block, 4)];
      for (let k = 0; k < convs; k++) {
        const w = dict.get(`${prefix}features.${index}.weight`);
        const b = dict.get(`${prefix}features.${index}.bias`);
        const expected = [cout, cin, 3, 3];
        if (!w || w.shape.join() !== expected.join() || !b || b.shape.join() !== String(cout)) {
          throw new RangeError(
            `[sr] option 'percepPretrained': features.${index} should be weight [${expected}] and bias [${cout}] in torchvision's ${preset}, ` +
              `the file has ${w ? `[${w.shape}]` : 'no weight'} and ${b ? `[${b.shape}]` : 'no bias'}; is it another network?`,
          );
        }
        const hwio = new Float32Array(9 * cin * cout);
        for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) for (let t = 0; t < 9; t++) hwio[(t * cin + c) * cout + o] = w.data[(o * cin + c) * 9 + t];
        out.push({ kernel: tf.tensor4d(hwio, [3, 3, cin, cout]), bias: tf.tensor1d(b.data) });
        cin = cout;
        index += 2; // conv, ReLU
      }
      index += 1; // MaxPool
    });
  } catch (e) {
    tf.dispose(out.flatMap((w) => [w.kernel, w.bias]));
    throw e;
  }
  return out;
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
  if (!('preset' in option.network) || !(option.network.preset in VGG_PRESETS)) {
    throw new RangeError(`[sr] option 'percep': the pretrained variant takes a VGG preset (${Object.keys(VGG_PRESETS).join(', ')}), received '${flags.percep}'.`);
  }
  const preset = option.network.preset as VggPreset;
  const weights = torchvisionVggWeights(dict, preset);
  try {
    const network = new GenericPerceptualLoss({ inChannels: 3, preset, weights, kernelSize: 3, levels: option.levels, engine: option.engine, seed });
    return { network, lambda: option.lambda, imagenet: true };
  } finally {
    tf.dispose(weights.flatMap((w) => [w.kernel, w.bias]));
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

/**
 * The CondInst training loss of one batch (AdelaiDet `FCOSOutputs.losses` + `CondInst._forward_mask_heads_train`):
 *
 *   focal(classes) / #pos + GIoU(boxes; weights = centre-ness targets) / Σ centre-ness targets
 *   + BCE(centre-ness) / #pos + dice(masks) [+ λ · GPL(mask probabilities, teacher's)]
 *
 * Targets are assigned on the CPU (`assignFcosTargets`); at most `maxProposals` positive
 * locations of the batch are drawn at random for the mask head (`MAX_PROPOSALS` 500), with
 * `Math.random`, which the engine seeds and checkpoints during a step, so resumed runs draw the
 * same. The mask logits of each drawn location come from its own controller parameters on its
 * image's mask features, upsampled to stride 4, against the ground-truth mask sampled at stride 4.
 *
 * The perceptual term compares the n × H/4 × W/4 × 1 mask probabilities with a teacher's for
 * the same instances — the teacher's controller output at the same image, location and level,
 * on the teacher's own mask features (REFERENCE.md §7) — through a one-channel loss network;
 * without a teacher, with the ground-truth masks at stride 4.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Instance } from '@gpl/data';
import type { GenericPerceptualLoss } from '@gpl/loss';
import { RELATIVE_COORD_SCALES, alignedBilinear, dynamicMaskLogits, type InstanceSites } from './dynamic-head';
import { gatherRows } from './gather';
import { assignFcosTargets, fcosLevels, fcosLocations, strideMask, type FcosTargets } from './fcos-targets';
import { centernessLoss, diceLoss, giouLoss, sigmoidFocalLoss } from './losses';
import { HEAD_EXTRA, MASK_FEATURE_STRIDE, MASK_OUT_STRIDE, condInstOutputs } from './model';

/** Options of {@link condInstLoss}. */
export interface CondInstLossOptions {
  readonly numClasses: number;
  /** Positive locations drawn for the mask head per batch (AdelaiDet `MAX_PROPOSALS`, 500). */
  readonly maxProposals: number;
  /** Centre-sampling radius in strides (1.5). */
  readonly radius: number;
  /**
   * The perceptual loss on mask probabilities, with the teacher that supplies the targets; without
   * a teacher the target is the ground-truth mask at stride 4.
   */
  readonly perceptual?: { readonly gpl: GenericPerceptualLoss; readonly lambda: number; readonly teacher?: tfl.LayersModel };
}

/** The loss and its named terms (metrics.csv columns). */
export interface CondInstLoss {
  readonly total: tf.Scalar;
  readonly terms: Record<string, tf.Scalar>;
  /** Positive locations of the batch, and how many of them fed the mask head. */
  readonly positives: number;
  readonly drawn: number;
}

/** Row-major [N·L, D] view of the per-level head outputs, images outer, levels then cells inner. */
function flattenHeads(levels: tf.Tensor4D[]): tf.Tensor2D {
  const n = levels[0].shape[0];
  const perImage = levels.map((l) => tf.reshape(l, [n, l.shape[1] * l.shape[2], l.shape[3]]));
  return tf.reshape(tf.concat(perImage, 1), [-1, levels[0].shape[3]]) as tf.Tensor2D;
}

/** `count` distinct entries of `from`, drawn uniformly (a partial Fisher–Yates shuffle on Math.random). */
export function drawWithoutReplacement(from: readonly number[], count: number): number[] {
  const a = [...from];
  const k = Math.min(count, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(Math.random() * (a.length - i));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, k);
}

/** Mask probabilities `[n, H/4, W/4, 1]` of instances from a model's parameters and mask features. */
function maskProbs(flat: tf.Tensor2D, maskFeatures: tf.Tensor4D, rows: number[], sites: InstanceSites, numClasses: number): tf.Tensor4D {
  const params = tf.slice(gatherRows(flat, rows), [0, numClasses + 5], [-1, HEAD_EXTRA - 5]) as tf.Tensor2D;
  const logits = dynamicMaskLogits(maskFeatures, params, sites, MASK_FEATURE_STRIDE);
  return tf.sigmoid(alignedBilinear(tf.expandDims(logits, 3) as tf.Tensor4D, MASK_FEATURE_STRIDE / MASK_OUT_STRIDE));
}

/** The batch's loss (call under the gradient tape, e.g. from the engine's `sgdStep`). */
export function condInstLoss(model: tfl.LayersModel, images: tf.Tensor4D, instances: readonly (readonly Instance[])[], o: CondInstLossOptions): CondInstLoss {
  const [n, height, width] = images.shape;
  if (instances.length !== n) throw new RangeError(`[@gpl/condinst] loss: ${n} images but instances for ${instances.length}.`);
  const { levels: heads, maskFeatures } = condInstOutputs(model.apply(images, { training: true }) as tf.Tensor[]);
  const levels = fcosLevels(height, width);
  heads.forEach((h, l) => {
    if (h.shape[1] !== levels[l].height || h.shape[2] !== levels[l].width) {
      throw new RangeError(`[@gpl/condinst] loss: level P${l + 3} is ${h.shape[1]}×${h.shape[2]}, expected ${levels[l].height}×${levels[l].width} for a ${height}×${width} input.`);
    }
  });
  const C = o.numClasses;
  const targets: FcosTargets[] = instances.map((list) => assignFcosTargets(list, levels, { numClasses: C, radius: o.radius, maskSize: { height, width } }));
  const L = targets[0].labels.length;
  const flat = flattenHeads(heads);

  // Classification: one-hot targets, background rows all zero.
  const onehot = new Float32Array(n * L * C);
  const pos: number[] = [];
  targets.forEach((t, b) => {
    for (let k = 0; k < L; k++) {
      if (t.labels[k] < C) {
        onehot[(b * L + k) * C + t.labels[k]] = 1;
        pos.push(b * L + k);
      }
    }
  });
  const numPos = Math.max(pos.length, 1);
  const logits = tf.slice(flat, [0, 0], [-1, C]);
  const lossCls = tf.div(sigmoidFocalLoss(logits, tf.tensor2d(onehot, [n * L, C])), numPos) as tf.Scalar;

  let lossLoc: tf.Scalar;
  let lossCtr: tf.Scalar;
  if (pos.length === 0) {
    // No positives: zero terms that still depend on the predictions (AdelaiDet's `.sum() * 0`).
    lossLoc = tf.mul(tf.sum(tf.slice(flat, [0, C], [-1, 4])), 0) as tf.Scalar;
    lossCtr = tf.mul(tf.sum(tf.slice(flat, [0, C + 4], [-1, 1])), 0) as tf.Scalar;
  } else {
    const regT = new Float32Array(4 * pos.length);
    const ctrT = new Float32Array(pos.length);
    pos.forEach((row, i) => {
      const t = targets[Math.floor(row / L)];
      const k = row % L;
      regT.set(t.regression.subarray(4 * k, 4 * k + 4), 4 * i);
      ctrT[i] = t.centerness[k];
    });
    const rows = gatherRows(flat, pos);
    const ctrTargets = tf.tensor1d(ctrT);
    const ctrSum = Math.max(ctrT.reduce((a, b) => a + b, 0), 1e-6);
    lossLoc = tf.div(giouLoss(tf.slice(rows, [0, C], [-1, 4]) as tf.Tensor2D, tf.tensor2d(regT, [pos.length, 4]), ctrTargets), ctrSum) as tf.Scalar;
    lossCtr = tf.div(centernessLoss(tf.reshape(tf.slice(rows, [0, C + 4], [-1, 1]), [-1]) as tf.Tensor1D, ctrTargets), numPos) as tf.Scalar;
  }

  // Masks of up to maxProposals drawn positives.
  const drawn = drawWithoutReplacement(pos, o.maxProposals);
  const terms: Record<string, tf.Scalar> = { loss_fcos_cls: lossCls, loss_fcos_loc: lossLoc, loss_fcos_ctr: lossCtr };
  if (drawn.length === 0) {
    terms.loss_mask = tf.mul(tf.add(tf.sum(maskFeatures), tf.sum(tf.slice(flat, [0, C + 5], [-1, HEAD_EXTRA - 5]))), 0) as tf.Scalar;
    if (o.perceptual) terms.loss_gpl = tf.scalar(0);
  } else {
    const locations = fcosLocations(levels);
    const sites: InstanceSites = {
      image: Int32Array.from(drawn, (row) => Math.floor(row / L)),
      location: Float32Array.from(drawn.flatMap((row) => [locations[2 * (row % L)], locations[2 * (row % L) + 1]])),
      sizeOfInterest: Float32Array.from(drawn, (row) => RELATIVE_COORD_SCALES[targets[Math.floor(row / L)].level[row % L]]),
    };
    const probs = maskProbs(flat, maskFeatures, drawn, sites, C);
    const [mh, mw] = [probs.shape[1], probs.shape[2]];
    const gt = new Float32Array(drawn.length * mh * mw);
    drawn.forEach((row, i) => {
      const t = targets[Math.floor(row / L)];
      const inst = t.instances[t.instance[row % L]];
      gt.set(strideMask(inst.mask!, height, width, MASK_OUT_STRIDE), i * mh * mw);
    });
    const gtMasks = tf.tensor4d(gt, [drawn.length, mh, mw, 1]);
    terms.loss_mask = diceLoss(probs, gtMasks);
    if (o.perceptual) {
      const { gpl, teacher } = o.perceptual;
      const target = teacher
        ? tf.tidy(() => {
            const t = condInstOutputs(teacher.apply(images, { training: false }) as tf.Tensor[]);
            return maskProbs(flattenHeads(t.levels), t.maskFeatures, drawn, sites, C);
          })
        : gtMasks;
      terms.loss_gpl = gpl.compute(probs, target);
    }
  }
  let total = tf.addN([terms.loss_fcos_cls, terms.loss_fcos_loc, terms.loss_fcos_ctr, terms.loss_mask]) as tf.Scalar;
  if (o.perceptual && terms.loss_gpl) total = tf.add(total, tf.mul(terms.loss_gpl, o.perceptual.lambda)) as tf.Scalar;
  return { total, terms, positives: pos.length, drawn: drawn.length };
}

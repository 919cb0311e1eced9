/**
 * The depth objective (paper Sec. 3.1 / 4.2.2, Table 7): weighted cross-entropy over log-depth
 * bins, optionally + w_vnl·virtual normal loss, optionally + λ·GPL on the decoded depth map.
 *
 * Deviation from VNL (REFERENCE.md §5, "mixed units trap"): VNL clamps raw depth 0 (no Kinect
 * return) to 0.01 in place, so such pixels become bin-0 targets of the WCE, count in its
 * denominator and enter the VNL loss as points 0.1 m from the camera. Here every pixel with
 * ground truth ≤ 0 (no measurement or augmentation padding) is masked out of all three terms.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RandomSource } from '@gpl/data';
import type { DepthBins } from './bins';
import { virtualNormalLoss, type FocalLengths, type VirtualNormalOptions } from './vnl';

/** What GPL's one-channel loss network sees of a depth map. */
export const GPL_INPUTS = ['metric', 'log', 'normalised'] as const;
export type GplInput = (typeof GPL_INPUTS)[number];

/**
 * Per-pixel WCE −Σᵢ W[g][i]·log softmaxᵢ [N, H, W] (W: the bins' normalised soft targets), and
 * the validity mask. Math only; `weightedCrossEntropy` reduces.
 */
function perPixelWce(logits: tf.Tensor4D, bins: tf.Tensor3D, softTargets: tf.Tensor2D): tf.Tensor3D {
  const target = tf.gather(softTargets, bins) as unknown as tf.Tensor4D;
  return tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 3)) as tf.Tensor3D;
}

/**
 * Weighted cross-entropy averaged over valid pixels (VNL `WCEL_Loss`, with invalid pixels
 * masked instead of clamped; see the file comment).
 * @param logits [N, H, W, count] bin scores.
 * @param bins [N, H, W] int32 ground-truth bins; `valid` [N, H, W] 1 where ground truth exists.
 * @param softTargets [count, count] rows summing to 1 (`DepthBins.softTargets`).
 */
export function weightedCrossEntropy(logits: tf.Tensor4D, bins: tf.Tensor3D, valid: tf.Tensor3D, softTargets: tf.Tensor2D): tf.Scalar {
  if (logits.rank !== 4 || bins.rank !== 3 || logits.shape.slice(0, 3).join() !== bins.shape.join() || valid.shape.join() !== bins.shape.join()) {
    throw new RangeError(`[depth] weightedCrossEntropy: logits [${logits.shape}], bins [${bins.shape}] and valid [${valid.shape}] must be [N,H,W,K], [N,H,W], [N,H,W].`);
  }
  if (softTargets.shape[0] !== logits.shape[3] || softTargets.shape[1] !== logits.shape[3]) {
    throw new RangeError(`[depth] weightedCrossEntropy: soft targets [${softTargets.shape}] do not match ${logits.shape[3]} bins.`);
  }
  return tf.tidy(() => {
    const perPixel = perPixelWce(logits, bins, softTargets);
    // max(1, count): a crop without any valid pixel contributes 0, not NaN.
    return tf.div(tf.sum(tf.mul(perPixel, valid)), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}

/**
 * The depth map GPL compares, with invalid pixels set to 0 (the loss network also multiplies by
 * the mask): 'metric' = depth in VNL units (metres / 10, the paper feeds depth maps directly);
 * 'log' = log10 of it (shifted by +2 so that 0.1 m maps to 0 and the range stays positive);
 * 'normalised' = each map divided by its own mean over the valid pixels (scale-free structure).
 */
export function gplRepresentation(depth: tf.Tensor4D, valid: tf.Tensor4D, input: GplInput): tf.Tensor4D {
  return tf.tidy(() => {
    if (input === 'metric') return tf.mul(depth, valid) as tf.Tensor4D;
    if (input === 'log') return tf.mul(tf.add(tf.div(tf.log(tf.maximum(depth, 1e-3)), Math.LN10), 2), valid) as tf.Tensor4D;
    const count = tf.maximum(tf.sum(valid, [1, 2, 3], true), 1);
    const mean = tf.div(tf.sum(tf.mul(depth, valid), [1, 2, 3], true), count);
    return tf.mul(tf.div(depth, tf.maximum(mean, 1e-6)), valid) as tf.Tensor4D;
  });
}

/** Which terms a run trains with (Table 7's four rows: wce, wce+gpl, wce+vnl, wce+vnl+gpl). */
export interface DepthLossOptions {
  readonly bins: DepthBins;
  /** Soft-target matrix of `bins` as a tensor (kept by the caller across steps). */
  readonly softTargets: tf.Tensor2D;
  /** Weight of the virtual normal loss; 0 leaves it out (VNL: 6). */
  readonly vnlWeight: number;
  /** Camera of the training crops (principal point at the crop centre) and VNL's thresholds. */
  readonly vnl: FocalLengths & Partial<VirtualNormalOptions>;
  /** λ of the perceptual term; 0 leaves it out (paper: 0.1). */
  readonly lambda: number;
  readonly gplInput: GplInput;
  /** Source of the VNL triplets. */
  readonly rng: RandomSource;
}

/**
 * loss_wce + vnlWeight·loss_vnl + λ·loss_gpl on one batch. `depthMetres` [N, H, W, 1] is the
 * ground truth in metres (0 = invalid); the model works in VNL units (metres / 10). Returns the
 * total and the named terms; every intermediate is freed.
 */
export function depthLoss(
  logits: tf.Tensor4D,
  depthMetres: tf.Tensor4D,
  o: DepthLossOptions,
  perceptual?: (pred: tf.Tensor4D, target: tf.Tensor4D, mask: tf.Tensor4D) => tf.Scalar,
): { total: tf.Scalar; terms: Record<string, tf.Scalar> } {
  return tf.tidy(() => lossTerms(logits, depthMetres, o, perceptual));
}

function lossTerms(
  logits: tf.Tensor4D,
  depthMetres: tf.Tensor4D,
  o: DepthLossOptions,
  perceptual?: (pred: tf.Tensor4D, target: tf.Tensor4D, mask: tf.Tensor4D) => tf.Scalar,
): { total: tf.Scalar; terms: Record<string, tf.Scalar> } {
  const gt = tf.div(depthMetres, 10) as tf.Tensor4D;
  const { bins, valid } = o.bins.binsOf(gt);
  const terms: Record<string, tf.Scalar> = { loss_wce: weightedCrossEntropy(logits, bins, valid, o.softTargets) };
  let total: tf.Scalar = terms.loss_wce;
  const needDepth = o.vnlWeight > 0 || (perceptual !== undefined && o.lambda > 0);
  if (needDepth) {
    const pred = o.bins.decode(tf.softmax(logits) as tf.Tensor4D);
    if (o.vnlWeight > 0) {
      terms.loss_vnl = virtualNormalLoss(pred, gt, o.vnl, o.rng);
      total = tf.add(total, tf.mul(terms.loss_vnl, o.vnlWeight));
    }
    if (perceptual && o.lambda > 0) {
      const mask = tf.expandDims(valid, 3) as tf.Tensor4D;
      terms.loss_gpl = perceptual(gplRepresentation(pred, mask, o.gplInput), gplRepresentation(gt, mask, o.gplInput), mask);
      total = tf.add(total, tf.mul(terms.loss_gpl, o.lambda));
    }
  }
  return { total, terms };
}

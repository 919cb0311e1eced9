/**
 * The segmentation objective of the paper (Eq. 2): ℓ = ℓ_ce(ŷ, y) + λ·ℓ_gpl(softmax(ŷ), y_t),
 * plus PSPNet's auxiliary cross-entropy (weight 0.4) when the model has an auxiliary head.
 * Per-pixel math is kept apart from the reduction (mean over non-ignored pixels).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientNormProbe, LossTerms } from '@gpl/engine';

/** Per-pixel negative log-likelihood [N, H, W] and the mask of pixels that count. */
function perPixelCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D, ignoreIndex: number): { nll: tf.Tensor3D; valid: tf.Tensor3D } {
  const numClasses = logits.shape[3];
  const valid = tf.cast(tf.notEqual(labels, ignoreIndex), 'float32') as tf.Tensor3D;
  const safe = tf.where(tf.notEqual(labels, ignoreIndex), labels, tf.zerosLike(labels)) as tf.Tensor3D;
  const logp = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.cast(safe, 'int32'), numClasses)), 3) as tf.Tensor3D;
  return { nll: tf.neg(picked), valid };
}

/**
 * Cross-entropy averaged over pixels whose label is not `ignoreIndex`.
 * @param logits [N, H, W, C] raw scores at label resolution.
 * @param labels [N, H, W] int32 class indices, `ignoreIndex` for void pixels.
 */
export function crossEntropyWithIgnore(logits: tf.Tensor4D, labels: tf.Tensor3D, ignoreIndex = 255): tf.Scalar {
  if (logits.rank !== 4 || labels.rank !== 3 || logits.shape.slice(0, 3).join() !== labels.shape.join()) {
    throw new RangeError(`[seg] crossEntropyWithIgnore: logits [${logits.shape}] and labels [${labels.shape}] must be [N,H,W,C] and [N,H,W].`);
  }
  return tf.tidy(() => {
    const { nll, valid } = perPixelCrossEntropy(logits, labels, ignoreIndex);
    // max(1, count): a batch of only void pixels contributes 0, not NaN.
    return tf.div(tf.sum(tf.mul(nll, valid)), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}

/** Named terms of one training step's loss (mmseg-style `loss_*` keys), and its tapped gradient norms. */
export type SegLossTerms = LossTerms;

export interface SegLossOptions {
  readonly ignoreIndex: number;
  /** Weight of the auxiliary head's cross-entropy (PSPNet: 0.4). */
  readonly auxWeight: number;
  /** λ of Eq. 2 (paper: 0.1). 0 disables the perceptual term. */
  readonly percepLambda: number;
  /**
   * Resolution of the perceptual term as a fraction of the logits' (1, 0.5, 0.25 or 0.125; default
   * 1): below 1, probabilities and target are average-pooled over 1/s × 1/s blocks first.
   */
  readonly percepScale?: number;
}

/**
 * The mean of each factor×factor block [N, H/f, W/f, C] (area downsampling). Written as reshape +
 * mean, which every backend differentiates. Chosen over bilinear resizing because a half-pixel
 * bilinear sample at 1/4 or 1/8 reads only the 2×2 pixels around each block's centre (aliasing,
 * and most pixels would get no gradient), while the block mean uses every pixel, equals bilinear
 * at 1/2, and keeps probabilities summing to one over the classes.
 */
function blockMean(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.mean(tf.reshape(x, [n, h / factor, factor, w / factor, factor, c]), [2, 4]) as tf.Tensor4D;
}

/**
 * ℓ_ce(main) + auxWeight·ℓ_ce(aux) + λ·perceptual(softmax(main), softTarget).
 * `perceptual` receives probabilities and soft labels at the same resolution [N, H·s, W·s, C]
 * (s = `percepScale`). At s = 1 it also receives the void mask (1 = valid) and ignores void pixels
 * itself. Below 1 the mask is applied at label resolution, before the block mean: a coarse pixel
 * compares the valid fine pixels of its block (void ones count as 0 on both sides, so a coarse pixel
 * that is void throughout is 0 in both), and no mask is passed on.
 * With `probe`, the main logits reach each term through its own tap: `grad_ce` = ‖∂ℓ_ce/∂logits‖
 * and, when the perceptual term is on, `grad_gpl` = ‖∂(λ·ℓ_gpl)/∂logits‖, recorded in the step's
 * one backward pass. Call inside `tf.tidy` or `optimizer.minimize`.
 */
export function segmentationLoss(
  outputs: { logits: tf.Tensor4D; auxLogits?: tf.Tensor4D },
  labels: tf.Tensor3D,
  options: SegLossOptions,
  perceptual?: { fn: (probs: tf.Tensor4D, target: tf.Tensor4D, mask?: tf.Tensor4D) => tf.Scalar; target: tf.Tensor4D },
  probe?: GradientNormProbe,
): SegLossTerms {
  const { logits } = outputs;
  const scale = options.percepScale ?? 1;
  const factor = Math.round(1 / scale);
  const withPerceptual = perceptual !== undefined && options.percepLambda > 0;
  if (withPerceptual && (factor * scale !== 1 || logits.shape[1] % factor !== 0 || logits.shape[2] % factor !== 0)) {
    throw new RangeError(`[seg] segmentationLoss: percepScale ${scale} needs logits whose height and width are multiples of ${factor}, received [${logits.shape}]; use a crop that is a multiple of 32.`);
  }
  const terms: Record<string, tf.Scalar> = {};
  terms.loss_ce = crossEntropyWithIgnore(probe ? probe.tap('grad_ce', logits) : logits, labels, options.ignoreIndex);
  let total: tf.Scalar = terms.loss_ce;
  if (outputs.auxLogits && options.auxWeight > 0) {
    terms.loss_aux = crossEntropyWithIgnore(outputs.auxLogits, labels, options.ignoreIndex);
    total = tf.add(total, tf.mul(terms.loss_aux, options.auxWeight));
  }
  if (withPerceptual) {
    // Intermediates are left to the caller's tidy (optimizer.minimize): under a gradient tape
    // they must outlive this function.
    const mask = tf.expandDims(tf.cast(tf.notEqual(labels, options.ignoreIndex), 'float32'), 3) as tf.Tensor4D;
    const probs = tf.softmax(probe ? probe.tap('grad_gpl', logits) : logits) as tf.Tensor4D;
    terms.loss_gpl =
      factor === 1
        ? perceptual.fn(probs, perceptual.target, mask)
        : perceptual.fn(blockMean(tf.mul(probs, mask), factor), blockMean(tf.mul(perceptual.target, mask), factor));
    total = tf.add(total, tf.mul(terms.loss_gpl, options.percepLambda));
  }
  return { total, terms, ...(probe ? { gradientNorms: probe } : {}) };
}

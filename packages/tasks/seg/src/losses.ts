/**
 * The segmentation objective of the paper (Eq. 2): ℓ = ℓ_ce(ŷ, y) + λ·ℓ_gpl(softmax(ŷ), y_t),
 * plus PSPNet's auxiliary cross-entropy (weight 0.4) when the model has an auxiliary head.
 * Per-pixel math is kept apart from the reduction (mean over non-ignored pixels).
 */
import * as tf from '@tensorflow/tfjs-core';

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

/** Named terms of one training step's loss (mmseg-style `loss_*` keys). */
export interface SegLossTerms {
  readonly total: tf.Scalar;
  readonly terms: Readonly<Record<string, tf.Scalar>>;
}

export interface SegLossOptions {
  readonly ignoreIndex: number;
  /** Weight of the auxiliary head's cross-entropy (PSPNet: 0.4). */
  readonly auxWeight: number;
  /** λ of Eq. 2 (paper: 0.1). 0 disables the perceptual term. */
  readonly percepLambda: number;
}

/**
 * ℓ_ce(main) + auxWeight·ℓ_ce(aux) + λ·perceptual(softmax(main), softTarget).
 * `perceptual` receives probabilities and soft labels at the same resolution [N, H, W, C];
 * `mask` (1 = valid) lets it ignore void pixels. Call inside `tf.tidy` or `optimizer.minimize`.
 */
export function segmentationLoss(
  outputs: { logits: tf.Tensor4D; auxLogits?: tf.Tensor4D },
  labels: tf.Tensor3D,
  options: SegLossOptions,
  perceptual?: { fn: (probs: tf.Tensor4D, target: tf.Tensor4D, mask: tf.Tensor4D) => tf.Scalar; target: tf.Tensor4D },
): SegLossTerms {
  const terms: Record<string, tf.Scalar> = {};
  terms.loss_ce = crossEntropyWithIgnore(outputs.logits, labels, options.ignoreIndex);
  let total: tf.Scalar = terms.loss_ce;
  if (outputs.auxLogits && options.auxWeight > 0) {
    terms.loss_aux = crossEntropyWithIgnore(outputs.auxLogits, labels, options.ignoreIndex);
    total = tf.add(total, tf.mul(terms.loss_aux, options.auxWeight));
  }
  if (perceptual && options.percepLambda > 0) {
    // Intermediates are left to the caller's tidy (optimizer.minimize): under a gradient tape
    // they must outlive this function.
    const mask = tf.expandDims(tf.cast(tf.notEqual(labels, options.ignoreIndex), 'float32'), 3) as tf.Tensor4D;
    const probs = tf.softmax(outputs.logits) as tf.Tensor4D;
    terms.loss_gpl = perceptual.fn(probs, perceptual.target, mask);
    total = tf.add(total, tf.mul(terms.loss_gpl, options.percepLambda));
  }
  return { total, terms };
}

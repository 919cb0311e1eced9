/**
 * The losses of CondInst's training step, with AdelaiDet's reductions (REFERENCE.md §7):
 * sigmoid focal loss (fvcore's `sigmoid_focal_loss`, summed), the GIoU loss on (l, t, r, b)
 * distances weighted by the centre-ness targets (AdelaiDet `IOULoss('giou')`, summed), centre-ness
 * binary cross-entropy with logits (summed), and the dice loss of mask probabilities (mean over
 * instances). The callers divide by the number of positives / the sum of centre-ness targets.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Focal loss α and γ (`MODEL.FCOS.LOSS_ALPHA`, `LOSS_GAMMA`). */
export const FOCAL_ALPHA = 0.25;
export const FOCAL_GAMMA = 2;

/** Numerically stable binary cross-entropy with logits, element-wise: max(x,0) − x·t + log(1 + e^−|x|). */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}

/**
 * Σ over elements of α_t · (1 − p_t)^γ · BCE(x, t), p = σ(x), p_t = p·t + (1−p)(1−t),
 * α_t = α·t + (1−α)(1−t). `targets` are 0/1 with the shape of `logits` (one-hot classes; a
 * background location is all zeros).
 */
export function sigmoidFocalLoss(logits: tf.Tensor, targets: tf.Tensor, alpha = FOCAL_ALPHA, gamma = FOCAL_GAMMA): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const ce = bceWithLogits(logits, targets);
    const pt = tf.add(tf.mul(p, targets), tf.mul(tf.sub(1, p), tf.sub(1, targets)));
    let loss = tf.mul(ce, tf.pow(tf.sub(1, pt), gamma));
    if (alpha >= 0) loss = tf.mul(loss, tf.add(tf.mul(targets, alpha), tf.mul(tf.sub(1, targets), 1 - alpha)));
    return tf.sum(loss) as tf.Scalar;
  });
}

/**
 * Σᵢ wᵢ · (1 − GIoU) of boxes given as distances (l, t, r, b) from the same location, `[P, 4]`
 * each: IoU = (I + 1)/(U + 1) (AdelaiDet's smoothing), GIoU = IoU − (C − U)/C with C the area of
 * the enclosing box.
 */
export function giouLoss(pred: tf.Tensor2D, target: tf.Tensor2D, weight?: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const [pl, pt, pr, pb] = tf.unstack(pred, 1);
    const [tl, tt, tr, tb] = tf.unstack(target, 1);
    const targetArea = tf.mul(tf.add(tl, tr), tf.add(tt, tb));
    const predArea = tf.mul(tf.add(pl, pr), tf.add(pt, pb));
    const wI = tf.add(tf.minimum(pl, tl), tf.minimum(pr, tr));
    const hI = tf.add(tf.minimum(pb, tb), tf.minimum(pt, tt));
    const wC = tf.add(tf.maximum(pl, tl), tf.maximum(pr, tr));
    const hC = tf.add(tf.maximum(pb, tb), tf.maximum(pt, tt));
    const enclosing = tf.mul(wC, hC);
    const intersection = tf.mul(wI, hI);
    const union = tf.sub(tf.add(targetArea, predArea), intersection);
    const iou = tf.div(tf.add(intersection, 1), tf.add(union, 1));
    const giou = tf.sub(iou, tf.div(tf.sub(enclosing, union), enclosing));
    const losses = tf.sub(1, giou);
    return tf.sum(weight ? tf.mul(losses, weight) : losses) as tf.Scalar;
  });
}

/** Σ BCE-with-logits of centre-ness predictions `[P]` against their targets `[P]`. */
export function centernessLoss(logits: tf.Tensor1D, targets: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(bceWithLogits(logits, targets)) as tf.Scalar);
}

/** Dice smoothing (CondInst `dice_coefficient`'s eps). */
export const DICE_EPS = 1e-5;

/**
 * Mean over instances of 1 − 2·Σxy / (Σx² + Σy² + ε): `probs` and `targets` are `[n, …]` mask
 * probabilities and 0/1 masks. Zero instances give 0 (a constant, so the step still runs).
 */
export function diceLoss(probs: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const n = probs.shape[0];
    if (n === 0) return tf.scalar(0);
    const x = tf.reshape(probs, [n, -1]);
    const y = tf.reshape(targets, [n, -1]);
    const inter = tf.sum(tf.mul(x, y), 1);
    const union = tf.add(tf.add(tf.sum(tf.square(x), 1), tf.sum(tf.square(y), 1)), DICE_EPS);
    return tf.mean(tf.sub(1, tf.div(tf.mul(inter, 2), union))) as tf.Scalar;
  });
}

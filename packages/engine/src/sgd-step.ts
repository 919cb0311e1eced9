/**
 * One optimizer step on whatever loss a task returns (detectron2's `run_step`): gradients of the
 * total for every trainable variable, L2 weight decay on convolution kernels as
 * `torch.optim.SGD` applies it (g ← g + wd·w), then the update. A non-finite loss leaves the
 * weights untouched so that the caller can stop with the last good checkpoint.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GradientNormProbe } from './gradient-probe';

/** A task's loss for one step: the total and its named terms (`loss_ce`, `loss_gpl`, …). */
export interface LossTerms {
  readonly total: tf.Scalar;
  readonly terms: Readonly<Record<string, tf.Scalar>>;
  /** Gradient norms the loss tapped (`grad_*`), read after the backward pass into `StepLoss.stats`. */
  readonly gradientNorms?: GradientNormProbe;
}

/** The loss of a step as host numbers. */
export interface StepLoss {
  readonly total: number;
  readonly terms: Readonly<Record<string, number>>;
  /** Per-step statistics besides the loss terms (the tapped gradient norms); empty without taps. */
  readonly stats: Readonly<Record<string, number>>;
}

export interface SgdContext {
  /** Trainable variables; those whose name contains `kernel` get weight decay. */
  readonly vars: readonly tf.Variable[];
  readonly optimizer: tf.Optimizer;
  readonly weightDecay: number;
}

/** Trainable variables of a layers model, in a stable order. */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

/**
 * Runs `loss` under a gradient tape and applies the update. `loss` builds its tensors freely:
 * everything it creates is freed here.
 * @param forceNaN report NaN instead of the loss and skip the update (tests of the NaN stop).
 */
export function sgdStep(ctx: SgdContext, loss: () => LossTerms, forceNaN = false): StepLoss {
  const terms: Record<string, number> = {};
  let probe: GradientNormProbe | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const l = loss();
    probe = l.gradientNorms;
    // Read the named terms inside the tape's scope (they are freed when it closes).
    for (const [k, v] of Object.entries(l.terms)) terms[k] = v.dataSync()[0];
    return l.total;
  }, ctx.vars as tf.Variable[]);
  try {
    const total = forceNaN ? NaN : value.dataSync()[0];
    const stats = probe ? probe.read() : {};
    if (!Number.isFinite(total)) return { total, terms, stats };
    const decayed = tf.tidy(() => {
      const out: tf.NamedTensorMap = {};
      if (ctx.weightDecay > 0) for (const v of ctx.vars) if (/kernel/.test(v.name)) out[v.name] = tf.add(grads[v.name], tf.mul(v, ctx.weightDecay));
      return out;
    });
    ctx.optimizer.applyGradients(ctx.vars.map((v) => ({ name: v.name, tensor: decayed[v.name] ?? grads[v.name] })));
    tf.dispose(decayed);
    return { total, terms, stats };
  } finally {
    probe?.dispose();
    tf.dispose(value);
    tf.dispose(grads);
  }
}

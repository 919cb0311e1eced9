/**
 * Gradient norms of a training step, measured inside its one backward pass: a task routes a
 * tensor into one loss term through `probe.tap(name, x)`, an identity whose gradient function
 * records ‖dy‖₂, the norm of that term's gradient with respect to x (the upstream gradient of the
 * total, so weights such as λ are included). No second backward pass is run; the cost is one
 * reduction per tap. `sgdStep` reads the norms after the step and they become metrics.csv columns.
 */
import * as tf from '@tensorflow/tfjs-core';

export class GradientNormProbe {
  private readonly taps = new Set<string>();
  private readonly norms = new Map<string, tf.Scalar>();

  /**
   * x itself for the forward pass; its gradient passes through unchanged, and its L2 norm is
   * recorded as `name`. Tap the same tensor once per term so that each gradient arrives alone.
   */
  tap<T extends tf.Tensor>(name: string, x: T): T {
    if (this.taps.has(name)) {
      throw new RangeError(`[@gpl/engine] GradientNormProbe.tap: '${name}' is already tapped in this step; give each tap its own name.`);
    }
    this.taps.add(name);
    const identity = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.clone(args[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor) => {
        this.norms.get(name)?.dispose();
        // Kept past the backward pass's scope, which frees everything else: read() reads and frees it.
        this.norms.set(name, tf.keep(tf.tidy(() => tf.sqrt(tf.sum(tf.square(dy))) as tf.Scalar)));
        return tf.clone(dy);
      },
    }));
    return identity(x) as T;
  }

  /** Every tapped name with its recorded norm (NaN where no gradient reached the tap); frees the norms. */
  read(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of this.taps) out[name] = this.norms.get(name)?.dataSync()[0] ?? NaN;
    this.dispose();
    return out;
  }

  /** Frees recorded norms that were not read (a step that failed before `read`). */
  dispose(): void {
    tf.dispose([...this.norms.values()]);
    this.norms.clear();
  }
}

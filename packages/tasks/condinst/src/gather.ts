/**
 * Row gather with a gradient on every backend. tfjs's own gradient of `gather` needs the
 * UnsortedSegmentSum kernel, which the wasm backend (the default here) does not register; this
 * one scatters the incoming gradient back with ScatterNd, which it does, summing repeated rows.
 */
import * as tf from '@tensorflow/tfjs-core';

/** `x[indices]` along axis 0, differentiable with respect to `x` (repeated indices accumulate). */
export function gatherRows<T extends tf.Tensor>(x: T, indices: Int32Array | readonly number[]): T {
  const idx = tf.tensor2d(Int32Array.from(indices), [indices.length, 1], 'int32');
  const shape = x.shape;
  const forward = (input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([idx]);
    return {
      value: tf.gatherND(input, idx),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0], dy, shape),
    };
  };
  // customGrad's type lists inputs and the save function as one union; the call order is (input, save).
  const op = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]);
  const out = op(x) as T;
  idx.dispose();
  return out;
}

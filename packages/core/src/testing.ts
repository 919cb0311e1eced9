/**
 * Test helpers shared by every package: leak checks and finite-difference gradient checks.
 * Imported as `@gpl/core/testing`, never from production code.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface NoLeakOptions {
  /** Tensors the function is expected to return (and which the caller then owns). Default 0. */
  readonly returns?: number;
  /** How many times to call the function; growth must be exactly `returns` per call. Default 3. */
  readonly repeats?: number;
}

/**
 * Runs `fn` several times and throws if the live tensor count grows by more than
 * `returns` tensors per call. Returned tensors are disposed after counting.
 */
export function expectNoLeak(fn: () => tf.TensorContainer | void, options: NoLeakOptions = {}): void {
  const returns = options.returns ?? 0;
  const repeats = options.repeats ?? 3;
  // One warm-up call: kernels may allocate cached constants on first use.
  tf.dispose(fn() as tf.TensorContainer);
  for (let i = 0; i < repeats; i++) {
    const before = tf.memory().numTensors;
    const out = fn();
    const grown = tf.memory().numTensors - before;
    tf.dispose(out as tf.TensorContainer);
    if (grown !== returns) {
      throw new Error(`expectNoLeak: call ${i + 1} changed the tensor count by ${grown}, expected ${returns}.`);
    }
  }
}

/** Async variant for code that awaits tensor data. */
export async function expectNoLeakAsync(
  fn: () => Promise<tf.TensorContainer | void>,
  options: NoLeakOptions = {},
): Promise<void> {
  const returns = options.returns ?? 0;
  const repeats = options.repeats ?? 3;
  tf.dispose((await fn()) as tf.TensorContainer);
  for (let i = 0; i < repeats; i++) {
    const before = tf.memory().numTensors;
    const out = await fn();
    const grown = tf.memory().numTensors - before;
    tf.dispose(out as tf.TensorContainer);
    if (grown !== returns) {
      throw new Error(`expectNoLeakAsync: call ${i + 1} changed the tensor count by ${grown}, expected ${returns}.`);
    }
  }
}

/** Deterministic pseudo-random tensor in [-1, 1) (independent of backend RNG state). */
export function seededTensor(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    // xorshift32: cheap, fully deterministic test data.
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    values[i] = (s / 0x100000000) * 2 - 1;
  }
  return tf.tensor(values, shape);
}

export interface GradientCheckResult {
  /** Largest |analytic − numeric| over the checked entries. */
  readonly maxAbsError: number;
  /** Largest |analytic − numeric| / max(|numeric|, scale). */
  readonly maxRelError: number;
  /** Number of entries compared. */
  readonly checked: number;
}

export interface GradientCheckOptions {
  /** Central-difference step. Default 1e-2 (float32 needs a large step; f is evaluated in float32). */
  readonly epsilon?: number;
  /** Compare at most this many entries per input, spread evenly. Default 48. */
  readonly maxEntries?: number;
}

/**
 * Compares `tf.grads` of the scalar function `f` against central finite differences
 * (f(x + εe_i) − f(x − εe_i)) / 2ε at evenly spread entries of each input.
 * The relative error is taken against the largest gradient magnitude of that input,
 * which is the meaningful scale for float32 round-off.
 */
export function checkGradients(
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  options: GradientCheckOptions = {},
): GradientCheckResult[] {
  const eps = options.epsilon ?? 1e-2;
  const maxEntries = options.maxEntries ?? 48;
  const analytic = tf.tidy(() => tf.grads(f)(inputs).map((g) => g.dataSync().slice()));
  return inputs.map((input, k) => {
    const base = input.dataSync().slice();
    const size = base.length;
    const step = Math.max(1, Math.floor(size / maxEntries));
    const scale = Math.max(1e-3, ...Array.from(analytic[k]).map(Math.abs));
    let maxAbs = 0;
    let checked = 0;
    for (let i = 0; i < size; i += step) {
      const evalAt = (delta: number): number =>
        tf.tidy(() => {
          const v = base.slice();
          v[i] += delta;
          const args = inputs.map((t, j) => (j === k ? tf.tensor(v, t.shape) : t));
          return f(...args).dataSync()[0];
        });
      const numeric = (evalAt(eps) - evalAt(-eps)) / (2 * eps);
      maxAbs = Math.max(maxAbs, Math.abs(numeric - analytic[k][i]));
      checked++;
    }
    return { maxAbsError: maxAbs, maxRelError: maxAbs / scale, checked };
  });
}

/** Largest absolute element-wise difference between two tensors of equal shape. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join() !== b.shape.join()) {
    throw new RangeError(`maxAbsDiff: shapes differ, [${a.shape}] vs [${b.shape}].`);
  }
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

export {
  IGNORE_LABEL,
  batchNormModes,
  blockLabels,
  crossEntropyWithIgnore,
  formatOverfit,
  overfitOneBatch,
  overfitProblems,
  roundTripLayersModel,
  sgdStepTensorCounts,
  trainableVariables,
  unreachedWeights,
  withZeroInitializers,
  type BatchNormModes,
  type OverfitExpectations,
  type OverfitOptions,
  type OverfitResult,
} from './testing-models';

/**
 * Test helpers for whole models: building large models cheaply when only their structure is
 * checked, the variables a training step updates, and the overfit-one-batch check that every
 * segmentation model's learning test runs. Exported through `@gpl/core/testing`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
// testing.ts re-exports this file; the import is read only when a helper runs, so the cycle is harmless.
import { seededTensor } from './testing';

type InitializerFactory = (...args: never[]) => ReturnType<typeof tfl.initializers.zeros>;
/** The random initialisers the models of this workspace draw kernels from. */
const RANDOM_INITIALIZERS = ['varianceScaling', 'randomNormal', 'truncatedNormal', 'randomUniform', 'glorotUniform', 'glorotNormal', 'heNormal', 'heUniform'] as const;

/**
 * Runs `build` with tfjs-layers' random initialisers replaced by zeros, and restores them
 * afterwards (also when `build` throws). For tests that check the structure of full-width
 * models (parameter counts, weight shapes, layer names): drawing tens of millions of
 * truncated-normal values takes most of such a build on the cpu backend, and no count or
 * shape depends on them. The model must not be used for numerical checks.
 */
export function withZeroInitializers<T>(build: () => T): T {
  const table = tfl.initializers as unknown as Record<string, InitializerFactory>;
  const saved = RANDOM_INITIALIZERS.map((k) => [k, table[k]] as const);
  for (const [k] of saved) table[k] = (() => tfl.initializers.zeros()) as InitializerFactory;
  try {
    return build();
  } finally {
    for (const [k, f] of saved) table[k] = f;
  }
}

/** The variables behind a model's trainable weights, as `optimizer.minimize` and `tf.variableGrads` take them. */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

/**
 * The trainable weights of `model` that the gradient of `loss` does not reach: no gradient at
 * all, one that is zero everywhere, or one with a non-finite entry. Empty when every weight
 * trains. `loss` must apply the model (in training mode, for batch norm to take part).
 */
export function unreachedWeights(model: tfl.LayersModel, loss: () => tf.Scalar): string[] {
  const vars = trainableVariables(model);
  const { value, grads } = tf.variableGrads(loss, vars);
  try {
    return vars
      .filter((v) => {
        const g = grads[v.name];
        if (!g) return true;
        const data = g.dataSync();
        return !data.every(Number.isFinite) || !data.some((e) => e !== 0);
      })
      .map((v) => v.name);
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}

/**
 * Live tensor counts after each of `steps` SGD steps on `loss` (which applies the model): the
 * same number after every step unless a step leaks. SGD keeps no slots, so the count after the
 * first step is already the steady one.
 */
export function sgdStepTensorCounts(model: tfl.LayersModel, loss: () => tf.Scalar, steps = 2): number[] {
  const opt = tf.train.sgd(0.01);
  const vars = trainableVariables(model);
  const counts: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      opt.minimize(loss, true, vars)?.dispose();
      counts.push(tf.memory().numTensors);
    }
  } finally {
    opt.dispose();
  }
  return counts;
}

export interface BatchNormModes {
  /** Inference left the layer's moving mean unchanged. */
  readonly inferenceKeptStatistics: boolean;
  /** A training-mode forward pass changed it. */
  readonly trainingUpdatedStatistics: boolean;
  /** Largest |training − inference| over the first output: > 0 when batch statistics are used in training. */
  readonly modeDifference: number;
}

/**
 * How a model's BatchNorm layer `bnName` behaves on `x`: one inference pass, then one
 * training-mode pass (which updates the moving statistics, as a training step would).
 */
export function batchNormModes(model: tfl.LayersModel, bnName: string, x: tf.Tensor): BatchNormModes {
  const bn = model.getLayer(bnName);
  const movingMean = () => bn.getWeights()[2].dataSync().slice();
  const first = (out: tf.Tensor | tf.Tensor[]) => (Array.isArray(out) ? out[0] : out);
  const m0 = movingMean();
  const inference = model.predict(x) as tf.Tensor | tf.Tensor[];
  const m1 = movingMean();
  const training = model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
  const m2 = movingMean();
  const modeDifference = tf.tidy(() => tf.max(tf.abs(tf.sub(first(training), first(inference)))).dataSync()[0]);
  tf.dispose([inference, training]);
  return {
    inferenceKeptStatistics: m1.every((v, i) => v === m0[i]),
    trainingUpdatedStatistics: m2.some((v, i) => v !== m1[i]),
    modeDifference,
  };
}

/**
 * `model` saved to model JSON and weights in memory and loaded back with `tfl.loadLayersModel`,
 * as a checkpoint is: every custom layer must be registered for this to work. The caller owns
 * (and disposes) the returned model.
 */
export async function roundTripLayersModel(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
}

/** The label of pixels that no loss or metric counts (Cityscapes' and VOC's convention). */
export const IGNORE_LABEL = 255;

/**
 * Mean cross-entropy over the pixels whose label is not `ignoreLabel`: logits [N, H, W, C],
 * labels [N, H, W] int32 → scalar. 0 when no pixel is labelled.
 */
export function crossEntropyWithIgnore(logits: tf.Tensor4D, labels: tf.Tensor3D, ignoreLabel = IGNORE_LABEL): tf.Scalar {
  return tf.tidy(() => {
    const valid = tf.notEqual(labels, ignoreLabel);
    const safe = tf.where(valid, labels, tf.zerosLike(labels)) as tf.Tensor3D;
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(safe, logits.shape[3])), -1);
    const mask = tf.cast(valid, 'float32');
    return tf.div(tf.neg(tf.sum(tf.mul(picked, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/**
 * Labels [n, h, w] int32 that are constant on `block`×`block` cells (a seeded class per cell,
 * 0 … classes − 1), with the top `ignoredRows` rows set to `IGNORE_LABEL`: a target a
 * segmentation model can fit exactly, with ignored pixels in it.
 */
export function blockLabels(n: number, h: number, w: number, classes: number, seed: number, block = 16, ignoredRows = 4): tf.Tensor3D {
  if (h % block !== 0 || w % block !== 0) {
    throw new RangeError(`blockLabels: size ${h}×${w} must be a multiple of the block ${block}; use ${Math.ceil(h / block) * block}×${Math.ceil(w / block) * block}.`);
  }
  const [gh, gw] = [h / block, w / block];
  const noise = seededTensor([n, gh, gw], seed);
  const cells = noise.dataSync(); // uniform in [-1, 1)
  noise.dispose();
  const data = new Int32Array(n * h * w);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const u = (cells[(b * gh + Math.floor(r / block)) * gw + Math.floor(c / block)] + 1) / 2;
        data[(b * h + r) * w + c] = r < ignoredRows ? IGNORE_LABEL : Math.min(classes - 1, Math.floor(u * classes));
      }
    }
  }
  return tf.tensor3d(data, [n, h, w], 'int32');
}

export interface OverfitOptions {
  readonly model: tfl.LayersModel;
  /** The batch [N, H, W]: seeded images [N, H, W, 3] and `blockLabels` (16×16 blocks, H and W multiples of 16). */
  readonly batch: readonly [number, number, number];
  /** Classes of the model (and of the labels). */
  readonly classes: number;
  /** Adam's learning rate. */
  readonly learningRate: number;
  /** Steps at the most. */
  readonly maxSteps: number;
  /** Stop once the monitored loss is at most this fraction of the first one. */
  readonly targetFraction: number;
  /** The main logits [N, H, W, C] among the model's outputs. Default: the only output. */
  readonly logitsOf?: (outputs: tf.Tensor | tf.Tensor[]) => tf.Tensor4D;
  /** A term added to the monitored cross-entropy in the objective (e.g. an auxiliary head's loss). */
  readonly extraLoss?: (outputs: tf.Tensor | tf.Tensor[], labels: tf.Tensor3D) => tf.Scalar;
}

export interface OverfitResult {
  /** The monitored cross-entropy (main logits) of every step, before its update. */
  readonly losses: readonly number[];
  /** Whether the last loss reached `targetFraction` of the first. */
  readonly reached: boolean;
  /** Live tensors after each step (Adam's slots appear in the first; flat afterwards unless a step leaks). */
  readonly tensorCounts: readonly number[];
  /** Argmax accuracy over the labelled pixels after training (training mode, as the steps ran). */
  readonly accuracy: number;
  readonly msPerStep: number;
}

export interface OverfitExpectations {
  /** Classes of the model: the first loss must be ≈ ln(classes) (a near-zero classifier). */
  readonly classes: number;
  /** Largest |first loss − ln(classes)|. Default 0.1. */
  readonly initialTolerance?: number;
  /** Smallest final pixel accuracy. */
  readonly minAccuracy: number;
}

/**
 * What an overfit run failed to show, one sentence each: finite losses, a first loss of about
 * ln(classes), the target reached, the accuracy, a flat tensor count after the first step.
 * Empty when the model learned as it should.
 */
export function overfitProblems(r: OverfitResult, e: OverfitExpectations): string[] {
  const problems: string[] = [];
  const first = r.losses[0];
  const tolerance = e.initialTolerance ?? 0.1;
  if (!r.losses.every(Number.isFinite)) problems.push(`a loss is not finite: ${r.losses.join(', ')}`);
  if (!(Math.abs(first - Math.log(e.classes)) < tolerance)) problems.push(`first loss ${first} is not within ${tolerance} of ln(${e.classes})`);
  if (!r.reached) problems.push(`the loss did not reach the target in ${r.losses.length} steps (${first} → ${r.losses[r.losses.length - 1]})`);
  if (!(r.accuracy >= e.minAccuracy)) problems.push(`pixel accuracy ${r.accuracy} < ${e.minAccuracy}`);
  if (new Set(r.tensorCounts.slice(1)).size > 1) problems.push(`the tensor count changed after the first step: ${r.tensorCounts.join(', ')}`);
  return problems;
}

/** One line for the test log: losses, steps, time per step and accuracy. */
export function formatOverfit(title: string, r: OverfitResult): string {
  return (
    `${title} overfit: CE ${r.losses[0].toFixed(3)} → ${r.losses[r.losses.length - 1].toFixed(3)} in ${r.losses.length} steps ` +
    `(${r.msPerStep.toFixed(0)} ms/step on ${tf.getBackend()}), pixel accuracy ${r.accuracy.toFixed(3)}`
  );
}

/**
 * Trains `model` with Adam on one seeded batch until the cross-entropy of its main logits falls
 * to `targetFraction` of its first value or `maxSteps` have run, and reports the losses, the
 * tensor counts and the final pixel accuracy. The batch is freed; the caller owns the model.
 */
export function overfitOneBatch(o: OverfitOptions): OverfitResult {
  const [n, h, w] = o.batch;
  const images = seededTensor([n, h, w, 3], 21) as tf.Tensor4D;
  const labels = blockLabels(n, h, w, o.classes, 22);
  try {
    return fitBatch(o, images, labels);
  } finally {
    tf.dispose([images, labels]);
  }
}

function fitBatch(o: OverfitOptions, images: tf.Tensor4D, labels: tf.Tensor3D): OverfitResult {
  const logitsOf = o.logitsOf ?? ((out) => out as tf.Tensor4D);
  const opt = tf.train.adam(o.learningRate);
  const vars = trainableVariables(o.model);
  const losses: number[] = [];
  const tensorCounts: number[] = [];
  const started = Date.now();
  try {
    for (let step = 0; step < o.maxSteps; step++) {
      const total = opt.minimize(
        () => {
          const out = o.model.apply(images, { training: true }) as tf.Tensor | tf.Tensor[];
          const main = crossEntropyWithIgnore(logitsOf(out), labels);
          losses.push(main.dataSync()[0]);
          return o.extraLoss ? (tf.add(main, o.extraLoss(out, labels)) as tf.Scalar) : main;
        },
        true,
        vars,
      );
      total?.dispose();
      tensorCounts.push(tf.memory().numTensors);
      if (losses[losses.length - 1] <= o.targetFraction * losses[0]) break;
    }
  } finally {
    opt.dispose();
  }
  const msPerStep = (Date.now() - started) / losses.length;
  const accuracy = tf.tidy(() => {
    const pred = tf.argMax(logitsOf(o.model.apply(images, { training: true }) as tf.Tensor | tf.Tensor[]), -1);
    const valid = tf.notEqual(labels, IGNORE_LABEL);
    const right = tf.sum(tf.cast(tf.logicalAnd(valid, tf.equal(pred, labels)), 'float32'));
    return tf.div(right, tf.maximum(tf.sum(tf.cast(valid, 'float32')), 1)).dataSync()[0];
  });
  return { losses, reached: losses[losses.length - 1] <= o.targetFraction * losses[0], tensorCounts, accuracy, msPerStep };
}

/**
 * The training loop of a segmentation run (paper Eq. 2): SGD with momentum, poly learning rate,
 * L2 weight decay on convolution kernels, optional generic perceptual loss against teacher soft
 * labels (or the one-hot ground truth), evaluation, atomic checkpoints that resume bit for bit,
 * a NaN stop, metrics.csv, plots and prediction overlays.
 *
 * Resume equivalence: everything a step depends on is a function of the step number (learning
 * rate, epoch order, per-sample augmentation seeds) or is in the checkpoint (weights including
 * BatchNorm statistics, momentum slots, and the dropout random stream).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Progress, Rng, resolveCheckpoint, restoreCheckpoint, saveCheckpoint, writeLinePlotPng, type RngState, type Series } from '@gpl/core';
import { DataLoader, collateHost, disposeBatch, toBatch, trainTransform, withSoftLabels, writeFileAtomic, type Batch, type SegmentationSample } from '@gpl/data';
import { GenericPerceptualLoss, parseInitSpec, parseNetworkSpec } from '@gpl/loss';
import { splitOutputs } from '@gpl/pspnet';
import type { SegConfig } from './config';
import { augmentFor, checkSoftLabels, openSegDataset, sampleIds } from './data';
import { evaluate } from './eval';
import { segmentationLoss } from './losses';
import type { SegMetrics } from './metrics';
import { createSegModel, modelEntry } from './models';
import { writeOverlay } from './overlay';
import { polyLearningRate } from './schedule';

/** Hooks and switches of `train` that are not part of the run's configuration. */
export interface TrainOptions {
  /** Log lines (default console.log). */
  readonly log?: (line: string) => void;
  /** Where the progress bar goes (default stderr). */
  readonly progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Stop (as if killed) right after the checkpoint of this step: tests of resume. */
  readonly stopAfter?: number;
  /** Replace the loss of this step by NaN: tests of the NaN stop. */
  readonly nanAtStep?: number;
  /** Validation samples drawn as overlays at the end (default 4). */
  readonly overlays?: number;
  /** Write plots (default true). */
  readonly plots?: boolean;
  /** Called after every step (tests watch `tf.memory()` here). */
  readonly onStep?: (info: { step: number; loss: number; lr: number; terms: Readonly<Record<string, number>> }) => void;
}

/** One evaluation during a run. */
export interface EvalRecord {
  readonly step: number;
  readonly mIoU: number;
  readonly pixelAccuracy: number;
  readonly meanAccuracy: number;
}

/** What a run returns. */
export interface TrainResult {
  readonly runDir: string;
  /** Steps completed. */
  readonly step: number;
  /** 'done', or 'stopped' when `stopAfter` ended it early. */
  readonly status: 'done' | 'stopped';
  /** Validation metrics at the last step (absent when stopped early). */
  readonly final?: SegMetrics;
  readonly history: readonly EvalRecord[];
  readonly classNames: readonly string[];
  /** Mean wall-clock seconds per training step in this process. */
  readonly secondsPerStep: number;
}

/** Thrown when the loss stops being finite; the last good checkpoint is kept. */
export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly value: number, readonly checkpoint: string | undefined) {
    super(
      `[seg] loss is ${value} at step ${step}: training stopped. The last good checkpoint is ${checkpoint ?? '(none yet)'}. ` +
        'Lower --lr or --percep-lambda, or check --percep-init (N(0,1) and U[-1,1] diverge, paper Table 4).',
    );
    this.name = 'NonFiniteLossError';
  }
}

/** Per-step row of metrics.csv. */
interface StepRow {
  step: number;
  lr: number;
  loss: number;
  loss_ce: number;
  loss_aux: number;
  loss_gpl: number;
  seconds: number;
  val_miou?: number;
  val_pixel_acc?: number;
  val_mean_acc?: number;
}

const CSV_COLUMNS: readonly (keyof StepRow)[] = ['step', 'lr', 'loss', 'loss_ce', 'loss_aux', 'loss_gpl', 'seconds', 'val_miou', 'val_pixel_acc', 'val_mean_acc'];

function rowsToCsv(rows: readonly StepRow[]): string {
  const cell = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(v));
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((k) => cell(r[k])).join(','))].join('\n') + '\n';
}

function csvToRows(text: string): StepRow[] {
  const [head, ...lines] = text.trim().split('\n');
  const cols = head.split(',');
  return lines.filter(Boolean).map((line) => {
    const cells = line.split(',');
    const r: Record<string, number | undefined> = {};
    cols.forEach((c, i) => (r[c] = cells[i] === '' || cells[i] === undefined ? undefined : Number(cells[i])));
    return r as unknown as StepRow;
  });
}

/**
 * tfjs draws the seed of every random op (dropout masks) from Math.random. During the synchronous
 * forward/backward of a step only, Math.random is a seeded stream whose state is checkpointed, so
 * dropout masks are reproducible and a resumed run matches an uninterrupted one.
 */
class SeededMathRandom {
  readonly rng: Rng;
  constructor(seed: number | RngState) {
    this.rng = new Rng(seed);
  }
  run<T>(fn: () => T): T {
    const original = Math.random;
    Math.random = () => this.rng.next();
    try {
      return fn();
    } finally {
      Math.random = original;
    }
  }
}

/** The run-defining fields: a resumed run must have the same. */
function fingerprint(cfg: SegConfig): Record<string, unknown> {
  const { resume: _r, backend: _b, out: _o, ...rest } = cfg;
  return rest;
}

/** The GPL term of Eq. 2, or undefined for `percep: 'none'`. */
export function createPerceptualLoss(cfg: SegConfig, numClasses: number): GenericPerceptualLoss | undefined {
  if (cfg.percep === 'none' || !(cfg.percepLambda > 0)) return undefined;
  return new GenericPerceptualLoss({
    inChannels: numClasses,
    ...parseNetworkSpec(cfg.percep),
    kernelSize: cfg.percepKernel,
    init: parseInitSpec(cfg.percepInit),
    levels: cfg.percepLevels,
    seed: cfg.seed,
  });
}

/** Trainable variables of a layers model, in a stable order. */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

/** The GPL target y_t: teacher probabilities resized to the crop, or the one-hot ground truth (zeros on void pixels). */
function perceptualTarget(labels: tf.Tensor3D, numClasses: number, soft?: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    if (!soft) return tf.cast(tf.oneHot(tf.cast(labels, 'int32'), numClasses), 'float32') as tf.Tensor4D;
    const [, h, w] = labels.shape;
    if (soft.shape[1] === h && soft.shape[2] === w) return soft.clone();
    // Half-pixel centres: the same pixel-centre convention as @gpl/data's warps.
    return tf.image.resizeBilinear(soft, [h, w], false, true);
  });
}

/** What one optimisation step needs besides the batch. */
export interface StepContext {
  readonly model: tfl.LayersModel;
  /** Trainable variables (`trainableVariables(model)`); those named `*kernel*` get weight decay. */
  readonly vars: readonly tf.Variable[];
  readonly optimizer: tf.Optimizer;
  /** The GPL term, or undefined for the cross-entropy baseline. */
  readonly gpl?: GenericPerceptualLoss;
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly auxWeight: number;
  readonly percepLambda: number;
  readonly weightDecay: number;
}

/** Loss of one step and its named terms (host numbers). */
export interface StepResult {
  readonly total: number;
  readonly terms: Readonly<Record<string, number>>;
}

/**
 * One SGD step of Eq. 2 on a batch: gradients of CE (+ aux) + λ·GPL(softmax(ŷ), y_t) for every
 * trainable variable, L2 decay on kernels, then the optimizer update. When the loss is not finite
 * the weights are left untouched (the caller stops the run). Frees everything it creates.
 */
export function trainingStep(ctx: StepContext, batch: Batch, options: { forceNaN?: boolean } = {}): StepResult {
  const terms: Record<string, number> = {};
  const target = ctx.gpl ? perceptualTarget(batch.labels!, ctx.numClasses, batch.softLabels) : undefined;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const outputs = splitOutputs(ctx.model.apply(batch.images, { training: true }) as tf.Tensor | tf.Tensor[]);
      const gpl = ctx.gpl;
      const l = segmentationLoss(
        outputs,
        batch.labels!,
        { ignoreIndex: ctx.ignoreIndex, auxWeight: ctx.auxWeight, percepLambda: gpl ? ctx.percepLambda : 0 },
        gpl && target ? { fn: (p, t, m) => gpl.compute(p, t, m), target } : undefined,
      );
      // Read the named terms inside the tape's scope (they are freed when it closes).
      for (const [k, v] of Object.entries(l.terms)) terms[k] = v.dataSync()[0];
      return l.total;
    }, ctx.vars as tf.Variable[]);
    try {
      const total = options.forceNaN ? NaN : value.dataSync()[0];
      if (!Number.isFinite(total)) return { total, terms };
      // L2 weight decay on kernels as in torch.optim.SGD: g ← g + wd·w (other gradients go in as they are).
      const decayed = tf.tidy(() => {
        const out: tf.NamedTensorMap = {};
        if (ctx.weightDecay > 0) for (const v of ctx.vars) if (/kernel/.test(v.name)) out[v.name] = tf.add(grads[v.name], tf.mul(v, ctx.weightDecay));
        return out;
      });
      ctx.optimizer.applyGradients(ctx.vars.map((v) => ({ name: v.name, tensor: decayed[v.name] ?? grads[v.name] })));
      tf.dispose(decayed);
      return { total, terms };
    } finally {
      tf.dispose(value);
      tf.dispose(grads);
    }
  } finally {
    target?.dispose();
  }
}

/**
 * Trains (or resumes) a run described by a validated config; returns its final validation metrics.
 * The backend must already be initialised (`initBackend` from @gpl/core).
 */
export async function train(cfg: SegConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const runDir = path.resolve(cfg.out);
  const ckptRoot = path.join(runDir, 'checkpoints');
  const configFile = path.join(runDir, 'config.json');

  // Run folder: fresh, or the same run resumed.
  if (cfg.resume) {
    if (fs.existsSync(configFile)) {
      const saved = JSON.parse(fs.readFileSync(configFile, 'utf8')) as SegConfig;
      const a = fingerprint(saved);
      const b = fingerprint(cfg);
      const diff = Object.keys({ ...a, ...b }).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
      if (diff.length) {
        throw new RangeError(
          `[seg] --resume: ${configFile} differs from this command in ${diff.map((k) => `${k} (${JSON.stringify(a[k])} there, ${JSON.stringify(b[k])} here)`).join(', ')}. Resume with the same options, or start a new --out.`,
        );
      }
    }
  } else if (resolveCheckpointSafe(ckptRoot)) {
    throw new RangeError(`[seg] ${runDir} already holds checkpoints: pass --resume to continue that run, or choose another --out.`);
  }
  fs.mkdirSync(runDir, { recursive: true });
  await writeFileAtomic(configFile, JSON.stringify(cfg, null, 2) + '\n');

  // Data.
  let trainDs = await openSegDataset(cfg.dataset, cfg.dataRoot, 'train');
  const valDs = await openSegDataset(cfg.dataset, cfg.dataRoot, 'val');
  const numClasses = trainDs.classNames.length;
  const ignoreIndex = trainDs.ignoreIndex;
  if (cfg.softLabels) {
    const m = checkSoftLabels(cfg.softLabels, { dataset: cfg.dataset, split: 'train', classNames: trainDs.classNames, ids: await sampleIds(trainDs) });
    log(`soft labels: ${cfg.softLabels} (teacher ${m.model}, stride ${m.stride})`);
    trainDs = withSoftLabels(trainDs, cfg.softLabels);
  }
  if (trainDs.length < cfg.batch) {
    throw new RangeError(`[seg] option 'batch': ${cfg.batch} is more than the ${trainDs.length} training samples of ${trainDs.name}.`);
  }
  const augment = augmentFor(cfg.dataset, cfg.dataRoot, cfg.crop);
  const loader = new DataLoader(trainDs, { batchSize: cfg.batch, seed: cfg.seed, transform: trainTransform(augment, ignoreIndex), dropLast: true });
  const stepsPerEpoch = loader.batchesPerEpoch;

  // Model, loss, optimizer.
  const entry = modelEntry(cfg.model);
  const model = createSegModel(cfg.model, { numClasses, width: cfg.width, seed: cfg.seed });
  const gpl = createPerceptualLoss(cfg, numClasses);
  const optimizer = tf.train.momentum(cfg.lr, cfg.momentum);
  const vars = trainableVariables(model);
  const stepper: StepContext = { model, vars, optimizer, gpl, numClasses, ignoreIndex, auxWeight: entry.auxWeight, percepLambda: cfg.percepLambda, weightDecay: cfg.weightDecay };
  const dropout = new SeededMathRandom(new Rng(cfg.seed).fork('dropout').state());

  let step = 0;
  let rows: StepRow[] = [];
  let history: EvalRecord[] = [];
  let best = -Infinity;
  let lastCheckpoint: string | undefined;
  const csvFile = path.join(runDir, 'metrics.csv');

  try {
    if (cfg.resume && resolveCheckpointSafe(ckptRoot)) {
      const { dir, state } = await restoreCheckpoint(ckptRoot, { model, optimizer });
      step = state.step as number;
      dropout.rng.setState(state.dropoutRng as RngState);
      history = (state.history as EvalRecord[]) ?? [];
      best = (state.bestMIoU as number) ?? -Infinity;
      lastCheckpoint = dir;
      if (fs.existsSync(csvFile)) rows = csvToRows(fs.readFileSync(csvFile, 'utf8')).filter((r) => r.step <= step);
      log(`resumed from ${path.relative(process.cwd(), dir) || dir} at step ${step}/${cfg.iters}`);
    } else if (cfg.resume) {
      log(`--resume: no checkpoint in ${ckptRoot} yet; starting from step 0`);
    }

    const save = async (tags: string[]) => {
      const state = { step, dropoutRng: dropout.rng.state(), history, bestMIoU: best, model: cfg.model, dataset: cfg.dataset, numClasses, classNames: trainDs.classNames, width: cfg.width };
      lastCheckpoint = await saveCheckpoint(ckptRoot, { model, optimizer, state }, { tags, keep: 2 });
      await writeFileAtomic(csvFile, rowsToCsv(rows));
    };

    const runEval = async (): Promise<SegMetrics> => {
      const m = await evaluate(model, valDs, { mode: 'whole', crop: cfg.crop, numClasses, ignoreIndex, mean: augment.mean, std: augment.std });
      history = [...history.filter((h) => h.step !== step), { step, mIoU: m.mIoU, pixelAccuracy: m.pixelAccuracy, meanAccuracy: m.meanAccuracy }];
      const row = rows.find((r) => r.step === step);
      if (row) Object.assign(row, { val_miou: m.mIoU, val_pixel_acc: m.pixelAccuracy, val_mean_acc: m.meanAccuracy });
      return m;
    };

    // Batches: step s reads batch s mod stepsPerEpoch of epoch ⌊s / stepsPerEpoch⌋, prefetched one step ahead.
    const fetch = (s: number): Promise<SegmentationSample[]> => {
      const epoch = Math.floor(s / stepsPerEpoch);
      const k = s % stepsPerEpoch;
      const idx = loader.order(epoch).slice(k * cfg.batch, (k + 1) * cfg.batch);
      return Promise.all(idx.map((i) => loader.sample(i, epoch)));
    };

    const progress = new Progress({ total: cfg.iters, label: 'train', start: step, ...(options.progressStream ? { stream: options.progressStream } : {}) });
    let pending = step < cfg.iters ? fetch(step) : undefined;
    let stepSeconds = 0;
    let stepsRun = 0;
    while (step < cfg.iters) {
      const samples = await pending!;
      pending = step + 1 < cfg.iters ? fetch(step + 1) : undefined;
      // Avoid an unhandled rejection if we stop before awaiting it.
      pending?.catch(() => undefined);
      const started = Date.now();
      const lr = polyLearningRate(step, cfg.iters, cfg.lr, cfg.polyPower);
      optimizer.setLearningRate(lr);
      const batch = toBatch(collateHost(samples));
      let out: StepResult;
      try {
        out = dropout.run(() => trainingStep(stepper, batch, { forceNaN: step === options.nanAtStep }));
      } finally {
        disposeBatch(batch);
      }
      if (!Number.isFinite(out.total)) throw new NonFiniteLossError(step + 1, out.total, lastCheckpoint);
      const { total, terms } = out;
      step++;
      const seconds = (Date.now() - started) / 1000;
      stepSeconds += seconds;
      stepsRun++;
      rows.push({ step, lr, loss: total, loss_ce: terms.loss_ce, loss_aux: terms.loss_aux ?? NaN, loss_gpl: terms.loss_gpl ?? NaN, seconds });
      progress.update(step, { loss: total.toFixed(4), lr: lr.toExponential(2) });
      options.onStep?.({ step, loss: total, lr, terms });

      const isEval = (cfg.evalEvery > 0 && step % cfg.evalEvery === 0) || step === cfg.iters;
      const isCkpt = isEval || (cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0);
      if (isEval) {
        const m = await runEval();
        const improved = m.mIoU > best;
        if (improved) best = m.mIoU;
        if (step < cfg.iters) log(`\nstep ${step}: val mIoU ${(100 * m.mIoU).toFixed(2)}%, pixel accuracy ${(100 * m.pixelAccuracy).toFixed(2)}%`);
        await save(improved ? ['latest', 'best'] : ['latest']);
        if (options.plots !== false) await writePlots(runDir, rows, history);
      } else if (isCkpt) {
        await save(['latest']);
      }
      if (options.stopAfter !== undefined && step >= options.stopAfter && step < cfg.iters) {
        progress.finish();
        await pending?.catch(() => undefined);
        return { runDir, step, status: 'stopped', history, classNames: trainDs.classNames, secondsPerStep: stepsRun ? stepSeconds / stepsRun : 0 };
      }
    }
    progress.finish();

    // The end: final metrics (recomputed when resuming a finished run), overlays, plots.
    const final = await evaluate(model, valDs, {
      mode: 'whole', crop: cfg.crop, numClasses, ignoreIndex, mean: augment.mean, std: augment.std,
      onPrediction: async (s, pred, i) => {
        if (i < (options.overlays ?? 4)) await writeOverlay(path.join(runDir, 'samples', `${s.id}.png`), s, pred, valDs.palette, ignoreIndex);
      },
    });
    if (!history.some((h) => h.step === step)) {
      history = [...history, { step, mIoU: final.mIoU, pixelAccuracy: final.pixelAccuracy, meanAccuracy: final.meanAccuracy }];
      await save(final.mIoU > best ? ['latest', 'best'] : ['latest']);
    }
    if (options.plots !== false) await writePlots(runDir, rows, history);
    await writeFileAtomic(path.join(runDir, 'final.json'), JSON.stringify({ step, mIoU: final.mIoU, pixelAccuracy: final.pixelAccuracy, meanAccuracy: final.meanAccuracy, iou: final.iou, classNames: trainDs.classNames }, null, 1) + '\n');
    return { runDir, step, status: 'done', final, history, classNames: trainDs.classNames, secondsPerStep: stepsRun ? stepSeconds / stepsRun : 0 };
  } catch (err) {
    if (err instanceof NonFiniteLossError) {
      // Keep what was logged up to the failure next to the last good checkpoint.
      await writeFileAtomic(csvFile, rowsToCsv(rows));
    }
    throw err;
  } finally {
    model.dispose();
    gpl?.dispose();
    optimizer.dispose();
  }
}

function resolveCheckpointSafe(root: string): string | undefined {
  return fs.existsSync(root) ? resolveCheckpoint(root) : undefined;
}

/** plots/loss.png, lr.png, miou.png, pixel_accuracy.png. */
async function writePlots(runDir: string, rows: readonly StepRow[], history: readonly EvalRecord[]): Promise<void> {
  const dir = path.join(runDir, 'plots');
  const series = (name: string, key: keyof StepRow): Series[] => {
    const pts = rows.filter((r) => r[key] !== undefined && Number.isFinite(r[key] as number));
    return pts.length ? [{ name, x: pts.map((r) => r.step), y: pts.map((r) => r[key] as number) }] : [];
  };
  if (rows.length) {
    await writeLinePlotPng(path.join(dir, 'loss.png'), [...series('total', 'loss'), ...series('cross-entropy', 'loss_ce'), ...series('aux CE', 'loss_aux'), ...series('GPL', 'loss_gpl')], {
      title: 'Training loss', xLabel: 'iteration', yLabel: 'loss',
    });
    await writeLinePlotPng(path.join(dir, 'lr.png'), series('lr', 'lr'), { title: 'Learning rate (poly)', xLabel: 'iteration', yLabel: 'lr' });
  }
  if (history.length) {
    const hx = history.map((h) => h.step);
    await writeLinePlotPng(path.join(dir, 'miou.png'), [{ name: 'val mIoU', x: hx, y: history.map((h) => 100 * h.mIoU) }], { title: 'Validation mIoU', xLabel: 'iteration', yLabel: 'mIoU (%)' });
    await writeLinePlotPng(path.join(dir, 'pixel_accuracy.png'), [{ name: 'val pixel accuracy', x: hx, y: history.map((h) => 100 * h.pixelAccuracy) }], {
      title: 'Validation pixel accuracy', xLabel: 'iteration', yLabel: 'pixel accuracy (%)',
    });
  }
}

/** Loads the model of a run's checkpoint into a freshly built model of the registry. */
export async function loadRunModel(checkpoint: string, fallback: { model?: string; width?: number; numClasses?: number } = {}): Promise<{ model: tfl.LayersModel; state: Record<string, unknown>; dir: string }> {
  const root = fs.existsSync(path.join(checkpoint, 'checkpoints')) ? path.join(checkpoint, 'checkpoints') : checkpoint;
  const dir = fs.existsSync(path.join(root, 'state.json')) ? root : resolveCheckpointSafe(root);
  if (!dir) throw new RangeError(`[seg] --checkpoint ${checkpoint}: no checkpoint there (expected a run folder, its checkpoints/ folder, or a step-* folder with state.json).`);
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as Record<string, unknown>;
  const name = (state.model as string) ?? fallback.model;
  const width = (state.width as number) ?? fallback.width;
  const numClasses = (state.numClasses as number) ?? fallback.numClasses;
  if (!name || !width || !numClasses) throw new RangeError(`[seg] ${dir}/state.json does not name the model, width and classes of the checkpoint.`);
  const model = createSegModel(name, { numClasses, width, seed: 0 });
  try {
    await restoreCheckpoint(dir, { model });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, state, dir };
}


/**
 * The training loop, written once for every task (detectron2's SimpleTrainer with its periodic
 * checkpointer, eval hook and best checkpointer, as data): SGD with momentum and a poly learning
 * rate, step-indexed prefetch, evaluation and checkpoint cadence, `best` chosen by the task's
 * score, the NaN stop, metrics.csv and plots, progress with ETA, and final.json.
 *
 * Resume equivalence: everything a step depends on is a function of the step number (learning
 * rate, epoch order, per-sample augmentation seeds) or is in the checkpoint (weights including
 * BatchNorm statistics, momentum slots, and the dropout random stream), so a resumed run ends
 * bit for bit where an uninterrupted one does.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Progress, Rng, restoreCheckpoint, saveCheckpoint, type RngState } from '@gpl/core';
import { DataLoader, collateHost, disposeBatch, toBatch, writeFileAtomic, type Batch, type Dataset, type Sample, type Transform } from '@gpl/data';
import type { GenericPerceptualLoss } from '@gpl/loss';
import { DivergenceWatch } from './divergence';
import { NonFiniteLossError } from './errors';
import { MetricsLog, writeRunPlots, type MetricPlot } from './metrics-log';
import { createPerceptualLoss, describePerceptualEngine, perceptualOption, type PerceptualFlags } from './perceptual';
import { discardRunFolder, openRunFolder } from './run-folder';
import { polyLearningRate } from './schedule';
import { sgdStep, trainableVariables, type LossTerms, type StepLoss } from './sgd-step';

/** The options the loop itself reads; a task's config extends them. */
export interface LoopConfig extends PerceptualFlags {
  /** Images per step. */
  readonly batch: number;
  /** Optimizer steps. */
  readonly iters: number;
  /** Base learning rate. */
  readonly lr: number;
  /** Poly decay power. */
  readonly polyPower: number;
  readonly momentum: number;
  /** L2 weight decay on convolution kernels. */
  readonly weightDecay: number;
  /** Seed of weights, data order, augmentation and dropout. */
  readonly seed: number;
  /** Evaluate every this many steps (0: only at the end). */
  readonly evalEvery: number;
  /** Checkpoint every this many steps (0: only at evaluations and the end). */
  readonly checkpointEvery: number;
  /** Continue from the last checkpoint in `out`. */
  readonly resume: boolean;
  /** Run folder. */
  readonly out: string;
}

/** What a task's data gives the loop. */
export interface TaskData<I> {
  readonly train: Dataset<Sample>;
  /** Per-sample training transform (augmentation, normalisation). */
  readonly transform: Transform;
  /** Everything else the task's own functions need (val split, class names, …). */
  readonly info: I;
  /** Lines to log once the data is open (e.g. which soft labels are used). */
  readonly notes?: readonly string[];
}

/** Arguments of a task's loss. */
export interface LossArgs<C, I> {
  readonly model: tfl.LayersModel;
  readonly batch: Batch;
  readonly cfg: C;
  readonly info: I;
  /** The frozen perceptual-loss network, when the run has one. */
  readonly gpl?: GenericPerceptualLoss;
  /** λ of the perceptual term (0 without one). */
  readonly lambda: number;
}

/** Where and how final predictions are drawn. */
export interface FinishArgs<C, I> {
  readonly model: tfl.LayersModel;
  readonly cfg: C;
  readonly info: I;
  readonly runDir: string;
  /** Sample drawings to write (options.samples). */
  readonly samples: number;
}

/**
 * One task, as the engine sees it (Lightning's module, reduced to what these tasks need).
 * @typeParam C the task's config; I what its data opening returns; M its evaluation metrics.
 */
export interface TaskSpec<C extends LoopConfig, I, M> {
  /** Short name: message prefix and default run root (`runs/<name>`). */
  readonly name: string;
  openData(cfg: C): Promise<TaskData<I>>;
  /** The network; `log` takes lines for the run's log (e.g. what a pretrained import matched). */
  buildModel(cfg: C, info: I, log?: (line: string) => void): tfl.LayersModel;
  /** Input channels of the perceptual-loss network (classes for segmentation, 1 for depth and masks). */
  perceptualChannels(info: I): number;
  /** The loss of one training step, built under the gradient tape. */
  loss(args: LossArgs<C, I>): LossTerms;
  /** Validation metrics of the model. */
  evaluate(model: tfl.LayersModel, cfg: C, info: I): Promise<M>;
  /** The last evaluation of a run; may also draw sample predictions. Default: `evaluate`. */
  finalEvaluate?(args: FinishArgs<C, I>): Promise<M>;
  /** Metrics as metrics.csv columns (`val_*`). */
  metricRow(m: M): Record<string, number>;
  /** Higher is better: picks the `best` checkpoint. */
  score(m: M): number;
  /** One line for the log at evaluations. */
  describe(m: M): string;
  /** What a checkpoint's state.json records about the model, so that it can be rebuilt and checked. */
  checkpointState(cfg: C, info: I): Record<string, unknown>;
  /** final.json besides `step` (default: the metric row). */
  finalRecord?(m: M, info: I): Record<string, unknown>;
  /** Metric plots written beside loss.png and lr.png. */
  readonly metricPlots?: readonly MetricPlot[];
  /**
   * The task's options added after runs were made, with the value an older run (whose config.json
   * lacks them) used, so that `--resume` of such a run is not refused as a different one.
   */
  readonly addedOptions?: Readonly<Record<string, unknown>>;
  /** Frees what `openData` holds besides tensors the loop owns (e.g. a teacher network); called once the run ends. */
  dispose?(info: I): void;
}

/** One evaluation during a run: the step and the metric row. */
export interface EvalRecord {
  readonly step: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/** Hooks and switches that are not part of the run's configuration. */
export interface TrainOptions {
  /** Log lines (default console.log). */
  readonly log?: (line: string) => void;
  /** Where the progress bar goes (default stderr). */
  readonly progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Stop (as if killed) right after the checkpoint of this step: tests of resume. */
  readonly stopAfter?: number;
  /** Replace the loss of this step by NaN: tests of the NaN stop. */
  readonly nanAtStep?: number;
  /** Validation samples drawn at the end (default 4). */
  readonly samples?: number;
  /** Write plots (default true). */
  readonly plots?: boolean;
  /** Called after every step (tests watch `tf.memory()` here). */
  readonly onStep?: (info: { step: number; loss: number; lr: number; terms: Readonly<Record<string, number>>; stats: Readonly<Record<string, number>> }) => void;
}

/** What a run returns. */
export interface TrainResult<M, I = unknown> {
  readonly runDir: string;
  /** Steps completed. */
  readonly step: number;
  /** 'done', or 'stopped' when `stopAfter` ended it early. */
  readonly status: 'done' | 'stopped';
  /** Validation metrics at the last step (absent when stopped early). */
  readonly final?: M;
  readonly history: readonly EvalRecord[];
  /** Mean wall-clock seconds per training step in this process. */
  readonly secondsPerStep: number;
  /** What the task's data opening returned (class names, …). */
  readonly info: I;
}

/**
 * tfjs draws the seed of every random op (dropout masks) from Math.random. During the synchronous
 * forward/backward of a step only, Math.random is a seeded stream whose state is checkpointed, so
 * dropout masks are reproducible and a resumed run matches an uninterrupted one.
 */
export class SeededMathRandom {
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

/**
 * Restores the first checkpoint of `candidates` (newest first) that reads back whole, saying which
 * damaged ones it passed over; throws the newest one's error when none does.
 */
async function restoreNewestIntact(
  candidates: readonly string[],
  target: Parameters<typeof restoreCheckpoint>[1],
  log: (line: string) => void,
): Promise<{ dir: string; state: Record<string, unknown> }> {
  const failures: string[] = [];
  let first: unknown;
  for (const dir of candidates) {
    try {
      const restored = await restoreCheckpoint(dir, target);
      if (failures.length) log(`--resume: ${failures.join('; ')}; resuming from the newest intact checkpoint, ${path.basename(dir)}.`);
      return restored;
    } catch (e) {
      first ??= e;
      failures.push(`${path.basename(dir)} is damaged (${(e as Error).message.replace(/^\[[^\]]*\]\s*/, '')})`);
    }
  }
  throw first;
}

/** Samples of step s: batch s mod (batches per epoch) of epoch ⌊s / batches per epoch⌋. */
function stepSamples(loader: DataLoader<Sample>, batch: number, s: number): Promise<Sample[]> {
  const perEpoch = loader.batchesPerEpoch;
  const epoch = Math.floor(s / perEpoch);
  const k = s % perEpoch;
  const idx = loader.order(epoch).slice(k * batch, (k + 1) * batch);
  return Promise.all(idx.map((i) => loader.sample(i, epoch)));
}

/**
 * Trains (or resumes) a run of `task` described by a validated config. The backend must already
 * be initialised (`initBackend` from @gpl/core). A run that fails before its first step leaves no
 * run folder behind; one that fails later keeps its last good checkpoint.
 */
export async function train<C extends LoopConfig, I, M>(task: TaskSpec<C, I, M>, cfg: C, options: TrainOptions = {}): Promise<TrainResult<M, I>> {
  const log = options.log ?? ((l: string) => console.log(l));
  const percep = perceptualOption(cfg, task.name);
  const run = await openRunFolder(cfg as C & Record<string, unknown>, { task: task.name, ...(task.addedOptions ? { absentMeans: task.addedOptions } : {}) });
  const csvFile = path.join(run.runDir, 'metrics.csv');
  let firstStepDone = false;
  let model: tfl.LayersModel | undefined;
  let gpl: GenericPerceptualLoss | undefined;
  let optimizer: tf.MomentumOptimizer | undefined;
  let opened: TaskData<I> | undefined;
  try {
    const data = await task.openData(cfg);
    opened = data;
    for (const note of data.notes ?? []) log(note);
    if (data.train.length < cfg.batch) {
      throw new RangeError(`[${task.name}] option 'batch': ${cfg.batch} is more than the ${data.train.length} training samples of ${data.train.name}.`);
    }
    const loader = new DataLoader(data.train, { batchSize: cfg.batch, seed: cfg.seed, transform: data.transform, dropLast: true });
    model = task.buildModel(cfg, data.info, log);
    gpl = createPerceptualLoss(percep, task.perceptualChannels(data.info), cfg.seed);
    if (gpl) log(`loss network engine: ${describePerceptualEngine(gpl)}`);
    optimizer = tf.train.momentum(cfg.lr, cfg.momentum);
    const vars = trainableVariables(model);
    const dropout = new SeededMathRandom(new Rng(cfg.seed).fork('dropout').state());
    const lambda = percep?.lambda ?? 0;
    const score = (m: M) => task.score(m);

    let step = 0;
    let history: EvalRecord[] = [];
    let best = -Infinity;
    let lastCheckpoint: string | undefined;
    let csv = new MetricsLog(csvFile);
    if (run.resumeFrom) {
      const { dir, state } = await restoreNewestIntact(run.resumeFrom, { model, optimizer }, log);
      step = state.step as number;
      dropout.rng.setState(state.dropoutRng as RngState);
      history = (state.history as EvalRecord[]) ?? [];
      best = (state.bestScore as number) ?? -Infinity;
      lastCheckpoint = dir;
      csv = await MetricsLog.resume(csvFile, step);
      log(`resumed from ${path.relative(process.cwd(), dir) || dir} at step ${step}/${cfg.iters}`);
    }
    firstStepDone = step > 0;

    const save = async (tags: string[]) => {
      const state = { step, dropoutRng: dropout.rng.state(), history, bestScore: best, task: task.name, ...task.checkpointState(cfg, data.info) };
      lastCheckpoint = await saveCheckpoint(run.checkpoints, { model, optimizer, state }, { tags, keep: 2 });
      await csv.write();
    };
    /** Records an evaluation at this step, moves `best` when it improved, and checkpoints. */
    const evaluated = async (m: M) => {
      const row = task.metricRow(m);
      history = [...history.filter((h) => h.step !== step), { step, metrics: row }];
      csv.evaluation(step, row);
      const improved = score(m) > best;
      if (improved) best = score(m);
      await save(improved ? ['latest', 'best'] : ['latest']);
    };
    const plots = async () => {
      if (options.plots !== false) await writeRunPlots(run.runDir, csv, task.metricPlots ?? []);
    };

    const progress = new Progress({ total: cfg.iters, label: 'train', start: step, ...(options.progressStream ? { stream: options.progressStream } : {}) });
    let pending = step < cfg.iters ? stepSamples(loader, cfg.batch, step) : undefined;
    const divergence = new DivergenceWatch();
    let stepSeconds = 0;
    let stepsRun = 0;
    const result = (status: 'done' | 'stopped', final?: M): TrainResult<M, I> => ({
      runDir: run.runDir,
      step,
      status,
      ...(final !== undefined ? { final } : {}),
      history,
      secondsPerStep: stepsRun ? stepSeconds / stepsRun : 0,
      info: data.info,
    });
    try {
      while (step < cfg.iters) {
        const samples = await pending!;
        pending = step + 1 < cfg.iters ? stepSamples(loader, cfg.batch, step + 1) : undefined;
        // Avoid an unhandled rejection if the run stops before awaiting it.
        pending?.catch(() => undefined);
        const started = Date.now();
        const lr = polyLearningRate(step, cfg.iters, cfg.lr, cfg.polyPower);
        optimizer.setLearningRate(lr);
        const batch = toBatch(collateHost(samples));
        let out: StepLoss;
        try {
          out = dropout.run(() =>
            sgdStep({ vars, optimizer: optimizer!, weightDecay: cfg.weightDecay }, () => task.loss({ model: model!, batch, cfg, info: data.info, gpl, lambda }), step === options.nanAtStep),
          );
        } finally {
          disposeBatch(batch);
        }
        if (!Number.isFinite(out.total)) throw new NonFiniteLossError(task.name, step + 1, out.total, lastCheckpoint);
        step++;
        const warning = divergence.observe(step, out.total, `lower --lr (now ${cfg.lr})`);
        if (warning) log(`\n${warning}`);
        firstStepDone = true;
        const seconds = (Date.now() - started) / 1000;
        stepSeconds += seconds;
        stepsRun++;
        csv.step(step, { lr, loss: out.total, seconds, terms: out.terms, stats: out.stats });
        progress.update(step, { loss: out.total.toFixed(4), lr: lr.toExponential(2) });
        options.onStep?.({ step, loss: out.total, lr, terms: out.terms, stats: out.stats });

        const isEval = (cfg.evalEvery > 0 && step % cfg.evalEvery === 0) || step === cfg.iters;
        const isCkpt = isEval || (cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0);
        if (isEval) {
          const m = await task.evaluate(model, cfg, data.info);
          if (step < cfg.iters) log(`\nstep ${step}: ${task.describe(m)}`);
          await evaluated(m);
          await plots();
        } else if (isCkpt) {
          await save(['latest']);
        }
        if (options.stopAfter !== undefined && step >= options.stopAfter && step < cfg.iters) {
          progress.finish();
          await pending?.catch(() => undefined);
          return result('stopped');
        }
      }
      progress.finish();
    } catch (err) {
      // Keep what was logged up to the failure next to the last good checkpoint.
      if (err instanceof NonFiniteLossError && firstStepDone) await csv.write();
      throw err;
    }

    // The end: final metrics (recomputed when resuming a finished run), sample drawings, plots.
    const finish = { model, cfg, info: data.info, runDir: run.runDir, samples: options.samples ?? 4 };
    const final = task.finalEvaluate ? await task.finalEvaluate(finish) : await task.evaluate(model, cfg, data.info);
    if (!history.some((h) => h.step === step)) await evaluated(final);
    await plots();
    await writeFileAtomic(
      path.join(run.runDir, 'final.json'),
      JSON.stringify({ step, ...(task.finalRecord ? task.finalRecord(final, data.info) : task.metricRow(final)) }, null, 1) + '\n',
    );
    return result('done', final);
  } catch (err) {
    if (!firstStepDone) discardRunFolder(run);
    throw err;
  } finally {
    if (opened) task.dispose?.(opened.info);
    model?.dispose();
    gpl?.dispose();
    optimizer?.dispose();
    // tfjs 4.22: MomentumOptimizer.dispose() frees its slots but not the learning-rate scalar
    // that SGDOptimizer.setLearningRate keeps.
    (optimizer as unknown as { c?: tf.Tensor } | undefined)?.c?.dispose();
  }
}

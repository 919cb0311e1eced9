/**
 * Training of the SR pilot: each variant (pixel; pixel + λ·random VGG; pixel + λ·pretrained VGG)
 * with the same seed, patches and schedule, in its own subfolder of the run, then the report.
 *
 * Why not `@gpl/engine`'s `train`: its loop is built for the dense-prediction tasks — momentum SGD
 * with a poly schedule (`tf.train.momentum`, fixed in the loop), and `Sample`/`Batch` types of
 * segmentation, depth and instance samples. MSRResNet's recipe is Adam (β 0.9, 0.99) and its
 * samples are HR/LR patch pairs. This loop therefore uses the engine's pieces — `sgdStep` (one
 * optimizer step on named loss terms, NaN left unapplied), run folders with resume checks,
 * metrics.csv and plots, `NonFiniteLossError` — with Adam and cosine annealing (BasicSR's
 * CosineAnnealingRestartLR, one period). A variant's patches of step s depend only on seed and
 * s, and a checkpoint holds the weights and Adam's moments, so `--resume` continues where a run
 * stopped.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Progress, resolveCheckpoint, restoreCheckpoint, saveCheckpoint, toPyTorchName, withPretrainedEncoder } from '@gpl/core';
import { writeFileAtomic } from '@gpl/data';
import { MetricsLog, NonFiniteLossError, describePerceptualEngine, openRunFolder, sgdStep, trainableVariables, writeRunPlots } from '@gpl/engine';
import type { StateDict } from '@gpl/loss';
import { readWeightFile } from '@gpl/weights';
import type { SrConfig } from './config';
import { imagesToTensor, openSrData, stepPatches, type RgbImage, type SrData } from './data';
import { bicubicRow, measure, superResolve, writeReport, type ReportRow, type SrMetrics } from './evaluate';
import { createPerceptualTerm, srLoss, type SrVariant } from './losses';
import { buildSrModel } from './model';

/** Table labels of the variants. */
export function variantLabel(variant: SrVariant, cfg: Pick<SrConfig, 'percep' | 'percepLambda'>): string {
  if (variant === 'pixel') return 'pixel (L1)';
  return `L1 + ${cfg.percepLambda}·${variant === 'random-vgg' ? 'random' : 'pretrained'} ${cfg.percep}`;
}

/** Cosine annealing from lr to lrMin over the run (one period of BasicSR's CosineAnnealingRestartLR). */
export function cosineLearningRate(step: number, iters: number, lr: number, lrMin: number): number {
  return lrMin + 0.5 * (lr - lrMin) * (1 + Math.cos((Math.PI * step) / iters));
}

/** What training one variant gives. */
export interface VariantResult {
  readonly variant: SrVariant;
  readonly metrics: SrMetrics;
  readonly runDir: string;
  readonly secondsPerStep: number;
  readonly seconds: number;
}

/** Hooks for tests. */
export interface SrTrainOptions {
  readonly log?: (line: string) => void;
  readonly progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Called after each step (tests watch `tf.memory()`). */
  readonly onStep?: (step: number) => void;
}

/** The options of one variant's run folder: what decides its result. */
function variantConfig(cfg: SrConfig, variant: SrVariant): Record<string, unknown> & { out: string; resume: boolean } {
  const { variants: _variants, out, valImages: _valImages, backend: _backend, ...rest } = cfg;
  const percep = variant === 'pixel' ? { percep: 'none', percepLambda: 0, percepPretrained: '' } : variant === 'random-vgg' ? { percepPretrained: '' } : {};
  return { ...rest, ...percep, variant, out: path.join(out, variant) };
}

/** Sets Adam's learning rate; tfjs reads the field at every `applyGradients` but declares it protected. */
function setAdamLearningRate(optimizer: tf.AdamOptimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/**
 * The SR network of `cfg`, with `cfg.pretrained`'s weights when given. The layers carry BasicSR's
 * names (conv_first, body.<i>.conv1/conv2, upconv1/2, conv_hr, conv_last), so every weight comes
 * from the file, kernels OIHW → HWIO; the import's table goes to `log`.
 */
export function buildStartingModel(cfg: Pick<SrConfig, 'features' | 'blocks' | 'seed' | 'pretrained'>, log?: (line: string) => void): tfl.LayersModel {
  return withPretrainedEncoder(
    buildSrModel({ features: cfg.features, blocks: cfg.blocks, seed: cfg.seed }),
    cfg.pretrained ? readWeightFile(cfg.pretrained) : undefined,
    {
      isEncoderWeight: () => true,
      toTorchName: (key) => toPyTorchName(key, '@gpl/sr'),
      caller: "[sr] option 'pretrained'",
      expectedSource: `BasicSR MSRResNet ×4 weights with ${cfg.features} features and ${cfg.blocks} blocks (--features, --blocks)`,
    },
    log,
  );
}

/** Trains (or resumes, or re-evaluates a finished) variant; returns its metrics and its outputs on the validation images. */
export async function trainVariant(cfg: SrConfig, variant: SrVariant, data: SrData, dict: StateDict | undefined, o: SrTrainOptions = {}): Promise<VariantResult & { outputs: RgbImage[] }> {
  const log = o.log ?? ((l: string) => console.log(l));
  const vcfg = variantConfig(cfg, variant);
  const run = await openRunFolder({ ...vcfg, resume: cfg.resume && fs.existsSync(path.join(vcfg.out, 'checkpoints', 'latest')) }, { task: 'sr' });
  const model = buildStartingModel(cfg, (line) => log(`${variant}: ${line}`));
  const percep = createPerceptualTerm(variant, cfg, cfg.seed, dict);
  const optimizer = tf.train.adam(cfg.lr, cfg.beta1, cfg.beta2, 1e-8);
  const started = Date.now();
  try {
    if (percep) log(`${variant}: loss network ${percep.network.describe().label}, ${describePerceptualEngine(percep.network)}`);
    const vars = trainableVariables(model);
    const csvFile = path.join(run.runDir, 'metrics.csv');
    let step = 0;
    let csv = new MetricsLog(csvFile);
    let lastCheckpoint: string | undefined;
    const latest = fs.existsSync(run.checkpoints) ? resolveCheckpoint(run.checkpoints) : undefined;
    if (latest && cfg.resume) {
      const { state } = await restoreCheckpoint(latest, { model, optimizer });
      step = state.step as number;
      csv = await MetricsLog.resume(csvFile, step);
      lastCheckpoint = latest;
      log(`${variant}: resumed at step ${step}/${cfg.iters}`);
    }
    const save = async () => {
      lastCheckpoint = await saveCheckpoint(run.checkpoints, { model, optimizer, state: { step, variant, task: 'sr', features: cfg.features, blocks: cfg.blocks } }, { keep: 2 });
      await csv.write();
    };
    const evaluate = async () => {
      const outputs = await superResolve(model, data.val);
      return { ...measure(data.val, outputs), outputs };
    };

    const progress = new Progress({ total: cfg.iters, label: `train ${variant}`, start: step, ...(o.progressStream ? { stream: o.progressStream } : {}) });
    let stepSeconds = 0;
    let stepsRun = 0;
    while (step < cfg.iters) {
      const t0 = Date.now();
      const lr = cosineLearningRate(step, cfg.iters, cfg.lr, cfg.lrMin);
      setAdamLearningRate(optimizer, lr);
      const patches = stepPatches(data.train, { seed: cfg.seed, step, batch: cfg.batch, patch: cfg.patch });
      const lrT = imagesToTensor(patches.lr);
      const hrT = imagesToTensor(patches.hr);
      let out;
      try {
        out = sgdStep({ vars, optimizer, weightDecay: 0 }, () => srLoss(model.apply(lrT, { training: true }) as tf.Tensor4D, hrT, percep));
      } finally {
        tf.dispose([lrT, hrT]);
      }
      if (!Number.isFinite(out.total)) {
        await csv.write();
        throw new NonFiniteLossError('sr', step + 1, out.total, lastCheckpoint);
      }
      step++;
      const seconds = (Date.now() - t0) / 1000;
      stepSeconds += seconds;
      stepsRun++;
      csv.step(step, { lr, loss: out.total, seconds, terms: out.terms });
      progress.update(step, { loss: out.total.toFixed(4), lr: lr.toExponential(2) });
      o.onStep?.(step);
      if (cfg.evalEvery > 0 && step % cfg.evalEvery === 0 && step < cfg.iters) {
        const m = await evaluate();
        csv.evaluation(step, { val_psnr: m.psnr, val_ssim: m.ssim });
        log(`\n${variant} step ${step}: PSNR ${m.psnr.toFixed(2)} dB, SSIM ${m.ssim.toFixed(4)}`);
        await save();
      }
    }
    progress.finish();
    const m = await evaluate();
    csv.evaluation(step, { val_psnr: m.psnr, val_ssim: m.ssim });
    await save();
    await writeRunPlots(run.runDir, csv, [
      { file: 'psnr.png', column: 'val_psnr', title: 'Validation PSNR (Y)', yLabel: 'dB' },
      { file: 'ssim.png', column: 'val_ssim', title: 'Validation SSIM (Y)', yLabel: 'SSIM' },
    ]);
    await writeFileAtomic(path.join(run.runDir, 'final.json'), JSON.stringify({ step, psnr: m.psnr, ssim: m.ssim }, null, 1) + '\n');
    const secondsPerStep = stepsRun ? stepSeconds / stepsRun : 0;
    log(`${variant}: PSNR ${m.psnr.toFixed(2)} dB, SSIM ${m.ssim.toFixed(4)} (${stepsRun} steps here, ${secondsPerStep.toFixed(2)} s/step)`);
    return { variant, metrics: { psnr: m.psnr, ssim: m.ssim }, runDir: run.runDir, secondsPerStep, seconds: (Date.now() - started) / 1000, outputs: m.outputs };
  } finally {
    model.dispose();
    percep?.network.dispose();
    optimizer.dispose();
  }
}

/** What a pilot run returns. */
export interface SrRunResult {
  readonly runDir: string;
  readonly results: readonly VariantResult[];
  readonly markdown: string;
  readonly seconds: number;
}

/** The skipped-row note of a variant that cannot run with this config, or undefined when it can. */
export function skipReason(variant: SrVariant, cfg: SrConfig): string | undefined {
  if (!cfg.variants.includes(variant)) return 'not requested (--variants)';
  if (variant !== 'pixel' && (cfg.percep === 'none' || cfg.percepLambda === 0)) return 'skipped (--percep none or λ 0)';
  if (variant === 'pretrained-vgg' && !cfg.percepPretrained) return 'skipped (no weights supplied)';
  return undefined;
}

/** Trains every requested variant, then writes results.md/.csv and samples/ into the run folder. */
export async function trainSr(cfg: SrConfig, o: SrTrainOptions = {}): Promise<SrRunResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const started = Date.now();
  fs.mkdirSync(cfg.out, { recursive: true });
  await writeFileAtomic(path.join(cfg.out, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
  const data = await openSrData({ roots: cfg.dataRoots, patch: cfg.patch, valImages: cfg.valImages });
  for (const n of data.notes) log(n);
  const dict = cfg.percepPretrained && cfg.variants.includes('pretrained-vgg') ? readWeightFile(cfg.percepPretrained).tensors : undefined;
  const rows: ReportRow[] = [bicubicRow(data.val)];
  const results: VariantResult[] = [];
  for (const variant of ['pixel', 'random-vgg', 'pretrained-vgg'] as const) {
    const why = skipReason(variant, cfg);
    if (why) {
      rows.push({ method: variantLabel(variant, cfg), note: why });
      continue;
    }
    const { outputs, ...r } = await trainVariant(cfg, variant, data, dict, o);
    rows.push({ method: variantLabel(variant, cfg), metrics: r.metrics, outputs });
    results.push(r);
  }
  const context = `${data.val.length} validation images of ${cfg.dataRoots.map((r) => path.basename(r)).join(', ')}; MSRResNet ${cfg.features}×${cfg.blocks} blocks, ${cfg.iters} Adam steps of ${cfg.batch}×${cfg.patch}² patches, seed ${cfg.seed}; LR by MATLAB-style bicubic`;
  const markdown = await writeReport(cfg.out, data.val, rows, context);
  return { runDir: cfg.out, results, markdown, seconds: (Date.now() - started) / 1000 };
}

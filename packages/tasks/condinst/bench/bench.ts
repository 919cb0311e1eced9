/**
 * condinst:bench — time of one training step (forward, backward, SGD update through the engine's
 * `sgdStep` on the CondInst loss, as condinst:train runs it) at the default run size, without
 * GPL, with GPL against the ground-truth masks, and with GPL against a teacher run alongside
 * (the teacher's share measured as its forward alone), as ratios to the baseline measured in the
 * same process, the four timed in turn. Writes bench-results/condinst.json.
 *
 * Flags: --backend auto|wasm|cpu|tensorflow, --reps N (default 3), --width, --teacher-width,
 * --canvas HxW (default 192x256), --batch, --percep '1,1,1,1,1', --percep-engine auto|tfjs|onnxruntime.
 */
import * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend, parseBackendPreference } from '@gpl/core';
import { benchFlag, benchNumberFlag, interleavedMedians, settle, writeBenchResults } from '@gpl/core/bench';
import type { Instance } from '@gpl/data';
import { createPerceptualLoss, describePerceptualEngine, perceptualOption, sgdStep, trainableVariables } from '@gpl/engine';
import type { LossEngine } from '@gpl/loss';
import { defaultCondInstConfig } from '../src/config';
import { buildCondInst } from '../src/model';
import { condInstLoss } from '../src/train-loss';

const CLASSES = 8;
const reps = benchNumberFlag('reps', 3);
const width = benchNumberFlag('width', defaultCondInstConfig.width);
const teacherWidth = benchNumberFlag('teacher-width', 0.5);
const [H, W] = benchFlag('canvas', '192x256').split('x').map(Number);
const batch = benchNumberFlag('batch', defaultCondInstConfig.batch);
const percep = benchFlag('percep', defaultCondInstConfig.percep);
const engine = benchFlag('percep-engine', 'auto') as LossEngine;

/** Three rectangles per image, of three classes and sizes (every FPN level below P6 gets positives). */
function instances(): Instance[][] {
  const box = (x0: number, y0: number, w: number, h: number, classIndex: number): Instance => {
    const mask = new Uint8Array(H * W);
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) mask[y * W + x] = 1;
    return { classIndex, categoryId: classIndex + 1, box: [x0, y0, x0 + w, y0 + h], mask, crowd: false };
  };
  return Array.from({ length: batch }, (_, b) => [box(8 + b, 10, 40, 30, 0), box(70, 40 + b, 90, 70, 3), box(20, 100, 150, 80, 5)]);
}

async function main(): Promise<void> {
  const report = await initBackend({ prefer: parseBackendPreference(benchFlag('backend', 'auto'), '--backend') });
  console.log(`backend: ${formatBackendReport(report)}`);
  console.log(`training step, ${batch}×${H}×${W}, ResNet-50 width ${width} (teacher ${teacherWidth}), ${CLASSES} classes, median of ${reps}`);
  const model = buildCondInst({ numClasses: CLASSES, backbone: 'resnet50', width, seed: 1 });
  const teacher = buildCondInst({ numClasses: CLASSES, backbone: 'resnet50', width: teacherWidth, seed: 2 });
  const cfg = { ...defaultCondInstConfig, percep, percepEngine: engine };
  const gpl = createPerceptualLoss(perceptualOption(cfg, 'condinst'), 1, 1)!;
  const images = tf.randomNormal([batch, H, W, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const inst = instances();
  const optimizer = tf.train.momentum(cfg.lr, cfg.momentum);
  const ctx = { vars: trainableVariables(model), optimizer, weightDecay: cfg.weightDecay };
  const step = (perceptual?: { teacher?: typeof teacher }) => () =>
    void sgdStep(ctx, () => {
      const r = condInstLoss(model, images, inst, { numClasses: CLASSES, maxProposals: cfg.maxProposals, radius: cfg.radius, ...(perceptual ? { perceptual: { gpl, lambda: cfg.percepLambda, ...perceptual } } : {}) });
      return { total: r.total, terms: r.terms };
    });
  try {
    // Taken in turn, one of each per round, so that a change in the machine's load falls on all four.
    const [baseline, gtTarget, withTeacher, teacherForward] = await interleavedMedians(
      [step(), step({}), step({ teacher }), () => settle(teacher.predict(images) as tf.Tensor[])],
      { reps, warmups: 1 },
    );
    const rows = [
      { variant: 'baseline (FCOS + dice)', seconds: baseline, ratio: 1 },
      { variant: `+GPL ${percep} vs ground-truth masks`, seconds: gtTarget, ratio: gtTarget / baseline },
      { variant: `+GPL ${percep} vs teacher masks`, seconds: withTeacher, ratio: withTeacher / baseline },
      { variant: 'teacher forward alone', seconds: teacherForward, ratio: teacherForward / baseline },
    ];
    for (const r of rows) console.log(`  ${r.variant.padEnd(40)} ${(r.seconds * 1000).toFixed(0).padStart(7)} ms  ${r.ratio.toFixed(2)}×`);
    console.log(`  loss network: ${describePerceptualEngine(gpl)}`);
    console.log(`wrote ${writeBenchResults('condinst', { backend: report, batch, canvas: [H, W], width, teacherWidth, percep, engine: describePerceptualEngine(gpl), reps, rows })}`);
  } finally {
    tf.dispose(images);
    optimizer.dispose();
    gpl.dispose();
    model.dispose();
    teacher.dispose();
  }
}

main().catch((err: unknown) => {
  console.error((err as Error)?.stack ?? String(err));
  process.exit(1);
});

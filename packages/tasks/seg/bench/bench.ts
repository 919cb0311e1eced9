/**
 * seg:bench — time of one training step (forward, backward, SGD update: the engine's `sgdStep`
 * on the seg task's loss, as seg:train) with and without the generic perceptual loss, for each student model at the CPU
 * default size of a run (width, crop and batch of `defaultSegConfig`), and the ratio
 * step(+GPL) / step(baseline) measured in the same process. Writes bench-results/seg.json.
 *
 * Flags: --backend auto|wasm|cpu|tensorflow, --reps N (timed steps after 2 warm-up steps,
 * default 3), --models pspnet-r18,hrnet-w18-small,deeplabv3plus-r50, --percep 'none;vgg16;1,1,1,1,1'
 * (';'-separated), --width, --crop HxW, --batch.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend, parseBackendPreference } from '@gpl/core';
import { defaultSegConfig, parseCrop, type SegConfig } from '../src/config';
import { createPerceptualLoss, perceptualOption, sgdStep, trainableVariables } from '@gpl/engine';
import { createSegModel, modelEntry } from '../src/models';
import { segTask, type SegInfo } from '../src/task';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const CLASSES = 19;
const reps = Number(flag('reps', '3'));
const models = flag('models', 'pspnet-r18,hrnet-w18-small,deeplabv3plus-r50').split(',');
const variants = flag('percep', 'none;vgg16;1,1,1,1,1').split(';');
const width = Number(flag('width', String(defaultSegConfig.width)));
const crop = parseCrop(flag('crop', defaultSegConfig.crop.join('x')));
const batchSize = Number(flag('batch', String(defaultSegConfig.batch)));

interface Row {
  model: string;
  percep: string;
  seconds: number;
  /** seconds / the same model's baseline seconds in this run. */
  ratio: number;
}

/** Median seconds of `reps` steps after two warm-up steps (kernel setup, optimizer slots, loss-network caches). */
function time(step: () => void): number {
  step();
  step();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    step();
    samples.push((performance.now() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function measure(name: string, percep: string): number {
  const cfg: SegConfig = { ...defaultSegConfig, model: name, width, percep };
  const model = createSegModel(name, { numClasses: CLASSES, width, seed: 1 });
  const option = perceptualOption(cfg, 'seg');
  const gpl = createPerceptualLoss(option, CLASSES, cfg.seed);
  const optimizer = tf.train.momentum(cfg.lr, cfg.momentum);
  const [h, w] = crop;
  // Labels with spatial structure (horizontal bands) and some ignored pixels, soft labels one-hot.
  const batch = tf.tidy(() => {
    const rows = tf.floorDiv(tf.range(0, h, 1, 'int32'), Math.max(1, Math.floor(h / CLASSES)));
    const band = tf.minimum(rows, CLASSES - 1);
    const labels = tf.where(tf.equal(band, 3), tf.fill([h], 255, 'int32'), band);
    return {
      ids: [] as string[],
      images: tf.randomNormal([batchSize, h, w, 3], 0, 1, 'float32', 7) as tf.Tensor4D,
      labels: tf.tile(tf.reshape(labels, [1, h, 1]), [batchSize, 1, w]) as tf.Tensor3D,
    };
  });
  // Only what the loss reads: classes, ignore index, the auxiliary head's weight.
  const info = { classNames: Array.from({ length: CLASSES }, (_, i) => `c${i}`), ignoreIndex: 255, auxWeight: modelEntry(name).auxWeight } as unknown as SegInfo;
  try {
    const ctx = { vars: trainableVariables(model), optimizer, weightDecay: cfg.weightDecay };
    return time(() => {
      sgdStep(ctx, () => segTask.loss({ model, batch, cfg, info, gpl, lambda: option?.lambda ?? 0 }));
    });
  } finally {
    tf.dispose([batch.images, batch.labels]);
    optimizer.dispose();
    gpl?.dispose();
    model.dispose();
  }
}

async function main(): Promise<void> {
  const report = await initBackend({ prefer: parseBackendPreference(flag('backend', 'auto'), '--backend') });
  console.log(`backend: ${formatBackendReport(report)}`);
  console.log(`training step, ${batchSize}×${crop.join('×')}, width ${width}, ${CLASSES} classes, median of ${reps}`);
  const rows: Row[] = [];
  for (const name of models) {
    let baseline = NaN;
    for (const percep of variants) {
      const seconds = measure(name, percep);
      if (percep === 'none') baseline = seconds;
      const row = { model: name, percep, seconds, ratio: seconds / baseline };
      rows.push(row);
      console.log(`  ${name.padEnd(20)} ${(percep === 'none' ? 'baseline (CE)' : `+GPL ${percep}`).padEnd(20)} ${(seconds * 1000).toFixed(0).padStart(7)} ms/step  ${Number.isFinite(row.ratio) ? `${row.ratio.toFixed(2)}×` : ''}`);
    }
  }
  const out = path.resolve('bench-results/seg.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ date: new Date().toISOString(), backend: report, batch: batchSize, crop, width, classes: CLASSES, reps, rows }, null, 1) + '\n');
  fs.renameSync(tmp, out);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err: unknown) => {
  console.error((err as Error)?.stack ?? String(err));
  process.exit(1);
});

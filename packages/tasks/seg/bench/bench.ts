/**
 * seg:bench — time of one training step (forward, backward, SGD update: the engine's `sgdStep`
 * on the seg task's loss, as seg:train) with and without the generic perceptual loss, for each
 * student model at the CPU default size of a run (width, crop and batch of `defaultSegConfig`),
 * on each loss-network engine, and the ratio step(+GPL) / step(baseline) measured in the same
 * process, the configurations' steps taken in turn. Writes bench-results/seg.json.
 *
 * Flags: --backend auto|wasm|cpu|tensorflow, --reps N (timed rounds after two warm-up rounds,
 * default 3), --models pspnet-r18,hrnet-w18-small,deeplabv3plus-r50, --percep 'vgg16;1,1,1,1,1'
 * (';'-separated; the baseline is always measured), --percep-engines tfjs,onnxruntime, --width,
 * --crop HxW, --batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend, parseBackendPreference } from '@gpl/core';
import { benchFlag, benchListFlag, benchNumberFlag, interleavedMedians, writeBenchResults } from '@gpl/core/bench';
import { createPerceptualLoss, describePerceptualEngine, perceptualOption, sgdStep, trainableVariables } from '@gpl/engine';
import type { LossEngine } from '@gpl/loss';
import { defaultSegConfig, parseCrop, type SegConfig } from '../src/config';
import { createSegModel, modelEntry } from '../src/models';
import { segTask, type SegInfo } from '../src/task';

const CLASSES = 19;
const reps = benchNumberFlag('reps', 3);
const models = benchListFlag('models', ['pspnet-r18', 'hrnet-w18-small', 'deeplabv3plus-r50']);
const variants = benchFlag('percep', 'vgg16;1,1,1,1,1').split(';').filter((v) => v !== '' && v !== 'none');
const engines = benchListFlag('percep-engines', ['tfjs', 'onnxruntime']) as LossEngine[];
const width = benchNumberFlag('width', defaultSegConfig.width);
const crop = parseCrop(benchFlag('crop', defaultSegConfig.crop.join('x')));
const batchSize = benchNumberFlag('batch', defaultSegConfig.batch);

interface Row {
  model: string;
  percep: string;
  /** Loss-network engine that ran ('' for the baseline). */
  engine: string;
  seconds: number;
  /** seconds / the same model's baseline seconds in this run. */
  ratio: number;
}

/** One configuration's training step, ready to time, or why it could not be set up. */
interface Setup {
  readonly step: () => void;
  /** The loss engine's description ('' for the baseline). */
  readonly engine: string;
  dispose(): void;
}

/** Model, optimizer, batch and (with `percep`) the loss network of one configuration. */
function setUp(name: string, percep: string, engine: LossEngine): Setup | { skipped: string } {
  const cfg: SegConfig = { ...defaultSegConfig, model: name, width, percep, percepEngine: engine };
  const option = perceptualOption(cfg, 'seg');
  let gpl;
  try {
    gpl = createPerceptualLoss(option, CLASSES, cfg.seed);
  } catch (err) {
    return { skipped: (err as Error).message };
  }
  const model = createSegModel(name, { numClasses: CLASSES, width, seed: 1 });
  const optimizer = tf.train.momentum(cfg.lr, cfg.momentum);
  const [h, w] = crop;
  // Labels with spatial structure (horizontal bands) and some ignored pixels.
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
  const ctx = { vars: trainableVariables(model), optimizer, weightDecay: cfg.weightDecay };
  return {
    step: () => void sgdStep(ctx, () => segTask.loss({ model, batch, cfg, info, gpl, lambda: option?.lambda ?? 0 })),
    engine: gpl ? describePerceptualEngine(gpl) : '',
    dispose: () => {
      tf.dispose([batch.images, batch.labels]);
      optimizer.dispose();
      gpl?.dispose();
      model.dispose();
    },
  };
}

async function main(): Promise<void> {
  const report = await initBackend({ prefer: parseBackendPreference(benchFlag('backend', 'auto'), '--backend') });
  console.log(`backend: ${formatBackendReport(report)}`);
  console.log(`training step, ${batchSize}×${crop.join('×')}, width ${width}, ${CLASSES} classes, median of ${reps}`);
  const rows: Row[] = [];
  const skipped: string[] = [];
  const line = (r: Row) =>
    console.log(`  ${r.model.padEnd(20)} ${(r.percep === 'none' ? 'baseline (CE)' : `+GPL ${r.percep} ${r.engine.split(' ')[0]}`).padEnd(30)} ${(r.seconds * 1000).toFixed(0).padStart(7)} ms/step  ${r.ratio.toFixed(2)}×`);
  for (const name of models) {
    // The baseline and every variant of one model are set up together and their steps timed in
    // turn (two warm-up rounds: the loss network's caches settle after two), so that each ratio
    // compares steps that met the same machine.
    const configs = [{ percep: 'none', engine: 'tfjs' as LossEngine }, ...variants.flatMap((percep) => engines.map((engine) => ({ percep, engine })))];
    const setups: { percep: string; setup: Setup }[] = [];
    try {
      for (const c of configs) {
        const s = setUp(name, c.percep, c.engine);
        if ('skipped' in s) {
          if (c.percep === 'none') throw new Error(s.skipped);
          skipped.push(`${name} ${c.percep} ${c.engine}: ${s.skipped}`);
          console.log(`  ${name.padEnd(20)} +GPL ${c.percep} ${c.engine}: skipped (${s.skipped})`);
          continue;
        }
        setups.push({ percep: c.percep, setup: s });
      }
      const seconds = await interleavedMedians(
        setups.map((s) => s.setup.step),
        { reps, warmups: 2 },
      );
      setups.forEach((s, i) => {
        rows.push({ model: name, percep: s.percep, engine: s.setup.engine, seconds: seconds[i], ratio: seconds[i] / seconds[0] });
        line(rows[rows.length - 1]);
      });
    } finally {
      setups.forEach((s) => s.setup.dispose());
    }
  }
  console.log(`wrote ${writeBenchResults('seg', { backend: report, batch: batchSize, crop, width, classes: CLASSES, reps, rows, skipped })}`);
}

main().catch((err: unknown) => {
  console.error((err as Error)?.stack ?? String(err));
  process.exit(1);
});

/**
 * depth:bench — time of one training step (forward, backward, SGD update: the engine's `sgdStep`
 * on the depth task's loss, as depth:train) for Table 7's four configurations at the default run
 * size (width, crop, batch of `defaultDepthConfig` on nyudv2-mini), as ratios to WCE alone. The
 * configurations share one model and one real augmented batch, and are timed round-robin (one
 * step of each per round) so that a change in the machine's load falls on all of them alike.
 * Writes bench-results/depth.json.
 *
 * Flags: --backend auto|wasm|cpu|tensorflow, --reps N (rounds after one warm-up round, default
 * 5), --width, --crop, --batch, --percep (loss network of the gpl rows).
 */
import * as tf from '@tensorflow/tfjs-core';
import { benchFlag, benchNumberFlag, interleavedMedians, writeBenchResults } from '@gpl/core/bench';
import { Rng, formatBackendReport, initBackend, parseBackendPreference } from '@gpl/core';
import { collateHost, toBatch, disposeBatch, type DepthSample } from '@gpl/data';
import { createPerceptualLoss, perceptualOption, sgdStep, trainableVariables } from '@gpl/engine';
import { TABLE7_VARIANTS, defaultDepthConfig, type DepthConfig } from '../src/config';
import { depthTask } from '../src/task';

async function main(): Promise<void> {
  const report = await initBackend({ prefer: parseBackendPreference(benchFlag('backend', 'auto'), '--backend') });
  console.log(`backend: ${formatBackendReport(report)}`);
  const reps = benchNumberFlag('reps', 5);
  const cfg: DepthConfig = {
    ...defaultDepthConfig,
    width: benchNumberFlag('width', defaultDepthConfig.width),
    crop: benchNumberFlag('crop', defaultDepthConfig.crop),
    batch: benchNumberFlag('batch', defaultDepthConfig.batch),
    percep: benchFlag('percep', defaultDepthConfig.percep),
    out: 'unused',
  };
  const data = await depthTask.openData(cfg);
  const samples: DepthSample[] = [];
  for (let i = 0; i < cfg.batch; i++) samples.push(data.transform.apply(await data.train.get(i), new Rng(i)) as DepthSample);
  const batch = toBatch(collateHost(samples));
  const model = depthTask.buildModel(cfg, data.info);
  const option = perceptualOption(cfg, 'depth');
  const gpl = createPerceptualLoss(option, 1, cfg.seed);
  const optimizer = tf.train.momentum(cfg.lr, cfg.momentum);
  const ctx = { vars: trainableVariables(model), optimizer, weightDecay: cfg.weightDecay };
  const rng = new Rng(7);
  const names = TABLE7_VARIANTS.map((v) => v.join('+'));
  const step = (losses: DepthConfig['losses']) => {
    const run = { ...cfg, losses };
    // The engine seeds Math.random during a step; here a fixed stream stands in for it.
    const original = Math.random;
    Math.random = () => rng.next();
    try {
      sgdStep(ctx, () => depthTask.loss({ model, batch, cfg: run, info: data.info, gpl, lambda: option?.lambda ?? 0 }));
    } finally {
      Math.random = original;
    }
  };
  try {
    const seconds = await interleavedMedians(
      TABLE7_VARIANTS.map((v) => () => step(v)),
      { reps, warmups: 1 },
    );
    const rows = names.map((name, i) => ({ losses: name, seconds: +seconds[i].toFixed(4), ratio: +(seconds[i] / seconds[0]).toFixed(3) }));
    console.log(`\nstep time, ResNet-50 w${cfg.width} + lateral decoder, batch ${cfg.batch}, crop ${data.info.recipe.cropSize}², GPL ${cfg.percep}, median of ${reps} round-robin rounds:`);
    console.log('| losses | s/step | ratio to wce |\n|---|---|---|');
    for (const r of rows) console.log(`| ${r.losses} | ${r.seconds.toFixed(3)} | ${r.ratio.toFixed(2)} |`);
    const file = writeBenchResults('depth', {
      backend: formatBackendReport(report),
      config: { width: cfg.width, crop: data.info.recipe.cropSize, batch: cfg.batch, percep: cfg.percep, vnlWeight: cfg.vnlWeight, reps },
      rows,
    });
    console.log(`\nwritten: ${file}`);
  } finally {
    disposeBatch(batch);
    model.dispose();
    gpl?.dispose();
    optimizer.dispose();
    data.info.softTargets.dispose();
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});

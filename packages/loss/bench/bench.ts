/**
 * loss:bench — forward and forward+backward time and GFLOP/s of the loss for each preset, beside
 * the same run's dense-convolution throughput (the ceiling the loss can reach), per backend.
 * Writes bench-results/loss.json. Flags: --backends wasm,cpu (default: tensorflow,wasm — the
 * plain-JS cpu backend needs minutes per VGG16 step at 128×256), --shapes 2x128x256x19,2x64x64x19,
 * --presets vgg11,vgg13,vgg16,vgg19,1,1,1,1,1;3,3,4,4,4 (';' separates structures), --repeats 3.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend, type BackendPreference } from '@gpl/core';
import { GenericPerceptualLoss, parseNetworkSpec } from '@gpl/loss';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const repeats = Number(flag('repeats', '3'));
const shapes = flag('shapes', '2x128x256x19,2x64x64x19').split(',').map((s) => s.split('x').map(Number) as [number, number, number, number]);
const presets = flag('presets', 'vgg11;vgg13;vgg16;vgg19;1,1,1,1,1;3,3,4,4,4').split(';');

/** Median seconds of `repeats` calls after one warm-up call. */
async function median(fn: () => tf.TensorContainer): Promise<number> {
  const run = async () => {
    const out = fn();
    const list = (Array.isArray(out) ? out : [out]) as tf.Tensor[];
    await Promise.all(list.map((t) => t.data()));
    tf.dispose(list);
  };
  await run();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await run();
    samples.push((performance.now() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

interface Row {
  backend: string;
  preset: string;
  shape: string;
  forwardSeconds: number;
  forwardGflops: number;
  trainSeconds: number;
  trainGflops: number;
  /** trainGflops / the dense convolution's GFLOP/s on this backend. */
  ofConvThroughput: number;
}

async function main(): Promise<void> {
  const wanted = flag('backends', 'tensorflow,wasm').split(',') as BackendPreference[];
  const rows: Row[] = [];
  const conv: Record<string, { shape: string; gflops: number }> = {};
  const batching: Record<string, { shape: string; separateSeconds: number; batchedSeconds: number }> = {};
  const reports: Record<string, string> = {};
  for (const prefer of wanted) {
    try {
      reports[prefer] = formatBackendReport(await initBackend({ prefer }));
    } catch (err) {
      console.log(`skip ${prefer}: ${(err as Error).message}`);
      continue;
    }
    const backend = tf.getBackend();
    console.log(`backend: ${reports[prefer]}`);
    // The dense convolution the loss is made of: 3×3, ReLU, at a mid-network size of VGG on 128×256.
    {
      const x = tf.randomNormal([2, 64, 128, 128]) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, 128, 128]) as tf.Tensor4D;
      const s = await median(() => tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', activation: 'relu' }));
      conv[backend] = { shape: '2x64x128x128 3x3x128x128', gflops: (2 * 2 * 64 * 128 * 9 * 128 * 128) / s / 1e9 };
      console.log(`  dense conv 3×3+ReLU ${conv[backend].shape}: ${conv[backend].gflops.toFixed(1)} GFLOP/s`);
      tf.dispose([x, w]);
    }
    for (const shape of shapes) {
      const [n, h, w, c] = shape;
      const pred = tf.softmax(tf.randomNormal(shape)) as tf.Tensor4D;
      const target = tf.softmax(tf.randomNormal(shape)) as tf.Tensor4D;
      for (const preset of presets) {
        const gpl = new GenericPerceptualLoss({ inChannels: c, ...parseNetworkSpec(preset), seed: 1 }).warmUp();
        const flops = gpl.describe().flopsPerPixel * n * h * w;
        const forwardSeconds = await median(() => gpl.compute(pred, target));
        const trainSeconds = await median(() => tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, target))(pred));
        // Forward: two passes (prediction and target). Training step: those plus the input-gradient pass, ≈ one more forward.
        const row: Row = {
          backend,
          preset,
          shape: shape.join('x'),
          forwardSeconds,
          forwardGflops: (2 * flops) / forwardSeconds / 1e9,
          trainSeconds,
          trainGflops: (3 * flops) / trainSeconds / 1e9,
          ofConvThroughput: (3 * flops) / trainSeconds / 1e9 / conv[backend].gflops,
        };
        rows.push(row);
        console.log(
          `  ${preset.padEnd(10)} ${row.shape.padEnd(13)} forward ${(forwardSeconds * 1000).toFixed(0).padStart(6)} ms ${row.forwardGflops.toFixed(1).padStart(5)} GFLOP/s   forward+backward ${(trainSeconds * 1000).toFixed(0).padStart(6)} ms ${row.trainGflops.toFixed(1).padStart(5)} GFLOP/s = ${(100 * row.ofConvThroughput).toFixed(0)}% of dense conv`,
        );
        if (preset === 'vgg16' && !batching[backend + row.shape]) {
          // One batched pass over [pred; target] against two passes of N: does batching pay here?
          const both = tf.concat([pred, target]) as tf.Tensor4D;
          const separateSeconds = await median(() => [...gpl.embed(pred), ...gpl.embed(target)]);
          const batchedSeconds = await median(() => gpl.embed(both));
          batching[backend + row.shape] = { shape: row.shape, separateSeconds, batchedSeconds };
          console.log(`  vgg16 embeddings of pred and target: two passes ${(separateSeconds * 1000).toFixed(0)} ms, one batched pass ${(batchedSeconds * 1000).toFixed(0)} ms (${(separateSeconds / batchedSeconds).toFixed(2)}×)`);
          both.dispose();
        }
        gpl.dispose();
      }
      tf.dispose([pred, target]);
    }
  }
  const out = path.resolve(__dirname, '../../../bench-results/loss.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ date: new Date().toISOString(), backends: reports, denseConv: conv, batching: Object.values(batching), rows }, null, 1));
  fs.renameSync(tmp, out);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

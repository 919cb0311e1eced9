/**
 * core:bench — convolution and matMul throughput per available backend.
 * Prints a table and writes bench-results/core.json. Flags: --batch N (default 2),
 * --backends wasm,cpu (default: every backend that loads), --min-seconds S (default 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dInputGrad, formatBackendReport, initBackend, type BackendPreference } from '@gpl/core';
import { benchListFlag, benchNumberFlag, medianSeconds, settle, writeBenchResults } from '@gpl/core/bench';

const batch = benchNumberFlag('batch', 2);
const minSeconds = benchNumberFlag('min-seconds', 1);
const shapes: [number, number, number][] = [
  [64, 64, 64],
  [32, 32, 128],
  [16, 16, 256],
];

/** Median seconds per call: at least 3 timed calls after a warm-up, and minSeconds in all. */
const time = (fn: () => tf.Tensor | tf.Tensor[]) => medianSeconds(() => settle(fn()), { reps: 3, minSeconds });

interface Row {
  backend: string;
  op: string;
  shape: string;
  seconds: number;
  gflops: number;
}

async function main(): Promise<void> {
  const wanted = benchListFlag('backends', ['tensorflow', 'wasm', 'cpu']) as BackendPreference[];
  const rows: Row[] = [];
  const reports: Record<string, string> = {};
  for (const prefer of wanted) {
    let report;
    try {
      report = await initBackend({ prefer });
    } catch (err) {
      console.log(`skip ${prefer}: ${(err as Error).message}`);
      continue;
    }
    reports[prefer] = formatBackendReport(report);
    console.log(`backend: ${reports[prefer]}`);
    for (const [h, w, c] of shapes) {
      const x = tf.randomNormal([batch, h, w, c]) as tf.Tensor4D;
      const filter = tf.randomNormal([3, 3, c, c]) as tf.Tensor4D;
      const dy = tf.randomNormal([batch, h, w, c]) as tf.Tensor4D;
      const flops = 2 * batch * h * w * c * c * 9;
      const shape = `${batch}x${h}x${w}x${c}`;
      const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, 1, 1, 'same');
      const ops: [string, () => tf.Tensor][] = [
        ['conv forward', () => tf.conv2d(x, filter, 1, 'same')],
        ['conv input grad (stock kernel)', () => tf.conv2dTranspose(dy, filter, x.shape, 1, 'same')],
        ['conv input grad (as used in training)', () => conv2dInputGrad(dy, filter, info)],
        ['conv filter grad (transposed conv)', () => conv2dFilterGrad(x, dy, info)],
      ];
      // The stock cpu kernel is ~30x slower than the transposed convolution: time it on the smallest shape only.
      if (tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) && prefer !== 'wasm' && (prefer !== 'cpu' || c === 256)) {
        ops.push([
          'conv filter grad (native kernel)',
          () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: filter.shape }) as tf.Tensor,
        ]);
      }
      ops.push([
        'dilated conv (d=2) fwd+dx+dW',
        () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same', 'NHWC', 2), dy)))([x, filter]),
      ] as unknown as [string, () => tf.Tensor]);
      for (const [op, fn] of ops) {
        const seconds = await time(fn);
        const f = op.startsWith('dilated') ? 3 * flops : flops;
        rows.push({ backend: prefer, op, shape, seconds, gflops: f / seconds / 1e9 });
        console.log(`  ${op.padEnd(36)} ${shape.padEnd(14)} ${(seconds * 1000).toFixed(1).padStart(9)} ms ${(f / seconds / 1e9).toFixed(2).padStart(7)} GFLOP/s`);
      }
      tf.dispose([x, filter, dy]);
    }
    const a = tf.randomNormal([1024, 1024]) as tf.Tensor2D;
    const b = tf.randomNormal([1024, 1024]) as tf.Tensor2D;
    const seconds = await time(() => tf.matMul(a, b));
    rows.push({ backend: prefer, op: 'matMul', shape: '1024x1024x1024', seconds, gflops: (2 * 1024 ** 3) / seconds / 1e9 });
    console.log(`  ${'matMul'.padEnd(36)} ${'1024^3'.padEnd(14)} ${(seconds * 1000).toFixed(1).padStart(9)} ms ${((2 * 1024 ** 3) / seconds / 1e9).toFixed(2).padStart(7)} GFLOP/s`);
    tf.dispose([a, b]);
  }
  const ratios = rows
    .filter((r) => r.op === 'conv filter grad (transposed conv)')
    .map((r) => {
      const fwd = rows.find((q) => q.backend === r.backend && q.shape === r.shape && q.op === 'conv forward')!;
      return { backend: r.backend, shape: r.shape, filterGradOverForwardSpeed: fwd.seconds / r.seconds };
    });
  console.log('\nfilter gradient speed relative to the forward convolution (same run, >1 = faster):');
  for (const r of ratios) console.log(`  ${r.backend.padEnd(6)} ${r.shape.padEnd(14)} ${r.filterGradOverForwardSpeed.toFixed(2)}x`);
  console.log(`\nwrote ${writeBenchResults('core', { batch, backends: reports, rows, ratios })}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

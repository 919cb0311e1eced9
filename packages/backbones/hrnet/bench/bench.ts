/**
 * hrnet:bench — forward and training-step time of each HRNet segmentation model at
 * 2×128×256, at full width and at the CPU default width. Prints a table and writes
 * bench-results/hrnet.json (workspace root).
 *
 * Flags: --backend wasm|cpu|tensorflow|auto (default wasm), --models a,b (default: the four
 * variants), --widths 1,0.5 (default: 1 and the CPU default), --batch N (2), --height H (128),
 * --width W (256), --min-seconds S (2; each figure is a median of at least 3 timed runs after
 * a warm-up).
 *
 * Each (model, width) runs in a child process: a wasm heap exhausted by one configuration
 * (full-width W48 training does not fit) aborts the wasm module for good, and must not take
 * the other measurements with it. A failed measurement is recorded with its error.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend, type BackendPreference } from '@gpl/core';
import { buildHRNetSegmenter, createHRNet, defaultHRNetConfig, summarizeHRNet, type HRNetName } from '@gpl/hrnet';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const backend = flag('backend', 'wasm') as BackendPreference;
const batch = Number(flag('batch', '2'));
const height = Number(flag('height', '128'));
const width = Number(flag('width', '256'));
const minSeconds = Number(flag('min-seconds', '2'));
const NUM_CLASSES = 19;

interface Measurement {
  model: HRNetName;
  widthMultiplier: number;
  branchChannels: number[];
  parameters: number;
  /** Median seconds of `predict` (inference mode), or null if it failed. */
  forwardSeconds: number | null;
  /** Median seconds of one SGD-momentum step (forward in training mode, backward, update), or null. */
  trainStepSeconds: number | null;
  /** wasm heap after the measurements (MiB; wasm only: it never shrinks, so this is the peak). */
  wasmHeapMiB: number | null;
  error?: string;
}

/** Median seconds per call after one warm-up call; at least 3 timed calls and minSeconds in all. */
async function time(fn: () => tf.Tensor): Promise<number> {
  const run = async () => {
    const out = fn();
    try {
      await out.data();
    } finally {
      out.dispose();
    }
  };
  await run();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 3 || (performance.now() - start) / 1000 < minSeconds) {
    const t0 = performance.now();
    await run();
    samples.push((performance.now() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function wasmHeapMiB(): number | null {
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap ? Math.round(heap.length / 2 ** 20) : null;
}

/** Child: measures one configuration and prints it as one JSON line. */
async function measureOne(model: HRNetName, widthMultiplier: number): Promise<void> {
  await initBackend({ prefer: backend });
  const net = buildHRNetSegmenter(model, { widthMultiplier, numClasses: NUM_CLASSES });
  const m: Measurement = {
    model,
    widthMultiplier,
    branchChannels: Object.values(createHRNet(model, { widthMultiplier }).featureSpecs()).map((f) => f!.channels),
    parameters: summarizeHRNet(net).trainable,
    forwardSeconds: null,
    trainStepSeconds: null,
    wasmHeapMiB: null,
  };
  const emit = () => console.log(`@@${JSON.stringify({ ...m, wasmHeapMiB: wasmHeapMiB() })}`);
  const x = tf.randomNormal([batch, height, width, 3]) as tf.Tensor4D;
  const labels = tf.tidy(() => tf.cast(tf.oneHot(tf.randomUniform([batch, height, width], 0, NUM_CLASSES, 'int32') as tf.Tensor3D, NUM_CLASSES), 'float32'));
  const opt = tf.train.momentum(0.01, 0.9);
  const vars = net.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  try {
    m.forwardSeconds = await time(() => net.predict(x) as tf.Tensor);
    emit(); // a later failure (out of memory) still leaves the forward figure
    m.trainStepSeconds = await time(
      () => opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, net.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true, vars) as tf.Scalar,
    );
  } catch (err) {
    m.error = String((err as Error)?.message ?? err).split('\n')[0];
  }
  emit();
}

/** Parent: one child per configuration, then the table and the JSON file. */
async function main(): Promise<void> {
  const models = flag('models', 'hrnet-w18-small-v1,hrnet-w18-small,hrnet-w18,hrnet-w48').split(',') as HRNetName[];
  const widths = flag('widths', `1,${defaultHRNetConfig.widthMultiplier}`).split(',').map(Number);
  const report = formatBackendReport(await initBackend({ prefer: backend }));
  console.log(`backend: ${report}`);
  console.log(`input ${batch}×${height}×${width}×3, ${NUM_CLASSES} classes; median of ≥3 runs after a warm-up; one process per row\n`);
  const ms = (s: number | null) => (s == null ? 'failed'.padStart(9) : `${(s * 1000).toFixed(0).padStart(6)} ms`);
  console.log(`${'model'.padEnd(20)}${'width'.padStart(6)}  ${'branches'.padEnd(16)}${'params'.padStart(9)}${'forward'.padStart(11)}${'train step'.padStart(12)}${'wasm heap'.padStart(11)}`);
  const rows: Measurement[] = [];
  for (const model of models) {
    for (const widthMultiplier of widths) {
      const child = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2), '--one', model, '--one-width', String(widthMultiplier)], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      const lines = (child.stdout ?? '').split('\n').filter((l) => l.startsWith('@@'));
      const last = lines.length ? (JSON.parse(lines[lines.length - 1].slice(2)) as Measurement) : undefined;
      const row: Measurement = last ?? {
        model, widthMultiplier, branchChannels: [], parameters: 0, forwardSeconds: null, trainStepSeconds: null, wasmHeapMiB: null,
      };
      if (child.status !== 0 || row.trainStepSeconds == null) {
        const stderr = (child.stderr ?? '').split('\n').filter((l) => /Error|Aborted|status/.test(l));
        row.error = row.error ?? (stderr.slice(0, 2).join(' | ') || `exit status ${child.status}`);
      }
      rows.push(row);
      console.log(
        `${model.padEnd(20)}${String(widthMultiplier).padStart(6)}  ${row.branchChannels.join(',').padEnd(16)}${(row.parameters / 1e6).toFixed(2).padStart(8)}M` +
          `${ms(row.forwardSeconds).padStart(11)}${ms(row.trainStepSeconds).padStart(12)}${(row.wasmHeapMiB == null ? '' : `${row.wasmHeapMiB} MiB`).padStart(11)}` +
          (row.error ? `  (${row.error})` : ''),
      );
    }
  }
  const out = path.resolve(__dirname, '../../../../bench-results/hrnet.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const json = { date: new Date().toISOString(), backend: report, input: [batch, height, width, 3], numClasses: NUM_CLASSES, cpuDefaultWidth: defaultHRNetConfig.widthMultiplier, rows };
  fs.writeFileSync(tmp, JSON.stringify(json, null, 2));
  fs.renameSync(tmp, out);
  console.log(`\nwrote ${out}`);
}

const one = flag('one', '');
(one ? measureOne(one as HRNetName, Number(flag('one-width', '1'))) : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});

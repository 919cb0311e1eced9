/**
 * deeplabv3plus:bench — forward and training-step time of DeepLabV3+ at 2×128×256, at full
 * width and at the CPU default width, on the backend @gpl/core picks (or --backend). The
 * encoder is the reference one, ResNet at output stride 16. A training step is SGD with
 * momentum on cross-entropy. Prints a table and writes bench-results/deeplabv3plus.json.
 *
 * Each model runs in a child process of its own: the wasm heap (at most 4 GB) never shrinks, so
 * models measured one after another in one process would inherit each other's fragmentation, and
 * a model that does not fit aborts its process. Such a model is reported, not fatal.
 *
 * Flags: --backend auto|wasm|cpu|tensorflow, --reps N (timed runs after one warm-up, default 2),
 * --models deeplabv3plus-r50,deeplabv3plus-r101 (default: both), --widths 1,0.25.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend, parseBackendPreference } from '@gpl/core';
import { createResNet, type ResNetName } from '@gpl/resnet';
import { buildDeepLabV3Plus, defaultDeepLabV3PlusConfig, summarizeDeepLabV3Plus } from '@gpl/deeplabv3plus';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const INPUT: [number, number, number, number] = [2, 128, 256, 3];
const CLASSES = 19;
const ENCODERS: Record<string, ResNetName> = { 'deeplabv3plus-r50': 'resnet50', 'deeplabv3plus-r101': 'resnet101' };

/** Mean cross-entropy with every pixel labelled; logits and one-hot targets [N, H, W, C]. */
const crossEntropy = (logits: tf.Tensor, oneHot: tf.Tensor) => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), -1))) as tf.Scalar;

const reps = Number(flag('reps', '2'));
const backendFlag = flag('backend', 'auto');

interface Row {
  model: string;
  width: number;
  parameters?: number;
  forwardSeconds?: number;
  trainStepSeconds?: number;
  /** Why the model could not be measured (e.g. it does not fit in the wasm heap). */
  error?: string;
}

/** Median seconds of `reps` runs after one warm-up (kernel setup, optimizer slots). */
async function time(run: () => Promise<void>): Promise<number> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    samples.push((performance.now() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/** One model at one width, in this process. */
async function measure(key: string, width: number): Promise<Row> {
  const encoder = ENCODERS[key];
  if (!encoder) throw new RangeError(`deeplabv3plus:bench: unknown model '${key}'; known: ${Object.keys(ENCODERS).join(', ')}.`);
  const backbone = createResNet(encoder, { widthMultiplier: width, outputStride: 16 });
  const model = buildDeepLabV3Plus(backbone, { numClasses: CLASSES, widthMultiplier: width });
  const x = tf.randomNormal(INPUT);
  const target = tf.oneHot(tf.randomUniform(INPUT.slice(0, 3), 0, CLASSES, 'int32'), CLASSES);
  const opt = tf.train.momentum(0.01, 0.9);
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  try {
    const forwardSeconds = await time(async () => {
      const logits = model.predict(x) as tf.Tensor;
      await logits.data();
      logits.dispose();
    });
    const trainStepSeconds = await time(async () => {
      const loss = opt.minimize(() => crossEntropy(model.apply(x, { training: true }) as tf.Tensor, target), true, vars);
      await loss!.data();
      loss!.dispose();
    });
    return { model: `${key} (${backbone.name})`, width, parameters: summarizeDeepLabV3Plus(model).trainable, forwardSeconds, trainStepSeconds };
  } finally {
    tf.dispose([x, target]);
    opt.dispose();
    model.dispose();
  }
}

/** Runs `measure` in a child process and reads its row, or the reason it failed. */
function measureIsolated(key: string, width: number): Row {
  const args = [...process.execArgv, __filename, '--one', key, '--width', String(width), '--backend', backendFlag, '--reps', String(reps)];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const line = child.stdout.split('\n').find((l) => l.startsWith('ROW '));
  if (child.status === 0 && line) return JSON.parse(line.slice(4)) as Row;
  const out = `${child.stderr}\n${child.stdout}`;
  const oom = /Aborted\(\)|memory access out of bounds|Cannot allocate|out of memory/i.test(out);
  const last = out.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ')).pop() ?? `exit code ${child.status}`;
  return { model: key, width, error: oom ? 'out of wasm memory (4 GB heap)' : last };
}

function formatRow(r: Row): string {
  const head = `${r.model.padEnd(36)}${String(r.width).padStart(6)}`;
  if (r.error) return `${head}   ${r.error}`;
  return `${head}${r.parameters!.toLocaleString('en-US').padStart(13)}${(r.forwardSeconds! * 1000).toFixed(0).padStart(12)}${(r.trainStepSeconds! * 1000).toFixed(0).padStart(12)}`;
}

async function main(): Promise<void> {
  const report = await initBackend({ prefer: parseBackendPreference(backendFlag, '--backend') });
  if (process.argv.includes('--one')) {
    const row = await measure(flag('one', ''), Number(flag('width', '1')));
    console.log(`ROW ${JSON.stringify(row)}`);
    return;
  }
  const widths = flag('widths', `1,${defaultDeepLabV3PlusConfig.widthMultiplier}`).split(',').map(Number);
  const models = flag('models', Object.keys(ENCODERS).join(',')).split(',');
  console.log(`backend: ${formatBackendReport(report)}`);
  console.log(`input ${INPUT.join('×')}, ${CLASSES} classes, median of ${reps} runs after one warm-up, one process per model\n`);
  console.log(`${'model'.padEnd(36)}${'width'.padStart(6)}${'params'.padStart(13)}${'forward ms'.padStart(12)}${'train ms'.padStart(12)}`);
  const rows: Row[] = [];
  for (const width of widths) {
    for (const key of models) {
      const r = measureIsolated(key, width);
      rows.push(r);
      console.log(formatRow(r));
    }
  }
  const out = path.resolve(__dirname, '../../../../bench-results/deeplabv3plus.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ date: new Date().toISOString(), backend: formatBackendReport(report), input: INPUT, classes: CLASSES, reps, rows }, null, 2));
  fs.renameSync(tmp, out);
  console.log(`\nwrote ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

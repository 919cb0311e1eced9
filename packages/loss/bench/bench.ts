/**
 * loss:bench — forward and forward+backward time and GFLOP/s of the loss for each preset and
 * engine, beside the same run's dense-convolution throughput (the ceiling the loss can reach), per
 * backend, and PyTorch's time for the same step (tools/torch/gpl_bench.py) when torch imports.
 * Writes bench-results/loss.json. Flags: --backends wasm,cpu (default: tensorflow,wasm — the
 * plain-JS cpu backend needs minutes per VGG16 step at 128×256), --engines tfjs,onnxruntime,
 * --threads 1,2 (onnxruntime and PyTorch; default: the machine's cores), --torch off,
 * --torch-malloc tuned|default (glibc malloc settings of the PyTorch process, see torchEnvironment),
 * --shapes 2x128x256x19,2x64x64x19, --presets vgg11;vgg13;vgg16;vgg19;1,1,1,1,1;3,3,4,4,4
 * (';' separates structures), --repeats 3. The onnxruntime times include the tensor transfer
 * between tfjs and onnxruntime (reported apart as well). The onnxruntime/PyTorch ratio comes from
 * alternating blocks of steps with a PyTorch process kept open (gpl_bench.py --serve), so that a
 * drift of load on this shared machine falls on both sides.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend, type BackendPreference } from '@gpl/core';
import { benchFlag, benchListFlag, benchNumberFlag, median as medianOfSamples, medianSeconds, settle, writeBenchResults } from '@gpl/core/bench';
import { GenericPerceptualLoss, VGG_PRESETS, formatEngineReport, parseNetworkSpec, type LossEngine } from '@gpl/loss';

const repeats = benchNumberFlag('repeats', 3);
const shapes = benchListFlag('shapes', ['2x128x256x19', '2x64x64x19']).map((s) => s.split('x').map(Number) as [number, number, number, number]);
const presets = benchFlag('presets', 'vgg11;vgg13;vgg16;vgg19;1,1,1,1,1;3,3,4,4,4').split(';');
const engines = benchListFlag('engines', ['tfjs', 'onnxruntime']) as LossEngine[];
/** onnxruntime and PyTorch thread counts to run, e.g. --threads 1,2. */
const threadCounts = benchListFlag('threads', [String(os.availableParallelism())]).map(Number);
const workspace = path.resolve(__dirname, '../../..');
/** Timed steps per block when onnxruntime and PyTorch alternate. */
const BLOCK = 4;

/** A python3 that imports torch: `python3` first, then the Debian one (python3-torch) if pyenv shadows it. */
function findTorchPython(): { python: string | null; note: string } {
  if (benchFlag('torch', 'auto') === 'off') return { python: null, note: 'PyTorch column off (--torch off)' };
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return { python, note: `PyTorch via ${python}` };
  }
  return { python: null, note: 'PyTorch column skipped: `python3 -c "import torch"` fails (apt-get install -y python3-torch)' };
}

/** Blocks of a preset spelled as the bench spells it ('vgg16' or '1,1,1,1,1'). */
function blocksOf(preset: string): number[] | null {
  const spec = parseNetworkSpec(preset);
  if ('blocks' in spec) return spec.blocks;
  return spec.preset in VGG_PRESETS ? [...VGG_PRESETS[spec.preset as keyof typeof VGG_PRESETS]] : null;
}

/**
 * A PyTorch process (tools/torch/gpl_bench.py --serve) holding one network and shape, timing one
 * block of steps per request, so that its steps and ours can alternate.
 */
class TorchSession {
  /** Handlers of the replies still due, in request order; a reply of null means the process ended. */
  private readonly waiting: ((line: string | null) => void)[] = [];
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {}

  static async start(python: string, preset: string, shape: string, threads: number): Promise<{ session: TorchSession; version: string } | null> {
    const blocks = blocksOf(preset);
    if (!blocks) return null;
    const args = [path.join(workspace, 'tools/torch/gpl_bench.py'), '--blocks', blocks.join(','), '--shape', shape, '--threads', String(threads), '--serve'];
    const session = new TorchSession(spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'], env: torchEnvironment }));
    let stderr = '';
    session.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    readline.createInterface({ input: session.child.stdout }).on('line', (line) => session.waiting.shift()?.(line));
    session.child.once('exit', () => session.waiting.splice(0).forEach((reply) => reply(null)));
    const ready = await new Promise<string | null>((resolve) => session.waiting.push(resolve));
    if (ready === null) {
      console.log(`  PyTorch failed on ${preset} ${shape}: ${stderr.trim().split('\n').pop()}`);
      return null;
    }
    return { session, version: (JSON.parse(ready) as { torch: string }).torch };
  }

  /** Seconds of each of `count` PyTorch steps taken back to back, timed inside the Python process. */
  time(step: 'forward' | 'train', count: number): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const reply = line === null ? { error: 'the PyTorch process ended' } : (JSON.parse(line) as { seconds?: number[]; error?: string });
        if (reply.seconds === undefined) reject(new Error(`PyTorch bench: ${reply.error}`));
        else resolve(reply.seconds);
      });
      this.child.stdin.write(`${step} ${count}\n`);
    });
  }

  async median(step: 'forward' | 'train'): Promise<number> {
    return medianOfSamples(await this.time(step, repeats));
  }

  close(): void {
    this.child.stdin.end();
  }
}

/**
 * The PyTorch process's environment. By default glibc's malloc is tuned as PyTorch's CPU
 * performance notes advise for a caching allocator (large blocks kept in the heap, never trimmed):
 * with glibc's defaults each step's activations were mapped and faulted in afresh, and the same
 * vgg16 step at 2×128×256 took 0.50–0.87 s in different processes, against 0.44–0.50 s tuned.
 * `--torch-malloc default` leaves the environment as it is.
 */
const torchMalloc = benchFlag('torch-malloc', 'tuned');
if (torchMalloc !== 'tuned' && torchMalloc !== 'default') {
  console.error(`loss:bench: --torch-malloc must be 'tuned' or 'default', received '${torchMalloc}'.`);
  process.exit(1);
}
// 32 MiB is the largest mmap threshold glibc accepts on 64-bit; setting it also fixes it there.
const torchEnvironment: NodeJS.ProcessEnv =
  torchMalloc === 'default' ? process.env : { ...process.env, MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024), MALLOC_TRIM_THRESHOLD_: String(1024 * 1024 * 1024) };

/**
 * Our training step and PyTorch's in alternating blocks: each block is one untimed step (the
 * other process has just had the cores) and BLOCK timed steps back to back, until each side has
 * `repeats` samples. A drift in the machine's load then falls on both sides, while each is timed
 * in its steady state. (Single steps in turn measured onnxruntime 20–23 ms against 17 ms back to
 * back at [1,1,1,1,1] 2×64×64: a step that follows an idle wait is slower here, in both engines.)
 */
async function alternatingTrain(ours: () => tf.TensorContainer, torchSession: TorchSession): Promise<{ oursSeconds: number; torchSeconds: number }> {
  const timeOurs = async () => {
    const t0 = performance.now();
    await settle(ours());
    return (performance.now() - t0) / 1000;
  };
  const mine: number[] = [];
  const theirs: number[] = [];
  while (mine.length < repeats) {
    const block = Math.min(BLOCK, repeats - mine.length);
    await timeOurs();
    for (let k = 0; k < block; k++) mine.push(await timeOurs());
    theirs.push(...(await torchSession.time('train', block + 1)).slice(1));
  }
  return { oursSeconds: medianOfSamples(mine), torchSeconds: medianOfSamples(theirs) };
}

/** Median seconds of `repeats` calls of `fn` (its outputs computed and disposed) after one warm-up call. */
const median = (fn: () => tf.TensorContainer) => medianSeconds(() => settle(fn()), { reps: repeats });

interface Row {
  backend: string;
  engine: 'tfjs' | 'onnxruntime' | 'pytorch';
  /** onnxruntime / PyTorch intra-op threads; 1 for tfjs-wasm (single-threaded in Node). */
  threads: number;
  preset: string;
  shape: string;
  forwardSeconds: number;
  forwardGflops: number;
  trainSeconds: number;
  trainGflops: number;
  /** trainGflops / the dense convolution's GFLOP/s on this backend (tfjs rows). */
  ofConvThroughput: number | null;
  /** onnxruntime rows: the training step's copies between tfjs and onnxruntime (inside trainSeconds). */
  transferMs?: number;
  transferBytes?: number;
  /** onnxruntime rows with PyTorch present: this step and PyTorch's in alternating blocks (medians). */
  paired?: { oursSeconds: number; torchSeconds: number };
}

const ms = (s: number) => `${(s * 1000).toFixed(s < 0.1 ? 1 : 0).padStart(6)} ms`;

async function main(): Promise<void> {
  const wanted = benchListFlag('backends', ['tensorflow', 'wasm']) as BackendPreference[];
  const rows: Row[] = [];
  const conv: Record<string, { shape: string; gflops: number }> = {};
  const batching: Record<string, { shape: string; separateSeconds: number; batchedSeconds: number }> = {};
  const reports: Record<string, string> = {};
  const engineReports: Record<string, string> = {};
  const torch = findTorchPython();
  console.log(torch.note);
  let torchVersion: string | null = null;
  let first = true;
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
        let flops = 0;
        // PyTorch on the same shape and threads, started first so that its steps can alternate with ours.
        const sessions = new Map<number, TorchSession>();
        for (const threads of first && torch.python ? threadCounts : []) {
          const started = await TorchSession.start(torch.python!, preset, shape.join('x'), threads);
          if (started) {
            sessions.set(threads, started.session);
            torchVersion = started.version;
          }
        }
        const runs = engines.flatMap((engine): { engine: LossEngine; threads: number }[] => (engine === 'tfjs' ? [{ engine, threads: 1 }] : threadCounts.map((threads) => ({ engine, threads }))));
        for (const { engine, threads } of runs) {
          let gpl: GenericPerceptualLoss;
          try {
            gpl = new GenericPerceptualLoss({ inChannels: c, ...parseNetworkSpec(preset), seed: 1, engine, threads }).warmUp();
          } catch (err) {
            console.log(`  skip engine ${engine}: ${(err as Error).message}`);
            continue;
          }
          const report = gpl.engineReport();
          engineReports[report.engine] = formatEngineReport(report);
          flops = gpl.describe().flopsPerPixel * n * h * w;
          const forwardSeconds = await median(() => gpl.compute(pred, target));
          const trainSeconds = await median(() => tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, target))(pred));
          const stats = gpl.lastRunStats();
          const session = report.engine === 'onnxruntime' ? sessions.get(report.threads ?? 1) : undefined;
          const paired = session ? await alternatingTrain(() => tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, target))(pred), session) : undefined;
          // Forward: two passes (prediction and target). Training step: those plus the input-gradient pass, ≈ one more forward.
          const row: Row = {
            backend,
            engine: report.engine,
            threads: report.threads ?? 1,
            preset,
            shape: shape.join('x'),
            forwardSeconds,
            forwardGflops: (2 * flops) / forwardSeconds / 1e9,
            trainSeconds,
            trainGflops: (3 * flops) / trainSeconds / 1e9,
            ofConvThroughput: report.engine === 'tfjs' ? (3 * flops) / trainSeconds / 1e9 / conv[backend].gflops : null,
            ...(stats ? { transferMs: stats.transferMs, transferBytes: stats.transferBytes } : {}),
            ...(paired ? { paired } : {}),
          };
          rows.push(row);
          if (paired) console.log(`  ${preset.padEnd(10)} ${row.shape.padEnd(13)} alternating with PyTorch×${report.threads}: onnxruntime ${ms(paired.oursSeconds)}, PyTorch ${ms(paired.torchSeconds)} (medians of ${repeats} each, blocks of ${BLOCK})`);
          const tail = row.ofConvThroughput !== null ? ` = ${(100 * row.ofConvThroughput).toFixed(0)}% of dense conv` : `, of which tfjs↔onnxruntime transfer ${stats!.transferMs.toFixed(1)} ms (${(stats!.transferBytes / 1e6).toFixed(1)} MB)`;
          console.log(
            `  ${preset.padEnd(10)} ${row.shape.padEnd(13)} ${`${report.engine}${report.engine === 'onnxruntime' ? `×${report.threads}` : ''}`.padEnd(14)} forward ${ms(forwardSeconds)} ${row.forwardGflops.toFixed(1).padStart(5)} GFLOP/s   forward+backward ${ms(trainSeconds)} ${row.trainGflops.toFixed(1).padStart(5)} GFLOP/s${tail}`,
          );
          if (report.engine === 'tfjs' && preset === 'vgg16' && !batching[backend + row.shape]) {
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
        for (const [threads, session] of sessions) {
          const t = { forwardSeconds: await session.median('forward'), trainSeconds: await session.median('train') };
          session.close();
          rows.push({
            backend: 'pytorch',
            engine: 'pytorch',
            threads,
            preset,
            shape: shape.join('x'),
            forwardSeconds: t.forwardSeconds,
            forwardGflops: (2 * flops) / t.forwardSeconds / 1e9,
            trainSeconds: t.trainSeconds,
            trainGflops: (3 * flops) / t.trainSeconds / 1e9,
            ofConvThroughput: null,
          });
          console.log(`  ${preset.padEnd(10)} ${shape.join('x').padEnd(13)} ${`pytorch×${threads}`.padEnd(14)} forward ${ms(t.forwardSeconds)}                 forward+backward ${ms(t.trainSeconds)}`);
        }
      }
      tf.dispose([pred, target]);
    }
    first = false;
  }
  // Training-step time ratios within this run: onnxruntime against PyTorch and against tfjs.
  const find = (engine: Row['engine'], preset: string, shape: string, backend?: string) =>
    rows.find((r) => r.engine === engine && r.preset === preset && r.shape === shape && (!backend || r.backend === backend));
  const ratios = rows
    .filter((r) => r.engine === 'onnxruntime')
    .map((r) => {
      const torchRow = rows.find((q) => q.engine === 'pytorch' && q.preset === r.preset && q.shape === r.shape && q.threads === r.threads);
      const tfjsRow = find('tfjs', r.preset, r.shape, r.backend);
      return {
        backend: r.backend,
        preset: r.preset,
        shape: r.shape,
        threads: r.threads,
        // Alternating blocks when PyTorch ran beside us; otherwise the two medians of this run.
        onnxruntimeOverPytorch: r.paired ? r.paired.oursSeconds / r.paired.torchSeconds : torchRow ? r.trainSeconds / torchRow.trainSeconds : null,
        paired: r.paired !== undefined,
        onnxruntimeOverTfjs: tfjsRow ? r.trainSeconds / tfjsRow.trainSeconds : null,
      };
    });
  if (ratios.length) console.log('training step, time ratios (same run):');
  for (const q of ratios) {
    const fmt = (v: number | null) => (v === null ? '   —' : `${v.toFixed(2)}×`);
    console.log(`  ${q.preset.padEnd(10)} ${q.shape.padEnd(13)} onnxruntime×${q.threads} / PyTorch×${q.threads} ${fmt(q.onnxruntimeOverPytorch)}${q.paired ? ' (alternating blocks)' : ''}   onnxruntime / tfjs-${q.backend} ${fmt(q.onnxruntimeOverTfjs)}`);
  }
  const doc = {
    machine: `${os.cpus().length}× ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((v) => v.toFixed(1)).join('/')}`,
    backends: reports,
    engines: engineReports,
    threads: threadCounts,
    pytorch: torchVersion ? `${torchVersion} (${torch.note}, malloc ${benchFlag('torch-malloc', 'tuned')})` : torch.note,
    denseConv: conv,
    batching: Object.values(batching),
    rows,
    ratios,
  };
  console.log(`wrote ${path.relative(process.cwd(), writeBenchResults('loss', doc))}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

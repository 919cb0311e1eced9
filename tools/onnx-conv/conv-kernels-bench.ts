/**
 * Stage 2 of issue 14, a measurement only (nothing here is wired into @gpl/core): would replacing
 * the wasm backend's convolution kernels (Conv2D, FusedConv2D, Conv2DBackpropInput and core's
 * Conv2DBackpropFilter) with onnxruntime sessions cached per shape make a PSPNet-R18 training
 * step (width 0.25, 4×128×128, the engine's sgdStep on seg's loss, no GPL) ≥ 1.5× faster?
 *
 * 1. Times the real step on tfjs-wasm with every convolution kernel wrapped by a timer, recording
 *    each call's kernel, shapes and attributes (nested calls, e.g. the convolutions core's
 *    Conv2DBackpropFilter is made of, count once, in the outer kernel).
 * 2. For every distinct call, builds a one-op onnxruntime session and times it including the
 *    copies a kernel override would pay (reading the inputs out of the wasm heap, writing the
 *    output back as a tfjs tensor), checking the result against tfjs.
 * 3. Projects step' = step − Σ tfjs conv time + Σ onnxruntime conv time (per call, × calls).
 *
 * Usage: npx tsx --tsconfig tsconfig.base.json tools/onnx-conv/conv-kernels-bench.ts [--threads 2] [--reps 3]
 * Writes bench-results/conv-override.json.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gpl/core';
import { sgdStep, trainableVariables } from '@gpl/engine';
// A one-off measurement reaching into seg and into @gpl/loss's ONNX writer (neither is public API).
/* eslint-disable @nx/enforce-module-boundaries */
import { defaultSegConfig } from '../../packages/tasks/seg/src/config';
import { createSegModel, modelEntry } from '../../packages/tasks/seg/src/models';
import { segTask, type SegInfo } from '../../packages/tasks/seg/src/task';
import { encodeOnnxModel, OnnxAttributeType, OnnxDataType, type OnnxAttribute, type OnnxModel, type OnnxNode } from '../../packages/loss/src/onnx-proto';
import { loadOnnxRuntime, type OnnxRuntime } from '../../packages/loss/src/onnx-engine';
/* eslint-enable @nx/enforce-module-boundaries */

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const threads = Number(flag('threads', String(os.availableParallelism())));
const reps = Number(flag('reps', '3'));
const KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];

interface Call {
  kernel: string;
  shapes: number[][];
  attrs: Record<string, unknown>;
  ms: number;
}

// 1. Wrap the convolution kernels with timers.
let recording = false;
let depth = 0;
const calls: Call[] = [];
function wrapKernels(): void {
  for (const kernelName of KERNELS) {
    const k = tf.getKernel(kernelName, 'wasm');
    if (!k) throw new Error(`no wasm kernel ${kernelName}`);
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        depth++;
        const t0 = performance.now();
        try {
          return k.kernelFunc(args);
        } finally {
          const ms = performance.now() - t0;
          depth--;
          if (recording && depth === 0) {
            const inputs = Object.values(args.inputs).filter((t): t is tf.TensorInfo => t != null);
            calls.push({ kernel: kernelName, shapes: inputs.map((t) => [...t.shape]), attrs: { ...(args.attrs as Record<string, unknown>) }, ms });
          }
        }
      },
    });
  }
}

function keyOf(c: Call): string {
  const a = c.attrs;
  return JSON.stringify([c.kernel, c.shapes, a.strides, a.pad, a.dilations, a.activation, a.inputShape, a.filterShape]);
}

// 2. One-op onnxruntime graphs (NHWC at the edges, as a kernel override would receive them).
const ints = (name: string, v: number[]): OnnxAttribute => ({ name, type: OnnxAttributeType.INTS, ints: v });
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);
const info = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: OnnxDataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

function convInfo(xShape: number[], filterShape: number[], a: Record<string, unknown>) {
  return tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], pair(a.strides ?? 1), pair(a.dilations ?? 1), a.pad as 'same', a.dimRoundingMode as undefined);
}

/** The graph of one call, its input names/shapes and the output shape (NHWC / HWIO as tfjs has them). */
function oneOpGraph(c: Call): { model: OnnxModel; inputs: { name: string; shape: number[] }[]; output: number[] } {
  const nodes: OnnxNode[] = [];
  let n = 0;
  const op = (opType: string, input: string[], attribute: OnnxAttribute[] = [], out?: string) => {
    const name = out ?? `v${n++}`;
    nodes.push({ opType, name: `${opType}_${n}`, input, output: [name], attribute });
    return name;
  };
  const nchw = (x: string) => op('Transpose', [x], [ints('perm', [0, 3, 1, 2])]);
  const oihw = (w: string) => op('Transpose', [w], [ints('perm', [3, 2, 0, 1])]);
  const a = c.attrs;
  let inputs: { name: string; shape: number[] }[];
  let output: number[];
  if (c.kernel === 'Conv2D' || c.kernel === 'FusedConv2D') {
    const [x, w, bias] = c.shapes;
    const ci = convInfo(x, w, a);
    const p = ci.padInfo;
    inputs = [{ name: 'x', shape: x }, { name: 'w', shape: w }, ...(c.kernel === 'FusedConv2D' && bias ? [{ name: 'b', shape: bias }] : [])];
    let y = op('Conv', [nchw('x'), oihw('w'), ...(inputs.length === 3 ? ['b'] : [])], [
      ints('kernel_shape', [w[0], w[1]]),
      ints('strides', [ci.strideHeight, ci.strideWidth]),
      ints('dilations', [ci.dilationHeight, ci.dilationWidth]),
      ints('pads', [p.top, p.left, p.bottom, p.right]),
    ]);
    if (a.activation === 'relu') y = op('Relu', [y]);
    op('Transpose', [y], [ints('perm', [0, 2, 3, 1])], 'y');
    output = [ci.batchSize, ci.outHeight, ci.outWidth, ci.outChannels];
  } else if (c.kernel === 'Conv2DBackpropInput') {
    const [dy, w] = c.shapes;
    const xShape = a.inputShape as number[];
    const ci = convInfo(xShape, w, a);
    const p = ci.padInfo;
    const extraH = xShape[1] - (ci.strideHeight * (ci.outHeight - 1) + w[0] - p.top - p.bottom);
    const extraW = xShape[2] - (ci.strideWidth * (ci.outWidth - 1) + w[1] - p.left - p.right);
    inputs = [{ name: 'dy', shape: dy }, { name: 'w', shape: w }];
    const y = op('ConvTranspose', [nchw('dy'), oihw('w')], [
      ints('kernel_shape', [w[0], w[1]]),
      ints('strides', [ci.strideHeight, ci.strideWidth]),
      ints('pads', [p.top, p.left, p.bottom, p.right]),
      ints('output_padding', [extraH, extraW]),
    ]);
    op('Transpose', [y], [ints('perm', [0, 2, 3, 1])], 'y');
    output = xShape;
  } else {
    // dW[i, j, ci, co] = Σ_n,y,x x[n, s·y + i − p, s·x + j − p, ci] · dy[n, y, x, co]: a Conv whose
    // batch is ci, channels n, kernel dy (dilated by the stride), then cropped to the kernel size.
    const [x, dy] = c.shapes;
    const fs4 = a.filterShape as number[];
    const ci = convInfo(x, fs4, a);
    const p = ci.padInfo;
    inputs = [{ name: 'x', shape: x }, { name: 'dy', shape: dy }];
    const xs = op('Transpose', ['x'], [ints('perm', [3, 0, 1, 2])]); // [ci, n, H, W]
    const k = op('Transpose', ['dy'], [ints('perm', [3, 0, 1, 2])]); // [co, n, oh, ow]
    const full = op('Conv', [xs, k], [
      ints('kernel_shape', [dy[1], dy[2]]),
      ints('dilations', [ci.strideHeight, ci.strideWidth]),
      ints('pads', [p.top, p.left, p.bottom, p.right]),
    ]); // [ci, co, ≥kh, ≥kw]
    const starts = 'starts';
    const cropped = op('Slice', [full, starts, 'ends', 'axes']);
    op('Transpose', [cropped], [ints('perm', [2, 3, 0, 1])], 'y');
    output = fs4;
    return {
      model: model(nodes, inputs, output, [
        { name: starts, values: [0, 0] },
        { name: 'ends', values: [fs4[0], fs4[1]] },
        { name: 'axes', values: [2, 3] },
      ]),
      inputs,
      output,
    };
  }
  return { model: model(nodes, inputs, output, []), inputs, output };
}

function model(nodes: OnnxNode[], inputs: { name: string; shape: number[] }[], output: number[], int64s: { name: string; values: number[] }[]): OnnxModel {
  return {
    irVersion: 8,
    producerName: 'tools/onnx-conv',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'conv',
      node: nodes,
      initializer: int64s.map((t) => ({ name: t.name, dims: [t.values.length], dataType: OnnxDataType.INT64, rawData: new Uint8Array(BigInt64Array.from(t.values.map(BigInt)).buffer) })),
      input: inputs.map((i) => info(i.name, i.shape)),
      output: [info('y', output)],
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const report = await initBackend({ prefer: 'wasm' });
  if (report.backend !== 'wasm') throw new Error('needs the wasm backend');
  const loaded = loadOnnxRuntime();
  if ('reason' in loaded) throw new Error(loaded.reason);
  const runtime: OnnxRuntime = loaded.runtime;
  wrapKernels();

  // The step seg:bench times (PSPNet-R18, width 0.25, 4×128×128, momentum SGD, no GPL).
  const name = 'pspnet-r18';
  const cfg = { ...defaultSegConfig, model: name, percep: 'none' };
  const [h, w] = cfg.crop;
  const model = createSegModel(name, { numClasses: 19, width: cfg.width, seed: 1 });
  const optimizer = tf.train.momentum(cfg.lr, cfg.momentum);
  const batch = {
    ids: [] as string[],
    images: tf.randomNormal([cfg.batch, h, w, 3], 0, 1, 'float32', 7) as tf.Tensor4D,
    labels: tf.tidy(() => tf.tile(tf.reshape(tf.minimum(tf.floorDiv(tf.range(0, h, 1, 'int32'), 7), 18), [1, h, 1]), [cfg.batch, 1, w])) as tf.Tensor3D,
  };
  const info = { classNames: Array.from({ length: 19 }, (_, i) => `c${i}`), ignoreIndex: 255, auxWeight: modelEntry(name).auxWeight } as unknown as SegInfo;
  const ctx = { vars: trainableVariables(model), optimizer, weightDecay: cfg.weightDecay };
  const trainingStep = () => sgdStep(ctx, () => segTask.loss({ model, batch, cfg: cfg as typeof defaultSegConfig, info, lambda: 0 }));
  trainingStep();
  trainingStep();
  const stepMs: number[] = [];
  const convMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    calls.length = 0;
    recording = true;
    const t0 = performance.now();
    trainingStep();
    stepMs.push(performance.now() - t0);
    recording = false;
    convMs.push(calls.reduce((s, c) => s + c.ms, 0));
  }
  const lastCalls = [...calls];
  console.log(`PSPNet-R18 w0.25 4×${h}×${w} step on tfjs-wasm: ${median(stepMs).toFixed(0)} ms (median of ${reps}), of which convolution kernels ${median(convMs).toFixed(0)} ms in ${lastCalls.length} calls`);

  // Group the last step's calls by shape; tfjs time per group from that step.
  const groups = new Map<string, { call: Call; count: number; tfjsMs: number }>();
  for (const c of lastCalls) {
    const g = groups.get(keyOf(c)) ?? { call: c, count: 0, tfjsMs: 0 };
    g.count++;
    g.tfjsMs += c.ms;
    groups.set(keyOf(c), g);
  }
  const rows: { kernel: string; shapes: number[][]; count: number; tfjsMs: number; ortMs: number; maxRelDiff: number }[] = [];
  for (const g of groups.values()) {
    const { model: m, inputs, output } = oneOpGraph(g.call);
    const bytes = encodeOnnxModel(runtime.protobuf, m);
    const session = new runtime.InferenceSession();
    session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    const tensors = inputs.map((i, k) => tf.randomNormal(i.shape, 0, 1, 'float32', k + 1));
    // tfjs reference for the check: the same kernel through the engine.
    const ref = tf.tidy(() => tf.engine().runKernel(g.call.kernel, Object.fromEntries(kernelInputNames(g.call.kernel).map((n, k) => [n, tensors[k]])), g.call.attrs as tf.NamedAttrMap) as tf.Tensor);
    const once = () => {
      // What an override pays: copy the inputs out of the wasm heap, run, copy the output back.
      const feeds = Object.fromEntries(inputs.map((i, k) => [i.name, new runtime.Tensor('float32', tensors[k].dataSync() as Float32Array, i.shape)]));
      const out = session.run(feeds, { y: null }, {});
      return tf.tensor(out.y.data as Float32Array, output);
    };
    const first = once();
    const scale = tf.max(tf.abs(ref)).dataSync()[0] || 1;
    const maxRelDiff = tf.max(tf.abs(tf.sub(first, ref))).dataSync()[0] / scale;
    first.dispose();
    const samples: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      once().dispose();
      samples.push(performance.now() - t0);
    }
    session.dispose();
    tf.dispose([...tensors, ref]);
    rows.push({ kernel: g.call.kernel, shapes: g.call.shapes, count: g.count, tfjsMs: g.tfjsMs, ortMs: median(samples) * g.count, maxRelDiff });
  }
  rows.sort((a, b) => b.tfjsMs - a.tfjsMs);
  for (const r of rows) {
    console.log(`  ${r.kernel.padEnd(21)} ${JSON.stringify(r.shapes).padEnd(36)} ×${String(r.count).padStart(2)}  tfjs ${r.tfjsMs.toFixed(1).padStart(7)} ms  onnxruntime×${threads} ${r.ortMs.toFixed(1).padStart(7)} ms  (${(r.tfjsMs / r.ortMs).toFixed(2)}×, rel diff ${r.maxRelDiff.toExponential(1)})`);
  }
  const tfjsConv = rows.reduce((s, r) => s + r.tfjsMs, 0);
  const ortConv = rows.reduce((s, r) => s + r.ortMs, 0);
  const step = stepMs[stepMs.length - 1];
  const projected = step - tfjsConv + ortConv;
  console.log(`last step ${step.toFixed(0)} ms: convolutions tfjs ${tfjsConv.toFixed(0)} ms → onnxruntime×${threads} ${ortConv.toFixed(0)} ms (incl. transfer); projected step ${projected.toFixed(0)} ms = ${(step / projected).toFixed(2)}× faster (goal ≥ 1.5×)`);
  const out = path.resolve(__dirname, '../../bench-results/conv-override.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), loadAverage: os.loadavg(), threads, stepMs, convMs, projectedStepMs: projected, speedup: step / projected, rows }, null, 1));
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
  tf.dispose([batch.images, batch.labels]);
  optimizer.dispose();
  model.dispose();
}

function kernelInputNames(kernel: string): string[] {
  switch (kernel) {
    case 'Conv2D':
      return ['x', 'filter'];
    case 'FusedConv2D':
      return ['x', 'filter', 'bias'];
    case 'Conv2DBackpropInput':
      return ['dy', 'filter'];
    default:
      return ['x', 'dy'];
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * The onnxruntime engine of the loss: onnxruntime-node (and protobufjs, which writes the graph)
 * are optional peers, loaded on first use inside try/catch, so the package works without them.
 * Sessions run through onnxruntime-node's native binding, which is synchronous: a tfjs gradient
 * function cannot await.
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs-core';
import { encodeOnnxModel, type ProtobufLike } from './onnx-proto';
import { LOSS_GRAPH_IO, buildLossGraph, type OnnxConvWeights } from './onnx-graph';
import type { LossReduction, NetworkSpec } from './spec';
import type { ConvWeights } from './network';

/** Which engine runs the loss: 'auto' takes onnxruntime when it loads, TensorFlow.js otherwise. */
export type LossEngine = 'auto' | 'tfjs' | 'onnxruntime';

/** Which engine a loss runs on, and why (like @gpl/core's backend report). */
export interface EngineReport {
  /** The engine that runs compute(). */
  readonly engine: 'tfjs' | 'onnxruntime';
  /** What the config asked for. */
  readonly requested: LossEngine;
  /** onnxruntime's intra-op threads (when it runs), e.g. the machine's cores. */
  readonly threads: number | null;
  /** onnxruntime-node's version when it loaded. */
  readonly version: string | null;
  /** The engine not taken, with the reason. */
  readonly skipped: readonly { readonly engine: 'tfjs' | 'onnxruntime'; readonly reason: string }[];
}

/** One line, e.g. 'onnxruntime (onnxruntime-node 1.30.0, 2 threads); skipped: tfjs — …'. */
export function formatEngineReport(r: EngineReport): string {
  const head = r.engine === 'onnxruntime' ? `onnxruntime (onnxruntime-node ${r.version}, ${r.threads} thread${r.threads === 1 ? '' : 's'})` : 'tfjs (the TensorFlow.js backend in use)';
  return r.skipped.length ? `${head}; skipped: ${r.skipped.map((s) => `${s.engine} — ${s.reason}`).join('; ')}` : head;
}

/** The part of onnxruntime-node this package uses. */
interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
}
interface OrtBindingSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: Record<string, unknown>): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: Record<string, unknown>): Record<string, OrtTensorLike>;
  dispose(): void;
}
export interface OnnxRuntime {
  readonly version: string;
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  readonly InferenceSession: new () => OrtBindingSession;
  readonly protobuf: ProtobufLike;
}

/** Loads a package by name; tests substitute it to simulate absent or broken packages. */
export type PackageLoader = (pkg: string) => unknown;

const defaultLoader: PackageLoader = (pkg) => require(pkg);
let loader: PackageLoader = defaultLoader;
let loaded: { runtime: OnnxRuntime } | { reason: string } | null = null;

/** Replaces the package loader (tests only); resets the cached result. Returns the previous one. */
export function setPackageLoader(next: PackageLoader | null): PackageLoader {
  const previous = loader;
  loader = next ?? defaultLoader;
  loaded = null;
  return previous;
}

function describeLoadError(pkg: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`'${pkg}`)) return `${pkg} is not installed (npm i onnxruntime-node protobufjs)`;
  return `${pkg} failed to load: ${String(e?.message ?? err).split('\n')[0]}`;
}

/** onnxruntime-node's binding, its Tensor class and protobufjs, or why they did not load (cached). */
export function loadOnnxRuntime(): { runtime: OnnxRuntime } | { reason: string } {
  if (loaded) return loaded;
  const attempt = (): { runtime: OnnxRuntime } | { reason: string } => {
    let ort: { Tensor: OnnxRuntime['Tensor'] };
    let bindingModule: { binding: { InferenceSession: OnnxRuntime['InferenceSession'] }; initOrt(): void };
    let version = 'unknown';
    try {
      ort = loader('onnxruntime-node') as typeof ort;
      bindingModule = loader('onnxruntime-node/dist/binding') as typeof bindingModule;
      bindingModule.initOrt();
    } catch (err) {
      return { reason: describeLoadError('onnxruntime-node', err) };
    }
    try {
      version = (loader('onnxruntime-node/package.json') as { version: string }).version;
    } catch {
      // The version is only reported.
    }
    let protobuf: ProtobufLike;
    try {
      protobuf = loader('protobufjs') as ProtobufLike;
    } catch (err) {
      return { reason: describeLoadError('protobufjs', err) };
    }
    return { runtime: { version, Tensor: ort.Tensor, InferenceSession: bindingModule.binding.InferenceSession, protobuf } };
  };
  loaded = attempt();
  return loaded;
}

/** Cores of this machine: the default number of onnxruntime threads. */
export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Time spent and bytes moved by the last run, for benchmarks. */
export interface OnnxRunStats {
  /** Reading pred/target/mask out of tfjs and writing loss/grad back, milliseconds. */
  readonly transferMs: number;
  /** The session run itself, milliseconds. */
  readonly runMs: number;
  /** Bytes copied between tfjs and onnxruntime (both directions). */
  readonly transferBytes: number;
  /** Session creation (graph build, encode, load), milliseconds; 0 when cached. */
  readonly buildMs: number;
}

const MAX_SESSIONS = 4;

/**
 * Sessions of one loss network, one per (shape, mask channels, gradient or not), built on first
 * use and kept (the least recently used is dropped beyond four).
 */
export class OnnxLossRunner {
  private readonly sessions = new Map<string, OrtBindingSession>();
  private weights: (OnnxConvWeights | null)[] | null = null;
  lastStats: OnnxRunStats = { transferMs: 0, runMs: 0, transferBytes: 0, buildMs: 0 };

  constructor(
    private readonly runtime: OnnxRuntime,
    private readonly spec: NetworkSpec,
    private readonly tfWeights: readonly (ConvWeights | null)[],
    private readonly tapWeights: readonly number[],
    readonly threads: number,
    private readonly reduction: LossReduction = 'mean',
  ) {}

  /**
   * Loss and (with `withGradient`) d loss / d pred for one call, as new tfjs tensors (the caller
   * owns them; inside customGrad's forward they belong to its tidy scope).
   */
  run(pred: tf.Tensor4D, target: tf.Tensor4D, mask: tf.Tensor4D | undefined, withGradient: boolean): { loss: tf.Scalar; grad: tf.Tensor4D | null } {
    const shape = pred.shape as [number, number, number, number];
    const maskChannels = mask ? mask.shape[3] : null;
    const key = `${shape.join('x')}/${maskChannels}/${withGradient}`;
    let buildMs = 0;
    let session = this.sessions.get(key);
    if (session) {
      this.sessions.delete(key);
    } else {
      const t0 = performance.now();
      session = this.createSession(shape, maskChannels, withGradient);
      buildMs = performance.now() - t0;
      if (this.sessions.size >= MAX_SESSIONS) {
        const [oldest, s] = this.sessions.entries().next().value as [string, OrtBindingSession];
        s.dispose();
        this.sessions.delete(oldest);
      }
    }
    this.sessions.set(key, session);
    const t0 = performance.now();
    const Tensor = this.runtime.Tensor;
    const io = LOSS_GRAPH_IO;
    const feeds: Record<string, unknown> = {
      [io.pred]: new Tensor('float32', pred.dataSync() as Float32Array, shape),
      [io.target]: new Tensor('float32', target.dataSync() as Float32Array, shape),
    };
    let bytes = 2 * pred.size * 4;
    if (mask) {
      feeds[io.mask] = new Tensor('float32', mask.dataSync() as Float32Array, mask.shape);
      bytes += mask.size * 4;
    }
    const fetches: Record<string, null> = withGradient ? { [io.loss]: null, [io.grad]: null } : { [io.loss]: null };
    const t1 = performance.now();
    const out = session.run(feeds, fetches, {});
    const t2 = performance.now();
    const loss = tf.scalar((out[io.loss].data as Float32Array)[0]);
    const gradData = withGradient ? (out[io.grad].data as Float32Array) : null;
    const grad = gradData ? tf.tensor4d(gradData, shape) : null;
    if (gradData) bytes += gradData.byteLength;
    this.lastStats = { transferMs: t1 - t0 + (performance.now() - t2), runMs: t2 - t1, transferBytes: bytes, buildMs };
    return { loss, grad };
  }

  private createSession(shape: [number, number, number, number], maskChannels: number | null, withGradient: boolean): OrtBindingSession {
    // Stride-1 input gradients as Conv with flipped kernels: onnxruntime's Conv (NCHWc, fused)
    // ran up to 2× faster than its ConvTranspose on [1,1,1,1,1] at 2×64×64 (measured here). ReLU
    // masks as clipped 1×1 Convs keep the backward in onnxruntime's blocked layout (vgg16: 23
    // layout reorders instead of 45 per step).
    const model = buildLossGraph(this.spec, this.onnxWeights(), { shape, maskChannels, tapWeights: this.tapWeights, reduction: this.reduction, withGradient, flippedConv: true, convMasks: true });
    const bytes = encodeOnnxModel(this.runtime.protobuf, model);
    const session = new this.runtime.InferenceSession();
    session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
      // Workers spin between the ops of a run (waking sleeping workers for each of the graph's
      // small ops cost 1–2 ms of a 17 ms [1,1,1,1,1] step here) and stop when the run ends, so
      // they do not take the cores from the tfjs thread between runs: spinning that outlived the
      // run slowed the next session's run 1.4× and training steps up to 1.6× on this machine.
      extra: { session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1' } },
      // Warnings (e.g. about initializers the optimiser folded away) are not actionable here.
      logSeverityLevel: 3,
    });
    return session;
  }

  /** OIHW copies of the kernels, read out of tfjs once. */
  private onnxWeights(): (OnnxConvWeights | null)[] {
    if (!this.weights) {
      this.weights = this.spec.nodes.map((node, i) => {
        const w = this.tfWeights[i];
        if (node.op !== 'conv' || !w) return null;
        const bias = w.bias ? (w.bias.dataSync() as Float32Array).slice() : null;
        return { kernel: hwioToOihw(w.kernel.dataSync() as Float32Array, w.kernel.shape), bias };
      });
    }
    return this.weights;
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
    this.weights = null;
  }
}

/**
 * tfjs HWIO [k, k, in, out] → OIHW [out, in, k, k]; a depthwise [k, k, C, 1] becomes [C, 1, k, k]
 * by the same rule (in = C, out = 1 → [1, C, k, k] has the same memory order as [C, 1, k, k]).
 */
function hwioToOihw(hwio: Float32Array, [kh, kw, cin, cout]: readonly number[]): Float32Array {
  const out = new Float32Array(hwio.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const src = (y * kw + x) * cin * cout;
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = hwio[src + i * cout + o];
      }
    }
  }
  return out;
}

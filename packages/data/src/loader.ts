/**
 * Batching with bounded asynchronous prefetch. Samples are decoded (sharp runs on libuv's thread
 * pool) and augmented ahead of the consumer, at most `prefetch` batches deep and `concurrency`
 * samples at a time; tensors are created only when a batch is handed out, so an abandoned
 * iterator leaves no tensors behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { epochOrder, shardIndices } from './dataset';
import { isDataError } from './errors';
import { createRng, deriveSeed } from './rng';
import type { Batch, Dataset, Instance, Sample, SkippedSample, Transform } from './types';

/** Options of `DataLoader`. */
export interface DataLoaderOptions {
  /** Samples per batch. */
  readonly batchSize: number;
  /** Shuffle each epoch with a permutation seeded by (seed, epoch). Default true. */
  readonly shuffle?: boolean;
  /** Seed for order and augmentation. Default 0. */
  readonly seed?: number;
  /** Per-sample transform (augmentation), given an RNG seeded by (seed, epoch, sample index). */
  readonly transform?: Transform;
  /** Drop a last incomplete batch. Default false. */
  readonly dropLast?: boolean;
  /** This process's shard of the epoch order (`index` of `count`). Default: everything. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Batches decoded ahead of the consumer. Default 2. */
  readonly prefetch?: number;
  /** Samples decoded at once. Default 4. */
  readonly concurrency?: number;
  /**
   * Skip samples whose files are bad (a `DataError`) and record them in `skipped`, instead of
   * failing. A batch then has fewer samples. Default false.
   */
  readonly skipInvalid?: boolean;
}

/** A batch before tensor creation: plain arrays (NHWC). */
export interface HostBatch {
  readonly ids: string[];
  readonly indices: number[];
  readonly shape: readonly [number, number, number, number];
  readonly images: Float32Array;
  readonly labels?: Int32Array;
  readonly labelShape?: readonly [number, number, number];
  readonly depth?: Float32Array;
  readonly depthShape?: readonly [number, number, number, number];
  readonly softLabels?: Float32Array;
  readonly softShape?: readonly [number, number, number, number];
  readonly instances?: Instance[][];
}

function sizeOf(s: { height: number; width: number }): string {
  return `${s.width}×${s.height}`;
}

/**
 * Stacks samples into flat arrays. All samples must share kind and sizes.
 * Throws `RangeError` naming the odd sample and suggesting a crop or resize transform.
 */
export function collateHost(samples: readonly Sample[], indices: readonly number[] = samples.map((_, i) => i)): HostBatch {
  if (samples.length === 0) throw new RangeError('[@gpl/data] collate: expected at least one sample, received none.');
  const first = samples[0];
  const { height: h, width: w, channels: c } = first.image;
  const fix = 'Add a randomCrop or resize transform so every sample in a batch has the same size.';
  for (const s of samples) {
    if (s.kind !== first.kind) throw new TypeError(`[@gpl/data] collate: expected every sample to be '${first.kind}', received '${s.kind}' (${s.id}).`);
    if (s.image.height !== h || s.image.width !== w || s.image.channels !== c) {
      throw new RangeError(`[@gpl/data] collate: image of '${s.id}' is ${sizeOf(s.image)}×${s.image.channels}, expected ${w}×${h}×${c} like '${first.id}'. ${fix}`);
    }
  }
  const n = samples.length;
  const images = new Float32Array(n * h * w * c);
  samples.forEach((s, i) => images.set(s.image.data, i * h * w * c));
  const out: { -readonly [K in keyof HostBatch]: HostBatch[K] } = {
    ids: samples.map((s) => s.id),
    indices: [...indices],
    shape: [n, h, w, c],
    images,
  };
  const labelled = samples.map((s) => ('label' in s ? s.label : undefined));
  if (labelled.every((l) => l !== undefined)) {
    const l0 = labelled[0]!;
    const labels = new Int32Array(n * l0.height * l0.width);
    labelled.forEach((l, i) => {
      if (l!.height !== l0.height || l!.width !== l0.width) {
        throw new RangeError(`[@gpl/data] collate: label of '${samples[i].id}' is ${sizeOf(l!)}, expected ${sizeOf(l0)}. ${fix}`);
      }
      labels.set(l!.data, i * l0.height * l0.width);
    });
    out.labels = labels;
    out.labelShape = [n, l0.height, l0.width];
  }
  if (first.kind === 'depth') {
    const d0 = first.depth;
    const depth = new Float32Array(n * d0.height * d0.width);
    samples.forEach((s, i) => {
      const d = (s as typeof first).depth;
      if (d.height !== d0.height || d.width !== d0.width) {
        throw new RangeError(`[@gpl/data] collate: depth of '${s.id}' is ${sizeOf(d)}, expected ${sizeOf(d0)}. ${fix}`);
      }
      depth.set(d.data, i * d0.height * d0.width);
    });
    out.depth = depth;
    out.depthShape = [n, d0.height, d0.width, 1];
  }
  if (samples.every((s) => s.softLabels)) {
    const s0 = first.softLabels!;
    const per = s0.height * s0.width * s0.channels;
    const soft = new Float32Array(n * per);
    samples.forEach((s, i) => {
      const sl = s.softLabels!;
      if (sl.height !== s0.height || sl.width !== s0.width || sl.channels !== s0.channels) {
        throw new RangeError(`[@gpl/data] collate: soft labels of '${s.id}' are ${sizeOf(sl)}×${sl.channels}, expected ${sizeOf(s0)}×${s0.channels}. ${fix}`);
      }
      soft.set(sl.data, i * per);
    });
    out.softLabels = soft;
    out.softShape = [n, s0.height, s0.width, s0.channels];
  }
  if (first.kind === 'instances') out.instances = samples.map((s) => [...(s as typeof first).instances]);
  return out;
}

/** Creates the tensors of a host batch. The caller owns them (`disposeBatch`). */
export function toBatch(host: HostBatch): Batch {
  const b: { -readonly [K in keyof Batch]: Batch[K] } = {
    ids: host.ids,
    images: tf.tensor4d(host.images, [...host.shape], 'float32'),
  };
  if (host.labels && host.labelShape) b.labels = tf.tensor3d(host.labels, [...host.labelShape], 'int32');
  if (host.depth && host.depthShape) b.depth = tf.tensor4d(host.depth, [...host.depthShape], 'float32');
  if (host.softLabels && host.softShape) b.softLabels = tf.tensor4d(host.softLabels, [...host.softShape], 'float32');
  if (host.instances) b.instances = host.instances;
  return b;
}

/**
 * Stacks samples into a batch of NHWC tensors: images [N,H,W,3] float32, labels [N,H,W] int32,
 * depth [N,H,W,1], soft labels [N,h,w,K]. The caller disposes them (`disposeBatch`).
 */
export function collate(samples: readonly Sample[]): Batch {
  return toBatch(collateHost(samples));
}

/** Disposes every tensor of a batch. */
export function disposeBatch(batch: Batch): void {
  const tensors: tf.Tensor[] = [batch.images];
  for (const t of [batch.labels, batch.depth, batch.softLabels]) if (t) tensors.push(t);
  tf.dispose(tensors);
}

/** Bounded parallelism for sample decoding. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * Iterates a dataset in seeded, sharded, augmented batches with prefetch.
 *
 * ```ts
 * const loader = new DataLoader(ds, { batchSize: 8, seed: 1, transform: trainTransform(aug) });
 * for await (const batch of loader.batches(epoch)) { try { step(batch); } finally { disposeBatch(batch); } }
 * ```
 */
export class DataLoader<S extends Sample = Sample> {
  readonly dataset: Dataset<S>;
  private readonly opts: Required<Omit<DataLoaderOptions, 'transform' | 'shard'>> & Pick<DataLoaderOptions, 'transform' | 'shard'>;
  private readonly skippedList: SkippedSample[] = [];

  constructor(dataset: Dataset<S>, options: DataLoaderOptions) {
    const o = {
      shuffle: true,
      seed: 0,
      dropLast: false,
      prefetch: 2,
      concurrency: 4,
      skipInvalid: false,
      ...options,
    };
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError(`[@gpl/data] DataLoader: batchSize must be a positive integer, received ${o.batchSize}.`);
    if (!Number.isInteger(o.prefetch) || o.prefetch < 1) throw new RangeError(`[@gpl/data] DataLoader: prefetch must be a positive integer, received ${o.prefetch}.`);
    if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new RangeError(`[@gpl/data] DataLoader: concurrency must be a positive integer, received ${o.concurrency}.`);
    if (o.shard) shardIndices([], o.shard.index, o.shard.count);
    if (dataset.length === 0) throw new RangeError(`[@gpl/data] DataLoader: dataset ${dataset.name} is empty; check the split name and root.`);
    this.dataset = dataset;
    this.opts = o;
  }

  /** Samples skipped so far under `skipInvalid` (decode-time problems; open-time ones are in `dataset.skipped`). */
  get skipped(): readonly SkippedSample[] {
    return this.skippedList;
  }

  /** The dataset indices of one epoch for this shard, in order. */
  order(epoch: number): number[] {
    const all = this.opts.shuffle ? epochOrder(this.dataset.length, this.opts.seed, epoch) : Array.from({ length: this.dataset.length }, (_, i) => i);
    return this.opts.shard ? shardIndices(all, this.opts.shard.index, this.opts.shard.count) : all;
  }

  /** Number of batches per epoch for this shard. */
  get batchesPerEpoch(): number {
    const n = this.order(0).length;
    return this.opts.dropLast ? Math.floor(n / this.opts.batchSize) : Math.ceil(n / this.opts.batchSize);
  }

  /** Decodes and augments dataset sample `index` as it would appear in `epoch`. */
  async sample(index: number, epoch = 0): Promise<S> {
    const s = await this.dataset.get(index);
    const t = this.opts.transform;
    return t ? t.apply(s, createRng(deriveSeed(this.opts.seed, epoch, index))) : s;
  }

  /** Host (array) batches of one epoch, prefetched; no tensors. */
  async *hostBatches(epoch = 0): AsyncGenerator<HostBatch> {
    const order = this.order(epoch);
    const bs = this.opts.batchSize;
    const nBatches = this.opts.dropLast ? Math.floor(order.length / bs) : Math.ceil(order.length / bs);
    const sem = new Semaphore(this.opts.concurrency);
    type Settled = { ok: true; value: HostBatch | undefined } | { ok: false; error: unknown };
    const pending: Promise<Settled>[] = [];
    const start = (k: number): void => {
      const idx = order.slice(k * bs, (k + 1) * bs);
      const p = Promise.all(idx.map((i) => sem.run(() => this.loadOrSkip(i, epoch)))).then((samples) => {
        const kept: Sample[] = [];
        const keptIdx: number[] = [];
        samples.forEach((s, j) => {
          if (s === undefined) return;
          kept.push(s);
          keptIdx.push(idx[j]);
        });
        return kept.length ? collateHost(kept, keptIdx) : undefined;
      });
      // Settle into a value so a batch abandoned by an early `break` never becomes an unhandled rejection.
      pending.push(p.then((value) => ({ ok: true as const, value }), (error) => ({ ok: false as const, error })));
    };
    let next = 0;
    for (let k = 0; k < nBatches; k++) {
      while (next < nBatches && next < k + this.opts.prefetch + 1) start(next++);
      const r = await pending.shift()!;
      if (!r.ok) throw r.error;
      if (r.value) yield r.value;
    }
  }

  /** Tensor batches of one epoch (NHWC). Dispose each with `disposeBatch`. */
  async *batches(epoch = 0): AsyncGenerator<Batch> {
    for await (const host of this.hostBatches(epoch)) yield toBatch(host);
  }

  private async loadOrSkip(index: number, epoch: number): Promise<S | undefined> {
    try {
      return await this.sample(index, epoch);
    } catch (e) {
      if (this.opts.skipInvalid && isDataError(e)) {
        this.skippedList.push(e.toSkipped());
        return undefined;
      }
      throw e;
    }
  }
}

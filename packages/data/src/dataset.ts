/**
 * Building and reshaping datasets: a generic lazily-decoding dataset over an index, subsets,
 * seeded shuffling and sharding.
 */
import { deriveSeed, shuffledIndices } from './rng';
import type { Dataset, Rgb, Sample, SkippedSample } from './types';

/** What `createDataset` needs. */
export interface DatasetSpec<E, S extends Sample> {
  readonly name: string;
  /** One entry per sample (e.g. file paths), already validated as far as opening can. */
  readonly entries: readonly E[];
  /** Decodes one entry. Throw `DataError` for bad files. */
  readonly load: (entry: E, index: number) => Promise<S>;
  readonly classNames: readonly string[];
  readonly palette: readonly Rgb[];
  readonly ignoreIndex: number;
  readonly skipped?: readonly SkippedSample[];
  readonly depthRange?: readonly [number, number];
  /** The sample id of an entry, when the index knows it (default: the entry's `id` field, if a string). */
  readonly idOf?: (entry: E) => string | undefined;
}

/** A dataset over a list of entries that decodes on demand. */
export class IndexedDataset<E, S extends Sample> implements Dataset<S> {
  readonly name: string;
  readonly classNames: readonly string[];
  readonly palette: readonly Rgb[];
  readonly ignoreIndex: number;
  readonly skipped: readonly SkippedSample[];
  readonly depthRange?: readonly [number, number];
  /** The index entries, in sample order. */
  readonly entries: readonly E[];
  private readonly loadEntry: (entry: E, index: number) => Promise<S>;
  private readonly idOf: (entry: E) => string | undefined;

  constructor(spec: DatasetSpec<E, S>) {
    this.name = spec.name;
    this.idOf = spec.idOf ?? ((e) => (typeof (e as { id?: unknown })?.id === 'string' ? (e as { id: string }).id : undefined));
    this.entries = spec.entries;
    this.loadEntry = spec.load;
    this.classNames = spec.classNames;
    this.palette = spec.palette;
    this.ignoreIndex = spec.ignoreIndex;
    this.skipped = spec.skipped ?? [];
    if (spec.depthRange) this.depthRange = spec.depthRange;
  }

  get length(): number {
    return this.entries.length;
  }

  get(i: number): Promise<S> {
    if (!Number.isInteger(i) || i < 0 || i >= this.entries.length) {
      return Promise.reject(new RangeError(`[@gpl/data] ${this.name}: index must be an integer in [0, ${this.entries.length}), received ${i}.`));
    }
    return this.loadEntry(this.entries[i], i);
  }

  async sampleIds(): Promise<readonly string[]> {
    const ids = this.entries.map(this.idOf);
    if (ids.every((id): id is string => id !== undefined)) return ids;
    // An index without ids: decode each sample once (custom datasets derive ids from paths).
    const out: string[] = [];
    for (let i = 0; i < this.entries.length; i++) out.push(ids[i] ?? (await this.get(i)).id);
    return out;
  }
}

/** Creates a lazily-decoding dataset from an index and a loader function. */
export function createDataset<E, S extends Sample>(spec: DatasetSpec<E, S>): IndexedDataset<E, S> {
  return new IndexedDataset(spec);
}

/** A view of `ds` holding only `indices` (in that order). */
export function subsetDataset<S extends Sample>(ds: Dataset<S>, indices: readonly number[], name = `${ds.name}[subset]`): Dataset<S> {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= ds.length) {
      throw new RangeError(`[@gpl/data] subsetDataset: indices must be integers in [0, ${ds.length}), received ${i}.`);
    }
  }
  const idx = [...indices];
  return {
    name,
    get length() {
      return idx.length;
    },
    get: (i: number) => {
      if (!Number.isInteger(i) || i < 0 || i >= idx.length) {
        return Promise.reject(new RangeError(`[@gpl/data] ${name}: index must be an integer in [0, ${idx.length}), received ${i}.`));
      }
      return ds.get(idx[i]);
    },
    sampleIds: async () => {
      const all = await ds.sampleIds();
      return idx.map((i) => all[i]);
    },
    classNames: ds.classNames,
    palette: ds.palette,
    ignoreIndex: ds.ignoreIndex,
    skipped: ds.skipped,
    ...(ds.depthRange ? { depthRange: ds.depthRange } : {}),
  };
}

function checkShard(index: number, count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`[@gpl/data] shard: count must be a positive integer, received ${count}.`);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`[@gpl/data] shard: index must be an integer in [0, ${count}), received ${index}.`);
  }
}

/**
 * The positions of shard `index` of `count` over `items`: every `count`-th item starting at
 * `index`, so shards are disjoint, cover every item exactly once, and differ in size by ≤ 1.
 */
export function shardIndices<T>(items: readonly T[], index: number, count: number): T[] {
  checkShard(index, count);
  const out: T[] = [];
  for (let k = index; k < items.length; k += count) out.push(items[k]);
  return out;
}

/** Shard `index` of `count` of a dataset (for one process of a sharded job, e.g. soft-label writing). */
export function shardDataset<S extends Sample>(ds: Dataset<S>, index: number, count: number): Dataset<S> {
  checkShard(index, count);
  const all = Array.from({ length: ds.length }, (_, i) => i);
  return subsetDataset(ds, shardIndices(all, index, count), `${ds.name}[shard ${index}/${count}]`);
}

/** The sample order of `epoch`: a seeded permutation (the same for every shard of a job). */
export function epochOrder(length: number, seed: number, epoch: number): number[] {
  return shuffledIndices(length, deriveSeed(seed, epoch, 0x5eed));
}

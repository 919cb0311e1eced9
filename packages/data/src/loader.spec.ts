import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { epochOrder, shardDataset, shardIndices, subsetDataset } from './dataset';
import { DataError } from './errors';
import { collate, collateHost, DataLoader, disposeBatch } from './loader';
import { arrayDataset, coordinateSample, rectInstanceSample } from './testing';
import { compose, randomCrop, randomFlip } from './transforms';
import type { Dataset, SegmentationSample } from './types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function segSamples(n: number, h = 6, w = 8): SegmentationSample[] {
  return Array.from({ length: n }, (_, k) => {
    const s = coordinateSample(h, w) as SegmentationSample;
    return { ...s, id: `s${k}` };
  });
}

describe('sharding and shuffling', () => {
  it.each([1, 2, 3, 4, 7, 10])('shards of %i cover every sample exactly once', (count) => {
    for (const n of [0, 1, 9, 10, 23]) {
      const items = epochOrder(n, 5, 2);
      const seen = new Map<number, number>();
      const sizes: number[] = [];
      for (let i = 0; i < count; i++) {
        const part = shardIndices(items, i, count);
        sizes.push(part.length);
        for (const v of part) seen.set(v, (seen.get(v) ?? 0) + 1);
      }
      expect(seen.size).toBe(n);
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('shardDataset views are disjoint and complete', async () => {
    const ds = arrayDataset(segSamples(11));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const shard = shardDataset(ds, i, 3);
      for (let k = 0; k < shard.length; k++) ids.push((await shard.get(k)).id);
    }
    expect(ids.sort()).toEqual(Array.from({ length: 11 }, (_, k) => `s${k}`).sort());
    expect(() => shardDataset(ds, 3, 3)).toThrow(RangeError);
  });

  it('epoch order is a seeded permutation: same seed and epoch agree, others differ', () => {
    const a = epochOrder(50, 1, 0);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(epochOrder(50, 1, 0)).toEqual(a);
    expect(epochOrder(50, 1, 1)).not.toEqual(a);
    expect(epochOrder(50, 2, 0)).not.toEqual(a);
  });

  it('subsetDataset checks indices', () => {
    expect(() => subsetDataset(arrayDataset(segSamples(2)), [2])).toThrow(RangeError);
  });
});

describe('collate', () => {
  it('stacks samples into NHWC tensors with the right dtypes and frees them', () => {
    const samples = segSamples(3);
    const before = tf.memory().numTensors;
    const b = collate(samples);
    expect(b.images.shape).toEqual([3, 6, 8, 3]);
    expect(b.images.dtype).toBe('float32');
    expect(b.labels!.shape).toEqual([3, 6, 8]);
    expect(b.labels!.dtype).toBe('int32');
    expect(b.softLabels!.shape).toEqual([3, 6, 8, 2]);
    expect(b.labels!.arraySync()[1][2][3]).toBe(samples[1].label.data[2 * 8 + 3]);
    disposeBatch(b);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('carries depth as [N,H,W,1] and instances as plain per-image lists', () => {
    const depth = coordinateSample(4, 5, { kind: 'depth' });
    const b = collate([depth, { ...depth, id: 'd2' }]);
    expect(b.depth!.shape).toEqual([2, 4, 5, 1]);
    expect(b.depth!.dataSync()[1 * 5 + 2]).toBe(2 + 1000 * 1 + 1);
    disposeBatch(b);
    const inst = rectInstanceSample(6, 8, [[1, 1, 3, 3]]);
    const bi = collate([inst]);
    expect([bi.images.shape, bi.labels, bi.instances![0][0].box]).toEqual([[1, 6, 8, 3], undefined, [1, 1, 3, 3]]);
    disposeBatch(bi);
  });

  it('names the odd sample and suggests a crop when sizes differ', () => {
    expect(() => collateHost([...segSamples(1), ...segSamples(1, 7, 8)])).toThrow(/image of 's0' is 8×7×3, expected 8×6×3 .*randomCrop or resize/);
  });
});

/** A dataset that records how many `get` calls are in flight. */
function trackingDataset(n: number, fail: Set<number> = new Set()): Dataset<SegmentationSample> & { maxInFlight: number } {
  const base = arrayDataset(segSamples(n));
  let inFlight = 0;
  const ds = {
    ...base,
    maxInFlight: 0,
    get: async (i: number) => {
      inFlight++;
      ds.maxInFlight = Math.max(ds.maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      if (fail.has(i)) throw new DataError({ pkg: '@gpl/test', code: 'unreadable-image', file: `img${i}.jpg`, expected: 'an image', received: 'garbage' });
      return base.get(i);
    },
  };
  return ds;
}

describe('DataLoader', () => {
  it('yields every sample once per epoch in batches, seeded and augmented', async () => {
    const ds = trackingDataset(10);
    const loader = new DataLoader(ds, { batchSize: 4, seed: 3, transform: compose([randomCrop({ height: 4, width: 4 }), randomFlip()]) });
    expect(loader.batchesPerEpoch).toBe(3);
    const ids: string[] = [];
    const sizes: number[] = [];
    for await (const b of loader.batches(0)) {
      ids.push(...b.ids);
      sizes.push(b.images.shape[0]);
      expect(b.images.shape.slice(1)).toEqual([4, 4, 3]);
      disposeBatch(b);
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect([...ids].sort()).toEqual(Array.from({ length: 10 }, (_, k) => `s${k}`).sort());
    // Same epoch → same host batches; augmentation depends only on (seed, epoch, index).
    const again: number[] = [];
    for await (const h of loader.hostBatches(0)) again.push(...h.images);
    const first: number[] = [];
    for await (const h of new DataLoader(ds, { batchSize: 4, seed: 3, prefetch: 1, concurrency: 1, transform: compose([randomCrop({ height: 4, width: 4 }), randomFlip()]) }).hostBatches(0)) first.push(...h.images);
    expect(again).toEqual(first);
  });

  it('bounds decoding concurrency and drops the last partial batch when asked', async () => {
    const ds = trackingDataset(20);
    const loader = new DataLoader(ds, { batchSize: 3, concurrency: 2, prefetch: 3, dropLast: true });
    let n = 0;
    for await (const h of loader.hostBatches(1)) n += h.ids.length;
    expect(n).toBe(18);
    expect(ds.maxInFlight).toBeLessThanOrEqual(2);
    expect(ds.maxInFlight).toBeGreaterThanOrEqual(2);
  });

  it('shards of a loader partition each epoch', async () => {
    const ds = trackingDataset(13);
    const all: string[] = [];
    for (let i = 0; i < 3; i++) {
      for await (const h of new DataLoader(ds, { batchSize: 2, seed: 9, shard: { index: i, count: 3 } }).hostBatches(4)) all.push(...h.ids);
    }
    expect(all.sort()).toEqual(Array.from({ length: 13 }, (_, k) => `s${k}`).sort());
  });

  it('fails on a bad sample, or skips and counts it under skipInvalid', async () => {
    const ds = trackingDataset(6, new Set([2, 4]));
    const strict = new DataLoader(ds, { batchSize: 2, shuffle: false });
    await expect((async () => {
      for await (const h of strict.hostBatches()) void h;
    })()).rejects.toThrow(/img2\.jpg: expected an image, received garbage/);
    const lenient = new DataLoader(ds, { batchSize: 2, shuffle: false, skipInvalid: true });
    const ids: string[] = [];
    for await (const h of lenient.hostBatches()) ids.push(...h.ids);
    expect(ids).toEqual(['s0', 's1', 's3', 's5']);
    expect(lenient.skipped.map((s) => s.file)).toEqual(['img2.jpg', 'img4.jpg']);
  });

  it('leaves no tensors behind when the consumer stops early', async () => {
    const before = tf.memory().numTensors;
    const loader = new DataLoader(trackingDataset(12), { batchSize: 2, prefetch: 3 });
    for await (const b of loader.batches()) {
      disposeBatch(b);
      break;
    }
    await new Promise((r) => setTimeout(r, 30));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options', () => {
    const ds = arrayDataset(segSamples(2));
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(RangeError);
    expect(() => new DataLoader(ds, { batchSize: 1, shard: { index: 2, count: 2 } })).toThrow(RangeError);
    expect(() => new DataLoader(arrayDataset([]), { batchSize: 1 })).toThrow(/empty/);
  });
});

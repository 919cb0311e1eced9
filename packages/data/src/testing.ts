/**
 * Test helpers for code that consumes `@gpl/data` (imported as `@gpl/data/testing`, never from
 * production code): in-memory datasets, coordinate-coded samples for alignment checks, temp dirs.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Dataset, DepthSample, InstanceSample, Rgb, Sample, SegmentationSample } from './types';

/** A dataset over samples held in memory (each `get` returns a shallow copy). */
export function arrayDataset<S extends Sample>(
  samples: readonly S[],
  meta: { classNames?: readonly string[]; palette?: readonly Rgb[]; ignoreIndex?: number; name?: string } = {},
): Dataset<S> {
  const names = meta.classNames ?? ['a', 'b', 'c'];
  return {
    name: meta.name ?? 'array',
    length: samples.length,
    get: async (i: number) => {
      if (!(i >= 0 && i < samples.length)) throw new RangeError(`arrayDataset: index ${i} out of range`);
      return { ...samples[i] };
    },
    classNames: names,
    palette: meta.palette ?? names.map((_, i) => [i * 40, 255 - i * 40, 128] as const),
    ignoreIndex: meta.ignoreIndex ?? 255,
    skipped: [],
    sampleIds: async () => samples.map((s) => s.id),
  };
}

/** Label value that coordinate-coded samples carry at (x, y): a function of the coordinates. */
export function coordLabel(x: number, y: number, numClasses = 19): number {
  return (x * 7 + y * 3) % numClasses;
}

/**
 * A segmentation sample whose float image stores the pixel's own coordinates (channel 0 = x,
 * channel 1 = y, channel 2 = x + y) and whose label is `coordLabel(x, y)`; optional depth
 * (x + 1000·y + 1) and soft labels (channels x, y at the image's resolution or a fraction of it).
 * After any geometric transform the image tells where each output pixel came from, so alignment of
 * every field can be checked exactly.
 */
export function coordinateSample(
  height: number,
  width: number,
  opts: { softScale?: number; kind?: 'segmentation' | 'depth' } = {},
): SegmentationSample | DepthSample {
  const img = new Float32Array(height * width * 3);
  const label = new Uint8Array(height * width);
  const depth = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      img[3 * i] = x;
      img[3 * i + 1] = y;
      img[3 * i + 2] = x + y;
      label[i] = coordLabel(x, y);
      depth[i] = x + 1000 * y + 1;
    }
  }
  const base = {
    id: `coord-${height}x${width}`,
    image: { data: img, height, width, channels: 3 },
    label: { data: label, height, width },
  };
  const s = opts.softScale ?? 1;
  const sh = Math.round(height * s);
  const sw = Math.round(width * s);
  const soft = new Float32Array(sh * sw * 2);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      soft[2 * (y * sw + x)] = (x + 0.5) / s - 0.5;
      soft[2 * (y * sw + x) + 1] = (y + 0.5) / s - 0.5;
    }
  }
  const softLabels = { data: soft, height: sh, width: sw, channels: 2 };
  if (opts.kind === 'depth') return { kind: 'depth', ...base, depth: { data: depth, height, width }, softLabels };
  return { kind: 'segmentation', ...base, softLabels };
}

/** An instance sample with rectangular instances (masks exactly fill their boxes). */
export function rectInstanceSample(height: number, width: number, rects: readonly (readonly [number, number, number, number])[]): InstanceSample {
  const img = new Float32Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      img[3 * (y * width + x)] = x;
      img[3 * (y * width + x) + 1] = y;
    }
  }
  return {
    kind: 'instances',
    id: 'rects',
    image: { data: img, height, width, channels: 3 },
    instances: rects.map(([x0, y0, x1, y1], k) => {
      const mask = new Uint8Array(height * width);
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask[y * width + x] = 1;
      return { classIndex: k % 3, categoryId: k + 1, box: [x0, y0, x1, y1] as const, mask, crowd: false, annotationId: k + 1 };
    }),
  };
}

/** A fresh temporary directory (removed by `removeTempDir`). */
export function makeTempDir(prefix = 'gpl-data-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

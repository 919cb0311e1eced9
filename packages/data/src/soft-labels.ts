/**
 * The soft-label file format shared by the teacher (writer) and the tasks (reader): one file per
 * sample, `<dir>/<sample id>.gplsoft`:
 *
 *   bytes 0..7   ASCII `GPLSOFT1`
 *   8..11        height    (uint32 little-endian)
 *   12..15       width     (uint32 LE)
 *   16..19       channels  (uint32 LE; classes, or 1 for depth / instance masks)
 *   20..23       encoding  (uint32 LE; 0 = uint8 probabilities, value/255)
 *   24..         zlib stream of H×W×K bytes, row-major HWC
 *
 * 8-bit quantisation keeps a 19-class 512×1024 map near 1 MB before compression (error ≤ 1/510 per
 * probability); the map may be stored at a lower resolution than the image (transforms keep it aligned).
 *
 * Writing compresses with fflate (plain JavaScript), so the same probabilities give the same file on
 * every machine, which lets shards written on different machines be checked by checksum; node's
 * zlib (Chromium's, with CPU-specific match finding) does not promise that. Measured on a
 * 19×256×512 map: fflate level 6 took 1.04 s against node's 0.92 s, for 6% more bytes. Reading
 * inflates with node's zlib (exact, native, off the main thread); files from either writer read alike.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { promisify } from 'util';
import { zlibSync } from 'fflate';
import { DataError } from './errors';
import { writeFileAtomic } from '@gpl/core';
import { readFileChecked } from './io';
import type { Dataset, Sample, SoftLabels } from './types';

const MAGIC = 'GPLSOFT1';
const HEADER = 24;
const inflateAsync = promisify(zlib.inflate);

/** File name extension of soft-label files. */
export const SOFT_LABEL_EXT = '.gplsoft';

/** Encodes soft labels (probabilities in [0, 1]) into the file format. */
export function encodeSoftLabels(s: SoftLabels): Uint8Array {
  const n = s.height * s.width * s.channels;
  if (s.data.length !== n) {
    throw new RangeError(`[@gpl/data] encodeSoftLabels: expected ${n} values for ${s.width}×${s.height}×${s.channels}, received ${s.data.length}.`);
  }
  const q = new Uint8Array(n);
  for (let i = 0; i < n; i++) q[i] = Math.round(Math.min(1, Math.max(0, s.data[i])) * 255);
  const body = zlibSync(q, { level: 6 });
  const out = new Uint8Array(HEADER + body.length);
  out.set(Buffer.from(MAGIC, 'latin1'), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, s.height, true);
  dv.setUint32(12, s.width, true);
  dv.setUint32(16, s.channels, true);
  dv.setUint32(20, 0, true);
  out.set(body, HEADER);
  return out;
}

/** The stored height, width and channels of a soft-label file from its header, or `undefined` for a file without one. */
export function softLabelHeader(buf: Uint8Array): { height: number; width: number; channels: number } | undefined {
  if (buf.length < HEADER || Buffer.from(buf.subarray(0, 8)).toString('latin1') !== MAGIC) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { height: dv.getUint32(8, true), width: dv.getUint32(12, true), channels: dv.getUint32(16, true) };
}

/** Decodes the file format; `file` names the source in errors. */
export async function decodeSoftLabels(buf: Uint8Array, file: string, pkg = '@gpl/data'): Promise<SoftLabels> {
  const bad = (received: string): DataError =>
    new DataError({ pkg, code: 'unreadable-image', file, expected: `a ${SOFT_LABEL_EXT} soft-label file (GPLSOFT1 header + zlib data)`, received });
  if (buf.length < HEADER || Buffer.from(buf.subarray(0, 8)).toString('latin1') !== MAGIC) throw bad('a file without the GPLSOFT1 header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const height = dv.getUint32(8, true);
  const width = dv.getUint32(12, true);
  const channels = dv.getUint32(16, true);
  const encoding = dv.getUint32(20, true);
  if (encoding !== 0) throw bad(`encoding ${encoding}`);
  let raw: Buffer;
  try {
    raw = await inflateAsync(buf.subarray(HEADER));
  } catch (e) {
    throw bad(`corrupt data (${(e as Error).message})`);
  }
  if (raw.length !== height * width * channels) throw bad(`${raw.length} values for ${width}×${height}×${channels}`);
  const data = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) data[i] = raw[i] / 255;
  return { data, height, width, channels };
}

function checkId(id: string): void {
  if (!id || id.includes('/') || id.includes('\\') || id === '.' || id === '..') {
    throw new RangeError(`[@gpl/data] soft labels: sample id must be a plain file stem, received '${id}'.`);
  }
}

/** Path of the soft-label file for sample `id` in `dir`. */
export function softLabelPath(dir: string, id: string): string {
  checkId(id);
  return path.join(dir, id + SOFT_LABEL_EXT);
}

/** Writes one sample's soft labels atomically (temporary name, then rename). */
export async function writeSoftLabels(dir: string, id: string, s: SoftLabels): Promise<string> {
  const file = softLabelPath(dir, id);
  await writeFileAtomic(file, encodeSoftLabels(s));
  return file;
}

/** Reads one sample's soft labels. */
export async function readSoftLabels(dir: string, id: string, pkg = '@gpl/data'): Promise<SoftLabels> {
  const file = softLabelPath(dir, id);
  return decodeSoftLabels(await readFileChecked(file, { pkg }, `teacher soft labels for '${id}'`), file, pkg);
}

/**
 * Image pixels per stored pixel of soft labels made at an output stride k (stored size round or
 * ceil of the image side / k, on both axes); 1 when the map is at the image's resolution or is
 * not at an integer stride.
 */
export function softLabelStride(imageHeight: number, imageWidth: number, soft: Pick<SoftLabels, 'height' | 'width'>): number {
  const k = Math.round(imageHeight / soft.height);
  const fits = (side: number, size: number) => {
    const excess = size * k - side; // round: within ±k/2; ceil: in [0, k)
    return excess >= -k / 2 && excess < k;
  };
  return k >= 2 && fits(imageHeight, soft.height) && fits(imageWidth, soft.width) ? k : 1;
}

/** The `stride` a soft-label folder's manifest.json records, when it has a readable one. */
function manifestStride(dir: string): number | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { stride?: unknown };
    return typeof m.stride === 'number' && Number.isInteger(m.stride) && m.stride >= 1 ? m.stride : undefined;
  } catch {
    return undefined; // no manifest: the stored size alone must be the image's or a stride of it
  }
}

/**
 * A view of `ds` whose samples carry the soft labels stored in `dir` (by sample id). Each file is
 * checked against its sample when read: one channel per class of `ds`, and the image's size at the
 * stride the folder's manifest records (without one: the image's size or an integer stride of it),
 * since a map made for other images would be stretched over these silently.
 */
export function withSoftLabels<S extends Sample>(ds: Dataset<S>, dir: string): Dataset<S> {
  const recorded = manifestStride(dir);
  return {
    name: `${ds.name}+soft`,
    get length() {
      return ds.length;
    },
    async get(i: number): Promise<S> {
      const s = await ds.get(i);
      const soft = await readSoftLabels(dir, s.id);
      const stride = softLabelStride(s.image.height, s.image.width, soft);
      const file = softLabelPath(dir, s.id);
      const wrong = (expected: string, received: string) =>
        new DataError({ pkg: '@gpl/data', code: 'size-mismatch', file, expected, received, hint: 'Regenerate the soft labels with teacher:generate for this dataset, or pass --soft-labels none.' });
      if (ds.classNames.length > 0 && soft.channels !== ds.classNames.length) {
        throw wrong(`${ds.classNames.length} channels (the classes of ${ds.name})`, `${soft.channels} channels`);
      }
      const { height: h, width: w } = s.image;
      const sameSize = soft.height === h && soft.width === w;
      if (recorded === undefined ? stride === 1 && !sameSize : recorded === 1 ? !sameSize : stride !== recorded) {
        const at = recorded && recorded > 1 ? `, i.e. ${Math.ceil(w / recorded)}×${Math.ceil(h / recorded)} at the manifest's stride ${recorded}` : recorded === 1 ? '' : ', or that size at an integer stride';
        throw wrong(`soft labels of image ${s.id} (${w}×${h}${at})`, `${soft.width}×${soft.height}`);
      }
      return { ...s, softLabels: stride > 1 ? { ...soft, stride } : soft };
    },
    classNames: ds.classNames,
    palette: ds.palette,
    ignoreIndex: ds.ignoreIndex,
    skipped: ds.skipped,
    ...(ds.depthRange ? { depthRange: ds.depthRange } : {}),
    sampleIds: () => ds.sampleIds(),
  };
}

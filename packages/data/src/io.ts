/**
 * File access for loaders: decoding with sharp (RGB images, 8-bit grey, 16-bit grey) and with the
 * PNG front door in png.ts (palette indices and palette), index files, root-confined paths and
 * atomic writes. Every failure becomes a `DataError` that names the file and says what was expected.
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { DataError } from './errors';
import { paletteMismatch, type ExpectedPalette } from './palette';
import { decodePngSamples, pngTruncation, readPngHeader, type PngHeader } from './png';
import type { DataErrorCode, ImageRaster, LabelMap, Rgb } from './types';

/** Who is reading, and how to name the file in messages. */
export interface ReadContext {
  /** Message prefix, e.g. `@gpl/voc`. */
  readonly pkg: string;
  /** Root the file name is shown relative to (default: shown as given). */
  readonly root?: string;
}

/** A single-channel raster with 16-bit samples (depth PNGs, Cityscapes instance ids). */
export interface Uint16Raster {
  readonly data: Uint16Array;
  readonly height: number;
  readonly width: number;
}

/** How a file is named in messages: relative to the dataset root when inside it. */
export function displayPath(file: string, root?: string): string {
  if (!root) return file;
  const rel = path.relative(root, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function fail(ctx: ReadContext, code: DataErrorCode, file: string, expected: string, received: string, hint?: string): DataError {
  return new DataError({ pkg: ctx.pkg, code, file: displayPath(file, ctx.root), expected, received, ...(hint ? { hint } : {}) });
}

/** Reads a whole file; a missing file becomes `DataError('missing-file')`. */
export async function readFileChecked(file: string, ctx: ReadContext, what = 'a file'): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw fail(ctx, 'missing-file', file, what, 'no such file');
    if (err.code === 'EISDIR') throw fail(ctx, 'missing-file', file, what, 'a directory');
    throw fail(ctx, 'unreadable-image', file, what, `${err.code ?? 'error'} (${err.message})`);
  }
}

/**
 * Decodes a JPEG or PNG (any bit depth, grey or with alpha) to 8-bit RGB, H×W×3.
 * Truncated or corrupt files fail (sharp's `failOn: 'warning'`).
 */
export async function readImage(file: string, ctx: ReadContext): Promise<ImageRaster> {
  const buf = await readFileChecked(file, ctx, 'an RGB image (JPEG or PNG)');
  try {
    const { data, info } = await sharp(buf, { failOn: 'warning' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width, channels: 3 };
  } catch (e) {
    throw fail(ctx, 'unreadable-image', file, 'a decodable JPEG or PNG image', firstLine((e as Error).message));
  }
}

function firstLine(msg: string): string {
  return (msg.split('\n')[0] || 'unknown decoder error').trim();
}

const COLOR_TYPES: Record<number, string> = { 0: 'grey', 2: 'RGB', 3: 'palette', 4: 'grey+alpha', 6: 'RGBA' };

/** A label map read from a palette PNG keeps its palette (colours are never looked up). */
export type LabelPng = LabelMap & { readonly palette?: readonly Rgb[] };

/** Reads `file` and its PNG header; anything but a PNG with a readable header throws `DataError`. */
async function readPng(file: string, ctx: ReadContext, what: string, expected: string): Promise<{ buf: Buffer; header: PngHeader }> {
  const buf = await readFileChecked(file, ctx, what);
  let header: PngHeader;
  try {
    header = readPngHeader(buf);
  } catch (e) {
    throw fail(ctx, 'unreadable-image', file, expected, (e as Error).message);
  }
  // sharp reports a cut-off file only as "Warning treated as error": say what is wrong first.
  const cut = pngTruncation(buf);
  if (cut) throw fail(ctx, 'unreadable-image', file, `a complete ${header.colorType === 3 ? 'palette ' : ''}PNG`, cut, 'Re-export or re-download the file.');
  return { buf, header };
}

function describeHeader(h: PngHeader): string {
  return `${h.bitDepth}-bit ${COLOR_TYPES[h.colorType] ?? `colour type ${h.colorType}`}`;
}

/**
 * Reads a label PNG as raw values: a palette PNG gives its *indices* (VOC: never map colours
 * back) and its palette, an 8-bit grey PNG its grey values. Anything else is rejected, since a
 * colour label would silently give wrong classes.
 * @param palette the colours the indices must show (see `paletteMismatch`): a palette PNG whose
 *   used indices show other colours (a palette an editor reordered) throws `DataError('palette-mismatch')`
 *   naming the file, since its indices are no longer the classes its colours show.
 */
export async function readLabelPng(file: string, ctx: ReadContext, palette?: ExpectedPalette): Promise<LabelPng> {
  const expected = 'a single-channel label PNG (8-bit grey or palette)';
  const { buf, header } = await readPng(file, ctx, 'a label PNG', expected);
  if (header.colorType === 3) {
    let png;
    try {
      png = decodePngSamples(buf);
    } catch (e) {
      throw fail(ctx, 'unreadable-image', file, 'a complete palette PNG', (e as Error).message, 'Re-export or re-download the file.');
    }
    const data = png.data as Uint8Array;
    if (palette) {
      const used = new Uint8Array(256);
      for (let i = 0; i < data.length; i++) used[data[i]] = 1;
      const why = paletteMismatch(png.palette!, Array.from(used, (u) => u === 1), palette);
      if (why) {
        throw fail(ctx, 'palette-mismatch', file, `palette indices that are the class values (${palette.name} in index order, or 8-bit grey)`, why,
          'Re-save the label keeping the palette order, or as 8-bit grey class indices.');
      }
    }
    return { data, height: png.height, width: png.width, palette: png.palette! };
  }
  if (header.colorType !== 0 || header.bitDepth !== 8) {
    throw fail(ctx, 'unreadable-image', file, expected, describeHeader(header),
      header.colorType === 2 || header.colorType === 6 ? 'Convert colour-coded labels to class indices first.' : undefined);
  }
  const g = await decodeGrey(buf, file, ctx, 8, expected);
  return { data: g.data as Uint8Array, height: g.height, width: g.width };
}

/** The first bytes of a file (its header), or a `DataError('missing-file')`. */
function readHead(file: string, ctx: ReadContext, bytes: number, what: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw fail(ctx, 'missing-file', file, what, err.code === 'ENOENT' ? 'no such file' : `${err.code} (${err.message})`);
  }
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, fs.readSync(fd, buf, 0, bytes, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Checks a label PNG's header when a dataset is opened (33 bytes read, no pixel decoded): a file
 * that is no PNG, or a colour or 16-bit image where class indices belong, throws the `DataError`
 * `readLabelPng` would throw at the first step that samples it. Returns the size for size checks.
 */
export function peekLabelPng(file: string, ctx: ReadContext): { height: number; width: number } {
  const expected = 'a single-channel label PNG (8-bit grey or palette)';
  let header: PngHeader;
  try {
    header = readPngHeader(readHead(file, ctx, 33, 'a label PNG'));
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw fail(ctx, 'unreadable-image', file, expected, (e as Error).message);
  }
  if (header.colorType !== 3 && (header.colorType !== 0 || header.bitDepth !== 8)) {
    throw fail(ctx, 'unreadable-image', file, expected, describeHeader(header),
      header.colorType === 2 || header.colorType === 6 ? 'Convert colour-coded labels to class indices first.' : undefined);
  }
  return { height: header.height, width: header.width };
}

/** Size from a JPEG's first start-of-frame marker within `buf`, or `undefined` when there is none. */
function jpegSize(buf: Buffer): { height: number; width: number } | undefined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return undefined;
  for (let pos = 2; pos + 9 <= buf.length; ) {
    if (buf[pos] !== 0xff) return undefined;
    const marker = buf[pos + 1];
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(pos + 5), width: buf.readUInt16BE(pos + 7) };
    }
    pos += 2 + buf.readUInt16BE(pos + 2);
  }
  return undefined;
}

/**
 * The size of a PNG or JPEG from its header, no pixel decoded: 4 KiB read (a JPEG's frame header
 * usually sits within its first kilobyte), 64 KiB when metadata pushes it further. `undefined`
 * when it cannot be told that way (the decoder then names the problem on read).
 */
export function peekImageSize(file: string, ctx: ReadContext): { height: number; width: number } | undefined {
  const head = readHead(file, ctx, 4096, 'an image');
  try {
    const h = readPngHeader(head.subarray(0, 33));
    return { height: h.height, width: h.width };
  } catch {
    return jpegSize(head) ?? (head.length === 4096 ? jpegSize(readHead(file, ctx, 65536, 'an image')) : undefined);
  }
}

/** Grey samples through sharp (native, several times faster than a JavaScript decoder on grey maps). */
async function decodeGrey(buf: Buffer, file: string, ctx: ReadContext, bits: 8 | 16, expected: string): Promise<{ data: Uint8Array | Uint16Array; height: number; width: number }> {
  try {
    // sharp turns grey into sRGB unless told otherwise: ask for the grey colourspace explicitly.
    const { data, info } = await sharp(buf, { failOn: 'warning' })
      .toColourspace(bits === 16 ? 'grey16' : 'b-w')
      .raw({ depth: bits === 16 ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`decoded to ${info.channels} channels`);
    const arr =
      bits === 16
        ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length))
        : new Uint8Array(data.buffer, data.byteOffset, data.length);
    return { data: arr, height: info.height, width: info.width };
  } catch (e) {
    throw fail(ctx, 'unreadable-image', file, expected, firstLine((e as Error).message));
  }
}

/** Reads a single-channel grey PNG of exactly `bits` bits per sample with sharp. */
async function readGreyPng(file: string, ctx: ReadContext, bits: 8 | 16): Promise<{ data: Uint8Array | Uint16Array; height: number; width: number }> {
  const expected = `${bits === 16 ? 'a 16' : 'an 8'}-bit single-channel PNG`;
  const { buf, header } = await readPng(file, ctx, `${bits === 16 ? 'a 16' : 'an 8'}-bit grey PNG`, expected);
  if (header.colorType !== 0 || header.bitDepth !== bits) throw fail(ctx, 'unreadable-image', file, expected, describeHeader(header));
  return decodeGrey(buf, file, ctx, bits, expected);
}

/** Reads a 16-bit single-channel PNG (depth in mm, Cityscapes instance ids) with sharp. */
export async function readUint16Png(file: string, ctx: ReadContext): Promise<Uint16Raster> {
  return (await readGreyPng(file, ctx, 16)) as Uint16Raster;
}

/** Reads an 8-bit single-channel PNG (grey values, e.g. DenseDepth's 8-bit train depth) with sharp. */
export async function readGrey8Png(file: string, ctx: ReadContext): Promise<LabelMap> {
  return (await readGreyPng(file, ctx, 8)) as LabelMap;
}

/** Image size without decoding pixels (sharp reads only the header). */
export async function readImageSize(file: string, ctx: ReadContext): Promise<{ height: number; width: number }> {
  const buf = await readFileChecked(file, ctx, 'an image');
  try {
    const m = await sharp(buf).metadata();
    if (!m.width || !m.height) throw new Error('no size in header');
    return { height: m.height, width: m.width };
  } catch (e) {
    throw fail(ctx, 'unreadable-image', file, 'a decodable image', firstLine((e as Error).message));
  }
}

/**
 * Checks that `root` is a dataset folder of the expected layout before any file of it is read:
 * a missing, empty or non-folder root, or one without `required` (paths relative to it), throws
 * `DataError('wrong-layout')` naming the root as the user gave it.
 * @param format the dataset's name for messages, e.g. 'Pascal VOC 2012'.
 */
export function checkLayout(root: string, required: readonly string[], ctx: ReadContext, format: string): void {
  let received: string | undefined;
  if (!fs.existsSync(root)) received = 'no such folder';
  else if (!fs.statSync(root).isDirectory()) received = 'a file';
  else if (fs.readdirSync(root).length === 0) received = 'an empty folder';
  else {
    const missing = required.find((r) => !fs.existsSync(path.join(root, r)));
    if (missing) received = `a folder without ${missing}`;
  }
  if (received) throw new DataError({ pkg: ctx.pkg, code: 'wrong-layout', file: root, expected: `the ${format} layout (${required.join(', ')})`, received });
}

/** Throws `DataError('size-mismatch')` unless `b` has the same height and width as `a`. */
export function checkSameSize(
  a: { readonly height: number; readonly width: number },
  b: { readonly height: number; readonly width: number },
  aFile: string,
  bFile: string,
  ctx: ReadContext,
): void {
  if (a.height !== b.height || a.width !== b.width) {
    throw fail(ctx, 'size-mismatch', bFile, `${a.width}×${a.height} to match ${displayPath(aFile, ctx.root)}`, `${b.width}×${b.height}`);
  }
}

/**
 * A 256-entry lookup table from raw label values to class indices; entries not listed map to
 * "invalid" (−1), which `mapLabels` reports as out of range.
 */
export function labelLut(pairs: Iterable<readonly [number, number]>): Int16Array {
  const lut = new Int16Array(256).fill(-1);
  for (const [raw, mapped] of pairs) lut[raw] = mapped;
  return lut;
}

/**
 * Maps raw label values through `lut` into a new class map. A value whose entry is −1 throws
 * `DataError('label-out-of-range')` naming the file, the value, the first pixel holding it and
 * the accepted values (`expected`).
 */
export function mapLabels(raw: LabelMap, lut: Int16Array, file: string, ctx: ReadContext, expected: string): LabelMap {
  const src = raw.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = lut[src[i]];
    if (v < 0) {
      const x = i % raw.width;
      const y = Math.floor(i / raw.width);
      throw fail(ctx, 'label-out-of-range', file, expected, `value ${src[i]} at pixel (x=${x}, y=${y})`);
    }
    out[i] = v;
  }
  return { data: out, height: raw.height, width: raw.width };
}

/** Checks that every value is `< numClasses` or `ignoreIndex`, without copying. */
export function checkLabelRange(label: LabelMap, numClasses: number, ignoreIndex: number, file: string, ctx: ReadContext): void {
  const d = label.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v >= numClasses && v !== ignoreIndex) {
      throw fail(ctx, 'label-out-of-range', file, `class indices 0..${numClasses - 1} or ${ignoreIndex} (ignore)`,
        `value ${v} at pixel (x=${i % label.width}, y=${Math.floor(i / label.width)})`);
    }
  }
}

/** One non-empty line of an index file, with its 1-based row number. */
export interface IndexLine {
  readonly text: string;
  readonly row: number;
}

/** Reads an index/list file: trimmed non-empty lines with row numbers (`#` lines are comments). */
export async function readIndexFile(file: string, ctx: ReadContext): Promise<IndexLine[]> {
  const buf = await readFileChecked(file, ctx, 'an index file');
  const lines: IndexLine[] = [];
  buf
    .toString('utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      const text = line.trim();
      if (text && !text.startsWith('#')) lines.push({ text, row: i + 1 });
    });
  return lines;
}

/**
 * Resolves `rel` (from an index file) inside `root`; a path that is absolute or climbs out of the
 * root throws `DataError('path-escape')` naming the index file and row.
 */
export function resolveInside(root: string, rel: string, ctx: ReadContext, indexFile: string, row: number): string {
  const resolved = path.resolve(root, rel);
  const back = path.relative(path.resolve(root), resolved);
  if (path.isAbsolute(rel) || back.startsWith('..') || path.isAbsolute(back)) {
    throw new DataError({
      pkg: ctx.pkg,
      code: 'path-escape',
      file: displayPath(indexFile, ctx.root),
      row,
      expected: `a path inside the dataset root ${root}`,
      received: `'${rel}'`,
    });
  }
  return resolved;
}

/** Reads and parses a JSON file; syntax errors become `DataError('malformed-json')` with the position. */
export async function readJsonFile(file: string, ctx: ReadContext, what = 'a JSON file'): Promise<unknown> {
  const buf = await readFileChecked(file, ctx, what);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw fail(ctx, 'malformed-json', file, `valid JSON (${what})`, firstLine((e as Error).message));
  }
}

/** Lists a directory's entries sorted by name; a missing directory throws `DataError('missing-file')`. */
export async function listDir(dir: string, ctx: ReadContext, what = 'a directory'): Promise<fs.Dirent[]> {
  try {
    const entries = await fs.promises.readdir(dir, { withFileTypes: true });
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw fail(ctx, 'missing-file', dir, what, err.code === 'ENOENT' ? 'no such directory' : `${err.code} (${err.message})`);
  }
}

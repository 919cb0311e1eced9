/**
 * PNG reading and writing where sharp does not fit:
 *
 * - sharp expands palette PNGs to RGB, but VOC labels are palette images whose *indices* are the
 *   class ids (REFERENCE §2), so `decodePng` returns raw samples: indices for colour type 3, values
 *   for grey (8/16-bit), interleaved channels otherwise. Non-interlaced images only (every dataset
 *   label we know of); interlaced files get a clear error.
 * - `encodePng` writes byte-for-byte reproducible files (deterministic deflate, fixed filter choice),
 *   which the mini-dataset generator needs.
 */
import * as zlib from 'zlib';
import { deflateDeterministic } from './deflate';
import type { Rgb } from './types';

// A module-local alias: global lookups (Math) are slow inside vm contexts such as Jest's.
const M = Math;

const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** Decoded PNG samples. */
export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  /** Bits per sample: 1, 2, 4, 8 or 16. */
  readonly bitDepth: number;
  /** PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  readonly colorType: number;
  /** Samples per pixel (1 for grey and palette). */
  readonly channels: number;
  /** Row-major samples: `Uint8Array` up to 8 bits (palette indices unpacked to one per byte), `Uint16Array` for 16 bits. */
  readonly data: Uint8Array | Uint16Array;
  /** The PLTE entries for colour type 3. */
  readonly palette?: readonly Rgb[];
}

/** Header fields of a PNG, from the IHDR chunk alone. */
export interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
  readonly interlace: number;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(parts: readonly Uint8Array[]): number {
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** True when `buf` starts with the PNG signature. */
export function isPng(buf: Uint8Array): boolean {
  if (buf.length < 8) return false;
  for (let i = 0; i < 8; i++) if (buf[i] !== SIGNATURE[i]) return false;
  return true;
}

/** Reads the IHDR chunk. Throws `Error` with a plain reason (callers wrap it with the file name). */
export function readPngHeader(buf: Uint8Array): PngHeader {
  if (!isPng(buf)) throw new Error('not a PNG file (bad signature)');
  if (buf.length < 33) throw new Error(`file ends inside the PNG header (${buf.length} bytes)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const type = String.fromCharCode(buf[12], buf[13], buf[14], buf[15]);
  if (type !== 'IHDR') throw new Error(`first chunk is ${type}, not IHDR`);
  return {
    width: dv.getUint32(16),
    height: dv.getUint32(20),
    bitDepth: buf[24],
    colorType: buf[25],
    interlace: buf[28],
  };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = M.abs(p - a);
  const pb = M.abs(p - b);
  const pc = M.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes a non-interlaced PNG to raw samples (palette indices are *not* mapped to colours).
 * Throws `Error` with a plain reason on a malformed or truncated file.
 */
export function decodePng(buf: Uint8Array): DecodedPng {
  const header = readPngHeader(buf);
  const { width, height, bitDepth, colorType, interlace } = header;
  const channels = CHANNELS[colorType];
  if (channels === undefined) throw new Error(`unknown PNG colour type ${colorType}`);
  if (![1, 2, 4, 8, 16].includes(bitDepth)) throw new Error(`unsupported bit depth ${bitDepth}`);
  if (interlace !== 0) throw new Error('interlaced (Adam7) PNG: re-save without interlacing');
  if (width === 0 || height === 0) throw new Error(`empty image ${width}×${height}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const idat: Uint8Array[] = [];
  let palette: Rgb[] | undefined;
  let pos = 8;
  let ended = false;
  while (pos + 8 <= buf.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4], buf[pos + 5], buf[pos + 6], buf[pos + 7]);
    if (pos + 12 + len > buf.length) throw new Error(`file is truncated inside the ${type} chunk at byte ${pos}`);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    const crc = dv.getUint32(pos + 8 + len);
    if (crc !== crc32([buf.subarray(pos + 4, pos + 8), body])) throw new Error(`CRC mismatch in the ${type} chunk at byte ${pos}`);
    if (type === 'IDAT') idat.push(body);
    else if (type === 'PLTE') {
      palette = [];
      for (let i = 0; i + 2 < body.length; i += 3) palette.push([body[i], body[i + 1], body[i + 2]]);
    } else if (type === 'IEND') {
      ended = true;
      break;
    }
    pos += 12 + len;
  }
  if (!ended) throw new Error('file is truncated (no IEND chunk)');
  if (idat.length === 0) throw new Error('no image data (IDAT) chunk');
  if (colorType === 3 && !palette) throw new Error('palette image without a PLTE chunk');
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new Error(`compressed image data is corrupt (${(e as Error).message})`);
  }
  const bitsPerPixel = channels * bitDepth;
  const bpp = M.max(1, bitsPerPixel >> 3);
  const stride = M.ceil((width * bitsPerPixel) / 8);
  if (raw.length < (stride + 1) * height) {
    throw new Error(`image data holds ${raw.length} bytes, expected ${(stride + 1) * height} for ${width}×${height}`);
  }
  // Undo the per-row filters in place (into `rows`).
  const rows = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const up = dst - stride;
    for (let x = 0; x < stride; x++) {
      const v = raw[src + x];
      const a = x >= bpp ? rows[dst + x - bpp] : 0;
      const b = y > 0 ? rows[up + x] : 0;
      const c = x >= bpp && y > 0 ? rows[up + x - bpp] : 0;
      let out: number;
      switch (filter) {
        case 0: out = v; break;
        case 1: out = v + a; break;
        case 2: out = v + b; break;
        case 3: out = v + ((a + b) >> 1); break;
        case 4: out = v + paeth(a, b, c); break;
        default: throw new Error(`row ${y} has unknown filter type ${filter}`);
      }
      rows[dst + x] = out & 0xff;
    }
  }
  const n = width * height * channels;
  let data: Uint8Array | Uint16Array;
  if (bitDepth === 16) {
    data = new Uint16Array(n);
    for (let y = 0; y < height; y++) {
      for (let k = 0; k < width * channels; k++) {
        const o = y * stride + 2 * k;
        data[y * width * channels + k] = (rows[o] << 8) | rows[o + 1];
      }
    }
  } else if (bitDepth === 8) {
    data = rows;
  } else {
    data = new Uint8Array(n);
    const perByte = 8 / bitDepth;
    const mask = (1 << bitDepth) - 1;
    for (let y = 0; y < height; y++) {
      for (let k = 0; k < width * channels; k++) {
        const byte = rows[y * stride + M.floor(k / perByte)];
        const shift = 8 - bitDepth * ((k % perByte) + 1);
        data[y * width * channels + k] = (byte >> shift) & mask;
      }
    }
  }
  return { width, height, bitDepth, colorType, channels, data, ...(palette ? { palette } : {}) };
}

/** Pixels to encode. */
export interface PngImage {
  readonly width: number;
  readonly height: number;
  /** 1 grey (or palette indices when `palette` is given), 2 grey+alpha, 3 RGB, 4 RGBA. */
  readonly channels: 1 | 2 | 3 | 4;
  /** 8 (`Uint8Array`) or 16 (`Uint16Array`) bits per sample. */
  readonly bitDepth: 8 | 16;
  readonly data: Uint8Array | Uint16Array;
  /** Writes an 8-bit palette PNG (colour type 3) whose indices are `data`. At most 256 entries. */
  readonly palette?: readonly Rgb[];
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, body.length);
  const t = Uint8Array.from(type, (ch) => ch.charCodeAt(0));
  out.set(t, 4);
  out.set(body, 8);
  dv.setUint32(8 + body.length, crc32([t, body]));
  return out;
}

/**
 * Encodes a PNG deterministically: the same pixels give the same bytes on every platform and Node
 * version. Rows of palette images are unfiltered (the PNG spec's advice); other rows take the filter
 * with the smallest sum of absolute residuals, as libpng's heuristic does.
 */
export function encodePng(img: PngImage): Uint8Array {
  const { width, height, channels, bitDepth, data, palette } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`[@gpl/data] encodePng: size must be positive integers, received ${width}×${height}.`);
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(`[@gpl/data] encodePng: expected ${width * height * channels} samples for ${width}×${height}×${channels}, received ${data.length}.`);
  }
  if (bitDepth === 16 !== data instanceof Uint16Array) {
    throw new TypeError(`[@gpl/data] encodePng: bitDepth ${bitDepth} needs ${bitDepth === 16 ? 'Uint16Array' : 'Uint8Array'} data.`);
  }
  if (palette && (channels !== 1 || bitDepth !== 8 || palette.length === 0 || palette.length > 256)) {
    throw new RangeError(`[@gpl/data] encodePng: a palette image needs 1 channel, 8 bits and 1..256 colours, received ${channels} channels, ${bitDepth} bits, ${palette.length} colours.`);
  }
  const colorType = palette ? 3 : ({ 1: 0, 2: 4, 3: 2, 4: 6 } as const)[channels];
  const bpp = channels * (bitDepth / 8);
  const stride = width * bpp;
  const rows = new Uint8Array(stride * height);
  if (bitDepth === 16) {
    for (let i = 0; i < data.length; i++) {
      rows[2 * i] = data[i] >> 8;
      rows[2 * i + 1] = data[i] & 0xff;
    }
  } else {
    rows.set(data as Uint8Array);
  }
  const filtered = new Uint8Array((stride + 1) * height);
  const candidate = new Uint8Array(stride);
  const best = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const cur = y * stride;
    const up = cur - stride;
    let bestFilter = 0;
    let bestCost = Infinity;
    const filters = palette ? [0] : [0, 1, 2, 3, 4];
    for (const f of filters) {
      let cost = 0;
      for (let x = 0; x < stride; x++) {
        const v = rows[cur + x];
        const a = x >= bpp ? rows[cur + x - bpp] : 0;
        const b = y > 0 ? rows[up + x] : 0;
        const c = x >= bpp && y > 0 ? rows[up + x - bpp] : 0;
        const p = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
        const r = (v - p) & 0xff;
        candidate[x] = r;
        cost += r < 128 ? r : 256 - r;
      }
      if (cost < bestCost) {
        bestCost = cost;
        bestFilter = f;
        best.set(candidate);
      }
    }
    filtered[y * (stride + 1)] = bestFilter;
    filtered.set(best, y * (stride + 1) + 1);
  }
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  const parts = [SIGNATURE, chunk('IHDR', ihdr)];
  if (palette) {
    const plte = new Uint8Array(palette.length * 3);
    palette.forEach((c, i) => plte.set(c, 3 * i));
    parts.push(chunk('PLTE', plte));
  }
  parts.push(chunk('IDAT', deflateDeterministic(filtered)), chunk('IEND', new Uint8Array(0)));
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

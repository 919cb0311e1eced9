// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the ambient module must travel with png.ts into every project that compiles @gpl/data from source
/// <reference path="./fast-png.d.ts" />
/**
 * PNG decoding and encoding for what sharp cannot do, as a checked front door over fast-png:
 *
 * - sharp expands palette PNGs to RGB, but VOC labels are palette images whose *indices* are the
 *   class ids (REFERENCE §2), so `decodePng` returns raw samples: indices (1/2/4-bit ones unpacked
 *   to a byte each) plus the palette for colour type 3, values for grey (8/16-bit), interleaved
 *   channels otherwise.
 * - A truncated or corrupt file fails with one message saying which: the chunk list is walked
 *   before decoding, and chunk CRCs are checked.
 * - `encodePng` is deterministic: fast-png writes every row unfiltered and compresses with fflate,
 *   plain JavaScript, so the same pixels give the same bytes on every machine and Node version.
 *   The bytes can change with the fflate version (the lockfile pins it); the mini datasets'
 *   byte-identity specs in tools/ show when they do, and regenerating fixes them.
 */
import { decode, encode, hasPngSignature } from 'fast-png';
import type { Rgb } from './types';

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
  /** The PLTE entries for colour type 3 (alpha from tRNS is dropped). */
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

const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** zlib level of `encodePng`: the smallest files; labels and plots encode in well under a second. */
const ZLIB_LEVEL = 9;

/** True when `buf` starts with the PNG signature. */
export function isPng(buf: Uint8Array): boolean {
  return hasPngSignature(buf);
}

function chunkType(buf: Uint8Array, at: number): string {
  return String.fromCharCode(buf[at], buf[at + 1], buf[at + 2], buf[at + 3]);
}

/** Reads the IHDR chunk. Throws `Error` with a plain reason (callers add the file name). */
export function readPngHeader(buf: Uint8Array): PngHeader {
  if (!isPng(buf)) throw new Error('a file without the PNG signature');
  if (buf.length < 33) throw new Error(`a truncated PNG (${buf.length} bytes end inside the header)`);
  if (chunkType(buf, 12) !== 'IHDR') throw new Error(`a corrupt PNG (first chunk is ${chunkType(buf, 12)}, not IHDR)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20), bitDepth: buf[24], colorType: buf[25], interlace: buf[28] };
}

/** Why the chunk list is incomplete, or `undefined` when every chunk up to IEND is present (no pixel is decoded). */
export function pngTruncation(buf: Uint8Array): string | undefined {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let pos = 8; pos + 8 <= buf.length; ) {
    const end = pos + 12 + dv.getUint32(pos);
    if (end > buf.length) return `a truncated PNG (the file ends inside its ${chunkType(buf, pos + 4)} chunk: ${buf.length} of at least ${end} bytes)`;
    if (chunkType(buf, pos + 4) === 'IEND') return undefined;
    pos = end;
  }
  return `a truncated PNG (${buf.length} bytes and no IEND chunk)`;
}

/** One byte per sample from rows packed at 1, 2 or 4 bits. */
function unpackRows(packed: Uint8Array, width: number, height: number, bits: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const stride = Math.ceil((width * bits) / 8);
  const mask = (1 << bits) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * bits;
      out[y * width + x] = (packed[y * stride + (bit >> 3)] >> (8 - bits - (bit & 7))) & mask;
    }
  }
  return out;
}

/**
 * Decodes a PNG to raw samples; throws `Error` with a plain reason (`a truncated PNG (…)`,
 * `a corrupt PNG (…)`) for callers that name the file themselves.
 */
export function decodePngSamples(buf: Uint8Array): DecodedPng {
  const { width, height, bitDepth, colorType, interlace } = readPngHeader(buf);
  const channels = CHANNELS[colorType];
  if (channels === undefined) throw new Error(`a corrupt PNG (unknown colour type ${colorType})`);
  if (width === 0 || height === 0) throw new Error(`a corrupt PNG (empty image ${width}×${height})`);
  if (interlace !== 0 && bitDepth < 8) throw new Error(`an interlaced ${bitDepth}-bit PNG (re-save it without interlacing)`);
  const cut = pngTruncation(buf);
  if (cut) throw new Error(cut);
  let png;
  try {
    png = decode(buf, { checkCrc: true });
  } catch (e) {
    const err = e as Error;
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new Error(`a corrupt PNG (${err.message.replace(/:$/, '')}${cause})`);
  }
  if (colorType === 3 && !png.palette) throw new Error('a corrupt PNG (palette image without a PLTE chunk)');
  const data = bitDepth < 8 ? unpackRows(png.data as Uint8Array, width, height, bitDepth) : (png.data as Uint8Array | Uint16Array);
  const palette = png.palette?.map((c): Rgb => [c[0], c[1], c[2]]);
  return { width, height, bitDepth, colorType, channels, data, ...(palette ? { palette } : {}) };
}

/**
 * Decodes a PNG to raw samples: palette PNGs give their indices *and* their palette (colours are
 * never looked up), grey and colour PNGs their sample values.
 * @param source names the data in errors (a file name, say).
 * @throws RangeError naming `source` for a truncated, corrupt or non-PNG input.
 */
export function decodePng(buf: Uint8Array, source = 'PNG data'): DecodedPng {
  try {
    return decodePngSamples(buf);
  } catch (e) {
    throw new RangeError(`[@gpl/data] decodePng: ${source}: expected a complete PNG, received ${(e as Error).message}. Re-export or re-download the file.`);
  }
}

/**
 * Encodes a PNG deterministically (see the module comment): 8- or 16-bit grey, grey+alpha, RGB,
 * RGBA, or 8-bit palette indices with their palette.
 */
export function encodePng(img: PngImage): Uint8Array {
  const { width, height, channels, bitDepth, data, palette } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`[@gpl/data] encodePng: size must be positive integers, received ${width}×${height}.`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new RangeError(`[@gpl/data] encodePng: channels must be 1, 2, 3 or 4, received ${channels}.`);
  if (data.length !== width * height * channels) {
    throw new RangeError(`[@gpl/data] encodePng: expected ${width * height * channels} samples for ${width}×${height}×${channels}, received ${data.length}.`);
  }
  if ((bitDepth === 16) !== data instanceof Uint16Array || (bitDepth !== 8 && bitDepth !== 16)) {
    throw new TypeError(`[@gpl/data] encodePng: bitDepth ${bitDepth} needs ${bitDepth === 16 ? 'Uint16Array' : 'Uint8Array'} data (bit depths 8 and 16 only), received ${data.constructor.name}.`);
  }
  if (palette && (channels !== 1 || bitDepth !== 8 || palette.length === 0 || palette.length > 256)) {
    throw new RangeError(`[@gpl/data] encodePng: a palette image needs 1 channel, 8 bits and 1..256 colours, received ${channels} channels, ${bitDepth} bits, ${palette.length} colours.`);
  }
  return encode(
    { width, height, channels, depth: bitDepth, data, ...(palette ? { palette: palette.map((c) => [c[0], c[1], c[2]]) } : {}) },
    { zlib: { level: ZLIB_LEVEL } },
  );
}

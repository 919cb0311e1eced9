/**
 * NYU depth maps in metres (REFERENCE.md §4, DenseDepth's `nyu_data.zip`):
 * - train frames: 8-bit grayscale PNG, metres = v / 255 · 10 (DenseDepth: v/255·1000 cm);
 * - test frames: 16-bit grayscale PNG in millimetres.
 * 0 means "no measurement" in both and stays 0 (invalid) in metres.
 *
 * Decoding goes through `@gpl/data`'s sharp readers, which read 16-bit grey exactly (the
 * `grey16` colourspace; a plain `raw()` would convert to 8-bit sRGB). Encoding uses its
 * deterministic PNG writer, so generated files are identical on every machine.
 */
import { encodePng, readGrey8Png, readUint16Png, type DepthMap, type LabelMap, type ReadContext, type Uint16Raster } from '@gpl/data';

/** How a depth PNG stores depth. */
export type NyuDepthEncoding =
  /** 8-bit, metres = v/255·10 (DenseDepth train). */
  | 'u8-10m'
  /** 16-bit, millimetres (DenseDepth test, NYU toolbox exports). */
  | 'u16-mm';

/** Converts raw PNG samples to metres (row-major H×W, 0 = invalid). */
export function depthFromPng(raw: LabelMap | Uint16Raster, encoding: NyuDepthEncoding): DepthMap {
  const n = raw.width * raw.height;
  const data = new Float32Array(n);
  const v = raw.data;
  if (encoding === 'u16-mm') for (let i = 0; i < n; i++) data[i] = v[i] / 1000;
  else for (let i = 0; i < n; i++) data[i] = (v[i] / 255) * 10;
  return { data, height: raw.height, width: raw.width };
}

/**
 * Reads a depth PNG in metres. A missing file, a file that is not a complete PNG, or one whose
 * bit depth does not match `encoding` (an 8-bit train map where 16-bit is expected, say) throws
 * a `DataError` naming the file.
 */
export async function readNyuDepth(file: string, encoding: NyuDepthEncoding, ctx: ReadContext): Promise<DepthMap> {
  const raw = encoding === 'u16-mm' ? await readUint16Png(file, ctx) : await readGrey8Png(file, ctx);
  return depthFromPng(raw, encoding);
}

/**
 * Encodes metres as a depth PNG (the inverse of {@link readNyuDepth} up to quantisation:
 * 1 mm, or 10/255 m for 8-bit). Valid depths never round to 0; 0 stays 0.
 * @param depth row-major height×width metres.
 */
export function encodeDepthPng(depth: Float32Array, width: number, height: number, encoding: NyuDepthEncoding): Uint8Array {
  if (depth.length !== width * height) {
    throw new RangeError(`[@gpl/nyudv2] encodeDepthPng: depth has ${depth.length} values, expected ${width}·${height} = ${width * height}.`);
  }
  if (encoding === 'u16-mm') {
    const v = new Uint16Array(depth.length);
    for (let i = 0; i < v.length; i++) v[i] = depth[i] > 0 ? Math.min(65535, Math.max(1, Math.round(depth[i] * 1000))) : 0;
    return encodePng({ width, height, channels: 1, bitDepth: 16, data: v });
  }
  const v = new Uint8Array(depth.length);
  for (let i = 0; i < v.length; i++) v[i] = depth[i] > 0 ? Math.min(255, Math.max(1, Math.round((depth[i] / 10) * 255))) : 0;
  return encodePng({ width, height, channels: 1, bitDepth: 8, data: v });
}

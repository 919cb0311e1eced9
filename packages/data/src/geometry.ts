/**
 * The one resampling routine behind every geometric transform. A transform describes where each
 * output pixel comes from in the input image (per axis: `in = scale · out + offset`, continuous
 * pixel coordinates, pixel centres at i + 0.5); `warpSample` then moves the image and everything
 * attached to it through that same map:
 *
 * - image: bilinear (exact copies, keeping the dtype, when the map is a pure integer shift/flip);
 * - labels, depth, instance masks: nearest (no invented classes, no blended invalid depth);
 * - teacher soft labels: bilinear;
 * - boxes: the inverse affine map, clipped to the output.
 *
 * Fields stored at another resolution than the image (e.g. stride-4 soft labels, or labels kept at
 * full size for evaluation) are mapped through the image's normalised frame, so they stay aligned.
 * Outside the input, fields take pad values: image `imagePad`, labels `ignoreIndex`, depth 0,
 * soft labels and masks 0.
 */
import type { BoxXYXY, DepthMap, ImageRaster, Instance, LabelMap, Sample, SoftLabels } from './types';

// A module-local alias: global lookups (Math) are slow inside vm contexts such as Jest's.
const M = Math;

/** `in = scale · out + offset` along one axis, in input-image pixels. */
export interface AxisMap {
  readonly scale: number;
  readonly offset: number;
}

/** A separable (axis-aligned) map from an output image to the input image. */
export interface Warp {
  /** Output image size. */
  readonly height: number;
  readonly width: number;
  readonly y: AxisMap;
  readonly x: AxisMap;
}

/** Pad values for pixels that come from outside the input. */
export interface PadValues {
  /** Image pad value in the image's current units (0 after normalisation). */
  readonly image: number;
  /** Label pad (the dataset's ignore index). */
  readonly label: number;
}

interface AxisTable {
  /** Nearest source index, −1 outside. */
  readonly nearest: Int32Array;
  /** Bilinear: lower / upper source index (clamped), weight of the upper one, −1 in `lo` outside. */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly w: Float32Array;
}

/**
 * Per-axis lookup for a field of `inSize` pixels attached to an image of `imgIn` pixels, producing
 * `outSize` pixels for an output image of `imgOut` pixels.
 */
function axisTable(map: AxisMap, imgIn: number, imgOut: number, inSize: number, outSize: number): AxisTable {
  const rIn = inSize / imgIn;
  const rOut = outSize / imgOut;
  const nearest = new Int32Array(outSize);
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const w = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    // Output field pixel centre → output image coords → input image coords → input field coords.
    const c = rIn * (map.scale * ((o + 0.5) / rOut) + map.offset);
    // Round away float noise so exact integer maps stay exact (e.g. 0.49999999 vs 0.5).
    const cr = M.round(c * 1e6) / 1e6;
    if (cr < 0 || cr >= inSize) {
      nearest[o] = -1;
      lo[o] = -1;
      continue;
    }
    nearest[o] = M.floor(cr);
    const p = cr - 0.5;
    const i0 = M.floor(p);
    const t = p - i0;
    lo[o] = M.max(0, M.min(inSize - 1, i0));
    hi[o] = M.max(0, M.min(inSize - 1, i0 + 1));
    w[o] = t;
  }
  return { nearest, lo, hi, w };
}

function isIntegerShift(map: AxisMap): boolean {
  return (map.scale === 1 || map.scale === -1) && Number.isInteger(map.offset);
}

/**
 * Output size of a field. A field stored at 1/k of the image (k ≥ 2; its size is round(S/k) or
 * ceil(S/k) of the image's S, as teacher soft labels at output stride k are) stays at exactly
 * round(S'/k) of the output image, so a chain of scales and crops ends at crop/k whatever the
 * intermediate sizes were. Other fields scale proportionally.
 */
function fieldSize(size: number, imgIn: number, imgOut: number): number {
  if (size === imgIn) return imgOut;
  if (size < imgIn) {
    const k = M.round(imgIn / size);
    const excess = size * k - imgIn; // round: within ±k/2; ceil: in [0, k)
    if (k >= 2 && excess >= -k / 2 && excess < k) return M.max(1, M.round(imgOut / k));
  }
  return M.max(1, M.round((size * imgOut) / imgIn));
}

function warpNearest<T extends Uint8Array | Float32Array>(
  src: T, w: number, c: number, ty: AxisTable, tx: AxisTable, pad: number, make: (n: number) => T,
): T {
  const oh = ty.nearest.length;
  const ow = tx.nearest.length;
  const out = make(oh * ow * c);
  if (pad !== 0) out.fill(pad);
  for (let y = 0; y < oh; y++) {
    const sy = ty.nearest[y];
    if (sy < 0) continue;
    const rowIn = sy * w;
    const rowOut = y * ow;
    for (let x = 0; x < ow; x++) {
      const sx = tx.nearest[x];
      if (sx < 0) continue;
      const i = (rowIn + sx) * c;
      const o = (rowOut + x) * c;
      for (let k = 0; k < c; k++) out[o + k] = src[i + k];
    }
  }
  return out;
}

function warpBilinear(src: Uint8Array | Float32Array, w: number, c: number, ty: AxisTable, tx: AxisTable, pad: number): Float32Array {
  const oh = ty.lo.length;
  const ow = tx.lo.length;
  const out = new Float32Array(oh * ow * c);
  if (pad !== 0) out.fill(pad);
  for (let y = 0; y < oh; y++) {
    const y0 = ty.lo[y];
    if (y0 < 0) continue;
    const y1 = ty.hi[y];
    const wy = ty.w[y];
    const r0 = y0 * w;
    const r1 = y1 * w;
    for (let x = 0; x < ow; x++) {
      const x0 = tx.lo[x];
      if (x0 < 0) continue;
      const x1 = tx.hi[x];
      const wx = tx.w[x];
      const a = (r0 + x0) * c;
      const b = (r0 + x1) * c;
      const d = (r1 + x0) * c;
      const e = (r1 + x1) * c;
      const o = (y * ow + x) * c;
      for (let k = 0; k < c; k++) {
        const top = src[a + k] + (src[b + k] - src[a + k]) * wx;
        const bot = src[d + k] + (src[e + k] - src[d + k]) * wx;
        out[o + k] = top + (bot - top) * wy;
      }
    }
  }
  return out;
}

interface Frame {
  readonly warp: Warp;
  readonly imgH: number;
  readonly imgW: number;
}

function tables(f: Frame, inH: number, inW: number, stride?: number): { ty: AxisTable; tx: AxisTable; oh: number; ow: number } {
  const oh = stride ? M.max(1, M.round(f.warp.height / stride)) : fieldSize(inH, f.imgH, f.warp.height);
  const ow = stride ? M.max(1, M.round(f.warp.width / stride)) : fieldSize(inW, f.imgW, f.warp.width);
  return {
    ty: axisTable(f.warp.y, f.imgH, f.warp.height, inH, oh),
    tx: axisTable(f.warp.x, f.imgW, f.warp.width, inW, ow),
    oh,
    ow,
  };
}

function warpImage(img: ImageRaster, f: Frame, pad: number): ImageRaster {
  const { ty, tx, oh, ow } = tables(f, img.height, img.width);
  const exact = isIntegerShift(f.warp.y) && isIntegerShift(f.warp.x) && img.height === f.imgH && img.width === f.imgW;
  if (exact && (img.data instanceof Float32Array || (Number.isInteger(pad) && pad >= 0 && pad <= 255))) {
    const data =
      img.data instanceof Float32Array
        ? warpNearest(img.data, img.width, img.channels, ty, tx, pad, (n) => new Float32Array(n))
        : warpNearest(img.data, img.width, img.channels, ty, tx, pad, (n) => new Uint8Array(n));
    return { data, height: oh, width: ow, channels: img.channels };
  }
  return { data: warpBilinear(img.data, img.width, img.channels, ty, tx, pad), height: oh, width: ow, channels: img.channels };
}

function warpLabel(l: LabelMap, f: Frame, pad: number): LabelMap {
  const { ty, tx, oh, ow } = tables(f, l.height, l.width);
  return { data: warpNearest(l.data, l.width, 1, ty, tx, pad, (n) => new Uint8Array(n)), height: oh, width: ow };
}

function warpDepth(d: DepthMap, f: Frame): DepthMap {
  const { ty, tx, oh, ow } = tables(f, d.height, d.width);
  return { data: warpNearest(d.data, d.width, 1, ty, tx, 0, (n) => new Float32Array(n)), height: oh, width: ow };
}

function warpSoft(s: SoftLabels, f: Frame): SoftLabels {
  const { ty, tx, oh, ow } = tables(f, s.height, s.width, s.stride);
  const out = { data: warpBilinear(s.data, s.width, s.channels, ty, tx, 0), height: oh, width: ow, channels: s.channels };
  return s.stride ? { ...out, stride: s.stride } : out;
}

/** Maps a box through the inverse of `warp` and clips it to the output; `undefined` if empty. */
export function warpBox(box: BoxXYXY, warp: Warp): BoxXYXY | undefined {
  const inv = (v: number, m: AxisMap): number => (v - m.offset) / m.scale;
  let x0 = inv(box[0], warp.x);
  let x1 = inv(box[2], warp.x);
  let y0 = inv(box[1], warp.y);
  let y1 = inv(box[3], warp.y);
  if (x0 > x1) [x0, x1] = [x1, x0];
  if (y0 > y1) [y0, y1] = [y1, y0];
  x0 = M.max(0, M.min(warp.width, x0));
  x1 = M.max(0, M.min(warp.width, x1));
  y0 = M.max(0, M.min(warp.height, y0));
  y1 = M.max(0, M.min(warp.height, y1));
  return x1 > x0 && y1 > y0 ? [x0, y0, x1, y1] : undefined;
}

function warpInstances(list: readonly Instance[], f: Frame): Instance[] {
  const out: Instance[] = [];
  const { ty, tx } = tables(f, f.imgH, f.imgW);
  for (const inst of list) {
    const box = warpBox(inst.box, f.warp);
    if (!box) continue;
    const mask = warpNearest(inst.mask, f.imgW, 1, ty, tx, 0, (n) => new Uint8Array(n));
    // An instance cropped to a sliver of box without mask pixels would be a target with no pixels.
    if (!mask.some((v) => v !== 0)) continue;
    out.push({ ...inst, box, mask });
  }
  return out;
}

/**
 * Resamples `sample` (image and every attached field) through `warp`. The output image is
 * `warp.height × warp.width`; see the module comment for interpolation and padding.
 */
export function warpSample<S extends Sample>(sample: S, warp: Warp, pad: PadValues): S {
  const f: Frame = { warp, imgH: sample.image.height, imgW: sample.image.width };
  const out: Record<string, unknown> = { ...sample, image: warpImage(sample.image, f, pad.image) };
  if (sample.softLabels) out.softLabels = warpSoft(sample.softLabels, f);
  if ('label' in sample && sample.label) out.label = warpLabel(sample.label, f, pad.label);
  if (sample.kind === 'depth') out.depth = warpDepth(sample.depth, f);
  if (sample.kind === 'instances') out.instances = warpInstances(sample.instances, f);
  return out as unknown as S;
}

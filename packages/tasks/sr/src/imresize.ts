/**
 * MATLAB's `imresize(img, scale, 'bicubic')` (antialiasing on, the default), which is how the SR
 * literature makes its low-resolution inputs (SRResNet, EDSR, BasicSR's
 * `scripts/matlab_scripts/generate_bicubic_img.m`). Written here because nothing on npm computes
 * it: sharp/libvips' cubic kernel is Catmull-Rom (B = 0, C = 0.5) with libvips' own support and
 * edge handling, and tfjs has no bicubic resize at all. PSNR against MATLAB-made LR images is only
 * comparable when the degradation is the same.
 *
 * What MATLAB does (`imresize.m`: `contributions`, `cubic`, `resizeAlongDim`), reproduced:
 * - Keys' cubic kernel with a = −0.5, support 4;
 * - when shrinking (scale < 1) the kernel is stretched: h(x) = scale·cubic(scale·x), width 4/scale;
 * - output pixel x (1-based) samples the input at u = x/scale + 0.5·(1 − 1/scale);
 * - taps left..left+P−1 with left = ⌊u − width/2⌋, P = ⌈width⌉ + 2; weights normalised to sum 1;
 * - out-of-range taps mirror symmetrically (index 0 → 1, −1 → 2, n+1 → n);
 * - the dimension with the smaller scale is resized first (rows first when equal).
 * One difference: MATLAB returns uint8 after each dimension for uint8 input; here both passes run
 * in float64 and only the result is rounded and clipped to 0..255 (as BasicSR's Python port
 * `basicsr/utils/matlab_functions.py: imresize` does). The two differ by at most one grey level
 * in rare pixels.
 */
import type { ImageRaster } from '@gpl/data';

/** Keys' cubic convolution kernel with a = −0.5 (MATLAB's `cubic`). */
export function cubicKernel(x: number): number {
  const ax = Math.abs(x);
  const ax2 = ax * ax;
  const ax3 = ax2 * ax;
  if (ax <= 1) return 1.5 * ax3 - 2.5 * ax2 + 1;
  if (ax <= 2) return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2;
  return 0;
}

/** The taps of one output pixel: 0-based input indices (already mirrored) and their weights. */
export interface Contribution {
  readonly indices: readonly number[];
  readonly weights: readonly number[];
}

/**
 * MATLAB's `contributions(in_length, out_length, scale, @cubic, 4, antialiasing = true)`,
 * with all-zero taps dropped. Indices are 0-based.
 */
export function resizeContributions(inLength: number, outLength: number, scale: number): Contribution[] {
  const antialias = scale < 1;
  const kernel = antialias ? (x: number) => scale * cubicKernel(scale * x) : cubicKernel;
  const width = antialias ? 4 / scale : 4;
  const taps = Math.ceil(width) + 2;
  const out: Contribution[] = [];
  for (let x = 1; x <= outLength; x++) {
    const u = x / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - width / 2);
    const raw: { index: number; weight: number }[] = [];
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const index = left + k; // 1-based, possibly outside 1..inLength
      const weight = kernel(u - index);
      raw.push({ index, weight });
      sum += weight;
    }
    const kept = raw.filter((t) => t.weight !== 0);
    out.push({ indices: kept.map((t) => mirror(t.index, inLength)), weights: kept.map((t) => t.weight / sum) });
  }
  return out;
}

/** MATLAB's symmetric padding: aux = [1..n, n..1], index → aux(mod(index − 1, 2n) + 1); returned 0-based. */
function mirror(index1: number, n: number): number {
  const period = 2 * n;
  const m = (((index1 - 1) % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

/** Resizes along one axis of an interleaved H×W×C float64 image. */
function resizeAxis(src: Float64Array, h: number, w: number, c: number, axis: 'rows' | 'columns', outLength: number, scale: number): Float64Array {
  const along = axis === 'rows' ? h : w;
  const contributions = resizeContributions(along, outLength, scale);
  const oh = axis === 'rows' ? outLength : h;
  const ow = axis === 'rows' ? w : outLength;
  const dst = new Float64Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const { indices, weights } = contributions[axis === 'rows' ? y : x];
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let t = 0; t < indices.length; t++) {
          const sy = axis === 'rows' ? indices[t] : y;
          const sx = axis === 'rows' ? x : indices[t];
          acc += weights[t] * src[(sy * w + sx) * c + ch];
        }
        dst[(y * ow + x) * c + ch] = acc;
      }
    }
  }
  return dst;
}

/**
 * MATLAB `imresize(img, scale, 'bicubic')` of an 8-bit image; the output size is ⌈scale·size⌉ on
 * each side and the values are rounded to 0..255.
 * @param scale e.g. 0.25 for the ×4 low-resolution input, 4 for bicubic upsampling.
 */
export function imresizeBicubic(img: ImageRaster, scale: number): ImageRaster & { data: Uint8Array } {
  if (!(Number.isFinite(scale) && scale > 0)) throw new RangeError(`[@gpl/sr] imresizeBicubic: scale must be a finite number > 0, received ${scale}.`);
  const { height: h, width: w, channels: c } = img;
  if (img.data.length !== h * w * c) {
    throw new RangeError(`[@gpl/sr] imresizeBicubic: ${h}×${w}×${c} needs ${h * w * c} samples, received ${img.data.length}.`);
  }
  const oh = Math.ceil(scale * h);
  const ow = Math.ceil(scale * w);
  // Equal scales on both axes: MATLAB's stable sort of the scales puts rows first.
  const rows = resizeAxis(Float64Array.from(img.data), h, w, c, 'rows', oh, scale);
  const both = resizeAxis(rows, oh, w, c, 'columns', ow, scale);
  const data = new Uint8Array(both.length);
  for (let i = 0; i < both.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(both[i])));
  return { data, height: oh, width: ow, channels: c };
}

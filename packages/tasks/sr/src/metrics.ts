/**
 * PSNR and SSIM as BasicSR reports them for super-resolution (`basicsr/metrics/psnr_ssim.py` with
 * `test_y_channel: true`, `crop_border: scale`): both images are 8-bit, converted to the Y channel
 * of ITU-R BT.601 YCbCr (Y = 16 + (65.481·R + 128.553·G + 24.966·B) / 255, on 0..255), and
 * `border` pixels are cut from each side before measuring.
 *
 * SSIM is Wang et al. (2004): 11×11 Gaussian window with σ 1.5, K1 = 0.01, K2 = 0.03, L = 255,
 * the mean of the SSIM map over the window positions that lie wholly inside the image (OpenCV's
 * `filter2D` followed by BasicSR's `[5:-5, 5:-5]` crop).
 */
import type { ImageRaster } from '@gpl/data';

/** A single-channel float64 plane. */
export interface Plane {
  readonly data: Float64Array;
  readonly height: number;
  readonly width: number;
}

/** Options of both metrics. */
export interface ImageMetricOptions {
  /** Pixels cut from each side (BasicSR's `crop_border`; the scale factor for SR). Default 0. */
  readonly border?: number;
  /** Measure on Y of YCbCr (default) or on the RGB channels together. */
  readonly yChannel?: boolean;
}

/** BT.601 luma on 0..255 (BasicSR's `rgb2ycbcr(y_only=True)` times 255). */
export function rgbToY(img: ImageRaster): Plane {
  const n = img.height * img.width;
  const out = new Float64Array(n);
  const d = img.data;
  for (let i = 0; i < n; i++) out[i] = (65.481 * d[3 * i] + 128.553 * d[3 * i + 1] + 24.966 * d[3 * i + 2]) / 255 + 16;
  return { data: out, height: img.height, width: img.width };
}

/** The planes to compare: Y, or the three colour channels. */
function planes(img: ImageRaster, yChannel: boolean): Plane[] {
  if (yChannel) return [rgbToY(img)];
  const n = img.height * img.width;
  return Array.from({ length: img.channels }, (_, c) => {
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = img.data[i * img.channels + c];
    return { data, height: img.height, width: img.width };
  });
}

function cropPlane(p: Plane, border: number): Plane {
  if (border === 0) return p;
  const h = p.height - 2 * border;
  const w = p.width - 2 * border;
  const data = new Float64Array(h * w);
  for (let y = 0; y < h; y++) data.set(p.data.subarray((y + border) * p.width + border, (y + border) * p.width + border + w), y * w);
  return { data, height: h, width: w };
}

function check(a: ImageRaster, b: ImageRaster, border: number, what: string, minSide: number): void {
  if (a.height !== b.height || a.width !== b.width || a.channels !== b.channels) {
    throw new RangeError(`[@gpl/sr] ${what}: images differ in size (${a.height}×${a.width}×${a.channels} and ${b.height}×${b.width}×${b.channels}).`);
  }
  if (a.channels !== 3) throw new RangeError(`[@gpl/sr] ${what}: expected RGB images (3 channels), received ${a.channels}.`);
  if (!Number.isInteger(border) || border < 0) throw new RangeError(`[@gpl/sr] ${what}: border must be an integer ≥ 0, received ${border}.`);
  const side = Math.min(a.height, a.width) - 2 * border;
  if (side < minSide) throw new RangeError(`[@gpl/sr] ${what}: ${a.height}×${a.width} minus a border of ${border} leaves ${side} pixels, fewer than ${minSide}.`);
}

/** PSNR in dB for 8-bit images (L = 255); Infinity for identical images. */
export function psnr(a: ImageRaster, b: ImageRaster, o: ImageMetricOptions = {}): number {
  const border = o.border ?? 0;
  check(a, b, border, 'psnr', 1);
  const pa = planes(a, o.yChannel ?? true).map((p) => cropPlane(p, border));
  const pb = planes(b, o.yChannel ?? true).map((p) => cropPlane(p, border));
  let sum = 0;
  let count = 0;
  pa.forEach((p, c) => {
    for (let i = 0; i < p.data.length; i++) {
      const d = p.data[i] - pb[c].data[i];
      sum += d * d;
    }
    count += p.data.length;
  });
  const mse = sum / count;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

const WINDOW = 11;
const SIGMA = 1.5;

/** OpenCV's `getGaussianKernel(11, 1.5)`: normalised 1-D Gaussian taps. */
export function gaussianWindow(size = WINDOW, sigma = SIGMA): Float64Array {
  const g = new Float64Array(size);
  const half = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - half) ** 2) / (2 * sigma * sigma));
    sum += g[i];
  }
  for (let i = 0; i < size; i++) g[i] /= sum;
  return g;
}

/** Separable 'valid' filtering of a plane with the window g. */
function filterValid(p: Float64Array, h: number, w: number, g: Float64Array): Float64Array {
  const k = g.length;
  const ow = w - k + 1;
  const oh = h - k + 1;
  const rows = new Float64Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += g[t] * p[y * w + x + t];
      rows[y * ow + x] = acc;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += g[t] * rows[(y + t) * ow + x];
      out[y * ow + x] = acc;
    }
  }
  return out;
}

/** Mean SSIM of two planes on 0..255. */
function ssimPlane(a: Plane, b: Plane): number {
  const { height: h, width: w } = a;
  const g = gaussianWindow();
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  const product = (x: Float64Array, y: Float64Array) => x.map((v, i) => v * y[i]);
  const muA = filterValid(a.data, h, w, g);
  const muB = filterValid(b.data, h, w, g);
  const aa = filterValid(product(a.data, a.data), h, w, g);
  const bb = filterValid(product(b.data, b.data), h, w, g);
  const ab = filterValid(product(a.data, b.data), h, w, g);
  let sum = 0;
  for (let i = 0; i < muA.length; i++) {
    const ma = muA[i];
    const mb = muB[i];
    const varA = aa[i] - ma * ma;
    const varB = bb[i] - mb * mb;
    const cov = ab[i] - ma * mb;
    sum += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (varA + varB + c2));
  }
  return sum / muA.length;
}

/** SSIM (Wang et al.) of 8-bit images; on RGB it is the mean over channels, as BasicSR. */
export function ssim(a: ImageRaster, b: ImageRaster, o: ImageMetricOptions = {}): number {
  const border = o.border ?? 0;
  check(a, b, border, 'ssim', WINDOW);
  const pa = planes(a, o.yChannel ?? true).map((p) => cropPlane(p, border));
  const pb = planes(b, o.yChannel ?? true).map((p) => cropPlane(p, border));
  return pa.reduce((acc, p, c) => acc + ssimPlane(p, pb[c]), 0) / pa.length;
}

/**
 * Line plots of metric curves: an SVG built here, rendered to PNG by sharp (librsvg).
 */
import sharp from 'sharp';
import { writeFileAtomic } from './atomic';

export interface Series {
  /** Legend label. */
  readonly name: string;
  /** x values (e.g. iterations), same length as y. */
  readonly x: readonly number[];
  /** y values; non-finite values are skipped (gaps are not drawn across). */
  readonly y: readonly number[];
  /** CSS colour; default from the palette. */
  readonly color?: string;
}

export interface PlotOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
  /** Logarithmic y axis (losses). Non-positive values are skipped. */
  readonly logY?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** Round tick positions covering [lo, hi]: steps of 1, 2 or 5 × 10^k. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

/** An SVG line chart of one or more series. */
export function linePlotSvg(series: readonly Series[], options: PlotOptions = {}): string {
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new RangeError(`[@gpl/core] linePlotSvg: series '${s.name}' has ${s.x.length} x values and ${s.y.length} y values.`);
    }
  }
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const m = { left: 70, right: 20, top: options.title ? 36 : 16, bottom: 50 };
  const fy = (v: number) => (options.logY ? Math.log10(v) : v);
  const ok = (v: number) => Number.isFinite(v) && (!options.logY || v > 0);
  const xs = series.flatMap((s) => s.x.filter((_, i) => ok(s.y[i])));
  const ys = series.flatMap((s) => s.y.filter(ok).map(fy));
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const px = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const py = (y: number) => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<g font-family="DejaVu Sans, Arial, sans-serif" font-size="12" fill="#333">`);
  for (const t of niceTicks(x0, x1)) {
    out.push(`<line x1="${px(t)}" y1="${m.top}" x2="${px(t)}" y2="${m.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${px(t)}" y="${m.top + ph + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  const yTicks = options.logY ? niceTicks(Math.floor(y0), Math.ceil(y1)).filter((t) => Number.isInteger(t) && t >= y0 && t <= y1) : niceTicks(y0, y1);
  for (const t of yTicks) {
    out.push(`<line x1="${m.left}" y1="${py(t)}" x2="${m.left + pw}" y2="${py(t)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end">${tickLabel(options.logY ? 10 ** t : t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    let d = '';
    let pen = false;
    s.x.forEach((x, i) => {
      if (!ok(s.y[i])) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${px(x).toFixed(2)},${py(fy(s.y[i])).toFixed(2)}`;
      pen = true;
    });
    if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    const ly = m.top + 14 + k * 16;
    out.push(`<line x1="${m.left + pw - 130}" y1="${ly - 4}" x2="${m.left + pw - 110}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${m.left + pw - 104}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  if (options.title) out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  if (options.xLabel) out.push(`<text x="${m.left + pw / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  if (options.yLabel) {
    out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  }
  out.push('</g></svg>');
  return out.join('\n');
}

/** Renders a line plot to a PNG file, atomically. */
export async function writeLinePlotPng(file: string, series: readonly Series[], options: PlotOptions = {}): Promise<void> {
  const png = await sharp(Buffer.from(linePlotSvg(series, options))).png().toBuffer();
  await writeFileAtomic(file, png);
}

/**
 * Sample drawings: panels side by side (image / ground truth / prediction, …), each titled, with
 * an optional colour legend below, as one PNG. Pixels are composited by sharp; titles and legend
 * are an SVG layer rendered by librsvg, as the plots are.
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp, { type OverlayOptions } from 'sharp';
import { writeFileAtomic } from '@gpl/data';

/** One panel: an RGB raster and its title. */
export interface Panel {
  readonly title: string;
  /** H×W×3 bytes, row-major. */
  readonly rgb: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** A legend entry: a name and its colour. */
export interface LegendEntry {
  readonly name: string;
  readonly color: readonly [number, number, number] | readonly number[];
}

const TITLE = 18;
const GAP = 4;
const ROW = 14;

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** The drawing as PNG bytes. Legend entries wrap into rows under the panels. */
export async function renderPanels(panels: readonly Panel[], legend: readonly LegendEntry[] = []): Promise<Buffer> {
  if (panels.length === 0) throw new RangeError('[@gpl/engine] renderPanels: expected at least one panel.');
  for (const p of panels) {
    if (p.rgb.length !== p.width * p.height * 3) {
      throw new RangeError(`[@gpl/engine] renderPanels: panel '${p.title}' has ${p.rgb.length} bytes for ${p.width}×${p.height}×3.`);
    }
  }
  const height = Math.max(...panels.map((p) => p.height));
  const width = panels.reduce((a, p) => a + p.width, 0) + GAP * (panels.length - 1);
  const cell = 9 + Math.max(40, ...legend.map((l) => 6 * l.name.length + 18));
  const perRow = Math.max(1, Math.floor(width / cell));
  const legendHeight = legend.length ? Math.ceil(legend.length / perRow) * ROW + 4 : 0;
  const total = TITLE + height + legendHeight;
  const svg: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" font-family="sans-serif">`];
  let x = 0;
  const layers: OverlayOptions[] = [];
  for (const p of panels) {
    svg.push(`<text x="${x + p.width / 2}" y="${TITLE - 5}" font-size="12" text-anchor="middle" fill="#222">${escapeXml(p.title)}</text>`);
    layers.push({ input: Buffer.from(p.rgb.buffer, p.rgb.byteOffset, p.rgb.byteLength), raw: { width: p.width, height: p.height, channels: 3 }, left: x, top: TITLE });
    x += p.width + GAP;
  }
  legend.forEach((l, i) => {
    const lx = (i % perRow) * cell;
    const ly = TITLE + height + 4 + Math.floor(i / perRow) * ROW;
    svg.push(`<rect x="${lx}" y="${ly + 2}" width="9" height="9" fill="rgb(${l.color.slice(0, 3).join(',')})" stroke="#444" stroke-width="0.5"/>`);
    svg.push(`<text x="${lx + 12}" y="${ly + 10}" font-size="9" fill="#222">${escapeXml(l.name)}</text>`);
  });
  svg.push('</svg>');
  layers.push({ input: Buffer.from(svg.join('')), left: 0, top: 0 });
  return sharp({ create: { width, height: total, channels: 3, background: '#ffffff' } }).composite(layers).png().toBuffer();
}

/** Writes the drawing to `file` (atomically, creating its folder). */
export async function writePanels(file: string, panels: readonly Panel[], legend: readonly LegendEntry[] = []): Promise<void> {
  const png = await renderPanels(panels, legend);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, png);
}

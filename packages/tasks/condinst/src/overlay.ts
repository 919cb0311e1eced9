/**
 * What a CondInst run draws per sample: titled panels (image | ground truth | prediction), each
 * instance's mask blended in its class colour with its box outlined, and a legend naming the
 * class (and score) of every drawn instance.
 */
import type { BoxXYXY, InstanceSample, Rgb } from '@gpl/data';
import { writePanels, type LegendEntry, type Panel } from '@gpl/engine';
import type { Detection } from './inference';

/** One instance to draw: mask (image-sized), box, colour. */
interface Drawn {
  readonly mask: Uint8Array;
  readonly box: BoxXYXY;
  readonly color: Rgb;
}

/** The image with masks blended at 50 % and 1-pixel box outlines. */
export function drawInstances(image: Uint8Array, width: number, height: number, instances: readonly Drawn[]): Uint8Array {
  const out = Uint8Array.from(image);
  for (const { mask, color } of instances) {
    for (let p = 0; p < width * height; p++) {
      if (!mask[p]) continue;
      for (let c = 0; c < 3; c++) out[3 * p + c] = (out[3 * p + c] + color[c]) >> 1;
    }
  }
  for (const { box, color } of instances) {
    const x0 = Math.max(0, Math.min(width - 1, Math.round(box[0])));
    const x1 = Math.max(0, Math.min(width - 1, Math.round(box[2]) - 1));
    const y0 = Math.max(0, Math.min(height - 1, Math.round(box[1])));
    const y1 = Math.max(0, Math.min(height - 1, Math.round(box[3]) - 1));
    const put = (x: number, y: number) => out.set(color, 3 * (y * width + x));
    for (let x = x0; x <= x1; x++) {
      put(x, y0);
      put(x, y1);
    }
    for (let y = y0; y <= y1; y++) {
      put(x0, y);
      put(x1, y);
    }
  }
  return out;
}

/** Writes `file`: image, ground truth and the detections scoring at least `minScore`. */
export async function writeInstanceDrawing(
  file: string,
  sample: InstanceSample,
  detections: readonly Detection[],
  classNames: readonly string[],
  palette: readonly Rgb[],
  minScore = 0.3,
): Promise<void> {
  const { width, height, data } = sample.image;
  const rgb = Uint8Array.from(data as ArrayLike<number>);
  const gt = sample.instances.filter((g) => !g.crowd);
  const shown = detections.filter((d) => d.score >= minScore);
  const panels: Panel[] = [
    { title: 'image', rgb, width, height },
    { title: `ground truth (${gt.length})`, rgb: drawInstances(rgb, width, height, gt.map((g) => ({ mask: g.mask, box: g.box, color: palette[g.classIndex] }))), width, height },
    { title: `prediction (${shown.length} ≥ ${minScore})`, rgb: drawInstances(rgb, width, height, shown.map((d) => ({ mask: d.mask, box: d.box, color: palette[d.classIndex] }))), width, height },
  ];
  const legend: LegendEntry[] = [
    ...new Set(gt.map((g) => g.classIndex)),
  ].map((k) => ({ name: classNames[k], color: palette[k] }));
  for (const d of shown) legend.push({ name: `${classNames[d.classIndex]} ${d.score.toFixed(2)}`, color: palette[d.classIndex] });
  await writePanels(file, panels, legend);
}

/**
 * Validation of SR models and the pilot's report: mean PSNR/SSIM (Y channel, 4-pixel border) per
 * method, as a Markdown and a CSV table, and one side-by-side PNG per validation image (ground
 * truth, bicubic, each model).
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { stringify } from 'csv-stringify/sync';
import { writeFileAtomic } from '@gpl/data';
import { writePanels } from '@gpl/engine';
import { imagesToTensor, tensorToImage, type RgbImage, type ValImage } from './data';
import { psnr, ssim } from './metrics';
import { SR_SCALE } from './model';

/** Mean PSNR (dB) and SSIM over the validation images. */
export interface SrMetrics {
  readonly psnr: number;
  readonly ssim: number;
}

/** BasicSR's SR protocol: Y channel, border = scale. */
const PROTOCOL = { border: SR_SCALE, yChannel: true } as const;

/** Mean PSNR/SSIM of `outputs` against the ground truth of `val`. */
export function measure(val: readonly ValImage[], outputs: readonly RgbImage[]): SrMetrics {
  let p = 0;
  let s = 0;
  val.forEach((v, i) => {
    p += psnr(outputs[i], v.hr, PROTOCOL);
    s += ssim(outputs[i], v.hr, PROTOCOL);
  });
  return { psnr: p / val.length, ssim: s / val.length };
}

/** The model's 8-bit ×4 output for every validation image. */
export async function superResolve(model: tfl.LayersModel, val: readonly ValImage[]): Promise<RgbImage[]> {
  const out: RgbImage[] = [];
  for (const v of val) {
    const sr = tf.tidy(() => {
      const lr = imagesToTensor([v.lr]);
      return model.apply(lr) as tf.Tensor4D;
    });
    try {
      out.push(await tensorToImage(sr));
    } finally {
      sr.dispose();
    }
  }
  return out;
}

/** One row of the report: a method and its metrics, or why it did not run. */
export interface ReportRow {
  readonly method: string;
  readonly metrics?: SrMetrics;
  /** 'skipped (no weights supplied)', … */
  readonly note?: string;
  /** Its outputs on the validation images (for the PNGs); absent when skipped. */
  readonly outputs?: readonly RgbImage[];
}

/** The baseline row: MATLAB bicubic ×4 of the LR inputs. */
export function bicubicRow(val: readonly ValImage[]): ReportRow {
  const outputs = val.map((v) => v.bicubic);
  return { method: 'bicubic (MATLAB imresize)', metrics: measure(val, outputs), outputs };
}

/** The Markdown table. */
export function formatReportTable(rows: readonly ReportRow[], context: string): string {
  const lines = [
    `PSNR / SSIM on Y (BT.601), ${SR_SCALE}-pixel border, ×${SR_SCALE}; ${context}.`,
    '',
    '| method | PSNR (dB) | SSIM |',
    '|---|---:|---:|',
    ...rows.map((r) => (r.metrics ? `| ${r.method} | ${r.metrics.psnr.toFixed(2)} | ${r.metrics.ssim.toFixed(4)} |` : `| ${r.method} | ${r.note ?? 'skipped'} | |`)),
  ];
  return lines.join('\n') + '\n';
}

/** Writes results.md, results.csv and samples/<n>-<name>.png into `dir`; returns the Markdown. */
export async function writeReport(dir: string, val: readonly ValImage[], rows: readonly ReportRow[], context: string): Promise<string> {
  const markdown = formatReportTable(rows, context);
  await writeFileAtomic(path.join(dir, 'results.md'), markdown);
  const csv = stringify(
    rows.map((r) => [r.method, r.metrics ? r.metrics.psnr.toFixed(4) : '', r.metrics ? r.metrics.ssim.toFixed(6) : '', r.note ?? '']),
    { header: true, columns: ['method', 'psnr_y', 'ssim_y', 'note'] },
  );
  await writeFileAtomic(path.join(dir, 'results.csv'), csv);
  const shown = rows.filter((r) => r.outputs);
  for (let i = 0; i < val.length; i++) {
    const v = val[i];
    const panel = (title: string, img: RgbImage) => ({ title, rgb: img.data, width: img.width, height: img.height });
    const panels = [
      panel('ground truth', v.hr),
      ...shown.map((r) => {
        const img = r.outputs![i];
        return panel(`${r.method} ${psnr(img, v.hr, PROTOCOL).toFixed(2)} dB`, img);
      }),
    ];
    const name = path.basename(v.file).replace(/\.[^.]+$/, '');
    await writePanels(path.join(dir, 'samples', `${String(i).padStart(2, '0')}-${name}.png`), panels);
  }
  return markdown;
}

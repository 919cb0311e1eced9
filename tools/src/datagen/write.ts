/**
 * Writers for the generated datasets: PNGs through `@gpl/data`'s deterministic encoder, JPEGs
 * through sharp with every encoder option pinned, text files, all written atomically; and a helper
 * that builds a whole dataset folder beside the old one and swaps it in.
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { encodePng, writeFileAtomic, type Rgb } from '@gpl/data';

/** Pinned JPEG settings: baseline, optimised Huffman tables, 4:2:0, quality 90, no metadata. */
const JPEG_OPTIONS = Object.freeze({
  quality: 90,
  progressive: false,
  chromaSubsampling: '4:2:0',
  optimiseCoding: true,
  mozjpeg: false,
  trellisQuantisation: false,
  overshootDeringing: false,
  optimiseScans: false,
  quantisationTable: 0,
});

export async function writeJpeg(file: string, rgb: Uint8Array, width: number, height: number): Promise<void> {
  const buf = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } })
    .jpeg(JPEG_OPTIONS)
    .toBuffer();
  await writeFileAtomic(file, buf);
}

export async function writeRgbPng(file: string, rgb: Uint8Array, width: number, height: number, channels: 3 | 4 = 3): Promise<void> {
  await writeFileAtomic(file, encodePng({ width, height, channels, bitDepth: 8, data: rgb }));
}

export async function writeGreyPng(file: string, data: Uint8Array, width: number, height: number): Promise<void> {
  await writeFileAtomic(file, encodePng({ width, height, channels: 1, bitDepth: 8, data }));
}

export async function writeGrey16Png(file: string, data: Uint16Array, width: number, height: number): Promise<void> {
  await writeFileAtomic(file, encodePng({ width, height, channels: 1, bitDepth: 16, data }));
}

export async function writePalettePng(file: string, data: Uint8Array, width: number, height: number, palette: readonly Rgb[]): Promise<void> {
  await writeFileAtomic(file, encodePng({ width, height, channels: 1, bitDepth: 8, data, palette }));
}

export async function writeText(file: string, text: string): Promise<void> {
  await writeFileAtomic(file, text);
}

/**
 * Builds `target` in a sibling temporary folder, then swaps it in (old copy removed), so a failed
 * or interrupted run never leaves a half-written dataset behind.
 */
export async function buildDatasetFolder(target: string, build: (dir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(target);
  await fs.promises.mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(target)}.build-${process.pid}`);
  const old = path.join(parent, `.${path.basename(target)}.old-${process.pid}`);
  await fs.promises.rm(tmp, { recursive: true, force: true });
  try {
    await build(tmp);
    const had = fs.existsSync(target);
    if (had) await fs.promises.rename(target, old);
    await fs.promises.rename(tmp, target);
    if (had) await fs.promises.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

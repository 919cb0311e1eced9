/**
 * High-resolution images for the SR pilot: the RGB photographs of the embedded mini datasets (no
 * DIV2K/Set5/BSD/Kodak exists on npm). Which files count as RGB images, by name:
 * `*.jpg`/`*.jpeg` (VOC JPEGImages, ADE20K images, COCO train/val, NYUv2 training frames),
 * `*_leftImg8bit.png` (Cityscapes) and `*_colors.png` (NYUv2 test); label, instance and depth PNGs
 * are never taken.
 *
 * Split by file, deterministic and stable when files are added: a file is validation when a hash
 * of its path (relative to its root, prefixed by the root's folder name) is 0 mod 10.
 * Training draws random HR patches (flips and 90° rotations, BasicSR's `augment`) per step from a
 * seeded stream of that step; the LR input is MATLAB's bicubic ×1/4 of the patch (`imresize.ts`).
 * Validation uses whole images cut to a multiple of 4 at the bottom right (BasicSR's `mod_crop`),
 * taken in turn from each root (first file of each, then the second, …) up to `valImages`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gpl/core';
import { readImage, type ImageRaster } from '@gpl/data';
import { imresizeBicubic } from './imresize';
import { SR_SCALE } from './model';

/** An 8-bit RGB image with the file it came from. */
export type RgbImage = ImageRaster & { readonly data: Uint8Array };

/** One validation image: ground truth, its LR input and the bicubic ×4 of that input. */
export interface ValImage {
  /** Path relative to the working folder, for tables and file names. */
  readonly file: string;
  readonly hr: RgbImage;
  readonly lr: RgbImage;
  readonly bicubic: RgbImage;
}

/** The images of a run. */
export interface SrData {
  /** Training images (each at least one patch in size). */
  readonly train: readonly RgbImage[];
  readonly trainFiles: readonly string[];
  readonly val: readonly ValImage[];
  /** What was found and left out, for the log. */
  readonly notes: readonly string[];
}

const RGB_NAME = /(\.jpe?g|_leftImg8bit\.png|_colors\.png)$/i;

/** Every RGB image file under `root`, sorted. */
export function findRgbImages(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && RGB_NAME.test(e.name)) out.push(p);
    }
  };
  walk(root);
  return out;
}

/** Whether a file is in the validation split (1 in 10 by hash of `<root name>/<relative path>`). */
export function isValidationFile(root: string, file: string): boolean {
  const key = `${path.basename(path.resolve(root))}/${path.relative(root, file).split(path.sep).join('/')}`;
  // A stream forked by name from a fixed seed: a stable 32-bit hash of the name (FNV-1a inside `Rng.fork`).
  return new Rng(0).fork(key).nextUint32() % 10 === 0;
}

/** An image cut to a multiple of `m` in each side (top-left kept). */
export function modCrop(img: RgbImage, m: number): RgbImage {
  return cropImage(img, 0, 0, img.height - (img.height % m), img.width - (img.width % m));
}

/** The h×w window at (y, x). */
export function cropImage(img: RgbImage, y: number, x: number, h: number, w: number): RgbImage {
  const data = new Uint8Array(h * w * 3);
  for (let r = 0; r < h; r++) data.set(img.data.subarray(((y + r) * img.width + x) * 3, ((y + r) * img.width + x + w) * 3), r * w * 3);
  return { data, height: h, width: w, channels: 3 };
}

/** BasicSR's `augment`: horizontal flip, vertical flip, transpose (rot90 with the flips), each with probability ½. */
function augment(img: RgbImage, hflip: boolean, vflip: boolean, transpose: boolean): RgbImage {
  const { height: h, width: w } = img;
  const oh = transpose ? w : h;
  const ow = transpose ? h : w;
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sy = transpose ? x : y;
      let sx = transpose ? y : x;
      if (vflip) sy = h - 1 - sy;
      if (hflip) sx = w - 1 - sx;
      const s = (sy * w + sx) * 3;
      const d = (y * ow + x) * 3;
      data[d] = img.data[s];
      data[d + 1] = img.data[s + 1];
      data[d + 2] = img.data[s + 2];
    }
  }
  return { data, height: oh, width: ow, channels: 3 };
}

/** Options of `openSrData`. */
export interface SrDataOptions {
  /** Dataset folders to search. */
  readonly roots: readonly string[];
  /** HR patch side (a multiple of 4). */
  readonly patch: number;
  /** Validation images used (the first ones of the split, by path). */
  readonly valImages: number;
}

/** Finds, splits and decodes the images. */
export async function openSrData(o: SrDataOptions): Promise<SrData> {
  const notes: string[] = [];
  const train: RgbImage[] = [];
  const trainFiles: string[] = [];
  const valByRoot: string[][] = [];
  let small = 0;
  for (const root of o.roots) {
    if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
      throw new RangeError(`[sr] option 'dataRoots': no folder at ${root}; expected dataset folders holding RGB images (e.g. datasets/voc-mini).`);
    }
    const files = findRgbImages(root);
    const valFiles: string[] = [];
    valByRoot.push(valFiles);
    if (!files.length) throw new RangeError(`[sr] option 'dataRoots': ${root} holds no RGB images (*.jpg, *_leftImg8bit.png, *_colors.png).`);
    for (const file of files) {
      if (isValidationFile(root, file)) {
        valFiles.push(file);
        continue;
      }
      const img = (await readImage(file, { pkg: 'sr' })) as RgbImage;
      if (img.height < o.patch || img.width < o.patch) {
        small++;
        continue;
      }
      train.push(img);
      trainFiles.push(path.relative(process.cwd(), file));
    }
  }
  if (!train.length) throw new RangeError(`[sr] option 'patch': no training image is ${o.patch}×${o.patch} or larger; choose a smaller --patch.`);
  // Round robin over the roots, so that every dataset is in a short validation list.
  const valFiles: string[] = [];
  for (let k = 0; valFiles.length < valByRoot.flat().length; k++) for (const list of valByRoot) if (k < list.length) valFiles.push(list[k]);
  const val: ValImage[] = [];
  for (const file of valFiles.slice(0, o.valImages)) {
    const hr = modCrop((await readImage(file, { pkg: 'sr' })) as RgbImage, SR_SCALE);
    const lr = imresizeBicubic(hr, 1 / SR_SCALE);
    val.push({ file: path.relative(process.cwd(), file), hr, lr, bicubic: imresizeBicubic(lr, SR_SCALE) });
  }
  if (!val.length) throw new RangeError(`[sr] option 'dataRoots': the validation split of ${o.roots.join(', ')} is empty; add more images or another root.`);
  notes.push(
    `data: ${train.length} training images${small ? ` (${small} smaller than the ${o.patch}-px patch left out)` : ''}, ` +
      `${val.length} of ${valFiles.length} validation images, from ${o.roots.join(', ')}`,
  );
  return { train, trainFiles, val, notes };
}

/** HR patches and their LR inputs as [0, 1] tensors. The caller disposes both. */
export interface SrBatch {
  readonly lr: tf.Tensor4D;
  readonly hr: tf.Tensor4D;
}

/** The 8-bit patches of training step `step` (a pure function of seed and step, so a resumed run draws the same). */
export function stepPatches(images: readonly RgbImage[], o: { seed: number; step: number; batch: number; patch: number }): { hr: RgbImage[]; lr: RgbImage[] } {
  const rng = new Rng(o.seed).fork(`patches-${o.step}`);
  const int = (n: number) => Math.floor(rng.next() * n);
  const hr: RgbImage[] = [];
  for (let b = 0; b < o.batch; b++) {
    const img = images[int(images.length)];
    const y = int(img.height - o.patch + 1);
    const x = int(img.width - o.patch + 1);
    hr.push(augment(cropImage(img, y, x, o.patch, o.patch), rng.next() < 0.5, rng.next() < 0.5, rng.next() < 0.5));
  }
  return { hr, lr: hr.map((p) => imresizeBicubic(p, 1 / SR_SCALE)) };
}

/** Stacks 8-bit images of one size into an [N, H, W, 3] tensor in [0, 1]. */
export function imagesToTensor(images: readonly RgbImage[]): tf.Tensor4D {
  const { height: h, width: w } = images[0];
  const data = new Float32Array(images.length * h * w * 3);
  images.forEach((img, i) => {
    for (let k = 0; k < img.data.length; k++) data[i * h * w * 3 + k] = img.data[k] / 255;
  });
  return tf.tensor4d(data, [images.length, h, w, 3]);
}

/** BasicSR's `tensor2img`: clamp to [0, 1], scale to 0..255 and round. */
export async function tensorToImage(t: tf.Tensor4D): Promise<RgbImage> {
  const [, h, w] = t.shape;
  const values = await t.data();
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(Math.min(1, Math.max(0, values[i])) * 255);
  return { data, height: h, width: w, channels: 3 };
}

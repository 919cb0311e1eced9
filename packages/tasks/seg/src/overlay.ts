/**
 * What a segmentation run draws and exports per sample: titled panels (image | ground truth |
 * prediction, the class colours blended at 50% over the image; ignored pixels keep the image)
 * with a legend of the classes present, and raw predictions as palette PNGs of class indices
 * that other tools (mmseg, Cityscapes scripts, image viewers) read.
 */
import * as path from 'path';
import { encodePng, writeFileAtomic, type Rgb, type SegmentationSample } from '@gpl/data';
import { writePanels, type Panel } from '@gpl/engine';

/** RGB 8-bit of the image; normalised float images are not expected here (pass the decoded sample). */
function imageBytes(s: SegmentationSample): Uint8Array {
  const d = s.image.data;
  if (d instanceof Uint8Array) return d;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(d[i])));
  return out;
}

/** The image with `classes` blended over it in the palette (null: the image alone). */
export function blendClasses(s: SegmentationSample, classes: ArrayLike<number> | null, palette: readonly Rgb[], ignoreIndex: number): Uint8Array {
  const img = imageBytes(s);
  const out = new Uint8Array(img.length);
  for (let i = 0; i < s.image.width * s.image.height; i++) {
    const c = classes ? classes[i] : ignoreIndex;
    const col = c !== ignoreIndex && c < palette.length ? palette[c] : undefined;
    for (let k = 0; k < 3; k++) out[i * 3 + k] = col ? (img[i * 3 + k] + col[k]) >> 1 : img[i * 3 + k];
  }
  return out;
}

/** The three titled panels of a sample. */
export function samplePanels(s: SegmentationSample, prediction: ArrayLike<number>, palette: readonly Rgb[], ignoreIndex: number): Panel[] {
  const { width, height } = s.image;
  return [
    { title: 'image', rgb: blendClasses(s, null, palette, ignoreIndex), width, height },
    { title: 'ground truth', rgb: blendClasses(s, s.label.data, palette, ignoreIndex), width, height },
    { title: 'prediction', rgb: blendClasses(s, prediction, palette, ignoreIndex), width, height },
  ];
}

/** Class indices present in the ground truth or the prediction, ascending. */
export function classesPresent(s: SegmentationSample, prediction: ArrayLike<number>, numClasses: number): number[] {
  const seen = new Uint8Array(numClasses);
  for (const arr of [s.label.data, prediction]) for (let i = 0; i < arr.length; i++) if (arr[i] < numClasses) seen[arr[i]] = 1;
  return Array.from(seen.keys()).filter((c) => seen[c]);
}

/** Writes a sample's panels with the legend of the classes it shows. */
export async function writeSampleDrawing(file: string, s: SegmentationSample, prediction: ArrayLike<number>, classNames: readonly string[], palette: readonly Rgb[], ignoreIndex: number): Promise<void> {
  const legend = classesPresent(s, prediction, classNames.length).map((c) => ({ name: classNames[c], color: palette[c] }));
  await writePanels(file, samplePanels(s, prediction, palette, ignoreIndex), legend);
}

/** Writes `<dir>/<id>.png`: the predicted class indices as an 8-bit palette PNG in the dataset's colours. */
export async function exportPrediction(dir: string, s: SegmentationSample, prediction: Uint8Array, palette: readonly Rgb[]): Promise<string> {
  const file = path.join(dir, `${s.id}.png`);
  const colours = palette.length ? palette.slice(0, 256) : [[0, 0, 0] as Rgb];
  await writeFileAtomic(file, encodePng({ width: s.image.width, height: s.image.height, channels: 1, bitDepth: 8, data: prediction, palette: colours }));
  return file;
}

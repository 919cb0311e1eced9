/**
 * Opening a segmentation dataset by name, with its augmentation recipe, and checking teacher
 * soft labels against it. Tasks and the teacher share only the `@gpl/data` soft-label file format
 * and the manifest JSON described here (the teacher writes it, this file reads it).
 */
import * as fs from 'fs';
import * as path from 'path';
import { IMAGENET_MEAN, IMAGENET_STD, withSoftLabels, type AugmentConfig, type Dataset, type SegmentationSample } from '@gpl/data';
import { ade20kAugment, ade20kMiniAugment } from '@gpl/ade20k';
import { cityscapesAugment, cityscapesMiniAugment } from '@gpl/cityscapes';
import { MANIFEST_FORMAT, MINI_DATASET_ROOTS, datasetSplit, openSplit, sha256, type SoftLabelManifest } from '@gpl/teacher';
import { vocAugment, vocMiniAugment } from '@gpl/voc';
import type { DatasetName } from './config';

export type { SoftLabelManifest };

/** The embedded mini dataset of each built-in format (relative to the workspace root). */
export const MINI_ROOTS: Readonly<Record<DatasetName, string>> = MINI_DATASET_ROOTS;

/** `train` / `val` in the dataset's own split names. */
export function splitName(dataset: DatasetName, split: string): string {
  return datasetSplit(dataset, split);
}

/** The workspace root (this file is packages/tasks/seg/src/data.ts). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');

/** Whether `root` is the embedded mini dataset of `dataset` (relative to the cwd or the workspace). */
export function isMiniRoot(dataset: DatasetName, root: string): boolean {
  const mini = MINI_ROOTS[dataset];
  if (!mini) return false;
  const r = path.resolve(root);
  return r === path.resolve(mini) || r === path.join(WORKSPACE_ROOT, mini);
}

/** Opens a split of a segmentation dataset (the same loaders the teacher labels). */
export function openSegDataset(dataset: DatasetName, root: string, split: string): Promise<Dataset<SegmentationSample>> {
  return openSplit(dataset, root, split);
}

/**
 * The training augmentation of a dataset with the run's crop: the recipe scaled to the mini
 * datasets when the root is the embedded one, the paper's recipe otherwise.
 */
export function augmentFor(dataset: DatasetName, root: string, crop: readonly [number, number]): AugmentConfig {
  const mini = isMiniRoot(dataset, root);
  const base: AugmentConfig =
    dataset === 'cityscapes'
      ? mini ? cityscapesMiniAugment : cityscapesAugment
      : dataset === 'voc'
        ? mini ? vocMiniAugment : vocAugment
        : dataset === 'ade20k'
          ? mini ? ade20kMiniAugment : ade20kAugment
          : { crop, ratioRange: [0.5, 2.0], catMaxRatio: 0.75, flipProb: 0.5, photometric: true, mean: IMAGENET_MEAN, std: IMAGENET_STD };
  return { ...base, crop: [crop[0], crop[1]] };
}

export function sha256File(file: string): string {
  return sha256(fs.readFileSync(file));
}

/**
 * Reads `<dir>/manifest.json` and checks it against the dataset a run trains on: format, dataset
 * name, classes, and an entry (with a matching checksum) for every sample. Throws an error that
 * names the folder, the field and both values.
 */
export function checkSoftLabels(
  dir: string,
  expected: { dataset: DatasetName; split: string; classNames: readonly string[]; ids: readonly string[] },
  options: { verifyChecksums?: boolean } = {},
): SoftLabelManifest {
  const file = path.join(dir, 'manifest.json');
  const fail = (what: string): never => {
    throw new RangeError(`[seg] soft labels ${file}: ${what}. Regenerate them with teacher:generate for this dataset, or pass --soft-labels none.`);
  };
  if (!fs.existsSync(file)) fail('manifest.json is missing (is the folder complete? teacher:generate writes it last)');
  let m: SoftLabelManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as SoftLabelManifest;
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== MANIFEST_FORMAT) fail(`field 'format' is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`);
  if (m.dataset !== expected.dataset) fail(`made for dataset '${m.dataset}', the run trains on '${expected.dataset}'`);
  const split = splitName(expected.dataset, expected.split);
  if (m.split !== split) fail(`made for split '${m.split}', the run trains on '${split}'`);
  if (m.numClasses !== expected.classNames.length) fail(`has ${m.numClasses} classes, the dataset has ${expected.classNames.length}`);
  if (JSON.stringify(m.classNames) !== JSON.stringify(expected.classNames)) fail(`class names differ from the dataset's (${m.classNames.slice(0, 3).join(', ')}, … vs ${expected.classNames.slice(0, 3).join(', ')}, …)`);
  const missing = expected.ids.filter((id) => !m.files?.[id]);
  if (missing.length) fail(`no soft labels for ${missing.length} of ${expected.ids.length} samples (first: '${missing[0]}')`);
  for (const id of expected.ids) {
    const e = m.files[id];
    if (e.channels !== m.numClasses) fail(`'${e.file}' has ${e.channels} channels, expected ${m.numClasses}`);
    if (options.verifyChecksums !== false) {
      const p = path.join(dir, e.file);
      if (!fs.existsSync(p)) fail(`'${e.file}' is listed but missing`);
      const sum = sha256File(p);
      if (sum !== e.sha256) fail(`'${e.file}' has checksum ${sum.slice(0, 12)}…, the manifest says ${e.sha256.slice(0, 12)}… (corrupt or stale file)`);
    }
  }
  return m;
}

/** The dataset with the soft labels of `dir` attached to every sample (after `checkSoftLabels`). */
export function attachSoftLabels(ds: Dataset<SegmentationSample>, dir: string): Dataset<SegmentationSample> {
  return withSoftLabels(ds, dir);
}

/** Sample ids of a dataset, in index order (decodes nothing for indexed datasets). */
export async function sampleIds(ds: Dataset<SegmentationSample>): Promise<string[]> {
  const entries = (ds as unknown as { entries?: readonly { id: string }[] }).entries;
  if (entries && entries.length === ds.length && entries.every((e) => typeof e?.id === 'string')) return entries.map((e) => e.id);
  const ids: string[] = [];
  for (let i = 0; i < ds.length; i++) ids.push((await ds.get(i)).id);
  return ids;
}

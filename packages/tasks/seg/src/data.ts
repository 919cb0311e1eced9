/**
 * Opening a segmentation dataset by name (the teacher's loaders), its augmentation recipe, and
 * checking teacher soft labels against it (the teacher's manifest, read here).
 */
import * as fs from 'fs';
import * as path from 'path';
import { IMAGENET_MEAN, IMAGENET_STD, type AugmentConfig } from '@gpl/data';
import { ade20kAugment, ade20kMiniAugment } from '@gpl/ade20k';
import { cityscapesAugment, cityscapesMiniAugment } from '@gpl/cityscapes';
import { MANIFEST_FORMAT, MINI_DATASET_ROOTS, datasetSplit, openSplit, sampleIds, sha256, verifyManifest, type SoftLabelManifest } from '@gpl/teacher';
import { vocAugment, vocMiniAugment } from '@gpl/voc';
import type { DatasetName } from './config';

export type { SoftLabelManifest };

/** The embedded mini dataset of each built-in format (relative to the workspace root). */
export { MINI_DATASET_ROOTS as MINI_ROOTS };

/** The workspace root (this file is packages/tasks/seg/src/data.ts). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');

/** Whether `root` is the embedded mini dataset of `dataset` (relative to the cwd or the workspace). */
export function isMiniRoot(dataset: DatasetName, root: string): boolean {
  const mini = MINI_DATASET_ROOTS[dataset];
  if (!mini) return false;
  const r = path.resolve(root);
  return r === path.resolve(mini) || r === path.join(WORKSPACE_ROOT, mini);
}

/** Opens a split of a segmentation dataset: the teacher's `openSplit`, so both read data the same way. */
export { openSplit as openSegDataset, sampleIds };

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
  const split = datasetSplit(expected.dataset, expected.split);
  if (m.split !== split) fail(`made for split '${m.split}', the run trains on '${split}'`);
  if (m.numClasses !== expected.classNames.length) fail(`has ${m.numClasses} classes, the dataset has ${expected.classNames.length}`);
  if (JSON.stringify(m.classNames) !== JSON.stringify(expected.classNames)) fail(`class names differ from the dataset's (${m.classNames.slice(0, 3).join(', ')}, … vs ${expected.classNames.slice(0, 3).join(', ')}, …)`);
  const missing = expected.ids.filter((id) => !m.files?.[id]);
  if (missing.length) fail(`no soft labels for ${missing.length} of ${expected.ids.length} samples (first: '${missing[0]}')`);
  const narrow = expected.ids.map((id) => m.files[id]).find((e) => e.channels !== m.numClasses);
  if (narrow) fail(`'${narrow.file}' has ${narrow.channels} channels, expected ${m.numClasses}`);
  const bad = verifyManifest(dir, m);
  if (bad.length) fail(`'${m.files[bad[0]].file}' has checksum not matching the manifest (missing, corrupt or stale file; ${bad.length} such)`);
  return m;
}

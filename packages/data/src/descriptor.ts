/**
 * A dataset format as a value: how to open a split, the dataset's own split names, its training
 * augmentation (the paper's recipe and the one scaled to the embedded mini dataset) and where
 * the mini dataset lives. Each dataset package exports one; tasks and the teacher keep a map of
 * the descriptors they support, so nothing else needs to know a format by name.
 */
import * as path from 'path';
import { openCustomFolder } from './custom';
import { mmsegAugment, type AugmentConfig } from './transforms';
import type { Dataset, Sample, SegmentationSample } from './types';

export interface DatasetDescriptor<S extends Sample = Sample, A = AugmentConfig> {
  /** Format name, as in `--dataset` and soft-label manifests (e.g. 'cityscapes'). */
  readonly name: string;
  /** Opens a split by the dataset's own name (see `splitName`). */
  open(root: string, split: string): Promise<Dataset<S>>;
  /** `train` / `val` in the dataset's own names (ADE20K: training / validation); others unchanged. */
  splitName(split: string): string;
  /**
   * The paper's training augmentation for full-size images, in the task family's own recipe type
   * (`AugmentConfig` for segmentation; depth and instance formats define theirs).
   */
  readonly augment: A;
  /** The same recipe scaled to the embedded mini dataset's image sizes. */
  readonly miniAugment?: A;
  /** Absolute path of the embedded mini dataset (present in a workspace checkout), if the format has one. */
  readonly miniRoot?: string;
}

/** Whether `root` is the descriptor's embedded mini dataset (relative paths against the cwd). */
export function isMiniRoot<A>(d: DatasetDescriptor<Sample, A>, root: string): boolean {
  return d.miniRoot !== undefined && path.resolve(root) === path.resolve(d.miniRoot);
}

/** A descriptor's training recipe for `root`: the mini recipe on the embedded mini dataset, the paper's otherwise. */
export function recipeFor<A>(d: DatasetDescriptor<Sample, A>, root: string): A {
  return isMiniRoot(d, root) && d.miniAugment !== undefined ? d.miniAugment : d.augment;
}

/**
 * A segmentation descriptor's training augmentation with the run's crop: the mini recipe when `root` is the
 * embedded mini dataset, the paper's recipe otherwise.
 */
export function augmentFor(d: DatasetDescriptor<Sample, AugmentConfig>, root: string, crop: readonly [number, number]): AugmentConfig {
  return { ...recipeFor(d, root), crop: [crop[0], crop[1]] };
}

/** `train`/`val`/other split names unchanged. */
export const sameSplitNames = (split: string): string => split;

/** The embedded mini dataset `name` under the workspace's `datasets/` (from a package's src or dist folder). */
export function workspaceDataset(packageDir: string, name: string): string {
  return path.resolve(packageDir, '..', '..', '..', '..', 'datasets', name);
}

const CUSTOM_AUGMENT: AugmentConfig = mmsegAugment([512, 512]);

/**
 * Custom folders (`images/`, `labels/`, `classes.json`; see `openCustomFolder`) holding a
 * segmentation task. Augmentation: mmseg's generic recipe (scale 0.5–2, crop, flip, photometric).
 */
export const customSegmentationDataset: DatasetDescriptor<SegmentationSample> = Object.freeze({
  name: 'custom',
  async open(root: string, split: string): Promise<Dataset<SegmentationSample>> {
    const ds = await openCustomFolder({ root, split });
    if (ds.classNames.length === 0) {
      throw new RangeError(`[@gpl/data] custom dataset ${root}: classes.json describes a depth task; segmentation needs "task": "segmentation" with class names.`);
    }
    return ds as unknown as Dataset<SegmentationSample>;
  },
  splitName: sameSplitNames,
  augment: CUSTOM_AUGMENT,
});

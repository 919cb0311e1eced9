/** The COCO format as a `DatasetDescriptor` (see `@gpl/data`): what tasks open COCO and coco-mini by. */
import { workspaceDataset, type DatasetDescriptor, type InstanceSample } from '@gpl/data';
import { cocoInstanceRecipe, cocoMiniInstanceRecipe, type InstanceRecipe } from './augment';
import { openCoco } from './coco-dataset';

/** `train` → `train2017`, `val` → `val2017` (COCO 2017's folder and file names); others unchanged. */
export function cocoSplitName(split: string): string {
  return split === 'train' || split === 'val' ? `${split}2017` : split;
}

/** `train2017` → split `train`, year `2017`; a name without a year keeps the default year (2017). */
function splitAndYear(name: string): { split: string; year?: string } {
  const m = /^(.*?)(\d{4})$/.exec(name);
  return m && m[1] ? { split: m[1], year: m[2] } : { split: name };
}

export const cocoDataset: DatasetDescriptor<InstanceSample, InstanceRecipe> = Object.freeze({
  name: 'coco',
  open: (root: string, split: string) => openCoco({ root, ...splitAndYear(split) }),
  splitName: cocoSplitName,
  augment: cocoInstanceRecipe,
  miniAugment: cocoMiniInstanceRecipe,
  miniRoot: workspaceDataset(__dirname, 'coco-mini'),
});

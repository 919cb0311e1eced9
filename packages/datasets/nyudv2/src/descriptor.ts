/** NYU Depth v2 as a `DatasetDescriptor` (see `@gpl/data`): what the depth task opens it by. */
import { workspaceDataset, type DatasetDescriptor, type DepthSample } from '@gpl/data';
import { nyuMiniRecipe, nyuVnlRecipe, type DepthRecipe } from './augment';
import { openNyuDepthV2, type NyuSplit } from './nyu-dataset';

/** `train` stays `train`; `val` and `test` open DenseDepth's test split (the 654 official test frames). */
function nyuSplitName(split: string): string {
  return split === 'val' ? 'test' : split;
}

export const nyuDepthV2Dataset: DatasetDescriptor<DepthSample, DepthRecipe> = Object.freeze({
  name: 'nyudv2',
  open: (root: string, split: string) => openNyuDepthV2({ root, split: split as NyuSplit }),
  splitName: nyuSplitName,
  augment: nyuVnlRecipe,
  miniAugment: nyuMiniRecipe,
  miniRoot: workspaceDataset(__dirname, 'nyudv2-mini'),
});

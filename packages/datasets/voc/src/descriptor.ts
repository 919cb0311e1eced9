/** The Pascal VOC format as a `DatasetDescriptor` (see `@gpl/data`): what tasks and the teacher open it by. */
import { sameSplitNames, workspaceDataset, type DatasetDescriptor, type SegmentationSample } from '@gpl/data';
import { vocAugment, vocMiniAugment, openVoc } from './voc';

export const vocDataset: DatasetDescriptor<SegmentationSample> = Object.freeze({
  name: 'voc',
  open: (root: string, split: string) => openVoc({ root, split }),
  splitName: sameSplitNames,
  augment: vocAugment,
  miniAugment: vocMiniAugment,
  miniRoot: workspaceDataset(__dirname, 'voc-mini'),
});

/** The Cityscapes format as a `DatasetDescriptor` (see `@gpl/data`): what tasks and the teacher open it by. */
import { sameSplitNames, workspaceDataset, type DatasetDescriptor, type SegmentationSample } from '@gpl/data';
import { cityscapesAugment, cityscapesMiniAugment, openCityscapes } from './cityscapes';

export const cityscapesDataset: DatasetDescriptor<SegmentationSample> = Object.freeze({
  name: 'cityscapes',
  open: (root: string, split: string) => openCityscapes({ root, split }),
  splitName: sameSplitNames,
  augment: cityscapesAugment,
  miniAugment: cityscapesMiniAugment,
  miniRoot: workspaceDataset(__dirname, 'cityscapes-mini'),
});

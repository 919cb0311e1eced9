/** The ADE20K format as a `DatasetDescriptor` (see `@gpl/data`): what tasks and the teacher open it by. */
import { workspaceDataset, type DatasetDescriptor, type SegmentationSample } from '@gpl/data';
import { ade20kAugment, ade20kMiniAugment, openAde20k } from './ade20k';

export const ade20kDataset: DatasetDescriptor<SegmentationSample> = Object.freeze({
  name: 'ade20k',
  open: (root: string, split: string) => openAde20k({ root, split }),
  splitName: (split: string): string => (split === 'train' ? 'training' : split === 'val' ? 'validation' : split),
  augment: ade20kAugment,
  miniAugment: ade20kMiniAugment,
  miniRoot: workspaceDataset(__dirname, 'ade20k-mini'),
});

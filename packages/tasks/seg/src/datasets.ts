/**
 * The dataset formats a segmentation run can train on, by name: each package's descriptor
 * (how to open a split, its augmentation recipes, where its mini dataset lives).
 */
import { ade20kDataset } from '@gpl/ade20k';
import { cityscapesDataset } from '@gpl/cityscapes';
import { customSegmentationDataset, type DatasetDescriptor, type SegmentationSample } from '@gpl/data';
import { vocDataset } from '@gpl/voc';

export const SEG_DATASETS = Object.freeze({
  cityscapes: cityscapesDataset,
  voc: vocDataset,
  ade20k: ade20kDataset,
  custom: customSegmentationDataset,
} satisfies Record<string, DatasetDescriptor<SegmentationSample>>);

export type DatasetName = keyof typeof SEG_DATASETS;
export const SEG_DATASET_NAMES: readonly DatasetName[] = Object.freeze(Object.keys(SEG_DATASETS) as DatasetName[]);

/** The descriptor of a dataset name (the name is validated by the config). */
export function segDataset(name: DatasetName): DatasetDescriptor<SegmentationSample> {
  const d = (SEG_DATASETS as Record<string, DatasetDescriptor<SegmentationSample> | undefined>)[name];
  if (!d) throw new RangeError(`[seg] option 'dataset': expected one of ${SEG_DATASET_NAMES.join(', ')}, received '${name}'.`);
  return d;
}

/** Folder teacher:generate writes for the embedded dataset of `dataset` (relative to the workspace root). */
export function defaultSoftLabelDir(dataset: DatasetName): string {
  return `runs/soft-labels/${dataset}-mini-train`;
}

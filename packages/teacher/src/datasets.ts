/**
 * Opening a segmentation split by dataset format: the split a teacher labels, and (through
 * `seg`) the split a student trains on, so both read a dataset the same way.
 */
import { openCustomFolder, type Dataset, type SegmentationSample } from '@gpl/data';
import { openAde20k } from '@gpl/ade20k';
import { openCityscapes } from '@gpl/cityscapes';
import { openVoc } from '@gpl/voc';

export const TEACHER_DATASETS = ['cityscapes', 'voc', 'ade20k', 'custom'] as const;
export type TeacherDatasetName = (typeof TEACHER_DATASETS)[number];

/** Embedded mini dataset of each format (relative to the workspace root). */
export const MINI_DATASET_ROOTS: Readonly<Record<TeacherDatasetName, string>> = Object.freeze({
  cityscapes: 'datasets/cityscapes-mini',
  voc: 'datasets/voc-mini',
  ade20k: 'datasets/ade20k-mini',
  custom: '',
});

/** `train` / `val` in the dataset's own split names (ADE20K: training / validation). */
export function datasetSplit(dataset: TeacherDatasetName, split: string): string {
  if (dataset === 'ade20k') return split === 'train' ? 'training' : split === 'val' ? 'validation' : split;
  return split;
}

/**
 * Sample ids in index order: read from the index of the built-in loaders (nothing decoded), or by
 * loading each sample for other datasets.
 */
export async function sampleIds(ds: Dataset<SegmentationSample>): Promise<string[]> {
  const entries = (ds as unknown as { entries?: readonly { id: string }[] }).entries;
  if (entries && entries.length === ds.length && entries.every((e) => typeof e?.id === 'string')) return entries.map((e) => e.id);
  const ids: string[] = [];
  for (let i = 0; i < ds.length; i++) ids.push((await ds.get(i)).id);
  return ids;
}

export async function openSplit(dataset: TeacherDatasetName, root: string, split: string): Promise<Dataset<SegmentationSample>> {
  const s = datasetSplit(dataset, split);
  switch (dataset) {
    case 'cityscapes':
      return openCityscapes({ root, split: s });
    case 'voc':
      return openVoc({ root, split: s });
    case 'ade20k':
      return openAde20k({ root, split: s });
    case 'custom': {
      const ds = await openCustomFolder({ root, split: s });
      if (ds.classNames.length === 0) {
        throw new RangeError(`[@gpl/teacher] custom dataset ${root}: classes.json must describe a segmentation task (task "segmentation" with class names).`);
      }
      return ds as unknown as Dataset<SegmentationSample>;
    }
    default:
      throw new RangeError(`[@gpl/teacher] option 'dataset': expected one of ${TEACHER_DATASETS.join(', ')}, received '${String(dataset)}'.`);
  }
}

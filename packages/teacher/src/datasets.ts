/**
 * The dataset formats a teacher can label, by name: each package's descriptor. The names are
 * those a student's `--dataset` uses, so a manifest's `dataset` field matches the student's run.
 */
import { ade20kDataset } from '@gpl/ade20k';
import { cityscapesDataset } from '@gpl/cityscapes';
import { customSegmentationDataset, type DatasetDescriptor, type SegmentationSample } from '@gpl/data';
import { vocDataset } from '@gpl/voc';

export const TEACHER_DATASETS = Object.freeze({
  cityscapes: cityscapesDataset,
  voc: vocDataset,
  ade20k: ade20kDataset,
  custom: customSegmentationDataset,
} satisfies Record<string, DatasetDescriptor<SegmentationSample>>);

export type TeacherDatasetName = keyof typeof TEACHER_DATASETS;
export const TEACHER_DATASET_NAMES: readonly TeacherDatasetName[] = Object.freeze(Object.keys(TEACHER_DATASETS) as TeacherDatasetName[]);

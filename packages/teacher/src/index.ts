export {
  generateSoftLabels,
  softLabelsOf,
  loadTeacher,
  parseShard,
  resolveTeacherCheckpoint,
  type GenerateOptions,
  type GenerateResult,
} from './generate';
export {
  MANIFEST_FORMAT,
  readManifest,
  verifyManifest,
  specDifferences,
  sha256,
  type GenerationSpec,
  type SoftLabelManifest,
  type SoftLabelFileEntry,
} from './manifest';
export { openSplit, datasetSplit, sampleIds, MINI_DATASET_ROOTS, TEACHER_DATASETS, type TeacherDatasetName } from './datasets';

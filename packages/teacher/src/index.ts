export { generateSoftLabels, softLabelsOf, loadTeacher, parseShard, type GenerateOptions, type GenerateResult } from './generate';
export { TEACHER_DATASETS, TEACHER_DATASET_NAMES, type TeacherDatasetName } from './datasets';

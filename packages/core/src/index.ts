import './setup';

export {
  initBackend,
  formatBackendReport,
  parseBackendPreference,
  BACKEND_PREFERENCES,
  type BackendPreference,
  type BackendReport,
  type InitBackendOptions,
  type SkippedBackend,
} from './backend';
export {
  installGradientCompleteness,
  conv2dFilterGrad,
  conv2dInputGrad,
  depthwiseFilterGrad,
  depthwiseInputGrad,
  type GradientCompletenessReport,
} from './gradients';
export {
  saveCheckpoint,
  loadCheckpoint,
  restoreCheckpoint,
  resolveCheckpoint,
  folderIOHandler,
  type CheckpointContent,
  type CheckpointWriter,
  type LoadedCheckpoint,
  type SaveCheckpointOptions,
} from './checkpoint';
export { writeFileAtomic, syncedWriter, type FileWriter } from './atomic';
export { Rng, deriveSeed, type RngState } from './rng';
export { Progress, formatDuration, type ProgressOptions } from './progress';
export { linePlotSvg, writeLinePlotPng, niceTicks, type Series, type PlotOptions } from './plot';
export {
  checkInputSize,
  importWeightsByName,
  summarizeModel,
  type Backbone,
  type FeatureKey,
  type FeatureMaps,
  type FeatureSpec,
  type FeatureSpecs,
  type ImportReport,
  type ModelSummary,
} from './backbone';
export {
  AdaptiveAvgPool2D,
  InputSizeCheck,
  ResizeBilinear,
  addRelu,
  convUnit,
  layerSeed,
  scaleWidth,
  type AdaptiveAvgPoolArgs,
  type ConvUnitOptions,
  type InputSizeCheckArgs,
  type ResizeBilinearArgs,
} from './layers';
export { ResizeLike, resizeLikeTorch, type ResizeLikeArgs, type ResizeMode } from './resize';
export { classifierHead, resizeToReference } from './decode-head';
export { formatParameterTable, millionsNote, type ParameterRow } from './summary-table';
export {
  backboneWeightsLoader,
  loadEncoderWeights,
  toPyTorchName,
  weightKeys,
  type BackboneImportReport,
  type BackboneWeightsLoader,
  type LoadBackboneWeightsOptions,
  type LoadEncoderWeightsOptions,
} from './pytorch-weights';
export { importStateDict, formatStateDictReport, withPretrainedEncoder, STATE_DICT_PREFIXES, type StateDictImportOptions, type StateDictImportReport, type StateDictRow } from './state-dict-import';

export { defaultHRNetConfig, resolveHRNetConfig, type HRNetConfig } from './config';
export {
  HRNet,
  HRNET_NAMES,
  HRNET_VARIANTS,
  buildHRNetSegmenter,
  createHRNet,
  formatHRNetSummary,
  summarizeHRNet,
  type HRNetName,
  type HRNetOptions,
  type HRNetStageSpec,
  type HRNetStages,
  type HRNetSummary,
} from './hrnet';
export { resizeLikeTorch, type ResizeMode } from './resize';
export { loadBackboneWeights, toPyTorchName, type LoadBackboneWeightsOptions } from './weights';

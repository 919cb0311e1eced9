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
// Core's resizing, re-exported because HRNetConfig.fuseUpsample takes a ResizeMode.
export { resizeLikeTorch, type ResizeMode } from '@gpl/core';
export { loadBackboneWeights, toPyTorchName } from './weights';
export type { LoadBackboneWeightsOptions } from '@gpl/core';

export { defaultResNetConfig, resolveResNetConfig, OUTPUT_STRIDES, type OutputStride, type ResNetConfig } from './config';
export {
  ResNet,
  RESNET_NAMES,
  RESNET_VARIANTS,
  STAGE_LAYOUTS,
  blockDilations,
  buildResNetModel,
  createResNet,
  formatResNetSummary,
  isResNetLayer,
  summarizeResNet,
  type BlockKind,
  type ResNetModelOptions,
  type ResNetName,
  type ResNetOptions,
  type ResNetSummary,
  type ResNetVariant,
} from './resnet';
export { loadBackboneWeights, toPyTorchName } from './weights';
export type { LoadBackboneWeightsOptions } from '@gpl/core';

export {
  GenericPerceptualLoss,
  genericPerceptualLoss,
  disposeCachedLosses,
  defaultGenericPerceptualLossConfig,
  parseNetworkSpec,
  minimumInputSizeOf,
  type GenericPerceptualLossConfig,
  type LossLevels,
  type LossDescription,
  type LayerDescription,
} from './loss';
export { parseInitSpec, formatInitScheme, type InitScheme } from './init';
export { formatEngineReport, type LossEngine, type EngineReport, type OnnxRunStats } from './onnx-engine';
export {
  VGG_PRESETS,
  FAMILIES,
  PRESETS,
  DEFAULT_VGG_CHANNELS,
  LOSS_REDUCTIONS,
  type LossReduction,
  type Preset,
  type VggPreset,
  type Family,
  type NetworkSpec,
  type NodeSpec,
} from './spec';
export type { SuppliedConvWeights } from './network';
export type { LayersModelLike, LayerLike } from './import';
export { PRETRAINED_PRESETS, pretrainedNetwork, torchvisionKeys, type StateDict, type StateDictTensor, type TorchKeys } from './pretrained';

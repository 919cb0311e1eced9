export { defaultPSPNetConfig, resolvePSPNetConfig, type PSPNetConfig } from './config';
export {
  buildPSPNet,
  formatPSPNetSummary,
  inferenceModel,
  splitOutputs,
  summarizePSPNet,
  type PSPNetSummary,
} from './pspnet';

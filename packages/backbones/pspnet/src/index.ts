export { defaultPSPNetConfig, resolvePSPNetConfig, type PSPNetConfig } from './config';
export {
  buildPSPNet,
  formatPSPNetSummary,
  inferenceModel,
  summarizePSPNet,
  type PSPNetSummary,
} from './pspnet';

export { defaultDeepLabV3PlusConfig, resolveDeepLabV3PlusConfig, type DeepLabV3PlusConfig } from './config';
export {
  asppRatesFor,
  buildDeepLabV3Plus,
  formatDeepLabV3PlusSummary,
  summarizeDeepLabV3Plus,
  type DeepLabV3PlusSummary,
} from './deeplabv3plus';

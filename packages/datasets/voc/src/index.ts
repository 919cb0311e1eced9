export { vocDataset } from './descriptor';
export {
  openVoc,
  resolveVocRoot,
  defaultVocConfig,
  vocAugment,
  vocMiniAugment,
  VOC_CLASSES,
  VOC_PALETTE,
  VOC_IGNORE_INDEX,
  type VocConfig,
  type VocDataset,
  type VocEntry,
} from './voc';

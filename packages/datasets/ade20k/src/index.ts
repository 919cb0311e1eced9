export { ade20kDataset } from './descriptor';
export {
  openAde20k,
  resolveAde20kRoot,
  defaultAde20kConfig,
  ade20kAugment,
  ade20kMiniAugment,
  ADE20K_IGNORE_INDEX,
  ADE20K_REDUCE_ZERO_LABEL,
  type Ade20kConfig,
  type Ade20kDataset,
  type Ade20kEntry,
} from './ade20k';
export { ADE20K_CLASSES, ADE20K_PALETTE } from './classes';

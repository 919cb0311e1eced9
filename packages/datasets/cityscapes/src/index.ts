export { cityscapesDataset } from './descriptor';
export {
  openCityscapes,
  defaultCityscapesConfig,
  cityscapesAugment,
  cityscapesMiniAugment,
  type CityscapesConfig,
  type CityscapesDataset,
  type CityscapesEntry,
} from './cityscapes';
export {
  CITYSCAPES_CLASSES,
  CITYSCAPES_PALETTE,
  CITYSCAPES_LABEL_ID_TO_TRAIN_ID,
  CITYSCAPES_TRAIN_ID_TO_LABEL_ID,
  CITYSCAPES_IGNORE_INDEX,
} from './labels';

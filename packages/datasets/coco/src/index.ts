export {
  encodeMask,
  decodeRle,
  checkRle,
  compressRle,
  decompressRle,
  countsToString,
  countsFromString,
  rleArea,
  rleToBbox,
  mergeRles,
  maskIou,
  boxIou,
  type Rle,
  type CompressedRle,
  type BboxXywh,
} from './rle';
export { polygonToRle, polygonsToRle, bboxToRle, polygonArea } from './polygon';
export { COCO_CATEGORIES, COCO_UNUSED_IDS, CategoryMap, categoryColour, type CocoCategory } from './categories';
export {
  parseInstancesJson,
  validateInstances,
  type CocoImage,
  type CocoAnnotation,
  type CocoSegmentation,
  type CocoInstancesJson,
  type InstancesProblem,
  type ValidatedInstances,
  type ValidateInstancesOptions,
} from './instances';
export { CocoDataset, openCoco, annotationToRle, defaultCocoConfig, type CocoConfig } from './coco-dataset';

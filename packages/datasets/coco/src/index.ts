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
export {
  cocoEvaluate,
  COCO_EVAL_PARAMS,
  COCO_STATS,
  type IouType,
  type AreaLabel,
  type CocoEvalParams,
  type CocoEvalResult,
  type CocoEvaluateOptions,
  type CategoryAp,
  type StatSpec,
} from './eval/cocoeval';
export {
  parseEvalGroundTruth,
  readEvalGroundTruth,
  toEvalGroundTruth,
  type EvalGroundTruth,
  type EvalImage,
  type EvalCategory,
  type EvalGtAnnotation,
} from './eval/ground-truth';
export { bboxIouMatrix, rleIouMatrix, cocoRleBbox, cocoRleArea, segmentationToRle, SegmentationError } from './eval/iou';
export { linspace, numpyMean, numpySum, SPACING_ONE } from './eval/numpy';
export { summaryLines, summaryLine, perCategoryTable, statsJson, formatFixed3, STAT_NAMES } from './eval/summary';
export {
  toCocoResult,
  writeCocoResults,
  readCocoResults,
  parseCocoResults,
  toEvalDetections,
  type CocoResult,
  type DetectionInput,
  type EvalDetection,
  type LoadedResults,
} from './results';
export {
  resizeShortestEdge,
  shortestEdgeSize,
  instanceTrainTransform,
  instanceTestTransform,
  cocoInstanceRecipe,
  cocoMiniInstanceRecipe,
  type InstanceRecipe,
  type ResizeShortestEdgeOptions,
} from './augment';
export { cocoDataset, cocoSplitName } from './descriptor';

export {
  type Rgb,
  type BoxXYXY,
  type ImageRaster,
  type LabelMap,
  type DepthMap,
  type SoftLabels,
  type Instance,
  type SampleKind,
  type SampleBase,
  type SegmentationSample,
  type DepthSample,
  type InstanceSample,
  type Sample,
  type DataErrorCode,
  type SkippedSample,
  type Dataset,
  type RandomSource,
  type Transform,
  type Batch,
} from './types';
// The workspace's one atomic write (@gpl/core), re-exported for the data writers built on it.
export { writeFileAtomic } from '@gpl/core';
export { DataError, isDataError, throwOrSkip, type DataErrorDetails } from './errors';
export { createRng, deriveSeed, randomInt, shuffledIndices, type SeededRng } from './rng';
export { decodePng, encodePng, readPngHeader, isPng, type DecodedPng, type PngHeader, type PngImage } from './png';
export {
  readImage,
  readLabelPng,
  readUint16Png,
  readGrey8Png,
  readImageSize,
  readFileChecked,
  readIndexFile,
  readJsonFile,
  listDir,
  checkLayout,
  peekLabelPng,
  peekImageSize,
  checkSameSize,
  checkLabelRange,
  labelLut,
  mapLabels,
  resolveInside,
  displayPath,
  type ReadContext,
  type IndexLine,
  type Uint16Raster,
} from './io';
export { warpSample, warpBox, type Warp, type AxisMap, type PadValues } from './geometry';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  randomScale,
  randomCrop,
  randomFlip,
  flipSample,
  normalize,
  normalizeImage,
  resize,
  padToMultiple,
  photometricDistortion,
  compose,
  keepRatioFactor,
  trainTransform,
  evalTransform,
  type RandomScaleOptions,
  type RandomCropOptions,
  type NormalizeOptions,
  type ResizeOptions,
  type PadOptions,
  type PhotometricOptions,
  type AugmentConfig,
} from './transforms';
export {
  createDataset,
  IndexedDataset,
  subsetDataset,
  shardDataset,
  shardIndices,
  epochOrder,
  type DatasetSpec,
} from './dataset';
export { DataLoader, collate, collateHost, toBatch, disposeBatch, type DataLoaderOptions, type HostBatch } from './loader';
export {
  encodeSoftLabels,
  decodeSoftLabels,
  readSoftLabels,
  writeSoftLabels,
  softLabelPath,
  withSoftLabels,
  softLabelHeader,
  softLabelStride,
  SOFT_LABEL_EXT,
} from './soft-labels';
export { paletteMismatch, vocColormap, type ExpectedPalette } from './palette';
export {
  openCustomFolder,
  readCustomClasses,
  defaultCustomFolderConfig,
  type CustomFolderConfig,
  type CustomClasses,
} from './custom';
export {
  MANIFEST_FORMAT,
  checkSoftLabelManifest,
  verifyManifest,
  specDifferences,
  sha256,
  writeJsonAtomic,
  type ExpectedSoftLabels,
  type GenerationSpec,
  type SoftLabelManifest,
  type SoftLabelFileEntry,
} from './manifest';
export {
  augmentFor,
  recipeFor,
  isMiniRoot,
  sameSplitNames,
  workspaceDataset,
  customSegmentationDataset,
  type DatasetDescriptor,
} from './descriptor';

export {
  NYU_INTRINSICS,
  EIGEN_CROP,
  scaleIntrinsics,
  eigenCrop,
  eigenCropMask,
  type CameraIntrinsics,
  type CropBox,
} from './camera';
export { parseNyuIndex, type NyuIndexRow } from './csv-index';
export { readNyuDepth, depthFromPng, encodeDepthPng, type NyuDepthEncoding } from './depth';
export { NyuDepthV2Dataset, openNyuDepthV2, defaultNyuDepthV2Config, type NyuDepthV2Config, type NyuSplit } from './nyu-dataset';
export { nyuVnlRecipe, nyuMiniRecipe, recipeWithCrop, drawWindow, vnlCropScale, depthTrainTransform, type DepthRecipe } from './augment';
export { nyuDepthV2Dataset } from './descriptor';

/**
 * Cityscapes label tables (REFERENCE §1, from cityscapesScripts `helpers/labels.py`).
 */
import { labelLut, type Rgb } from '@gpl/data';

/** The 19 evaluated classes, in train-id order. */
export const CITYSCAPES_CLASSES: readonly string[] = Object.freeze([
  'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign', 'vegetation', 'terrain',
  'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle',
]);

/** Display colours per train id. */
export const CITYSCAPES_PALETTE: readonly Rgb[] = Object.freeze([
  [128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153], [153, 153, 153], [250, 170, 30],
  [220, 220, 0], [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142],
  [0, 0, 70], [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32],
] as Rgb[]);

/** labelId (0..33) → trainId (0..18, 255 = ignore), REFERENCE §1. */
export const CITYSCAPES_LABEL_ID_TO_TRAIN_ID: readonly number[] = Object.freeze([
  255, 255, 255, 255, 255, 255, 255, 0, 1, 255, 255, 2, 3, 4, 255, 255, 255, 5, 255, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  255, 255, 16, 17, 18,
]);

/** The label id of each train id (inverse of the table above). */
export const CITYSCAPES_TRAIN_ID_TO_LABEL_ID: readonly number[] = Object.freeze(
  CITYSCAPES_CLASSES.map((_, t) => CITYSCAPES_LABEL_ID_TO_TRAIN_ID.indexOf(t)),
);

/** Cityscapes ignore value. */
export const CITYSCAPES_IGNORE_INDEX = 255;

/** Raw `_labelIds.png` value → train id; 255 passes through as ignore, anything above 33 is invalid. */
export const LABEL_IDS_LUT: Int16Array = labelLut([
  ...CITYSCAPES_LABEL_ID_TO_TRAIN_ID.map((t, id) => [id, t] as const),
  [255, 255] as const,
]);

/** Raw `_labelTrainIds.png` value → train id (identity on 0..18 and 255). */
export const LABEL_TRAIN_IDS_LUT: Int16Array = labelLut([
  ...CITYSCAPES_CLASSES.map((_, t) => [t, t] as const),
  [255, 255] as const,
]);

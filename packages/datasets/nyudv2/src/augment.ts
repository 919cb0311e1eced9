/**
 * VNL's NYUDv2 training augmentation (VNL `data/nyudv2_dataset.py`; REFERENCE.md §5): a random
 * horizontal flip, then a square window of side s drawn from a list (385, 416, …, 640 on 640×480
 * frames), taken at a random column (and row, when s fits the height; a taller window pads the
 * top with invalid rows as VNL does), resized to the training crop (385²). Depth is multiplied by
 * s / crop: resizing by crop / s changes the focal length in pixels by that factor, so scaling
 * depth by its inverse keeps back-projection with the camera's native focal length exact
 * (x = (u − u0)·d / f is unchanged) — the invariance VNL's virtual normal loss relies on.
 *
 * Deviations from VNL: depth is resampled nearest-neighbour (VNL's bilinear resize blends the −1
 * padding and the 0 "no return" into neighbouring depths), and padding is invalid depth 0 and
 * image value 0 after normalisation (VNL pads the image with 128 before normalising).
 */
import { IMAGENET_MEAN, IMAGENET_STD, compose, normalize, randomFlip, randomInt, warpSample, type RandomSource, type Sample, type Transform } from '@gpl/data';

/** The depth training recipe (the `A` of this package's `DatasetDescriptor`). */
export interface DepthRecipe {
  /** Side of the square training crop the windows are resized to (VNL: 385). */
  readonly cropSize: number;
  /** Sides of the square windows, in image pixels, drawn uniformly (VNL: 385, 416, …, 640). */
  readonly windowSides: readonly number[];
  /** Probability of a horizontal flip (VNL: 0.5). */
  readonly flipProb: number;
  /** Image normalisation on the 0..255 scale (VNL: ImageNet mean/std, RGB). */
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** VNL's recipe for 640×480 NYUDv2 frames. */
export const nyuVnlRecipe: DepthRecipe = Object.freeze({
  cropSize: 385,
  windowSides: Object.freeze([385, 416, 448, 480, 512, 544, 576, 608, 640]),
  flipProb: 0.5,
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
});

/**
 * The same recipe at nyudv2-mini's 160×120 (NYU ÷ 4): windows 96…160 in 9 steps resized to 96²
 * (385/4 rounded to a multiple of 32, which the encoder needs), the same window/crop ratios 1–1.67.
 */
export const nyuMiniRecipe: DepthRecipe = Object.freeze({
  cropSize: 96,
  windowSides: Object.freeze([96, 104, 112, 120, 128, 136, 144, 152, 160]),
  flipProb: 0.5,
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
});

/** A recipe for another crop size: window sides scaled by crop / recipe.cropSize (rounded). */
export function recipeWithCrop(recipe: DepthRecipe, cropSize: number): DepthRecipe {
  if (!Number.isInteger(cropSize) || cropSize <= 0) throw new RangeError(`[@gpl/nyudv2] recipeWithCrop: cropSize must be a positive integer, received ${cropSize}.`);
  if (cropSize === recipe.cropSize) return recipe;
  const f = cropSize / recipe.cropSize;
  return Object.freeze({ ...recipe, cropSize, windowSides: Object.freeze(recipe.windowSides.map((s) => Math.max(1, Math.round(s * f)))) });
}

function checkRecipe(r: DepthRecipe): void {
  if (!Number.isInteger(r.cropSize) || r.cropSize <= 0) throw new RangeError(`[@gpl/nyudv2] depth recipe: cropSize must be a positive integer, received ${r.cropSize}.`);
  if (!r.windowSides.length || r.windowSides.some((s) => !Number.isInteger(s) || s <= 0)) {
    throw new RangeError(`[@gpl/nyudv2] depth recipe: windowSides must be positive integers, received [${r.windowSides.join(', ')}].`);
  }
  if (!(r.flipProb >= 0 && r.flipProb <= 1)) throw new RangeError(`[@gpl/nyudv2] depth recipe: flipProb must be in [0, 1], received ${r.flipProb}.`);
}

/**
 * Where a window of side `side` lies in an image of `height`×`width` (top-left corner, possibly
 * above the image when the window is taller than it), drawn as VNL draws it.
 */
export function drawWindow(height: number, width: number, side: number, rng: RandomSource): { top: number; left: number } {
  const left = randomInt(rng, Math.max(width - side, 0) + 1);
  // Taller than the image: VNL pads the top by side − height and starts at the padded top.
  const top = side > height ? height - side : randomInt(rng, height - side + 1);
  return { top, left };
}

/**
 * The crop-and-scale step: a window drawn from `recipe.windowSides`, resized to `cropSize`²,
 * depth × side / cropSize. Draws two or three numbers (side, column, row).
 */
export function vnlCropScale(recipe: DepthRecipe): Transform {
  checkRecipe(recipe);
  const c = recipe.cropSize;
  return {
    name: `vnl-crop-scale(${recipe.windowSides[0]}-${recipe.windowSides[recipe.windowSides.length - 1]}→${c})`,
    apply<S extends Sample>(sample: S, rng: RandomSource): S {
      const side = recipe.windowSides[randomInt(rng, recipe.windowSides.length)];
      const { top, left } = drawWindow(sample.image.height, sample.image.width, side, rng);
      const f = side / c;
      const out = warpSample(sample, { height: c, width: c, y: { scale: f, offset: top }, x: { scale: f, offset: left } }, { image: 0, label: 255 });
      if (out.kind !== 'depth') return out;
      const depth = out.depth.data;
      const scaled = new Float32Array(depth.length);
      for (let i = 0; i < depth.length; i++) scaled[i] = depth[i] * f;
      return { ...out, depth: { ...out.depth, data: scaled } };
    },
  };
}

/** The whole training transform: normalise, flip, crop-and-scale (VNL's order: flip before the window). */
export function depthTrainTransform(recipe: DepthRecipe): Transform {
  return compose([normalize({ mean: recipe.mean, std: recipe.std }), randomFlip({ prob: recipe.flipProb }), vnlCropScale(recipe)]);
}

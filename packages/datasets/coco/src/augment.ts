/**
 * detectron2's instance-segmentation input recipe as `@gpl/data` transforms:
 * `ResizeShortestEdge` (`detectron2/data/transforms/augmentation_impl.py`, `get_output_shape`)
 * followed by a horizontal `RandomFlip`, as `DatasetMapper` applies them in training; the test
 * resize alone for evaluation. Both go through `warpSample`, so instance masks (nearest) and boxes
 * move with the image.
 */
import { compose, randomFlip, randomInt, warpSample, type RandomSource, type Sample, type Transform } from '@gpl/data';

/** The instance-segmentation training recipe (detectron2 `INPUT.*`). */
export interface InstanceRecipe {
  /** Shortest-edge lengths, one picked at random per image (`MIN_SIZE_TRAIN`, sampling 'choice'). */
  readonly minSizes: readonly number[];
  /** Longest edge cap in training (`MAX_SIZE_TRAIN`). */
  readonly maxSize: number;
  /** Shortest edge at test time (`MIN_SIZE_TEST`). */
  readonly testMinSize: number;
  /** Longest edge cap at test time (`MAX_SIZE_TEST`). */
  readonly testMaxSize: number;
  /** Horizontal flip probability (`RANDOM_FLIP: horizontal`, 0.5). */
  readonly flipProb: number;
}

/** CondInst's COCO recipe (ADL `Base-CondInst.yaml` over detectron2 defaults): 640…800 step 32, max 1333; test 800/1333. */
export const cocoInstanceRecipe: InstanceRecipe = Object.freeze({
  minSizes: Object.freeze([640, 672, 704, 736, 768, 800]),
  maxSize: 1333,
  testMinSize: 800,
  testMaxSize: 1333,
  flipProb: 0.5,
});

/**
 * The same recipe for coco-mini's 256×192 images, scaled by 192/800 = 0.24 so the test size is
 * the images' own: shortest edge 152…192 step 8 (32·0.24 ≈ 8), max 320 (1333·0.24); test 192/320.
 */
export const cocoMiniInstanceRecipe: InstanceRecipe = Object.freeze({
  ...cocoInstanceRecipe,
  minSizes: Object.freeze([152, 160, 168, 176, 184, 192]),
  maxSize: 320,
  testMinSize: 192,
  testMaxSize: 320,
});

/**
 * `ResizeShortestEdge.get_output_shape`: scale the shortest edge to `shortEdge`, shrink so the longest
 * is ≤ `maxSize`, round each side with `int(x + 0.5)`. Returns [height, width].
 */
export function shortestEdgeSize(height: number, width: number, shortEdge: number, maxSize: number): [number, number] {
  const scale = shortEdge / Math.min(height, width);
  let newH = height < width ? shortEdge : scale * height;
  let newW = height < width ? scale * width : shortEdge;
  if (Math.max(newH, newW) > maxSize) {
    const shrink = maxSize / Math.max(newH, newW);
    newH *= shrink;
    newW *= shrink;
  }
  return [Math.trunc(newH + 0.5), Math.trunc(newW + 0.5)];
}

/** Options of {@link resizeShortestEdge}. */
export interface ResizeShortestEdgeOptions {
  /** Shortest-edge lengths to choose from (one: a fixed size). */
  readonly sizes: readonly number[];
  /** Longest edge cap. */
  readonly maxSize: number;
}

/** detectron2's `ResizeShortestEdge` with `sample_style='choice'` (bilinear image, nearest masks, boxes scaled). */
export function resizeShortestEdge(opts: ResizeShortestEdgeOptions): Transform {
  const { sizes, maxSize } = opts;
  if (!Array.isArray(sizes) || sizes.length === 0 || !sizes.every((s) => Number.isInteger(s) && s > 0)) {
    throw new RangeError(`[@gpl/coco] resizeShortestEdge: sizes must be a non-empty list of positive integers, received ${JSON.stringify(sizes)}.`);
  }
  if (!(maxSize > 0)) throw new RangeError(`[@gpl/coco] resizeShortestEdge: maxSize must be > 0, received ${maxSize}.`);
  return {
    name: `resize-shortest-edge(${sizes.join('|')}, max ${maxSize})`,
    apply<S extends Sample>(sample: S, rng: RandomSource): S {
      const short = sizes.length === 1 ? sizes[0] : sizes[randomInt(rng, sizes.length)];
      const { height: h, width: w } = sample.image;
      const [oh, ow] = shortestEdgeSize(h, w, short, maxSize);
      if (oh === h && ow === w) return sample;
      // detectron2's ResizeTransform maps pixel centres: in = (out + 0.5)·h/oh − 0.5.
      return warpSample(sample, { height: oh, width: ow, y: { scale: h / oh, offset: 0 }, x: { scale: w / ow, offset: 0 } }, { image: 0, label: 255 });
    },
  };
}

/** Training input transform: shortest-edge resize (random size) then horizontal flip. */
export function instanceTrainTransform(recipe: InstanceRecipe): Transform {
  return compose([resizeShortestEdge({ sizes: recipe.minSizes, maxSize: recipe.maxSize }), randomFlip({ prob: recipe.flipProb })]);
}

/** Test input transform: the fixed test resize. */
export function instanceTestTransform(recipe: InstanceRecipe): Transform {
  return resizeShortestEdge({ sizes: [recipe.testMinSize], maxSize: recipe.testMaxSize });
}

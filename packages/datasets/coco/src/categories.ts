/**
 * COCO's 80 thing categories and the id ↔ contiguous index map.
 *
 * COCO category ids run 1..90 with ten gaps (REFERENCE.md §8; detectron2 `builtin_meta.py`);
 * networks want 0..K−1, so every loader maps ids to indices in increasing id order.
 */

/** One category as listed in an instances JSON file. */
export interface CocoCategory {
  readonly id: number;
  readonly name: string;
  readonly supercategory: string;
}

/** The ten ids in 1..90 that COCO 2014/2017 never use. */
export const COCO_UNUSED_IDS: readonly number[] = Object.freeze([12, 26, 29, 30, 45, 66, 68, 69, 71, 83]);

// id, name, supercategory, display colour (the COCO panoptic colours, as in detectron2's builtin_meta)
const TABLE: readonly (readonly [number, string, string, readonly [number, number, number]])[] = [
  [1, 'person', 'person', [220, 20, 60]],
  [2, 'bicycle', 'vehicle', [119, 11, 32]],
  [3, 'car', 'vehicle', [0, 0, 142]],
  [4, 'motorcycle', 'vehicle', [0, 0, 230]],
  [5, 'airplane', 'vehicle', [106, 0, 228]],
  [6, 'bus', 'vehicle', [0, 60, 100]],
  [7, 'train', 'vehicle', [0, 80, 100]],
  [8, 'truck', 'vehicle', [0, 0, 70]],
  [9, 'boat', 'vehicle', [0, 0, 192]],
  [10, 'traffic light', 'outdoor', [250, 170, 30]],
  [11, 'fire hydrant', 'outdoor', [100, 170, 30]],
  [13, 'stop sign', 'outdoor', [220, 220, 0]],
  [14, 'parking meter', 'outdoor', [175, 116, 175]],
  [15, 'bench', 'outdoor', [250, 0, 30]],
  [16, 'bird', 'animal', [165, 42, 42]],
  [17, 'cat', 'animal', [255, 77, 255]],
  [18, 'dog', 'animal', [0, 226, 252]],
  [19, 'horse', 'animal', [182, 182, 255]],
  [20, 'sheep', 'animal', [0, 82, 0]],
  [21, 'cow', 'animal', [120, 166, 157]],
  [22, 'elephant', 'animal', [110, 76, 0]],
  [23, 'bear', 'animal', [174, 57, 255]],
  [24, 'zebra', 'animal', [199, 100, 0]],
  [25, 'giraffe', 'animal', [72, 0, 118]],
  [27, 'backpack', 'accessory', [255, 179, 240]],
  [28, 'umbrella', 'accessory', [0, 125, 92]],
  [31, 'handbag', 'accessory', [209, 0, 151]],
  [32, 'tie', 'accessory', [188, 208, 182]],
  [33, 'suitcase', 'accessory', [0, 220, 176]],
  [34, 'frisbee', 'sports', [255, 99, 164]],
  [35, 'skis', 'sports', [92, 0, 73]],
  [36, 'snowboard', 'sports', [133, 129, 255]],
  [37, 'sports ball', 'sports', [78, 180, 255]],
  [38, 'kite', 'sports', [0, 228, 0]],
  [39, 'baseball bat', 'sports', [174, 255, 243]],
  [40, 'baseball glove', 'sports', [45, 89, 255]],
  [41, 'skateboard', 'sports', [134, 134, 103]],
  [42, 'surfboard', 'sports', [145, 148, 174]],
  [43, 'tennis racket', 'sports', [255, 208, 186]],
  [44, 'bottle', 'kitchen', [197, 226, 255]],
  [46, 'wine glass', 'kitchen', [171, 134, 1]],
  [47, 'cup', 'kitchen', [109, 63, 54]],
  [48, 'fork', 'kitchen', [207, 138, 255]],
  [49, 'knife', 'kitchen', [151, 0, 95]],
  [50, 'spoon', 'kitchen', [9, 80, 61]],
  [51, 'bowl', 'kitchen', [84, 105, 51]],
  [52, 'banana', 'food', [74, 65, 105]],
  [53, 'apple', 'food', [166, 196, 102]],
  [54, 'sandwich', 'food', [208, 195, 210]],
  [55, 'orange', 'food', [255, 109, 65]],
  [56, 'broccoli', 'food', [0, 143, 149]],
  [57, 'carrot', 'food', [179, 0, 194]],
  [58, 'hot dog', 'food', [209, 99, 106]],
  [59, 'pizza', 'food', [5, 121, 0]],
  [60, 'donut', 'food', [227, 255, 205]],
  [61, 'cake', 'food', [147, 186, 208]],
  [62, 'chair', 'furniture', [153, 69, 1]],
  [63, 'couch', 'furniture', [3, 95, 161]],
  [64, 'potted plant', 'furniture', [163, 255, 0]],
  [65, 'bed', 'furniture', [119, 0, 170]],
  [67, 'dining table', 'furniture', [0, 182, 199]],
  [70, 'toilet', 'furniture', [0, 165, 120]],
  [72, 'tv', 'electronic', [183, 130, 88]],
  [73, 'laptop', 'electronic', [95, 32, 0]],
  [74, 'mouse', 'electronic', [130, 114, 135]],
  [75, 'remote', 'electronic', [110, 129, 133]],
  [76, 'keyboard', 'electronic', [166, 74, 118]],
  [77, 'cell phone', 'electronic', [219, 142, 185]],
  [78, 'microwave', 'appliance', [79, 210, 114]],
  [79, 'oven', 'appliance', [178, 90, 62]],
  [80, 'toaster', 'appliance', [65, 70, 15]],
  [81, 'sink', 'appliance', [127, 167, 115]],
  [82, 'refrigerator', 'appliance', [59, 105, 106]],
  [84, 'book', 'indoor', [142, 108, 45]],
  [85, 'clock', 'indoor', [196, 172, 0]],
  [86, 'vase', 'indoor', [95, 54, 80]],
  [87, 'scissors', 'indoor', [128, 76, 255]],
  [88, 'teddy bear', 'indoor', [201, 57, 1]],
  [89, 'hair drier', 'indoor', [246, 0, 122]],
  [90, 'toothbrush', 'indoor', [191, 162, 208]],
];

/** The 80 COCO 2017 categories in id order (so index i of this list is contiguous index i). */
export const COCO_CATEGORIES: readonly CocoCategory[] = Object.freeze(
  TABLE.map(([id, name, supercategory]) => Object.freeze({ id, name, supercategory })),
);

const COLOURS: ReadonlyMap<number, readonly [number, number, number]> = new Map(TABLE.map(([id, , , c]) => [id, c]));

/**
 * Display colour of a category: COCO's own for its 80 ids, otherwise a deterministic colour
 * from the id (so files with custom categories still draw distinctly).
 */
export function categoryColour(id: number): readonly [number, number, number] {
  const known = COLOURS.get(id);
  if (known) return known;
  let h = Math.imul(id ^ 0x5bd1e995, 0x2c1b3c6d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x297a2d39) >>> 0;
  return [h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff];
}

/**
 * A bijection between a file's category ids and contiguous indices 0..K−1, in increasing id
 * order (detectron2's `thing_dataset_id_to_contiguous_id`). For real COCO, K = 80 and index 0 is
 * person (id 1), index 79 toothbrush (id 90).
 */
export class CategoryMap {
  /** Categories in index order. */
  readonly categories: readonly CocoCategory[];
  private readonly byId: ReadonlyMap<number, number>;

  constructor(categories: readonly CocoCategory[]) {
    const sorted = [...categories].sort((a, b) => a.id - b.id);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].id === sorted[i - 1].id) {
        throw new RangeError(`[@gpl/coco] CategoryMap: category id ${sorted[i].id} is listed twice; ids must be unique.`);
      }
    }
    this.categories = Object.freeze(sorted.map((c) => Object.freeze({ ...c })));
    this.byId = new Map(sorted.map((c, i) => [c.id, i]));
  }

  /** K, the number of classes. */
  get size(): number {
    return this.categories.length;
  }

  /** Category names in index order. */
  get names(): string[] {
    return this.categories.map((c) => c.name);
  }

  /** Contiguous index of a category id, or undefined for an unknown id. */
  indexOf(id: number): number | undefined {
    return this.byId.get(id);
  }

  /** Category id of a contiguous index (RangeError outside 0..K−1). */
  idOf(index: number): number {
    const c = this.categories[index];
    if (!Number.isInteger(index) || c === undefined) {
      throw new RangeError(`[@gpl/coco] CategoryMap.idOf: index must be an integer in 0..${this.size - 1}, received ${index}.`);
    }
    return c.id;
  }

  /** The 80-class map of real COCO. */
  static coco(): CategoryMap {
    return new CategoryMap(COCO_CATEGORIES);
  }
}

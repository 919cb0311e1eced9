/**
 * FCOS training targets (AdelaiDet `FCOSOutputs._get_ground_truth` / `compute_targets_for_locations`,
 * REFERENCE.md §7), computed on the CPU from an image's instances:
 *
 * - locations: on a level of stride s, feature cell (i, j) sits at image pixel (j·s + ⌊s/2⌋, i·s + ⌊s/2⌋);
 * - a location is inside an instance when it lies inside the box shrunk to a square of half-side
 *   `radius`·s around the mask's centre of mass (the box centre without a mask), clipped to the
 *   box — FCOS's centre sampling, with CondInst's centre of mass;
 * - it is cared for on its level when max(l, t, r, b) lies in the level's size range (inclusive);
 * - among the instances that pass both, the one with the smallest box area wins (ties: the first);
 * - regression targets (l, t, r, b) are divided by the stride (`NORM_REG_TARGETS`); centre-ness is
 *   √(min(l,r)/max(l,r) · min(t,b)/max(t,b)).
 *
 * Crowd instances are not training targets (detectron2's mapper drops `iscrowd` annotations).
 * One deliberate difference: AdelaiDet returns no positives at all when the first location's
 * centres sum to 0 (`center_x[..., 0].sum() == 0`, a guard for "no instance" that also fires for
 * instances whose centre of mass is x = 0); here only an image without instances has none.
 */
import type { BoxXYXY } from '@gpl/data';

/** Strides of P3–P7. */
export const FCOS_STRIDES: readonly number[] = Object.freeze([8, 16, 32, 64, 128]);
/** `MODEL.FCOS.SIZES_OF_INTEREST`: the boundaries between the levels' size ranges. */
export const FCOS_SIZES_OF_INTEREST: readonly number[] = Object.freeze([64, 128, 256, 512]);

/** One FPN level as the targets see it. */
export interface FcosLevel {
  readonly stride: number;
  /** Feature map rows and columns. */
  readonly height: number;
  readonly width: number;
  /** Inclusive range of max(l, t, r, b) (pixels) this level is responsible for. */
  readonly sizeRange: readonly [number, number];
}

/**
 * The levels for an input of `height`×`width` pixels: feature sizes ⌈side / stride⌉ (what stride-2
 * 'same' convolutions give), size ranges [−1, 64], [64, 128], …, [512, ∞).
 */
export function fcosLevels(height: number, width: number, strides: readonly number[] = FCOS_STRIDES, sizes: readonly number[] = FCOS_SIZES_OF_INTEREST): FcosLevel[] {
  if (sizes.length !== strides.length - 1) {
    throw new RangeError(`[@gpl/condinst] fcosLevels: ${strides.length} strides need ${strides.length - 1} sizes of interest, received ${sizes.length}.`);
  }
  const bounds = [-1, ...sizes, Infinity];
  return strides.map((stride, l) => ({
    stride,
    height: Math.ceil(height / stride),
    width: Math.ceil(width / stride),
    sizeRange: [bounds[l], bounds[l + 1]] as const,
  }));
}

/** Number of locations over all levels. */
export function locationCount(levels: readonly FcosLevel[]): number {
  return levels.reduce((n, l) => n + l.height * l.width, 0);
}

/** Pixel coordinates of every location, level after level, row-major: [x0, y0, x1, y1, …]. */
export function fcosLocations(levels: readonly FcosLevel[]): Float32Array {
  const out = new Float32Array(2 * locationCount(levels));
  let k = 0;
  for (const { stride, height, width } of levels) {
    const half = Math.floor(stride / 2);
    for (let i = 0; i < height; i++) {
      for (let j = 0; j < width; j++) {
        out[k++] = j * stride + half;
        out[k++] = i * stride + half;
      }
    }
  }
  return out;
}

/** An instance as the targets need it. */
export interface TargetInstance {
  readonly box: BoxXYXY;
  readonly classIndex: number;
  /** Row-major mask of `maskHeight`×`maskWidth` pixels (the image's), for the centre of mass. */
  readonly mask?: Uint8Array;
  readonly crowd?: boolean;
}

/** Per-location targets of one image, over all levels (`fcosLocations` order). */
export interface FcosTargets {
  /** Class index of the assigned instance, `numClasses` for background. */
  readonly labels: Int32Array;
  /** Index of the assigned instance in the image's (non-crowd) instance list, −1 for background. */
  readonly instance: Int32Array;
  /** (l, t, r, b) / stride per location (zeros for background). */
  readonly regression: Float32Array;
  /** Centre-ness target per location (0 for background). */
  readonly centerness: Float32Array;
  /** Level index per location. */
  readonly level: Int32Array;
  /** The non-crowd instances targets refer to, in order. */
  readonly instances: readonly TargetInstance[];
}

/** Options of {@link assignFcosTargets}. */
export interface FcosTargetOptions {
  readonly numClasses: number;
  /** Centre-sampling radius in strides (`POS_RADIUS`, 1.5); 0 turns centre sampling off (whole box). */
  readonly radius?: number;
  /** Size of the masks (the image's), required when instances carry masks. */
  readonly maskSize?: { readonly height: number; readonly width: number };
}

/** Mask centre of mass in pixel-index coordinates (x = column, y = row), as AdelaiDet's `get_sample_region`. */
export function centerOfMass(mask: Uint8Array, height: number, width: number): [number, number] {
  let m00 = 0;
  let m10 = 0;
  let m01 = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (mask[row + x]) {
        m00++;
        m10 += x;
        m01 += y;
      }
    }
  }
  const d = Math.max(m00, 1e-6);
  return [m10 / d, m01 / d];
}

/** FCOS targets of one image's instances for `levels` (see the file header for the rules). */
export function assignFcosTargets(instances: readonly TargetInstance[], levels: readonly FcosLevel[], o: FcosTargetOptions): FcosTargets {
  const radius = o.radius ?? 1.5;
  const kept = instances.filter((g) => !g.crowd);
  const n = locationCount(levels);
  const labels = new Int32Array(n).fill(o.numClasses);
  const instance = new Int32Array(n).fill(-1);
  const regression = new Float32Array(4 * n);
  const centerness = new Float32Array(n);
  const level = new Int32Array(n);
  const centres = kept.map((g) => {
    if (g.mask) {
      if (!o.maskSize) throw new RangeError('[@gpl/condinst] assignFcosTargets: instances carry masks, so options.maskSize is required.');
      return centerOfMass(g.mask, o.maskSize.height, o.maskSize.width);
    }
    return [(g.box[0] + g.box[2]) / 2, (g.box[1] + g.box[3]) / 2];
  });
  const areas = kept.map((g) => (g.box[2] - g.box[0]) * (g.box[3] - g.box[1]));
  const locations = fcosLocations(levels);
  let k = 0;
  levels.forEach((lv, li) => {
    const [lo, hi] = lv.sizeRange;
    const half = radius * lv.stride;
    for (let cell = 0; cell < lv.height * lv.width; cell++, k++) {
      level[k] = li;
      const x = locations[2 * k];
      const y = locations[2 * k + 1];
      let best = -1;
      let bestArea = Infinity;
      for (let g = 0; g < kept.length; g++) {
        const [x0, y0, x1, y1] = kept[g].box;
        const l = x - x0;
        const t = y - y0;
        const r = x1 - x;
        const b = y1 - y;
        let inside: boolean;
        if (radius > 0) {
          const [cx, cy] = centres[g];
          const sx0 = Math.max(cx - half, x0);
          const sy0 = Math.max(cy - half, y0);
          const sx1 = Math.min(cx + half, x1);
          const sy1 = Math.min(cy + half, y1);
          inside = Math.min(x - sx0, y - sy0, sx1 - x, sy1 - y) > 0;
        } else {
          inside = Math.min(l, t, r, b) > 0;
        }
        if (!inside) continue;
        const m = Math.max(l, t, r, b);
        if (m < lo || m > hi) continue;
        if (areas[g] < bestArea) {
          bestArea = areas[g];
          best = g;
        }
      }
      if (best < 0) continue;
      const [x0, y0, x1, y1] = kept[best].box;
      const l = x - x0;
      const t = y - y0;
      const r = x1 - x;
      const b = y1 - y;
      labels[k] = kept[best].classIndex;
      instance[k] = best;
      regression.set([l / lv.stride, t / lv.stride, r / lv.stride, b / lv.stride], 4 * k);
      centerness[k] = Math.sqrt((Math.min(l, r) / Math.max(l, r)) * (Math.min(t, b) / Math.max(t, b)));
    }
  });
  return { labels, instance, regression, centerness, level, instances: kept };
}

/**
 * The ground-truth mask at the mask head's output stride: `mask[start::stride, start::stride]`
 * with start = ⌊stride/2⌋ (CondInst's `gt_bitmasks` from the padded full-image mask), as 0/1 floats
 * of ⌈H/stride⌉ × ⌈W/stride⌉ (the padded image is a multiple of the stride, so this is H/stride).
 */
export function strideMask(mask: Uint8Array, height: number, width: number, stride: number): Float32Array {
  const start = Math.floor(stride / 2);
  const h = Math.ceil(height / stride);
  const w = Math.ceil(width / stride);
  const out = new Float32Array(h * w);
  for (let i = 0; i < h; i++) {
    const y = start + i * stride;
    if (y >= height) continue;
    for (let j = 0; j < w; j++) {
      const x = start + j * stride;
      if (x < width && mask[y * width + x]) out[i * w + j] = 1;
    }
  }
  return out;
}

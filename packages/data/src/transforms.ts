/**
 * Seeded sample transforms. Geometric ones build a `Warp` and hand it to `warpSample`, so the
 * image, labels, depth, soft labels, instance masks and boxes always move together. Randomness
 * comes only from the `rng` argument (per sample, derived from seed, epoch and index by the loader).
 */
import { warpSample, type Warp } from './geometry';
import { randomInt } from './rng';
import type { ImageRaster, RandomSource, Sample, Transform } from './types';

// A module-local alias: global lookups (Math) are slow inside vm contexts such as Jest's.
const M = Math;

/** ImageNet mean (RGB, 0..255): MMS `(123.675, 116.28, 103.53)`. */
export const IMAGENET_MEAN: readonly [number, number, number] = Object.freeze([123.675, 116.28, 103.53]) as readonly [number, number, number];
/** ImageNet std (RGB, 0..255): MMS `(58.395, 57.12, 57.375)`. */
export const IMAGENET_STD: readonly [number, number, number] = Object.freeze([58.395, 57.12, 57.375]) as readonly [number, number, number];

/** How a run's images are normalised, as recorded with its checkpoints and in its log. */
export interface InputNormalization {
  readonly channels: 'RGB';
  /** The scale mean and std apply to. */
  readonly range: '0-255';
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Which published weights expect these values. */
  readonly convention: string;
}

/**
 * The record of `(x − mean) / std` on RGB 0..255. ImageNet's values are the convention of every
 * weight source `--pretrained` reads: torchvision and timm ResNets (0..1 values × 255) and mmseg /
 * mmdet pytorch-style checkpoints. detectron2's MSRA caffe weights (BGR, std 1) come as .pkl, which
 * the readers refuse.
 */
export function inputNormalization(mean: readonly number[], std: readonly number[]): InputNormalization {
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => M.abs(v - b[i]) < 1e-9);
  const imagenet = same(mean, IMAGENET_MEAN) && same(std, IMAGENET_STD);
  return { channels: 'RGB', range: '0-255', mean: [...mean], std: [...std], convention: imagenet ? 'ImageNet (torchvision, timm, mmseg/mmdet pytorch-style)' : 'dataset-specific' };
}

/** One log line for an `InputNormalization`. */
export function formatInputNormalization(n: InputNormalization): string {
  return `input normalisation: ${n.channels} ${n.range}, mean [${n.mean.join(', ')}], std [${n.std.join(', ')}] — ${n.convention}`;
}

const DEFAULT_IGNORE = 255;

function checkPositiveInt(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`[@gpl/data] ${fn}: ${name} must be a positive integer, received ${v}.`);
}

function checkRange(fn: string, name: string, r: readonly [number, number]): void {
  if (!(r[0] > 0) || !(r[1] >= r[0]) || !Number.isFinite(r[1])) {
    throw new RangeError(`[@gpl/data] ${fn}: ${name} must be [lo, hi] with 0 < lo ≤ hi, received [${r.join(', ')}].`);
  }
}

/** Rescales to `round(H·f) × round(W·f)` (align_corners = false, like cv2/PIL resizing). */
function scaleWarp(h: number, w: number, f: number): Warp {
  const oh = M.max(1, M.round(h * f));
  const ow = M.max(1, M.round(w * f));
  return { height: oh, width: ow, y: { scale: h / oh, offset: 0 }, x: { scale: w / ow, offset: 0 } };
}

/** Scale factor that fits an H×W image into `long × short` keeping its aspect (MMS `keep_ratio`). */
export function keepRatioFactor(h: number, w: number, long: number, short: number): number {
  return M.min(long / M.max(h, w), short / M.min(h, w));
}

/** Options of `randomScale`. */
export interface RandomScaleOptions {
  /** Scale ratio range, sampled uniformly (MMS `ratio_range`, e.g. [0.5, 2.0]). */
  readonly ratioRange: readonly [number, number];
  /**
   * Base size `[long, short]` the image is first fitted into keeping its aspect (MMS
   * `scale=(2048, 512)`); omitted: ratios are relative to the image's own size.
   */
  readonly baseSize?: readonly [number, number];
  /** Label pad value (unused: scaling never pads; kept for symmetry). */
  readonly ignoreIndex?: number;
}

/** Random rescale by a ratio in `ratioRange` (times the keep-ratio fit into `baseSize`, if given). */
export function randomScale(opts: RandomScaleOptions): Transform {
  checkRange('randomScale', 'ratioRange', opts.ratioRange);
  const [lo, hi] = opts.ratioRange;
  const base = opts.baseSize;
  return {
    name: `random-scale(${lo}-${hi}${base ? `@${base[0]}x${base[1]}` : ''})`,
    apply<S extends Sample>(sample: S, rng: RandomSource): S {
      const { height: h, width: w } = sample.image;
      const r = lo + (hi - lo) * rng.next();
      const f = (base ? keepRatioFactor(h, w, base[0], base[1]) : 1) * r;
      return warpSample(sample, scaleWarp(h, w, f), { image: 0, label: opts.ignoreIndex ?? DEFAULT_IGNORE });
    },
  };
}

/** Options of `randomCrop`. */
export interface RandomCropOptions {
  readonly height: number;
  readonly width: number;
  /**
   * Re-draw the crop (up to 10 times) while one class covers more than this fraction of the
   * labelled pixels (MMS `cat_max_ratio`, 0.75 in the Cityscapes/ADE recipes). 1 disables.
   */
  readonly catMaxRatio?: number;
  /** Label value for padding and excluded from `catMaxRatio` counts. Default 255. */
  readonly ignoreIndex?: number;
  /** Image pad value in the image's current units. Default 0 (= 0 after normalisation when `normalize` runs first). */
  readonly imagePad?: number;
}

function cropTooUniform(sample: Sample, y0: number, x0: number, ch: number, cw: number, ratio: number, ignore: number): boolean {
  const label = 'label' in sample ? sample.label : undefined;
  if (!label || label.height !== sample.image.height || label.width !== sample.image.width) return false;
  const counts = new Map<number, number>();
  let total = 0;
  let max = 0;
  for (let y = M.max(0, y0); y < M.min(label.height, y0 + ch); y++) {
    for (let x = M.max(0, x0); x < M.min(label.width, x0 + cw); x++) {
      const v = label.data[y * label.width + x];
      if (v === ignore) continue;
      const c = (counts.get(v) ?? 0) + 1;
      counts.set(v, c);
      total++;
      if (c > max) max = c;
    }
  }
  return !(counts.size > 1 && max / total < ratio);
}

/**
 * Random `height × width` crop. Smaller images are padded at the bottom/right (image `imagePad`,
 * labels `ignoreIndex`, depth invalid 0), so the output size is always exact.
 */
export function randomCrop(opts: RandomCropOptions): Transform {
  checkPositiveInt('randomCrop', 'height', opts.height);
  checkPositiveInt('randomCrop', 'width', opts.width);
  const ratio = opts.catMaxRatio ?? 1;
  if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`[@gpl/data] randomCrop: catMaxRatio must be in (0, 1], received ${ratio}.`);
  const ignore = opts.ignoreIndex ?? DEFAULT_IGNORE;
  const pad = { image: opts.imagePad ?? 0, label: ignore };
  return {
    name: `random-crop(${opts.height}x${opts.width}${ratio < 1 ? `,cat-max-${ratio}` : ''})`,
    apply<S extends Sample>(sample: S, rng: RandomSource): S {
      const { height: h, width: w } = sample.image;
      const ch = opts.height;
      const cw = opts.width;
      let y0 = 0;
      let x0 = 0;
      for (let attempt = 0; attempt < 10; attempt++) {
        y0 = randomInt(rng, M.max(h - ch, 0) + 1);
        x0 = randomInt(rng, M.max(w - cw, 0) + 1);
        if (ratio >= 1 || !cropTooUniform(sample, y0, x0, ch, cw, ratio, ignore)) break;
      }
      return warpSample(sample, { height: ch, width: cw, y: { scale: 1, offset: y0 }, x: { scale: 1, offset: x0 } }, pad);
    },
  };
}

/** Horizontal flip with probability `prob` (default 0.5). Always draws one number. */
export function randomFlip(opts: { readonly prob?: number } = {}): Transform {
  const p = opts.prob ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`[@gpl/data] randomFlip: prob must be in [0, 1], received ${p}.`);
  return {
    name: `random-flip(${p})`,
    apply<S extends Sample>(sample: S, rng: RandomSource): S {
      if (!(rng.next() < p)) return sample;
      return flipSample(sample);
    },
  };
}

/** Mirrors a sample left–right (image, every field, boxes). */
export function flipSample<S extends Sample>(sample: S): S {
  const { height: h, width: w } = sample.image;
  return warpSample(sample, { height: h, width: w, y: { scale: 1, offset: 0 }, x: { scale: -1, offset: w } }, { image: 0, label: DEFAULT_IGNORE });
}

/** Options of `normalize`. */
export interface NormalizeOptions {
  /** Per-channel mean on the 0..255 scale. Default ImageNet. */
  readonly mean?: readonly number[];
  /** Per-channel std on the 0..255 scale. Default ImageNet. */
  readonly std?: readonly number[];
}

/** `(pixel − mean) / std` per channel (0..255 scale in, float out). */
export function normalize(opts: NormalizeOptions = {}): Transform {
  const mean = opts.mean ?? IMAGENET_MEAN;
  const std = opts.std ?? IMAGENET_STD;
  if (mean.length !== std.length || std.some((s) => !(s > 0))) {
    throw new RangeError(`[@gpl/data] normalize: mean and std need one entry per channel and std > 0, received mean [${mean.join(', ')}], std [${std.join(', ')}].`);
  }
  return {
    name: 'normalize',
    apply<S extends Sample>(sample: S): S {
      return { ...sample, image: normalizeImage(sample.image, mean, std) };
    },
  };
}

/** The normalisation itself, exported for prediction-time use. */
export function normalizeImage(img: ImageRaster, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): ImageRaster {
  const c = img.channels;
  if (mean.length !== c) throw new RangeError(`[@gpl/data] normalize: image has ${c} channels, mean has ${mean.length} entries.`);
  const src = img.data;
  const out = new Float32Array(src.length);
  const inv = std.map((s) => 1 / s);
  for (let i = 0; i < src.length; i += c) for (let k = 0; k < c; k++) out[i + k] = (src[i + k] - mean[k]) * inv[k];
  return { ...img, data: out };
}

/** Options of `resize` (evaluation). */
export interface ResizeOptions {
  /** Exact output size `[height, width]`; or */
  readonly size?: readonly [number, number];
  /** keep-ratio fit into `[long, short]` (MMS test `Resize(scale=(2048, 512), keep_ratio=True)`). */
  readonly keepRatio?: readonly [number, number];
  /**
   * Also resize labels/depth (default false: evaluation scores at the original resolution, so
   * targets stay as they are and predictions are resized back). Soft labels, instance masks and
   * boxes always follow the image.
   */
  readonly resizeTargets?: boolean;
}

/** Deterministic resize for evaluation (draws no random numbers). */
export function resize(opts: ResizeOptions): Transform {
  if (!!opts.size === !!opts.keepRatio) throw new TypeError('[@gpl/data] resize: give exactly one of `size` or `keepRatio`.');
  const dims = (opts.size ?? opts.keepRatio) as readonly [number, number];
  dims.forEach((v, i) => checkPositiveInt('resize', i === 0 ? 'first size' : 'second size', v));
  return {
    name: opts.size ? `resize(${dims[0]}x${dims[1]})` : `resize(keep-ratio ${dims[0]}x${dims[1]})`,
    apply<S extends Sample>(sample: S): S {
      const { height: h, width: w } = sample.image;
      let warp: Warp;
      if (opts.size) {
        warp = { height: dims[0], width: dims[1], y: { scale: h / dims[0], offset: 0 }, x: { scale: w / dims[1], offset: 0 } };
      } else {
        warp = scaleWarp(h, w, keepRatioFactor(h, w, dims[0], dims[1]));
      }
      if (warp.height === h && warp.width === w) return sample;
      if (opts.resizeTargets) return warpSample(sample, warp, { image: 0, label: DEFAULT_IGNORE });
      const moved = warpSample(sample, warp, { image: 0, label: DEFAULT_IGNORE });
      const keep: Record<string, unknown> = { ...moved };
      if ('label' in sample && sample.label) keep.label = sample.label;
      if (sample.kind === 'depth') keep.depth = sample.depth;
      return keep as unknown as S;
    },
  };
}

/** Options of `padToMultiple`. */
export interface PadOptions {
  /** Pad height and width up to a multiple of this (e.g. the network's output stride). */
  readonly multiple: number;
  readonly ignoreIndex?: number;
  readonly imagePad?: number;
}

/** Pads bottom/right so the image size is a multiple of `multiple` (fields follow). */
export function padToMultiple(opts: PadOptions): Transform {
  checkPositiveInt('padToMultiple', 'multiple', opts.multiple);
  const m = opts.multiple;
  return {
    name: `pad-to-multiple(${m})`,
    apply<S extends Sample>(sample: S): S {
      const { height: h, width: w } = sample.image;
      const oh = M.ceil(h / m) * m;
      const ow = M.ceil(w / m) * m;
      if (oh === h && ow === w) return sample;
      return warpSample(sample, { height: oh, width: ow, y: { scale: 1, offset: 0 }, x: { scale: 1, offset: 0 } }, {
        image: opts.imagePad ?? 0,
        label: opts.ignoreIndex ?? DEFAULT_IGNORE,
      });
    },
  };
}

/** Options of `photometricDistortion` (MMS `PhotoMetricDistortion` minus the hue step). */
export interface PhotometricOptions {
  /** Max brightness shift on 0..255 (MMS 32). */
  readonly brightnessDelta?: number;
  /** Contrast factor range (MMS [0.5, 1.5]). */
  readonly contrastRange?: readonly [number, number];
  /** Saturation factor range (MMS [0.5, 1.5]). */
  readonly saturationRange?: readonly [number, number];
}

/**
 * Random brightness, contrast and saturation, each applied with probability 0.5, on a 0..255 image
 * (run it before `normalize`). Output is float, clamped to 0..255. Draws a fixed 6 numbers.
 */
export function photometricDistortion(opts: PhotometricOptions = {}): Transform {
  const delta = opts.brightnessDelta ?? 32;
  const [cl, chi] = opts.contrastRange ?? [0.5, 1.5];
  const [sl, shi] = opts.saturationRange ?? [0.5, 1.5];
  return {
    name: 'photometric-distortion',
    apply<S extends Sample>(sample: S, rng: RandomSource): S {
      const draws = Array.from({ length: 6 }, () => rng.next());
      const shift = draws[0] < 0.5 ? (draws[1] * 2 - 1) * delta : 0;
      const contrast = draws[2] < 0.5 ? cl + (chi - cl) * draws[3] : 1;
      const sat = draws[4] < 0.5 ? sl + (shi - sl) * draws[5] : 1;
      const img = sample.image;
      const src = img.data;
      const out = new Float32Array(src.length);
      const c = img.channels;
      for (let i = 0; i < src.length; i += c) {
        for (let k = 0; k < c; k++) out[i + k] = M.min(255, M.max(0, (src[i + k] + shift) * contrast));
        if (sat !== 1 && c === 3) {
          // Rec. 601 luma, as in cv2's BGR→grey used by the reference.
          const g = 0.299 * out[i] + 0.587 * out[i + 1] + 0.114 * out[i + 2];
          for (let k = 0; k < 3; k++) out[i + k] = M.min(255, M.max(0, g + (out[i + k] - g) * sat));
        }
      }
      return { ...sample, image: { ...img, data: out } };
    },
  };
}

/** Applies transforms in order with the same random stream. */
export function compose(transforms: readonly Transform[]): Transform {
  return {
    name: transforms.map((t) => t.name).join(' → ') || 'identity',
    apply<S extends Sample>(sample: S, rng: RandomSource): S {
      let s = sample;
      for (const t of transforms) s = t.apply(s, rng);
      return s;
    },
  };
}

/** The standard training augmentation (MMS recipe order; normalisation first so padding is 0). */
export interface AugmentConfig {
  /** Crop `[height, width]`. */
  readonly crop: readonly [number, number];
  /** Random scale ratio range. */
  readonly ratioRange: readonly [number, number];
  /** Keep-ratio base size `[long, short]` the ratio multiplies; omitted: the image's own size. */
  readonly baseSize?: readonly [number, number];
  /** MMS `cat_max_ratio` (1 disables). */
  readonly catMaxRatio: number;
  /** Horizontal flip probability. */
  readonly flipProb: number;
  /** Photometric distortion before normalisation. */
  readonly photometric: boolean;
  /** Normalisation mean/std (0..255 scale). */
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * MMSegmentation's segmentation recipe (REFERENCE §9): random scale 0.5–2 of the keep-ratio fit
 * into `baseSize` (omitted: of the image itself, as the mini datasets use it), `crop`, cat_max_ratio
 * 0.75, flip 0.5, photometric distortion, ImageNet normalisation. Each dataset states only its crop
 * and base size.
 */
export function mmsegAugment(crop: readonly [number, number], baseSize?: readonly [number, number]): AugmentConfig {
  return Object.freeze({
    crop: Object.freeze([crop[0], crop[1]]) as readonly [number, number],
    ratioRange: Object.freeze([0.5, 2.0]) as readonly [number, number],
    ...(baseSize ? { baseSize: Object.freeze([baseSize[0], baseSize[1]]) as readonly [number, number] } : {}),
    catMaxRatio: 0.75,
    flipProb: 0.5,
    photometric: true,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
  });
}

/** Builds photometric → normalize → randomScale → randomCrop → randomFlip from an `AugmentConfig`. */
export function trainTransform(cfg: AugmentConfig, ignoreIndex = DEFAULT_IGNORE): Transform {
  return compose([
    ...(cfg.photometric ? [photometricDistortion()] : []),
    normalize({ mean: cfg.mean, std: cfg.std }),
    randomScale({ ratioRange: cfg.ratioRange, ...(cfg.baseSize ? { baseSize: cfg.baseSize } : {}), ignoreIndex }),
    randomCrop({ height: cfg.crop[0], width: cfg.crop[1], catMaxRatio: cfg.catMaxRatio, ignoreIndex }),
    randomFlip({ prob: cfg.flipProb }),
  ]);
}

/** Evaluation: normalize, then (optionally) keep-ratio resize of the image only. */
export function evalTransform(cfg: Pick<AugmentConfig, 'mean' | 'std'> & { readonly keepRatio?: readonly [number, number] }): Transform {
  return compose([normalize({ mean: cfg.mean, std: cfg.std }), ...(cfg.keepRatio ? [resize({ keepRatio: cfg.keepRatio })] : [])]);
}

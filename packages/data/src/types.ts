/**
 * Core data types shared by every GPL dataset loader, transform and task.
 *
 * Samples hold plain typed arrays (row-major, HWC), not tensors: decoding and augmentation run on
 * the CPU while the model trains, and only `collate` turns a batch into NHWC tensors. Every array
 * attached to a sample (labels, depth, teacher soft labels, instance masks, boxes) is in the image's
 * pixel frame, so a geometric transform can move all of them together.
 *
 * These interfaces are the contract between `@gpl/data`, the dataset packages and the tasks: they
 * only ever grow (new optional fields), never change.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** An RGB triple, each channel 0..255. */
export type Rgb = readonly [number, number, number];

/** Box in image pixels, corners `[x0, y0, x1, y1]` (continuous coordinates, x1 > x0, y1 > y0). */
export type BoxXYXY = readonly [number, number, number, number];

/**
 * An image, row-major H×W×C. `Uint8Array` straight from the decoder (0..255); `Float32Array` once
 * photometric normalisation (or a resampling transform) has run.
 */
export interface ImageRaster {
  readonly data: Uint8Array | Float32Array;
  readonly height: number;
  readonly width: number;
  /** 3 (RGB) for every loader in GPL. */
  readonly channels: number;
}

/**
 * A per-pixel class map, row-major H×W. Values are contiguous class indices `0..numClasses−1`
 * (already mapped: Cityscapes train ids, VOC indices, ADE20K after reduce-zero-label) or the
 * dataset's `ignoreIndex`.
 */
export interface LabelMap {
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
}

/** A depth map in metres, row-major H×W. `0` marks an invalid pixel (no measurement, padding). */
export interface DepthMap {
  readonly data: Float32Array;
  readonly height: number;
  readonly width: number;
}

/**
 * Teacher soft labels: class probabilities, row-major H×W×K (K = number of classes, or 1 for depth
 * and instance masks). May be stored at a lower resolution than the image (e.g. stride 4); geometric
 * transforms map it through the same normalised frame as the image.
 */
export interface SoftLabels {
  readonly data: Float32Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /**
   * Image pixels per stored pixel (a teacher's output stride), when the map is coarser than the
   * image. Geometric transforms then keep it at exactly round(image side / stride), so a crop of
   * 128 always gives 16 rows at stride 8. `withSoftLabels` sets it from the stored and image sizes.
   */
  readonly stride?: number;
}

/** One object instance, in the image's pixel frame. */
export interface Instance {
  /** Contiguous class index `0..numClasses−1` (COCO: position in the category list, not the raw id). */
  readonly classIndex: number;
  /** The dataset's own id for the class (COCO `category_id`, Cityscapes label id), for writing results. */
  readonly categoryId: number;
  /** Tight box around the mask, `[x0, y0, x1, y1]` in pixels. */
  readonly box: BoxXYXY;
  /** Binary mask, row-major H×W of the image, 1 inside the instance. */
  readonly mask: Uint8Array;
  /** Crowd region (COCO `iscrowd`): ignored in training targets, kept for evaluation. */
  readonly crowd: boolean;
  /** The annotation id in the source file, when there is one (for error messages and results). */
  readonly annotationId?: number;
}

/** Which prediction task a sample feeds. */
export type SampleKind = 'segmentation' | 'depth' | 'instances';

/** Fields common to every sample. */
export interface SampleBase {
  readonly kind: SampleKind;
  /** Stable identifier (file stem or dataset id), unique within a split. */
  readonly id: string;
  /** The image after any transforms so far. */
  readonly image: ImageRaster;
  /** Teacher soft labels for knowledge distillation / GPL, when a teacher has written them. */
  readonly softLabels?: SoftLabels;
  /** Files this sample was read from (relative to the dataset root), for error messages. */
  readonly files?: readonly string[];
}

/** Semantic segmentation: image + class map. */
export interface SegmentationSample extends SampleBase {
  readonly kind: 'segmentation';
  readonly label: LabelMap;
}

/** Monocular depth: image + metric depth, optionally a class map too (NYUDv2 labelled set). */
export interface DepthSample extends SampleBase {
  readonly kind: 'depth';
  readonly depth: DepthMap;
  readonly label?: LabelMap;
}

/** Instance segmentation: image + object instances (masks and boxes), optionally a class map. */
export interface InstanceSample extends SampleBase {
  readonly kind: 'instances';
  readonly instances: readonly Instance[];
  /** Source image size before any transform (for writing results in original coordinates). */
  readonly originalSize?: { readonly height: number; readonly width: number };
  readonly label?: LabelMap;
}

/** Any sample. Switch on `kind`. */
export type Sample = SegmentationSample | DepthSample | InstanceSample;

/** Why a sample or file was rejected. The same codes appear in `DataError` and in skip reports. */
export type DataErrorCode =
  | 'missing-file'
  | 'unreadable-image'
  | 'size-mismatch'
  | 'label-out-of-range'
  | 'empty-split'
  | 'malformed-row'
  | 'malformed-json'
  | 'malformed-annotation'
  | 'path-escape'
  | 'palette-mismatch'
  | 'wrong-layout';

/** A sample (or index entry) skipped under `skipInvalid`, with the reason. */
export interface SkippedSample {
  readonly code: DataErrorCode;
  /** The offending file (relative to the dataset root when possible). */
  readonly file: string;
  /** 1-based row in an index / CSV file, when relevant. */
  readonly row?: number;
  /** COCO annotation id, when relevant. */
  readonly annotationId?: number;
  /** Full human-readable message (same as the error that would have been thrown). */
  readonly message: string;
}

/**
 * A dataset split: random access to samples plus the class metadata needed to train and to draw
 * predictions. Loaders open the index (file lists) eagerly and decode lazily in `get`.
 */
export interface Dataset<S extends Sample = Sample> {
  /** Short name for logs, e.g. `cityscapes/train`. */
  readonly name: string;
  /** Number of samples. */
  readonly length: number;
  /** Decodes sample `i` (0 ≤ i < length). Throws `DataError` naming the file for bad input. */
  get(i: number): Promise<S>;
  /** Class names in index order (empty for depth-only datasets). */
  readonly classNames: readonly string[];
  /** Display colour per class, same order as `classNames`. */
  readonly palette: readonly Rgb[];
  /** Label value that losses and metrics ignore (255 for every built-in loader). */
  readonly ignoreIndex: number;
  /** Index entries dropped while opening under `skipInvalid` (empty otherwise). */
  readonly skipped: readonly SkippedSample[];
  /** Valid depth range in metres for depth datasets (`[min, max]`). */
  readonly depthRange?: readonly [number, number];
  /**
   * Sample ids in index order (soft-label files and manifests are keyed by them). Loaders read
   * them from their index without decoding any file.
   */
  sampleIds(): Promise<readonly string[]>;
}

/** A source of uniform numbers in [0, 1). `@gpl/core`'s `Rng` satisfies it; so does `createRng`. */
export interface RandomSource {
  next(): number;
}

/**
 * A sample-to-sample transform. Geometric transforms move every attached field together;
 * randomness comes only from `rng`, which the pipeline derives from (seed, epoch, index), so a
 * sample's augmentation does not depend on decoding order or prefetch timing.
 */
export interface Transform {
  /** For logs and the saved run config, e.g. `random-crop(512x512)`. */
  readonly name: string;
  apply<S extends Sample>(sample: S, rng: RandomSource): S;
}

/**
 * A batch of N samples as tensors (NHWC). The consumer owns and must dispose the tensors
 * (`disposeBatch`).
 */
export interface Batch {
  readonly ids: readonly string[];
  /** [N, H, W, 3] float32. */
  readonly images: tf.Tensor4D;
  /** [N, H, W] int32 class indices / ignore index, when the samples have labels. */
  readonly labels?: tf.Tensor3D;
  /** [N, H, W, 1] float32 metres, 0 = invalid, for depth samples. */
  readonly depth?: tf.Tensor4D;
  /** [N, h, w, K] float32 teacher probabilities, when every sample has them. */
  readonly softLabels?: tf.Tensor4D;
  /** Per-image instances (plain arrays: targets are assigned on the CPU), for instance samples. */
  readonly instances?: readonly (readonly Instance[])[];
}

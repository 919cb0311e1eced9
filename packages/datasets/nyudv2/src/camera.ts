/**
 * NYU Depth v2 camera constants (REFERENCE.md §4).
 *
 * Intrinsics: the RGB camera's calibration from the NYU toolbox `camera_params.m`
 * (fx 518.8579, fy 519.4696, cx 325.5824, cy 253.7362 at 640×480). BTS rounds this to
 * fx = fy = 518.8579, cx 320, cy 240 and VNL uses fx = fy = 519 with the principal point at
 * the crop centre; we keep the toolbox values, which are what was measured, and scale them
 * to other resolutions with {@link scaleIntrinsics}.
 */

/** Pinhole intrinsics in pixels: u = fx·X/Z + cx, v = fy·Y/Z + cy (pixel (u, v) = column u, row v). */
export interface CameraIntrinsics {
  readonly fx: number;
  readonly fy: number;
  readonly cx: number;
  readonly cy: number;
  /** Image width the intrinsics belong to. */
  readonly width: number;
  /** Image height the intrinsics belong to. */
  readonly height: number;
}

/** NYU Depth v2 RGB camera at 640×480 (toolbox `camera_params.m`). */
export const NYU_INTRINSICS: CameraIntrinsics = Object.freeze({
  fx: 518.8579,
  fy: 519.4696,
  cx: 325.5824,
  cy: 253.7362,
  width: 640,
  height: 480,
});

/**
 * Intrinsics for the same camera resampled to `width`×`height`: focal lengths and principal
 * point scale with the image (cx·width/640, no half-pixel shift, the convention of BTS and VNL).
 */
export function scaleIntrinsics(k: CameraIntrinsics, width: number, height: number): CameraIntrinsics {
  if (!(width > 0) || !(height > 0)) {
    throw new RangeError(`[@gpl/nyudv2] scaleIntrinsics: width and height must be positive, received ${width}×${height}.`);
  }
  const sx = width / k.width;
  const sy = height / k.height;
  return Object.freeze({ fx: k.fx * sx, fy: k.fy * sy, cx: k.cx * sx, cy: k.cy * sy, width, height });
}

/** A crop window: rows top..bottom−1, columns left..right−1. */
export interface CropBox {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/**
 * The Eigen evaluation crop on 480×640 depth maps: rows 45..470, columns 41..600 inclusive,
 * i.e. numpy `[45:471, 41:601]` (BTS `bts_eval.py`, VNL `test_nyu_metric.py`).
 */
export const EIGEN_CROP: CropBox = Object.freeze({ top: 45, bottom: 471, left: 41, right: 601 });

/**
 * The Eigen crop scaled to an image of `height`×`width` (bounds rounded to the nearest
 * pixel); equal to {@link EIGEN_CROP} at 480×640. At the mini dataset's 120×160 it is
 * rows 11..117, columns 10..149 inclusive.
 */
export function eigenCrop(height: number, width: number): CropBox {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new RangeError(`[@gpl/nyudv2] eigenCrop: height and width must be positive integers, received ${height}×${width}.`);
  }
  const sy = height / 480;
  const sx = width / 640;
  return Object.freeze({
    top: Math.round(EIGEN_CROP.top * sy),
    bottom: Math.round(EIGEN_CROP.bottom * sy),
    left: Math.round(EIGEN_CROP.left * sx),
    right: Math.round(EIGEN_CROP.right * sx),
  });
}

/** Eigen-crop validity mask (1 inside the crop), row-major height×width. */
export function eigenCropMask(height: number, width: number): Uint8Array {
  const c = eigenCrop(height, width);
  const m = new Uint8Array(height * width);
  for (let y = c.top; y < c.bottom; y++) m.fill(1, y * width + c.left, y * width + c.right);
  return m;
}

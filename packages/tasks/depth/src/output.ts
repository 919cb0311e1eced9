/**
 * What a depth prediction becomes on disk: colour-mapped panels (image, ground truth, prediction
 * on one depth scale), 16-bit PNGs in millimetres (NYU's test format, `@gpl/nyudv2`'s encoder)
 * and PLY point clouds back-projected with the camera intrinsics.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic, type DepthSample } from '@gpl/data';
import { writePanels } from '@gpl/engine';
import { encodeDepthPng, type CameraIntrinsics } from '@gpl/nyudv2';

/** Turbo colour map (Mikhailov 2019, polynomial fit), t in [0, 1] → RGB bytes. */
export function turbo(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const r = 0.13572138 + x * (4.6153926 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
  const g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
  const b = 0.1066733 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
  const byte = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  return [byte(r), byte(g), byte(b)];
}

/** A depth map (metres) as RGB bytes on [lo, hi] (near = blue … far = red); invalid (≤ 0) pixels black. */
export function colourDepth(depth: ArrayLike<number>, lo: number, hi: number): Uint8Array {
  const out = new Uint8Array(depth.length * 3);
  const span = Math.max(1e-6, hi - lo);
  for (let i = 0; i < depth.length; i++) {
    if (!(depth[i] > 0)) continue;
    const [r, g, b] = turbo((depth[i] - lo) / span);
    out[3 * i] = r;
    out[3 * i + 1] = g;
    out[3 * i + 2] = b;
  }
  return out;
}

/** image | ground truth | prediction, the two depth panels on the ground truth's range. */
export async function writeDepthDrawing(file: string, sample: DepthSample, pred: Float32Array): Promise<void> {
  const { width, height } = sample.depth;
  let lo = Infinity;
  let hi = 0;
  for (const d of sample.depth.data) {
    if (d > 0) {
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
  }
  if (!(hi > 0)) {
    lo = Math.min(...pred);
    hi = Math.max(...pred);
  }
  const image = Uint8Array.from(sample.image.data as ArrayLike<number>, (v) => Math.max(0, Math.min(255, Math.round(v))));
  await writePanels(file, [
    { title: 'image', rgb: image, width: sample.image.width, height: sample.image.height },
    { title: `ground truth ${lo.toFixed(1)}–${hi.toFixed(1)} m`, rgb: colourDepth(sample.depth.data, lo, hi), width, height },
    { title: 'prediction', rgb: colourDepth(pred, lo, hi), width, height },
  ]);
}

/**
 * An ASCII PLY point cloud: one vertex per pixel with depth > 0, X = (u − cx)·Z/fx,
 * Y = (v − cy)·Z/fy, Z = depth (metres, camera frame: x right, y down, z forward), coloured by the
 * image.
 */
export function pointCloudPly(depth: Float32Array, width: number, height: number, camera: CameraIntrinsics, rgb?: ArrayLike<number>): string {
  if (depth.length !== width * height) throw new RangeError(`[depth] pointCloudPly: depth has ${depth.length} values for ${width}×${height}.`);
  const rows: string[] = [];
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const i = v * width + u;
      const z = depth[i];
      if (!(z > 0)) continue;
      const x = ((u - camera.cx) * z) / camera.fx;
      const y = ((v - camera.cy) * z) / camera.fy;
      const c = rgb ? [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]].map((c) => Math.max(0, Math.min(255, Math.round(c)))) : [200, 200, 200];
      rows.push(`${x.toFixed(4)} ${y.toFixed(4)} ${z.toFixed(4)} ${c[0]} ${c[1]} ${c[2]}`);
    }
  }
  const header = ['ply', 'format ascii 1.0', `comment GPL depth prediction, fx ${camera.fx} fy ${camera.fy} cx ${camera.cx} cy ${camera.cy}`, `element vertex ${rows.length}`,
    'property float x', 'property float y', 'property float z', 'property uchar red', 'property uchar green', 'property uchar blue', 'end_header'];
  return [...header, ...rows, ''].join('\n');
}

/** Writes `<dir>/<id>.png` (16-bit millimetres) and `<dir>/<id>.ply` for one prediction (metres). */
export async function exportPrediction(dir: string, sample: DepthSample, pred: Float32Array, camera: CameraIntrinsics): Promise<void> {
  const { width, height } = sample.depth;
  await fs.promises.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, `${sample.id}.png`), encodeDepthPng(pred, width, height, 'u16-mm'));
  await writeFileAtomic(path.join(dir, `${sample.id}.ply`), pointCloudPly(pred, width, height, camera, sample.image.data as ArrayLike<number>));
}

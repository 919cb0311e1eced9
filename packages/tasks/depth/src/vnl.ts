/**
 * The virtual normal loss (Yin et al., ICCV 2019; VNL `lib/models/VNL_loss.py`, REFERENCE.md §5).
 * Triplets of pixels are drawn at random, back-projected to 3-D with the camera intrinsics, and
 * the unit normals of the planes they span are compared between prediction and ground truth:
 *
 * - back-projection: x = (u − u0)|d|/fx, y = (v − v0)|d|/fy, z = d, with u0 = ⌊W/2⌋, v0 = ⌊H/2⌋
 *   (VNL puts the principal point at the crop centre);
 * - sampling: three index arrays of ⌊0.15·H·W⌋ uniform draws with replacement; the same triplets
 *   for prediction and ground truth and for every image of the batch;
 * - filters on the ground-truth triplets: all three z > 1e-4; not near-collinear (VNL counts the
 *   3×3 matrix of |cos| > 0.867 between the edges e12, e13, e23, its diagonal included, and drops
 *   the triplet when the count exceeds 3, i.e. when any two edges are near-parallel); not
 *   degenerate (dropped when some edge has |Δx| < 0.005 and some edge |Δy| < 0.005 and some edge
 *   |Δz| < 0.005, in VNL units);
 * - n = e12 × e13 divided by ‖n‖ (+0.01 where ‖n‖ = 0); per triplet Σ_xyz |n_gt − n_pred|, pooled
 *   over the batch, sorted ascending, the lowest 25 % dropped, mean of the rest.
 *
 * Ground-truth filtering, normals and the sort run on the host (they carry no gradient); the
 * prediction's points are gathered with a gather whose gradient is scattered on the host,
 * because the wasm backend has no UnsortedSegmentSum kernel for tf.gather's own gradient.
 * Deviation: VNL replaces a predicted z of exactly 0 by 1e-4 through an index whose axes do not
 * line up (it overwrites coordinate rows, not the point's z); here the point's z is replaced. A
 * decoded depth 10^(Σpc) is never 0, so this never acts in training.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RandomSource } from '@gpl/data';

/** Camera focal lengths in pixels of the image the loss sees (the principal point is its centre). */
export interface FocalLengths {
  readonly fx: number;
  readonly fy: number;
}

/** Options of the virtual normal loss (VNL's values as defaults). */
export interface VirtualNormalOptions extends FocalLengths {
  /** Draws per index array, as a fraction of H·W (0.15). */
  readonly sampleRatio: number;
  /** |cos| between two edges above which a triplet is near-collinear (0.867). */
  readonly deltaCos: number;
  /** Per-axis coordinate difference below which an edge is short along that axis (0.005, VNL units). */
  readonly deltaDiff: number;
  /** Smallest valid ground-truth z (1e-4). */
  readonly deltaZ: number;
  /** Fraction of the easiest triplets dropped (0.25). */
  readonly dropFraction: number;
}

export const defaultVirtualNormalOptions: Omit<VirtualNormalOptions, keyof FocalLengths> = Object.freeze({
  sampleRatio: 0.15,
  deltaCos: 0.867,
  deltaDiff: 0.005,
  deltaZ: 1e-4,
  dropFraction: 0.25,
});

/** Three index arrays of flat pixel positions (row · W + column) in an H×W map. */
export interface Triplets {
  readonly p1: Int32Array;
  readonly p2: Int32Array;
  readonly p3: Int32Array;
}

/** ⌊ratio·H·W⌋ uniform draws with replacement per index array. */
export function sampleTriplets(height: number, width: number, ratio: number, rng: RandomSource): Triplets {
  const n = height * width;
  const count = Math.floor(ratio * n);
  const draw = () => Int32Array.from({ length: count }, () => Math.min(n - 1, Math.floor(rng.next() * n)));
  return { p1: draw(), p2: draw(), p3: draw() };
}

/** 3-D point of pixel (u, v) at depth d with the principal point (u0, v0). */
export function backProject(u: number, v: number, d: number, u0: number, v0: number, f: FocalLengths): [number, number, number] {
  return [((u - u0) * Math.abs(d)) / f.fx, ((v - v0) * Math.abs(d)) / f.fy, d];
}

type Vec3 = readonly [number, number, number];

/**
 * VNL's ground-truth test for one triplet of 3-D points: valid depth, not near-collinear, not
 * degenerate (see the file comment). Returns the reason a triplet is dropped, or 'kept'.
 */
export function classifyTriplet(a: Vec3, b: Vec3, c: Vec3, o: Pick<VirtualNormalOptions, 'deltaCos' | 'deltaDiff' | 'deltaZ'>): 'kept' | 'invalid' | 'collinear' | 'degenerate' {
  if (!(a[2] > o.deltaZ && b[2] > o.deltaZ && c[2] > o.deltaZ)) return 'invalid';
  const e = [
    [b[0] - a[0], b[1] - a[1], b[2] - a[2]],
    [c[0] - a[0], c[1] - a[1], c[2] - a[2]],
    [c[0] - b[0], c[1] - b[1], c[2] - b[2]],
  ];
  const len = e.map((v) => Math.hypot(v[0], v[1], v[2]));
  let count = 0;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const cos = (e[i][0] * e[j][0] + e[i][1] * e[j][1] + e[i][2] * e[j][2]) / (len[i] * len[j] + 1e-8);
      if (cos > o.deltaCos || cos < -o.deltaCos) count++;
    }
  }
  const near = (axis: number) => e.some((v) => Math.abs(v[axis]) < o.deltaDiff);
  const degenerate = near(0) && near(1) && near(2);
  if (count > 3) return 'collinear';
  if (degenerate) return 'degenerate';
  return 'kept';
}

/** Unit normal of the plane through a, b, c: (b − a) × (c − a) / ‖·‖ (+0.01 when the norm is 0). */
export function planeNormal(a: Vec3, b: Vec3, c: Vec3): [number, number, number] {
  const u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
  const n: [number, number, number] = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
  const norm = Math.hypot(n[0], n[1], n[2]);
  const d = norm === 0 ? 0.01 : norm;
  return [n[0] / d, n[1] / d, n[2] / d];
}

/** The triplets kept over a batch: flat indices into N·H·W for each corner, and the ground-truth normals. */
export interface KeptTriplets {
  readonly i1: Int32Array;
  readonly i2: Int32Array;
  readonly i3: Int32Array;
  /** Ground-truth unit normals, [M × 3]. */
  readonly normals: Float32Array;
  /** How many sampled triplets (over the batch) each filter dropped. */
  readonly dropped: { readonly invalid: number; readonly collinear: number; readonly degenerate: number };
}

/**
 * Applies VNL's ground-truth filters to `triplets` in every image of `gt` (N·H·W depths, VNL
 * units, 0 = invalid) and computes the ground-truth normals of the kept ones.
 */
export function filterTriplets(gt: Float32Array | Int32Array | Uint8Array, n: number, h: number, w: number, triplets: Triplets, o: VirtualNormalOptions): KeptTriplets {
  const u0 = Math.floor(w / 2);
  const v0 = Math.floor(h / 2);
  const point = (img: number, p: number): Vec3 => backProject(p % w, Math.floor(p / w), gt[img * h * w + p], u0, v0, o);
  const i1: number[] = [];
  const i2: number[] = [];
  const i3: number[] = [];
  const normals: number[] = [];
  const dropped = { invalid: 0, collinear: 0, degenerate: 0 };
  for (let img = 0; img < n; img++) {
    for (let t = 0; t < triplets.p1.length; t++) {
      const a = point(img, triplets.p1[t]);
      const b = point(img, triplets.p2[t]);
      const c = point(img, triplets.p3[t]);
      const why = classifyTriplet(a, b, c, o);
      if (why !== 'kept') {
        dropped[why]++;
        continue;
      }
      i1.push(img * h * w + triplets.p1[t]);
      i2.push(img * h * w + triplets.p2[t]);
      i3.push(img * h * w + triplets.p3[t]);
      normals.push(...planeNormal(a, b, c));
    }
  }
  return { i1: Int32Array.from(i1), i2: Int32Array.from(i2), i3: Int32Array.from(i3), normals: Float32Array.from(normals), dropped };
}

/**
 * x[idx] of a 1-D tensor, differentiable on every backend: the gradient is scattered (summed
 * over repeated indices) on the host.
 */
export function gatherWithGrad(x: tf.Tensor1D, idx: Int32Array): tf.Tensor1D {
  const size = x.shape[0];
  const f = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = inputs[0] as tf.Tensor;
    const value = tf.tidy(() => tf.gather(input, tf.tensor1d(idx, 'int32')));
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync();
        const out = new Float32Array(size);
        for (let i = 0; i < idx.length; i++) out[idx[i]] += g[i];
        return tf.tensor1d(out);
      },
    };
  });
  return f(x) as tf.Tensor1D;
}

/** `value` where x is exactly 0, else 0. */
function zeroMask(x: ArrayLike<number>, value: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) if (x[i] === 0) out[i] = value;
  return out;
}

/** Pixel column and row of flat indices into N·H·W, minus the principal point. */
function centredCoords(idx: Int32Array, h: number, w: number): { du: Float32Array; dv: Float32Array } {
  const u0 = Math.floor(w / 2);
  const v0 = Math.floor(h / 2);
  const du = new Float32Array(idx.length);
  const dv = new Float32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const p = idx[i] % (h * w);
    du[i] = (p % w) - u0;
    dv[i] = Math.floor(p / w) - v0;
  }
  return { du, dv };
}

/**
 * The virtual normal loss of predicted against ground-truth depth, both [N, H, W, 1] in VNL units
 * (ground truth 0 = invalid). Draws its triplets from `rng`. Returns 0 when no triplet survives
 * the filters.
 */
export function virtualNormalLoss(pred: tf.Tensor4D, gt: tf.Tensor4D, options: Partial<VirtualNormalOptions> & FocalLengths, rng: RandomSource): tf.Scalar {
  if (pred.rank !== 4 || gt.rank !== 4 || pred.shape.join() !== gt.shape.join() || pred.shape[3] !== 1) {
    throw new RangeError(`[depth] virtualNormalLoss: pred [${pred.shape.join(', ')}] and gt [${gt.shape.join(', ')}] must both be [N, H, W, 1].`);
  }
  const o: VirtualNormalOptions = { ...defaultVirtualNormalOptions, ...options };
  return tf.tidy(() => vnlLoss(pred, gt, o, rng));
}

function vnlLoss(pred: tf.Tensor4D, gt: tf.Tensor4D, o: VirtualNormalOptions, rng: RandomSource): tf.Scalar {
  const [n, h, w] = gt.shape;
  const kept = filterTriplets(gt.dataSync() as Float32Array, n, h, w, sampleTriplets(h, w, o.sampleRatio, rng), o);
  const m = kept.i1.length;
  if (m === 0) return tf.scalar(0);
  const flat = tf.reshape(pred, [-1]) as tf.Tensor1D;
  const pointsOf = (idx: Int32Array) => {
    const z = gatherWithGrad(flat, idx);
    const { du, dv } = centredCoords(idx, h, w);
    const az = tf.abs(z);
    // VNL: a predicted z of exactly 0 becomes 1e-4 (x and y keep the raw |d|). The test reads host
    // values: a comparison op on the taped path has no gradient in tfjs.
    const zSafe = tf.add(z, tf.tensor1d(zeroMask(z.dataSync(), 1e-4)));
    return [tf.div(tf.mul(tf.tensor1d(du), az), o.fx), tf.div(tf.mul(tf.tensor1d(dv), az), o.fy), zSafe];
  };
  const [a, b, c] = [pointsOf(kept.i1), pointsOf(kept.i2), pointsOf(kept.i3)];
  const u = [0, 1, 2].map((k) => tf.sub(b[k], a[k]));
  const v = [0, 1, 2].map((k) => tf.sub(c[k], a[k]));
  const cross = [
    tf.sub(tf.mul(u[1], v[2]), tf.mul(u[2], v[1])),
    tf.sub(tf.mul(u[2], v[0]), tf.mul(u[0], v[2])),
    tf.sub(tf.mul(u[0], v[1]), tf.mul(u[1], v[0])),
  ];
  const sq = tf.addN(cross.map((x) => tf.square(x)));
  // ‖n‖, or 0.01 where it is 0 (VNL's +0.01); sqrt never sees 0, so its gradient stays finite.
  const norm = tf.sqrt(tf.add(sq, tf.tensor1d(zeroMask(sq.dataSync(), 1e-4))));
  const gtNormals = tf.tensor2d(kept.normals, [m, 3]);
  const perTriplet = tf.addN(cross.map((x, k) => tf.abs(tf.sub(tf.squeeze(tf.slice(gtNormals, [0, k], [m, 1]), [1]), tf.div(x, norm))))) as tf.Tensor1D;
  // Sort ascending and drop the easiest ⌊m·dropFraction⌋ (VNL: loss[int(m·0.25):]).
  const values = perTriplet.dataSync();
  const order = Int32Array.from({ length: m }, (_, i) => i).sort((i, j) => values[i] - values[j] || i - j);
  const hardest = order.subarray(Math.floor(m * o.dropFraction));
  if (hardest.length === 0) return tf.scalar(0);
  return tf.mean(gatherWithGrad(perTriplet, Int32Array.from(hardest))) as tf.Scalar;
}

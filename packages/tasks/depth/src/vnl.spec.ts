import '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, expectNoLeak } from '@gpl/core/testing';
import { backProject, classifyTriplet, defaultVirtualNormalOptions, filterTriplets, gatherWithGrad, planeNormal, sampleTriplets, virtualNormalLoss } from './vnl';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A seeded uniform stream (Park–Miller). */
const lcg = (seed: number) => {
  let s = seed;
  return { next: () => (s = (s * 16807) % 2147483647) / 2147483647 };
};

const H = 24;
const W = 32;
const CAMERA = { fx: 30, fy: 28 };

/**
 * Depth (z) of the plane n·X = c seen by a pinhole camera with the principal point at (⌊W/2⌋, ⌊H/2⌋):
 * pixel (u, v) looks along r = ((u − u0)/fx, (v − v0)/fy, 1), so z = c / (n·r).
 */
function planeDepth(n: readonly [number, number, number], c: number, holes: readonly number[] = []): Float32Array {
  const d = new Float32Array(H * W);
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < W; u++) {
      const r = [(u - Math.floor(W / 2)) / CAMERA.fx, (v - Math.floor(H / 2)) / CAMERA.fy, 1];
      d[v * W + u] = c / (n[0] * r[0] + n[1] * r[1] + n[2] * r[2]);
    }
  }
  for (const i of holes) d[i] = 0;
  return d;
}

const depthTensor = (d: Float32Array, n = 1) => tf.tensor4d(Float32Array.from({ length: n * d.length }, (_, i) => d[i % d.length]), [n, H, W, 1]);
const unit = (v: readonly number[]) => {
  const l = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / l, v[1] / l, v[2] / l] as const;
};

describe('virtualNormalLoss on a tilted plane', () => {
  const tilt = unit([0.3, -0.2, 1]);
  const gt = planeDepth(tilt, 0.3, [5, 77, 300]);

  it('is zero for the correct depth (and for the plane at twice the distance: normals are scale-free)', () => {
    const g = depthTensor(gt, 2);
    const same = virtualNormalLoss(g, g, CAMERA, lcg(3)).dataSync()[0];
    expect(same).toBeLessThan(1e-4);
    const far = tf.mul(g, 2) as tf.Tensor4D;
    expect(virtualNormalLoss(far, g, CAMERA, lcg(3)).dataSync()[0]).toBeLessThan(1e-4);
    tf.dispose([g, far]);
  });

  it('is positive for a wrong tilt: every kept triplet costs ‖n_gt − n_pred‖₁ of the two planes', () => {
    const wrong = unit([-0.4, 0.1, 1]);
    const g = depthTensor(gt);
    const p = depthTensor(planeDepth(wrong, 0.3));
    const loss = virtualNormalLoss(p, g, CAMERA, lcg(5)).dataSync()[0];
    // Triangles seen from the camera are oriented alike for both planes, so each normal pair
    // differs by the difference of the planes' unit normals (up to one common sign).
    const expected = Math.abs(tilt[0] - wrong[0]) + Math.abs(tilt[1] - wrong[1]) + Math.abs(tilt[2] - wrong[2]);
    expect(loss).toBeGreaterThan(0.1);
    expect(loss).toBeCloseTo(expected, 3);
    // A tilt halfway to the truth costs less.
    const half = depthTensor(planeDepth(unit([(tilt[0] + wrong[0]) / 2, (tilt[1] + wrong[1]) / 2, 1]), 0.3));
    const lossHalf = virtualNormalLoss(half, g, CAMERA, lcg(5)).dataSync()[0];
    expect(lossHalf).toBeGreaterThan(0.01);
    expect(lossHalf).toBeLessThan(loss);
    tf.dispose([g, p, half]);
  });

  it('has the gradient of finite differences (without the 25 % drop, which is piecewise)', () => {
    const g = depthTensor(planeDepth(tilt, 0.3));
    const p = tf.add(g, tf.mul(tf.randomUniform([1, H, W, 1], 0, 0.02, 'float32', 1), 1)) as tf.Tensor4D;
    const [r] = checkGradients((x) => virtualNormalLoss(x as tf.Tensor4D, g, { ...CAMERA, dropFraction: 0, sampleRatio: 0.02 }, lcg(9)), [p], { epsilon: 1e-3, maxEntries: 60 });
    expect(r.maxRelError).toBeLessThan(5e-2);
    tf.dispose([g, p]);
  });

  it('frees its intermediates and checks shapes', () => {
    const g = depthTensor(gt);
    expectNoLeak(() => virtualNormalLoss(g, g, CAMERA, lcg(1)), { returns: 1 });
    expect(() => virtualNormalLoss(g, tf.zeros([1, H, W, 2]) as tf.Tensor4D, CAMERA, lcg(1))).toThrow(RangeError);
    // No valid ground truth: 0, not NaN.
    const none = tf.zeros([1, H, W, 1]) as tf.Tensor4D;
    expect(virtualNormalLoss(g, none, CAMERA, lcg(1)).dataSync()[0]).toBe(0);
    tf.dispose([g, none]);
  });
});

describe('triplet sampling and filters', () => {
  const o = { ...defaultVirtualNormalOptions, ...CAMERA };

  it('draws ⌊0.15·H·W⌋ indices per array, the same triplets for every image', () => {
    const t = sampleTriplets(H, W, 0.15, lcg(2));
    expect([t.p1.length, t.p2.length, t.p3.length]).toEqual([Math.floor(0.15 * H * W), Math.floor(0.15 * H * W), Math.floor(0.15 * H * W)]);
    expect(Math.max(...t.p1, ...t.p2, ...t.p3)).toBeLessThan(H * W);
    const d = planeDepth(unit([0.3, -0.2, 1]), 0.3);
    const two = Float32Array.from({ length: 2 * d.length }, (_, i) => d[i % d.length]);
    const kept = filterTriplets(two, 2, H, W, t, o);
    const firstImage = Array.from(kept.i1).filter((i) => i < H * W);
    const secondImage = Array.from(kept.i1).filter((i) => i >= H * W).map((i) => i - H * W);
    expect(secondImage).toEqual(firstImage);
  });

  it('classifies hand-made triplets: kept, collinear, near-collinear, degenerate, invalid', () => {
    expect(classifyTriplet([0, 0, 1], [0.001, 0.5, 1.3], [0.5, 0.002, 1.6], o)).toBe('kept');
    expect(classifyTriplet([0, 0, 1], [0.1, 0.1, 1.1], [0.2, 0.2, 1.2], o)).toBe('collinear');
    // An angle of 20° at the first corner (cos 0.94 > 0.867) is near-collinear; 40° is not.
    const at = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180), 1] as [number, number, number];
    expect(classifyTriplet([0, 0, 1], [1, 0, 1], at(20), o)).toBe('collinear');
    expect(classifyTriplet([0, 0, 1], [1, 0, 1], at(40), o)).toBe('kept');
    // Short along x (e12), along y and z (e13): degenerate; move c back by 0.3 and it is kept.
    expect(classifyTriplet([0, 0, 1], [0.001, 0.5, 1.3], [0.5, 0.002, 1.003], o)).toBe('degenerate');
    // Two equal points: the other two edges coincide.
    expect(classifyTriplet([0, 0, 1], [0, 0, 1], [0.5, 0.3, 1.2], o)).toBe('collinear');
    expect(classifyTriplet([0, 0, 1], [0.3, 0, 0], [0, 0.3, 1], o)).toBe('invalid');
  });

  it('drops exactly the collinear and degenerate triplets of a scene (checked against the triangle angles)', () => {
    // Two planes meeting at a crease, with holes: every kind of triplet occurs.
    const a = planeDepth(unit([0.3, -0.2, 1]), 0.3);
    const b = planeDepth(unit([-0.5, 0, 1]), 0.25);
    const d = a.map((v, i) => (i % W < W / 2 ? v : b[i]));
    for (const i of [0, 1, 2, 40, 41, 200]) d[i] = 0;
    const t = sampleTriplets(H, W, 0.5, lcg(11));
    const kept = filterTriplets(d, 1, H, W, t, o);
    const point = (p: number) => backProject(p % W, Math.floor(p / W), d[p], Math.floor(W / 2), Math.floor(H / 2), CAMERA);
    const minAngle = (Math.acos(0.867) * 180) / Math.PI;
    const expectKept: number[] = [];
    let collinear = 0;
    let degenerate = 0;
    for (let k = 0; k < t.p1.length; k++) {
      const [A, B, C] = [point(t.p1[k]), point(t.p2[k]), point(t.p3[k])];
      if (!(A[2] > 1e-4 && B[2] > 1e-4 && C[2] > 1e-4)) continue;
      const sub = (x: number[], y: number[]) => [x[0] - y[0], x[1] - y[1], x[2] - y[2]];
      const angle = (x: number[], y: number[]) => {
        const l = Math.hypot(...x) * Math.hypot(...y);
        return l < 1e-7 ? 0 : (Math.acos(Math.max(-1, Math.min(1, (x[0] * y[0] + x[1] * y[1] + x[2] * y[2]) / l))) * 180) / Math.PI;
      };
      // Interior angles at A, B, C; a corner below ~29.9° or above ~150.1° makes two edges near-parallel.
      const angles = [angle(sub(B, A), sub(C, A)), angle(sub(A, B), sub(C, B)), angle(sub(A, C), sub(B, C))];
      const edges = [sub(B, A), sub(C, A), sub(C, B)];
      const allSame = edges.every((e) => Math.hypot(...e) < 1e-7);
      const isCollinear = !allSame && angles.some((x) => x < minAngle || x > 180 - minAngle);
      const short = (axis: number) => edges.some((e) => Math.abs(e[axis]) < 0.005);
      if (isCollinear) collinear++;
      else if (short(0) && short(1) && short(2)) degenerate++;
      else expectKept.push(t.p1[k]);
    }
    expect(collinear).toBeGreaterThan(5);
    expect(Array.from(kept.i1)).toEqual(expectKept);
    expect(kept.dropped.collinear).toBe(collinear);
    expect(kept.dropped.degenerate).toBe(degenerate);
    expect(kept.dropped.invalid + collinear + degenerate + expectKept.length).toBe(t.p1.length);
  });

  it('plane normals are unit length, and 0.01-divided for a zero cross product', () => {
    const n = planeNormal([0, 0, 1], [1, 0, 1], [0, 1, 1]);
    expect(n).toEqual([0, 0, 1]);
    expect(planeNormal([0, 0, 1], [0, 0, 1], [0, 0, 1])).toEqual([0, 0, 0]);
  });

  it('gatherWithGrad scatters the gradient, summing repeated indices', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gatherWithGrad(t as tf.Tensor1D, Int32Array.from([0, 2, 2])), tf.tensor1d([1, 5, 7]))))(x);
    expect(Array.from(g.dataSync())).toEqual([1, 0, 12]);
    tf.dispose([x, g]);
  });
});

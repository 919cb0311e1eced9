/**
 * nyudv2-mini: indoor rooms ray-cast through the NYU Depth v2 camera, written in the DenseDepth
 * layout (REFERENCE.md §4) that `@gpl/nyudv2` reads:
 *
 *   nyudv2-mini/data/nyu2_train.csv                      rows `rgb_path,depth_path`, no header
 *   nyudv2-mini/data/nyu2_train/<scene>_out/<n>.jpg|png  RGB JPEG, depth 8-bit PNG (metres = v/255·10)
 *   nyudv2-mini/data/nyu2_test.csv
 *   nyudv2-mini/data/nyu2_test/<nnnnn>_colors.png|_depth.png  RGB PNG, depth 16-bit PNG (millimetres)
 *
 * Every pixel's depth and colour come from the same ray of a pinhole camera with the NYU
 * intrinsics scaled to 160×120 (×1/4), so depth is the true z-distance of the surface that the
 * colour shows: planar floor, ceiling and walls, box furniture, a few spheres. Windows are glass
 * (no depth return): depth 0 = invalid, as in the Kinect data.
 *
 * Deterministic: a fixed-seed integer PRNG and the pinned writers of `./write` (sharp JPEG with
 * every option fixed, `@gpl/data`'s deterministic PNG encoder, atomic writes, the folder built
 * beside the old one and swapped in).
 */
import * as path from 'path';
import { writeFileAtomic } from '@gpl/data';
import { NYU_INTRINSICS, encodeDepthPng, scaleIntrinsics } from '@gpl/nyudv2';
import { buildDatasetFolder, writeJpeg, writeRgbPng, writeText } from './write';

/** Image size of the mini dataset (NYU's 640×480 divided by 4). */
export const NYU_MINI_WIDTH = 160;
export const NYU_MINI_HEIGHT = 120;

/**
 * The camera the scenes are rendered with: `@gpl/nyudv2`'s NYU intrinsics scaled to 160×120,
 * exactly what its loader reports for these images.
 */
export const NYU_MINI_INTRINSICS = scaleIntrinsics(NYU_INTRINSICS, NYU_MINI_WIDTH, NYU_MINI_HEIGHT);

const TRAIN_SCENES = [
  ['bedroom_0004', 'bedroom'],
  ['kitchen_0019', 'kitchen'],
  ['living_room_0038', 'living'],
  ['office_0011', 'office'],
  ['dining_room_0015', 'dining'],
  ['bedroom_0078', 'bedroom'],
  ['living_room_0012', 'living'],
  ['office_0004', 'office'],
] as const;
const TEST_SCENES = [
  ['bedroom_0130', 'bedroom'],
  ['kitchen_0045', 'kitchen'],
  ['living_room_0069', 'living'],
  ['office_0026', 'office'],
] as const;
const TRAIN_FRAMES_PER_SCENE = 5;
const TEST_FRAMES_PER_SCENE = 3;
const SEED = 20240401;

// Jest runs modules in a vm context where every global lookup is slow; a module-level alias of
// Math keeps the renderer about ten times faster under test.
const M = Math;
const INF = Number.POSITIVE_INFINITY;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness and noise (integer hashing only, identical on every platform)

class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = M.imul(t ^ (t >>> 15), t | 1);
    t ^= t + M.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(n: number): number {
    return M.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  /** Approximately normal (sum of four uniforms), cheap and platform-independent. */
  gauss(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.732;
  }
}

function hash3(x: number, y: number, z: number, seed: number): number {
  let h = M.imul(x | 0, 0x27d4eb2d) ^ M.imul(y | 0, 0x165667b1) ^ M.imul(z | 0, 0x9e3779b1) ^ seed;
  h = M.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = M.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Trilinear value noise in [0, 1). */
function noise3(x: number, y: number, z: number, seed: number): number {
  const xi = M.floor(x);
  const yi = M.floor(y);
  const zi = M.floor(z);
  const fx = x - xi;
  const fy = y - yi;
  const fz = z - zi;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const sz = fz * fz * (3 - 2 * fz);
  const l = (a: number, b: number, t: number) => a + (b - a) * t;
  const c = (dx: number, dy: number, dz: number) => hash3(xi + dx, yi + dy, zi + dz, seed);
  return l(
    l(l(c(0, 0, 0), c(1, 0, 0), sx), l(c(0, 1, 0), c(1, 1, 0), sx), sy),
    l(l(c(0, 0, 1), c(1, 0, 1), sx), l(c(0, 1, 1), c(1, 1, 1), sx), sy),
    sz,
  );
}

// ---------------------------------------------------------------------------------------------
// Scene description. World frame: x right, y up, z forward into the room; metres.

type Rgb = [number, number, number];

interface Material {
  readonly kind: 'plain' | 'wood' | 'tiles' | 'carpet' | 'wallpaper' | 'painting' | 'window' | 'screen';
  readonly color: Rgb;
  readonly color2: Rgb;
  readonly seed: number;
  /** Size of the pattern (planks, tiles, stripes) in metres. */
  readonly scale: number;
}

interface Box {
  readonly kind: 'box';
  readonly c: [number, number, number];
  readonly e: [number, number, number];
  readonly yaw: number;
  readonly cos: number;
  readonly sin: number;
  readonly mat: Material;
}

interface Sphere {
  readonly kind: 'sphere';
  readonly c: [number, number, number];
  readonly r: number;
  readonly mat: Material;
}

/** A textured rectangle lying on a wall (painting, window, screen): decides the wall's material there. */
interface Decal {
  /** Wall index: 0 x = −W/2, 1 x = +W/2, 2 z = 0, 3 z = D. */
  readonly wall: number;
  /** Horizontal coordinate range along the wall and height range. */
  readonly a0: number;
  readonly a1: number;
  readonly y0: number;
  readonly y1: number;
  readonly mat: Material;
}

interface Room {
  readonly width: number;
  readonly depth: number;
  readonly height: number;
  readonly floor: Material;
  readonly walls: Material;
  readonly ceiling: Material;
  readonly objects: readonly (Box | Sphere)[];
  readonly decals: readonly Decal[];
  readonly lights: readonly { p: [number, number, number]; power: number }[];
}

function material(rng: Prng, kind: Material['kind'], color: Rgb, color2: Rgb = color, scale = 0.2): Material {
  return { kind, color, color2, seed: (rng.next() * 0x7fffffff) | 0, scale };
}

function jitter(rng: Prng, c: Rgb, amount: number): Rgb {
  return c.map((v) => M.min(1, M.max(0, v + rng.uniform(-amount, amount)))) as Rgb;
}

function box(c: [number, number, number], e: [number, number, number], yaw: number, mat: Material): Box {
  return { kind: 'box', c, e, yaw, cos: M.cos(yaw), sin: M.sin(yaw), mat };
}

/** Footprint rectangle (axis-aligned bounds of a group) used to keep furniture apart. */
interface Footprint {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
}

const WOODS: Rgb[] = [
  [0.55, 0.36, 0.2],
  [0.68, 0.5, 0.32],
  [0.42, 0.26, 0.15],
  [0.75, 0.6, 0.42],
];
const FABRICS: Rgb[] = [
  [0.25, 0.32, 0.5],
  [0.55, 0.2, 0.2],
  [0.3, 0.45, 0.3],
  [0.6, 0.55, 0.45],
  [0.35, 0.35, 0.38],
];
const PAINTS: Rgb[] = [
  [0.85, 0.82, 0.74],
  [0.7, 0.78, 0.82],
  [0.86, 0.76, 0.62],
  [0.72, 0.8, 0.68],
  [0.9, 0.88, 0.86],
];

/**
 * Furniture as groups of boxes in a local frame (origin on the floor at the footprint centre,
 * facing −z towards the room), placed with a yaw that is a multiple of 90° plus a little jitter.
 */
function furniture(rng: Prng, type: string): { parts: { c: [number, number, number]; e: [number, number, number]; mat: Material }[]; w: number; d: number } {
  const wood = material(rng, 'wood', jitter(rng, rng.pick(WOODS), 0.05), jitter(rng, rng.pick(WOODS), 0.05), 0.12);
  const fabric = material(rng, 'carpet', jitter(rng, rng.pick(FABRICS), 0.05), jitter(rng, rng.pick(FABRICS), 0.05), 0.05);
  const plain = material(rng, 'plain', jitter(rng, [0.8, 0.8, 0.78], 0.1));
  const parts: { c: [number, number, number]; e: [number, number, number]; mat: Material }[] = [];
  const legs = (w: number, d: number, h: number, t: number, mat: Material) => {
    for (const sx of [-1, 1]) for (const sz of [-1, 1]) parts.push({ c: [sx * (w / 2 - t), h / 2, sz * (d / 2 - t)], e: [t, h / 2, t], mat });
  };
  switch (type) {
    case 'table': {
      const w = rng.uniform(0.9, 1.6);
      const d = rng.uniform(0.6, 0.9);
      const h = rng.uniform(0.7, 0.78);
      parts.push({ c: [0, h - 0.02, 0], e: [w / 2, 0.02, d / 2], mat: wood });
      legs(w, d, h - 0.04, 0.03, wood);
      return { parts, w, d };
    }
    case 'chair': {
      const s = rng.uniform(0.4, 0.48);
      parts.push({ c: [0, 0.45, 0], e: [s / 2, 0.025, s / 2], mat: wood });
      parts.push({ c: [0, 0.7, s / 2 - 0.02], e: [s / 2, 0.22, 0.02], mat: wood });
      legs(s, s, 0.43, 0.02, wood);
      return { parts, w: s, d: s };
    }
    case 'bed': {
      const w = rng.uniform(1.4, 1.8);
      const d = rng.uniform(1.9, 2.1);
      parts.push({ c: [0, 0.25, 0], e: [w / 2, 0.25, d / 2], mat: fabric });
      parts.push({ c: [0, 0.55, d / 2 - 0.04], e: [w / 2, 0.55, 0.04], mat: wood });
      parts.push({ c: [0, 0.56, d / 2 - 0.3], e: [w / 2 - 0.15, 0.06, 0.18], mat: plain });
      return { parts, w, d };
    }
    case 'sofa': {
      const w = rng.uniform(1.6, 2.2);
      const d = 0.85;
      parts.push({ c: [0, 0.22, 0], e: [w / 2, 0.22, d / 2], mat: fabric });
      parts.push({ c: [0, 0.6, d / 2 - 0.1], e: [w / 2, 0.35, 0.1], mat: fabric });
      for (const sx of [-1, 1]) parts.push({ c: [sx * (w / 2 - 0.08), 0.5, 0], e: [0.08, 0.12, d / 2], mat: fabric });
      return { parts, w, d };
    }
    case 'cabinet': {
      const w = rng.uniform(0.6, 1.2);
      const d = rng.uniform(0.4, 0.6);
      const h = rng.uniform(0.9, 2.0);
      parts.push({ c: [0, h / 2, 0], e: [w / 2, h / 2, d / 2], mat: rng.next() < 0.5 ? wood : plain });
      return { parts, w, d };
    }
    case 'shelf': {
      const w = rng.uniform(0.8, 1.4);
      const d = 0.35;
      const h = rng.uniform(1.4, 2.0);
      for (const sx of [-1, 1]) parts.push({ c: [sx * (w / 2 - 0.02), h / 2, 0], e: [0.02, h / 2, d / 2], mat: wood });
      parts.push({ c: [0, h / 2, d / 2 - 0.01], e: [w / 2, h / 2, 0.01], mat: wood });
      const n = 4;
      for (let i = 0; i <= n; i++) parts.push({ c: [0, 0.02 + (i * (h - 0.04)) / n, 0], e: [w / 2, 0.02, d / 2], mat: wood });
      for (let i = 0; i < n; i++) {
        // books on each shelf
        let x = -w / 2 + 0.06;
        while (x < w / 2 - 0.12) {
          const bw = rng.uniform(0.03, 0.07);
          const bh = rng.uniform(0.15, 0.28) * M.min(1, (h - 0.04) / n / 0.32);
          if (rng.next() < 0.8) {
            const col = material(rng, 'plain', jitter(rng, rng.pick([...FABRICS, ...WOODS]), 0.15));
            parts.push({ c: [x + bw / 2, 0.04 + (i * (h - 0.04)) / n + bh / 2, 0.02], e: [bw / 2, bh / 2, 0.11], mat: col });
          }
          x += bw + 0.005;
        }
      }
      return { parts, w, d };
    }
    case 'counter': {
      const w = rng.uniform(1.8, 2.8);
      const d = 0.6;
      parts.push({ c: [0, 0.44, 0], e: [w / 2, 0.44, d / 2], mat: plain });
      parts.push({ c: [0, 0.9, -0.01], e: [w / 2 + 0.01, 0.02, d / 2 + 0.02], mat: material(rng, 'tiles', [0.3, 0.3, 0.32], [0.5, 0.5, 0.52], 0.08) });
      parts.push({ c: [0, 1.7, 0.1], e: [w / 2, 0.35, 0.18], mat: wood });
      return { parts, w, d };
    }
    case 'desk': {
      const w = rng.uniform(1.2, 1.6);
      const d = 0.7;
      parts.push({ c: [0, 0.73, 0], e: [w / 2, 0.02, d / 2], mat: plain });
      parts.push({ c: [w / 2 - 0.22, 0.36, 0], e: [0.2, 0.36, d / 2 - 0.02], mat: wood });
      parts.push({ c: [-w / 2 + 0.03, 0.36, 0], e: [0.02, 0.36, d / 2 - 0.02], mat: wood });
      const screen = material(rng, 'screen', [0.05, 0.05, 0.06], jitter(rng, [0.3, 0.45, 0.7], 0.1));
      parts.push({ c: [0, 0.98, 0.15], e: [0.27, 0.17, 0.015], mat: screen });
      parts.push({ c: [0, 0.79, 0.15], e: [0.03, 0.04, 0.03], mat: plain });
      return { parts, w, d };
    }
    default:
      throw new Error(`unknown furniture ${type}`);
  }
}

const ROOM_FURNITURE: Record<string, readonly string[]> = {
  bedroom: ['bed', 'cabinet', 'cabinet', 'shelf', 'table'],
  kitchen: ['counter', 'table', 'chair', 'chair', 'cabinet'],
  living: ['sofa', 'table', 'shelf', 'cabinet', 'chair'],
  office: ['desk', 'desk', 'chair', 'shelf', 'cabinet'],
  dining: ['table', 'chair', 'chair', 'chair', 'cabinet', 'shelf'],
};

function buildRoom(rng: Prng, type: string): Room {
  const width = rng.uniform(3.6, 5.5);
  const depth = rng.uniform(4.5, 7);
  const height = rng.uniform(2.5, 3.0);
  const floorKind = rng.pick(['wood', 'tiles', 'carpet'] as const);
  const floor =
    floorKind === 'wood'
      ? material(rng, 'wood', jitter(rng, rng.pick(WOODS), 0.06), jitter(rng, rng.pick(WOODS), 0.06), 0.16)
      : floorKind === 'tiles'
        ? material(rng, 'tiles', jitter(rng, [0.8, 0.78, 0.74], 0.08), [0.45, 0.44, 0.42], rng.uniform(0.3, 0.5))
        : material(rng, 'carpet', jitter(rng, rng.pick(FABRICS), 0.08), jitter(rng, rng.pick(FABRICS), 0.08), 0.04);
  const wallColor = jitter(rng, rng.pick(PAINTS), 0.04);
  const walls =
    rng.next() < 0.4
      ? material(rng, 'wallpaper', wallColor, jitter(rng, wallColor, 0.1), rng.uniform(0.08, 0.2))
      : material(rng, 'plain', wallColor);
  const ceiling = material(rng, 'plain', jitter(rng, [0.93, 0.93, 0.91], 0.02));

  const objects: (Box | Sphere)[] = [];
  const placed: Footprint[] = [];
  for (const type2 of ROOM_FURNITURE[type]) {
    const f = furniture(rng, type2);
    for (let attempt = 0; attempt < 40; attempt++) {
      // against a wall (back to the wall) or free-standing
      const side = rng.int(4);
      const free = type2 === 'table' || type2 === 'chair' ? rng.next() < 0.7 : false;
      let yaw: number;
      let x: number;
      let z: number;
      if (free) {
        yaw = (rng.int(4) * M.PI) / 2 + rng.uniform(-0.3, 0.3);
        x = rng.uniform(-width / 2 + 0.8, width / 2 - 0.8);
        z = rng.uniform(1.6, depth - 0.8);
      } else {
        // local +z (the back) faces the wall
        const along = side < 2 ? rng.uniform(1.2 + f.w / 2, depth - f.w / 2 - 0.05) : rng.uniform(-width / 2 + f.w / 2 + 0.05, width / 2 - f.w / 2 - 0.05);
        const off = f.d / 2 + 0.02;
        if (side === 0) [x, z, yaw] = [-width / 2 + off, along, -M.PI / 2];
        else if (side === 1) [x, z, yaw] = [width / 2 - off, along, M.PI / 2];
        else if (side === 2) continue; // never against the wall behind the camera
        else [x, z, yaw] = [along, depth - off, 0];
      }
      const c = M.abs(M.cos(yaw));
      const s = M.abs(M.sin(yaw));
      const hw = (f.w / 2) * c + (f.d / 2) * s;
      const hd = (f.w / 2) * s + (f.d / 2) * c;
      const fp = { x0: x - hw, x1: x + hw, z0: z - hd, z1: z + hd };
      if (fp.x0 < -width / 2 || fp.x1 > width / 2 || fp.z0 < 0.9 || fp.z1 > depth) continue;
      if (placed.some((p) => p.x0 < fp.x1 + 0.1 && fp.x0 < p.x1 + 0.1 && p.z0 < fp.z1 + 0.1 && fp.z0 < p.z1 + 0.1)) continue;
      placed.push(fp);
      const cy = M.cos(yaw);
      const sy = M.sin(yaw);
      for (const p of f.parts) {
        // rotate the part's centre about the group origin (y axis), then translate
        const wx = x + cy * p.c[0] + sy * p.c[2];
        const wz = z - sy * p.c[0] + cy * p.c[2];
        objects.push(box([wx, p.c[1], wz], p.e, yaw, p.mat));
      }
      // a ball or lamp globe on top of some furniture
      const top = M.max(...f.parts.map((p) => p.c[1] + p.e[1]));
      if (top < 1.3 && rng.next() < 0.35) {
        const r = rng.uniform(0.07, 0.15);
        objects.push({ kind: 'sphere', c: [x, top + r, z], r, mat: material(rng, 'plain', jitter(rng, rng.pick([[0.9, 0.85, 0.6], [0.8, 0.3, 0.2], [0.3, 0.6, 0.8]] as Rgb[]), 0.1)) });
      }
      break;
    }
  }

  const decals: Decal[] = [];
  const nDecals = 1 + rng.int(3);
  for (let i = 0; i < nDecals; i++) {
    const wall = rng.pick([0, 1, 3, 3]);
    const span = wall === 3 ? width : depth;
    const lo = wall === 3 ? -width / 2 : 0;
    const isWindow = i === 0 && rng.next() < 0.6;
    const w = isWindow ? rng.uniform(0.8, 1.4) : rng.uniform(0.4, 0.9);
    const a0 = rng.uniform(lo + 0.3, lo + span - w - 0.3);
    const y0 = isWindow ? rng.uniform(0.9, 1.1) : rng.uniform(1.3, 1.6);
    const h = isWindow ? rng.uniform(1.0, M.min(1.4, height - y0 - 0.25)) : rng.uniform(0.35, 0.7);
    const mat = isWindow
      ? material(rng, 'window', [0.85, 0.9, 0.97], [0.55, 0.7, 0.9])
      : material(rng, 'painting', jitter(rng, rng.pick(FABRICS), 0.2), jitter(rng, rng.pick(PAINTS), 0.2), rng.uniform(0.1, 0.25));
    decals.push({ wall, a0, a1: a0 + w, y0, y1: y0 + h, mat });
  }
  const lights = [{ p: [rng.uniform(-width / 4, width / 4), height - 0.15, rng.uniform(depth * 0.3, depth * 0.7)] as [number, number, number], power: rng.uniform(5, 8) }];
  if (rng.next() < 0.5) lights.push({ p: [rng.uniform(-width / 3, width / 3), height - 0.15, rng.uniform(1, depth - 1)], power: rng.uniform(2, 4) });
  return { width, depth, height, floor, walls, ceiling, objects, decals, lights };
}

// ---------------------------------------------------------------------------------------------
// Ray casting

interface Hit {
  t: number;
  nx: number;
  ny: number;
  nz: number;
  mat: Material;
  /** Surface coordinates for textures. */
  s: number;
  r: number;
  /** No depth return (glass). */
  invalid: boolean;
}

function intersectBox(b: Box, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, best: Hit, shadow: boolean): boolean {
  // ray in the box frame: rotate by −yaw about y
  const lx = b.cos * (ox - b.c[0]) - b.sin * (oz - b.c[2]);
  const lz = b.sin * (ox - b.c[0]) + b.cos * (oz - b.c[2]);
  const ly = oy - b.c[1];
  const ldx = b.cos * dx - b.sin * dz;
  const ldz = b.sin * dx + b.cos * dz;
  const ldy = dy;
  let tNear = -INF;
  let tFar = INF;
  let axis = -1;
  let sign = 0;
  const o = [lx, ly, lz];
  const d = [ldx, ldy, ldz];
  for (let a = 0; a < 3; a++) {
    if (M.abs(d[a]) < 1e-12) {
      if (M.abs(o[a]) > b.e[a]) return false;
      continue;
    }
    let t0 = (-b.e[a] - o[a]) / d[a];
    let t1 = (b.e[a] - o[a]) / d[a];
    let s = -1;
    if (t0 > t1) {
      [t0, t1] = [t1, t0];
      s = 1;
    }
    if (t0 > tNear) {
      tNear = t0;
      axis = a;
      sign = s;
    }
    if (t1 < tFar) tFar = t1;
    if (tNear > tFar) return false;
  }
  if (tNear <= 1e-6 || tNear >= best.t) return false;
  if (shadow) {
    best.t = tNear;
    return true;
  }
  // local normal → world
  const n = [0, 0, 0];
  n[axis] = sign;
  best.t = tNear;
  best.nx = b.cos * n[0] + b.sin * n[2];
  best.ny = n[1];
  best.nz = -b.sin * n[0] + b.cos * n[2];
  best.mat = b.mat;
  const px = lx + ldx * tNear;
  const py = ly + ldy * tNear;
  const pz = lz + ldz * tNear;
  // texture coordinates on the hit face
  [best.s, best.r] = axis === 0 ? [pz, py] : axis === 1 ? [px, pz] : [px, py];
  best.invalid = false;
  return true;
}

function intersectSphere(sp: Sphere, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, best: Hit, shadow: boolean): boolean {
  const px = ox - sp.c[0];
  const py = oy - sp.c[1];
  const pz = oz - sp.c[2];
  const a = dx * dx + dy * dy + dz * dz;
  const b = px * dx + py * dy + pz * dz;
  const c = px * px + py * py + pz * pz - sp.r * sp.r;
  const disc = b * b - a * c;
  if (disc < 0) return false;
  const t = (-b - M.sqrt(disc)) / a;
  if (t <= 1e-6 || t >= best.t) return false;
  best.t = t;
  if (shadow) return true;
  best.nx = (px + dx * t) / sp.r;
  best.ny = (py + dy * t) / sp.r;
  best.nz = (pz + dz * t) / sp.r;
  best.mat = sp.mat;
  best.s = M.atan2(best.nx, best.nz) * sp.r;
  best.r = best.ny * sp.r;
  best.invalid = false;
  return true;
}

/** Nearest surface along o + t·d (d need not be unit length; t is in units of d). */
function trace(room: Room, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number): Hit {
  const hit: Hit = { t: INF, nx: 0, ny: 0, nz: 0, mat: room.walls, s: 0, r: 0, invalid: false };
  // the room's inside: the nearest exit through one of the six planes
  const W = room.width / 2;
  const cand: [number, number, number, number, number][] = [];
  if (dx > 0) cand.push([(W - ox) / dx, 1, -1, 0, 0]);
  if (dx < 0) cand.push([(-W - ox) / dx, 0, 1, 0, 0]);
  if (dy > 0) cand.push([(room.height - oy) / dy, 5, 0, -1, 0]);
  if (dy < 0) cand.push([-oy / dy, 4, 0, 1, 0]);
  if (dz > 0) cand.push([(room.depth - oz) / dz, 3, 0, 0, -1]);
  if (dz < 0) cand.push([-oz / dz, 2, 0, 0, 1]);
  let surf = -1;
  for (const [t, id, nx, ny, nz] of cand) {
    if (t < hit.t) {
      hit.t = t;
      surf = id;
      hit.nx = nx;
      hit.ny = ny;
      hit.nz = nz;
    }
  }
  const x = ox + dx * hit.t;
  const y = oy + dy * hit.t;
  const z = oz + dz * hit.t;
  if (surf === 4) [hit.mat, hit.s, hit.r] = [room.floor, x, z];
  else if (surf === 5) [hit.mat, hit.s, hit.r] = [room.ceiling, x, z];
  else {
    const along = surf < 2 ? z : x;
    [hit.mat, hit.s, hit.r] = [room.walls, along, y];
    for (const d of room.decals) {
      if (d.wall === surf && along >= d.a0 && along <= d.a1 && y >= d.y0 && y <= d.y1) {
        hit.mat = d.mat;
        hit.s = along - d.a0;
        hit.r = y - d.y0;
        hit.invalid = d.mat.kind === 'window';
      }
    }
  }
  for (const o of room.objects) {
    if (o.kind === 'box') intersectBox(o, ox, oy, oz, dx, dy, dz, hit, false);
    else intersectSphere(o, ox, oy, oz, dx, dy, dz, hit, false);
  }
  return hit;
}

function occluded(room: Room, ox: number, oy: number, oz: number, tx: number, ty: number, tz: number): boolean {
  const probe: Hit = { t: 1 - 1e-4, nx: 0, ny: 0, nz: 0, mat: room.walls, s: 0, r: 0, invalid: false };
  for (const o of room.objects) {
    if (o.kind === 'box' ? intersectBox(o, ox, oy, oz, tx - ox, ty - oy, tz - oz, probe, true) : intersectSphere(o, ox, oy, oz, tx - ox, ty - oy, tz - oz, probe, true)) return true;
  }
  return false;
}

/** Albedo of a material at surface coordinates (s, r) in metres. */
function albedo(m: Material, s: number, r: number, x: number, y: number, z: number): Rgb {
  const mix = (t: number): Rgb => [
    m.color[0] + (m.color2[0] - m.color[0]) * t,
    m.color[1] + (m.color2[1] - m.color[1]) * t,
    m.color[2] + (m.color2[2] - m.color[2]) * t,
  ];
  const fine = noise3(x * 40, y * 40, z * 40, m.seed);
  switch (m.kind) {
    case 'plain': {
      const k = 0.94 + 0.08 * noise3(x * 6, y * 6, z * 6, m.seed) + 0.03 * fine;
      return [m.color[0] * k, m.color[1] * k, m.color[2] * k];
    }
    case 'wood': {
      // planks along s, grain along the plank
      const plank = M.floor(r / m.scale);
      const tone = hash3(plank, 7, 0, m.seed);
      const grain = 0.5 + 0.5 * M.sin(s * 9 + noise3(s * 2, plank, 0, m.seed) * 6 + tone * 20);
      const seam = r / m.scale - plank < 0.04 ? 0.7 : 1;
      const c = mix(tone);
      const k = (0.85 + 0.2 * grain) * seam;
      return [c[0] * k, c[1] * k, c[2] * k];
    }
    case 'tiles': {
      const u = s / m.scale;
      const v = r / m.scale;
      const grout = u - M.floor(u) < 0.05 || v - M.floor(v) < 0.05;
      if (grout) return m.color2;
      const k = 0.92 + 0.1 * hash3(M.floor(u), M.floor(v), 3, m.seed) + 0.04 * fine;
      return [m.color[0] * k, m.color[1] * k, m.color[2] * k];
    }
    case 'carpet': {
      const c = mix(noise3(s * 3, r * 3, 0, m.seed) * 0.6);
      const k = 0.85 + 0.3 * fine;
      return [c[0] * k, c[1] * k, c[2] * k];
    }
    case 'wallpaper': {
      const stripe = M.floor(s / m.scale) % 2 === 0 ? 0 : 1;
      const c = mix(stripe * 0.8);
      const k = 0.96 + 0.06 * fine;
      return [c[0] * k, c[1] * k, c[2] * k];
    }
    case 'painting': {
      if (s < 0.04 || r < 0.04) return [0.2, 0.15, 0.1]; // frame
      const blob = noise3(s / m.scale, r / m.scale, 1, m.seed);
      const c = mix(blob);
      return [c[0] * (0.6 + blob * 0.5), c[1] * (1.1 - blob * 0.4), c[2]];
    }
    case 'window': {
      const frame = s < 0.05 || r < 0.05 || M.abs(s - 0.5) < 0.025;
      if (frame) return [0.95, 0.95, 0.95];
      return mix(M.min(1, r * 0.8));
    }
    case 'screen': {
      const border = 0.02;
      return s > -0.25 && s < 0.25 && r > -0.15 + border && r < 0.15 - border ? m.color2 : m.color;
    }
  }
}

interface Camera {
  pos: [number, number, number];
  /** Columns: camera x (right), y (down), z (forward) in world coordinates. */
  right: [number, number, number];
  down: [number, number, number];
  fwd: [number, number, number];
}

function camera(pos: [number, number, number], yaw: number, pitch: number, roll: number): Camera {
  // forward from yaw (about world y) and pitch (positive looks up)
  const fwd: [number, number, number] = [M.sin(yaw) * M.cos(pitch), M.sin(pitch), M.cos(yaw) * M.cos(pitch)];
  const right0: [number, number, number] = [M.cos(yaw), 0, -M.sin(yaw)];
  // up0 = fwd × right0 … for a y-up world, camera "down" = right × fwd
  const down0: [number, number, number] = [
    right0[1] * fwd[2] - right0[2] * fwd[1],
    right0[2] * fwd[0] - right0[0] * fwd[2],
    right0[0] * fwd[1] - right0[1] * fwd[0],
  ];
  const cr = M.cos(roll);
  const sr = M.sin(roll);
  const right = right0.map((v, i) => cr * v + sr * down0[i]) as [number, number, number];
  const down = down0.map((v, i) => -sr * right0[i] + cr * v) as [number, number, number];
  return { pos, right, down, fwd };
}

/** Renders colour (linear RGB, H×W×3) and z-depth in metres (0 = no return). */
function render(room: Room, cam: Camera, rng: Prng): { rgb: Uint8Array; depth: Float32Array } {
  const W = NYU_MINI_WIDTH;
  const H = NYU_MINI_HEIGHT;
  const K = NYU_MINI_INTRINSICS;
  const rgb = new Uint8Array(W * H * 3);
  const depth = new Float32Array(W * H);
  const [ox, oy, oz] = cam.pos;
  const exposure = rng.uniform(0.9, 1.15);
  const tint: Rgb = [rng.uniform(0.97, 1.04), 1, rng.uniform(0.93, 1.02)];
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < W; u++) {
      // camera-frame direction with unit z: t along it is the z-depth directly
      const a = (u - K.cx) / K.fx;
      const b = (v - K.cy) / K.fy;
      const dx = cam.right[0] * a + cam.down[0] * b + cam.fwd[0];
      const dy = cam.right[1] * a + cam.down[1] * b + cam.fwd[1];
      const dz = cam.right[2] * a + cam.down[2] * b + cam.fwd[2];
      const hit = trace(room, ox, oy, oz, dx, dy, dz);
      const x = ox + dx * hit.t;
      const y = oy + dy * hit.t;
      const z = oz + dz * hit.t;
      depth[v * W + u] = hit.invalid ? 0 : hit.t;
      const alb = albedo(hit.mat, hit.s, hit.r, x, y, z);
      let light = hit.mat.kind === 'window' || hit.mat.kind === 'screen' ? 0.9 : 0.22;
      if (hit.mat.kind !== 'window') {
        for (const L of room.lights) {
          const lx = L.p[0] - x;
          const ly = L.p[1] - y;
          const lz = L.p[2] - z;
          const d2 = lx * lx + ly * ly + lz * lz;
          const cos = (hit.nx * lx + hit.ny * ly + hit.nz * lz) / M.sqrt(d2);
          if (cos <= 0) continue;
          if (occluded(room, x + hit.nx * 1e-3, y + hit.ny * 1e-3, z + hit.nz * 1e-3, L.p[0], L.p[1], L.p[2])) continue;
          light += (L.power * cos) / (1 + d2);
        }
      }
      for (let c = 0; c < 3; c++) {
        const lin = alb[c] * light * exposure * tint[c] * 0.6;
        const srgb = M.pow(M.min(1, M.max(0, lin)), 1 / 2.2) * 255 + rng.gauss() * 2;
        rgb[(v * W + u) * 3 + c] = M.min(255, M.max(0, M.round(srgb)));
      }
    }
  }
  return { rgb, depth };
}

function inside(room: Room, x: number, y: number, z: number, margin: number): boolean {
  if (x < -room.width / 2 + margin || x > room.width / 2 - margin || z < margin || z > room.depth - margin) return false;
  for (const o of room.objects) {
    if (o.kind !== 'box') continue;
    const lx = o.cos * (x - o.c[0]) - o.sin * (z - o.c[2]);
    const lz = o.sin * (x - o.c[0]) + o.cos * (z - o.c[2]);
    if (M.abs(lx) < o.e[0] + margin && M.abs(lz) < o.e[2] + margin && y < o.c[1] + o.e[1] + margin) return false;
  }
  return true;
}

/** A short camera path through the room (a video sequence: neighbouring frames overlap). */
function cameraPath(room: Room, rng: Prng, frames: number): Camera[] {
  for (let attempt = 0; attempt < 200; attempt++) {
    const start: [number, number, number] = [rng.uniform(-room.width / 2 + 0.6, room.width / 2 - 0.6), rng.uniform(1.2, 1.6), rng.uniform(0.4, 1.2)];
    const step: [number, number, number] = [rng.uniform(-0.2, 0.2), rng.uniform(-0.03, 0.03), rng.uniform(0, 0.2)];
    const yaw0 = rng.uniform(-0.5, 0.5) - start[0] * 0.15;
    const dyaw = rng.uniform(-0.15, 0.15);
    const pitch0 = rng.uniform(-0.35, -0.05);
    const ok = Array.from({ length: frames }, (_, i) => {
      const p: [number, number, number] = [start[0] + step[0] * i, start[1] + step[1] * i, start[2] + step[2] * i];
      return inside(room, p[0], p[1], p[2], 0.35);
    }).every(Boolean);
    if (!ok) continue;
    return Array.from({ length: frames }, (_, i) =>
      camera([start[0] + step[0] * i, start[1] + step[1] * i, start[2] + step[2] * i], yaw0 + dyaw * i, pitch0 + rng.uniform(-0.03, 0.03), rng.uniform(-0.04, 0.04)),
    );
  }
  throw new Error('indoor: no free camera path found');
}

// ---------------------------------------------------------------------------------------------
// Encoding and writing

const README = `# nyudv2-mini

Generated by \`tools/src/datagen/indoor.ts\` (\`generateNyuDv2Mini\`); do not edit by hand.
Same layout as DenseDepth's \`nyu_data.zip\`, read by \`@gpl/nyudv2\`:

- \`data/nyu2_train.csv\`, \`data/nyu2_test.csv\`: no header, rows \`rgb_path,depth_path\` relative to this folder.
- train: \`data/nyu2_train/<scene>_out/<n>.jpg\` (RGB) and \`<n>.png\` (8-bit depth, metres = v/255·10), ${TRAIN_SCENES.length} scenes × ${TRAIN_FRAMES_PER_SCENE} frames.
- test: \`data/nyu2_test/<nnnnn>_colors.png\` and \`<nnnnn>_depth.png\` (16-bit depth in millimetres), ${TEST_SCENES.length * TEST_FRAMES_PER_SCENE} frames from ${TEST_SCENES.length} other rooms.
- depth 0 = no return (window glass).

Images are ${NYU_MINI_WIDTH}×${NYU_MINI_HEIGHT}: NYU's 640×480 scaled by 1/4. Scenes are ray-cast with the NYU toolbox
RGB intrinsics scaled by 1/4: fx = ${NYU_MINI_INTRINSICS.fx}, fy = ${NYU_MINI_INTRINSICS.fy},
cx = ${NYU_MINI_INTRINSICS.cx}, cy = ${NYU_MINI_INTRINSICS.cy} (pixel (u, v) looks along ((u − cx)/fx, (v − cy)/fy, 1)),
and depth is the z-distance along the optical axis, like the Kinect's.
`;

/**
 * Writes `<root>/nyudv2-mini` (about 40 train and 12 test frames). Deterministic: running it
 * twice gives byte-identical files.
 */
export async function generateNyuDv2Mini(root: string): Promise<void> {
  await buildDatasetFolder(path.join(root, 'nyudv2-mini'), async (dir) => {
    const rng = new Prng(SEED);
    const trainRows: string[] = [];
    for (const [name, type] of TRAIN_SCENES) {
      const sceneRng = new Prng((rng.next() * 0xffffffff) >>> 0);
      const room = buildRoom(sceneRng, type);
      const cams = cameraPath(room, sceneRng, TRAIN_FRAMES_PER_SCENE);
      for (let i = 0; i < cams.length; i++) {
        const n = 1 + 3 * i; // every third frame of the sequence, as the subsampled raw videos
        const { rgb, depth } = render(room, cams[i], sceneRng);
        const rel = `data/nyu2_train/${name}_out/${n}`;
        await writeJpeg(path.join(dir, `${rel}.jpg`), rgb, NYU_MINI_WIDTH, NYU_MINI_HEIGHT);
        await writeFileAtomic(path.join(dir, `${rel}.png`), encodeDepthPng(depth, NYU_MINI_WIDTH, NYU_MINI_HEIGHT, 'u8-10m'));
        trainRows.push(`${rel}.jpg,${rel}.png`);
      }
    }
    const testRows: string[] = [];
    let k = 0;
    for (const [, type] of TEST_SCENES) {
      const sceneRng = new Prng((rng.next() * 0xffffffff) >>> 0);
      const room = buildRoom(sceneRng, type);
      const cams = cameraPath(room, sceneRng, TEST_FRAMES_PER_SCENE);
      for (const cam of cams) {
        const { rgb, depth } = render(room, cam, sceneRng);
        const rel = `data/nyu2_test/${String(k++).padStart(5, '0')}`;
        await writeRgbPng(path.join(dir, `${rel}_colors.png`), rgb, NYU_MINI_WIDTH, NYU_MINI_HEIGHT);
        await writeFileAtomic(path.join(dir, `${rel}_depth.png`), encodeDepthPng(depth, NYU_MINI_WIDTH, NYU_MINI_HEIGHT, 'u16-mm'));
        testRows.push(`${rel}_colors.png,${rel}_depth.png`);
      }
    }
    await writeText(path.join(dir, 'data/nyu2_train.csv'), trainRows.join('\n') + '\n');
    await writeText(path.join(dir, 'data/nyu2_test.csv'), testRows.join('\n') + '\n');
    await writeText(path.join(dir, 'README.md'), README);
  });
}

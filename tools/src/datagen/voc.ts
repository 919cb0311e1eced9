/**
 * voc-mini: photos of 1–3 objects from the 20 VOC classes in front of indoor or outdoor
 * backgrounds, in the VOC2012 layout (REFERENCE §2) plus an SBD-style augmentation set:
 *
 *   voc-mini/VOCdevkit/VOC2012/JPEGImages/<id>.jpg                 ≈160×120 (sizes vary)
 *   voc-mini/VOCdevkit/VOC2012/SegmentationClass/<id>.png          palette PNG, 255 boundary band
 *   voc-mini/VOCdevkit/VOC2012/SegmentationObject/<id>.png         palette PNG, object numbers
 *   voc-mini/VOCdevkit/VOC2012/SegmentationClassAug/<id>.png       grey PNG, no boundaries (SBD)
 *   voc-mini/VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val,trainval,aug}.txt
 *
 * Each class has its own silhouette built from parts (wheels, legs, heads, screens …) with colours
 * drawn from overlapping ranges, so shape decides the class, not colour.
 */
import * as path from 'path';
import { vocColormap } from '@gpl/data';
import { Canvas, Prng, fbm2, grainy, hash2, noise2, type Rgb, type Shader } from './canvas';
import { buildDatasetFolder, writeGreyPng, writeJpeg, writePalettePng, writeText } from './write';

// A module-local alias: global lookups (Math) are slow inside vm contexts such as Jest's.
const M = Math;

/** Sizes and split counts of voc-mini. */
export const VOC_MINI = Object.freeze({
  seed: 0x70c2012,
  train: 40,
  val: 20,
  aug: 40,
  sizes: Object.freeze([[160, 120], [160, 120], [160, 120], [120, 160], [160, 112], [150, 120]] as const),
});

interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

type Drawer = (c: Canvas, b: Box, rng: Prng, cls: number, inst: number) => void;

const at = (b: Box, u: number, v: number): [number, number] => [b.x + u * b.w, b.y + v * b.h];

function rectUV(c: Canvas, b: Box, u0: number, v0: number, u1: number, v1: number, sh: Shader, cls: number, inst: number): void {
  const [x0, y0] = at(b, u0, v0);
  const [x1, y1] = at(b, u1, v1);
  c.rect(x0, y0, x1, y1, sh, cls, inst);
}

function ellUV(c: Canvas, b: Box, u: number, v: number, ru: number, rv: number, sh: Shader, cls: number, inst: number): void {
  const [x, y] = at(b, u, v);
  c.ellipse(x, y, ru * b.w, rv * b.h, sh, cls, inst);
}

function polyUV(c: Canvas, b: Box, pts: readonly (readonly [number, number])[], sh: Shader, cls: number, inst: number): void {
  c.polygon(pts.map(([u, v]) => at(b, u, v)), sh, cls, inst);
}

function lineUV(c: Canvas, b: Box, u0: number, v0: number, u1: number, v1: number, hw: number, sh: Shader, cls: number, inst: number): void {
  const [x0, y0] = at(b, u0, v0);
  const [x1, y1] = at(b, u1, v1);
  c.line(x0, y0, x1, y1, M.max(0.6, hw * M.min(b.w, b.h)), sh, cls, inst);
}

function wheel(c: Canvas, b: Box, u: number, v: number, r: number, sh: Shader, cls: number, inst: number, solid: boolean): void {
  const [x, y] = at(b, u, v);
  const rp = r * M.min(b.w, b.h);
  if (solid) c.ellipse(x, y, rp, rp, sh, cls, inst);
  else c.ring(x, y, rp, M.max(1, rp * 0.22), sh, cls, inst);
}

const ANIMAL: readonly Rgb[] = [[190, 120, 50], [120, 120, 120], [30, 28, 26], [220, 215, 205], [150, 100, 60], [230, 180, 110]];
const PAINT: readonly Rgb[] = [[200, 30, 30], [30, 60, 160], [230, 230, 230], [30, 30, 30], [220, 190, 40], [90, 90, 95], [40, 120, 60]];
const FABRIC: readonly Rgb[] = [[120, 40, 40], [60, 80, 120], [150, 140, 120], [80, 80, 80], [170, 120, 70], [60, 100, 70]];
const SKIN: readonly Rgb[] = [[225, 190, 160], [190, 145, 110], [140, 100, 70]];

/** One drawer per VOC class index 1..20 (each draws inside its box, v down). */
const DRAW: Readonly<Record<number, Drawer>> = {
  1: (c, b, r, k, i) => {
    // aeroplane, side view
    const body = grainy(r.jitter(r.pick<Rgb>([[225, 225, 230], [200, 205, 210], [180, 30, 40]]), 10), r.int(1e9), 3, 8, 4);
    polyUV(c, b, [[0.3, 0.5], [0.55, 0.5], [0.42, 0.95]], body, k, i);
    ellUV(c, b, 0.5, 0.5, 0.48, 0.11, body, k, i);
    polyUV(c, b, [[0.02, 0.5], [0.14, 0.5], [0.06, 0.12]], body, k, i);
    for (let u = 0.3; u < 0.85; u += 0.06) ellUV(c, b, u, 0.47, 0.012, 0.025, () => [40, 50, 70], k, i);
  },
  2: (c, b, r, k, i) => {
    // bicycle
    const frame = grainy(r.pick(PAINT), r.int(1e9), 3, 6, 3);
    const tyre = grainy([25, 25, 25], r.int(1e9), 3, 4, 3);
    wheel(c, b, 0.22, 0.7, 0.22, tyre, k, i, false);
    wheel(c, b, 0.78, 0.7, 0.22, tyre, k, i, false);
    for (const [a, bb, cc, d] of [[0.22, 0.7, 0.45, 0.7], [0.45, 0.7, 0.62, 0.35], [0.62, 0.35, 0.36, 0.35], [0.36, 0.35, 0.22, 0.7], [0.45, 0.7, 0.36, 0.3], [0.78, 0.7, 0.64, 0.22]] as const) {
      lineUV(c, b, a, bb, cc, d, 0.025, frame, k, i);
    }
    lineUV(c, b, 0.58, 0.22, 0.72, 0.2, 0.03, tyre, k, i);
    lineUV(c, b, 0.3, 0.28, 0.42, 0.28, 0.035, tyre, k, i);
  },
  3: (c, b, r, k, i) => {
    // bird
    const col = r.jitter(r.pick(ANIMAL), 20);
    const sh = grainy(col, r.int(1e9), 5, 20, 3);
    polyUV(c, b, [[0.25, 0.5], [0.0, 0.35], [0.05, 0.65]], sh, k, i);
    ellUV(c, b, 0.48, 0.55, 0.32, 0.22, sh, k, i);
    ellUV(c, b, 0.78, 0.33, 0.14, 0.16, sh, k, i);
    polyUV(c, b, [[0.9, 0.3], [1.0, 0.36], [0.9, 0.4]], () => [220, 160, 40], k, i);
    lineUV(c, b, 0.45, 0.75, 0.42, 1.0, 0.02, () => [90, 70, 40], k, i);
    lineUV(c, b, 0.55, 0.75, 0.58, 1.0, 0.02, () => [90, 70, 40], k, i);
  },
  4: (c, b, r, k, i) => {
    // boat
    const hull = grainy(r.pick(PAINT), r.int(1e9), 4, 10, 4);
    polyUV(c, b, [[0.02, 0.62], [0.98, 0.62], [0.82, 0.9], [0.15, 0.9]], hull, k, i);
    lineUV(c, b, 0.5, 0.05, 0.5, 0.62, 0.015, () => [120, 100, 80], k, i);
    if (r.chance(0.7)) polyUV(c, b, [[0.52, 0.06], [0.52, 0.58], [0.9, 0.58]], grainy([235, 232, 225], r.int(1e9), 3, 8, 5), k, i);
    else rectUV(c, b, 0.25, 0.4, 0.7, 0.62, grainy([220, 220, 225], r.int(1e9), 3, 6, 4), k, i);
  },
  5: (c, b, r, k, i) => {
    // bottle
    const glass = grainy(r.pick<Rgb>([[40, 110, 50], [110, 60, 20], [170, 190, 180], [30, 60, 120]]), r.int(1e9), 4, 12, 2);
    rectUV(c, b, 0.28, 0.38, 0.72, 1.0, glass, k, i);
    ellUV(c, b, 0.5, 0.38, 0.22, 0.08, glass, k, i);
    rectUV(c, b, 0.42, 0.04, 0.58, 0.36, glass, k, i);
    rectUV(c, b, 0.4, 0.0, 0.6, 0.07, grainy([200, 170, 40], r.int(1e9), 3, 4, 2), k, i);
    if (r.chance(0.6)) rectUV(c, b, 0.28, 0.55, 0.72, 0.78, grainy(r.pick(PAINT), r.int(1e9), 3, 6, 2), k, i);
    rectUV(c, b, 0.33, 0.42, 0.38, 0.95, () => [230, 235, 230], k, i);
  },
  6: (c, b, r, k, i) => {
    // bus
    const body = grainy(r.pick<Rgb>([[230, 190, 30], [200, 40, 40], [235, 235, 235], [40, 80, 160]]), r.int(1e9), 4, 10, 5);
    rectUV(c, b, 0, 0.08, 1, 0.86, body, k, i);
    rectUV(c, b, 0.04, 0.18, 0.96, 0.45, grainy([45, 55, 70], r.int(1e9), 4, 18, 3), k, i);
    for (let u = 0.16; u < 0.96; u += 0.16) rectUV(c, b, u, 0.18, u + 0.015, 0.45, body, k, i);
    wheel(c, b, 0.18, 0.86, 0.11, grainy([25, 25, 25], 3, 3, 4, 2), k, i, true);
    wheel(c, b, 0.82, 0.86, 0.11, grainy([25, 25, 25], 4, 3, 4, 2), k, i, true);
  },
  7: (c, b, r, k, i) => {
    // car, side view
    const body = grainy(r.pick(PAINT), r.int(1e9), 4, 10, 4);
    polyUV(c, b, [[0.2, 0.46], [0.3, 0.14], [0.7, 0.14], [0.84, 0.46]], body, k, i);
    rectUV(c, b, 0, 0.44, 1, 0.82, body, k, i);
    polyUV(c, b, [[0.26, 0.44], [0.34, 0.2], [0.49, 0.2], [0.49, 0.44]], grainy([50, 60, 75], r.int(1e9), 4, 15, 2), k, i);
    polyUV(c, b, [[0.53, 0.44], [0.53, 0.2], [0.67, 0.2], [0.78, 0.44]], grainy([50, 60, 75], r.int(1e9), 4, 15, 2), k, i);
    wheel(c, b, 0.2, 0.8, 0.14, grainy([25, 25, 25], 5, 3, 4, 2), k, i, true);
    wheel(c, b, 0.8, 0.8, 0.14, grainy([25, 25, 25], 6, 3, 4, 2), k, i, true);
    wheel(c, b, 0.2, 0.8, 0.06, () => [170, 170, 175], k, i, true);
    wheel(c, b, 0.8, 0.8, 0.06, () => [170, 170, 175], k, i, true);
  },
  8: (c, b, r, k, i) => {
    // cat
    const col = r.jitter(r.pick(ANIMAL), 15);
    const seed = r.int(1e9);
    const fur: Shader = (x, y) => {
      const s = (M.floor((x + y * 0.3) / 3) & 1) === 0 ? 0.78 : 1;
      const g = grainy(col, seed, 5, 14, 3)(x, y);
      return [g[0] * s, g[1] * s, g[2] * s];
    };
    lineUV(c, b, 0.15, 0.62, 0.03, 0.2, 0.04, fur, k, i);
    ellUV(c, b, 0.45, 0.6, 0.32, 0.2, fur, k, i);
    for (const u of [0.25, 0.38, 0.55, 0.66]) rectUV(c, b, u, 0.68, u + 0.06, 1.0, fur, k, i);
    ellUV(c, b, 0.8, 0.36, 0.15, 0.17, fur, k, i);
    polyUV(c, b, [[0.67, 0.3], [0.7, 0.06], [0.78, 0.24]], fur, k, i);
    polyUV(c, b, [[0.82, 0.24], [0.9, 0.06], [0.93, 0.3]], fur, k, i);
    ellUV(c, b, 0.76, 0.33, 0.02, 0.03, () => [60, 160, 60], k, i);
    ellUV(c, b, 0.86, 0.33, 0.02, 0.03, () => [60, 160, 60], k, i);
  },
  9: (c, b, r, k, i) => {
    // chair
    const wood = grainy(r.pick<Rgb>([[120, 80, 45], [90, 60, 35], [160, 120, 80], [60, 60, 65]]), r.int(1e9), 4, 10, 3);
    rectUV(c, b, 0.12, 0.0, 0.26, 0.58, wood, k, i);
    rectUV(c, b, 0.12, 0.5, 0.92, 0.6, wood, k, i);
    for (const u of [0.14, 0.84]) rectUV(c, b, u, 0.58, u + 0.07, 1.0, wood, k, i);
    rectUV(c, b, 0.14, 0.8, 0.9, 0.84, wood, k, i);
    if (r.chance(0.5)) rectUV(c, b, 0.14, 0.08, 0.24, 0.45, grainy(r.pick(FABRIC), r.int(1e9), 4, 8, 3), k, i);
  },
  10: (c, b, r, k, i) => {
    // cow
    const base: Rgb = r.chance(0.5) ? [235, 230, 225] : [120, 75, 45];
    const seed = r.int(1e9);
    const hide: Shader = (x, y) => (fbm2(x / 6, y / 6, seed) > 0.55 ? [35, 30, 28] : grainy(base, seed, 5, 10, 4)(x, y));
    for (const u of [0.14, 0.26, 0.6, 0.72]) rectUV(c, b, u, 0.55, u + 0.08, 1.0, hide, k, i);
    ellUV(c, b, 0.45, 0.45, 0.38, 0.22, hide, k, i);
    polyUV(c, b, [[0.75, 0.35], [0.88, 0.22], [1.0, 0.42], [0.92, 0.55]], hide, k, i);
    lineUV(c, b, 0.08, 0.4, 0.03, 0.75, 0.015, hide, k, i);
    polyUV(c, b, [[0.86, 0.22], [0.84, 0.12], [0.9, 0.2]], () => [220, 210, 190], k, i);
  },
  11: (c, b, r, k, i) => {
    // diningtable with a perspective top
    const top = grainy(r.pick<Rgb>([[140, 95, 55], [230, 228, 220], [110, 70, 40], [180, 150, 110]]), r.int(1e9), 4, 12, 4);
    polyUV(c, b, [[0.12, 0.2], [0.88, 0.2], [1.0, 0.45], [0.0, 0.45]], top, k, i);
    rectUV(c, b, 0.0, 0.45, 1.0, 0.52, top, k, i);
    for (const u of [0.04, 0.9]) rectUV(c, b, u, 0.5, u + 0.06, 1.0, top, k, i);
    for (const u of [0.2, 0.72]) rectUV(c, b, u, 0.45, u + 0.05, 0.85, top, k, i);
  },
  12: (c, b, r, k, i) => {
    // dog
    const col = r.jitter(r.pick(ANIMAL), 20);
    const fur = grainy(col, r.int(1e9), 6, 18, 3);
    lineUV(c, b, 0.12, 0.45, 0.0, 0.25, 0.035, fur, k, i);
    ellUV(c, b, 0.45, 0.5, 0.35, 0.19, fur, k, i);
    for (const u of [0.18, 0.3, 0.6, 0.72]) rectUV(c, b, u, 0.58, u + 0.07, 1.0, fur, k, i);
    ellUV(c, b, 0.82, 0.3, 0.13, 0.16, fur, k, i);
    ellUV(c, b, 0.94, 0.36, 0.07, 0.07, fur, k, i);
    ellUV(c, b, 0.74, 0.34, 0.05, 0.13, grainy([col[0] * 0.6, col[1] * 0.6, col[2] * 0.6], 7, 4, 8, 2), k, i);
    ellUV(c, b, 0.99, 0.35, 0.02, 0.025, () => [20, 20, 20], k, i);
  },
  13: (c, b, r, k, i) => {
    // horse
    const col = r.jitter(r.pick<Rgb>([[110, 65, 35], [40, 30, 25], [200, 190, 180], [150, 100, 60]]), 12);
    const hide = grainy(col, r.int(1e9), 4, 10, 4);
    for (const u of [0.17, 0.28, 0.6, 0.7]) lineUV(c, b, u, 0.5, u - 0.01, 1.0, 0.03, hide, k, i);
    ellUV(c, b, 0.44, 0.45, 0.32, 0.16, hide, k, i);
    polyUV(c, b, [[0.66, 0.42], [0.74, 0.3], [0.84, 0.05], [0.92, 0.1], [0.82, 0.48]], hide, k, i);
    polyUV(c, b, [[0.84, 0.05], [1.0, 0.18], [0.96, 0.24], [0.86, 0.16]], hide, k, i);
    lineUV(c, b, 0.12, 0.38, 0.03, 0.7, 0.03, grainy([30, 25, 20], 8, 4, 6, 2), k, i);
  },
  14: (c, b, r, k, i) => {
    // motorbike
    const paint = grainy(r.pick(PAINT), r.int(1e9), 4, 10, 3);
    const tyre = grainy([25, 25, 25], r.int(1e9), 3, 4, 3);
    wheel(c, b, 0.2, 0.75, 0.22, tyre, k, i, false);
    wheel(c, b, 0.8, 0.75, 0.22, tyre, k, i, false);
    polyUV(c, b, [[0.3, 0.75], [0.35, 0.45], [0.68, 0.4], [0.7, 0.7]], grainy([70, 70, 75], r.int(1e9), 4, 10, 2), k, i);
    polyUV(c, b, [[0.32, 0.45], [0.45, 0.3], [0.66, 0.3], [0.7, 0.42]], paint, k, i);
    rectUV(c, b, 0.18, 0.36, 0.42, 0.42, grainy([25, 25, 25], 9, 3, 4, 2), k, i);
    lineUV(c, b, 0.8, 0.75, 0.7, 0.2, 0.03, tyre, k, i);
    lineUV(c, b, 0.66, 0.18, 0.78, 0.16, 0.03, tyre, k, i);
  },
  15: (c, b, r, k, i) => {
    // person: full figure or a head-and-shoulders portrait
    const shirt = grainy(r.jitter(r.pick(FABRIC.concat(PAINT)), 15), r.int(1e9), 4, 14, 3);
    const skin = grainy(r.pick(SKIN), r.int(1e9), 3, 6, 3);
    const hair = grainy(r.pick<Rgb>([[30, 25, 20], [90, 60, 30], [200, 170, 110], [130, 130, 130]]), r.int(1e9), 4, 8, 2);
    if (r.chance(0.5)) {
      const legs = grainy(r.pick(FABRIC), r.int(1e9), 4, 10, 3);
      lineUV(c, b, 0.42, 0.55, 0.36, 1.0, 0.05, legs, k, i);
      lineUV(c, b, 0.58, 0.55, 0.64, 1.0, 0.05, legs, k, i);
      rectUV(c, b, 0.3, 0.18, 0.7, 0.58, shirt, k, i);
      lineUV(c, b, 0.3, 0.2, 0.18, 0.55, 0.04, shirt, k, i);
      lineUV(c, b, 0.7, 0.2, 0.82, 0.55, 0.04, shirt, k, i);
      ellUV(c, b, 0.5, 0.09, 0.1, 0.08, skin, k, i);
      ellUV(c, b, 0.5, 0.05, 0.1, 0.045, hair, k, i);
    } else {
      polyUV(c, b, [[0.0, 1.0], [0.08, 0.62], [0.92, 0.62], [1.0, 1.0]], shirt, k, i);
      rectUV(c, b, 0.4, 0.5, 0.6, 0.66, skin, k, i);
      ellUV(c, b, 0.5, 0.33, 0.21, 0.25, skin, k, i);
      ellUV(c, b, 0.5, 0.15, 0.22, 0.12, hair, k, i);
      ellUV(c, b, 0.42, 0.33, 0.025, 0.02, () => [30, 30, 30], k, i);
      ellUV(c, b, 0.58, 0.33, 0.025, 0.02, () => [30, 30, 30], k, i);
    }
  },
  16: (c, b, r, k, i) => {
    // pottedplant
    const pot = grainy(r.pick<Rgb>([[170, 90, 50], [200, 200, 195], [60, 60, 65], [140, 60, 40]]), r.int(1e9), 4, 8, 3);
    const seed = r.int(1e9);
    const leaf: Shader = (x, y) => {
      const g = (fbm2(x / 2.5, y / 2.5, seed) - 0.5) * 90;
      return [55 + g * 0.5, 115 + g, 45 + g * 0.4];
    };
    const [cx, cy] = at(b, 0.5, 0.38);
    c.fillWhere(b.x, b.y, b.x + b.w, b.y + b.h * 0.72, (px, py) => {
      const dx = (px - cx) / (0.48 * b.w);
      const dy = (py - cy) / (0.38 * b.h);
      return dx * dx + dy * dy <= 0.7 + 0.5 * noise2(px / 3, py / 3, seed);
    }, leaf, k, i);
    polyUV(c, b, [[0.28, 0.66], [0.72, 0.66], [0.64, 1.0], [0.36, 1.0]], pot, k, i);
  },
  17: (c, b, r, k, i) => {
    // sheep
    const seed = r.int(1e9);
    const wool: Shader = (x, y) => {
      const g = (noise2(x / 1.6, y / 1.6, seed) - 0.5) * 50;
      return [225 + g, 218 + g, 200 + g];
    };
    for (const u of [0.22, 0.32, 0.6, 0.7]) rectUV(c, b, u, 0.6, u + 0.05, 1.0, grainy([40, 35, 30], 10, 3, 4, 2), k, i);
    const [cx, cy] = at(b, 0.45, 0.45);
    c.fillWhere(b.x, b.y, b.x + b.w, b.y + b.h, (px, py) => {
      const dx = (px - cx) / (0.38 * b.w);
      const dy = (py - cy) / (0.27 * b.h);
      return dx * dx + dy * dy <= 0.8 + 0.35 * noise2(px / 2, py / 2, seed + 1);
    }, wool, k, i);
    ellUV(c, b, 0.86, 0.38, 0.11, 0.13, grainy([45, 40, 35], 11, 3, 6, 2), k, i);
  },
  18: (c, b, r, k, i) => {
    // sofa
    const fab = grainy(r.jitter(r.pick(FABRIC), 15), r.int(1e9), 4, 10, 3);
    const dark = grainy(r.pick<Rgb>([[40, 30, 25], [70, 70, 70]]), r.int(1e9), 3, 4, 2);
    rectUV(c, b, 0.04, 0.12, 0.96, 0.52, fab, k, i);
    rectUV(c, b, 0.0, 0.48, 1.0, 0.88, fab, k, i);
    rectUV(c, b, 0.0, 0.34, 0.12, 0.88, fab, k, i);
    rectUV(c, b, 0.88, 0.34, 1.0, 0.88, fab, k, i);
    rectUV(c, b, 0.5, 0.16, 0.51, 0.5, dark, k, i);
    for (const u of [0.04, 0.92]) rectUV(c, b, u, 0.88, u + 0.04, 1.0, dark, k, i);
  },
  19: (c, b, r, k, i) => {
    // train
    const body = grainy(r.pick<Rgb>([[200, 40, 40], [230, 230, 230], [40, 90, 160], [230, 190, 30], [60, 120, 70]]), r.int(1e9), 4, 10, 5);
    polyUV(c, b, [[0.0, 0.12], [0.85, 0.12], [1.0, 0.4], [1.0, 0.88], [0.0, 0.88]], body, k, i);
    for (let u = 0.05; u < 0.78; u += 0.12) rectUV(c, b, u, 0.24, u + 0.08, 0.48, grainy([45, 55, 70], 12, 4, 14, 2), k, i);
    polyUV(c, b, [[0.86, 0.2], [0.96, 0.42], [0.86, 0.42]], grainy([45, 55, 70], 13, 4, 14, 2), k, i);
    rectUV(c, b, 0.0, 0.6, 1.0, 0.66, grainy([235, 235, 235], 14, 3, 4, 2), k, i);
  },
  20: (c, b, r, k, i) => {
    // tvmonitor with something on screen
    const frame = grainy(r.pick<Rgb>([[25, 25, 28], [60, 60, 65], [200, 200, 205]]), r.int(1e9), 3, 6, 3);
    rectUV(c, b, 0.0, 0.0, 1.0, 0.8, frame, k, i);
    const seed = r.int(1e9);
    const a = r.jitter(r.pick(PAINT), 40);
    const screen: Shader = (x, y) => {
      const g = fbm2(x / 5, y / 5, seed);
      return [a[0] * g + 40, a[1] * g + 60, a[2] * g + 80];
    };
    rectUV(c, b, 0.06, 0.07, 0.94, 0.73, screen, k, i);
    rectUV(c, b, 0.44, 0.8, 0.56, 0.92, frame, k, i);
    rectUV(c, b, 0.28, 0.92, 0.72, 1.0, frame, k, i);
  },
};

/** Typical width/height ratio of each class's box. */
const ASPECT: Readonly<Record<number, number>> = {
  1: 2.2, 2: 1.5, 3: 1.2, 4: 1.1, 5: 0.35, 6: 1.8, 7: 2.0, 8: 1.4, 9: 0.7, 10: 1.5, 11: 1.6, 12: 1.5, 13: 1.3, 14: 1.5, 15: 0.45, 16: 0.8, 17: 1.4, 18: 1.8, 19: 2.5, 20: 1.2,
};

/** Classes that belong outdoors (others are indoor objects; animals and people go anywhere). */
const OUTDOOR = new Set([1, 2, 4, 6, 7, 10, 13, 14, 17, 19]);
const INDOOR = new Set([5, 9, 11, 16, 18, 20]);

function background(c: Canvas, rng: Prng, outdoor: boolean, water: boolean): number {
  const W = c.width;
  const H = c.height;
  const horizon = H * rng.uniform(0.35, 0.65);
  const seed = rng.int(1e9);
  if (outdoor) {
    const sky = rng.jitter([120, 165, 215], 25);
    c.rect(0, 0, W, H, (x, y) => {
      const t = y / H;
      const cl = M.max(0, fbm2(x / 18, y / 8, seed) - 0.5) * 120;
      return [sky[0] + 60 * t + cl, sky[1] + 40 * t + cl, sky[2] + 20 * t + cl];
    }, 0);
    if (rng.chance(0.5)) {
      const far = rng.jitter([90, 110, 80], 20);
      c.fillWhere(0, 0, W, horizon, (px, py) => py > horizon - H * (0.08 + 0.12 * fbm2(px / 25, 0, seed + 1)), grainy(far, seed + 2, 4, 20, 5), 0);
    }
    const ground: Rgb = water ? rng.jitter([50, 90, 130], 15) : rng.pick<Rgb>([[100, 140, 60], [150, 130, 100], [110, 110, 115], [170, 160, 130]]);
    c.rect(0, horizon, W, H, (x, y) => {
      const g = grainy(ground, seed + 3, 6, 22, 6)(x, y);
      const ripple = water ? (noise2(x / 6, y / 1.5, seed + 4) - 0.5) * 40 : 0;
      return [g[0] + ripple, g[1] + ripple, g[2] + ripple];
    }, 0);
  } else {
    const wall = rng.jitter(rng.pick<Rgb>([[210, 200, 180], [180, 190, 200], [200, 170, 150], [230, 228, 220], [150, 160, 140]]), 15);
    c.rect(0, 0, W, horizon, grainy(wall, seed, 4, 14, 10), 0);
    const floor = rng.jitter(rng.pick<Rgb>([[140, 100, 60], [120, 115, 110], [170, 150, 120], [90, 70, 60]]), 15);
    c.rect(0, horizon, W, H, (x, y) => {
      const plank = (M.floor(x / 9) & 1) === 0 ? 1 : 0.9;
      const g = grainy(floor, seed + 1, 5, 14, 6)(x, y);
      return [g[0] * plank, g[1] * plank, g[2] * plank];
    }, 0);
    if (rng.chance(0.5)) {
      // A window or door in the wall: background, as in VOC.
      const wx = rng.uniform(0, W * 0.7);
      const ww = rng.uniform(W * 0.15, W * 0.3);
      c.rect(wx, horizon * 0.15, wx + ww, horizon * 0.8, grainy(rng.jitter([190, 215, 235], 15), seed + 2, 3, 20, 6), 0);
      c.rect(wx + ww / 2 - 1, horizon * 0.15, wx + ww / 2 + 1, horizon * 0.8, () => [240, 240, 240], 0);
    }
  }
  return horizon;
}

/** A rendered VOC-style photo: colour, class map (0..20), object map (0, 1..n). */
export interface VocScene {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  readonly cls: Uint8Array;
  readonly obj: Uint8Array;
}

/** Renders one photo with 1–3 objects (weights favour person, as in VOC). */
export function renderVocScene(seed: number, width: number, height: number): VocScene {
  const rng = new Prng(seed);
  const c = new Canvas(width, height);
  const first = rng.chance(0.25) ? 15 : rng.range(1, 20);
  const outdoor = OUTDOOR.has(first) ? true : INDOOR.has(first) ? false : rng.chance(0.5);
  const horizon = background(c, rng, outdoor, first === 4);
  const n = rng.chance(0.5) ? 1 : rng.range(2, 3);
  const classes = [first];
  for (let k = 1; k < n; k++) {
    const pool = Array.from({ length: 20 }, (_, j) => j + 1).filter((j) => (outdoor ? !INDOOR.has(j) : !OUTDOOR.has(j)));
    classes.push(rng.chance(0.3) ? 15 : rng.pick(pool));
  }
  // Farther (smaller, higher) objects first, so nearer ones occlude them.
  const placed = classes.map((cls, k) => {
    const scale = k === 0 ? rng.uniform(0.45, 0.85) : rng.uniform(0.25, 0.6);
    const aspect = ASPECT[cls] * rng.uniform(0.85, 1.15);
    let w = width * scale;
    let h = w / aspect;
    if (h > height * 0.9) {
      h = height * rng.uniform(0.6, 0.9);
      w = h * aspect;
    }
    w = M.min(w, width * 0.98);
    const bottom = M.min(height, M.max(horizon + h * 0.15, rng.uniform(horizon + 5, height + h * 0.1)));
    const x = rng.uniform(-w * 0.1, width - w * 0.9);
    return { cls, box: { x, y: cls === 1 || (cls === 3 && rng.chance(0.5)) ? rng.uniform(0, height * 0.4) : bottom - h, w, h }, sort: bottom };
  });
  placed.sort((a, b) => a.sort - b.sort);
  placed.forEach((p, k) => DRAW[p.cls](c, p.box, rng, p.cls, k + 1));
  const obj = new Uint8Array(width * height);
  for (let i = 0; i < obj.length; i++) obj[i] = c.inst[i];
  c.light((x, y) => 0.85 + 0.3 * noise2(x / 60, y / 60, seed));
  return { width, height, rgb: c.toRgb8(3, seed ^ 0x1234567), cls: c.cls, obj };
}

/**
 * VOC's void band: pixels within one pixel (8-neighbourhood) of a different object get 255, so
 * every object outline is ringed by a ≈3-pixel-wide band, as in SegmentationClass.
 */
export function addBoundaries(values: Uint8Array, objects: Uint8Array, width: number, height: number): Uint8Array {
  const out = Uint8Array.from(values);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = objects[y * width + x];
      let edge = false;
      for (let dy = -1; dy <= 1 && !edge; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
          if (objects[yy * width + xx] !== o) {
            edge = true;
            break;
          }
        }
      }
      if (edge) out[y * width + x] = 255;
    }
  }
  return out;
}

/** VOC-style image ids (`2007_000032` …), sorted. */
export function vocIds(n: number, seed: number): string[] {
  const ids = new Set<string>();
  let k = 0;
  while (ids.size < n) {
    const year = 2007 + (hash2(k, 1, seed) % 5);
    const num = 1 + (hash2(k, 2, seed) % 9000);
    ids.add(`${year}_${String(num).padStart(6, '0')}`);
    k++;
  }
  return [...ids].sort();
}

/** Writes `<root>/voc-mini` (deterministic; built beside the old copy and swapped in). */
export async function generateVocMini(root: string): Promise<void> {
  const palette = vocColormap(256);
  await buildDatasetFolder(path.join(root, 'voc-mini'), async (dir) => {
    const voc = path.join(dir, 'VOCdevkit', 'VOC2012');
    const total = VOC_MINI.train + VOC_MINI.val + VOC_MINI.aug;
    const ids = vocIds(total, VOC_MINI.seed);
    // Ids go to splits in a seeded order, so each split spans the years; lists are then sorted.
    const order = ids.map((id, k) => ({ id, key: hash2(k, 4, VOC_MINI.seed) })).sort((p, q) => p.key - q.key || (p.id < q.id ? -1 : 1));
    const lists: Record<'train' | 'val' | 'aug', string[]> = {
      train: order.slice(0, VOC_MINI.train).map((p) => p.id).sort(),
      val: order.slice(VOC_MINI.train, VOC_MINI.train + VOC_MINI.val).map((p) => p.id).sort(),
      aug: order.slice(VOC_MINI.train + VOC_MINI.val).map((p) => p.id).sort(),
    };
    let k = 0;
    for (const id of ids) {
      const [w, h] = VOC_MINI.sizes[hash2(k, 3, VOC_MINI.seed) % VOC_MINI.sizes.length];
      const scene = renderVocScene(hash2(VOC_MINI.seed, k++, 0x70c), w, h);
      await writeJpeg(path.join(voc, 'JPEGImages', `${id}.jpg`), scene.rgb, w, h);
      const isAug = lists.aug.includes(id);
      if (!isAug) {
        const cls = addBoundaries(scene.cls, scene.obj, w, h);
        await writePalettePng(path.join(voc, 'SegmentationClass', `${id}.png`), cls, w, h, palette);
        await writePalettePng(path.join(voc, 'SegmentationObject', `${id}.png`), addBoundaries(scene.obj, scene.obj, w, h), w, h, palette);
      }
      if (!lists.val.includes(id)) {
        // SBD-converted labels (MMS voc_aug.py): grey class indices, no boundary band.
        await writeGreyPng(path.join(voc, 'SegmentationClassAug', `${id}.png`), scene.cls, w, h);
      }
    }
    const sets = path.join(voc, 'ImageSets', 'Segmentation');
    const line = (l: string[]): string => l.map((s) => `${s}\n`).join('');
    await writeText(path.join(sets, 'train.txt'), line(lists.train));
    await writeText(path.join(sets, 'val.txt'), line(lists.val));
    await writeText(path.join(sets, 'trainval.txt'), line([...lists.train, ...lists.val].sort()));
    await writeText(path.join(sets, 'aug.txt'), line(lists.aug));
  });
}


/**
 * coco-mini: outdoor scenes with several object instances, written in COCO 2017's layout and
 * JSON format (REFERENCE.md §8) that `@gpl/coco` reads:
 *
 *   coco-mini/annotations/instances_{train,val}2017.json
 *   coco-mini/{train,val}2017/<12-digit id>.jpg
 *
 * Each image has 2–6 instances of eight real COCO categories (real ids and names), placed with
 * perspective and drawn back to front, so nearer objects occlude farther ones. Annotations are
 * made the way a person makes them: the *visible* part of each object is outlined (traced along
 * pixel edges, then simplified to a polygon with a 0.7 px tolerance), and the image is painted
 * from exactly those polygons as rasterised by pycocotools' rule, so every pixel an annotation
 * claims shows its object (apart from the odd boundary pixel shared with an occluder). Some
 * images have a distant crowd of small people, annotated as one `iscrowd: 1` person with an
 * uncompressed RLE, as in real COCO. `area` and `bbox` are the mask's area and tight box.
 *
 * Deterministic: a fixed-seed integer PRNG and the pinned writers of `./write` (JPEG options
 * fixed, atomic writes, the folder built beside the old one and swapped in).
 */
import * as path from 'path';
import { decodeRle, encodeMask, polygonsToRle, rleArea, rleToBbox } from '@gpl/coco';
import { buildDatasetFolder, writeJpeg, writeText } from './write';

export const COCO_MINI_WIDTH = 256;
export const COCO_MINI_HEIGHT = 192;
const TRAIN_IMAGES = 40;
const VAL_IMAGES = 12;
const SEED = 20170101;

/** The categories used: a subset of COCO's 80 with their real ids, names and supercategories. */
export const COCO_MINI_CATEGORIES = Object.freeze([
  { supercategory: 'person', id: 1, name: 'person' },
  { supercategory: 'vehicle', id: 3, name: 'car' },
  { supercategory: 'outdoor', id: 13, name: 'stop sign' },
  { supercategory: 'sports', id: 34, name: 'frisbee' },
  { supercategory: 'sports', id: 37, name: 'sports ball' },
  { supercategory: 'sports', id: 38, name: 'kite' },
  { supercategory: 'kitchen', id: 44, name: 'bottle' },
  { supercategory: 'electronic', id: 72, name: 'tv' },
]);

// Jest runs modules in a vm context where every global lookup is slow; a module-level alias of
// Math keeps the renderer about ten times faster under test.
const M = Math;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness (integer hashing only)

class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
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
  gauss(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.732;
  }
}

function hash2(x: number, y: number, seed: number): number {
  let h = M.imul(x | 0, 0x27d4eb2d) ^ M.imul(y | 0, 0x165667b1) ^ seed;
  h = M.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = M.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function noise2(x: number, y: number, seed: number): number {
  const xi = M.floor(x);
  const yi = M.floor(y);
  const fx = x - xi;
  const fy = y - yi;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash2(xi, yi, seed);
  const b = hash2(xi + 1, yi, seed);
  const c = hash2(xi, yi + 1, seed);
  const d = hash2(xi + 1, yi + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

// ---------------------------------------------------------------------------------------------
// Shapes: every object is a list of coloured polygon parts (later parts are drawn over earlier ones)

type Rgb = [number, number, number];
type Pt = [number, number];

interface Part {
  readonly poly: readonly Pt[];
  readonly color: Rgb;
  /** Pattern seed, or 0 for a plain colour. */
  readonly pattern: number;
}

interface Thing {
  readonly categoryId: number;
  readonly parts: readonly Part[];
  /** Depth order key: larger is nearer (drawn later). */
  readonly z: number;
}

function ellipse(cx: number, cy: number, rx: number, ry: number, rot = 0, n = 36): Pt[] {
  const c = M.cos(rot);
  const s = M.sin(rot);
  return Array.from({ length: n }, (_, i) => {
    const a = (2 * M.PI * i) / n;
    const x = rx * M.cos(a);
    const y = ry * M.sin(a);
    return [cx + c * x - s * y, cy + s * x + c * y] as Pt;
  });
}

function rect(x0: number, y0: number, x1: number, y1: number): Pt[] {
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ];
}

/** A bar of width `w` from p to q (limbs, sticks). */
function bar(p: Pt, q: Pt, w: number): Pt[] {
  const dx = q[0] - p[0];
  const dy = q[1] - p[1];
  const l = M.hypot(dx, dy) || 1;
  const nx = (-dy / l) * (w / 2);
  const ny = (dx / l) * (w / 2);
  return [
    [p[0] + nx, p[1] + ny],
    [q[0] + nx, q[1] + ny],
    [q[0] - nx, q[1] - ny],
    [p[0] - nx, p[1] - ny],
  ];
}

function regular(cx: number, cy: number, r: number, n: number, rot: number): Pt[] {
  return Array.from({ length: n }, (_, i) => [cx + r * M.cos(rot + (2 * M.PI * i) / n), cy + r * M.sin(rot + (2 * M.PI * i) / n)] as Pt);
}

const SHIRTS: Rgb[] = [
  [0.8, 0.15, 0.15],
  [0.15, 0.3, 0.75],
  [0.9, 0.8, 0.2],
  [0.2, 0.6, 0.3],
  [0.95, 0.95, 0.95],
  [0.5, 0.2, 0.6],
];
const SKINS: Rgb[] = [
  [0.94, 0.78, 0.66],
  [0.78, 0.57, 0.42],
  [0.55, 0.38, 0.26],
  [0.36, 0.24, 0.17],
];
const PAINT: Rgb[] = [
  [0.75, 0.1, 0.1],
  [0.1, 0.2, 0.6],
  [0.85, 0.85, 0.88],
  [0.15, 0.15, 0.17],
  [0.9, 0.6, 0.1],
  [0.3, 0.55, 0.35],
];

const plain = (poly: Pt[], color: Rgb): Part => ({ poly, color, pattern: 0 });

/** A standing person of height h with feet at (x, y). */
function person(rng: Prng, x: number, y: number, h: number): Part[] {
  const skin = rng.pick(SKINS);
  const shirt = rng.pick(SHIRTS);
  const pants = rng.pick<Rgb>([
    [0.15, 0.18, 0.35],
    [0.2, 0.2, 0.2],
    [0.45, 0.35, 0.25],
  ]);
  const sh = y - 0.8 * h; // shoulders
  const hip = y - 0.47 * h;
  const lean = rng.uniform(-0.05, 0.05) * h;
  const legW = 0.1 * h;
  const spread = rng.uniform(0, 0.1) * h;
  const parts: Part[] = [
    plain(bar([x - 0.06 * h + lean * 0.5, hip], [x - 0.07 * h - spread, y], legW), pants),
    plain(bar([x + 0.06 * h + lean * 0.5, hip], [x + 0.07 * h + spread, y], legW), pants),
    plain(
      [
        [x - 0.17 * h + lean, sh],
        [x + 0.17 * h + lean, sh],
        [x + 0.13 * h + lean * 0.5, hip + 0.02 * h],
        [x - 0.13 * h + lean * 0.5, hip + 0.02 * h],
      ],
      shirt,
    ),
  ];
  for (const side of [-1, 1]) {
    const ang = rng.uniform(0.1, 1.2); // arm angle away from the body
    const sx = x + side * 0.15 * h + lean;
    const ex = sx + side * M.sin(ang) * 0.36 * h;
    const ey = sh + 0.02 * h + M.cos(ang) * 0.36 * h;
    parts.push(plain(bar([sx, sh + 0.03 * h], [ex, ey], 0.075 * h), rng.next() < 0.5 ? shirt : skin));
  }
  parts.push(plain(ellipse(x + lean, sh - 0.1 * h, 0.075 * h, 0.095 * h, 0, 24), skin));
  return parts;
}

function car(rng: Prng, x: number, y: number, len: number): Part[] {
  const paint = rng.pick(PAINT);
  const dir = rng.next() < 0.5 ? -1 : 1;
  const h = 0.3 * len;
  const wheelR = 0.11 * len;
  const bodyTop = y - wheelR - h * 0.55;
  const cabinTop = bodyTop - h * 0.55;
  const x0 = x - len / 2;
  const x1 = x + len / 2;
  const c0 = x - dir * 0.3 * len;
  const c1 = x + dir * 0.2 * len;
  const [cl, cr] = c0 < c1 ? [c0, c1] : [c1, c0];
  const glass: Rgb = [0.55, 0.7, 0.8];
  return [
    plain(
      [
        [x0, y - wheelR],
        [x0 + 0.02 * len, bodyTop],
        [x1 - 0.02 * len, bodyTop],
        [x1, y - wheelR],
      ],
      paint,
    ),
    plain(
      [
        [cl - 0.08 * len, bodyTop + 1],
        [cl + 0.04 * len, cabinTop],
        [cr - 0.04 * len, cabinTop],
        [cr + 0.1 * len, bodyTop + 1],
      ],
      paint,
    ),
    plain(
      [
        [cl - 0.03 * len, bodyTop - 0.02 * len],
        [cl + 0.06 * len, cabinTop + 0.04 * len],
        [cr - 0.05 * len, cabinTop + 0.04 * len],
        [cr + 0.04 * len, bodyTop - 0.02 * len],
      ],
      glass,
    ),
    plain(ellipse(x0 + 0.2 * len, y - wheelR, wheelR, wheelR, 0, 24), [0.08, 0.08, 0.08]),
    plain(ellipse(x1 - 0.2 * len, y - wheelR, wheelR, wheelR, 0, 24), [0.08, 0.08, 0.08]),
    plain(ellipse(x0 + 0.2 * len, y - wheelR, wheelR * 0.45, wheelR * 0.45, 0, 16), [0.6, 0.6, 0.62]),
    plain(ellipse(x1 - 0.2 * len, y - wheelR, wheelR * 0.45, wheelR * 0.45, 0, 16), [0.6, 0.6, 0.62]),
  ];
}

function stopSign(rng: Prng, x: number, cy: number, r: number): Part[] {
  const rot = M.PI / 8 + rng.uniform(-0.05, 0.05);
  return [
    plain(regular(x, cy, r, 8, rot), [0.95, 0.95, 0.95]),
    plain(regular(x, cy, r * 0.86, 8, rot), [0.78, 0.08, 0.1]),
    plain(rect(x - r * 0.6, cy - r * 0.14, x + r * 0.6, cy + r * 0.14), [0.97, 0.97, 0.97]),
  ];
}

function frisbee(rng: Prng, x: number, y: number, r: number): Part[] {
  const col = rng.pick<Rgb>([
    [0.95, 0.3, 0.6],
    [0.2, 0.8, 0.9],
    [1, 0.85, 0.1],
    [0.95, 0.5, 0.1],
  ]);
  const ry = r * rng.uniform(0.35, 0.7);
  const rot = rng.uniform(-0.5, 0.5);
  return [plain(ellipse(x, y, r, ry, rot), col), plain(ellipse(x, y, r * 0.7, ry * 0.7, rot), [col[0] * 0.8, col[1] * 0.8, col[2] * 0.8])];
}

function ball(rng: Prng, x: number, y: number, r: number): Part[] {
  const kind = rng.int(3);
  if (kind === 0) {
    // football: white with dark patches
    const parts: Part[] = [plain(ellipse(x, y, r, r, 0, 32), [0.95, 0.95, 0.95])];
    parts.push(plain(regular(x, y, r * 0.3, 5, rng.uniform(0, 1)), [0.1, 0.1, 0.1]));
    for (let i = 0; i < 5; i++) {
      const a = (2 * M.PI * i) / 5 + 0.3;
      const px = x + M.cos(a) * r * 0.75;
      const py = y + M.sin(a) * r * 0.75;
      const q = regular(px, py, r * 0.22, 5, a).map(([qx, qy]) => {
        const dx = qx - x;
        const dy = qy - y;
        const d = M.hypot(dx, dy);
        return (d > r * 0.98 ? [x + (dx / d) * r * 0.98, y + (dy / d) * r * 0.98] : [qx, qy]) as Pt;
      });
      parts.push(plain(q, [0.1, 0.1, 0.1]));
    }
    return parts;
  }
  const base: Rgb = kind === 1 ? [0.9, 0.45, 0.1] : [0.85, 0.9, 0.2];
  const parts: Part[] = [plain(ellipse(x, y, r, r, 0, 32), base)];
  parts.push(plain(bar([x - r * 0.98, y], [x + r * 0.98, y], M.max(1.2, r * 0.08)), kind === 1 ? [0.1, 0.1, 0.1] : [0.95, 0.95, 0.95]));
  return parts;
}

function kite(rng: Prng, x: number, y: number, s: number): Part[] {
  const rot = rng.uniform(-0.4, 0.4);
  const c = M.cos(rot);
  const sn = M.sin(rot);
  const p = (u: number, v: number): Pt => [x + c * u - sn * v, y + sn * u + c * v];
  const top = p(0, -s);
  const left = p(-0.6 * s, -0.25 * s);
  const right = p(0.6 * s, -0.25 * s);
  const bottom = p(0, s);
  const c1 = rng.pick(SHIRTS);
  const c2 = rng.pick(PAINT);
  return [
    plain([top, right, bottom, left], c1),
    plain([top, bottom, left], c2),
    plain(bar(top, bottom, M.max(1, s * 0.05)), [0.3, 0.2, 0.1]),
    plain(bar(left, right, M.max(1, s * 0.05)), [0.3, 0.2, 0.1]),
  ];
}

function bottle(rng: Prng, x: number, y: number, h: number): Part[] {
  const glass = rng.pick<Rgb>([
    [0.15, 0.45, 0.2],
    [0.45, 0.25, 0.1],
    [0.6, 0.75, 0.85],
  ]);
  const w = 0.32 * h;
  const shoulder = y - 0.62 * h;
  return [
    plain(rect(x - w / 2, shoulder, x + w / 2, y), glass),
    plain(
      [
        [x - w / 2, shoulder + 1],
        [x - w * 0.16, y - 0.8 * h],
        [x + w * 0.16, y - 0.8 * h],
        [x + w / 2, shoulder + 1],
      ],
      glass,
    ),
    plain(rect(x - w * 0.16, y - 0.95 * h, x + w * 0.16, y - 0.79 * h), glass),
    plain(rect(x - w * 0.19, y - h, x + w * 0.19, y - 0.93 * h), rng.pick(PAINT)),
    plain(rect(x - w / 2, y - 0.45 * h, x + w / 2, y - 0.2 * h), rng.pick<Rgb>([[0.95, 0.92, 0.8], [0.8, 0.1, 0.1], [0.1, 0.1, 0.5]])),
  ];
}

function tv(rng: Prng, x: number, y: number, w: number): Part[] {
  const h = w * rng.uniform(0.56, 0.7);
  const top = y - h - 0.12 * w;
  const screen: Part = { poly: rect(x - w / 2 + 0.04 * w, top + 0.04 * w, x + w / 2 - 0.04 * w, top + h - 0.04 * w), color: [0.3, 0.5, 0.8], pattern: 1 + rng.int(1 << 20) };
  return [
    plain(
      [
        [x - 0.15 * w, y],
        [x - 0.05 * w, top + h],
        [x + 0.05 * w, top + h],
        [x + 0.15 * w, y],
      ],
      [0.12, 0.12, 0.12],
    ),
    plain(rect(x - w / 2, top, x + w / 2, top + h), [0.06, 0.06, 0.07]),
    screen,
  ];
}

// ---------------------------------------------------------------------------------------------
// Rasterisation at pixel centres, occlusion, tracing

interface Raster {
  /** Per pixel: index of the part that colours it, −1 outside the object. */
  readonly part: Int16Array;
  readonly area: number;
}

function insidePoly(poly: readonly Pt[], px: number, py: number): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function rasterise(parts: readonly Part[], W: number, H: number): Raster {
  const part = new Int16Array(W * H).fill(-1);
  let area = 0;
  parts.forEach((p, k) => {
    const xs = p.poly.map((q) => q[0]);
    const ys = p.poly.map((q) => q[1]);
    const x0 = M.max(0, M.floor(M.min(...xs)));
    const x1 = M.min(W - 1, M.ceil(M.max(...xs)));
    const y0 = M.max(0, M.floor(M.min(...ys)));
    const y1 = M.min(H - 1, M.ceil(M.max(...ys)));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (insidePoly(p.poly, x + 0.5, y + 0.5)) {
          if (part[y * W + x] < 0) area++;
          part[y * W + x] = k;
        }
      }
    }
  });
  return { part, area };
}

/**
 * Outer boundaries of the 4-connected components of a mask, as closed polygons through pixel
 * corners (pixel (x, y) spans [x, x+1) × [y, y+1)). Holes are not returned: COCO polygons have none.
 */
function traceOutlines(mask: Uint8Array, W: number, H: number): Pt[][] {
  const fg = (x: number, y: number) => x >= 0 && y >= 0 && x < W && y < H && mask[y * W + x] === 1;
  // directed boundary edges with the foreground on the right (y down): keyed by start corner
  const out = new Map<number, number[]>(); // corner → list of directions (0 E, 1 S, 2 W, 3 N)
  const add = (x: number, y: number, d: number) => {
    const k = y * (W + 1) + x;
    const l = out.get(k);
    if (l) l.push(d);
    else out.set(k, [d]);
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!fg(x, y)) continue;
      if (!fg(x, y - 1)) add(x, y, 0);
      if (!fg(x + 1, y)) add(x + 1, y, 1);
      if (!fg(x, y + 1)) add(x + 1, y + 1, 2);
      if (!fg(x - 1, y)) add(x, y + 1, 3);
    }
  }
  const DX = [1, 0, -1, 0];
  const DY = [0, 1, 0, -1];
  const loops: Pt[][] = [];
  const keys = [...out.keys()].sort((a, b) => a - b);
  for (const start of keys) {
    while ((out.get(start) ?? []).length > 0) {
      let k = start;
      let d = out.get(start)!.shift()!;
      const pts: Pt[] = [];
      let prevDir = -1;
      for (;;) {
        const x = k % (W + 1);
        const y = (k - x) / (W + 1);
        if (d !== prevDir) pts.push([x, y]);
        prevDir = d;
        k = (y + DY[d]) * (W + 1) + (x + DX[d]);
        if (k === start) break;
        const cand = out.get(k);
        if (!cand || cand.length === 0) break;
        // at a corner where two components touch diagonally, turn right: keeps 4-connectivity
        const pref = [(d + 1) % 4, d, (d + 3) % 4];
        const next = pref.find((p) => cand.includes(p));
        if (next === undefined) break;
        cand.splice(cand.indexOf(next), 1);
        d = next;
      }
      if (pts.length >= 4) {
        let twice = 0;
        for (let i = 0; i < pts.length; i++) {
          const [x0, y0] = pts[i];
          const [x1, y1] = pts[(i + 1) % pts.length];
          twice += x0 * y1 - x1 * y0;
        }
        if (twice > 0) loops.push(pts); // clockwise on screen = an outer boundary
      }
    }
  }
  return loops;
}

/** Douglas–Peucker on a closed polygon. */
function simplify(poly: readonly Pt[], eps: number): Pt[] {
  if (poly.length <= 4) return [...poly];
  let far = 0;
  let best = -1;
  for (let i = 1; i < poly.length; i++) {
    const d = M.hypot(poly[i][0] - poly[0][0], poly[i][1] - poly[0][1]);
    if (d > best) [best, far] = [d, i];
  }
  const chain = (pts: Pt[]): Pt[] => {
    if (pts.length <= 2) return pts;
    const [a, b] = [pts[0], pts[pts.length - 1]];
    const len = M.hypot(b[0] - a[0], b[1] - a[1]) || 1;
    let idx = -1;
    let dmax = -1;
    for (let i = 1; i < pts.length - 1; i++) {
      const d = M.abs((b[0] - a[0]) * (a[1] - pts[i][1]) - (a[0] - pts[i][0]) * (b[1] - a[1])) / len;
      if (d > dmax) [dmax, idx] = [d, i];
    }
    if (dmax <= eps) return [a, b];
    const left = chain(pts.slice(0, idx + 1));
    return [...left.slice(0, -1), ...chain(pts.slice(idx))];
  };
  const first = chain(poly.slice(0, far + 1));
  const second = chain([...poly.slice(far), poly[0]]);
  return [...first.slice(0, -1), ...second.slice(0, -1)];
}

// ---------------------------------------------------------------------------------------------
// Scenes

interface SceneResult {
  readonly rgb: Uint8Array;
  readonly annotations: {
    categoryId: number;
    segmentation: number[][] | { counts: number[]; size: [number, number] };
    area: number;
    bbox: [number, number, number, number];
    iscrowd: 0 | 1;
  }[];
}

const CATEGORY_WEIGHTS: readonly [number, number][] = [
  [1, 4],
  [3, 2],
  [13, 1],
  [34, 1],
  [37, 2],
  [38, 1],
  [44, 2],
  [72, 1],
];

function pickCategory(rng: Prng): number {
  const total = CATEGORY_WEIGHTS.reduce((a, [, w]) => a + w, 0);
  let r = rng.next() * total;
  for (const [id, w] of CATEGORY_WEIGHTS) {
    r -= w;
    if (r < 0) return id;
  }
  return 1;
}

/** Places one object of a category; size follows perspective (nearer = lower in the image = larger). */
function makeThing(rng: Prng, categoryId: number, horizon: number, W: number, H: number, near?: Thing): Thing {
  let x = rng.uniform(0.08, 0.92) * W;
  let y = rng.uniform(horizon + 0.12 * (H - horizon), H * 1.02);
  if (near && rng.next() < 0.8) {
    // next to an already placed object, so that the two overlap
    const ys = near.parts.flatMap((p) => p.poly.map((q) => q[1]));
    const xs = near.parts.flatMap((p) => p.poly.map((q) => q[0]));
    const cx = (M.min(...xs) + M.max(...xs)) / 2;
    const w = M.max(...xs) - M.min(...xs);
    x = cx + rng.uniform(-0.7, 0.7) * w;
    y = M.max(...ys) + rng.uniform(-0.08, 0.15) * H;
    y = M.min(H * 1.02, M.max(horizon + 8, y));
  }
  const persp = 0.35 + 0.65 * ((y - horizon) / (H - horizon));
  switch (categoryId) {
    case 1:
      return { categoryId, parts: person(rng, x, y, persp * rng.uniform(0.5, 0.75) * H), z: y };
    case 3:
      return { categoryId, parts: car(rng, x, y, persp * rng.uniform(0.5, 0.8) * W), z: y };
    case 13: {
      const r = persp * rng.uniform(0.07, 0.11) * H;
      return { categoryId, parts: stopSign(rng, x, y - persp * 0.45 * H, r), z: y };
    }
    case 34:
      return { categoryId, parts: frisbee(rng, x, y - persp * rng.uniform(0.1, 0.4) * H, persp * rng.uniform(0.06, 0.1) * W), z: y };
    case 37: {
      const r = persp * rng.uniform(0.05, 0.1) * H;
      return { categoryId, parts: ball(rng, x, y - r, r), z: y };
    }
    case 38: {
      // kites fly in the sky: far away, drawn first
      const ky = rng.uniform(0.12, 0.8) * horizon;
      return { categoryId, parts: kite(rng, x, ky, rng.uniform(0.07, 0.13) * H), z: -1 };
    }
    case 44:
      return { categoryId, parts: bottle(rng, x, y, persp * rng.uniform(0.25, 0.4) * H), z: y };
    case 72:
      return { categoryId, parts: tv(rng, x, y, persp * rng.uniform(0.35, 0.5) * W), z: y };
    default:
      throw new Error(`coco-mini: no shape for category ${categoryId}`);
  }
}

function background(rng: Prng, W: number, H: number, horizon: number): Float32Array {
  const img = new Float32Array(W * H * 3);
  const skyTop: Rgb = [rng.uniform(0.3, 0.5), rng.uniform(0.5, 0.65), rng.uniform(0.8, 0.95)];
  const skyLow: Rgb = [0.85, 0.88, 0.92];
  const ground = rng.pick<Rgb>([
    [0.35, 0.55, 0.25],
    [0.5, 0.5, 0.5],
    [0.65, 0.58, 0.45],
    [0.45, 0.6, 0.3],
  ]);
  const seed = (rng.next() * 0x7fffffff) | 0;
  // distant buildings and trees: unlabelled clutter on the horizon
  const clutter: { x0: number; x1: number; top: number; color: Rgb; tree: boolean }[] = [];
  for (let i = 0, n = rng.int(6); i < n; i++) {
    const x0 = rng.uniform(-0.1, 0.95) * W;
    const tree = rng.next() < 0.5;
    clutter.push({
      x0,
      x1: x0 + rng.uniform(0.06, 0.25) * W,
      top: horizon - rng.uniform(0.1, 0.5) * horizon,
      color: tree ? [0.2, rng.uniform(0.35, 0.5), 0.2] : rng.pick<Rgb>([[0.6, 0.55, 0.5], [0.7, 0.65, 0.6], [0.5, 0.45, 0.45]]),
      tree,
    });
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let c: Rgb;
      if (y < horizon) {
        const t = y / horizon;
        c = [skyTop[0] + (skyLow[0] - skyTop[0]) * t, skyTop[1] + (skyLow[1] - skyTop[1]) * t, skyTop[2] + (skyLow[2] - skyTop[2]) * t];
        const cloud = noise2(x / 30, y / 12, seed);
        if (cloud > 0.7) c = c.map((v) => v + (cloud - 0.7) * 2 * (1 - v)) as Rgb;
        for (const b of clutter) {
          if (x >= b.x0 && x < b.x1) {
            const mid = (b.x0 + b.x1) / 2;
            const half = (b.x1 - b.x0) / 2;
            const top = b.tree ? b.top + ((x - mid) / half) ** 2 * (horizon - b.top) * 0.8 : b.top;
            if (y >= top) {
              const k = 0.85 + 0.15 * noise2(x / 3, y / 3, seed + 7);
              c = [b.color[0] * k, b.color[1] * k, b.color[2] * k];
              if (!b.tree && (M.floor(x / 5) + M.floor(y / 7)) % 3 === 0) c = c.map((v) => v * 0.7) as Rgb;
            }
          }
        }
      } else {
        const t = (y - horizon) / (H - horizon);
        const k = (0.75 + 0.3 * t) * (0.85 + 0.25 * noise2(x / (4 + 10 * (1 - t)), y / 3, seed + 1));
        c = [ground[0] * k, ground[1] * k, ground[2] * k];
      }
      img.set(c, (y * W + x) * 3);
    }
  }
  return img;
}

function screenPattern(seed: number, u: number, v: number): Rgb {
  const a = noise2(u / 12, v / 12, seed);
  const b = noise2(u / 5, v / 5, seed + 3);
  return [0.2 + 0.6 * a, 0.3 + 0.5 * b, 0.5 + 0.4 * (1 - a)];
}

function renderScene(rng: Prng, withCrowd: boolean): SceneResult {
  const W = COCO_MINI_WIDTH;
  const H = COCO_MINI_HEIGHT;
  for (let attempt = 0; attempt < 200; attempt++) {
    const horizon = rng.uniform(0.3, 0.55) * H;
    const n = 2 + M.min(4, M.floor(rng.next() * rng.next() * 6 + rng.next() * 2));
    const things: Thing[] = [];
    for (let i = 0; i < n; i++) things.push(makeThing(rng, pickCategory(rng), horizon, W, H, i > 0 ? rng.pick(things) : undefined));
    // a distant crowd: many small overlapping people just below the horizon
    const crowd: Part[] = [];
    if (withCrowd) {
      const cx = rng.uniform(0.25, 0.75) * W;
      for (let i = 0, m = 7 + rng.int(6); i < m; i++) {
        crowd.push(...person(rng, cx + rng.uniform(-0.17, 0.17) * W, horizon + rng.uniform(0.04, 0.1) * H, rng.uniform(0.08, 0.12) * H));
      }
    }
    const order = things.map((t, i) => [t.z, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
    const rasters = things.map((t) => rasterise(t.parts, W, H));
    // owner[p]: the nearest object covering p (crowd = n, background = −1)
    const owner = new Int16Array(W * H).fill(-1);
    if (withCrowd) {
      const r = rasterise(crowd, W, H);
      for (let p = 0; p < W * H; p++) if (r.part[p] >= 0) owner[p] = n;
    }
    for (const i of order) for (let p = 0; p < W * H; p++) if (rasters[i].part[p] >= 0) owner[p] = i;

    const anns: SceneResult['annotations'] = [];
    const annMasks: (Uint8Array | undefined)[] = [];
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      const vis = new Uint8Array(W * H);
      let visArea = 0;
      for (let p = 0; p < W * H; p++) {
        if (owner[p] !== i) continue;
        vis[p] = 1;
        visArea++;
      }
      if (visArea < 80 || visArea < 0.4 * rasters[i].area) {
        ok = false;
        break;
      }
      const polys = traceOutlines(vis, W, H)
        .map((loop) => simplify(loop, 0.7))
        .filter((p) => p.length >= 3);
      if (polys.length === 0) {
        ok = false;
        break;
      }
      const segmentation = polys.map((p) => p.flatMap(([x, y]) => [x, y]));
      const rle = polygonsToRle(segmentation, H, W);
      const mask = decodeRle(rle);
      let inter = 0;
      let union = 0;
      for (let p = 0; p < W * H; p++) {
        if (mask[p] && vis[p]) inter++;
        if (mask[p] || vis[p]) union++;
      }
      // holes (an object seen through another) or ragged slivers make poor polygons: re-draw
      if (inter / union < 0.85) {
        ok = false;
        break;
      }
      annMasks[i] = mask;
      anns.push({ categoryId: things[i].categoryId, segmentation, area: rleArea(rle), bbox: rleToBbox(rle), iscrowd: 0 });
    }
    if (!ok) continue;

    let crowdMask: Uint8Array | undefined;
    if (withCrowd) {
      crowdMask = new Uint8Array(W * H);
      let a = 0;
      for (let p = 0; p < W * H; p++) {
        if (owner[p] !== n) continue;
        crowdMask[p] = 1;
        a++;
      }
      if (a < 60) continue;
      const rle = encodeMask(crowdMask, H, W);
      anns.push({ categoryId: 1, segmentation: { counts: [...rle.counts], size: [H, W] }, area: rleArea(rle), bbox: rleToBbox(rle), iscrowd: 1 });
    }

    // paint: background, crowd, then each object's annotated pixels back to front
    const img = background(rng, W, H, horizon);
    const seed = (rng.next() * 0x7fffffff) | 0;
    const lightX = rng.uniform(-1, 1);
    const crowdColors = crowd.map((p) => p.color);
    if (crowdMask) {
      const r = rasterise(crowd, W, H);
      for (let p = 0; p < W * H; p++) if (crowdMask[p]) img.set(crowdColors[r.part[p]].map((v) => v * 0.85), p * 3);
    }
    for (const i of order) {
      const { parts } = things[i];
      const raster = rasters[i];
      const mask = annMasks[i]!;
      const xs = parts.flatMap((p) => p.poly.map((q) => q[0]));
      const ys = parts.flatMap((p) => p.poly.map((q) => q[1]));
      const [bx0, bx1, by0, by1] = [M.min(...xs), M.max(...xs), M.min(...ys), M.max(...ys)];
      // the colour of pixels the polygon adds around the drawn shape: the object's largest part
      const counts = new Array(parts.length).fill(0);
      for (let p = 0; p < W * H; p++) if (raster.part[p] >= 0) counts[raster.part[p]]++;
      const main = counts.indexOf(M.max(...counts));
      for (let p = 0; p < W * H; p++) {
        if (!mask[p]) continue;
        const x = p % W;
        const y = (p - x) / W;
        const k = raster.part[p] >= 0 ? raster.part[p] : main;
        const part = parts[k];
        let c = part.pattern ? screenPattern(part.pattern, x, y) : part.color;
        // soft light from one side and top, plus surface texture
        const u = (x - (bx0 + bx1) / 2) / M.max(1, bx1 - bx0);
        const v = (y - (by0 + by1) / 2) / M.max(1, by1 - by0);
        const shade = 0.9 + 0.25 * (u * lightX - v * 0.6) + 0.08 * (noise2(x / 2, y / 2, seed + i) - 0.5);
        c = c.map((q) => q * shade) as Rgb;
        img.set(c, p * 3);
      }
    }
    const rgb = new Uint8Array(W * H * 3);
    for (let q = 0; q < rgb.length; q++) {
      const v = M.pow(M.min(1, M.max(0, img[q])), 1 / 1.1) * 255 + rng.gauss() * 2.5;
      rgb[q] = M.min(255, M.max(0, M.round(v)));
    }
    return { rgb, annotations: anns };
  }
  throw new Error('coco-mini: could not lay out a scene in 200 attempts');
}

// ---------------------------------------------------------------------------------------------
// Writing

const README = `# coco-mini

Generated by \`tools/src/datagen/coco.ts\` (\`generateCocoMini\`); do not edit by hand.
Same layout and JSON format as COCO 2017, read by \`@gpl/coco\`:

- \`annotations/instances_train2017.json\` (${TRAIN_IMAGES} images), \`annotations/instances_val2017.json\` (${VAL_IMAGES} images)
- \`train2017/<12-digit id>.jpg\`, \`val2017/<12-digit id>.jpg\`, ${COCO_MINI_WIDTH}×${COCO_MINI_HEIGHT}

Categories (real COCO ids and names): ${COCO_MINI_CATEGORIES.map((c) => `${c.id} ${c.name}`).join(', ')}.
Non-crowd instances are polygons outlining the visible part of each object; every 7th image
(from the 4th) has a distant crowd annotated as one \`iscrowd: 1\` person with an uncompressed RLE.
\`area\` is the mask's pixel count and \`bbox\` its tight box [x, y, w, h] (pycocotools' rasterisation).
`;

async function writeSplit(dir: string, split: 'train' | 'val', count: number, firstId: number, firstAnnId: number, rng: Prng): Promise<number> {
  const images: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  let annId = firstAnnId;
  for (let i = 0; i < count; i++) {
    const id = firstId + i;
    const fileName = `${String(id).padStart(12, '0')}.jpg`;
    const scene = renderScene(new Prng((rng.next() * 0xffffffff) >>> 0), i % 7 === 3);
    await writeJpeg(path.join(dir, `${split}2017`, fileName), scene.rgb, COCO_MINI_WIDTH, COCO_MINI_HEIGHT);
    images.push({
      license: 1,
      file_name: fileName,
      coco_url: '',
      height: COCO_MINI_HEIGHT,
      width: COCO_MINI_WIDTH,
      date_captured: '2017-01-01 00:00:00',
      flickr_url: '',
      id,
    });
    for (const a of scene.annotations) {
      annotations.push({
        segmentation: a.segmentation,
        area: a.area,
        iscrowd: a.iscrowd,
        image_id: id,
        bbox: a.bbox,
        category_id: a.categoryId,
        id: annId++,
      });
    }
  }
  const json = {
    info: { description: 'GPL coco-mini: procedurally generated scenes in COCO 2017 format', version: '1.0', year: 2017, contributor: 'GPL', date_created: '2017/01/01' },
    licenses: [{ url: '', id: 1, name: 'MIT' }],
    images,
    annotations,
    categories: COCO_MINI_CATEGORIES,
  };
  await writeText(path.join(dir, 'annotations', `instances_${split}2017.json`), JSON.stringify(json));
  return annId;
}

/**
 * Writes `<root>/coco-mini` (40 train and 12 val images). Deterministic: running it twice
 * gives byte-identical files.
 */
export async function generateCocoMini(root: string): Promise<void> {
  await buildDatasetFolder(path.join(root, 'coco-mini'), async (dir) => {
    const rng = new Prng(SEED);
    const next = await writeSplit(dir, 'train', TRAIN_IMAGES, 1001, 1, rng);
    await writeSplit(dir, 'val', VAL_IMAGES, 2001, next, rng);
    await writeText(path.join(dir, 'README.md'), README);
  });
}

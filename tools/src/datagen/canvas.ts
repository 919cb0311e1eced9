/**
 * Drawing primitives for the street / VOC / ADE20K mini-dataset generators: a seeded PRNG, value
 * noise, and a canvas that paints colour, a class map and an instance map together (painter's
 * algorithm: later shapes occlude earlier ones in all three).
 *
 * Only +, −, ×, ÷, floor and sqrt touch pixel values (no sin/exp/pow), so every platform renders the
 * same bytes.
 */

// A module-local alias: global lookups (Math) are slow inside vm contexts such as Jest's.
const M = Math;

export type Rgb = readonly [number, number, number];

/** Seeded uniform generator (mulberry32). */
export class Prng {
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
  /** Integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  /** A colour jittered around `c` by ±`amount` per channel (plus a shared brightness shift). */
  jitter(c: Rgb, amount: number): Rgb {
    const b = this.uniform(-amount, amount);
    return [
      clamp255(c[0] + b + this.uniform(-amount, amount) * 0.5),
      clamp255(c[1] + b + this.uniform(-amount, amount) * 0.5),
      clamp255(c[2] + b + this.uniform(-amount, amount) * 0.5),
    ];
  }
  /** A derived generator, so adding draws in one place does not shift another. */
  fork(salt: number): Prng {
    return new Prng(hash2(this.int(0x7fffffff), salt, 0x51ed));
  }
}

export function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Integer hash of a lattice point → 32 bits. */
export function hash2(x: number, y: number, seed: number): number {
  let h = M.imul(x | 0, 0x27d4eb2d) ^ M.imul(y | 0, 0x165667b1) ^ M.imul(seed | 0, 0x9e3779b1);
  h = M.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = M.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hash → [0, 1). */
export function rand2(x: number, y: number, seed: number): number {
  return hash2(x, y, seed) / 4294967296;
}

/** Smooth 2-D value noise in [0, 1) with unit lattice spacing. */
export function noise2(x: number, y: number, seed: number): number {
  const xi = M.floor(x);
  const yi = M.floor(y);
  const fx = x - xi;
  const fy = y - yi;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = rand2(xi, yi, seed);
  const b = rand2(xi + 1, yi, seed);
  const c = rand2(xi, yi + 1, seed);
  const d = rand2(xi + 1, yi + 1, seed);
  const top = a + (b - a) * sx;
  const bot = c + (d - c) * sx;
  return top + (bot - top) * sy;
}

/** Two octaves of value noise, in [0, 1). */
export function fbm2(x: number, y: number, seed: number): number {
  return 0.65 * noise2(x, y, seed) + 0.35 * noise2(x * 2.03 + 17.1, y * 2.03 + 5.3, seed + 1);
}

/** Colour of a pixel: called with pixel coordinates. */
export type Shader = (x: number, y: number) => Rgb;

/** A flat colour with fine grain and blotchy low-frequency variation, the default material. */
export function grainy(base: Rgb, seed: number, grain = 6, blotch = 18, scale = 9): Shader {
  return (x, y) => {
    const n = (fbm2(x / scale, y / scale, seed) - 0.5) * 2 * blotch;
    const g = (rand2(x, y, seed ^ 0x2545f491) - 0.5) * 2 * grain;
    return [base[0] + n + g, base[1] + n + g, base[2] + n * 0.9 + g];
  };
}

/** Mixes two shaders by a stripe pattern along x+y (for clothes, bus liveries, …). */
export function stripes(a: Shader, b: Shader, period: number, vertical = false): Shader {
  return (x, y) => ((M.floor((vertical ? x : y) / period) & 1) === 0 ? a(x, y) : b(x, y));
}

/** The canvas: colour (float RGB), class map (uint8) and instance map (uint16), painted together. */
export class Canvas {
  readonly rgb: Float32Array;
  readonly cls: Uint8Array;
  readonly inst: Uint16Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Float32Array(width * height * 3);
    this.cls = new Uint8Array(width * height);
    this.inst = new Uint16Array(width * height);
  }

  /** Paints one pixel (no bounds check beyond the canvas). */
  put(x: number, y: number, c: Rgb, cls: number, inst = 0): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = y * this.width + x;
    this.rgb[3 * i] = c[0];
    this.rgb[3 * i + 1] = c[1];
    this.rgb[3 * i + 2] = c[2];
    this.cls[i] = cls;
    this.inst[i] = inst;
  }

  /** Paints every pixel whose centre passes `inside`, within the box [x0,x1)×[y0,y1). */
  fillWhere(x0: number, y0: number, x1: number, y1: number, inside: (px: number, py: number) => boolean, shade: Shader, cls: number, inst = 0): number {
    const xa = M.max(0, M.floor(x0));
    const ya = M.max(0, M.floor(y0));
    const xb = M.min(this.width, M.ceil(x1));
    const yb = M.min(this.height, M.ceil(y1));
    let n = 0;
    for (let y = ya; y < yb; y++) {
      for (let x = xa; x < xb; x++) {
        if (!inside(x + 0.5, y + 0.5)) continue;
        this.put(x, y, shade(x, y), cls, inst);
        n++;
      }
    }
    return n;
  }

  rect(x0: number, y0: number, x1: number, y1: number, shade: Shader, cls: number, inst = 0): number {
    return this.fillWhere(x0, y0, x1, y1, (px, py) => px >= x0 && px < x1 && py >= y0 && py < y1, shade, cls, inst);
  }

  ellipse(cx: number, cy: number, rx: number, ry: number, shade: Shader, cls: number, inst = 0): number {
    if (rx <= 0 || ry <= 0) return 0;
    return this.fillWhere(cx - rx, cy - ry, cx + rx, cy + ry, (px, py) => {
      const dx = (px - cx) / rx;
      const dy = (py - cy) / ry;
      return dx * dx + dy * dy <= 1;
    }, shade, cls, inst);
  }

  /** Ring (annulus) of outer radius r and thickness t (wheels). */
  ring(cx: number, cy: number, r: number, t: number, shade: Shader, cls: number, inst = 0): number {
    const ri = M.max(0, r - t);
    return this.fillWhere(cx - r, cy - r, cx + r, cy + r, (px, py) => {
      const d = (px - cx) * (px - cx) + (py - cy) * (py - cy);
      return d <= r * r && d >= ri * ri;
    }, shade, cls, inst);
  }

  /** Filled polygon (even–odd rule). */
  polygon(pts: readonly (readonly [number, number])[], shade: Shader, cls: number, inst = 0): number {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const [x, y] of pts) {
      x0 = M.min(x0, x);
      y0 = M.min(y0, y);
      x1 = M.max(x1, x);
      y1 = M.max(y1, y);
    }
    return this.fillWhere(x0, y0, x1, y1, (px, py) => {
      let inside = false;
      for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
        const [xi, yi] = pts[i];
        const [xj, yj] = pts[j];
        if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
      }
      return inside;
    }, shade, cls, inst);
  }

  /** Thick line segment (capsule) of half-width `hw`. */
  line(ax: number, ay: number, bx: number, by: number, hw: number, shade: Shader, cls: number, inst = 0): number {
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy || 1;
    return this.fillWhere(M.min(ax, bx) - hw, M.min(ay, by) - hw, M.max(ax, bx) + hw, M.max(ay, by) + hw, (px, py) => {
      let t = ((px - ax) * dx + (py - ay) * dy) / len2;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = ax + t * dx - px;
      const ey = ay + t * dy - py;
      return ex * ex + ey * ey <= hw * hw;
    }, shade, cls, inst);
  }

  /** Multiplies colour by a per-pixel factor (lighting, vignetting), leaving labels alone. */
  light(f: (x: number, y: number) => number): void {
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        const k = f(x, y);
        const i = 3 * (y * this.width + x);
        this.rgb[i] *= k;
        this.rgb[i + 1] *= k;
        this.rgb[i + 2] *= k;
      }
    }
  }

  /** Colour as 8-bit RGB with per-pixel sensor noise of ±`noise` (seeded). */
  toRgb8(noise: number, seed: number): Uint8Array {
    const out = new Uint8Array(this.rgb.length);
    for (let i = 0; i < this.rgb.length; i++) {
      const n = noise > 0 ? (rand2(i, 7, seed) - 0.5) * 2 * noise : 0;
      out[i] = M.round(clamp255(this.rgb[i] + n));
    }
    return out;
  }
}

/**
 * Street scenes, and cityscapes-mini built from them.
 *
 * A pinhole camera at driver height looks down a street: the ground plane is shaded per pixel in
 * world coordinates (asphalt grain, lane dashes, paving joints, parking strips, grass), building
 * facades are planes along both sides with perspective-correct window grids, and street furniture,
 * trees, cars, people and cyclists stand on the ground at a depth, drawn far-to-near so nearer
 * things occlude farther ones in colour, class map and instance map alike. Colours vary per image
 * and per object, and every class overlaps others in colour, so the task is about shape and context.
 *
 * cityscapes-mini (REFERENCE §1 layout, 256×128, 48 train / 16 val):
 *
 *   cityscapes-mini/leftImg8bit/{train,val}/<city>/<city>_<seq>_000019_leftImg8bit.png
 *   cityscapes-mini/gtFine/{train,val}/<city>/<city>_<seq>_000019_gtFine_{labelIds,instanceIds,color}.png
 */
import * as path from 'path';
import { Canvas, Prng, clamp255, fbm2, grainy, hash2, noise2, rand2, type Rgb, type Shader } from './canvas';
import { buildDatasetFolder, writeGrey16Png, writeGreyPng, writeRgbPng } from './write';

// A module-local alias: global lookups (Math) are slow inside vm contexts such as Jest's.
const M = Math;

/** Scene classes the street renderer paints (mapped to each dataset's ids by the writers). */
export const STREET = Object.freeze({
  unlabeled: 0,
  sky: 1,
  building: 2,
  road: 3,
  sidewalk: 4,
  vegetation: 5,
  terrain: 6,
  car: 7,
  person: 8,
  rider: 9,
  bicycle: 10,
  pole: 11,
  trafficSign: 12,
  trafficLight: 13,
  fence: 14,
  wall: 15,
  ego: 16,
  static: 17,
  parking: 18,
  truck: 19,
  bus: 20,
});

export type StreetClass = (typeof STREET)[keyof typeof STREET];

/** A rendered scene: colour, scene-class map and instance map (0 = none, else 1-based object number). */
export interface StreetScene {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  readonly cls: Uint8Array;
  readonly inst: Uint16Array;
}

/** Options of `renderStreet`. */
export interface StreetOptions {
  readonly width: number;
  readonly height: number;
  /** Draw the ego-vehicle hood at the bottom (Cityscapes' car-mounted camera). */
  readonly egoVehicle: boolean;
}

interface Camera {
  readonly f: number;
  readonly vx: number;
  readonly horizon: number;
  readonly hc: number;
}

/** Screen point of world (X lateral, Y up, Z forward). */
function project(cam: Camera, X: number, Y: number, Z: number): [number, number] {
  return [cam.vx + (cam.f * X) / Z, cam.horizon + (cam.f * (cam.hc - Y)) / Z];
}

const FACADE_COLOURS: readonly Rgb[] = [
  [150, 140, 125], [120, 115, 110], [165, 95, 75], [200, 190, 170], [175, 165, 140], [95, 95, 100], [185, 170, 150], [140, 120, 100],
];
const CAR_COLOURS: readonly Rgb[] = [
  [30, 30, 35], [200, 200, 205], [120, 120, 125], [20, 40, 110], [140, 20, 25], [235, 235, 235], [60, 70, 60], [90, 90, 100], [170, 150, 120],
];
const CLOTHES: readonly Rgb[] = [
  [30, 30, 35], [60, 60, 90], [140, 30, 40], [200, 200, 195], [90, 70, 50], [40, 80, 60], [160, 120, 60], [110, 110, 115], [50, 90, 150],
];
const SKIN: readonly Rgb[] = [[225, 190, 160], [190, 145, 110], [140, 100, 70], [95, 65, 45]];

interface StreetObject {
  readonly z: number;
  readonly draw: (c: Canvas) => void;
}

/** Renders one street scene. All randomness comes from `seed`. */
export function renderStreet(seed: number, opts: StreetOptions): StreetScene {
  const { width: W, height: H } = opts;
  const rng = new Prng(seed);
  const c = new Canvas(W, H);
  const cam: Camera = {
    f: W * rng.uniform(1.0, 1.25),
    vx: W * rng.uniform(0.4, 0.6),
    horizon: H * rng.uniform(0.38, 0.48),
    hc: rng.uniform(1.2, 1.5),
  };
  const texSeed = rng.int(1 << 30);
  const roadHalf = rng.uniform(3.5, 6.5);
  const roadShift = rng.uniform(-1.5, 1.5);
  const walkW = [rng.uniform(2, 4.5), rng.uniform(2, 4.5)];
  const grassW = [rng.chance(0.35) ? rng.uniform(1, 3) : 0, rng.chance(0.35) ? rng.uniform(1, 3) : 0];
  const roadEdge = (side: number): number => roadShift + side * roadHalf;
  const walkOuter = (side: number): number => roadEdge(side) + side * walkW[side < 0 ? 0 : 1];
  const facadeX = (side: number): number => walkOuter(side) + side * grassW[side < 0 ? 0 : 1];
  // Parking strips: Z ranges just inside the road edge on each side.
  const parking: { side: number; z0: number; z1: number }[] = [];
  for (const side of [-1, 1]) if (rng.chance(0.4)) {
    const z0 = rng.uniform(5, 20);
    parking.push({ side, z0, z1: z0 + rng.uniform(10, 30) });
  }

  // --- sky ---------------------------------------------------------------------------------
  const overcast = rng.chance(0.5);
  const skyTop: Rgb = overcast ? rng.jitter([165, 175, 185], 20) : rng.jitter([70, 125, 200], 20);
  const skyLow: Rgb = overcast ? rng.jitter([205, 210, 215], 15) : rng.jitter([170, 200, 230], 15);
  const skySeed = rng.int(1 << 30);
  c.rect(0, 0, W, H, (x, y) => {
    const t = M.min(1, y / M.max(1, cam.horizon));
    const cloud = (fbm2(x / 22, y / 9, skySeed) - 0.45) * (overcast ? 40 : 70);
    const k = cloud > 0 ? cloud : 0;
    return [skyTop[0] + (skyLow[0] - skyTop[0]) * t + k, skyTop[1] + (skyLow[1] - skyTop[1]) * t + k, skyTop[2] + (skyLow[2] - skyTop[2]) * t + k * 0.8];
  }, STREET.sky);

  // --- ground --------------------------------------------------------------------------------
  const asphalt: Rgb = rng.jitter([95, 92, 98], 18);
  const paving: Rgb = rng.pick<Rgb>([[150, 145, 140], [165, 130, 125], [130, 130, 135], [175, 170, 160]]);
  const grass: Rgb = rng.jitter([95, 135, 60], 20);
  const parkingCol: Rgb = rng.jitter([120, 110, 112], 12);
  const dashed = rng.chance(0.8);
  const zebraZ = rng.chance(0.3) ? rng.uniform(8, 18) : -1;
  for (let y = M.ceil(cam.horizon); y < H; y++) {
    const dy = y + 0.5 - cam.horizon;
    if (dy <= 0) continue;
    const Z = (cam.f * cam.hc) / dy;
    for (let x = 0; x < W; x++) {
      const X = ((x + 0.5 - cam.vx) * Z) / cam.f;
      const side = X < roadShift ? -1 : 1;
      const inRoad = M.abs(X - roadShift) < roadHalf;
      const fine = (rand2(x, y, texSeed) - 0.5) * 14;
      const blotch = (noise2(X / 1.5, Z / 3, texSeed + 3) - 0.5) * 30;
      const shadow = noise2(X / 4, Z / 6, texSeed + 9) > 0.72 ? 0.7 : 1;
      let col: Rgb;
      let cls: number;
      if (inRoad) {
        const park = parking.find((p) => p.side === side && Z >= p.z0 && Z <= p.z1 && M.abs(X - roadEdge(side)) < 2.2);
        if (park) {
          cls = STREET.parking;
          const slot = M.abs(Z - M.floor(Z / 5) * 5) < 0.15;
          col = slot ? [210, 210, 205] : [parkingCol[0] + blotch, parkingCol[1] + blotch, parkingCol[2] + blotch];
        } else {
          cls = STREET.road;
          let mark = false;
          if (dashed && M.abs(X - roadShift) < 0.08 && M.floor(Z / 3) % 2 === 0) mark = true;
          if (M.abs(M.abs(X - roadShift) - (roadHalf - 0.3)) < 0.07) mark = true;
          if (zebraZ > 0 && Z > zebraZ && Z < zebraZ + 3 && M.floor((X - roadShift) / 0.5) % 2 === 0) mark = true;
          col = mark ? [215, 215, 210] : [asphalt[0] + blotch, asphalt[1] + blotch, asphalt[2] + blotch];
        }
      } else if (side * (X - walkOuter(side)) < 0) {
        cls = STREET.sidewalk;
        const joint = M.abs(X * 2 - M.round(X * 2)) < 0.04 || M.abs(Z * 2 - M.round(Z * 2)) < 0.05;
        const kerb = side * (X - roadEdge(side)) < 0.2;
        const k = joint ? 0.8 : kerb ? 1.12 : 1;
        col = [paving[0] * k + blotch * 0.6, paving[1] * k + blotch * 0.6, paving[2] * k + blotch * 0.6];
      } else {
        cls = STREET.terrain;
        const g = (fbm2(X * 3, Z * 1.5, texSeed + 5) - 0.5) * 50;
        col = [grass[0] + g * 0.6, grass[1] + g, grass[2] + g * 0.4];
      }
      c.put(x, y, [col[0] * shadow + fine, col[1] * shadow + fine, col[2] * shadow + fine], cls);
    }
  }

  // --- far end of the street -----------------------------------------------------------------
  const zEnd = rng.uniform(60, 140);
  if (rng.chance(0.7)) {
    let X = -60;
    while (X < 60) {
      const w = rng.uniform(6, 20);
      const hgt = rng.uniform(6, 30);
      const [xa, ya] = project(cam, X, hgt, zEnd);
      const [xb, yb] = project(cam, X + w, 0, zEnd);
      const farCol = rng.jitter(rng.pick(FACADE_COLOURS), 15);
      const veg = rng.chance(0.2);
      c.rect(xa, ya, xb, yb, grainy(veg ? [70, 100, 50] : farCol, texSeed + 11, 5, veg ? 25 : 10, 4), veg ? STREET.vegetation : STREET.building);
      X += w;
    }
  }

  // --- facades -------------------------------------------------------------------------------
  for (const side of [-1, 1]) {
    const Xb = facadeX(side);
    let z = rng.uniform(1, 6);
    const blocks: { z0: number; z1: number; h: number; col: Rgb; win: Rgb; floorH: number; winW: number; kind: 'building' | 'trees' | 'wall' }[] = [];
    while (z < zEnd) {
      const len = rng.uniform(8, 28);
      const r = rng.next();
      blocks.push({
        z0: z,
        z1: M.min(zEnd, z + len),
        h: rng.uniform(7, 26),
        col: rng.jitter(rng.pick(FACADE_COLOURS), 18),
        win: rng.jitter([55, 65, 80], 15),
        floorH: rng.uniform(2.8, 3.6),
        winW: rng.uniform(0.8, 1.6),
        kind: r < 0.12 ? 'trees' : r < 0.2 ? 'wall' : 'building',
      });
      z += len + (rng.chance(0.15) ? rng.uniform(2, 8) : 0);
    }
    for (const b of [...blocks].reverse()) {
      const shadeSeed = hash2(M.floor(b.z0 * 10), side, texSeed);
      const fill: Shader = (x, y) => {
        const Z = (cam.f * Xb) / (x + 0.5 - cam.vx);
        const hgt = cam.hc - ((y + 0.5 - cam.horizon) * Z) / cam.f;
        const u = Z;
        if (b.kind === 'trees') {
          const g = (fbm2(u * 1.2, hgt * 1.5, shadeSeed) - 0.5) * 80;
          return [60 + g * 0.5, 95 + g, 40 + g * 0.3];
        }
        const grainV = (rand2(x, y, shadeSeed) - 0.5) * 10;
        const blot = (noise2(u / 3, hgt / 3, shadeSeed) - 0.5) * 24;
        if (b.kind === 'wall') return [b.col[0] * 0.9 + grainV + blot, b.col[1] * 0.9 + grainV + blot, b.col[2] * 0.9 + grainV + blot];
        const fu = u / (b.winW * 2);
        const fh = hgt / b.floorH;
        const inWin = fh > 1 && fu - M.floor(fu) < 0.5 && fh - M.floor(fh) > 0.3 && fh - M.floor(fh) < 0.8;
        const shop = fh < 1 && fh > 0.15 && (u / 4 - M.floor(u / 4)) < 0.7;
        if (inWin || shop) {
          const refl = noise2(u, hgt, shadeSeed + 1) * 40;
          return [b.win[0] + refl + grainV, b.win[1] + refl + grainV, b.win[2] + refl * 1.2 + grainV];
        }
        return [b.col[0] + grainV + blot, b.col[1] + grainV + blot, b.col[2] + grainV + blot];
      };
      const top = b.kind === 'wall' ? rng.uniform(1.2, 2.5) : b.kind === 'trees' ? b.h * 0.6 : b.h;
      const cls = b.kind === 'trees' ? STREET.vegetation : b.kind === 'wall' ? STREET.wall : STREET.building;
      c.fillWhere(0, 0, W, H, (px, py) => {
        const dx = px - cam.vx;
        if (dx === 0 || M.sign(dx) !== side) return false;
        const Z = (cam.f * Xb) / dx;
        if (Z < b.z0 || Z > b.z1) return false;
        const hgt = cam.hc - ((py - cam.horizon) * Z) / cam.f;
        if (b.kind === 'trees') {
          // A ragged crown line instead of a flat roof.
          return hgt >= 0 && hgt <= top * (0.75 + 0.5 * noise2(Z / 2, 0, shadeSeed));
        }
        return hgt >= 0 && hgt <= top;
      }, fill, cls);
    }
  }

  // --- street objects, far to near ------------------------------------------------------------
  const objects: StreetObject[] = [];
  let nextInst = 1;
  const newInst = (): number => nextInst++;
  const sidewalkX = (side: number, t: number): number => roadEdge(side) + side * walkW[side < 0 ? 0 : 1] * t;

  // Poles with signs and traffic lights.
  const nPoles = rng.range(2, 7);
  for (let k = 0; k < nPoles; k++) {
    const side = rng.chance(0.5) ? -1 : 1;
    const Z = rng.uniform(4, 45);
    const X = sidewalkX(side, rng.uniform(0.08, 0.3));
    const hgt = rng.uniform(3.5, 8);
    const width = rng.uniform(0.1, 0.22);
    const kind = rng.next();
    const poleCol = rng.jitter([120, 120, 118], 25);
    const signCol = rng.pick<Rgb>([[230, 230, 235], [30, 80, 170], [200, 30, 30], [235, 200, 20]]);
    const signShape = rng.int(3);
    const signH = rng.uniform(2.2, M.min(3.5, hgt - 0.3));
    const lightOn = rng.pick<Rgb>([[230, 40, 30], [240, 170, 20], [40, 220, 90]]);
    const ps = rng.int(1 << 30);
    objects.push({
      z: Z,
      draw: (cv) => {
        const [x0, yb] = project(cam, X - width / 2, 0, Z);
        const [x1, yt] = project(cam, X + width / 2, hgt, Z);
        const px0 = M.min(x0, (x0 + x1) / 2 - 0.5);
        const px1 = M.max(x1, (x0 + x1) / 2 + 0.5);
        cv.rect(px0, yt, px1, yb, grainy(poleCol, ps, 4, 8, 3), STREET.pole);
        if (kind < 0.45) {
          const s = 0.65;
          const cx = X - side * 0.35;
          const [sx, sy] = project(cam, cx, signH, Z);
          const r = (cam.f * s) / 2 / Z;
          const sh = grainy(signCol, ps + 1, 4, 6, 2);
          if (signShape === 0) cv.ellipse(sx, sy, r, r, sh, STREET.trafficSign);
          else if (signShape === 1) cv.rect(sx - r, sy - r, sx + r, sy + r, sh, STREET.trafficSign);
          else cv.polygon([[sx, sy - r], [sx + r, sy + r * 0.8], [sx - r, sy + r * 0.8]], sh, STREET.trafficSign);
        } else if (kind < 0.75) {
          const [lx0, ly0] = project(cam, X - 0.17, hgt - 0.1, Z);
          const [lx1, ly1] = project(cam, X + 0.17, hgt - 1.0, Z);
          cv.rect(lx0, ly0, lx1, ly1, grainy([35, 35, 30], ps + 2, 4, 6, 2), STREET.trafficLight);
          const slot = rng.int(3);
          const [bx, by] = project(cam, X, hgt - 0.25 - 0.3 * slot, Z);
          const br = M.max(0.6, (cam.f * 0.1) / Z);
          cv.ellipse(bx, by, br, br, () => lightOn, STREET.trafficLight);
        }
      },
    });
  }

  // Trees on the sidewalk edge.
  const nTrees = rng.range(0, 5);
  for (let k = 0; k < nTrees; k++) {
    const side = rng.chance(0.5) ? -1 : 1;
    const Z = rng.uniform(5, 50);
    const X = sidewalkX(side, rng.uniform(0.5, 0.9));
    const trunkH = rng.uniform(1.8, 3);
    const crownR = rng.uniform(1.3, 3);
    const crownCol = rng.jitter([75, 110, 45], 25);
    const ts = rng.int(1 << 30);
    objects.push({
      z: Z,
      draw: (cv) => {
        const [tx0, tyb] = project(cam, X - 0.15, 0, Z);
        const [tx1, tyt] = project(cam, X + 0.15, trunkH + crownR * 0.5, Z);
        cv.rect(M.min(tx0, tx1 - 1), tyt, tx1, tyb, grainy([85, 65, 45], ts, 6, 10, 2), STREET.vegetation);
        const [cx, cy] = project(cam, X, trunkH + crownR, Z);
        const r = (cam.f * crownR) / Z;
        cv.fillWhere(cx - r, cy - r, cx + r, cy + r, (px, py) => {
          const dx = (px - cx) / r;
          const dy = (py - cy) / (r * 0.9);
          return dx * dx + dy * dy <= 0.75 + 0.4 * noise2(px / (r * 0.35 + 0.5), py / (r * 0.35 + 0.5), ts);
        }, (x, y) => {
          const g = (fbm2(x / 2.5, y / 2.5, ts + 1) - 0.5) * 90;
          return [crownCol[0] + g * 0.6, crownCol[1] + g, crownCol[2] + g * 0.4];
        }, STREET.vegetation);
      },
    });
  }

  // Static clutter (bins, bollards) on the sidewalk: Cityscapes 'static', ignored in training.
  const nStatic = rng.range(0, 3);
  for (let k = 0; k < nStatic; k++) {
    const side = rng.chance(0.5) ? -1 : 1;
    const Z = rng.uniform(4, 30);
    const X = sidewalkX(side, rng.uniform(0.2, 0.8));
    const h = rng.uniform(0.5, 1.1);
    const col = rng.jitter(rng.pick<Rgb>([[60, 90, 60], [70, 70, 75], [150, 110, 40]]), 15);
    objects.push({
      z: Z,
      draw: (cv) => {
        const [x0, y0] = project(cam, X - 0.3, h, Z);
        const [x1, y1] = project(cam, X + 0.3, 0, Z);
        cv.rect(x0, y0, x1, y1, grainy(col, k + 77, 5, 8, 2), STREET.static);
      },
    });
  }

  // Vehicles: driving in lanes, parked at the kerb or in parking strips.
  const nCars = rng.range(1, 7);
  for (let k = 0; k < nCars; k++) {
    const parked = rng.chance(0.45);
    const side = rng.chance(0.5) ? -1 : 1;
    let X: number;
    let Z: number;
    if (parked) {
      const p = parking.find((q) => q.side === side);
      Z = p ? rng.uniform(p.z0, p.z1) : rng.uniform(5, 40);
      X = roadEdge(side) - side * rng.uniform(1.1, 1.4);
    } else {
      Z = rng.uniform(5, 55);
      X = roadShift + side * rng.uniform(1.2, M.max(1.3, roadHalf - 1.5));
    }
    const r = rng.next();
    const type = r < 0.08 ? 'bus' : r < 0.16 ? 'truck' : 'car';
    const wv = type === 'car' ? rng.uniform(1.65, 1.95) : rng.uniform(2.3, 2.55);
    const hv = type === 'car' ? rng.uniform(1.35, 1.7) : type === 'bus' ? rng.uniform(2.9, 3.3) : rng.uniform(2.6, 3.4);
    const col = rng.jitter(type === 'bus' ? rng.pick<Rgb>([[220, 190, 40], [200, 40, 40], [230, 230, 230]]) : rng.pick(CAR_COLOURS), 15);
    const cs = rng.int(1 << 30);
    const cls = type === 'bus' ? STREET.bus : type === 'truck' ? STREET.truck : STREET.car;
    objects.push({
      z: Z,
      draw: (cv) => {
        const id = newInst();
        const body = grainy(col, cs, 4, 10, 3);
        const glass = grainy([40, 48, 58], cs + 1, 4, 14, 2);
        const dark = grainy([22, 22, 24], cs + 2, 3, 4, 2);
        const P = (dx: number, y: number): [number, number] => project(cam, X + dx, y, Z);
        const half = wv / 2;
        if (type === 'car') {
          const [ax, ay] = P(-half, hv * 0.62);
          const [bx, by] = P(half, 0.28);
          cv.rect(ax, ay, bx, by, body, cls, id);
          const cab = [P(-half * 0.82, hv * 0.62), P(-half * 0.68, hv), P(half * 0.68, hv), P(half * 0.82, hv * 0.62)];
          cv.polygon(cab, body, cls, id);
          const win = [P(-half * 0.72, hv * 0.64), P(-half * 0.62, hv * 0.93), P(half * 0.62, hv * 0.93), P(half * 0.72, hv * 0.64)];
          cv.polygon(win, glass, cls, id);
          for (const s of [-1, 1]) {
            const [w0x, w0y] = P(s * half - (s > 0 ? 0.35 : 0), 0.4);
            const [w1x, w1y] = P(s * half + (s < 0 ? 0.35 : 0), 0);
            cv.rect(M.min(w0x, w1x), w0y, M.max(w0x, w1x), w1y, dark, cls, id);
            const [l0x, l0y] = P(s * half * 0.92 - 0.12, hv * 0.55);
            const [l1x, l1y] = P(s * half * 0.92 + 0.12, hv * 0.45);
            cv.rect(M.min(l0x, l1x), l0y, M.max(l0x, l1x), l1y, () => [190, 25, 25], cls, id);
          }
          const [px0, py0] = P(-0.26, hv * 0.42);
          const [px1, py1] = P(0.26, hv * 0.32);
          cv.rect(px0, py0, px1, py1, () => [225, 225, 215], cls, id);
        } else {
          const [ax, ay] = P(-half, hv);
          const [bx, by] = P(half, 0.3);
          cv.rect(ax, ay, bx, by, body, cls, id);
          const [gx0, gy0] = P(-half * 0.85, hv * 0.92);
          const [gx1, gy1] = P(half * 0.85, hv * (type === 'bus' ? 0.55 : 0.75));
          cv.rect(gx0, gy0, gx1, gy1, type === 'bus' ? glass : grainy([col[0] * 0.8, col[1] * 0.8, col[2] * 0.8], cs + 3, 4, 8, 3), cls, id);
          for (const s of [-1, 1]) {
            const [w0x, w0y] = P(s * half * 0.9 - 0.25, 0.55);
            const [w1x, w1y] = P(s * half * 0.9 + 0.25, 0);
            cv.rect(w0x, w0y, w1x, w1y, dark, cls, id);
          }
        }
      },
    });
  }

  // Pedestrians on the sidewalks (some crossing), and cyclists (rider + bicycle).
  const nPeople = rng.range(1, 8);
  for (let k = 0; k < nPeople; k++) {
    const side = rng.chance(0.5) ? -1 : 1;
    const cyclist = rng.chance(0.15);
    const crossing = !cyclist && rng.chance(0.15);
    const Z = rng.uniform(4, 35);
    const X = cyclist
      ? roadEdge(side) - side * rng.uniform(0.5, 1.2)
      : crossing
        ? roadShift + rng.uniform(-roadHalf, roadHalf)
        : sidewalkX(side, rng.uniform(0.15, 0.95));
    const h = rng.uniform(1.55, 1.9);
    const shirt = rng.jitter(rng.pick(CLOTHES), 20);
    const trousers = rng.jitter(rng.pick(CLOTHES), 15);
    const skin = rng.pick(SKIN);
    const stride = rng.uniform(0, 0.25);
    const bag = rng.chance(0.3);
    const ps = rng.int(1 << 30);
    objects.push({
      z: Z,
      draw: (cv) => {
        const P = (dx: number, y: number): [number, number] => project(cam, X + dx, y, Z);
        const s = cam.f / Z;
        if (cyclist) {
          const bid = newInst();
          const frame = grainy(rng.pick<Rgb>([[30, 30, 30], [150, 20, 20], [20, 60, 140]]), ps + 5, 3, 4, 2);
          // Seen from behind: wheel in line, a narrow upright silhouette.
          const [wx, wy] = P(0, 0.35);
          cv.rect(wx - M.max(0.6, 0.04 * s), wy - 0.35 * s, wx + M.max(0.6, 0.04 * s), wy + 0.35 * s, frame, STREET.bicycle, bid);
          const [hx0, hy] = P(-0.3, 1.0);
          const [hx1] = P(0.3, 1.0);
          cv.line(hx0, hy, hx1, hy, M.max(0.5, 0.025 * s), frame, STREET.bicycle, bid);
          const rid = newInst();
          const [t0x, t0y] = P(-0.2, h * 0.95);
          const [t1x, t1y] = P(0.2, 0.85);
          cv.rect(t0x, t0y, t1x, t1y, grainy(shirt, ps, 4, 10, 3), STREET.rider, rid);
          const [lx0, ly0] = P(-0.14, 0.9);
          const [lx1, ly1] = P(0.14, 0.3);
          cv.rect(lx0, ly0, lx1, ly1, grainy(trousers, ps + 1, 4, 8, 3), STREET.rider, rid);
          const [hx, hy2] = P(0, h * 1.02);
          cv.ellipse(hx, hy2, 0.12 * s, 0.13 * s, grainy(rng.chance(0.5) ? skin : [40, 40, 40], ps + 2, 3, 4, 2), STREET.rider, rid);
          return;
        }
        const id = newInst();
        const legTop = h * 0.48;
        for (const lx of [-0.1 - stride / 2, 0.1 + stride / 2]) {
          const [a, b] = P(lx, 0);
          const [c0, d] = P(lx * 0.5, legTop);
          cv.line(c0, d, a, b, M.max(0.55, 0.065 * s), grainy(trousers, ps + 1, 4, 8, 3), STREET.person, id);
        }
        const [t0x, t0y] = P(-0.21, h * 0.82);
        const [t1x, t1y] = P(0.21, legTop - 0.05);
        cv.rect(t0x, t0y, t1x, t1y, grainy(shirt, ps, 4, 12, 3), STREET.person, id);
        for (const sx of [-1, 1]) {
          const [a, b] = P(sx * 0.25, h * 0.8);
          const [c0, d] = P(sx * 0.28, h * 0.45);
          cv.line(a, b, c0, d, M.max(0.5, 0.05 * s), grainy(shirt, ps + 3, 4, 8, 3), STREET.person, id);
        }
        const [hx, hy] = P(0, h * 0.91);
        cv.ellipse(hx, hy, 0.1 * s, 0.12 * s, grainy(skin, ps + 2, 3, 6, 2), STREET.person, id);
        if (bag) {
          const [b0x, b0y] = P(0.22, h * 0.6);
          const [b1x, b1y] = P(0.42, h * 0.4);
          cv.rect(b0x, b0y, b1x, b1y, grainy([60, 40, 30], ps + 4, 4, 6, 2), STREET.person, id);
        }
      },
    });
  }

  objects.sort((a, b) => b.z - a.z);
  for (const o of objects) o.draw(c);

  // Ego-vehicle hood across the bottom (Cityscapes' camera sits behind the windscreen).
  if (opts.egoVehicle) {
    const hood = H * rng.uniform(0.07, 0.12);
    const hoodCol = rng.jitter([45, 50, 55], 15);
    c.fillWhere(0, H - hood - 2, W, H, (px, py) => {
      const t = (px - W / 2) / (W / 2);
      return py > H - hood * (1 - 0.35 * t * t);
    }, (x, y) => {
      const refl = noise2(x / 30, y / 4, texSeed + 21) * 30;
      return [hoodCol[0] + refl, hoodCol[1] + refl, hoodCol[2] + refl];
    }, STREET.ego);
  }

  // Global illumination: exposure, colour cast and vignetting.
  const exposure = rng.uniform(0.8, 1.15);
  const cast: Rgb = [rng.uniform(0.93, 1.07), rng.uniform(0.95, 1.05), rng.uniform(0.92, 1.08)];
  for (let i = 0; i < W * H; i++) {
    const x = i % W;
    const y = M.floor(i / W);
    const dx = (x - W / 2) / W;
    const dy = (y - H / 2) / H;
    const k = exposure * (1 - 0.35 * (dx * dx + dy * dy));
    for (let ch = 0; ch < 3; ch++) c.rgb[3 * i + ch] = clamp255(c.rgb[3 * i + ch] * k * cast[ch]);
  }
  return { width: W, height: H, rgb: c.toRgb8(3, seed ^ 0x5bd1e995), cls: c.cls, inst: c.inst };
}

// ---------------------------------------------------------------------------------------------
// cityscapes-mini

/** Street class → Cityscapes label id (REFERENCE §1; labels.py ids of non-train classes). */
export const STREET_TO_CITYSCAPES_LABEL_ID: Readonly<Record<number, number>> = Object.freeze({
  [STREET.unlabeled]: 0,
  [STREET.ego]: 1,
  [STREET.static]: 4,
  [STREET.road]: 7,
  [STREET.sidewalk]: 8,
  [STREET.parking]: 9,
  [STREET.building]: 11,
  [STREET.wall]: 12,
  [STREET.fence]: 13,
  [STREET.pole]: 17,
  [STREET.trafficLight]: 19,
  [STREET.trafficSign]: 20,
  [STREET.vegetation]: 21,
  [STREET.terrain]: 22,
  [STREET.sky]: 23,
  [STREET.person]: 24,
  [STREET.rider]: 25,
  [STREET.car]: 26,
  [STREET.truck]: 27,
  [STREET.bus]: 28,
  [STREET.bicycle]: 33,
});

/** Cityscapes label ids whose objects get instance ids (`hasInstances` in labels.py). */
const INSTANCE_LABEL_IDS = new Set([24, 25, 26, 27, 28, 29, 30, 31, 32, 33]);

/** `_color.png` colours of every label id 0..33 (labels.py). */
const LABEL_ID_COLOURS: readonly Rgb[] = [
  [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [111, 74, 0], [81, 0, 81], [128, 64, 128], [244, 35, 232],
  [250, 170, 160], [230, 150, 140], [70, 70, 70], [102, 102, 156], [190, 153, 153], [180, 165, 180], [150, 100, 100],
  [150, 120, 90], [153, 153, 153], [153, 153, 153], [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152],
  [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142], [0, 0, 70], [0, 60, 100], [0, 0, 90], [0, 0, 110],
  [0, 80, 100], [0, 0, 230], [119, 11, 32],
];

/** Size and split of cityscapes-mini. */
export const CITYSCAPES_MINI = Object.freeze({
  width: 256,
  height: 128,
  seed: 0xc17e5,
  splits: Object.freeze({
    train: Object.freeze([['aachen', 16], ['bochum', 16], ['bremen', 16]] as const),
    val: Object.freeze([['frankfurt', 6], ['lindau', 5], ['munster', 5]] as const),
  }),
});

/** Cityscapes label ids and instance ids of a rendered scene. */
export function cityscapesLabels(scene: StreetScene): { labelIds: Uint8Array; instanceIds: Uint16Array; color: Uint8Array } {
  const n = scene.width * scene.height;
  const labelIds = new Uint8Array(n);
  const instanceIds = new Uint16Array(n);
  const color = new Uint8Array(n * 4);
  const perClass = new Map<number, number>();
  const instNo = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const id = STREET_TO_CITYSCAPES_LABEL_ID[scene.cls[i]] ?? 0;
    labelIds[i] = id;
    const o = scene.inst[i];
    if (o && INSTANCE_LABEL_IDS.has(id)) {
      // Instance numbers count per class in order of first appearance (row-major), from 0.
      let k = instNo.get(o);
      if (k === undefined) {
        k = perClass.get(id) ?? 0;
        perClass.set(id, k + 1);
        instNo.set(o, k);
      }
      instanceIds[i] = id * 1000 + k;
    } else {
      instanceIds[i] = id;
    }
    const col = LABEL_ID_COLOURS[id];
    color[4 * i] = col[0];
    color[4 * i + 1] = col[1];
    color[4 * i + 2] = col[2];
    color[4 * i + 3] = 255;
  }
  return { labelIds, instanceIds, color };
}

/** Writes `<root>/cityscapes-mini` (deterministic; built beside the old copy and swapped in). */
export async function generateCityscapesMini(root: string): Promise<void> {
  const { width: W, height: H } = CITYSCAPES_MINI;
  await buildDatasetFolder(path.join(root, 'cityscapes-mini'), async (dir) => {
    let seq = 0;
    for (const [split, cities] of Object.entries(CITYSCAPES_MINI.splits)) {
      for (const [city, count] of cities) {
        for (let k = 0; k < count; k++) {
          const stem = `${city}_${String(k * 7 + 1).padStart(6, '0')}_000019`;
          const scene = renderStreet(hash2(CITYSCAPES_MINI.seed, seq++, 0xc1), { width: W, height: H, egoVehicle: true });
          const { labelIds, instanceIds, color } = cityscapesLabels(scene);
          const img = path.join(dir, 'leftImg8bit', split, city, `${stem}_leftImg8bit.png`);
          const gt = path.join(dir, 'gtFine', split, city, `${stem}_gtFine_`);
          await writeRgbPng(img, scene.rgb, W, H);
          await writeGreyPng(`${gt}labelIds.png`, labelIds, W, H);
          await writeGrey16Png(`${gt}instanceIds.png`, instanceIds, W, H);
          await writeRgbPng(`${gt}color.png`, color, W, H, 4);
        }
      }
    }
  });
}

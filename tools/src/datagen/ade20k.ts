/**
 * ade20k-mini: indoor rooms, streets and landscapes labelled with the 150 ADE20K classes, in the
 * ADEChallengeData2016 layout (REFERENCE §3):
 *
 *   ade20k-mini/ADEChallengeData2016/images/{training,validation}/ADE_{train,val}_%08d.jpg
 *   ade20k-mini/ADEChallengeData2016/annotations/{training,validation}/ADE_{train,val}_%08d.png
 *
 * Annotations are 8-bit grey PNGs with values 0..150 (class index + 1; 0 = "other": unlabelled
 * clutter, which the loader's reduce-zero-label turns into ignore).
 */
import * as path from 'path';
import { ADE20K_CLASSES } from '@gpl/ade20k';
import { Canvas, Prng, fbm2, grainy, hash2, noise2, type Rgb, type Shader } from './canvas';
import { STREET, renderStreet } from './street';
import { buildDatasetFolder, writeGreyPng, writeJpeg } from './write';

// A module-local alias: global lookups (Math) are slow inside vm contexts such as Jest's.
const M = Math;

/** Sizes and counts of ade20k-mini. */
export const ADE20K_MINI = Object.freeze({
  seed: 0xade20,
  training: 64,
  validation: 24,
  sizes: Object.freeze([[192, 144], [192, 144], [176, 144], [144, 192], [192, 128]] as const),
});

/** ADE annotation value (1..150) of a class name; throws on a typo, so every value is checked. */
export function adeValue(name: string): number {
  const i = ADE20K_CLASSES.indexOf(name);
  if (i < 0) throw new Error(`ade20k-mini: unknown ADE20K class '${name}'`);
  return i + 1;
}

const A = {
  wall: adeValue('wall'), building: adeValue('building'), sky: adeValue('sky'), floor: adeValue('floor'), tree: adeValue('tree'),
  ceiling: adeValue('ceiling'), road: adeValue('road'), bed: adeValue('bed'), windowpane: adeValue('windowpane'), grass: adeValue('grass'),
  cabinet: adeValue('cabinet'), sidewalk: adeValue('sidewalk'), person: adeValue('person'), door: adeValue('door'), table: adeValue('table'),
  mountain: adeValue('mountain'), plant: adeValue('plant'), curtain: adeValue('curtain'), chair: adeValue('chair'), car: adeValue('car'),
  water: adeValue('water'), painting: adeValue('painting'), sofa: adeValue('sofa'), rug: adeValue('rug'), fence: adeValue('fence'),
  rock: adeValue('rock'), lamp: adeValue('lamp'), pillow: adeValue('pillow'), house: adeValue('house'), sea: adeValue('sea'),
  signboard: adeValue('signboard'), pole: adeValue('pole'), bicycle: adeValue('bicycle'), bus: adeValue('bus'), truck: adeValue('truck'),
  trafficLight: adeValue('traffic light'), bookcase: adeValue('bookcase'), tv: adeValue('television receiver'), path: adeValue('path'),
  field: adeValue('field'),
} as const;

/** Street scene class → ADE value (0 = other). */
const STREET_TO_ADE: Readonly<Record<number, number>> = {
  [STREET.unlabeled]: 0, [STREET.sky]: A.sky, [STREET.building]: A.building, [STREET.road]: A.road, [STREET.sidewalk]: A.sidewalk,
  [STREET.vegetation]: A.tree, [STREET.terrain]: A.grass, [STREET.car]: A.car, [STREET.person]: A.person, [STREET.rider]: A.person,
  [STREET.bicycle]: A.bicycle, [STREET.pole]: A.pole, [STREET.trafficSign]: A.signboard, [STREET.trafficLight]: A.trafficLight,
  [STREET.fence]: A.fence, [STREET.wall]: A.wall, [STREET.ego]: 0, [STREET.static]: 0, [STREET.parking]: A.road, [STREET.truck]: A.truck,
  [STREET.bus]: A.bus,
};

const WALLS: readonly Rgb[] = [[215, 205, 185], [185, 195, 205], [205, 175, 150], [232, 230, 222], [160, 170, 150], [190, 160, 170]];
const WOOD: readonly Rgb[] = [[140, 95, 55], [100, 65, 40], [180, 140, 95], [70, 50, 35], [210, 200, 185]];
const FABRIC: readonly Rgb[] = [[120, 40, 40], [60, 80, 120], [160, 150, 130], [80, 80, 85], [170, 120, 70], [60, 100, 70], [200, 190, 170]];

interface Item {
  readonly depth: number;
  readonly draw: () => void;
}

/**
 * A room in one-point perspective: back wall, side walls, floor and ceiling, with windows,
 * doors, paintings and curtains on the walls, and furniture (front faces plus top faces) standing
 * on the floor, drawn back to front.
 */
function renderRoom(c: Canvas, rng: Prng): void {
  const W = c.width;
  const H = c.height;
  const bx0 = W * rng.uniform(0.2, 0.4);
  const bx1 = W * rng.uniform(0.6, 0.8);
  const by0 = H * rng.uniform(0.12, 0.3);
  const by1 = H * rng.uniform(0.5, 0.65);
  const wall = rng.jitter(rng.pick(WALLS), 12);
  const floor = rng.jitter(rng.pick(WOOD), 12);
  const seed = rng.int(1e9);
  const wallSh = grainy(wall, seed, 4, 10, 12);
  const sideSh: Shader = (x, y) => {
    const g = wallSh(x, y);
    return [g[0] * 0.82, g[1] * 0.82, g[2] * 0.82];
  };
  const floorSh: Shader = (x, y) => {
    const g = grainy(floor, seed + 1, 5, 16, 5)(x, y);
    // Planks converge on the vanishing point: stripe on the angle from it.
    const u = (x - (bx0 + bx1) / 2) / M.max(1, y - by1 + 8);
    const k = (M.floor(u * 6) & 1) === 0 ? 1 : 0.88;
    return [g[0] * k, g[1] * k, g[2] * k];
  };
  c.rect(0, 0, W, H, wallSh, A.wall);
  c.polygon([[0, 0], [bx0, by0], [bx0, by1], [0, H]], sideSh, A.wall);
  c.polygon([[W, 0], [bx1, by0], [bx1, by1], [W, H]], sideSh, A.wall);
  c.polygon([[0, 0], [W, 0], [bx1, by0], [bx0, by0]], grainy([235, 235, 232], seed + 2, 3, 6, 10), A.ceiling);
  c.polygon([[0, H], [bx0, by1], [bx1, by1], [W, H]], floorSh, A.floor);
  if (rng.chance(0.4)) {
    const rx0 = bx0 + (bx1 - bx0) * rng.uniform(-0.3, 0.2);
    const rx1 = bx1 - (bx1 - bx0) * rng.uniform(-0.3, 0.2);
    const ry0 = by1 + (H - by1) * rng.uniform(0.2, 0.4);
    const ry1 = by1 + (H - by1) * rng.uniform(0.75, 0.95);
    c.polygon([[rx0, ry0], [rx1, ry0], [rx1 + (rx1 - W / 2) * 0.3, ry1], [rx0 + (rx0 - W / 2) * 0.3, ry1]], grainy(rng.pick(FABRIC), seed + 3, 5, 20, 3), A.rug);
  }
  // Things on the back wall.
  const bw = bx1 - bx0;
  const bh = by1 - by0;
  const slots = rng.range(1, 3);
  for (let k = 0; k < slots; k++) {
    const kind = rng.pick(['window', 'window', 'door', 'painting', 'painting', 'bookcase'] as const);
    const u0 = rng.uniform(0.02, 0.65);
    const w = bw * rng.uniform(0.18, 0.32);
    const x0 = bx0 + bw * u0;
    if (kind === 'window') {
      const y0 = by0 + bh * rng.uniform(0.1, 0.25);
      const y1 = by0 + bh * rng.uniform(0.55, 0.75);
      c.rect(x0, y0, x0 + w, y1, grainy(rng.jitter([175, 205, 235], 20), seed + 10 + k, 3, 25, 5), A.windowpane);
      c.rect(x0 + w / 2 - 0.6, y0, x0 + w / 2 + 0.6, y1, () => [240, 240, 238], A.windowpane);
      if (rng.chance(0.6)) {
        const cc = rng.pick(FABRIC);
        const cur: Shader = (x, y) => {
          const g = grainy(cc, seed + 20 + k, 4, 10, 4)(x, y);
          const fold = (M.floor(x / 2) & 1) === 0 ? 0.85 : 1;
          return [g[0] * fold, g[1] * fold, g[2] * fold];
        };
        c.rect(x0 - w * 0.25, y0 - 2, x0 + w * 0.08, by1 - bh * 0.05, cur, A.curtain);
        c.rect(x0 + w * 0.92, y0 - 2, x0 + w * 1.25, by1 - bh * 0.05, cur, A.curtain);
      }
    } else if (kind === 'door') {
      c.rect(x0, by0 + bh * 0.2, x0 + w * 0.8, by1, grainy(rng.pick(WOOD), seed + 30 + k, 4, 10, 3), A.door);
      c.ellipse(x0 + w * 0.68, by0 + bh * 0.65, 0.9, 0.9, () => [200, 180, 60], A.door);
    } else if (kind === 'painting') {
      const y0 = by0 + bh * rng.uniform(0.15, 0.3);
      const h = bh * rng.uniform(0.2, 0.35);
      c.rect(x0, y0, x0 + w, y0 + h, grainy([60, 45, 30], seed + 40 + k, 3, 4, 2), A.painting);
      const a = rng.jitter([120, 100, 80], 60);
      const ps = seed + 41 + k;
      c.rect(x0 + 1.5, y0 + 1.5, x0 + w - 1.5, y0 + h - 1.5, (x, y) => {
        const g = fbm2(x / 4, y / 4, ps);
        return [a[0] * g * 1.6, a[1] * (1.4 - g), a[2] * g * 1.2 + 30];
      }, A.painting);
    } else {
      const y0 = by0 + bh * 0.05;
      c.rect(x0, y0, x0 + w, by1, grainy(rng.pick(WOOD), seed + 50 + k, 4, 8, 3), A.bookcase);
      for (let y = y0 + 2; y < by1 - 2; y += M.max(3, bh * 0.18)) {
        for (let x = x0 + 1.5; x < x0 + w - 2; x += 1.5) {
          const bc = rng.pick<Rgb>([[150, 30, 30], [30, 60, 130], [200, 180, 60], [40, 110, 50], [220, 220, 210]]);
          c.rect(x, y, x + 1.2, y + M.max(2, bh * 0.14), () => bc, A.bookcase);
        }
      }
    }
  }
  // Furniture on the floor, far to near.
  const items: Item[] = [];
  const nItems = rng.range(1, 4);
  for (let k = 0; k < nItems; k++) {
    const kind = rng.pick(['bed', 'table', 'chair', 'sofa', 'cabinet', 'plant', 'lamp', 'tv', 'clutter'] as const);
    const t = rng.uniform(0.15, 0.95); // 0 = at the back wall, 1 = at the camera
    const yBase = by1 + (H - by1) * t;
    const scale = 0.45 + 1.6 * t; // nearer is bigger
    const cx = W / 2 + (rng.next() - 0.5) * W * (0.4 + 0.6 * t);
    const col = rng.jitter(rng.pick(kind === 'sofa' || kind === 'bed' ? FABRIC : WOOD), 15);
    const s = seed + 100 + k;
    items.push({
      depth: t,
      draw: () => {
        const u = (bw / 3) * scale;
        const sh = grainy(col, s, 4, 12, 3);
        const top: Shader = (x, y) => {
          const g = sh(x, y);
          return [g[0] * 1.12, g[1] * 1.12, g[2] * 1.12];
        };
        const box = (w: number, h: number, d: number, cls: number, face: Shader, topSh: Shader): void => {
          const x0 = cx - w / 2;
          c.polygon([[x0, yBase - h], [x0 + w, yBase - h], [x0 + w * 0.92 + (W / 2 - cx) * 0.05, yBase - h - d], [x0 + w * 0.08 + (W / 2 - cx) * 0.05, yBase - h - d]], topSh, cls);
          c.rect(x0, yBase - h, x0 + w, yBase, face, cls);
        };
        if (kind === 'bed') {
          box(u * 2.2, u * 0.45, u * 0.5, A.bed, sh, grainy([235, 232, 225], s + 1, 3, 8, 4));
          c.rect(cx - u * 1.1, yBase - u * 1.0, cx + u * 1.1, yBase - u * 0.45, grainy(rng.pick(WOOD), s + 2, 4, 8, 3), A.bed);
          c.ellipse(cx - u * 0.5, yBase - u * 0.6, u * 0.35, u * 0.14, grainy([240, 238, 230], s + 3, 3, 6, 3), A.pillow);
          c.ellipse(cx + u * 0.5, yBase - u * 0.6, u * 0.35, u * 0.14, grainy([240, 238, 230], s + 4, 3, 6, 3), A.pillow);
        } else if (kind === 'table') {
          for (const dx of [-0.85, 0.78]) c.rect(cx + dx * u, yBase - u * 0.6, cx + (dx + 0.07) * u, yBase, sh, A.table);
          box(u * 1.8, u * 0.08, u * 0.45, A.table, sh, top);
          c.rect(cx - u * 0.9, yBase - u * 0.68, cx + u * 0.9, yBase - u * 0.6, sh, A.table);
        } else if (kind === 'chair') {
          c.rect(cx - u * 0.3, yBase - u * 1.05, cx - u * 0.2, yBase, sh, A.chair);
          c.rect(cx - u * 0.3, yBase - u * 0.5, cx + u * 0.3, yBase - u * 0.42, sh, A.chair);
          c.rect(cx + u * 0.22, yBase - u * 0.45, cx + u * 0.3, yBase, sh, A.chair);
        } else if (kind === 'sofa') {
          c.rect(cx - u * 1.2, yBase - u * 0.85, cx + u * 1.2, yBase - u * 0.1, sh, A.sofa);
          c.rect(cx - u * 1.3, yBase - u * 0.55, cx + u * 1.3, yBase - u * 0.05, top, A.sofa);
          c.ellipse(cx - u * 0.7, yBase - u * 0.6, u * 0.22, u * 0.18, grainy(rng.pick(FABRIC), s + 5, 4, 8, 3), A.pillow);
        } else if (kind === 'cabinet') {
          box(u * 1.0, u * 1.1, u * 0.3, A.cabinet, sh, top);
          c.rect(cx - 0.4, yBase - u * 1.05, cx + 0.4, yBase - u * 0.05, () => [col[0] * 0.6, col[1] * 0.6, col[2] * 0.6], A.cabinet);
        } else if (kind === 'plant') {
          c.polygon([[cx - u * 0.2, yBase - u * 0.35], [cx + u * 0.2, yBase - u * 0.35], [cx + u * 0.15, yBase], [cx - u * 0.15, yBase]], grainy([170, 90, 50], s + 6, 4, 8, 2), A.plant);
          c.fillWhere(cx - u * 0.5, yBase - u * 1.2, cx + u * 0.5, yBase - u * 0.3, (px, py) => {
            const dx = (px - cx) / (u * 0.45);
            const dy = (py - (yBase - u * 0.75)) / (u * 0.45);
            return dx * dx + dy * dy <= 0.7 + 0.5 * noise2(px / 2, py / 2, s);
          }, (x, y) => {
            const g = (fbm2(x / 2, y / 2, s + 7) - 0.5) * 90;
            return [55 + g * 0.5, 115 + g, 45 + g * 0.4];
          }, A.plant);
        } else if (kind === 'lamp') {
          c.rect(cx - 0.6, yBase - u * 1.4, cx + 0.6, yBase, grainy([60, 60, 60], s + 8, 3, 4, 2), A.lamp);
          c.polygon([[cx - u * 0.25, yBase - u * 1.3], [cx + u * 0.25, yBase - u * 1.3], [cx + u * 0.15, yBase - u * 1.65], [cx - u * 0.15, yBase - u * 1.65]], grainy([240, 225, 180], s + 9, 3, 6, 2), A.lamp);
        } else if (kind === 'tv') {
          box(u * 1.1, u * 0.45, u * 0.25, A.cabinet, sh, top);
          c.rect(cx - u * 0.55, yBase - u * 1.15, cx + u * 0.55, yBase - u * 0.5, grainy([25, 25, 28], s + 10, 3, 6, 2), A.tv);
          c.rect(cx - u * 0.5, yBase - u * 1.1, cx + u * 0.5, yBase - u * 0.55, (x, y) => {
            const g = fbm2(x / 3, y / 3, s + 11);
            return [60 + 120 * g, 80 + 100 * g, 120 + 80 * g];
          }, A.tv);
        } else {
          // Unlabelled clutter: ADE's "other" (value 0).
          box(u * 0.5, u * 0.35, u * 0.15, 0, grainy(rng.jitter([150, 120, 90], 40), s + 12, 5, 10, 3), top);
        }
      },
    });
  }
  items.sort((a, b) => a.depth - b.depth);
  for (const it of items) it.draw();
}

/** A landscape: sky, mountain ridges, water or fields, trees, rocks, a house, a path, people. */
function renderLandscape(c: Canvas, rng: Prng): void {
  const W = c.width;
  const H = c.height;
  const seed = rng.int(1e9);
  const horizon = H * rng.uniform(0.4, 0.6);
  const sky = rng.jitter([110, 160, 215], 25);
  c.rect(0, 0, W, H, (x, y) => {
    const cl = M.max(0, fbm2(x / 20, y / 8, seed) - 0.5) * 130;
    const t = y / H;
    return [sky[0] + 70 * t + cl, sky[1] + 45 * t + cl, sky[2] + 20 * t + cl];
  }, A.sky);
  const ridges = rng.range(1, 2);
  for (let r = 0; r < ridges; r++) {
    const base = horizon - H * (0.05 + 0.2 * (ridges - r)) * rng.uniform(0.6, 1.2);
    const col = rng.jitter(r === 0 && ridges === 2 ? [120, 130, 150] : [95, 105, 90], 15);
    const rs = seed + 10 + r;
    c.fillWhere(0, 0, W, horizon + 1, (px, py) => py > base + H * 0.18 * (fbm2(px / 30, r, rs) - 0.5) * 2, grainy(col, rs, 5, 25, 6), A.mountain);
  }
  const waterScene = rng.chance(0.5);
  const groundCls = waterScene ? (rng.chance(0.5) ? A.water : A.sea) : rng.chance(0.5) ? A.grass : A.field;
  const ground: Rgb = waterScene ? rng.jitter([50, 95, 135], 15) : rng.jitter(groundCls === A.grass ? [95, 140, 60] : [170, 160, 90], 15);
  c.rect(0, horizon, W, H, (x, y) => {
    const g = grainy(ground, seed + 20, 6, 20, 6)(x, y);
    const ripple = waterScene ? (noise2(x / 7, y / 1.2, seed + 21) - 0.5) * 40 : 0;
    return [g[0] + ripple, g[1] + ripple, g[2] + ripple];
  }, groundCls);
  if (waterScene) {
    // A shore at the bottom.
    const shore = horizon + (H - horizon) * rng.uniform(0.55, 0.8);
    c.fillWhere(0, shore - 10, W, H, (px, py) => py > shore + 6 * (noise2(px / 15, 0, seed + 22) - 0.5), grainy([100, 140, 60], seed + 23, 6, 20, 5), A.grass);
  } else if (rng.chance(0.6)) {
    const px0 = W * rng.uniform(0.3, 0.7);
    c.polygon([[px0 - 2, horizon], [px0 + 2, horizon], [px0 + W * 0.25, H], [px0 - W * 0.15, H]], grainy([165, 140, 105], seed + 24, 5, 12, 4), A.path);
  }
  const items: Item[] = [];
  const n = rng.range(2, 6);
  for (let k = 0; k < n; k++) {
    const kind = rng.pick(['tree', 'tree', 'rock', 'house', 'person', 'fence'] as const);
    const t = rng.uniform(0.05, 1);
    const yb = horizon + (H - horizon) * t;
    const s = 0.3 + 1.4 * t;
    const cx = rng.uniform(0, W);
    const ks = seed + 100 + k;
    if (waterScene && kind !== 'tree' && t < 0.6) continue;
    items.push({
      depth: t,
      draw: () => {
        const u = H * 0.2 * s;
        if (kind === 'tree') {
          c.rect(cx - u * 0.06, yb - u * 0.6, cx + u * 0.06, yb, grainy([85, 65, 45], ks, 4, 8, 2), A.tree);
          c.fillWhere(cx - u * 0.5, yb - u * 1.6, cx + u * 0.5, yb - u * 0.4, (px, py) => {
            const dx = (px - cx) / (u * 0.45);
            const dy = (py - (yb - u * 1.0)) / (u * 0.55);
            return dx * dx + dy * dy <= 0.7 + 0.5 * noise2(px / 2.5, py / 2.5, ks);
          }, (x, y) => {
            const g = (fbm2(x / 2.5, y / 2.5, ks + 1) - 0.5) * 90;
            return [65 + g * 0.5, 105 + g, 40 + g * 0.4];
          }, A.tree);
        } else if (kind === 'rock') {
          c.fillWhere(cx - u * 0.4, yb - u * 0.45, cx + u * 0.4, yb, (px, py) => {
            const dx = (px - cx) / (u * 0.38);
            const dy = (py - yb) / (u * 0.42);
            return dx * dx + dy * dy <= 0.8 + 0.4 * noise2(px / 3, py / 3, ks);
          }, grainy([125, 120, 115], ks, 8, 20, 3), A.rock);
        } else if (kind === 'house') {
          const wall = rng.jitter(rng.pick(WALLS), 10);
          c.rect(cx - u * 0.6, yb - u * 0.7, cx + u * 0.6, yb, grainy(wall, ks, 4, 10, 4), A.house);
          c.polygon([[cx - u * 0.7, yb - u * 0.7], [cx + u * 0.7, yb - u * 0.7], [cx, yb - u * 1.2]], grainy([150, 60, 45], ks + 1, 4, 10, 3), A.house);
          c.rect(cx - u * 0.4, yb - u * 0.5, cx - u * 0.15, yb - u * 0.3, grainy([60, 70, 90], ks + 2, 3, 10, 2), A.house);
          c.rect(cx + u * 0.1, yb - u * 0.45, cx + u * 0.3, yb, grainy([90, 60, 40], ks + 3, 3, 6, 2), A.house);
        } else if (kind === 'fence') {
          const sh = grainy([150, 120, 85], ks, 4, 8, 2);
          c.rect(cx - u * 1.2, yb - u * 0.32, cx + u * 1.2, yb - u * 0.27, sh, A.fence);
          c.rect(cx - u * 1.2, yb - u * 0.17, cx + u * 1.2, yb - u * 0.12, sh, A.fence);
          for (let x = cx - u * 1.2; x < cx + u * 1.2; x += u * 0.3) c.rect(x, yb - u * 0.4, x + M.max(1, u * 0.05), yb, sh, A.fence);
        } else {
          const shirt = rng.jitter(rng.pick(FABRIC), 20);
          const h = u * 0.85;
          c.line(cx - h * 0.06, yb - h * 0.48, cx - h * 0.09, yb, M.max(0.6, h * 0.05), grainy([50, 50, 70], ks, 4, 8, 2), A.person);
          c.line(cx + h * 0.06, yb - h * 0.48, cx + h * 0.09, yb, M.max(0.6, h * 0.05), grainy([50, 50, 70], ks, 4, 8, 2), A.person);
          c.rect(cx - h * 0.12, yb - h * 0.82, cx + h * 0.12, yb - h * 0.45, grainy(shirt, ks + 1, 4, 10, 2), A.person);
          c.ellipse(cx, yb - h * 0.9, h * 0.07, h * 0.08, grainy([200, 160, 130], ks + 2, 3, 6, 2), A.person);
        }
      },
    });
  }
  items.sort((a, b) => a.depth - b.depth);
  for (const it of items) it.draw();
}

/** A rendered ADE-style scene: colour and annotation values 0..150. */
export interface AdeScene {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  readonly annotation: Uint8Array;
}

/** Renders one scene: 45% rooms, 30% streets, 25% landscapes. */
export function renderAdeScene(seed: number, width: number, height: number): AdeScene {
  const rng = new Prng(seed);
  const r = rng.next();
  if (r >= 0.45 && r < 0.75) {
    const s = renderStreet(hash2(seed, 1, 0xade), { width, height, egoVehicle: false });
    const annotation = new Uint8Array(width * height);
    for (let i = 0; i < annotation.length; i++) annotation[i] = STREET_TO_ADE[s.cls[i]] ?? 0;
    return { width, height, rgb: s.rgb, annotation };
  }
  const c = new Canvas(width, height);
  if (r < 0.45) renderRoom(c, rng);
  else renderLandscape(c, rng);
  c.light((x, y) => 0.8 + 0.35 * noise2(x / 70, y / 70, seed));
  return { width, height, rgb: c.toRgb8(3, seed ^ 0x2f6b1), annotation: c.cls };
}

/** Writes `<root>/ade20k-mini` (deterministic; built beside the old copy and swapped in). */
export async function generateAde20kMini(root: string): Promise<void> {
  await buildDatasetFolder(path.join(root, 'ade20k-mini'), async (dir) => {
    const base = path.join(dir, 'ADEChallengeData2016');
    let k = 0;
    for (const [split, prefix, count] of [['training', 'train', ADE20K_MINI.training], ['validation', 'val', ADE20K_MINI.validation]] as const) {
      for (let n = 1; n <= count; n++) {
        const stem = `ADE_${prefix}_${String(n).padStart(8, '0')}`;
        const [w, h] = ADE20K_MINI.sizes[hash2(k, 5, ADE20K_MINI.seed) % ADE20K_MINI.sizes.length];
        const scene = renderAdeScene(hash2(ADE20K_MINI.seed, k++, 0xade), w, h);
        await writeJpeg(path.join(base, 'images', split, `${stem}.jpg`), scene.rgb, w, h);
        await writeGreyPng(path.join(base, 'annotations', split, `${stem}.png`), scene.annotation, w, h);
      }
    }
  });
}

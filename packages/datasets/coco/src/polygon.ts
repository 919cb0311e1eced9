/**
 * Polygon → mask rasterisation with pycocotools' pixel semantics (`rleFrPoly` in COCO
 * `common/maskApi.c`), so masks made here equal the ones COCO's own tools (and COCOeval) use.
 *
 * The rule, in words:
 * 1. vertices are snapped to a grid 5× finer than the pixels: X = ⌊5x + 0.5⌋ (C truncation, so
 *    toward zero for negative values);
 * 2. each edge is walked on that grid one step at a time along its longer axis, rounding the
 *    other coordinate (every edge is walked from its lower end, so an edge shared by two
 *    polygons gives the same points in both);
 * 3. wherever the walk moves from one fine column to the next across the centre of pixel
 *    column x (fine column 5x + 2), the boundary crosses that column at fine row v; the crossing
 *    toggles every pixel of column x from row ⌈(v + 0.5)/5 − 0.5⌉ (clamped to [0, h]) down;
 * 4. toggles are applied in column-major order (even–odd fill).
 * In effect a pixel is inside when its sample point, about (x + 0.4, y + 0.4) in polygon
 * coordinates where pixel (x, y) spans [x, x+1) × [y, y+1), is inside the snapped polygon.
 * A rectangle with integer corners (x0, y0)–(x1, y1) covers exactly columns x0..x1−1 and rows
 * y0..y1−1.
 */
import { mergeRles, type BboxXywh, type Rle } from './rle';

const SCALE = 5;

/** C's `(int)(v + .5)`: round half up for positive values, truncation toward zero. */
function snap(v: number): number {
  return Math.trunc(v + 0.5);
}

/**
 * Rasterises one polygon `[x1, y1, x2, y2, …]` (pixel coordinates, at least 3 points) into an
 * h×w mask (`frPyObjects` for one polygon). Parts outside the image are clipped.
 */
export function polygonToRle(xy: readonly number[], height: number, width: number): Rle {
  checkPolygon(xy, 'polygonToRle');
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
    throw new RangeError(`[@gpl/coco] polygonToRle: size must be non-negative integers, received ${height}×${width}.`);
  }
  const k = xy.length / 2;
  const px: number[] = [];
  const py: number[] = [];
  for (let j = 0; j <= k; j++) {
    px.push(snap(SCALE * xy[(j % k) * 2]));
    py.push(snap(SCALE * xy[(j % k) * 2 + 1]));
  }

  // 2. dense boundary on the fine grid
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let [x0, y0, x1, y1] = [px[j], py[j], px[j + 1], py[j + 1]];
    const dx = Math.abs(x1 - x0);
    const dy = Math.abs(y1 - y0);
    const alongX = dx >= dy;
    const reversed = alongX ? x0 > x1 : y0 > y1;
    if (reversed) [x0, y0, x1, y1] = [x1, y1, x0, y0];
    const steps = alongX ? dx : dy;
    const slope = steps === 0 ? 0 : alongX ? (y1 - y0) / dx : (x1 - x0) / dy;
    for (let d = 0; d <= steps; d++) {
      const t = reversed ? steps - d : d; // keep the original direction of travel
      if (alongX) {
        u.push(x0 + t);
        v.push(snap(y0 + slope * t));
      } else {
        v.push(y0 + t);
        u.push(snap(x0 + slope * t));
      }
    }
  }

  // 3. crossings of pixel-column centres
  const toggles: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    const col = (Math.min(u[j], u[j - 1]) + 0.5) / SCALE - 0.5;
    if (Math.floor(col) !== col || col < 0 || col > width - 1) continue;
    let row = (Math.min(v[j], v[j - 1]) + 0.5) / SCALE - 0.5;
    row = Math.ceil(Math.min(Math.max(row, 0), height));
    toggles.push(col * height + row);
  }

  // 4. even–odd fill: equal toggles cancel in pairs
  toggles.sort((a, b) => a - b);
  const counts: number[] = [];
  let last = 0;
  for (let i = 0; i < toggles.length; ) {
    let n = 1;
    while (i + n < toggles.length && toggles[i + n] === toggles[i]) n++;
    if (n % 2 === 1) {
      counts.push(toggles[i] - last);
      last = toggles[i];
    }
    i += n;
  }
  counts.push(height * width - last);
  // A toggle at the very end of the mask leaves an empty last run; drop it (even-odd parity is unchanged).
  if (counts.length > 1 && counts[counts.length - 1] === 0) counts.pop();
  return { size: [height, width], counts };
}

/** Union of several polygons of one object (COCO's multi-part segmentation). */
export function polygonsToRle(polygons: readonly (readonly number[])[], height: number, width: number): Rle {
  if (!Array.isArray(polygons) || polygons.length === 0) {
    throw new RangeError('[@gpl/coco] polygonsToRle: expected a non-empty list of polygons.');
  }
  return mergeRles(polygons.map((p) => polygonToRle(p, height, width)));
}

/** Mask of a box [x, y, w, h] (pycocotools rasterises it as the polygon of its corners). */
export function bboxToRle(bbox: BboxXywh, height: number, width: number): Rle {
  const [x, y, w, h] = bbox;
  return polygonToRle([x, y, x, y + h, x + w, y + h, x + w, y], height, width);
}

/** Shoelace area of a polygon (sub-pixel; COCO's mask areas differ slightly). */
export function polygonArea(xy: readonly number[]): number {
  const k = xy.length / 2;
  let twice = 0;
  for (let j = 0; j < k; j++) {
    const n = (j + 1) % k;
    twice += xy[2 * j] * xy[2 * n + 1] - xy[2 * n] * xy[2 * j + 1];
  }
  return Math.abs(twice) / 2;
}

/** Throws unless `xy` is a flat array of ≥ 6 finite numbers of even length. */
export function checkPolygon(xy: unknown, where: string): void {
  if (!Array.isArray(xy)) throw new TypeError(`[@gpl/coco] ${where}: expected a polygon [x1, y1, x2, y2, …], received ${typeof xy}.`);
  if (xy.length < 6 || xy.length % 2 !== 0) {
    throw new RangeError(`[@gpl/coco] ${where}: expected a polygon of ≥ 3 points (an even count ≥ 6 of numbers), received ${xy.length} numbers.`);
  }
  for (let i = 0; i < xy.length; i++) {
    if (typeof xy[i] !== 'number' || !Number.isFinite(xy[i])) {
      throw new RangeError(`[@gpl/coco] ${where}: polygon value ${i} must be a finite number, received ${String(xy[i])}.`);
    }
  }
}

/**
 * Run-length encoded binary masks, compatible with pycocotools (COCO `common/maskApi.c`).
 *
 * Conventions (REFERENCE.md §8):
 * - a mask of height h and width w is flattened **column-major**: pixel (x, y) has index x·h + y;
 * - `counts` alternate runs of zeros and ones, starting with zeros (the first count may be 0);
 *   every later count is positive, so an encoding is unique;
 * - the compressed string stores count i as a delta to count i−2 (only for i > 2), in
 *   little-endian 5-bit groups with a continuation bit, each group written as a character + 48.
 *
 * Masks given to or returned by this module as arrays are **row-major** H×W (`y·w + x`), the
 * layout of images and tensors everywhere else in GPL; only the run order is column-major.
 */

/** Uncompressed RLE, as stored in COCO JSON for `iscrowd: 1` annotations. `size` is [h, w]. */
export interface Rle {
  readonly size: readonly [number, number];
  readonly counts: readonly number[];
}

/** Compressed RLE (pycocotools' string form, as returned by `mask.encode`). `size` is [h, w]. */
export interface CompressedRle {
  readonly size: readonly [number, number];
  readonly counts: string;
}

/** A box in COCO's [x, y, width, height] form, in pixels. */
export type BboxXywh = readonly [number, number, number, number];

function checkSize(fn: string, h: number, w: number): void {
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) {
    throw new RangeError(`[@gpl/coco] ${fn}: size must be two non-negative integers [h, w], received [${h}, ${w}].`);
  }
}

/**
 * Encodes a row-major H×W binary mask (any non-zero value is foreground).
 * @param mask length h·w, index y·w + x.
 */
export function encodeMask(mask: ArrayLike<number>, height: number, width: number): Rle {
  checkSize('encodeMask', height, width);
  if (mask.length !== height * width) {
    throw new RangeError(
      `[@gpl/coco] encodeMask: mask has ${mask.length} values, expected height·width = ${height}·${width} = ${height * width}.`,
    );
  }
  const counts: number[] = [];
  let value = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = mask[y * width + x] ? 1 : 0;
      if (v !== value) {
        counts.push(run);
        run = 0;
        value = v;
      }
      run++;
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}

/** Checks that an uncompressed RLE is well formed: non-negative integer counts summing to h·w. */
export function checkRle(rle: Rle, where = 'RLE'): void {
  if (rle === null || typeof rle !== 'object' || !Array.isArray(rle.size) || rle.size.length !== 2) {
    throw new TypeError(`[@gpl/coco] ${where}: expected { size: [h, w], counts }, received ${describeValue(rle)}.`);
  }
  const [h, w] = rle.size;
  checkSize(where, h, w);
  if (!Array.isArray(rle.counts)) {
    throw new TypeError(`[@gpl/coco] ${where}: expected counts to be an array of integers, received ${describeValue(rle.counts)}.`);
  }
  let total = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const c = rle.counts[i];
    if (!Number.isInteger(c) || c < 0) {
      throw new RangeError(`[@gpl/coco] ${where}: counts[${i}] must be a non-negative integer, received ${c}.`);
    }
    total += c;
  }
  if (total !== h * w) {
    throw new RangeError(`[@gpl/coco] ${where}: counts sum to ${total}, expected h·w = ${h}·${w} = ${h * w}.`);
  }
}

/** Decodes an RLE (either form) to a row-major H×W mask of 0/1 bytes. */
export function decodeRle(rle: Rle | CompressedRle): Uint8Array {
  const plain = typeof rle.counts === 'string' ? decompressRle(rle as CompressedRle) : (rle as Rle);
  checkRle(plain, 'decodeRle');
  const [h, w] = plain.size;
  const mask = new Uint8Array(h * w);
  let pos = 0;
  for (let i = 0; i < plain.counts.length; i++) {
    const c = plain.counts[i];
    if (i % 2 === 1) {
      for (let p = pos; p < pos + c; p++) {
        const x = Math.floor(p / h);
        mask[(p - x * h) * w + x] = 1;
      }
    }
    pos += c;
  }
  return mask;
}

/** Low 5 bits of an integer in two's complement (works beyond 32 bits, unlike `&`). */
function low5(x: number): number {
  return x - 32 * Math.floor(x / 32);
}

/**
 * pycocotools' compressed string for a list of counts (`rleToString`).
 * Count i > 2 is stored as the difference to count i − 2, which keeps the string short for
 * masks whose runs repeat from column to column; differences can be negative.
 */
export function countsToString(counts: readonly number[]): string {
  let out = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = low5(x);
      x = Math.floor(x / 32); // arithmetic shift right by 5
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  }
  return out;
}

/** Inverse of {@link countsToString} (`rleFrString`). Throws on characters outside '0'..'o'. */
export function countsFromString(s: string): number[] {
  if (typeof s !== 'string') throw new TypeError(`[@gpl/coco] countsFromString: expected a string, received ${describeValue(s)}.`);
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) {
        throw new RangeError(`[@gpl/coco] countsFromString: string ends inside count ${counts.length} (a group with the continuation bit set).`);
      }
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) {
        throw new RangeError(
          `[@gpl/coco] countsFromString: character ${JSON.stringify(s[p])} at ${p} is outside the RLE alphabet '0'..'o'.`,
        );
      }
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 2 ** (5 * k); // sign-extend the last group
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** Uncompressed → compressed RLE. */
export function compressRle(rle: Rle): CompressedRle {
  checkRle(rle, 'compressRle');
  return { size: [rle.size[0], rle.size[1]], counts: countsToString(rle.counts) };
}

/** Compressed → uncompressed RLE; checks that the counts cover exactly h·w pixels. */
export function decompressRle(rle: CompressedRle): Rle {
  const out: Rle = { size: [rle.size[0], rle.size[1]], counts: countsFromString(rle.counts) };
  checkRle(out, 'decompressRle');
  return out;
}

/** Foreground pixel count: the sum of the odd-index counts. */
export function rleArea(rle: Rle): number {
  let a = 0;
  for (let i = 1; i < rle.counts.length; i += 2) a += rle.counts[i];
  return a;
}

/**
 * Tight integer box [x, y, w, h] around the foreground; [0, 0, 0, 0] for an empty mask
 * (pycocotools ≥ 2.0.2 `toBbox`).
 */
export function rleToBbox(rle: Rle): [number, number, number, number] {
  const h = rle.size[0];
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  let pos = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const c = rle.counts[i];
    if (i % 2 === 1 && c > 0) {
      const xs = Math.floor(pos / h);
      const xe = Math.floor((pos + c - 1) / h);
      x0 = Math.min(x0, xs);
      x1 = Math.max(x1, xe);
      if (xs < xe) {
        // the run wraps into the next column, so it covers the column's full height
        y0 = 0;
        y1 = h - 1;
      } else {
        y0 = Math.min(y0, pos - xs * h);
        y1 = Math.max(y1, pos + c - 1 - xs * h);
      }
    }
    pos += c;
  }
  if (x1 < 0) return [0, 0, 0, 0];
  return [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

/** Cursor over a run sequence, for walking two RLEs in step. */
class RunCursor {
  private i = -1;
  value = 1;
  left = 0;
  constructor(private readonly counts: readonly number[]) {
    this.advance();
  }
  /** Moves to the next non-empty run; `left` stays 0 past the end. */
  advance(): void {
    do {
      this.i++;
      this.value ^= 1;
      this.left = this.i < this.counts.length ? this.counts[this.i] : 0;
    } while (this.left === 0 && this.i < this.counts.length);
  }
  take(n: number): void {
    this.left -= n;
    if (this.left === 0) this.advance();
  }
}

/** Appends a run of `value` to canonical counts (which start with zeros, no empty runs after the first). */
function pushRun(out: number[], value: number, n: number): void {
  if (n === 0) return;
  const lastValue = (out.length - 1) % 2; // the value of the last run
  if (out.length > 0 && lastValue === value) out[out.length - 1] += n;
  else if (out.length === 0 && value === 1) out.push(0, n);
  else out.push(n);
}

/**
 * Union (default) or intersection of masks of one size (`mask.merge`). An empty list gives an
 * error; one mask is returned as a canonical copy.
 */
export function mergeRles(rles: readonly Rle[], intersect = false): Rle {
  if (rles.length === 0) throw new RangeError('[@gpl/coco] mergeRles: expected at least one RLE, received none.');
  rles.forEach((r, k) => checkRle(r, `mergeRles: RLE ${k}`));
  const [h, w] = rles[0].size;
  let acc: readonly number[] = rles[0].counts;
  for (let k = 1; k < rles.length; k++) {
    if (rles[k].size[0] !== h || rles[k].size[1] !== w) {
      throw new RangeError(
        `[@gpl/coco] mergeRles: RLE ${k} has size [${rles[k].size.join(', ')}], expected [${h}, ${w}] like RLE 0.`,
      );
    }
    acc = combine(acc, rles[k].counts, h * w, intersect);
  }
  if (rles.length === 1) acc = combine(acc, [h * w], h * w, false);
  return { size: [h, w], counts: acc as number[] };
}

function combine(a: readonly number[], b: readonly number[], total: number, intersect: boolean): number[] {
  const out: number[] = [];
  const ca = new RunCursor(a);
  const cb = new RunCursor(b);
  let done = 0;
  while (done < total && ca.left > 0 && cb.left > 0) {
    const n = Math.min(ca.left, cb.left);
    pushRun(out, intersect ? ca.value & cb.value : ca.value | cb.value, n);
    ca.take(n);
    cb.take(n);
    done += n;
  }
  if (out.length === 0) out.push(0);
  return out;
}

/** Intersection pixel count of two same-size RLEs. */
function intersectionArea(a: readonly number[], b: readonly number[]): number {
  const ca = new RunCursor(a);
  const cb = new RunCursor(b);
  let inter = 0;
  while (ca.left > 0 && cb.left > 0) {
    const n = Math.min(ca.left, cb.left);
    if (ca.value & cb.value) inter += n;
    ca.take(n);
    cb.take(n);
  }
  return inter;
}

/**
 * IoU between detections and ground truth masks (`mask.iou`), as a [dts.length][gts.length]
 * matrix. For a crowd ground truth the union is the detection's area (COCO's crowd rule), so a
 * detection inside a crowd region scores 1. No overlap gives 0.
 */
export function maskIou(dts: readonly Rle[], gts: readonly Rle[], iscrowd: readonly (boolean | number)[]): number[][] {
  if (iscrowd.length !== gts.length) {
    throw new RangeError(`[@gpl/coco] maskIou: iscrowd has ${iscrowd.length} entries, expected one per ground truth (${gts.length}).`);
  }
  dts.forEach((r, k) => checkRle(r, `maskIou: detection ${k}`));
  gts.forEach((r, k) => checkRle(r, `maskIou: ground truth ${k}`));
  const dtArea = dts.map(rleArea);
  const gtArea = gts.map(rleArea);
  return dts.map((d, i) =>
    gts.map((g, j) => {
      if (d.size[0] !== g.size[0] || d.size[1] !== g.size[1]) {
        throw new RangeError(
          `[@gpl/coco] maskIou: detection ${i} has size [${d.size.join(', ')}] but ground truth ${j} has [${g.size.join(', ')}].`,
        );
      }
      const inter = intersectionArea(d.counts, g.counts);
      if (inter === 0) return 0;
      const union = iscrowd[j] ? dtArea[i] : dtArea[i] + gtArea[j] - inter;
      return inter / union;
    }),
  );
}

/** IoU between [x, y, w, h] boxes with COCO's crowd rule, as a [dts.length][gts.length] matrix. */
export function boxIou(dts: readonly BboxXywh[], gts: readonly BboxXywh[], iscrowd: readonly (boolean | number)[]): number[][] {
  if (iscrowd.length !== gts.length) {
    throw new RangeError(`[@gpl/coco] boxIou: iscrowd has ${iscrowd.length} entries, expected one per ground truth (${gts.length}).`);
  }
  return dts.map((d) =>
    gts.map((g, j) => {
      const iw = Math.min(d[0] + d[2], g[0] + g[2]) - Math.max(d[0], g[0]);
      if (iw <= 0) return 0;
      const ih = Math.min(d[1] + d[3], g[1] + g[3]) - Math.max(d[1], g[1]);
      if (ih <= 0) return 0;
      const inter = iw * ih;
      const union = iscrowd[j] ? d[2] * d[3] : d[2] * d[3] + g[2] * g[3] - inter;
      return inter / union;
    }),
  );
}

/** A short description of a value for error messages. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

import {
  boxIou,
  compressRle,
  countsFromString,
  countsToString,
  decodeRle,
  decompressRle,
  encodeMask,
  maskIou,
  mergeRles,
  rleArea,
  rleToBbox,
  type Rle,
} from './rle';

/** Row-major mask from rows of '0'/'1'. */
function mask(rows: string[]): { m: Uint8Array; h: number; w: number } {
  const h = rows.length;
  const w = rows[0].length;
  return { m: Uint8Array.from(rows.join('').split(''), Number), h, w };
}

/** A small deterministic generator for property tests. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
}

describe('RLE encoding (column-major, starting with zeros)', () => {
  it('runs go down columns first', () => {
    // column 0 = [0, 1], column 1 = [1, 1], column 2 = [0, 0]
    const { m, h, w } = mask(['010', '110']);
    expect(encodeMask(m, h, w)).toEqual({ size: [2, 3], counts: [1, 3, 2] });
  });

  it('a mask starting with ones gets a leading zero count', () => {
    const { m, h, w } = mask(['10', '11']);
    expect(encodeMask(m, h, w).counts).toEqual([0, 2, 1, 1]);
  });

  it('empty and full masks', () => {
    expect(encodeMask(new Uint8Array(12), 3, 4).counts).toEqual([12]);
    expect(encodeMask(new Uint8Array(6).fill(1), 2, 3).counts).toEqual([0, 6]);
    expect(encodeMask(new Uint8Array(0), 0, 0).counts).toEqual([0]);
  });

  it('decode inverts encode on random masks of many shapes', () => {
    const rnd = lcg(7);
    for (let t = 0; t < 200; t++) {
      const h = 1 + Math.floor(rnd() * 17);
      const w = 1 + Math.floor(rnd() * 17);
      const p = rnd();
      const m = Uint8Array.from({ length: h * w }, () => (rnd() < p ? 1 : 0));
      const rle = encodeMask(m, h, w);
      expect(decodeRle(rle)).toEqual(m);
      expect(decodeRle(compressRle(rle))).toEqual(m);
      expect(rleArea(rle)).toBe(m.reduce((a, b) => a + b, 0));
    }
  });

  it('rejects a mask of the wrong length', () => {
    expect(() => encodeMask(new Uint8Array(5), 2, 3)).toThrow(RangeError);
    expect(() => encodeMask(new Uint8Array(5), 2, 3)).toThrow(/expected height·width = 2·3 = 6/);
  });
});

describe('compressed strings (pycocotools rleToString / rleFrString)', () => {
  // Derived by hand from REFERENCE.md §8 and checked against pycocotools' maskApi.c.
  const known: [string, number[], string][] = [
    ['empty 3×4 mask', [12], '<'],
    ['full 2×3 mask', [0, 6], '06'],
    ['starts with ones; count 3 is 1 − 2 = −1 → one group 31', [0, 2, 1, 1], '021O'],
    ['negative delta 10 − 100 = −90 needs two groups', [5, 100, 3, 10], '5T33VM'],
    ['long run 1e6: five groups, the last only to clear the sign bit', [1000000], 'Pb`n0'],
    ['rectangle (1,1)–(6,6) in 10×10: zero deltas', [11, 5, 5, 5, 5, 5, 5, 5, 5, 5, 44], ';550000000W1'],
  ];

  it.each(known)('%s', (_name, counts, str) => {
    expect(countsToString(counts)).toBe(str);
    expect(countsFromString(str)).toEqual(counts);
  });

  it('the delta rule applies only from the fourth count on (i > 2)', () => {
    // count 2 (= 7) is written as itself, count 3 as 7 − 9 = −2
    expect(countsToString([1, 9, 7, 7])).toBe('197N');
    expect(countsFromString('197N')).toEqual([1, 9, 7, 7]);
  });

  it('round-trips random counts, including large and repeated runs', () => {
    const rnd = lcg(3);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rnd() * 12);
      const counts = Array.from({ length: n }, (_, i) => (i === 0 && rnd() < 0.3 ? 0 : 1 + Math.floor(rnd() ** 4 * 5e6)));
      expect(countsFromString(countsToString(counts))).toEqual(counts);
    }
  });

  it('compressRle / decompressRle keep the size', () => {
    const rle: Rle = { size: [2, 59], counts: [5, 100, 3, 10] };
    expect(compressRle(rle)).toEqual({ size: [2, 59], counts: '5T33VM' });
    expect(decompressRle({ size: [2, 59], counts: '5T33VM' })).toEqual(rle);
  });

  it('rejects characters outside the alphabet, truncated groups and wrong totals', () => {
    expect(() => countsFromString('5T3!')).toThrow(/character "!" at 3 is outside the RLE alphabet/);
    expect(() => countsFromString('P')).toThrow(/string ends inside count 0/);
    expect(() => decompressRle({ size: [3, 3], counts: '<' })).toThrow(/counts sum to 12, expected h·w = 3·3 = 9/);
  });
});

describe('area, bbox, merge, IoU', () => {
  it('area is the sum of the odd-index counts', () => {
    expect(rleArea({ size: [2, 59], counts: [5, 100, 3, 10] })).toBe(110);
    expect(rleArea({ size: [3, 4], counts: [12] })).toBe(0);
  });

  it('toBbox: tight box; a run crossing columns spans the full height; empty → zeros', () => {
    // 4×4: ones at column 0 rows 2–3, column 1 row 0, then columns 1 row 3 … column 2 row 2
    expect(rleToBbox({ size: [4, 4], counts: [2, 3, 1, 4, 6] })).toEqual([0, 0, 3, 4]);
    const { m, h, w } = mask(['0000', '0110', '0100', '0000']);
    expect(rleToBbox(encodeMask(m, h, w))).toEqual([1, 1, 2, 2]);
    expect(rleToBbox({ size: [3, 4], counts: [12] })).toEqual([0, 0, 0, 0]);
  });

  it('merge: union and intersection (checked against pycocotools)', () => {
    const a: Rle = { size: [4, 4], counts: [5, 6, 5] };
    const b: Rle = { size: [4, 4], counts: [8, 4, 4] };
    expect(mergeRles([a, b]).counts).toEqual([5, 7, 4]);
    expect(mergeRles([a, b], true).counts).toEqual([8, 3, 5]);
    expect(mergeRles([a]).counts).toEqual([5, 6, 5]);
  });

  it('merge equals pixelwise OR / AND on random masks', () => {
    const rnd = lcg(11);
    for (let t = 0; t < 100; t++) {
      const h = 1 + Math.floor(rnd() * 9);
      const w = 1 + Math.floor(rnd() * 9);
      const ms = [0, 1, 2].map(() => Uint8Array.from({ length: h * w }, () => (rnd() < 0.5 ? 1 : 0)));
      const rles = ms.map((m) => encodeMask(m, h, w));
      const or = ms[0].map((_, i) => ms[0][i] | ms[1][i] | ms[2][i]);
      const and = ms[0].map((_, i) => ms[0][i] & ms[1][i] & ms[2][i]);
      expect(mergeRles(rles)).toEqual(encodeMask(or, h, w));
      expect(mergeRles(rles, true)).toEqual(encodeMask(and, h, w));
    }
  });

  it('merge rejects masks of different sizes', () => {
    expect(() => mergeRles([{ size: [2, 2], counts: [4] }, { size: [1, 4], counts: [4] }])).toThrow(/RLE 1 has size \[1, 4\], expected \[2, 2\]/);
  });

  it('mask IoU with the crowd rule (union = detection area)', () => {
    const { m: dm, h, w } = mask(['1100', '1100', '0000']);
    const { m: gm } = mask(['1110', '1110', '1110']);
    const dt = encodeMask(dm, h, w);
    const gt = encodeMask(gm, h, w);
    expect(maskIou([dt], [gt, gt], [false, true])).toEqual([[4 / 9, 1]]);
    const far = encodeMask(mask(['0000', '0000', '0001']).m, h, w);
    expect(maskIou([far], [gt], [true])).toEqual([[0]]);
  });

  it('box IoU with the crowd rule, xywh', () => {
    expect(boxIou([[0, 0, 2, 2]], [[1, 1, 2, 2]], [0])[0][0]).toBeCloseTo(1 / 7, 12);
    expect(boxIou([[0, 0, 2, 2]], [[1, 1, 2, 2]], [1])[0][0]).toBeCloseTo(1 / 4, 12);
    expect(boxIou([[0, 0, 1, 1]], [[1, 0, 1, 1]], [0])[0][0]).toBe(0); // touching edges
    expect(boxIou([[0, 0, 2, 2], [5, 5, 1, 1]], [[0, 0, 2, 2]], [0])).toEqual([[1], [0]]);
  });

  it('IoU checks the iscrowd list length', () => {
    expect(() => boxIou([[0, 0, 1, 1]], [[0, 0, 1, 1]], [])).toThrow(/iscrowd has 0 entries, expected one per ground truth \(1\)/);
  });
});

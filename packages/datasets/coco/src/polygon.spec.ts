import { bboxToRle, polygonArea, polygonToRle, polygonsToRle } from './polygon';
import { countsToString, decodeRle, rleArea } from './rle';

describe('polygon rasterisation (pycocotools rleFrPoly semantics)', () => {
  // Counts produced by pycocotools' maskApi.c for the same input.
  const known: [string, number[], number, number, number[]][] = [
    ['integer rectangle (1,1)–(6,6)', [1, 1, 1, 6, 6, 6, 6, 1], 10, 10, [11, 5, 5, 5, 5, 5, 5, 5, 5, 5, 44]],
    ['right triangle', [0, 0, 8, 0, 0, 8], 8, 8, [0, 7, 1, 6, 2, 5, 3, 4, 4, 3, 5, 2, 6, 1, 15]],
    ['sub-pixel quadrilateral', [1.5, 0.5, 5.2, 1.0, 4.4, 5.6, 0.7, 4.9], 6, 7, [7, 4, 2, 4, 2, 4, 2, 4, 13]],
    ['clipped at the image border', [-2, -2, 4, -2, 4, 4, -2, 4], 10, 10, [0, 4, 6, 4, 6, 4, 6, 4, 66]],
    ['degenerate (one repeated point)', [1, 1, 1, 1, 1, 1], 5, 5, [25]],
    [
      'square with a square hole (one polygon, bridged)',
      [1, 1, 9, 1, 9, 9, 1, 9, 1, 2, 8, 2, 8, 8, 2, 8],
      10,
      10,
      [11, 1, 2, 5, 2, 1, 6, 1, 2, 1, 6, 1, 2, 1, 6, 1, 2, 1, 6, 1, 2, 1, 6, 1, 2, 1, 6, 1, 2, 8, 11],
    ],
  ];

  it.each(known)('%s', (_name, xy, h, w, counts) => {
    expect(polygonToRle(xy, h, w)).toEqual({ size: [h, w], counts });
  });

  it('the compressed string of a rasterised polygon matches pycocotools', () => {
    expect(countsToString(polygonToRle([1.5, 0.5, 5.2, 1.0, 4.4, 5.6, 0.7, 4.9], 6, 7).counts)).toBe('74200000;');
  });

  it('an integer rectangle covers columns x0..x1−1 and rows y0..y1−1, whatever the vertex order', () => {
    for (const xy of [
      [2, 1, 5, 1, 5, 4, 2, 4],
      [2, 4, 5, 4, 5, 1, 2, 1],
    ]) {
      const m = decodeRle(polygonToRle(xy, 6, 7));
      for (let y = 0; y < 6; y++) for (let x = 0; x < 7; x++) expect([x, y, m[y * 7 + x]]).toEqual([x, y, x >= 2 && x < 5 && y >= 1 && y < 4 ? 1 : 0]);
    }
  });

  it('multi-part segmentations are merged by union', () => {
    const a = [0, 0, 3, 0, 3, 3, 0, 3];
    const b = [2, 2, 5, 2, 5, 5, 2, 5];
    expect(rleArea(polygonsToRle([a, b], 6, 6))).toBe(9 + 9 - 1);
  });

  it('bboxToRle rasterises the box as its corner polygon', () => {
    expect(bboxToRle([0.5, 0.5, 2, 2], 4, 5).counts).toEqual([5, 2, 2, 2, 9]);
  });

  it('mask area approximates the shoelace area of a large polygon', () => {
    const xy: number[] = [];
    for (let i = 0; i < 64; i++) xy.push(50 + 30 * Math.cos((2 * Math.PI * i) / 64), 40 + 25 * Math.sin((2 * Math.PI * i) / 64));
    const exact = polygonArea(xy);
    expect(Math.abs(rleArea(polygonToRle(xy, 80, 100)) - exact) / exact).toBeLessThan(0.03);
  });

  it('rejects malformed polygons with the reason', () => {
    expect(() => polygonToRle([1, 2, 3, 4], 5, 5)).toThrow(/≥ 3 points .* received 4 numbers/);
    expect(() => polygonToRle([1, 2, 3, 4, 5], 5, 5)).toThrow(RangeError);
    expect(() => polygonToRle([1, 2, 3, 4, 5, NaN], 5, 5)).toThrow(/value 5 must be a finite number, received NaN/);
    expect(() => polygonToRle('1,2' as unknown as number[], 5, 5)).toThrow(TypeError);
  });
});

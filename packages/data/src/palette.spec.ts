import { paletteMismatch, vocColormap, type ExpectedPalette } from './palette';
import type { Rgb } from './types';

const VOC: ExpectedPalette = { name: 'the VOC colormap', colours: vocColormap(256), names: ['background', 'aeroplane', 'bicycle'] };
const usedOf = (...indices: number[]) => Array.from({ length: 256 }, (_, i) => indices.includes(i));

describe('paletteMismatch', () => {
  it('accepts the expected colours index for index, and a grey palette of index values', () => {
    expect(paletteMismatch(vocColormap(256), usedOf(0, 1, 2, 255), VOC)).toBeUndefined();
    const grey: Rgb[] = Array.from({ length: 256 }, (_, i) => [i, i, i]);
    expect(paletteMismatch(grey, usedOf(0, 1, 2, 255), VOC)).toBeUndefined();
  });

  it('names a reordered palette: the index, its colour and the index that colour belongs to', () => {
    const swapped = vocColormap(256);
    [swapped[1], swapped[2]] = [swapped[2], swapped[1]];
    expect(paletteMismatch(swapped, usedOf(0, 1, 2), VOC)).toBe(
      "a reordered palette: index 1 is (0,128,0), the colour of index 2 'bicycle' in the VOC colormap (expected (128,0,0) 'aeroplane')",
    );
    // Entries no pixel uses do not matter.
    expect(paletteMismatch(swapped, usedOf(0, 3), VOC)).toBeUndefined();
  });

  it('names a colour outside the table and an index without a palette entry', () => {
    const odd = vocColormap(3);
    odd[1] = [1, 2, 3];
    expect(paletteMismatch(odd, usedOf(1), VOC)).toBe("index 1 is (1,2,3), a colour not in the VOC colormap (expected (128,0,0) 'aeroplane')");
    expect(paletteMismatch(vocColormap(2), usedOf(0, 2), VOC)).toBe('index 2 has no palette entry (the PLTE chunk holds 2 colours)');
  });

  it('accepts any colour at an index without one unless it is another class colour', () => {
    const ignoreAny: ExpectedPalette = { name: 'p', colours: [[10, 10, 10], [20, 20, 20], undefined] };
    expect(paletteMismatch([[10, 10, 10], [20, 20, 20], [99, 0, 0]], usedOf(0, 1, 2), ignoreAny)).toBeUndefined();
    expect(paletteMismatch([[10, 10, 10], [20, 20, 20], [10, 10, 10]], usedOf(2), ignoreAny)).toMatch(/index 2 is \(10,10,10\), the colour of index 0/);
  });
});

/** Standard colour tables, and the check of a label PNG's palette against the colours a dataset expects. */
import type { Rgb } from './types';

/**
 * The Pascal VOC colormap (REFERENCE §2): bits of the index interleaved into the high bits of R,
 * G, B. Index 0 is black, 1 (128,0,0), …, 255 (224,224,192). Also the default palette of custom
 * datasets without one.
 */
export function vocColormap(n = 256): Rgb[] {
  const out: Rgb[] = [];
  for (let i = 0; i < n; i++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let c = i;
    for (let k = 0; k < 8; k++) {
      r |= (c & 1) << (7 - k);
      g |= ((c >> 1) & 1) << (7 - k);
      b |= ((c >> 2) & 1) << (7 - k);
      c >>= 3;
    }
    out.push([r, g, b]);
  }
  return out;
}

/**
 * The colours a palette label PNG must show: `colours[i]` is the colour of raw value `i`, or
 * `undefined` when any colour is accepted there (e.g. an ignore value without a defined colour).
 */
export interface ExpectedPalette {
  /** Name for messages, e.g. 'the VOC colormap'. */
  readonly name: string;
  readonly colours: readonly (Rgb | undefined)[];
  /** Class name of raw value `i`, for messages. */
  readonly names?: readonly (string | undefined)[];
}

const same = (a: Rgb, b: Rgb) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
const rgb = (c: Rgb) => `(${c[0]},${c[1]},${c[2]})`;

/**
 * Why a palette PNG's indices cannot be read as class values, or `undefined` when they can: every
 * index the pixels use must show the expected colour of that index, or (as tools write for plain
 * index maps) the grey (i,i,i) of every used index. A reordered palette — what an image editor's
 * "optimised palette" does — names the index, the colour found and the index that colour belongs to.
 * @param used which of the 256 indices occur in the pixels.
 */
export function paletteMismatch(palette: readonly Rgb[], used: ArrayLike<boolean>, expected: ExpectedPalette): string | undefined {
  const indices: number[] = [];
  for (let i = 0; i < used.length; i++) if (used[i]) indices.push(i);
  if (indices.every((i) => palette[i] !== undefined && same(palette[i], [i, i, i]))) return undefined;
  for (const i of indices) {
    const found = palette[i];
    if (found === undefined) return `index ${i} has no palette entry (the PLTE chunk holds ${palette.length} colours)`;
    // Values beyond the expected table are the label-range check's to name.
    if (i >= expected.colours.length) continue;
    const want = expected.colours[i];
    const owner = expected.colours.findIndex((c) => c !== undefined && same(c, found));
    if (want ? same(want, found) : owner < 0 || owner === i) continue;
    const name = (j: number) => (expected.names?.[j] ? ` '${expected.names[j]}'` : '');
    const wanted = want ? `${rgb(want)}${name(i)}` : 'no colour of another class';
    return owner >= 0
      ? `a reordered palette: index ${i} is ${rgb(found)}, the colour of index ${owner}${name(owner)} in ${expected.name} (expected ${wanted})`
      : `index ${i} is ${rgb(found)}, a colour not in ${expected.name} (expected ${wanted})`;
  }
  return undefined;
}

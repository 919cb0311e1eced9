/** Standard colour tables. */
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

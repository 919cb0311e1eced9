/**
 * The specs' deterministic test image (the same formula as `pattern` in
 * tools/torch/sr_reference.py, which computed the reference numbers the specs store).
 */
import type { RgbImage } from './data';

export function patternImage(height: number, width: number, seed: number): RgbImage {
  const data = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (y * 37 + x * 11 + c * 71 + ((x * y + seed) % 13) * 5) % 256;
    }
  }
  return { data, height, width, channels: 3 };
}

/**
 * Sample prediction overlays in the dataset palette: image | ground truth | prediction, the
 * class colours blended at 50% over the image (ignored pixels keep the image).
 */
import { encodePng, writeFileAtomic, type Rgb, type SegmentationSample } from '@gpl/data';

/** RGB 8-bit of the image; normalised float images are not expected here (pass the decoded sample). */
function imageBytes(s: SegmentationSample): Uint8Array {
  const d = s.image.data;
  if (d instanceof Uint8Array) return d;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(d[i])));
  return out;
}

/** A [H, 3W, 3] RGB strip: image, ground truth overlay, prediction overlay. */
export function overlayStrip(s: SegmentationSample, prediction: ArrayLike<number>, palette: readonly Rgb[], ignoreIndex: number): { data: Uint8Array; width: number; height: number } {
  const { height: h, width: w } = s.image;
  const img = imageBytes(s);
  const out = new Uint8Array(h * w * 3 * 3);
  const put = (panel: number, classes: ArrayLike<number> | null) => {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const o = (y * w * 3 + panel * w + x) * 3;
        const c = classes ? classes[i] : ignoreIndex;
        const col = c !== ignoreIndex && c < palette.length ? palette[c] : undefined;
        for (let k = 0; k < 3; k++) out[o + k] = col ? (img[i * 3 + k] + col[k]) >> 1 : img[i * 3 + k];
      }
    }
  };
  put(0, null);
  put(1, s.label.data);
  put(2, prediction);
  return { data: out, width: w * 3, height: h };
}

/** Writes the overlay strip of one sample as a PNG (atomically). */
export async function writeOverlay(file: string, s: SegmentationSample, prediction: ArrayLike<number>, palette: readonly Rgb[], ignoreIndex: number): Promise<void> {
  const strip = overlayStrip(s, prediction, palette, ignoreIndex);
  await writeFileAtomic(file, encodePng({ width: strip.width, height: strip.height, channels: 3, bitDepth: 8, data: strip.data }));
}

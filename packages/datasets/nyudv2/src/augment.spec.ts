import type { DepthSample } from '@gpl/data';
import { depthTrainTransform, drawWindow, nyuMiniRecipe, nyuVnlRecipe, recipeWithCrop, vnlCropScale } from './augment';

/** A 12×16 depth sample whose depth encodes its pixel: d = 1 + row + col/100 (metres), image = column. */
function sample(h = 12, w = 16): DepthSample {
  const depth = new Float32Array(h * w);
  const image = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      depth[y * w + x] = 1 + y + x / 100;
      image.fill(x * 10, (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
  }
  return { kind: 'depth', id: 's', image: { data: image, height: h, width: w, channels: 3 }, depth: { data: depth, height: h, width: w }, files: [] };
}

/** A source that replays fixed numbers in [0, 1). */
const replay = (...values: number[]) => ({ next: () => values.shift() ?? 0 });

describe('VNL crop/scale augmentation', () => {
  it("has VNL's NYU windows and a mini recipe with the same window/crop ratios", () => {
    expect(nyuVnlRecipe.windowSides).toEqual([385, 416, 448, 480, 512, 544, 576, 608, 640]);
    expect(nyuVnlRecipe.cropSize).toBe(385);
    const ratios = (r: typeof nyuVnlRecipe) => [r.windowSides[0] / r.cropSize, r.windowSides[r.windowSides.length - 1] / r.cropSize];
    expect(ratios(nyuMiniRecipe)[0]).toBe(1);
    expect(ratios(nyuMiniRecipe)[1]).toBeCloseTo(ratios(nyuVnlRecipe)[1], 2);
    expect(recipeWithCrop(nyuMiniRecipe, 64).windowSides).toEqual([64, 69, 75, 80, 85, 91, 96, 101, 107]);
  });

  it('draws windows as VNL: a random column, a random row when the window fits, else the padded top', () => {
    expect(drawWindow(480, 640, 385, replay(0.5, 0.999))).toEqual({ top: 95, left: 128 }); // ⌊0.5·256⌋, ⌊0.999·96⌋
    // 640 > 480 rows: the top is padded by 160 rows and the window starts there.
    expect(drawWindow(480, 640, 640, replay(0.3))).toEqual({ top: -160, left: 0 });
  });

  it('rescales depth by window / crop and resamples it nearest-neighbour', () => {
    const recipe = { ...nyuMiniRecipe, cropSize: 4, windowSides: [8] };
    // side index 0, column 0.5·(16 − 8 + 1) → 4, row 0.25·(12 − 8 + 1) → 1.
    const out = vnlCropScale(recipe).apply(sample(), replay(0, 0.5, 0.25));
    expect([out.image.height, out.image.width, out.depth.height, out.depth.width]).toEqual([4, 4, 4, 4]);
    // Output pixel (r, c) reads input pixel (1 + 2r + 1, 4 + 2c + 1) (centres), depth × 8/4.
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) {
        const y = 1 + 2 * r + 1;
        const x = 4 + 2 * c + 1;
        expect(out.depth.data[r * 4 + c]).toBeCloseTo(2 * (1 + y + x / 100), 5);
      }
    }
  });

  it('pads a window taller than the image with invalid depth at the top', () => {
    const recipe = { ...nyuMiniRecipe, cropSize: 16, windowSides: [16] };
    const out = vnlCropScale(recipe).apply(sample(), replay(0, 0));
    // 16-row window on 12 rows: the first 4 rows are padding (depth 0), then row 0 of the image at scale 1.
    expect(Array.from(out.depth.data.slice(0, 4 * 16)).every((v) => v === 0)).toBe(true);
    expect(out.depth.data[4 * 16 + 3]).toBeCloseTo(1 + 0 + 3 / 100, 5);
  });

  it('the whole transform normalises, flips and crops to cropSize², keeping depth in metres × factor', () => {
    const t = depthTrainTransform({ ...nyuMiniRecipe, cropSize: 8, windowSides: [8] });
    expect(t.name).toBe('normalize → random-flip(0.5) → vnl-crop-scale(8-8→8)');
    // Flip (0.1 < 0.5), side 0, column 0, row 0.
    const out = t.apply(sample(), replay(0.1, 0, 0, 0));
    expect([out.image.width, out.image.height]).toEqual([8, 8]);
    // Flipped: output column 0 is input column 15.
    expect(out.depth.data[0]).toBeCloseTo(1 + 0 + 15 / 100, 5);
    expect(out.image.data).toBeInstanceOf(Float32Array);
  });

  it('refuses a malformed recipe', () => {
    expect(() => vnlCropScale({ ...nyuMiniRecipe, windowSides: [] })).toThrow('windowSides must be positive integers');
    expect(() => vnlCropScale({ ...nyuMiniRecipe, cropSize: 0 })).toThrow('cropSize must be a positive integer');
    expect(() => recipeWithCrop(nyuMiniRecipe, 1.5)).toThrow(RangeError);
  });
});

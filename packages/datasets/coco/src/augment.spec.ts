// detectron2's resize recipe and the COCO descriptor on coco-mini samples: masks and boxes move with the image.
import { recipeFor, type Instance, type InstanceSample, type RandomSource } from '@gpl/data';
import { cocoMiniInstanceRecipe, cocoInstanceRecipe, instanceTestTransform, instanceTrainTransform, resizeShortestEdge, shortestEdgeSize } from './augment';
import { cocoDataset } from './descriptor';

const fixed = (...values: number[]): RandomSource => {
  let i = 0;
  return { next: () => values[i++ % values.length] };
};

/** Tight [x0, y0, x1, y1] of a row-major mask (exclusive ends), or undefined when empty. */
function maskBox(mask: Uint8Array, w: number): [number, number, number, number] | undefined {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  mask.forEach((v, i) => {
    if (!v) return;
    const x = i % w;
    const y = (i - x) / w;
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
  });
  return x1 < 0 ? undefined : [x0, y0, x1, y1];
}

describe('shortestEdgeSize (ResizeShortestEdge.get_output_shape)', () => {
  it('scales the shortest edge, caps the longest and rounds with int(x + 0.5)', () => {
    expect(shortestEdgeSize(480, 640, 800, 1333)).toEqual([800, 1067]); // 640·800/480 = 1066.7
    expect(shortestEdgeSize(192, 256, 640, 1333)).toEqual([640, 853]); // 853.3
    // 800/192·256 = 1066.7 > 1000 → both ×1000/1066.7 → 750 × 1000
    expect(shortestEdgeSize(192, 256, 800, 1000)).toEqual([750, 1000]);
    expect(shortestEdgeSize(300, 200, 100, 1333)).toEqual([150, 100]); // portrait: the width is the short edge
  });
});

describe('COCO descriptor and transforms on coco-mini', () => {
  let sample: InstanceSample;
  beforeAll(async () => {
    const ds = await cocoDataset.open(cocoDataset.miniRoot!, cocoDataset.splitName('val'));
    expect(ds.length).toBe(12);
    for (let i = 0; i < ds.length && !sample; i++) {
      const s = await ds.get(i);
      if (s.instances.length >= 2) sample = s;
    }
  });

  it('names the 2017 splits and picks the mini recipe for coco-mini', () => {
    expect(cocoDataset.splitName('train')).toBe('train2017');
    expect(cocoDataset.splitName('val')).toBe('val2017');
    expect(recipeFor(cocoDataset, cocoDataset.miniRoot!)).toBe(cocoMiniInstanceRecipe);
    expect(recipeFor(cocoDataset, '/data/coco')).toBe(cocoInstanceRecipe);
    expect(cocoInstanceRecipe.minSizes).toEqual([640, 672, 704, 736, 768, 800]);
  });

  it('resizes image, masks and boxes together', () => {
    const { height: h, width: w } = sample.image;
    expect([h, w]).toEqual([192, 256]);
    const out = resizeShortestEdge({ sizes: [96], maxSize: 1333 }).apply(sample, fixed(0.3));
    expect([out.image.height, out.image.width]).toEqual([96, 128]);
    expect(out.instances).toHaveLength(sample.instances.length);
    out.instances.forEach((inst: Instance, k: number) => {
      const before = sample.instances[k];
      expect(inst.box).toEqual(before.box.map((v) => v / 2));
      expect(inst.mask).toHaveLength(96 * 128);
      // nearest sampling: output pixel (x, y) has its centre at input (2x + 1, 2y + 1)
      let same = true;
      for (let y = 0; y < 96 && same; y++) for (let x = 0; x < 128; x++) if (inst.mask[y * 128 + x] !== before.mask[(2 * y + 1) * w + 2 * x + 1]) same = false;
      expect(same).toBe(true);
      expect(maskBox(inst.mask, 128)).toBeDefined();
    });
  });

  it('flips masks and boxes exactly, and picks the train size from the rng', () => {
    // rng 0.99 → the last size (192, the images' own: no resize); 0.2 < 0.5 → flip
    const out = instanceTrainTransform(cocoMiniInstanceRecipe).apply(sample, fixed(0.99, 0.2));
    const w = sample.image.width;
    expect(out.image.width).toBe(w);
    out.instances.forEach((inst, k) => {
      const b = sample.instances[k].box;
      expect(inst.box).toEqual([w - b[2], b[1], w - b[0], b[3]]);
      const src = sample.instances[k].mask;
      let same = true;
      for (let y = 0; y < sample.image.height && same; y++) for (let x = 0; x < w; x++) if (inst.mask[y * w + x] !== src[y * w + (w - 1 - x)]) same = false;
      expect(same).toBe(true);
    });
    // rng 0.0 → the first size (152): 152 × 203 (256·152/192 = 202.7); 0.7 ≥ 0.5 → no flip
    const small = instanceTrainTransform(cocoMiniInstanceRecipe).apply(sample, fixed(0.0, 0.7));
    expect([small.image.height, small.image.width]).toEqual([152, 203]);
    expect(small.instances[0].box[0]).toBeCloseTo(sample.instances[0].box[0] * (203 / 256), 9);
    expect(instanceTestTransform(cocoMiniInstanceRecipe).apply(sample, fixed(0.5))).toBe(sample);
  });
});

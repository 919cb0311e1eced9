import { createRng } from './rng';
import { warpBox } from './geometry';
import { softLabelStride } from './soft-labels';
import {
  compose,
  evalTransform,
  IMAGENET_MEAN,
  IMAGENET_STD,
  formatInputNormalization,
  inputNormalization,
  normalize,
  padToMultiple,
  photometricDistortion,
  randomCrop,
  randomFlip,
  randomScale,
  resize,
  trainTransform,
} from './transforms';
import { coordinateSample, coordLabel, rectInstanceSample } from './testing';
import type { DepthSample, InstanceSample, SegmentationSample } from './types';

/**
 * Checks that labels, depth and soft labels sit where the image says each output pixel came from:
 * the coordinate-coded image holds its source coordinate (bilinear of a linear function is exact),
 * so the nearest source pixel is floor(value + 0.5) and every field must match it.
 */
function expectAligned(s: DepthSample | SegmentationSample, srcH: number, srcW: number): number {
  const { height: h, width: w } = s.image;
  const img = s.image.data;
  let checked = 0;
  const bad: string[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const px = img[3 * i];
      const py = img[3 * i + 1];
      const padded = img[3 * i + 2] === 0 && !(px === 0 && py === 0);
      if (padded) continue;
      // Skip pixels whose source coordinate lies exactly between two pixels (ties) or was clamped at a border.
      const fx = px + 0.5 - Math.floor(px + 0.5);
      const fy = py + 0.5 - Math.floor(py + 0.5);
      if (fx < 1e-3 || fx > 1 - 1e-3 || fy < 1e-3 || fy > 1 - 1e-3) continue;
      if (px <= 0 || py <= 0 || px >= srcW - 1 || py >= srcH - 1) continue;
      const sx = Math.floor(px + 0.5);
      const sy = Math.floor(py + 0.5);
      if (s.label!.data[i] !== coordLabel(sx, sy)) bad.push(`label at (${x}, ${y})`);
      if (s.kind === 'depth' && s.depth.data[i] !== sx + 1000 * sy + 1) bad.push(`depth at (${x}, ${y})`);
      const soft = s.softLabels!;
      if (soft.height === h && soft.width === w && (Math.abs(soft.data[2 * i] - px) > 1e-3 || Math.abs(soft.data[2 * i + 1] - py) > 1e-3)) {
        bad.push(`soft labels at (${x}, ${y})`);
      }
      checked++;
    }
  }
  expect(bad.slice(0, 5)).toEqual([]);
  return checked;
}

describe('geometric transforms keep every field aligned', () => {
  const src = coordinateSample(40, 60, { kind: 'depth' }) as DepthSample;

  it('random crop + flip (integer maps) move image, label, depth and soft labels exactly', () => {
    const t = compose([randomCrop({ height: 24, width: 32 }), randomFlip({ prob: 0.5 })]);
    let flips = 0;
    for (let seed = 0; seed < 20; seed++) {
      const out = t.apply(src, createRng(seed));
      expect([out.image.height, out.image.width]).toEqual([24, 32]);
      const { data } = out.image;
      if (data[0] > data[3]) flips++;
      // Every pixel: exact equality, no tolerance.
      let bad = 0;
      for (let i = 0; i < 24 * 32; i++) {
        const x = data[3 * i];
        const y = data[3 * i + 1];
        if (out.label!.data[i] !== coordLabel(x, y) || out.depth.data[i] !== x + 1000 * y + 1) bad++;
        if (out.softLabels!.data[2 * i] !== x || out.softLabels!.data[2 * i + 1] !== y) bad++;
      }
      expect(bad).toBe(0);
    }
    expect(flips).toBeGreaterThan(3);
    expect(flips).toBeLessThan(17);
  });

  it('random scale (bilinear image, nearest labels/depth) stays aligned', () => {
    const t = randomScale({ ratioRange: [0.5, 2.0] });
    for (let seed = 0; seed < 10; seed++) {
      const out = t.apply(src, createRng(seed));
      expect(expectAligned(out, 40, 60)).toBeGreaterThan(out.image.height * out.image.width * 0.3);
    }
  });

  it('the full training pipeline stays aligned (scale, crop with padding, flip)', () => {
    const t = compose([randomScale({ ratioRange: [0.5, 2.0] }), randomCrop({ height: 48, width: 48, imagePad: 0 }), randomFlip()]);
    for (let seed = 0; seed < 10; seed++) {
      const out = t.apply(src, createRng(seed)) as DepthSample;
      expect([out.image.height, out.image.width, out.label!.height, out.depth.width]).toEqual([48, 48, 48, 48]);
      expectAligned(out, 40, 60);
    }
  });

  it('soft labels stored at half resolution follow the image', () => {
    const half = coordinateSample(40, 60, { softScale: 0.5 }) as SegmentationSample;
    const t = compose([randomScale({ ratioRange: [0.7, 1.6] }), randomCrop({ height: 32, width: 32 }), randomFlip()]);
    for (let seed = 0; seed < 8; seed++) {
      const out = t.apply(half, createRng(seed));
      const soft = out.softLabels!;
      expect([soft.height, soft.width]).toEqual([16, 16]);
      // The soft value at a soft pixel ≈ the image coordinate at the matching image pixel (within 1.5 px).
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          const i = (2 * y) * 32 + 2 * x;
          if (out.image.data[3 * i + 2] === 0 || out.image.data[3 * (i + 33) + 2] === 0) continue; // padding
          const imgX = (out.image.data[3 * i] + out.image.data[3 * (i + 33)]) / 2;
          expect(Math.abs(soft.data[2 * (y * 16 + x)] - imgX)).toBeLessThan(1.5);
        }
      }
    }
  });

  it('stride-8 soft labels of any size (round or ceil of H/8) come out of scale + crop at exactly crop/8', () => {
    // The mini-Cityscapes recipe: scale 0.5–2 of a 128×256 image, crop 128×128. A scaled 68-pixel
    // side has 9 soft rows (ceil 68/8) — 6% off a 1/8 ratio — and must still end at 16.
    const t = compose([randomScale({ ratioRange: [0.5, 2.0] }), randomCrop({ height: 128, width: 128 }), randomFlip()]);
    for (const [h, w, sh, sw] of [[128, 256, 16, 32], [68, 136, 9, 17], [130, 250, 17, 32], [75, 75, 10, 9]]) {
      const s = coordinateSample(h, w) as SegmentationSample;
      const stride = softLabelStride(h, w, { height: sh, width: sw });
      expect(stride).toBe(8);
      const soft = { data: new Float32Array(sh * sw * 2), height: sh, width: sw, channels: 2, stride };
      for (let seed = 0; seed < 40; seed++) {
        const out = t.apply({ ...s, softLabels: soft }, createRng(seed));
        expect({ h, w, seed, size: [out.softLabels!.height, out.softLabels!.width] }).toEqual({ h, w, seed, size: [16, 16] });
      }
    }
  });

  it('pads beyond the image with 0 (image), the ignore index (labels) and 0 (depth)', () => {
    const small = coordinateSample(10, 12, { kind: 'depth' }) as DepthSample;
    const out = randomCrop({ height: 16, width: 20, ignoreIndex: 200, imagePad: 0 }).apply(small, createRng(1));
    expect([out.image.height, out.image.width]).toEqual([16, 20]);
    const i = 15 * 20 + 19;
    expect([out.image.data[3 * i], out.label!.data[i], out.depth.data[i]]).toEqual([0, 200, 0]);
    expect(out.label!.data[0]).toBe(coordLabel(0, 0));
  });

  it('moves instance masks and boxes together and drops instances cropped away', () => {
    const s = rectInstanceSample(30, 40, [[2, 3, 12, 10], [30, 20, 38, 28]]);
    const flipped = randomFlip({ prob: 1 }).apply(s, createRng(0)) as InstanceSample;
    expect(flipped.instances[0].box).toEqual([28, 3, 38, 10]);
    const tight = (m: Uint8Array, w: number): number[] => {
      let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
      m.forEach((v, i) => {
        if (!v) return;
        const x = i % w, y = Math.floor(i / w);
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
      });
      return [x0, y0, x1, y1];
    };
    for (const inst of flipped.instances) expect(tight(inst.mask, 40)).toEqual([...inst.box]);
    for (let seed = 0; seed < 10; seed++) {
      const out = compose([randomCrop({ height: 16, width: 16 }), randomFlip()]).apply(s, createRng(seed)) as InstanceSample;
      for (const inst of out.instances) expect(tight(inst.mask, 16)).toEqual([...inst.box]);
    }
    // Scaling by 2 doubles boxes.
    const big = resize({ size: [60, 80], resizeTargets: true }).apply(s, createRng(0)) as InstanceSample;
    expect(big.instances[0].box).toEqual([4, 6, 24, 20]);
    expect(warpBox([0, 0, 5, 5], { height: 10, width: 10, y: { scale: 1, offset: 20 }, x: { scale: 1, offset: 0 } })).toBeUndefined();
  });

  it('is deterministic per seed', () => {
    const t = trainTransform({ crop: [24, 24], ratioRange: [0.5, 2], catMaxRatio: 0.75, flipProb: 0.5, photometric: true, mean: IMAGENET_MEAN, std: IMAGENET_STD });
    const a = t.apply(src, createRng(42));
    const b = t.apply(src, createRng(42));
    const c = t.apply(src, createRng(43));
    expect(Array.from(a.image.data)).toEqual(Array.from(b.image.data));
    expect(Array.from(a.image.data)).not.toEqual(Array.from(c.image.data));
  });
});

describe('other transforms', () => {
  it('normalize: (v − mean) / std per channel', () => {
    const s = coordinateSample(2, 2);
    const out = normalize().apply({ ...s, image: { ...s.image, data: Uint8Array.of(0, 0, 0, 255, 255, 255, 123, 116, 103, 10, 20, 30) } }, createRng(0));
    expect(out.image.data[3]).toBeCloseTo((255 - 123.675) / 58.395, 5);
    expect(out.image.data[10]).toBeCloseTo((20 - 116.28) / 57.12, 5);
  });

  it('catMaxRatio re-draws crops dominated by one class', () => {
    // Left 90% class 0, right 10% class 1: most 10×10 crops are pure class 0.
    const h = 20, w = 100;
    const label = Uint8Array.from({ length: h * w }, (_, i) => (i % w >= 90 ? 1 : 0));
    const s: SegmentationSample = { kind: 'segmentation', id: 'x', image: { data: new Float32Array(h * w * 3).map((_, i) => Math.floor(i / 3) % w), height: h, width: w, channels: 3 }, label: { data: label, height: h, width: w } };
    let mixed = 0;
    let mixedPlain = 0;
    for (let seed = 0; seed < 40; seed++) {
      const out = randomCrop({ height: 10, width: 30, catMaxRatio: 0.75 }).apply(s, createRng(seed));
      if (new Set(out.label.data).size > 1) mixed++;
      const plain = randomCrop({ height: 10, width: 30 }).apply(s, createRng(seed));
      if (new Set(plain.label.data).size > 1) mixedPlain++;
    }
    expect(mixed).toBeGreaterThan(mixedPlain);
  });

  it('resize for evaluation keeps targets at full resolution unless asked', () => {
    const s = coordinateSample(40, 60) as SegmentationSample;
    const out = resize({ keepRatio: [30, 20] }).apply(s, createRng(0));
    expect([out.image.height, out.image.width, out.label.height, out.label.width]).toEqual([20, 30, 40, 60]);
    const both = resize({ size: [20, 30], resizeTargets: true }).apply(s, createRng(0));
    expect([both.label.height, both.label.width]).toEqual([20, 30]);
    const ev = evalTransform({ mean: IMAGENET_MEAN, std: IMAGENET_STD, keepRatio: [120, 80] }).apply(s, createRng(0));
    expect(ev.image.height).toBe(80);
  });

  it('padToMultiple pads bottom/right to the stride', () => {
    const out = padToMultiple({ multiple: 32 }).apply(coordinateSample(40, 60) as SegmentationSample, createRng(0));
    expect([out.image.height, out.image.width, out.label.data[63 * 64 + 63]]).toEqual([64, 64, 255]);
  });

  it('photometric distortion changes colours but not geometry or labels', () => {
    const s = coordinateSample(8, 8) as SegmentationSample;
    const u8 = { ...s, image: { ...s.image, data: Uint8Array.from(s.image.data) } };
    const out = photometricDistortion().apply(u8, createRng(3));
    expect(out.label).toBe(u8.label);
    expect(out.image.data.every((v) => v >= 0 && v <= 255)).toBe(true);
  });

  it('rejects bad options with RangeError', () => {
    expect(() => randomCrop({ height: 0, width: 4 })).toThrow(RangeError);
    expect(() => randomScale({ ratioRange: [2, 1] })).toThrow(RangeError);
    expect(() => randomFlip({ prob: 2 })).toThrow(RangeError);
    expect(() => normalize({ mean: [1, 2, 3], std: [1, 0, 1] })).toThrow(RangeError);
  });
});

describe('inputNormalization', () => {
  it('names the ImageNet convention of the weight sources, and only for its exact values', () => {
    const imagenet = inputNormalization(IMAGENET_MEAN, IMAGENET_STD);
    expect(imagenet).toEqual({ channels: 'RGB', range: '0-255', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], convention: 'ImageNet (torchvision, timm, mmseg/mmdet pytorch-style)' });
    expect(formatInputNormalization(imagenet)).toBe('input normalisation: RGB 0-255, mean [123.675, 116.28, 103.53], std [58.395, 57.12, 57.375] — ImageNet (torchvision, timm, mmseg/mmdet pytorch-style)');
    // detectron2's caffe mean with unit std is not the convention of any file the readers accept.
    expect(inputNormalization([103.53, 116.28, 123.675], [1, 1, 1]).convention).toBe('dataset-specific');
  });
});

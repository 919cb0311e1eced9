import { cubicKernel, imresizeBicubic, resizeContributions } from './imresize';
import { patternImage } from './testing-fixtures';

describe('MATLAB bicubic imresize', () => {
  it("Keys' kernel (a = −0.5): 1 at 0, 0 at the integers, the known values between", () => {
    expect(cubicKernel(0)).toBe(1);
    expect(cubicKernel(1)).toBe(0);
    expect(cubicKernel(2)).toBe(0);
    expect(cubicKernel(2.5)).toBe(0);
    // 1.5·0.125 − 2.5·0.25 + 1 and −0.5·3.375 + 2.5·2.25 − 4·1.5 + 2
    expect(cubicKernel(0.5)).toBeCloseTo(0.5625, 12);
    expect(cubicKernel(-1.5)).toBeCloseTo(-0.0625, 12);
  });

  it('shrinking ×1/4 stretches the kernel to 16 taps centred on u = 4x − 1.5 and mirrors at the border', () => {
    const c = resizeContributions(16, 4, 0.25);
    // Output 1: u = 2.5, taps −5…10 (1-based) with 0.25·cubic(0.25·(2.5 − i)); −5…0 mirror to 6…1.
    expect(c[0].indices).toEqual([5, 4, 3, 2, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const raw = Array.from({ length: 16 }, (_, k) => 0.25 * cubicKernel(0.25 * (2.5 - (k - 5))));
    const sum = raw.reduce((a, b) => a + b, 0);
    c[0].weights.forEach((w, k) => expect(w).toBeCloseTo(raw[k] / sum, 12));
    for (const { weights } of c) expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('reproduces a linear ramp away from the borders (the cubic kernel is exact on lines)', () => {
    // Columns 0..39 hold 3·x; output column k (1-based) samples u = 4k − 1.5 (1-based) = 4k − 2.5 (0-based).
    const w = 40;
    const data = new Uint8Array(w * 3);
    for (let x = 0; x < w; x++) data.fill(3 * x, x * 3, x * 3 + 3);
    const out = imresizeBicubic({ data, height: 1, width: w, channels: 3 }, 0.25);
    expect(out.width).toBe(10);
    for (let k = 3; k <= 8; k++) expect(out.data[(k - 1) * 3]).toBe(Math.round(3 * (4 * k - 2.5)));
  });

  it('keeps a constant image constant (weights sum to 1, symmetric padding)', () => {
    const img = { data: new Uint8Array(20 * 12 * 3).fill(77), height: 20, width: 12, channels: 3 };
    const out = imresizeBicubic(img, 0.25);
    expect([out.height, out.width]).toEqual([5, 3]);
    expect(new Set(out.data)).toEqual(new Set([77]));
  });

  it('matches the dense-matrix reference of tools/torch/sr_reference.py (×1/4 and ×4)', () => {
    const down = imresizeBicubic(patternImage(8, 12, 0), 0.25);
    expect([down.height, down.width]).toEqual([2, 3]);
    expect(Array.from(down.data)).toEqual([86, 135, 146, 136, 147, 110, 155, 111, 125, 111, 97, 133, 95, 115, 170, 101, 152, 147]);
    const up = imresizeBicubic(patternImage(3, 2, 1), 4);
    expect([up.height, up.width]).toEqual([12, 8]);
    expect(up.data.reduce((a, b) => a + b, 0)).toBe(34843);
    expect(Array.from({ length: 8 }, (_, x) => up.data[(5 * 8 + x) * 3])).toEqual([35, 36, 38, 42, 47, 51, 53, 54]);
  });

  it('rejects a bad scale and a data length that does not fit the size', () => {
    const img = patternImage(4, 4, 0);
    expect(() => imresizeBicubic(img, 0)).toThrow('[@gpl/sr] imresizeBicubic: scale must be a finite number > 0, received 0.');
    expect(() => imresizeBicubic({ ...img, height: 5 }, 0.5)).toThrow('5×4×3 needs 60 samples, received 48');
  });
});

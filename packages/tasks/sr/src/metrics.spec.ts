import { gaussianWindow, psnr, rgbToY, ssim } from './metrics';
import { patternImage } from './testing-fixtures';

const grey = (h: number, w: number, v: number) => ({ data: new Uint8Array(h * w * 3).fill(v), height: h, width: w, channels: 3 });

describe('PSNR and SSIM (BasicSR protocol: Y channel, border)', () => {
  it('Y of BT.601: black 16, white 235, 16 + 65.481 for pure red', () => {
    const px = (r: number, g: number, b: number) => rgbToY({ data: Uint8Array.from([r, g, b]), height: 1, width: 1, channels: 3 }).data[0];
    expect(px(0, 0, 0)).toBeCloseTo(16, 12);
    expect(px(255, 255, 255)).toBeCloseTo(235, 12);
    expect(px(255, 0, 0)).toBeCloseTo(16 + 65.481, 12);
  });

  it('PSNR of a constant difference d on Y: 10·log10(255² / (d·219/255)²)', () => {
    // Grey g → Y = 16 + g·219/255, so a difference of 10 grey levels is 10·219/255 on Y.
    const dy = (10 * 219) / 255;
    expect(psnr(grey(16, 16, 100), grey(16, 16, 110), { border: 4 })).toBeCloseTo(10 * Math.log10((255 * 255) / (dy * dy)), 10);
    // On RGB the difference is 10 itself: 28.1308 dB.
    expect(psnr(grey(16, 16, 100), grey(16, 16, 110), { yChannel: false })).toBeCloseTo(10 * Math.log10(650.25), 10);
    expect(psnr(grey(8, 8, 3), grey(8, 8, 3))).toBe(Infinity);
  });

  it('the border is cut before measuring', () => {
    const a = grey(16, 16, 50);
    const b = { ...a, data: Uint8Array.from(a.data) };
    b.data.fill(200, 0, 16 * 3); // the first row only
    expect(psnr(a, b, { border: 1 })).toBe(Infinity);
    expect(psnr(a, b, { border: 0 })).toBeLessThan(30);
  });

  it('SSIM: 1 for identical images; the Gaussian window sums to 1 with σ 1.5', () => {
    const g = gaussianWindow();
    expect(g.length).toBe(11);
    expect(g.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(g[5] / g[4]).toBeCloseTo(Math.exp(1 / (2 * 2.25)), 12);
    const img = patternImage(24, 24, 3);
    expect(ssim(img, img, { border: 4 })).toBeCloseTo(1, 12);
  });

  it('SSIM of two constant images: the luminance term (2μaμb + C1) / (μa² + μb² + C1)', () => {
    const ya = 16 + (100 * 219) / 255;
    const yb = 16 + (140 * 219) / 255;
    const c1 = (0.01 * 255) ** 2;
    expect(ssim(grey(20, 20, 100), grey(20, 20, 140))).toBeCloseTo((2 * ya * yb + c1) / (ya * ya + yb * yb + c1), 10);
  });

  it('matches the 2-D-window reference of tools/torch/sr_reference.py', () => {
    const a = patternImage(32, 28, 2);
    const b = patternImage(32, 28, 5);
    expect(psnr(a, b, { border: 4 })).toBeCloseTo(16.7110821199, 8);
    expect(ssim(a, b, { border: 4 })).toBeCloseTo(0.4167303278, 8);
  });

  it('refuses images of different sizes and a border that leaves less than the window', () => {
    expect(() => psnr(grey(8, 8, 1), grey(8, 9, 1))).toThrow('[@gpl/sr] psnr: images differ in size (8×8×3 and 8×9×3).');
    expect(() => ssim(grey(16, 16, 1), grey(16, 16, 1), { border: 4 })).toThrow('[@gpl/sr] ssim: 16×16 minus a border of 4 leaves 8 pixels, fewer than 11.');
  });
});

import { EIGEN_CROP, NYU_INTRINSICS, eigenCrop, eigenCropMask, scaleIntrinsics } from './camera';

describe('NYU camera constants (REFERENCE.md §4)', () => {
  it('toolbox RGB intrinsics at 640×480', () => {
    expect(NYU_INTRINSICS).toEqual({ fx: 518.8579, fy: 519.4696, cx: 325.5824, cy: 253.7362, width: 640, height: 480 });
  });

  it('scales with the image: ×1/4 at the mini dataset’s 160×120', () => {
    const k = scaleIntrinsics(NYU_INTRINSICS, 160, 120);
    expect(k.fx).toBeCloseTo(518.8579 / 4, 10);
    expect(k.fy).toBeCloseTo(519.4696 / 4, 10);
    expect(k.cx).toBeCloseTo(325.5824 / 4, 10);
    expect(k.cy).toBeCloseTo(253.7362 / 4, 10);
    expect([k.width, k.height]).toEqual([160, 120]);
    expect(() => scaleIntrinsics(NYU_INTRINSICS, 0, 120)).toThrow(RangeError);
  });

  it('Eigen crop: rows 45..470 and columns 41..600 inclusive at 480×640', () => {
    expect(EIGEN_CROP).toEqual({ top: 45, bottom: 471, left: 41, right: 601 });
    expect(eigenCrop(480, 640)).toEqual(EIGEN_CROP);
    expect(eigenCrop(120, 160)).toEqual({ top: 11, bottom: 118, left: 10, right: 150 });
    const m = eigenCropMask(480, 640);
    expect(m.reduce((a, b) => a + b, 0)).toBe(426 * 560);
    expect([m[45 * 640 + 41], m[44 * 640 + 41], m[45 * 640 + 40], m[470 * 640 + 600], m[471 * 640 + 600], m[470 * 640 + 601]]).toEqual([1, 0, 0, 1, 0, 0]);
  });
});

/**
 * FCOS target assignment on hand-built images: where positives fall (centre sampling around the
 * box centre or the mask's centre of mass, clipped to the box), which level they go to (size
 * ranges), which instance an ambiguous location takes (the smaller box), the regression and
 * centre-ness values, and crowd instances left out. Every expected location is worked out by hand
 * in the comments.
 */
import { assignFcosTargets, centerOfMass, fcosLevels, fcosLocations, locationCount, strideMask, type FcosTargets, type TargetInstance } from './fcos-targets';

/** Positive locations as 'level:x,y' strings. */
function positives(t: FcosTargets, levels = fcosLevels(128, 128)): string[] {
  const loc = fcosLocations(levels);
  const out: string[] = [];
  for (let k = 0; k < t.labels.length; k++) if (t.instance[k] >= 0) out.push(`${t.level[k]}:${loc[2 * k]},${loc[2 * k + 1]}`);
  return out;
}

describe('fcosLevels / fcosLocations', () => {
  it('has ⌈side/stride⌉ cells per level, inclusive size ranges, and locations at j·s + ⌊s/2⌋', () => {
    const levels = fcosLevels(100, 130);
    expect(levels.map((l) => [l.stride, l.height, l.width])).toEqual([[8, 13, 17], [16, 7, 9], [32, 4, 5], [64, 2, 3], [128, 1, 2]]);
    expect(levels.map((l) => l.sizeRange)).toEqual([[-1, 64], [64, 128], [128, 256], [256, 512], [512, Infinity]]);
    const loc = fcosLocations(levels);
    expect(loc.length).toBe(2 * locationCount(levels));
    expect(Array.from(loc.slice(0, 6))).toEqual([4, 4, 12, 4, 20, 4]);
    // First location of P4: after 13·17 P3 cells.
    expect(Array.from(loc.slice(2 * 13 * 17, 2 * 13 * 17 + 2))).toEqual([8, 8]);
  });
});

describe('assignFcosTargets', () => {
  const levels = fcosLevels(128, 128);
  const box: TargetInstance = { box: [8, 8, 56, 56], classIndex: 2 };

  it('centre-samples a 48×48 box on P3 only: the four locations strictly inside its centre ±12 square', () => {
    // Centre (32, 32), radius 1.5·8 = 12 → region (20, 44) exclusive → x, y ∈ {28, 36}.
    // On P4 the region (8, 56) holds x ∈ {24, 40} but max(l,t,r,b) ≤ 32 < 64: not P4's size.
    const t = assignFcosTargets([box], levels, { numClasses: 5 });
    expect(positives(t)).toEqual(['0:28,28', '0:36,28', '0:28,36', '0:36,36']);
    const k = t.labels.findIndex((l) => l !== 5);
    expect(t.labels[k]).toBe(2);
    // At (28, 28): l = t = 20, r = b = 28, divided by the stride 8; centre-ness √(20/28 · 20/28).
    expect(Array.from(t.regression.slice(4 * k, 4 * k + 4))).toEqual([2.5, 2.5, 3.5, 3.5]);
    expect(t.centerness[k]).toBeCloseTo(20 / 28, 6);
    expect(t.labels.filter((l) => l === 5).length).toBe(locationCount(levels) - 4);
  });

  it('without centre sampling takes every location strictly inside the box that fits P3', () => {
    // x, y ∈ {12, 20, …, 52}: 6 × 6 locations; max(l,t,r,b) ≤ 44.
    const t = assignFcosTargets([box], levels, { numClasses: 5, radius: 0 });
    expect(positives(t).length).toBe(36);
    expect(positives(t).every((p) => p.startsWith('0:'))).toBe(true);
  });

  it('moves the sampling square to the mask centre of mass', () => {
    // Mask: the box's left column band x ∈ [8, 16), y ∈ [8, 56) → centre of mass (11.5, 31.5).
    const mask = new Uint8Array(128 * 128);
    for (let y = 8; y < 56; y++) for (let x = 8; x < 16; x++) mask[y * 128 + x] = 1;
    expect(centerOfMass(mask, 128, 128)).toEqual([11.5, 31.5]);
    // Region x ∈ (8, 23.5) (clipped at the box's 8), y ∈ (19.5, 43.5) → x ∈ {12, 20}, y ∈ {20, 28, 36}.
    const t = assignFcosTargets([{ ...box, mask }], levels, { numClasses: 5, maskSize: { height: 128, width: 128 } });
    expect(positives(t)).toEqual(['0:12,20', '0:20,20', '0:12,28', '0:20,28', '0:12,36', '0:20,36']);
    expect(() => assignFcosTargets([{ ...box, mask }], levels, { numClasses: 5 })).toThrow('options.maskSize is required');
  });

  it('gives an ambiguous location to the smaller box, and routes a large box to its level', () => {
    // Small box 16×16 around (32, 32) inside the 48×48 one: both claim (28, 28), (36, 36) …
    const small: TargetInstance = { box: [24, 24, 40, 40], classIndex: 4 };
    const t = assignFcosTargets([box, small], levels, { numClasses: 5 });
    // Small: centre (32,32), region (24, 40) ∩ box → x, y ∈ {28, 36}: the same four locations.
    expect(positives(t).length).toBe(4);
    const ks = [...t.instance.keys()].filter((k) => t.instance[k] >= 0);
    expect(ks.map((k) => [t.instance[k], t.labels[k]])).toEqual([[1, 4], [1, 4], [1, 4], [1, 4]]);
    // A 200×200 box: max side distance near its centre ≈ 100-ish → P4 [64,128]; far corners up to 196 → P5.
    const big = assignFcosTargets([{ box: [20, 20, 220, 220], classIndex: 0 }], fcosLevels(256, 256), { numClasses: 5, radius: 0 });
    const levelsUsed = new Set([...big.level.keys()].filter((k) => big.instance[k] >= 0).map((k) => big.level[k]));
    expect([...levelsUsed].sort()).toEqual([1, 2]);
    // Equal areas: the first instance wins.
    const twin = assignFcosTargets([box, { ...box, classIndex: 3 }], levels, { numClasses: 5 });
    expect(new Set([...twin.instance].filter((i) => i >= 0))).toEqual(new Set([0]));
  });

  it('leaves crowd instances out and has no positives for an image without instances', () => {
    const t = assignFcosTargets([{ ...box, crowd: true }, { box: [70, 70, 118, 118], classIndex: 1 }], levels, { numClasses: 5 });
    expect(t.instances.length).toBe(1);
    // Centre (94, 94), region (82, 106) → x, y ∈ {84, 92, 100}: nine locations, none from the crowd box.
    expect(positives(t)).toEqual(['0:84,84', '0:92,84', '0:100,84', '0:84,92', '0:92,92', '0:100,92', '0:84,100', '0:92,100', '0:100,100']);
    expect(new Set(t.instance)).toEqual(new Set([-1, 0]));
    const none = assignFcosTargets([], levels, { numClasses: 5 });
    expect(none.labels.every((l) => l === 5)).toBe(true);
  });
});

describe('strideMask', () => {
  it('samples the mask at rows and columns ⌊s/2⌋ + k·s', () => {
    // 8×8 mask with one pixel set at (y 2, x 6) and one at (3, 3): stride 4 samples (2|6) × (2|6).
    const m = new Uint8Array(64);
    m[2 * 8 + 6] = 1;
    m[3 * 8 + 3] = 1;
    expect(Array.from(strideMask(m, 8, 8, 4))).toEqual([0, 1, 0, 0]);
  });
});

import { polyLearningRate } from './schedule';

describe('polyLearningRate', () => {
  it('decays from base to the floor with power 0.9', () => {
    expect(polyLearningRate(0, 100, 0.01)).toBeCloseTo(0.01, 12);
    expect(polyLearningRate(50, 100, 0.01)).toBeCloseTo((0.01 - 1e-4) * 0.5 ** 0.9 + 1e-4, 12);
    expect(polyLearningRate(100, 100, 0.01)).toBeCloseTo(1e-4, 12);
    expect(polyLearningRate(150, 100, 0.01)).toBeCloseTo(1e-4, 12);
    expect(() => polyLearningRate(1, 0, 0.01)).toThrow(RangeError);
  });
});

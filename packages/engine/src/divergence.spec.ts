import { DivergenceWatch } from './divergence';

describe('DivergenceWatch', () => {
  it('stays quiet while the loss falls or wobbles below 100× the first loss', () => {
    const w = new DivergenceWatch();
    const losses = [4.1, 3.9, 12, 300, 2.5, 409];
    expect(losses.map((l, i) => w.observe(i + 1, l, 'lower --lr'))).toEqual(losses.map(() => undefined));
  });

  it('warns once per factor of 100 above the first loss, naming the step, the ratio and the fix', () => {
    const w = new DivergenceWatch();
    const out = [4.1, 50, 420, 900, 5e4, 6.7e16, 7e16].map((l, i) => w.observe(i + 1, l, 'lower --lr (now 1000000)'));
    expect(out[0]).toBeUndefined();
    expect(out[1]).toBeUndefined();
    expect(out[2]).toBe('warning: step 3: loss 420 is 102× the loss at step 1 (4.10): training is diverging; lower --lr (now 1000000).');
    expect(out[3]).toBeUndefined();
    expect(out[4]).toContain('step 5: loss 5.00e+4 is 1.22e+4×');
    // 6.7e16 jumps many factors at once: one warning, and the threshold moves past it.
    expect(out[5]).toContain('loss 6.70e+16');
    expect(out[6]).toBeUndefined();
  });

  it('ignores non-finite losses (the NaN stop handles them) and waits for a positive first loss', () => {
    const w = new DivergenceWatch(10);
    expect(w.observe(1, 0, 'x')).toBeUndefined();
    expect(w.observe(2, NaN, 'x')).toBeUndefined();
    expect(w.observe(3, 1, 'x')).toBeUndefined();
    expect(w.observe(4, 11, 'x')).toContain('step 4: loss 11.0 is 11.0× the loss at step 3');
    expect(() => new DivergenceWatch(1)).toThrow('factor must be > 1');
  });
});

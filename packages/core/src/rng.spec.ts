import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from './rng';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('named forks are independent of how much the parent or siblings were used', () => {
    const a = new Rng(1);
    const fa = a.fork('data').permutation(20);
    const b = new Rng(1);
    b.fork('augment').normalArray(1000);
    expect(b.fork('data').permutation(20)).toEqual(fa);
    expect(new Rng(1).fork('augment').permutation(20)).not.toEqual(fa);
  });

  it('state round-trips mid-stream, including a pending normal draw', () => {
    const a = new Rng(9);
    a.normal(); // leaves the second Box–Muller value pending
    const saved = JSON.parse(JSON.stringify(a.state()));
    const next = [a.normal(), a.next(), a.normal()];
    const b = new Rng(0);
    b.setState(saved);
    expect([b.normal(), b.next(), b.normal()]).toEqual(next);
    expect(() => b.setState({ s: [1, 2] } as never)).toThrow(TypeError);
  });

  it('has the right moments and a uniform permutation', () => {
    const r = new Rng(5);
    const n = 20000;
    const z = r.normalArray(n, 2, 3);
    const mean = z.reduce((s, v) => s + v, 0) / n;
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    expect(Math.abs(mean - 2)).toBeLessThan(0.1); // 4σ of the mean's sampling error is 0.085
    expect(Math.abs(Math.sqrt(variance) - 3)).toBeLessThan(0.1);
    const u = r.uniformArray(n, -1, 1);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(1);
    const first = new Array(4).fill(0);
    for (let i = 0; i < 4000; i++) first[r.permutation(4)[0]]++;
    first.forEach((count) => expect(Math.abs(count - 1000)).toBeLessThan(130));
    expect(() => r.int(0)).toThrow(RangeError);
  });

  it('gives identical tensors on every backend', () => {
    const t = new Rng(3).randomNormal([2, 3], 0, 0.5);
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.dataSync())).toEqual(Array.from(new Rng(3).normalArray(6, 0, 0.5)));
    t.dispose();
    void tf;
  });
});

describe('seeded model initialisation', () => {
  it('one run seed gives identical tfjs-layers weights in two builds, another seed different ones', async () => {
    await import('./setup');
    const tfl = await import('@tensorflow/tfjs-layers');
    const { deriveSeed } = await import('./rng');
    const build = (seed: number) => {
      const rng = new Rng(seed).fork('weights');
      const m = tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, kernelInitializer: tfl.initializers.heNormal({ seed: deriveSeed(rng) }) }),
          tfl.layers.conv2d({ filters: 2, kernelSize: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(rng) }) }),
        ],
      });
      const w = m.getWeights().map((t) => Array.from(t.dataSync()));
      m.dispose();
      return w;
    };
    expect(build(11)).toEqual(build(11));
    expect(build(12)[0]).not.toEqual(build(11)[0]);
  });
});

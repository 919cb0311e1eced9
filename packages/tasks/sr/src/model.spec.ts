import '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { resizeLikeTorch } from '@gpl/core';
import { expectNoLeak, seededTensor } from '@gpl/core/testing';
import { SR_SCALE, buildSrModel } from './model';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('MSRResNet ×4', () => {
  it('maps [N, h, w, 3] to [N, 4h, 4w, 3] for any size, with BasicSR parameter names', () => {
    const model = buildSrModel({ features: 8, blocks: 2, seed: 3 });
    for (const [h, w] of [[6, 5], [4, 9]]) {
      const x = tf.zeros([2, h, w, 3]);
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([2, h * SR_SCALE, w * SR_SCALE, 3]);
      tf.dispose([x, y]);
    }
    const names = model.weights.map((v) => v.originalName);
    expect(names).toEqual(expect.arrayContaining(['conv_first/kernel', 'body.1.conv2/kernel', 'upconv1/kernel', 'upconv2/kernel', 'conv_hr/kernel', 'conv_last/bias']));
    // conv_first 3→8, 2 blocks of two 8→8, two upconvs 8→32, conv_hr 8→8, conv_last 8→3 (3×3 kernels + biases).
    const params = (ci: number, co: number) => 9 * ci * co + co;
    expect(model.countParams()).toBe(params(3, 8) + 4 * params(8, 8) + 2 * params(8, 32) + params(8, 8) + params(8, 3));
    model.dispose();
  });

  it("adds the bilinear (half-pixel, PyTorch align_corners=False) upsampled input: zero residual weights give exactly that", () => {
    const model = buildSrModel({ features: 4, blocks: 1, seed: 1 });
    const zeros = model.getLayer('conv_last').getWeights().map((w) => tf.zerosLike(w));
    model.getLayer('conv_last').setWeights(zeros);
    tf.dispose(zeros);
    const x = seededTensor([1, 3, 4, 3], 5) as tf.Tensor4D;
    const y = model.predict(x) as tf.Tensor;
    const ref = resizeLikeTorch(x, [12, 16], 'bilinear', false);
    expect(tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([x, y, ref]);
    model.dispose();
  });

  it('is seeded: the same seed gives the same weights, another seed others', () => {
    const [a, b, c] = [1, 1, 2].map((seed) => buildSrModel({ features: 4, blocks: 1, seed }));
    const first = (m: typeof a) => Array.from(m.getLayer('conv_first').getWeights()[0].dataSync());
    expect(first(a)).toEqual(first(b));
    expect(first(a)).not.toEqual(first(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('inference frees its intermediates; bad sizes are named', () => {
    const model = buildSrModel({ features: 4, blocks: 1 });
    const x = tf.zeros([1, 4, 4, 3]);
    expectNoLeak(() => model.predict(x) as tf.Tensor, { returns: 1 });
    tf.dispose(x);
    model.dispose();
    expect(() => buildSrModel({ features: 0 })).toThrow('[@gpl/sr] buildSrModel: features must be a positive integer, received 0.');
    expect(() => buildSrModel({ blocks: -1 })).toThrow('[@gpl/sr] buildSrModel: blocks must be an integer ≥ 0, received -1.');
  });
});

import '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { expectNoLeak, seededTensor } from '@gpl/core/testing';
import { PixelShuffle, pixelShuffle } from './pixel-shuffle';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('pixelShuffle (PyTorch channel order, NHWC)', () => {
  it('a hand-built 1×1×1×4 input becomes the 2×2 block [[0, 1], [2, 3]]', () => {
    const out = pixelShuffle(tf.tensor4d([0, 1, 2, 3], [1, 1, 1, 4]), 2);
    expect(out.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(out.dataSync())).toEqual([0, 1, 2, 3]);
    out.dispose();
  });

  it('two channels, r = 2: output (h·r + i, w·r + j, c) is input channel c·r² + i·r + j (F.pixel_shuffle)', () => {
    // Input value = 100·c_in + 10·h + w, on a 2×3 grid with 8 channels.
    const [h, w, c, r] = [2, 3, 2, 2];
    const values: number[] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c * r * r; k++) values.push(100 * k + 10 * y + x);
    const out = pixelShuffle(tf.tensor4d(values, [1, h, w, c * r * r]), r);
    expect(out.shape).toEqual([1, h * r, w * r, c]);
    const got = out.arraySync()[0];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) for (let ch = 0; ch < c; ch++) expect(got[y * r + i][x * r + j][ch]).toBe(100 * (ch * r * r + i * r + j) + 10 * y + x);
    out.dispose();
  });

  it("equals TensorFlow's DepthToSpace once the channels are moved from PyTorch's order to TF's (i·r + j)·C + c", () => {
    const [c, r] = [3, 2];
    const x = seededTensor([2, 3, 4, c * r * r], 7) as tf.Tensor4D;
    // TF channel (i·r + j)·C + ch holds PyTorch channel ch·r² + i·r + j.
    const perm: number[] = [];
    for (let ij = 0; ij < r * r; ij++) for (let ch = 0; ch < c; ch++) perm.push(ch * r * r + ij);
    const tfOrder = tf.gather(x, perm, 3) as tf.Tensor4D;
    const ref = tf.depthToSpace(tfOrder, r, 'NHWC');
    const out = pixelShuffle(x, r);
    expect(Array.from(out.dataSync())).toEqual(Array.from(ref.dataSync()));
    tf.dispose([x, tfOrder, ref, out]);
  });

  it('has a gradient (a permutation: the upstream gradient moved back), frees its intermediates', () => {
    const x = seededTensor([1, 2, 2, 8], 3) as tf.Tensor4D;
    const up = seededTensor([1, 4, 4, 2], 4) as tf.Tensor4D;
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pixelShuffle(t as tf.Tensor4D, 2), up)))(x);
    // d/dx Σ shuffle(x)·u = unshuffle(u): shuffling the gradient gives u back.
    const back = pixelShuffle(g as tf.Tensor4D, 2);
    expect(Array.from(back.dataSync())).toEqual(Array.from(up.dataSync()));
    expectNoLeak(() => pixelShuffle(x, 2), { returns: 1 });
    tf.dispose([x, up, g, back]);
  });

  it('as a layer: infers shapes with unknown sizes and serialises its factor', () => {
    const layer = new PixelShuffle({ factor: 2 });
    const input = tfl.input({ shape: [null, null, 12] });
    expect((layer.apply(input) as tfl.SymbolicTensor).shape).toEqual([null, null, null, 3]);
    expect(layer.getConfig().factor).toBe(2);
  });

  it('names a channel count that is not a multiple of r²', () => {
    const x = tf.zeros([1, 2, 2, 6]) as tf.Tensor4D;
    expect(() => pixelShuffle(x, 2)).toThrow('[@gpl/sr] pixelShuffle: 6 channels are not a multiple of factor² = 4; give the convolution before it C·4 filters.');
    x.dispose();
  });
});

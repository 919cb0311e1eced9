import { initBackend } from '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { GenericPerceptualLoss } from './loss';
import { FAMILIES, VGG_PRESETS, inferShapes, minimumInputSize, vggSpec } from './spec';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

/** Conv weights + biases of a VGG structure with 3×3 kernels on `c` input channels. */
function vggParameters(c: number, blocks: readonly number[], channels = [64, 128, 256, 512, 512]): number {
  let total = 0;
  let cin = c;
  blocks.forEach((n, b) => {
    for (let i = 0; i < n; i++) {
      total += 9 * cin * channels[b] + channels[b];
      cin = channels[b];
    }
  });
  return total;
}

describe('VGG structures (paper Sec. 3.2, Table 2)', () => {
  it.each([
    ['vgg11', 8, 9_220_480],
    ['vgg13', 10, 9_404_992],
    ['vgg16', 13, 14_714_688],
    ['vgg19', 16, 20_024_384],
  ] as const)('%s has %i convolutions and, on RGB, %i parameters like torchvision\'s features', (preset, convs, rgbParameters) => {
    const rgb = new GenericPerceptualLoss({ inChannels: 3, preset });
    const d = rgb.describe();
    expect(d.convolutions).toBe(convs);
    expect(d.parameters).toBe(rgbParameters);
    rgb.dispose();
    // With the task's channels in front: only the first convolution changes (19 classes of Cityscapes).
    const seg = new GenericPerceptualLoss({ inChannels: 19, preset });
    expect(seg.describe().parameters).toBe(rgbParameters + 9 * 16 * 64);
    expect(seg.describe().parameters).toBe(vggParameters(19, VGG_PRESETS[preset]));
    seg.dispose();
  });

  it.each([
    [[1, 1, 1, 1, 1], 5],
    [[3, 3, 4, 4, 4], 18],
  ])('structure %j has %i convolutions', (blocks, convs) => {
    const gpl = new GenericPerceptualLoss({ inChannels: 1, blocks });
    const d = gpl.describe();
    expect(d.convolutions).toBe(convs);
    expect(d.parameters).toBe(vggParameters(1, blocks));
    expect(d.label).toBe(`vgg[${blocks.join(',')}]`);
    gpl.dispose();
  });

  it('places ReLU after every convolution, 2×2 pooling between blocks (4 for 5 blocks), zero bias, and a level at the end of each block', () => {
    const spec = vggSpec(19, [2, 2, 3, 3, 3], [64, 128, 256, 512, 512], 3, 'vgg16');
    const convs = spec.nodes.filter((n) => n.op === 'conv');
    expect(convs.every((n) => n.op === 'conv' && n.activation === 'relu' && n.kernel === 3 && n.stride === 1)).toBe(true);
    const pools = spec.nodes.filter((n) => n.op === 'maxpool');
    expect(pools.map((n) => n.op === 'maxpool' && [n.size, n.stride].join())).toEqual(['2,2', '2,2', '2,2', '2,2']);
    expect(spec.taps.map((t) => spec.nodes[t].name)).toEqual(['conv1_2', 'conv2_2', 'conv3_3', 'conv4_3', 'conv5_3']);
    expect(inferShapes(spec, 64, 128)[spec.taps[4]]).toEqual([4, 8, 512]);
    expect(minimumInputSize(spec)).toBe(16);
  });

  it.each([1, 3, 5, 7])('kernel size %i changes the kernels, the FLOPs and the parameters accordingly', (k) => {
    const gpl = new GenericPerceptualLoss({ inChannels: 19, preset: 'vgg16', kernelSize: k });
    const d = gpl.describe();
    const convWeights = vggParameters(19, VGG_PRESETS.vgg16) - (64 + 64 + 128 + 128 + 256 * 3 + 512 * 6);
    expect(d.parameters - (64 * 2 + 128 * 2 + 256 * 3 + 512 * 6)).toBe((convWeights / 9) * k * k);
    expect(d.layers[0].detail).toBe(`${k}×${k}/1 19→64 relu`);
    gpl.dispose();
  });

  it('reports FLOPs per input pixel: 2·k²·c_in·c_out per convolution, divided by its area reduction', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 2, blocks: [1, 1], channels: [4, 8] });
    // conv1: 2·9·2·4 = 144 per pixel; conv2 runs on a 2×-pooled map: 2·9·4·8 / 4 = 144.
    expect(gpl.describe().flopsPerPixel).toBe(288);
    expect(gpl.describe().levels).toEqual([
      { name: 'conv1_1', channels: 4, stride: 1, weight: 0 },
      { name: 'conv2_1', channels: 8, stride: 2, weight: 1 },
    ]);
    gpl.dispose();
  });
});

describe('families of Table 1', () => {
  // Parameters of torchvision's feature extractors on RGB (classifier heads excluded): resnet18
  // 11,689,512 − fc 513,000; alexnet features 2,469,696; googlenet 6,624,904 − fc 1,025,000;
  // mobilenet_v2 3,504,872 − classifier 1,281,000. Batch-norm γ and β count, running statistics do not.
  it.each([
    ['resnet18', 20, 11_176_512],
    ['alexnet', 5, 2_469_696],
    ['googlenet', 57, 5_599_904],
    ['mobilenetv2', 52, 2_223_872],
  ] as const)('%s builds with %i convolutions and the torchvision parameter count, and runs on a 19-class input', (family, convs, rgb) => {
    const gpl = new GenericPerceptualLoss({ inChannels: 3, preset: family });
    expect(gpl.describe().convolutions).toBe(convs);
    expect(gpl.describe().parameters).toBe(rgb);
    expect(gpl.describe().levels).toHaveLength(5);
    gpl.dispose();
    const seg = new GenericPerceptualLoss({ inChannels: 19, preset: family, levels: 'weighted' });
    const firstKernel = seg.describe().layers[0];
    expect(firstKernel.detail).toMatch(/ 19→/);
    tf.tidy(() => {
      const p = tf.softmax(tf.randomNormal([1, 64, 64, 19], 0, 1, 'float32', 1)) as tf.Tensor4D;
      const t = tf.softmax(tf.randomNormal([1, 64, 64, 19], 0, 1, 'float32', 2)) as tf.Tensor4D;
      const value = seg.compute(p, t).dataSync()[0];
      expect(Number.isFinite(value) && value > 0).toBe(true);
      const embeddings = seg.embed(p);
      const shapes = inferShapes(seg.spec, 64, 64);
      expect(embeddings.map((e) => e.shape.slice(1))).toEqual(seg.spec.taps.map((t) => shapes[t]));
      expect(embeddings.map((e) => e.shape[3])).toEqual(seg.describe().levels.map((l) => l.channels));
    });
    seg.dispose();
  });

  it('has the expected level strides', () => {
    for (const family of FAMILIES) {
      const gpl = new GenericPerceptualLoss({ inChannels: 1, preset: family });
      expect(gpl.describe().levels.map((l) => l.stride)).toEqual(family === 'alexnet' ? [4, 8, 16, 16, 16] : [2, 4, 8, 16, 32]);
      gpl.dispose();
    }
  });
});

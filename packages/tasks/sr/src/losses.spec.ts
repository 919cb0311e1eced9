import '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeak, seededTensor } from '@gpl/core/testing';
import { defaultSrConfig } from './config';
import { createPerceptualTerm, imagenetNormalize, l1Loss, srLoss } from './losses';
import { fakeTorchvisionVgg } from './testing-fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const flags = { ...defaultSrConfig, percep: 'vgg11', percepEngine: 'tfjs' as const };
// Made once: 9 M values.
let VGG11: ReturnType<typeof fakeTorchvisionVgg>;
beforeAll(() => {
  VGG11 = fakeTorchvisionVgg('vgg11');
});

describe('SR losses', () => {
  it('L1 is the mean absolute difference; ImageNet normalisation is (x − mean) / std per channel', () => {
    const a = tf.tensor4d([0, 0.5, 1, 0.25], [1, 1, 1, 4]);
    const b = tf.tensor4d([1, 0.5, 0, 0.5], [1, 1, 1, 4]);
    expect(l1Loss(a, b).dataSync()[0]).toBeCloseTo((1 + 0 + 1 + 0.25) / 4, 7);
    const n = imagenetNormalize(tf.tensor4d([0.485, 0.456 + 0.224, 0.406 - 0.45], [1, 1, 1, 3]));
    Array.from(n.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([0, 1, -2][i], 5));
    tf.dispose([a, b, n]);
  });

  it('refuses a state dict of another network, naming the option and the key', () => {
    const dict = new Map(VGG11);
    expect(() => createPerceptualTerm('pretrained-vgg', { ...flags, percep: 'vgg16' }, 1, dict)).toThrow(/^\[sr\] option 'percepPretrained': the state dict lacks 'features\.2\.weight'/);
    dict.set('features.1.running_mean', { shape: [64], data: new Float32Array(64) });
    expect(() => createPerceptualTerm('pretrained-vgg', flags, 1, dict)).toThrow("[sr] option 'percepPretrained': the state dict is torchvision's vgg11_bn");
  });

  it('the pretrained term feeds RGB straight into the VGG (no 1×1 adapter), is 0 for identical images and frees its intermediates', () => {
    const term = createPerceptualTerm('pretrained-vgg', flags, 1, VGG11)!;
    expect(term.imagenet).toBe(true);
    const d = term.network.describe();
    // VGG11's eight convolutions and nothing in front of them.
    expect([d.inChannels, d.convolutions]).toEqual([3, 8]);
    expect(term.network.spec.nodes.map((n) => n.name)).not.toContain('adapter');
    const hr = tf.clipByValue(seededTensor([1, 16, 16, 3], 2), 0, 1) as tf.Tensor4D;
    const sr = tf.clipByValue(seededTensor([1, 16, 16, 3], 3), 0, 1) as tf.Tensor4D;
    const same = srLoss(hr, hr, term);
    expect(same.terms.loss_percep.dataSync()[0]).toBe(0);
    tf.dispose([same.total, ...Object.values(same.terms)]);
    expectNoLeak(() => {
      const l = srLoss(sr, hr, term);
      expect(l.terms.loss_percep.dataSync()[0]).toBeGreaterThan(0);
      return [l.total, l.terms.loss_pix, l.terms.loss_percep];
    }, { returns: 3, repeats: 1 });
    term.network.dispose();
    tf.dispose([hr, sr]);
  });

  it('total = L1 + λ·perceptual for the random network; the pixel variant has no perceptual term', () => {
    const term = createPerceptualTerm('random-vgg', { ...flags, percep: '1,1,1,1,1', percepLambda: 2 }, 1)!;
    expect(term.imagenet).toBe(false);
    const hr = tf.clipByValue(seededTensor([1, 32, 32, 3], 4), 0, 1) as tf.Tensor4D;
    const sr = tf.clipByValue(seededTensor([1, 32, 32, 3], 5), 0, 1) as tf.Tensor4D;
    const l = srLoss(sr, hr, term);
    const [total, pix, p] = [l.total, l.terms.loss_pix, l.terms.loss_percep].map((t) => t.dataSync()[0]);
    expect(total).toBeCloseTo(pix + 2 * p, 6);
    expect(createPerceptualTerm('pixel', flags, 1)).toBeUndefined();
    tf.dispose([hr, sr, l.total, ...Object.values(l.terms)]);
    term.network.dispose();
    expect(() => createPerceptualTerm('pretrained-vgg', flags, 1)).toThrow("[sr] variant 'pretrained-vgg' needs the torchvision weights (--percep-pretrained).");
  });
});

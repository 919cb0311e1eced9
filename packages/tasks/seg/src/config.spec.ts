import { parseCrop, validateSegConfig, type SegConfig } from './config';

const base: SegConfig = {
  dataset: 'cityscapes', dataRoot: 'datasets/cityscapes-mini', model: 'pspnet-r18', width: 0.25, crop: [128, 256],
  batch: 2, iters: 10, lr: 0.01, polyPower: 0.9, momentum: 0.9, weightDecay: 5e-4, seed: 1, percep: 'vgg16',
  percepLambda: 0.1, percepKernel: 3, percepInit: 'he', percepLevels: 'final', softLabels: '', pretrained: '', percepScale: 1, evalEvery: 0, checkpointEvery: 0,
  resume: false, out: 'runs/x', backend: 'auto',
};

describe('validateSegConfig', () => {
  it('accepts a valid config, including structures and init variants', () => {
    expect(validateSegConfig(base)).toBe(base);
    expect(() => validateSegConfig({ ...base, percep: '1,1,1,1,1', percepInit: 'normal:0.01' })).not.toThrow();
    expect(() => validateSegConfig({ ...base, percep: 'none', percepInit: 'uniform:1e-2' })).not.toThrow();
    // The scaled perceptual input need only fit the loss network: 128×256 at 1/8 is 16×32 (vgg16 needs 16).
    expect(() => validateSegConfig({ ...base, percepScale: 0.125, percepReduction: 'sum' })).not.toThrow();
    expect(() => validateSegConfig({ ...base, percep: '1,1', crop: [32, 32], percepScale: 0.125 })).not.toThrow();
    expect(() => validateSegConfig({ ...base, percep: 'none', crop: [32, 32], percepScale: 0.125 })).not.toThrow();
  });

  it.each([
    [{ crop: [100, 256] }, "option 'crop': expected [height, width], positive multiples of 32 (e.g. 128,256), received [100,256]"],
    [{ dataset: 'kitti' }, "option 'dataset': expected one of cityscapes, voc, ade20k, custom, received \"kitti\""],
    [{ iters: 0 }, "option 'iters': expected a positive integer, received 0"],
    [{ percep: 'vgg17' }, "option 'percep'"],
    [{ percepKernel: 4 }, "option 'percepKernel': expected one of 1, 3, 5, 7"],
    [{ percepInit: 'normal' }, "option 'percepInit'"],
    [{ momentum: 1 }, "option 'momentum': expected a value in [0, 1)"],
    [{ lr: 0 }, "option 'lr': expected a finite learning rate > 0, received 0"],
    [{ backend: 'gpu' }, "option 'backend'"],
    [{ percepScale: 0.3 }, "[seg] option 'percepScale': expected one of 1, 0.5, 0.25, 0.125 (a fraction of the crop), received 0.3."],
    [{ percepReduction: 'total' as never }, "[seg] option 'percepReduction': expected 'mean' or 'sum'"],
    [{ crop: [64, 256], percepScale: 0.125 }, "[seg] option 'percepScale': 0.125 of the 64×256 crop is 8×32, smaller than the 16×16 the loss network vgg16 needs; use percepScale 0.25 or more, or a larger crop."],
    [{ crop: [32, 32], percepScale: 0.25 }, "[seg] option 'percepScale': 0.25 of the 32×32 crop is 8×8, smaller than the 16×16 the loss network vgg16 needs; use percepScale 0.5 or more, or a larger crop."],
  ])('rejects %j', (patch, message) => {
    expect(() => validateSegConfig({ ...base, ...(patch as Partial<SegConfig>) })).toThrow(message);
  });
});

describe('parseCrop', () => {
  it('reads h,w, hxw and a single side', () => {
    expect(parseCrop('128,256')).toEqual([128, 256]);
    expect(parseCrop('64x96')).toEqual([64, 96]);
    expect(parseCrop('512')).toEqual([512, 512]);
    expect(() => parseCrop('a,b')).toThrow("option 'crop'");
  });
});

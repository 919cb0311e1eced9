import { defaultDepthConfig, parseLosses, validateDepthConfig } from './config';
import { configFromFlags } from './main';

const flags = (f: Record<string, unknown>) => configFromFlags({ ...f, out: f.out ?? 'runs/depth/test' });

describe('depth config', () => {
  it('defaults: the full Table 7 row on nyudv2-mini, VNL weight 6, λ 0.1, metric depth into GPL', () => {
    const c = flags({});
    expect(c).toMatchObject({ dataset: 'nyudv2', dataRoot: 'datasets/nyudv2-mini', losses: ['wce', 'vnl', 'gpl'], vnlWeight: 6, percepLambda: 0.1, gplInput: 'metric', percep: '1,1,1,1,1' });
  });

  it('parses --losses for the four configurations; without gpl no loss network is built', () => {
    expect(parseLosses('wce')).toEqual(['wce']);
    expect(parseLosses('gpl,wce')).toEqual(['wce', 'gpl']);
    expect(parseLosses('wce,vnl,gpl')).toEqual(['wce', 'vnl', 'gpl']);
    expect(flags({ losses: 'wce,vnl' })).toMatchObject({ losses: ['wce', 'vnl'], percep: 'none' });
    expect(() => parseLosses('wce,wce')).toThrow("option 'losses'");
    expect(() => parseLosses('wce,ssim')).toThrow("received 'wce,ssim'");
  });

  it.each([
    [{ losses: 'wce,gpl', percep: 'none' }, "option 'losses' includes gpl but --percep is none"],
    [{ crop: 100 }, "[depth] option 'crop': expected a square crop side, a multiple of 32 (0 = the dataset recipe), received 100."],
    [{ 'vnl-weight': -1 }, "[depth] option 'vnlWeight': expected a finite weight > 0, received -1."],
    [{ 'max-depth': -2 }, "[depth] option 'maxDepth': expected a cap in metres ≥ 0 (0 = none), received -2."],
    [{ width: 0 }, "[depth] option 'width': expected a multiplier in (0, 4], received 0."],
    [{ lr: 0 }, "[depth] option 'lr': expected a finite learning rate > 0, received 0."],
    [{ dataset: 'kitti' }, "[depth] option 'dataset': expected one of nyudv2, custom, received \"kitti\"."],
  ])('refuses %j', (f, message) => {
    expect(() => flags(f)).toThrow(message);
  });

  it('validates a config object the same way (e.g. from --config)', () => {
    expect(() => validateDepthConfig({ ...defaultDepthConfig, out: 'x', gplInput: 'raw' as never })).toThrow("option 'gplInput': expected one of metric, log, normalised");
  });
});

/**
 * The pilot end to end in this process, at toy sizes on voc-mini: the three variants (the
 * pretrained one from a safetensors file with torchvision's VGG11 names and made-up values),
 * the report files, a tensor count that stays flat across steps, and `--resume` of a finished variant.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gpl/core';
import { defaultSrConfig, validateSrConfig, type SrConfig } from './config';
import { fakeTorchvisionVgg, writeSafetensorsFile } from './testing-fixtures';
import { cosineLearningRate, trainSr } from './train';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-train-'));
const weights = path.join(tmp, 'vgg11.safetensors');

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  writeSafetensorsFile(weights, fakeTorchvisionVgg('vgg11'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tiny = (out: string, extra: Partial<SrConfig> = {}): SrConfig =>
  validateSrConfig({
    ...defaultSrConfig,
    iters: 3,
    batch: 2,
    patch: 16,
    features: 4,
    blocks: 1,
    evalEvery: 2,
    valImages: 2,
    percep: 'vgg11',
    percepPretrained: weights,
    dataRoots: [path.join(WORKSPACE_ROOT, 'datasets/voc-mini')],
    out,
    ...extra,
  });

describe('trainSr', () => {
  it('cosine annealing runs from lr to lrMin', () => {
    expect(cosineLearningRate(0, 10, 2e-4, 1e-7)).toBeCloseTo(2e-4, 12);
    expect(cosineLearningRate(5, 10, 2e-4, 0)).toBeCloseTo(1e-4, 12);
    expect(cosineLearningRate(10, 10, 2e-4, 1e-7)).toBeCloseTo(1e-7, 12);
  });

  it('trains the three variants with the same patches, writes the table, CSV and PNGs, and leaks no tensors per step', async () => {
    const out = path.join(tmp, 'run');
    const counts: number[] = [];
    const logs: string[] = [];
    const r = await trainSr(tiny(out), { log: (l) => logs.push(l), progressStream: fs.createWriteStream('/dev/null'), onStep: () => counts.push(tf.memory().numTensors) });
    expect(r.results.map((v) => v.variant)).toEqual(['pixel', 'random-vgg', 'pretrained-vgg']);
    // Per variant (3 steps each), the count after steps 2 and 3 equals the one after step 1.
    for (let v = 0; v < 3; v++) expect(new Set(counts.slice(3 * v, 3 * v + 3)).size).toBe(1);
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    for (const row of ['bicubic (MATLAB imresize)', 'pixel (L1)', 'L1 + 1·random vgg11', 'L1 + 1·pretrained vgg11']) expect(md).toMatch(new RegExp(`\\| ${row.replace(/[()+.]/g, '\\$&')} \\| \\d+\\.\\d{2} \\| 0\\.\\d{4} \\|`));
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8').split('\n')[0]).toBe('method,psnr_y,ssim_y,note');
    expect(fs.readdirSync(path.join(out, 'samples')).filter((f) => f.endsWith('.png'))).toHaveLength(2);
    for (const v of ['pixel', 'random-vgg', 'pretrained-vgg']) {
      expect(JSON.parse(fs.readFileSync(path.join(out, v, 'final.json'), 'utf8')).step).toBe(3);
      expect(fs.readFileSync(path.join(out, v, 'metrics.csv'), 'utf8').split('\n')[0]).toBe(v === 'pixel' ? 'step,lr,loss,loss_pix,seconds,val_psnr,val_ssim' : 'step,lr,loss,loss_pix,loss_percep,seconds,val_psnr,val_ssim');
    }
    expect(logs.join('\n')).toContain('pretrained-vgg: loss network vgg11');

    // Resuming a finished variant trains nothing and measures the same.
    const again = await trainSr({ ...tiny(out), variants: ['pixel'], resume: true }, { log: () => undefined, progressStream: fs.createWriteStream('/dev/null'), onStep: () => counts.push(-1) });
    expect(again.results[0].metrics).toEqual(r.results[0].metrics);
    expect(counts).not.toContain(-1);
  });
});

/**
 * The training loop at the API level, on the CPU backend with tiny sizes: resume equivalence
 * (bit for bit), no tensor growth per step, the NaN stop, run-folder contents.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, resolveCheckpoint } from '@gpl/core';
import { defaultSegConfig, type SegConfig } from './config';
import { NonFiniteLossError } from '@gpl/engine';
import { trainSeg as train } from './task';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seg-train-'));
const quiet = { log: () => undefined, progressStream: { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream, samples: 1 };

function tiny(out: string, patch: Partial<SegConfig> = {}): SegConfig {
  return {
    ...defaultSegConfig,
    dataRoot: path.join(WORKSPACE_ROOT, 'datasets/cityscapes-mini'),
    width: 0.125,
    crop: [64, 64],
    batch: 2,
    iters: 4,
    evalEvery: 0,
    checkpointEvery: 1,
    softLabels: '',
    out: path.join(tmp, out),
    backend: 'wasm',
    ...patch,
  };
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const latestFile = (run: string, file: string) => fs.readFileSync(path.join(resolveCheckpoint(path.join(tmp, run, 'checkpoints'))!, file));

describe('train (PSPNet-R18 with aux head, +GPL 1,1,1,1,1, wasm backend)', () => {
  it('resumed after an interruption, ends bit for bit where an uninterrupted run ends', async () => {
    const full = await train(tiny('full'), quiet);
    expect(full.status).toBe('done');
    const cut = await train(tiny('cut'), { ...quiet, stopAfter: 2 });
    expect(cut).toMatchObject({ status: 'stopped', step: 2 });
    const resumed = await train(tiny('cut', { resume: true }), quiet);
    expect(resumed.status).toBe('done');
    expect(resumed.step).toBe(4);
    expect(Buffer.compare(latestFile('full', 'weights.bin'), latestFile('cut', 'weights.bin'))).toBe(0);
    expect(Buffer.compare(latestFile('full', 'optimizer.bin'), latestFile('cut', 'optimizer.bin'))).toBe(0);
    expect(resumed.final!.mIoU).toBe(full.final!.mIoU);
    expect(resumed.final!.pixelAccuracy).toBe(full.final!.pixelAccuracy);
    // metrics.csv of the resumed run has each step once, with the same losses.
    const csv = (run: string) => {
      const lines = fs.readFileSync(path.join(tmp, run, 'metrics.csv'), 'utf8').split('\n');
      const seconds = lines[0].split(',').indexOf('seconds');
      return lines.map((l) => l.split(',').filter((_, i) => i !== seconds).join(','));
    };
    expect(csv('cut')).toEqual(csv('full'));
  });

  it('writes the run folder: config.json, metrics.csv, checkpoints (latest, best), plots, overlays', () => {
    const run = path.join(tmp, 'full');
    for (const f of ['config.json', 'metrics.csv', 'final.json', 'checkpoints/latest', 'checkpoints/best', 'plots/loss.png', 'plots/lr.png', 'plots/miou.png', 'plots/pixel_accuracy.png']) {
      expect({ f, exists: fs.existsSync(path.join(run, f)) }).toEqual({ f, exists: true });
    }
    expect(fs.readdirSync(path.join(run, 'samples')).length).toBe(1);
    // Only the last two step folders are kept (plus tagged ones).
    expect(fs.readdirSync(path.join(run, 'checkpoints')).filter((n) => n.startsWith('step-')).length).toBeLessThanOrEqual(3);
    const header = fs.readFileSync(path.join(run, 'metrics.csv'), 'utf8').split('\n')[0];
    expect(header).toBe('step,lr,loss,loss_ce,loss_aux,loss_gpl,grad_ce,grad_gpl,seconds,val_miou,val_pixel_acc,val_mean_acc');
    // Both gradient norms are positive on every step.
    for (const line of fs.readFileSync(path.join(run, 'metrics.csv'), 'utf8').trim().split('\n').slice(1)) {
      const [gradCe, gradGpl] = line.split(',').slice(6, 8).map(Number);
      expect(gradCe).toBeGreaterThan(0);
      expect(gradGpl).toBeGreaterThan(0);
    }
    // The checkpoint says how its inputs were normalised.
    const state = JSON.parse(latestFile('full', 'state.json').toString('utf8'));
    expect(state.normalization).toEqual({ channels: 'RGB', range: '0-255', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], convention: 'ImageNet (torchvision, timm, mmseg/mmdet pytorch-style)' });
  });

  it('refuses to overwrite a run without --resume, and to resume with other options', async () => {
    await expect(train(tiny('full'), quiet)).rejects.toThrow('already holds checkpoints: pass --resume');
    await expect(train(tiny('full', { resume: true, lr: 0.02 }), quiet)).rejects.toThrow('differs from this command in lr (0.01 there, 0.02 here)');
  });

  it('reads percepScale and percepReduction absent from an older config.json as 1 and mean on --resume', async () => {
    const file = path.join(tmp, 'full', 'config.json');
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    delete saved.percepScale;
    delete saved.percepReduction;
    fs.writeFileSync(file, JSON.stringify(saved));
    // Only the option that really differs is named.
    await expect(train(tiny('full', { resume: true, lr: 0.02 }), quiet)).rejects.toThrow(/differs from this command in lr \(0\.01 there, 0\.02 here\)\. Resume/);
    await expect(train(tiny('full', { resume: true, percepScale: 0.5 }), quiet)).rejects.toThrow('differs from this command in percepScale (undefined there, 0.5 here)');
  });

  it('keeps the number of tensors flat from step to step', async () => {
    const counts: number[] = [];
    await train(tiny('leak', { iters: 5, checkpointEvery: 0 }), { ...quiet, plots: false, onStep: () => counts.push(tf.memory().numTensors) });
    expect(counts.length).toBe(5);
    // Step 1 creates the momentum slots; afterwards nothing may accumulate.
    expect(new Set(counts.slice(1)).size).toBe(1);
  });

  it('stops on a non-finite loss with a clear message and keeps the last good checkpoint', async () => {
    const cfg = tiny('nan', { percep: 'none' });
    await expect(train(cfg, { ...quiet, nanAtStep: 2 })).rejects.toThrow(NonFiniteLossError);
    const latest = resolveCheckpoint(path.join(tmp, 'nan', 'checkpoints'))!;
    expect(path.basename(latest)).toBe('step-00000002');
    // Without a perceptual term the gradient-norm columns are not written.
    expect(fs.readFileSync(path.join(tmp, 'nan', 'metrics.csv'), 'utf8').split('\n')[0]).not.toContain('grad_');
    await expect(train({ ...cfg, out: path.join(tmp, 'nan2') }, { ...quiet, nanAtStep: 0 })).rejects.toThrow(/loss is NaN at step 1: training stopped. The last good checkpoint is \(none yet\)/);
  });
});

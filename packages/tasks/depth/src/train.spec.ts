/**
 * The depth task on the engine, wasm backend, tiny sizes on nyudv2-mini with all three terms
 * (WCE + VNL + GPL): resume equivalence bit for bit (the VNL triplets come from the engine's
 * checkpointed random stream), no tensor growth per step, the run folder's contents.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, resolveCheckpoint } from '@gpl/core';
import { defaultDepthConfig, type DepthConfig } from './config';
import { trainDepth } from './task';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'depth-train-'));
const quiet = { log: () => undefined, progressStream: { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream, samples: 1 };

function tiny(out: string, patch: Partial<DepthConfig> = {}): DepthConfig {
  return {
    ...defaultDepthConfig,
    dataRoot: path.join(WORKSPACE_ROOT, 'datasets/nyudv2-mini'),
    width: 0.125,
    crop: 32,
    batch: 2,
    iters: 4,
    evalEvery: 0,
    evalLimit: 2,
    checkpointEvery: 1,
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

describe('trainDepth (ResNet-50 w0.125 + lateral decoder, WCE + VNL + GPL, wasm)', () => {
  it('keeps the tensor count flat per step; resumed after an interruption, ends bit for bit where an uninterrupted run ends', async () => {
    const counts: number[] = [];
    const full = await trainDepth(tiny('full'), { ...quiet, onStep: () => counts.push(tf.memory().numTensors) });
    expect(full.status).toBe('done');
    // Step 1 creates the momentum slots; afterwards nothing may accumulate.
    expect(counts.length).toBe(4);
    expect(new Set(counts.slice(1)).size).toBe(1);
    const cut = await trainDepth(tiny('cut'), { ...quiet, stopAfter: 2 });
    expect(cut).toMatchObject({ status: 'stopped', step: 2 });
    const resumed = await trainDepth(tiny('cut', { resume: true }), quiet);
    expect(resumed.step).toBe(4);
    expect(Buffer.compare(latestFile('full', 'weights.bin'), latestFile('cut', 'weights.bin'))).toBe(0);
    expect(Buffer.compare(latestFile('full', 'optimizer.bin'), latestFile('cut', 'optimizer.bin'))).toBe(0);
    expect(resumed.final!.pooled.absRel).toBe(full.final!.pooled.absRel);
    // metrics.csv: each step once with the same losses (the seconds column differs).
    const csv = (run: string) => fs.readFileSync(path.join(tmp, run, 'metrics.csv'), 'utf8').split('\n').map((l) => l.split(',').filter((_, i) => i !== 6).join(','));
    expect(csv('cut')).toEqual(csv('full'));
  });

  it('writes the run folder: config.json, metrics.csv with the three terms, checkpoints, plots, depth drawings', () => {
    const run = path.join(tmp, 'full');
    for (const f of ['config.json', 'metrics.csv', 'final.json', 'checkpoints/latest', 'checkpoints/best', 'plots/loss.png', 'plots/lr.png', 'plots/abs_rel.png', 'plots/delta1.png', 'samples/00000.png']) {
      expect({ f, exists: fs.existsSync(path.join(run, f)) }).toEqual({ f, exists: true });
    }
    const header = fs.readFileSync(path.join(run, 'metrics.csv'), 'utf8').split('\n')[0];
    expect(header).toBe('step,lr,loss,loss_wce,loss_vnl,loss_gpl,seconds,val_abs_rel,val_sq_rel,val_rms,val_rms_log,val_log10,val_d1,val_d2,val_d3,val_silog,val_abs_rel_per_image');
    const final = JSON.parse(fs.readFileSync(path.join(run, 'final.json'), 'utf8'));
    expect(final.step).toBe(4);
    expect(final.images).toBe(2);
    expect(final.pooled.absRel).toBeGreaterThan(0);
  });

  it('stops on a non-finite loss naming the step, leaving no run folder before the first good step', async () => {
    await expect(trainDepth(tiny('nan', { losses: ['wce'], percep: 'none' }), { ...quiet, nanAtStep: 0 })).rejects.toThrow(/loss is NaN at step 1: training stopped/);
    expect(fs.existsSync(path.join(tmp, 'nan', 'checkpoints'))).toBe(false);
  });
});

/**
 * The loop on a tiny fake task (a 1×1-convolution regressor on 8×8 in-memory images, two named
 * loss terms, a score the test controls), so every task inherits tested behaviour: steps and
 * cadence, exact resume, the NaN stop, best tagging, CSV columns from the term names, leaks and
 * the clean-up of a run that fails before its first step.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, resolveCheckpoint } from '@gpl/core';
import { normalize, type Sample, type SegmentationSample } from '@gpl/data';
import { arrayDataset } from '@gpl/data/testing';
import { NonFiniteLossError } from './errors';
import { train, type LoopConfig, type TaskSpec, type TrainOptions } from './train-loop';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-loop-'));
const quiet: TrainOptions = { log: () => undefined, progressStream: { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream };

function sample(i: number): SegmentationSample {
  const image = new Uint8Array(8 * 8 * 3).map((_, k) => (k * 7 + i * 31) % 256);
  const label = new Uint8Array(8 * 8).map((_, k) => (k + i) % 2);
  return { kind: 'segmentation', id: `s${i}`, image: { data: image, width: 8, height: 8, channels: 3 }, label: { data: label, width: 8, height: 8 } };
}

interface FakeInfo {
  readonly scores: number[];
}
interface FakeMetrics {
  readonly score: number;
  readonly meanWeight: number;
}

/** A fake task; `scores` are handed out one per evaluation (then repeat the last), so tests choose which evaluation is best. */
function fakeTask(scores: number[] = [0.5]): TaskSpec<LoopConfig, FakeInfo, FakeMetrics> {
  const queue = [...scores];
  return {
    name: 'fake',
    async openData() {
      return { train: arrayDataset(Array.from({ length: 6 }, (_, i) => sample(i))) as unknown as import('@gpl/data').Dataset<Sample>, transform: normalize(), info: { scores: queue } };
    },
    buildModel: (cfg) =>
      tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 1, activation: 'relu', kernelInitializer: tfl.initializers.glorotNormal({ seed: cfg.seed }) }),
          tfl.layers.dropout({ rate: 0.25 }),
          tfl.layers.conv2d({ filters: 1, kernelSize: 1, kernelInitializer: tfl.initializers.glorotNormal({ seed: cfg.seed + 1 }) }),
        ],
      }),
    perceptualChannels: () => 1,
    loss({ model, batch }) {
      const y = model.apply(batch.images, { training: true }) as tf.Tensor4D;
      const target = tf.expandDims(tf.cast(batch.labels!, 'float32'), 3);
      const loss_mse = tf.mean(tf.square(tf.sub(y, target))) as tf.Scalar;
      const loss_l1 = tf.mean(tf.abs(y)) as tf.Scalar;
      return { total: tf.add(loss_mse, tf.mul(loss_l1, 0.1)) as tf.Scalar, terms: { loss_mse, loss_l1 } };
    },
    async evaluate(model, _cfg, info) {
      const mean = tf.mean(model.getWeights()[0]);
      const meanWeight = (await mean.data())[0];
      mean.dispose();
      const score = info.scores.length > 1 ? info.scores.shift()! : info.scores[0];
      return { score, meanWeight };
    },
    metricRow: (m) => ({ val_score: m.score, val_mean_weight: m.meanWeight }),
    score: (m) => m.score,
    describe: (m) => `score ${m.score}`,
    checkpointState: () => ({ model: 'fake' }),
    metricPlots: [{ file: 'score.png', column: 'val_score', title: 'score', yLabel: 'score' }],
  };
}

function cfg(out: string, patch: Partial<LoopConfig> = {}): LoopConfig {
  return {
    batch: 2, iters: 4, lr: 0.05, polyPower: 0.9, momentum: 0.9, weightDecay: 1e-3, seed: 3, evalEvery: 2, checkpointEvery: 1,
    resume: false, out: path.join(tmp, out), percep: 'none', percepLambda: 0.1, percepKernel: 3, percepInit: 'he', percepLevels: 'final', ...patch,
  };
}

const latestFile = (run: string, file: string) => fs.readFileSync(path.join(resolveCheckpoint(path.join(tmp, run, 'checkpoints'))!, file));
const csv = (run: string) => fs.readFileSync(path.join(tmp, run, 'metrics.csv'), 'utf8');

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('train (engine loop on a fake task)', () => {
  it('runs the steps, evaluates on cadence and writes CSV columns from the term and metric names', async () => {
    const r = await train(fakeTask(), cfg('full'), quiet);
    expect(r).toMatchObject({ status: 'done', step: 4 });
    expect(r.history.map((h) => h.step)).toEqual([2, 4]);
    const lines = csv('full').trim().split('\n');
    expect(lines[0]).toBe('step,lr,loss,loss_mse,loss_l1,seconds,val_score,val_mean_weight');
    expect(lines.length).toBe(5);
    // total = mse + 0.1·l1 on every row.
    for (const line of lines.slice(1)) {
      const [, , loss, mse, l1] = line.split(',').map(Number);
      expect(loss).toBeCloseTo(mse + 0.1 * l1, 5);
    }
    for (const f of ['config.json', 'final.json', 'plots/loss.png', 'plots/lr.png', 'plots/score.png', 'checkpoints/latest', 'checkpoints/best']) {
      expect({ f, exists: fs.existsSync(path.join(tmp, 'full', f)) }).toEqual({ f, exists: true });
    }
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'full', 'final.json'), 'utf8'))).toMatchObject({ step: 4, val_score: 0.5 });
  });

  it('resumes after an interruption and ends bit for bit where the uninterrupted run ends (dropout included)', async () => {
    await train(fakeTask(), cfg('cut'), { ...quiet, stopAfter: 3 });
    expect(fs.existsSync(path.join(tmp, 'cut', 'final.json'))).toBe(false);
    const r = await train(fakeTask(), cfg('cut', { resume: true }), quiet);
    expect(r.step).toBe(4);
    expect(Buffer.compare(latestFile('full', 'weights.bin'), latestFile('cut', 'weights.bin'))).toBe(0);
    expect(Buffer.compare(latestFile('full', 'optimizer.bin'), latestFile('cut', 'optimizer.bin'))).toBe(0);
    const noSeconds = (text: string) => text.split('\n').map((l) => l.split(',').filter((_, i) => i !== 5).join(','));
    expect(noSeconds(csv('cut'))).toEqual(noSeconds(csv('full')));
  });

  it('tags best by the task score, not the latest evaluation', async () => {
    // Evaluations at steps 2, 4, 6: scores 0.9, 0.2, 0.4 → best stays at step 2.
    await train(fakeTask([0.9, 0.2, 0.4]), cfg('best', { iters: 6, checkpointEvery: 0 }), quiet);
    const root = path.join(tmp, 'best', 'checkpoints');
    expect(path.basename(resolveCheckpoint(root, 'best')!)).toBe('step-00000002');
    expect(path.basename(resolveCheckpoint(root, 'latest')!)).toBe('step-00000006');
  });

  it('refuses to overwrite a run without --resume, and to resume with other options', async () => {
    await expect(train(fakeTask(), cfg('full'), quiet)).rejects.toThrow('already holds checkpoints: pass --resume');
    await expect(train(fakeTask(), cfg('full', { resume: true, lr: 0.02 }), quiet)).rejects.toThrow('differs from this command in lr (0.05 there, 0.02 here)');
  });

  it('resumes from the newest intact checkpoint when the latest is damaged, and says which', async () => {
    await train(fakeTask(), cfg('damaged'), { ...quiet, stopAfter: 3 });
    const root = path.join(tmp, 'damaged', 'checkpoints');
    // keep 2: step-2 and step-3 remain; truncate step-3's weights.
    const bin = path.join(root, 'step-00000003', 'weights.bin');
    fs.writeFileSync(bin, fs.readFileSync(bin).subarray(0, 10));
    const lines: string[] = [];
    const r = await train(fakeTask(), cfg('damaged', { resume: true }), { ...quiet, log: (l) => lines.push(l) });
    expect(r.step).toBe(4);
    expect(lines.join('\n')).toMatch(/--resume: step-00000003 is damaged \(checkpoint: weights listed in .* need \d+ bytes, the \.bin files hold 10\.\); resuming from the newest intact checkpoint, step-00000002\./);
    expect(lines.join('\n')).toContain('at step 2/4');
    // Steps 3 and 4 are re-run from step 2: the result is the uninterrupted run's.
    expect(Buffer.compare(latestFile('full', 'weights.bin'), latestFile('damaged', 'weights.bin'))).toBe(0);
  });

  it('refuses --resume on a folder without checkpoints (a mistyped --out) and creates nothing', async () => {
    await expect(train(fakeTask(), cfg('typo', { resume: true }), quiet)).rejects.toThrow(/^\[fake\] --resume: .*typo holds no checkpoint .*; check --out, or drop --resume to start a new run\.$/);
    expect(fs.existsSync(path.join(tmp, 'typo'))).toBe(false);
  });

  it('warns when the loss climbs by orders of magnitude, naming --lr', async () => {
    const lines: string[] = [];
    const task = fakeTask();
    let k = 0;
    const exploding: typeof task = {
      ...task,
      loss(args) {
        const t = task.loss(args);
        const scale = 10 ** (3 * k++);
        return { total: tf.mul(t.total, scale) as tf.Scalar, terms: t.terms };
      },
    };
    await train(exploding, cfg('diverge', { iters: 3, evalEvery: 0, checkpointEvery: 0 }), { ...quiet, plots: false, log: (l) => lines.push(l) });
    const warnings = lines.filter((l) => l.includes('warning:'));
    expect(warnings.length).toBe(2);
    expect(warnings[0]).toMatch(/step 2: loss .* the loss at step 1 .*training is diverging; lower --lr \(now 0\.05\)\./);
  });

  it('stops on a non-finite loss keeping the last good checkpoint and the CSV up to it', async () => {
    const err = await train(fakeTask(), cfg('nan'), { ...quiet, nanAtStep: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as NonFiniteLossError).message).toMatch(/^\[fake\] loss is NaN at step 3: training stopped\. The last good checkpoint is .*step-00000002/);
    expect(path.basename(resolveCheckpoint(path.join(tmp, 'nan', 'checkpoints'))!)).toBe('step-00000002');
    expect(csv('nan').trim().split('\n').length).toBe(3);
  });

  it('leaves no run folder behind when it fails before the first step', async () => {
    await expect(train(fakeTask(), cfg('nan0'), { ...quiet, nanAtStep: 0 })).rejects.toThrow('The last good checkpoint is (none yet)');
    expect(fs.existsSync(path.join(tmp, 'nan0'))).toBe(false);
    await expect(train(fakeTask(), cfg('big', { batch: 7 }), quiet)).rejects.toThrow("[fake] option 'batch': 7 is more than the 6 training samples");
    expect(fs.existsSync(path.join(tmp, 'big'))).toBe(false);
  });

  it('keeps the number of tensors flat from step to step', async () => {
    const counts: number[] = [];
    const run = (out: string) => train(fakeTask(), cfg(out, { iters: 5, checkpointEvery: 0, evalEvery: 0 }), { ...quiet, plots: false, onStep: () => counts.push(tf.memory().numTensors) });
    await run('leak');
    expect(counts.length).toBe(5);
    // Step 1 creates the momentum slots; afterwards nothing may accumulate.
    expect(new Set(counts.slice(1)).size).toBe(1);
    // A whole run frees what it made (model, optimizer slots, batches): a second run ends where the first did.
    const after = tf.memory().numTensors;
    await run('leak2');
    expect(tf.memory().numTensors).toBe(after);
  });

  it('adds the perceptual term when the config asks for one (its input has the task channels)', async () => {
    let seen: number | undefined;
    const task = fakeTask();
    const withGpl: typeof task = {
      ...task,
      loss(args) {
        seen = args.lambda;
        expect(args.gpl?.describe().inChannels).toBe(1);
        return task.loss(args);
      },
    };
    await train(withGpl, cfg('gpl', { iters: 1, percep: '1,1,1,1,1', percepLambda: 0.3, evalEvery: 0 }), { ...quiet, plots: false });
    expect(seen).toBe(0.3);
  });
});

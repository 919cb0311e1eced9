import './setup';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  folderIOHandler,
  loadCheckpoint,
  resolveCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  type CheckpointWriter,
} from './checkpoint';
import { installGradientCompleteness } from './gradients';
import { Rng } from './rng';
import { seededTensor } from './testing';

const latestOf = (root: string) => resolveCheckpoint(root) ?? root;

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-ckpt-'));
}

function buildModel(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 2] });
  let x = tfl.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', dilationRate: 2, kernelInitializer: tfl.initializers.heNormal({ seed }) })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ momentum: 0.9 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU().apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers
    .conv2d({ filters: 3, kernelSize: 1, kernelInitializer: tfl.initializers.heNormal({ seed: seed + 1 }) })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** One SGD-momentum step on a batch drawn from `rng` (data order is part of the state). */
function trainStep(model: tfl.LayersModel, opt: tf.Optimizer, rng: Rng): void {
  const seed = rng.nextUint32();
  tf.tidy(() => {
    const x = seededTensor([2, 8, 8, 2], seed);
    const target = seededTensor([2, 8, 8, 3], seed + 1);
    opt.minimize(() => tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as tf.Tensor, target))) as tf.Scalar);
  });
}

function weightsOf(model: tfl.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  installGradientCompleteness();
});

describe('checkpoints', () => {
  it('5 steps, save, load into a fresh model and optimizer, 5 steps = 10 uninterrupted steps, bit for bit', async () => {
    const root = tmpDir();
    // Uninterrupted.
    const a = buildModel(7);
    const optA = tf.train.momentum(0.05, 0.9);
    const rngA = new Rng(3);
    for (let i = 0; i < 10; i++) trainStep(a, optA, rngA);

    // Interrupted after 5 steps; everything rebuilt from scratch before resuming.
    const b = buildModel(7);
    const optB = tf.train.momentum(0.05, 0.9);
    const rngB = new Rng(3);
    for (let i = 0; i < 5; i++) trainStep(b, optB, rngB);
    await saveCheckpoint(root, { model: b, optimizer: optB, state: { step: 5, rng: rngB.state() } });

    const c = buildModel(99); // different init: every value must come from the checkpoint
    const optC = tf.train.momentum(0.05, 0.9);
    const { state } = await restoreCheckpoint(latestOf(root), { model: c, optimizer: optC });
    expect(state.step).toBe(5);
    const rngC = new Rng(0);
    rngC.setState(state.rng as ReturnType<Rng['state']>);
    for (let i = 5; i < 10; i++) trainStep(c, optC, rngC);

    const wa = weightsOf(a);
    const wc = weightsOf(c);
    expect(wc.length).toBe(wa.length);
    wa.forEach((w, i) => expect(Buffer.from(wc[i].buffer).equals(Buffer.from(w.buffer))).toBe(true));
    // Without the momentum slots the result differs: the test can tell.
    const d = buildModel(99);
    const optD = tf.train.momentum(0.05, 0.9);
    await restoreCheckpoint(latestOf(root), { model: d });
    const rngD = new Rng(0);
    rngD.setState(state.rng as ReturnType<Rng['state']>);
    for (let i = 5; i < 10; i++) trainStep(d, optD, rngD);
    expect(weightsOf(d).some((w, i) => !Buffer.from(w.buffer).equals(Buffer.from(wa[i].buffer)))).toBe(true);
    [a, b, c, d].forEach((m) => m.dispose());
    [optA, optB, optC, optD].forEach((o) => o.dispose());
  });

  it('writes the standard tfjs format: tf.loadLayersModel reads it back with identical outputs', async () => {
    const root = tmpDir();
    const model = buildModel(1);
    const dir = await saveCheckpoint(root, { model, state: { step: 12 } });
    expect(path.basename(dir)).toBe('step-00000012');
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const loaded = await tfl.loadLayersModel(folderIOHandler(dir));
    const x = seededTensor([1, 8, 8, 2], 4);
    const y1 = model.predict(x) as tf.Tensor;
    const y2 = loaded.predict(x) as tf.Tensor;
    expect(Array.from(y2.dataSync())).toEqual(Array.from(y1.dataSync()));
    // model.save through the same handler works too.
    await model.save(folderIOHandler(path.join(root, 'exported')));
    expect(fs.existsSync(path.join(root, 'exported', 'model.json'))).toBe(true);
    tf.dispose([x, y1, y2]);
    model.dispose();
    loaded.dispose();
  });

  it('named variables round-trip, and a failure mid-write leaves the previous checkpoint intact', async () => {
    const root = tmpDir();
    const v = { w: tf.variable(tf.tensor([1, 2, 3])), b: tf.variable(tf.scalar(4)) };
    await saveCheckpoint(root, { variables: v, state: { step: 1 } });
    v.w.assign(tf.tensor([7, 8, 9]));
    // The writer dies half-way through the second file of the new checkpoint.
    let files = 0;
    const failing: CheckpointWriter = {
      async writeFile(file, data) {
        files++;
        if (files === 2) {
          fs.writeFileSync(file, typeof data === 'string' ? data.slice(0, data.length / 2) : data.slice(0, data.length / 2));
          throw new Error('disk full (simulated)');
        }
        fs.writeFileSync(file, data);
      },
    };
    await expect(saveCheckpoint(root, { variables: v, state: { step: 2 } }, { writer: failing })).rejects.toThrow('disk full');
    expect(path.basename(resolveCheckpoint(root)!)).toBe('step-00000001');
    expect(fs.readdirSync(root).sort()).toEqual(['latest', 'step-00000001']); // no half-written folder left
    const target = { w: tf.variable(tf.zeros([3])), b: tf.variable(tf.scalar(0)) };
    await restoreCheckpoint(latestOf(root), { variables: target });
    expect(Array.from(target.w.dataSync())).toEqual([1, 2, 3]);
    expect(target.b.dataSync()[0]).toBe(4);
    // Failing while the pointer is replaced: the old pointer (and checkpoint) still load.
    const failPointer: CheckpointWriter = {
      async writeFile(file, data) {
        if (/^\.?latest/.test(path.basename(file))) throw new Error('crash while updating latest (simulated)');
        fs.writeFileSync(file, data);
      },
    };
    await expect(saveCheckpoint(root, { variables: v, state: { step: 3 } }, { writer: failPointer })).rejects.toThrow('crash');
    const loaded = await loadCheckpoint(latestOf(root));
    expect(loaded.state.step).toBe(1);
    tf.dispose(loaded.variables!.map((t) => t.tensor));
    // A later good save moves the pointer.
    await saveCheckpoint(root, { variables: v, state: { step: 4 } });
    expect(path.basename(resolveCheckpoint(root)!)).toBe('step-00000004');
    tf.dispose([v.w, v.b, target.w, target.b]);
  });

  it('keeps the newest N step folders and anything a tag points at', async () => {
    const root = tmpDir();
    const v = { w: tf.variable(tf.tensor([1])) };
    await saveCheckpoint(root, { variables: v, state: { step: 1 } }, { tags: ['latest', 'best'] });
    for (let s = 2; s <= 5; s++) await saveCheckpoint(root, { variables: v, state: { step: s } }, { keep: 2 });
    expect(fs.readdirSync(root).sort()).toEqual(['best', 'latest', 'step-00000001', 'step-00000004', 'step-00000005']);
    v.w.dispose();
  });

  it('gives clear errors for missing or mismatched checkpoints', async () => {
    const root = tmpDir();
    await expect(loadCheckpoint(root)).rejects.toThrow(/is not a checkpoint folder \(no state.json\)/);
    const model = buildModel(1);
    await saveCheckpoint(root, { model, state: { step: 1 } });
    const other = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [3] })] });
    await expect(restoreCheckpoint(latestOf(root), { model: other })).rejects.toThrow(/holds 8 model weight tensors, the target has 2/);
    fs.writeFileSync(path.join(resolveCheckpoint(root)!, 'weights.bin'), Buffer.alloc(10));
    await expect(loadCheckpoint(latestOf(root))).rejects.toThrow(/need \d+ bytes, the .bin files hold 10/);
    model.dispose();
    other.dispose();
  });

  it('does not leak tensors across save/restore cycles', async () => {
    const root = tmpDir();
    const model = buildModel(1);
    const opt = tf.train.momentum(0.1, 0.9);
    trainStep(model, opt, new Rng(1));
    await saveCheckpoint(root, { model, optimizer: opt, state: { step: 1 } });
    await restoreCheckpoint(latestOf(root), { model });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await saveCheckpoint(root, { model, optimizer: opt, state: { step: 2 + i } });
      await restoreCheckpoint(latestOf(root), { model });
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    opt.dispose();
  });
});

/**
 * Soft-label generation on the embedded Cityscapes mini dataset with a small per-pixel teacher
 * (1×1 convolutions, so the expected probabilities can be recomputed independently): file
 * contents, block averaging at the output stride, sharding, resuming, and refusals.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, saveCheckpoint } from '@gpl/core';
import { IMAGENET_MEAN, IMAGENET_STD, normalizeImage, readSoftLabels, verifyManifest, type Dataset, type SegmentationSample, type SoftLabelManifest } from '@gpl/data';
import { cityscapesDataset } from '@gpl/cityscapes';
import { generateSoftLabels, parseShard, softLabelsOf } from './generate';

const readManifest = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as SoftLabelManifest;

const ROOT = path.resolve(__dirname, '../../../datasets/cityscapes-mini');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'teacher-gen-'));
const quiet = { log: () => undefined, progressStream: { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream };

let ds: Dataset<SegmentationSample>;

function pixelModel(classes: number, seed: number): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [null, null, 3], filters: 8, kernelSize: 1, activation: 'relu', kernelInitializer: tfl.initializers.glorotNormal({ seed }) }),
      tfl.layers.conv2d({ filters: classes, kernelSize: 1, kernelInitializer: tfl.initializers.glorotNormal({ seed: seed + 1 }), biasInitializer: 'zeros' }),
    ],
  });
}

async function teacherCheckpoint(name: string, classes: number, state: Record<string, unknown>): Promise<{ dir: string; model: tfl.LayersModel }> {
  const model = pixelModel(classes, 3);
  const root = path.join(tmp, name, 'checkpoints');
  await saveCheckpoint(root, { model, state: { step: 10, numClasses: classes, ...state } }, { tags: ['latest', 'best'] });
  return { dir: path.join(tmp, name), model };
}

const files = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.gplsoft')).sort();

let teacher: { dir: string; model: tfl.LayersModel };

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  ds = await cityscapesDataset.open(ROOT, 'train');
  teacher = await teacherCheckpoint('teacher', 19, { model: 'pixel-19', dataset: 'cityscapes' });
});

afterAll(() => {
  teacher.model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const base = () => ({ checkpoint: teacher.dir, dataset: 'cityscapes', dataRoot: ROOT, split: 'train', ds, stride: 8, ...quiet });

describe('softLabelsOf', () => {
  it('is the softmax of the logits averaged over stride×stride blocks', async () => {
    const s = await ds.get(0);
    const full = softLabelsOf(teacher.model, s, 1);
    const coarse = softLabelsOf(teacher.model, s, 8);
    expect([full.height, full.width, full.channels]).toEqual([128, 256, 19]);
    expect([coarse.height, coarse.width, coarse.channels]).toEqual([16, 32, 19]);
    // Independent softmax of the model's logits at one pixel.
    const img = normalizeImage(s.image, IMAGENET_MEAN, IMAGENET_STD);
    const logits = tf.tidy(() => (teacher.model.predict(tf.tensor4d(img.data as Float32Array, [1, 128, 256, 3])) as tf.Tensor).dataSync());
    const at = (y: number, x: number, c: number) => {
      const o = (y * 256 + x) * 19;
      const m = Math.max(...Array.from(logits.subarray(o, o + 19)));
      let z = 0;
      for (let k = 0; k < 19; k++) z += Math.exp(logits[o + k] - m);
      return Math.exp(logits[o + c] - m) / z;
    };
    expect(full.data[(37 * 256 + 101) * 19 + 4]).toBeCloseTo(at(37, 101, 4), 5);
    // Block (2, 5) covers rows 16..23 and columns 40..47.
    for (const c of [0, 7, 18]) {
      let mean = 0;
      for (let y = 16; y < 24; y++) for (let x = 40; x < 48; x++) mean += at(y, x, c) / 64;
      expect(coarse.data[(2 * 32 + 5) * 19 + c]).toBeCloseTo(mean, 5);
    }
    let sum = 0;
    for (let c = 0; c < 19; c++) sum += coarse.data[(9 * 32 + 30) * 19 + c];
    expect(sum).toBeCloseTo(1, 5);
  });
});

describe('generateSoftLabels', () => {
  it('writes one 8-bit file per sample and, last, a manifest with shapes and checksums', async () => {
    const out = path.join(tmp, 'all');
    const r = await generateSoftLabels({ ...base(), out });
    expect(r).toMatchObject({ written: 48, skipped: 0, complete: true });
    expect(files(out).length).toBe(48);
    const m = readManifest(out);
    expect(m).toMatchObject({ format: 'gpl-soft-labels/1', model: 'pixel-19', dataset: 'cityscapes', split: 'train', numClasses: 19, stride: 8, encoding: 'uint8' });
    expect(m.classNames).toEqual(ds.classNames);
    expect(Object.keys(m.files).length).toBe(48);
    const s = await ds.get(5);
    expect(m.files[s.id]).toMatchObject({ file: `${s.id}.gplsoft`, height: 16, width: 32, channels: 19 });
    expect(verifyManifest(out, readManifest(out))).toEqual([]);
    // The stored values are the probabilities quantised to 1/255.
    const stored = await readSoftLabels(out, s.id);
    const exact = softLabelsOf(teacher.model, s, 8);
    let worst = 0;
    for (let i = 0; i < exact.data.length; i++) worst = Math.max(worst, Math.abs(stored.data[i] - exact.data[i]));
    expect(worst).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    // A corrupted file is caught by its checksum.
    const victim = path.join(out, m.files[s.id].file);
    const bytes = fs.readFileSync(victim);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(victim, bytes);
    expect(verifyManifest(out, readManifest(out))).toEqual([s.id]);
  });

  it('splits the work by shard: no manifest until every shard is done, then the same files as one process', async () => {
    const out = path.join(tmp, 'sharded');
    const first = await generateSoftLabels({ ...base(), out, shard: { index: 0, count: 2 } });
    expect(first).toMatchObject({ written: 24, complete: false });
    expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(false);
    const second = await generateSoftLabels({ ...base(), out, shard: { index: 1, count: 2 } });
    expect(second).toMatchObject({ written: 24, skipped: 0, complete: true });
    const one = readManifest(path.join(tmp, 'all'));
    const two = readManifest(out);
    // Same bytes for every sample (the 'all' folder had one file corrupted after its manifest: compare manifests).
    for (const id of Object.keys(one.files)) expect(two.files[id].sha256).toBe(one.files[id].sha256);
  });

  it('resumes where it stopped and regenerates a truncated file', async () => {
    const out = path.join(tmp, 'resume');
    const cut = await generateSoftLabels({ ...base(), out, limit: 5 });
    expect(cut).toMatchObject({ written: 5, complete: false });
    const names = files(out);
    expect(names.length).toBe(5);
    fs.writeFileSync(path.join(out, names[2]), fs.readFileSync(path.join(out, names[2])).subarray(0, 30));
    const rest = await generateSoftLabels({ ...base(), out });
    expect(rest).toMatchObject({ written: 44, skipped: 4, complete: true });
    expect(verifyManifest(out, readManifest(out))).toEqual([]);
    expect(fs.readdirSync(out).filter((f) => f.includes('.tmp')).length).toBe(0);
  });

  it('refuses to mix generations in one folder, and teachers of another dataset or class count', async () => {
    const out = path.join(tmp, 'resume');
    await expect(generateSoftLabels({ ...base(), out, stride: 4 })).rejects.toThrow(/holds soft labels of another generation \(stride: 8 there, 4 here\)/);
    const five = await teacherCheckpoint('five', 5, { model: 'pixel-5', dataset: 'cityscapes' });
    await expect(generateSoftLabels({ ...base(), checkpoint: five.dir, out: path.join(tmp, 'x') })).rejects.toThrow(/predicts 5 classes, .* has 19/);
    five.model.dispose();
    const voc = await teacherCheckpoint('voc', 19, { model: 'pixel-19', dataset: 'voc' });
    await expect(generateSoftLabels({ ...base(), checkpoint: voc.dir, out: path.join(tmp, 'y') })).rejects.toThrow("was trained on 'voc', not 'cityscapes'");
    voc.model.dispose();
    await expect(generateSoftLabels({ ...base(), checkpoint: path.join(tmp, 'nothing'), out: path.join(tmp, 'z') })).rejects.toThrow(/nothing: does not exist .* Train a teacher first: npx nx run teacher:train/);
  });

  it('parses --shard i/n and rejects anything else', () => {
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    for (const bad of ['4/4', '1', 'a/b', '-1/2', '0/0']) expect(() => parseShard(bad)).toThrow(/expected 'i\/n' with 0 ≤ i < n/);
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await generateSoftLabels({ ...base(), out: path.join(tmp, 'leak'), limit: 3 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

/**
 * `--pretrained` for the seg models: an encoder state dict in mmseg's names (a ResNetV1c with its
 * deep stem, keys prefixed `backbone.` as mmseg saves them, plus a decode head the import leaves
 * alone) goes into the PSPNet encoder and logs its table; a torchvision ResNet (7×7 stem, written
 * by PyTorch) is refused naming the first missing weight, and the run leaves nothing behind.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gpl/core';
import { defaultSegConfig, type SegConfig } from './config';
import { createSegModel, modelEntry } from './models';
import { trainSeg as train } from './task';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seg-pretrained-'));
const quiet = { log: () => undefined, progressStream: { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream, samples: 0, plots: false };

const tiny = (out: string, patch: Partial<SegConfig> = {}): SegConfig => ({
  ...defaultSegConfig,
  dataRoot: path.join(WORKSPACE_ROOT, 'datasets/cityscapes-mini'),
  width: 0.125,
  crop: [64, 64],
  batch: 2,
  iters: 1,
  evalEvery: 0,
  checkpointEvery: 0,
  softLabels: '',
  percep: 'none',
  out: path.join(tmp, out),
  backend: 'wasm',
  ...patch,
});

/** A safetensors file of `model`'s encoder in PyTorch's names and layout (OIHW), prefixed like an mmseg checkpoint. */
function writeEncoderStateDict(file: string, model: import('@tensorflow/tfjs-layers').LayersModel, name: string): Map<string, Float32Array> {
  const { encoder } = modelEntry(name);
  const header: Record<string, unknown> = {};
  const blobs: Buffer[] = [];
  const values = new Map<string, Float32Array>();
  let offset = 0;
  const add = (key: string, shape: number[], data: Float32Array) => {
    header[key] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    blobs.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    offset += data.byteLength;
  };
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const key = `${layer.name}/${w.originalName.split('/').pop()}`;
      if (!encoder.isEncoderWeight(key)) continue;
      const t = w.read();
      values.set(key, t.dataSync() as Float32Array);
      const oihw = t.rank === 4 ? tf.transpose(t, [3, 2, 0, 1]) : t;
      add(`backbone.${encoder.toTorchName(key)}`, oihw.shape, Float32Array.from(oihw.dataSync()));
      if (oihw !== t) oihw.dispose();
    }
  }
  add('decode_head.conv_seg.weight', [19, 8, 1, 1], new Float32Array(19 * 8));
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, ...blobs]));
  return values;
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('seg --pretrained', () => {
  it('imports an mmseg-style encoder state dict into PSPNet-R18 and logs the table', async () => {
    // The source: a PSPNet-R18 built with another seed, its encoder saved in PyTorch's names.
    const source = createSegModel('pspnet-r18', { numClasses: 19, width: 0.125, seed: 99 });
    const file = path.join(tmp, 'resnet18_v1c.safetensors');
    const want = writeEncoderStateDict(file, source, 'pspnet-r18');
    source.dispose();
    const lines: string[] = [];
    const r = await train(tiny('ok', { pretrained: file, lr: 0 }), { ...quiet, log: (l: string) => lines.push(l) });
    expect(r.status).toBe('done');
    const log = lines.join('\n');
    expect(log).toMatch(/pretrained: 110 encoder weights from .*resnet18_v1c\.safetensors \(keys prefixed 'backbone\.'\); \d+ weights outside the encoder keep their initialisation/);
    expect(log).toMatch(/1 skipped: outside 'backbone\.' \(not the backbone\)/);
    // 110 = the deep stem's 3 convolutions and BatchNorms + 8 basic blocks (+ a downsample in 3 stages), 5 weights per conv+BN pair.
    // With lr 0 one step leaves the kernels as imported: the checkpoint holds the source's stem.
    const ck = path.join(tmp, 'ok', 'checkpoints');
    const { loadCheckpoint, resolveCheckpoint } = await import('@gpl/core');
    const loaded = await loadCheckpoint(resolveCheckpoint(ck)!);
    const specs = loaded.modelArtifacts!.weightSpecs!;
    const map = tf.io.decodeWeights(loaded.modelArtifacts!.weightData!, specs);
    const stem = Object.entries(map).find(([n]) => n.startsWith('stem.0/kernel'))![1];
    expect(Array.from(stem.dataSync())).toEqual(Array.from(want.get('stem.0/kernel')!));
    tf.dispose(Object.values(map));
  });

  it('refuses a torchvision ResNet (7×7 stem) for PSPNet’s deep-stem encoder, naming the first missing weight', async () => {
    const file = path.join(tmp, 'resnet18-w8.pth');
    fs.writeFileSync(file, zlib.gunzipSync(fs.readFileSync(path.join(WORKSPACE_ROOT, 'packages/weights/src/fixtures/resnet18-w8.pth.gz'))));
    await expect(train(tiny('tv', { pretrained: file }), quiet)).rejects.toThrow(
      /^\[seg\] option 'pretrained': .*resnet18-w8\.pth lacks \d+ of \d+ encoder weights, first stem\.0\.weight \(for stem\.0\/kernel\)\. It must be an mmseg ResNetV1c-18 state dict/,
    );
    expect(fs.existsSync(path.join(tmp, 'tv'))).toBe(false);
  });
});

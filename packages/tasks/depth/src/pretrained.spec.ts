/**
 * `depth --pretrained`: a torchvision-layout ResNet-50 state dict (written here as safetensors
 * from a second, differently seeded encoder, so every value is known) becomes the encoder of
 * the depth network, the decoder keeps its initialisation, the run log gets the match table,
 * and a file of another width is refused naming the first weight that does not fit.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gpl/core';
import { createResNet, isResNetLayer, toPyTorchName } from '@gpl/resnet';
import { encodeSafetensors, readWeightFile } from '@gpl/weights';
import * as tfl from '@tensorflow/tfjs-layers';
import { DepthBins } from './bins';
import { defaultDepthConfig } from './config';
import { depthTask, type DepthInfo } from './task';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'depth-pretrained-'));

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A ResNet-50 encoder at `width` as PyTorch would save it (OIHW kernels, BN running statistics). */
function torchEncoderFile(file: string, width: number, seed: number): Map<string, Float32Array> {
  const encoder = createResNet('resnet50', { outputStride: 16, widthMultiplier: width, seed });
  const input = tfl.input({ shape: [32, 32, 3] });
  const model = tfl.model({ inputs: input, outputs: encoder.build(input).c5 as tfl.SymbolicTensor });
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const byTfName = new Map<string, Float32Array>();
  for (const w of model.weights) {
    const value = w.read();
    // Keep BN statistics away from their defaults so an unimported statistic would show.
    const shifted = tf.tidy(() => (w.originalName.endsWith('moving_variance') ? tf.add(value, 0.5) : tf.add(value, 0.01)));
    const torch = tf.tidy(() => (shifted.rank === 4 ? tf.transpose(shifted, [3, 2, 0, 1]) : shifted.clone()));
    byTfName.set(w.originalName, shifted.dataSync() as Float32Array);
    tensors.set(toPyTorchName(w.originalName), { shape: torch.shape, data: torch.dataSync() as Float32Array });
    tf.dispose([shifted, torch]);
  }
  model.dispose();
  fs.writeFileSync(file, encodeSafetensors(tensors));
  return byTfName;
}

describe('depth --pretrained', () => {
  const bins = new DepthBins();
  const cfg = { ...defaultDepthConfig, out: path.join(tmp, 'run'), width: 0.125 };
  const infoWith = (file: string) => ({ bins, pretrained: readWeightFile(file) }) as unknown as DepthInfo;

  it('imports every encoder weight from a torchvision-layout file and leaves the decoder as initialised', () => {
    const file = path.join(tmp, 'resnet50-w0.125.safetensors');
    const expected = torchEncoderFile(file, 0.125, 77);
    const lines: string[] = [];
    const model = depthTask.buildModel(cfg, infoWith(file), (l) => lines.push(l)) as tfl.LayersModel;
    const scratch = depthTask.buildModel(cfg, { bins } as unknown as DepthInfo) as tfl.LayersModel;
    const encoderWeights = model.weights.filter((w) => isResNetLayer(w.originalName.slice(0, w.originalName.lastIndexOf('/'))));
    expect(encoderWeights.length).toBe(expected.size);
    for (const w of encoderWeights) expect(Array.from(w.read().dataSync())).toEqual(Array.from(expected.get(w.originalName)!));
    // The decoder is the from-scratch model's, value for value.
    const scratchByName = new Map(scratch.weights.map((w) => [w.originalName, w]));
    const decoder = model.weights.filter((w) => !expected.has(w.originalName));
    expect(decoder.length).toBeGreaterThan(10);
    for (const w of decoder) expect(Array.from(w.read().dataSync())).toEqual(Array.from(scratchByName.get(w.originalName)!.read().dataSync()));
    expect(lines.join('\n')).toMatch(new RegExp(`^pretrained: ${expected.size} encoder weights from .*resnet50-w0\\.125\\.safetensors; ${decoder.length} weights outside the encoder keep their initialisation`));
    model.dispose();
    scratch.dispose();
  });

  it('refuses a file of another width, naming the weight, its shape and the expected source', () => {
    const file = path.join(tmp, 'resnet50-w0.25.safetensors');
    torchEncoderFile(file, 0.25, 3);
    const before = tf.memory().numTensors;
    expect(() => depthTask.buildModel(cfg, infoWith(file))).toThrow(
      /^\[depth\] option 'pretrained': .*resnet50-w0\.25\.safetensors: 'conv1\.weight' does not fit conv1\/kernel: \[16,3,7,7\] \(OIHW\) becomes \[7,7,3,16\], the model has \[7,7,3,8\]\. It must be a torchvision-layout resnet50 state dict at width 0\.125/,
    );
    // The refused model was disposed (and the import ran without a log to write to).
    expect(tf.memory().numTensors).toBe(before);
  });
});

/**
 * The pretrained mode on torchvision's layouts. VGG11, ResNet-18 and AlexNet: a state dict drawn
 * from the integer formula of tools/torch/pretrained_reference.py (so no weight file is needed),
 * imported with BatchNorm folded in; fed RGB directly (no adapter), the final tapped features
 * equal PyTorch's (float32 tolerance), and so does the loss of an identity adapter. GoogLeNet and MobileNetV2: every torchvision key
 * the import reads, spot-checked against torchvision's published names and shapes. Refusals name
 * the missing or misshapen key; the loss itself runs on both engines behind the adapter.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gpl/core';
import { GenericPerceptualLoss } from './loss';
import { FrozenNetwork } from './network';
import { pretrainedNetwork, torchvisionKeys, type StateDict } from './pretrained';
import { familySpec } from './spec';

const reference = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'torchvision-pretrained.json'), 'utf8')) as {
  cases: Record<string, { keys: [string, number[]][]; shape_nhwc: number[]; picks: number[]; values: number[]; sum: number; sum_sq: number }>;
};

const MODULUS = 65521;
const pattern = (count: number, salt: number) => Float64Array.from({ length: count }, (_, k) => ((k * 7919 + salt * 104729 + 12345) % MODULUS) / MODULUS - 0.5);

/** The formula state dict of tools/torch/pretrained_reference.py. */
function formulaStateDict(keys: [string, number[]][]): Map<string, { shape: number[]; data: Float32Array }> {
  const dict = new Map<string, { shape: number[]; data: Float32Array }>();
  keys.forEach(([name, shape], salt) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const p = pattern(n, salt);
    let v: Float64Array;
    if (name.endsWith('running_var')) v = p.map((x) => 1 + (x + 0.5));
    else if (name.endsWith('running_mean') || name.endsWith('bias')) v = p.map((x) => 0.1 * x);
    else if (shape.length === 1) v = p.map((x) => 1 + 0.4 * x);
    else {
      const scale = Math.sqrt(24 / (n / shape[0]));
      v = p.map((x) => x * scale);
    }
    dict.set(name, { shape, data: Float32Array.from(v) });
  });
  return dict;
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('pretrained: torchvision weights into the loss network', () => {
  it.each(['vgg11', 'resnet18', 'alexnet'] as const)('%s computes PyTorch’s features (BatchNorm folded)', (preset) => {
    const ref = reference.cases[preset];
    // Without the adapter (rgbInput): the network sees the RGB input itself.
    const { spec, supplied } = pretrainedNetwork(preset, 3, formulaStateDict(ref.keys), { kind: 'he' }, 1, false);
    expect(spec.nodes[1].name).not.toBe('adapter');
    const net = new FrozenNetwork(spec, supplied);
    const nchw = pattern(3 * 64 * 64, 1).map((v) => v + 0.5);
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(Float32Array.from(nchw), [1, 3, 64, 64]), [0, 2, 3, 1])) as tf.Tensor4D;
    const final = spec.taps[spec.taps.length - 1];
    const out = net.forward(x, [final], false).get(final)!;
    expect(out.shape).toEqual(ref.shape_nhwc);
    const y = out.dataSync();
    const scale = Math.sqrt(ref.sum_sq / y.length);
    ref.picks.forEach((p, i) => expect(Math.abs(y[p] - ref.values[i]) / scale).toBeLessThan(1e-4));
    const sum = Array.from(y).reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - ref.sum) / (scale * y.length)).toBeLessThan(1e-5);
    net.dispose();
    tf.dispose([x, out]);
  });

  it('reads GoogLeNet’s and MobileNetV2’s torchvision names', () => {
    const names = (family: 'googlenet' | 'mobilenetv2') => {
      const spec = familySpec(family, 3);
      const keys = torchvisionKeys(spec, family);
      return new Map([...keys].map(([i, k]) => [spec.nodes[i].name, k]));
    };
    const g = names('googlenet');
    expect(g.get('conv1')).toEqual({ weight: 'conv1.conv.weight', bn: 'conv1.bn' });
    expect(g.get('inception3a.branch2.1')).toEqual({ weight: 'inception3a.branch2.1.conv.weight', bn: 'inception3a.branch2.1.bn' });
    expect(g.get('inception5b.branch4.1')).toEqual({ weight: 'inception5b.branch4.1.conv.weight', bn: 'inception5b.branch4.1.bn' });
    expect(g.size).toBe(3 + 9 * 6);
    const m = names('mobilenetv2');
    // torchvision: features.0.0 (conv) / .0.1 (bn); block 1 (no expansion): conv.0.0 dw, conv.1 project, conv.2 bn.
    expect(m.get('features.0')).toEqual({ weight: 'features.0.0.weight', bn: 'features.0.1' });
    expect(m.get('features.1.depthwise')).toEqual({ weight: 'features.1.conv.0.0.weight', bn: 'features.1.conv.0.1' });
    expect(m.get('features.1.project')).toEqual({ weight: 'features.1.conv.1.weight', bn: 'features.1.conv.2' });
    expect(m.get('features.17.expand')).toEqual({ weight: 'features.17.conv.0.0.weight', bn: 'features.17.conv.0.1' });
    expect(m.get('features.17.depthwise')).toEqual({ weight: 'features.17.conv.1.0.weight', bn: 'features.17.conv.1.1' });
    expect(m.get('features.17.project')).toEqual({ weight: 'features.17.conv.2.weight', bn: 'features.17.conv.3' });
    expect(m.get('features.18')).toEqual({ weight: 'features.18.0.weight', bn: 'features.18.1' });
    expect(m.size).toBe(52);
  });

  it('refuses a missing or misshapen key, a _bn VGG and a family without torchvision weights, naming them', () => {
    const dict = formulaStateDict(reference.cases.alexnet.keys);
    const without = new Map(dict);
    without.delete('features.8.weight');
    expect(() => pretrainedNetwork('alexnet', 5, without, { kind: 'he' }, 1)).toThrow("[@gpl/loss] pretrained: the state dict lacks 'features.8.weight' (for conv4).");
    const wrong = new Map(dict);
    wrong.set('features.3.weight', { shape: [192, 64, 3, 3], data: new Float32Array(192 * 64 * 9) });
    expect(() => pretrainedNetwork('alexnet', 5, wrong, { kind: 'he' }, 1)).toThrow("'features.3.weight' (for conv2) has shape [192,64,3,3], torchvision's alexnet has [192,64,5,5].");
    const bnVgg: StateDict = new Map([['features.0.weight', { shape: [64, 3, 3, 3], data: new Float32Array(1728) }], ['features.1.running_mean', { shape: [64], data: new Float32Array(64) }]]);
    expect(() => pretrainedNetwork('vgg16', 5, bnVgg, { kind: 'he' }, 1)).toThrow("torchvision's vgg16_bn");
    expect(() => pretrainedNetwork('resnet18', 5, new Map([['x', { shape: [1], data: new Float32Array(1) }]]), { kind: 'he' }, 1)).toThrow("the state dict has no 'conv1.weight' (its keys begin x, …)");
    const prefixed = new Map([...dict].map(([k, v]) => [`module.${k}`, v]));
    const r = pretrainedNetwork('alexnet', 2, prefixed, { kind: 'he' }, 1);
    tf.dispose(r.supplied.flatMap((w) => (w ? [w.kernel, ...(w.bias ? [w.bias] : [])] : [])));
  });

  it('runs as a loss behind the adapter, with the same value on both engines where onnxruntime loads', () => {
    const dict = formulaStateDict(reference.cases.alexnet.keys);
    const pred = tf.softmax(tf.randomNormal([1, 64, 64, 4], 0, 1, 'float32', 1)) as tf.Tensor4D;
    const target = tf.softmax(tf.randomNormal([1, 64, 64, 4], 0, 1, 'float32', 2)) as tf.Tensor4D;
    const tfjs = new GenericPerceptualLoss({ inChannels: 4, preset: 'alexnet', pretrained: dict, seed: 3, engine: 'tfjs' });
    expect(tfjs.describe().init).toBe('pretrained (torchvision)');
    expect(tfjs.spec.nodes[1].name).toBe('adapter');
    const a = tfjs.compute(pred, target).dataSync()[0];
    expect(a).toBeGreaterThan(0);
    const auto = new GenericPerceptualLoss({ inChannels: 4, preset: 'alexnet', pretrained: dict, seed: 3, engine: 'auto' });
    expect(Math.abs(auto.compute(pred, target).dataSync()[0] - a) / a).toBeLessThan(2e-5);
    expect(() => new GenericPerceptualLoss({ inChannels: 4, blocks: [1, 1], pretrained: dict, engine: 'tfjs' })).toThrow("'pretrained' takes a preset");
    tfjs.dispose();
    auto.dispose();
    tf.dispose([pred, target]);
  });

  it('takes RGB images without the adapter (rgbInput): the identity adapter’s loss, on both engines', () => {
    const dict = formulaStateDict(reference.cases.alexnet.keys);
    const pred = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const target = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const rgb = new GenericPerceptualLoss({ inChannels: 3, preset: 'alexnet', pretrained: dict, rgbInput: true, engine: 'tfjs' });
    expect(rgb.spec.nodes.map((n) => n.name)).not.toContain('adapter');
    // The same network behind an identity adapter computes the same loss.
    const { spec, supplied } = pretrainedNetwork('alexnet', 3, dict, { kind: 'he' }, 1);
    supplied[1]!.kernel.dispose();
    supplied[1] = { kernel: tf.tensor4d([1, 0, 0, 0, 1, 0, 0, 0, 1], [1, 1, 3, 3]), bias: null };
    const identity = new FrozenNetwork(spec, supplied);
    const final = spec.taps[spec.taps.length - 1];
    const expected = tf.tidy(() => {
      const a = identity.forward(pred, [final], false).get(final)!;
      const b = identity.forward(target, [final], false).get(final)!;
      return tf.mean(tf.square(tf.sub(a, b))).dataSync()[0];
    });
    const value = rgb.compute(pred, target).dataSync()[0];
    expect(Math.abs(value - expected) / expected).toBeLessThan(1e-5);
    const auto = new GenericPerceptualLoss({ inChannels: 3, preset: 'alexnet', pretrained: dict, rgbInput: true, engine: 'auto' });
    expect(Math.abs(auto.compute(pred, target).dataSync()[0] - value) / value).toBeLessThan(2e-5);
    expect(() => new GenericPerceptualLoss({ inChannels: 4, preset: 'alexnet', pretrained: dict, rgbInput: true, engine: 'tfjs' })).toThrow("'rgbInput' feeds the network RGB images directly; it needs inChannels 3, received 4.");
    expect(() => new GenericPerceptualLoss({ inChannels: 3, preset: 'vgg11', rgbInput: true, engine: 'tfjs' })).toThrow("'rgbInput' feeds RGB images to a pretrained network");
    identity.dispose();
    rgb.dispose();
    auto.dispose();
    tf.dispose([pred, target]);
  });
});

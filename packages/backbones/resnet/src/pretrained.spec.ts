/**
 * PyTorch files into the ResNet encoder: a reduced-width torchvision-layout ResNet-18 saved by
 * PyTorch (tools/torch/weights_fixtures.py) as torch.save, safetensors, float16, bfloat16 and an
 * mmseg checkpoint. After the import the tfjs encoder's c5 equals PyTorch's layer4 output on the
 * same input; a file for another width or depth is refused naming the first mismatch, and leaves
 * the model untouched.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { formatStateDictReport } from '@gpl/core';
import { buildResNetModel, createResNet } from './resnet';
import { loadBackboneWeights } from './weights';

const FIXTURES = path.resolve(__dirname, '../../../weights/src/fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resnet-pretrained-'));
const fixture = (name: string) => {
  const out = path.join(tmp, name);
  if (!fs.existsSync(out)) fs.writeFileSync(out, zlib.gunzipSync(fs.readFileSync(path.join(FIXTURES, `${name}.gz`))));
  return out;
};
const reference = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reference.json'), 'utf8'));

/** The fixture input, ((i·7919) mod 251)/251 − 0.5 over the NCHW index, as NHWC. */
function patternInput(): tf.Tensor4D {
  const [n, c, h, w] = reference.input.shape as number[];
  const nchw = Float32Array.from({ length: n * c * h * w }, (_, i) => ((i * 7919) % 251) / 251 - 0.5);
  return tf.tidy(() => tf.transpose(tf.tensor4d(nchw, [n, c, h, w]), [0, 2, 3, 1]));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const encoder = (name: 'resnet18' | 'resnet34' = 'resnet18', width = 0.125) => buildResNetModel(createResNet(name, { widthMultiplier: width }));

describe('loadBackboneWeights from PyTorch files', () => {
  it.each([
    ['resnet18-w8.pth', 'float32', ''],
    ['resnet18-w8.safetensors', 'float32', ''],
    ['resnet18-w8-fp16.safetensors', 'float16', ''],
    ['resnet18-w8-bf16.pth', 'bfloat16', ''],
    ['resnet18-w8-mmseg.pth', 'float32', 'backbone.'],
  ])('%s: the encoder then computes what PyTorch computed', async (file, dtype, prefix) => {
    const model = encoder();
    const report = await loadBackboneWeights(model, fixture(file));
    expect(report.stateDict!.prefix).toBe(prefix);
    expect(report.loaded.length).toBe(100); // 20 convolutions + 20 BatchNorms × 4
    expect(new Set(report.stateDict!.loaded.map((r) => r.dtype))).toEqual(new Set([dtype]));
    const why = new Set(report.stateDict!.skipped.map((s) => s.why));
    expect([...why].some((w) => w.startsWith('not in this model'))).toBe(true); // fc.weight, fc.bias
    const x = patternInput();
    const c5 = (model.predict(x) as tf.Tensor[])[4];
    const got = tf.transpose(c5, [0, 3, 1, 2]).dataSync();
    const want = reference[dtype].values as number[];
    expect(got.length).toBe(want.length);
    const err = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
    const scale = Math.max(...want.map(Math.abs));
    expect(err / scale).toBeLessThan(1e-5);
    tf.dispose([x, c5]);
    model.dispose();
  });

  it('prints a table of what matched and what was skipped and why', async () => {
    const model = encoder();
    const report = await loadBackboneWeights(model, fixture('resnet18-w8-mmseg.pth'));
    const table = formatStateDictReport(report.stateDict!, 3);
    expect(table).toMatch(/^pretrained: 100 encoder weights from .*resnet18-w8-mmseg\.pth \(keys prefixed 'backbone\.'\); 0 weights outside the encoder keep their initialisation/);
    expect(table).toMatch(/\n {2}backbone\.conv1\.weight +→ conv1\/kernel {2}\[7×7×3×8\] float32\n/);
    expect(table).toContain('… 97 more');
    expect(table).toMatch(/20 skipped: BatchNorm step counter \(no counterpart\)/);
    expect(table).toMatch(/1 skipped: outside 'backbone\.' \(not the backbone\) \(e\.g\. decode_head\.conv_seg\.weight\)/);
    model.dispose();
  });

  it('refuses a file for another width or depth, naming the first mismatch, and writes nothing', async () => {
    const wide = encoder('resnet18', 0.25);
    const before = wide.getWeights().map((w) => w.dataSync().slice());
    await expect(loadBackboneWeights(wide, fixture('resnet18-w8.pth'))).rejects.toThrow(
      /^\[@gpl\/resnet\] loadBackboneWeights: .*resnet18-w8\.pth: 'conv1\.weight' does not fit conv1\/kernel: \[8,3,7,7\] \(OIHW\) becomes \[7,7,3,8\], the model has \[7,7,3,16\]\./,
    );
    expect(wide.getWeights().every((w, i) => w.dataSync().every((v, j) => v === before[i][j]))).toBe(true);
    wide.dispose();
    const deeper = encoder('resnet34');
    await expect(loadBackboneWeights(deeper, fixture('resnet18-w8.pth'))).rejects.toThrow(/lacks 80 of 180 encoder weights, first layer1\.2\.conv1\.weight \(for layer1\.2\.conv1\/kernel\)/);
    deeper.dispose();
    const nothing = encoder();
    await expect(loadBackboneWeights(nothing, fixture('not-a-checkpoint.pth'))).rejects.toThrow(/not-a-checkpoint\.pth: the pickle holds a tuple\/list of 3 and no state dict of tensors/);
    nothing.dispose();
  });
});

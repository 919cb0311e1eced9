/**
 * `sr --pretrained`: BasicSR's MSRResNet written by PyTorch (tools/torch/sr_basicsr_fixture.py:
 * 8 features, 1 block, saved as BasicSR saves networks, `{'params': state_dict}`) imported into
 * the SR network gives PyTorch's output on the same input — the architecture, the pixel-shuffle
 * order and the bilinear base are BasicSR's — and a file for another size is refused naming the
 * first weight that does not fit.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gpl/core';
import { buildStartingModel } from './train';

const FIXTURES = path.join(__dirname, 'fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-pretrained-'));
const reference = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'msrresnet-f8b1-output.json'), 'utf8')) as { input_nchw: number[]; input: number[]; output_nchw: number[]; output: number[] };

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('sr --pretrained', () => {
  const file = path.join(tmp, 'msrresnet-f8b1-params.pth');
  fs.writeFileSync(file, zlib.gunzipSync(fs.readFileSync(path.join(FIXTURES, 'msrresnet-f8b1-params.pth.gz'))));

  it("computes PyTorch's MSRResNet output from BasicSR's {'params': …} checkpoint", () => {
    const lines: string[] = [];
    const model = buildStartingModel({ features: 8, blocks: 1, seed: 5, pretrained: file }, (l) => lines.push(l));
    expect(lines.join('\n')).toMatch(/^pretrained: 14 encoder weights from .*msrresnet-f8b1-params\.pth; 0 weights outside the encoder keep their initialisation/);
    const [n, c, h, w] = reference.input_nchw;
    const y = tf.tidy(() => {
      const x = tf.transpose(tf.tensor4d(reference.input, [n, c, h, w]), [0, 2, 3, 1]);
      return tf.transpose(model.predict(x) as tf.Tensor4D, [0, 3, 1, 2]);
    });
    expect(y.shape).toEqual(reference.output_nchw);
    const got = y.dataSync();
    const worst = reference.output.reduce((m, v, i) => Math.max(m, Math.abs(v - got[i])), 0);
    expect(worst).toBeLessThan(1e-5);
    tf.dispose(y);
    model.dispose();
  });

  it('refuses the file for another width, naming the weight and the sizes to pass', () => {
    const before = tf.memory().numTensors;
    expect(() => buildStartingModel({ features: 16, blocks: 1, seed: 5, pretrained: file })).toThrow(
      /^\[sr\] option 'pretrained': .*msrresnet-f8b1-params\.pth: 'conv_first\.weight' does not fit conv_first\/kernel: \[8,3,3,3\] \(OIHW\) becomes \[3,3,3,8\], the model has \[3,3,3,16\]\. It must be BasicSR MSRResNet ×4 weights with 16 features and 1 blocks/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

/**
 * The perceptual option's pretrained mode: a torchvision-layout file (written here as safetensors
 * from AlexNet's key list) becomes the loss network's weights; a structure without torchvision
 * weights, or another kernel size, is refused naming the option.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '@gpl/core';
import { PAPER_PERCEPTUAL, createPerceptualLoss, describePerceptual, perceptualMinimumSize, perceptualOption } from './perceptual';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-percep-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A float32 safetensors file of torchvision AlexNet's `features` (values small and deterministic). */
function writeAlexnet(file: string): void {
  const shapes: [string, number[]][] = [
    ['features.0.weight', [64, 3, 11, 11]], ['features.0.bias', [64]],
    ['features.3.weight', [192, 64, 5, 5]], ['features.3.bias', [192]],
    ['features.6.weight', [384, 192, 3, 3]], ['features.6.bias', [384]],
    ['features.8.weight', [256, 384, 3, 3]], ['features.8.bias', [256]],
    ['features.10.weight', [256, 256, 3, 3]], ['features.10.bias', [256]],
  ];
  const header: Record<string, unknown> = {};
  const blobs: Buffer[] = [];
  let offset = 0;
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => (((i * 7919) % 251) / 251 - 0.5) * 0.05);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * n] };
    blobs.push(Buffer.from(data.buffer));
    offset += 4 * n;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, ...blobs]));
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('perceptual option with torchvision weights', () => {
  it('builds the pretrained network behind the adapter from a .safetensors file', () => {
    const file = path.join(tmp, 'alexnet.safetensors');
    writeAlexnet(file);
    const option = perceptualOption({ ...PAPER_PERCEPTUAL, percep: 'alexnet', percepPretrained: file, percepEngine: 'tfjs' }, 'seg');
    expect(option?.pretrained).toBe(file);
    expect(describePerceptual(option)).toBe('alexnet (torchvision weights), λ 0.1');
    const gpl = createPerceptualLoss(option, 5, 1)!;
    expect(gpl.describe().init).toBe('pretrained (torchvision)');
    expect(gpl.spec.nodes[1]).toMatchObject({ name: 'adapter', inChannels: 5, outChannels: 3 });
    gpl.dispose();
  });

  it('refuses a structure without torchvision weights, another kernel size, and a missing file', () => {
    expect(() => perceptualOption({ ...PAPER_PERCEPTUAL, percepPretrained: 'x.pth' }, 'seg')).toThrow(
      "[seg] option 'percepPretrained': torchvision weights exist for vgg11, vgg13, vgg16, vgg19, resnet18, alexnet, googlenet, mobilenetv2; --percep is '1,1,1,1,1'.",
    );
    expect(() => perceptualOption({ ...PAPER_PERCEPTUAL, percep: 'vgg16', percepKernel: 5, percepPretrained: 'x.pth' }, 'seg')).toThrow("option 'percepKernel': a pretrained network keeps torchvision's kernels; expected 3, received 5.");
    const option = perceptualOption({ ...PAPER_PERCEPTUAL, percep: 'vgg16', percepPretrained: path.join(tmp, 'none.pth') }, 'seg');
    expect(() => createPerceptualLoss(option, 3, 1)).toThrow(/^\[@gpl\/weights\] .*none\.pth: no such file/);
  });
});

describe("perceptual option 'percepReduction'", () => {
  it("defaults to 'mean' (also when absent from an older config), reaches the loss network, and shows only when 'sum'", () => {
    const absent = Object.fromEntries(Object.entries(PAPER_PERCEPTUAL).filter(([k]) => k !== 'percepReduction'));
    const mean = perceptualOption(absent as unknown as typeof PAPER_PERCEPTUAL, 'seg');
    expect(mean?.reduction).toBe('mean');
    expect(describePerceptual(mean)).toBe('1,1,1,1,1, λ 0.1');
    const sum = perceptualOption({ ...PAPER_PERCEPTUAL, percepReduction: 'sum', percepEngine: 'tfjs' }, 'seg');
    expect(describePerceptual(sum)).toBe('1,1,1,1,1, λ 0.1, sum');
    const gpl = createPerceptualLoss(sum, 3, 1)!;
    expect(gpl.config.reduction).toBe('sum');
    gpl.dispose();
  });

  it('gives the loss network’s minimum input side without building it', () => {
    expect(perceptualMinimumSize(perceptualOption(PAPER_PERCEPTUAL, 'seg')!)).toBe(16);
    expect(perceptualMinimumSize(perceptualOption({ ...PAPER_PERCEPTUAL, percep: '1,1' }, 'seg')!)).toBe(2);
  });

  it('refuses another value in one line naming the option, received and expected', () => {
    expect(() => perceptualOption({ ...PAPER_PERCEPTUAL, percepReduction: 'total' as never }, 'depth')).toThrow(
      new RangeError("[depth] option 'percepReduction': expected 'mean' or 'sum' (Eq. 1 mean, Eq. 3 per-sample sum), received \"total\"."),
    );
  });
});


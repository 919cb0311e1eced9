/**
 * The readers on files PyTorch wrote (tools/torch/weights_fixtures.py; gunzipped here): every
 * format gives the same names, shapes and values; the state dict is found inside an mmseg
 * checkpoint; views and float16 edge values decode exactly; and truncated, foreign, legacy and
 * non-checkpoint files each get one line naming the file. The pickle reader never builds a
 * global it does not know.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { Opaque, encodeSafetensors, halfToFloat, readPickle, readSafetensors, readWeightFile, WeightFileError } from './index';

const FIXTURES = path.join(__dirname, 'fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weights-'));
/** The fixture `name`, gunzipped into the temp folder. */
const fixture = (name: string): string => {
  const out = path.join(tmp, name);
  if (!fs.existsSync(out)) fs.writeFileSync(out, zlib.gunzipSync(fs.readFileSync(path.join(FIXTURES, `${name}.gz`))));
  return out;
};
const reference = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reference.json'), 'utf8')) as { keys: string[] };

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('readWeightFile', () => {
  it('reads torch.save and safetensors files of the same ResNet to the same tensors', () => {
    const pth = readWeightFile(fixture('resnet18-w8.pth'));
    expect(pth.format).toBe('torch');
    expect([...pth.tensors.keys()]).toEqual(reference.keys);
    expect(pth.tensors.get('layer2.0.downsample.0.weight')).toMatchObject({ dtype: 'float32', shape: [16, 8, 1, 1] });
    expect(pth.tensors.get('bn1.num_batches_tracked')).toMatchObject({ dtype: 'int64', shape: [] });
    expect(Array.from(pth.tensors.get('bn1.num_batches_tracked')!.data)).toEqual([123]);
    const safe = readWeightFile(fixture('resnet18-w8.safetensors'));
    expect(safe.format).toBe('safetensors');
    expect(safe.metadata).toEqual({ format: 'pt' });
    // safetensors holds the floating-point entries (no num_batches_tracked).
    expect([...safe.tensors.keys()]).toEqual(reference.keys.filter((k) => !k.endsWith('num_batches_tracked')));
    for (const [name, t] of safe.tensors) {
      expect({ name, shape: t.shape }).toEqual({ name, shape: pth.tensors.get(name)!.shape });
      expect(Buffer.compare(Buffer.from(t.data.buffer), Buffer.from(pth.tensors.get(name)!.data.buffer))).toBe(0);
    }
  });

  it('writes safetensors that read back to the same names, shapes, values and metadata', () => {
    const source = readWeightFile(fixture('resnet18-w8.safetensors')).tensors;
    const bytes = encodeSafetensors(source, { format: 'pt', note: 'round trip' });
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt', note: 'round trip' });
    expect([...back.tensors.keys()]).toEqual([...source.keys()]);
    for (const [name, t] of back.tensors) {
      expect({ name, shape: t.shape }).toEqual({ name, shape: source.get(name)!.shape });
      expect(Array.from(t.data)).toEqual(Array.from(source.get(name)!.data));
    }
    expect(() => encodeSafetensors(new Map([['w', { shape: [2, 3], data: new Float32Array(5) }]]))).toThrow("tensor 'w': shape [2,3] holds 6 values, the data has 5");
  });

  it('widens float16 and bfloat16 files to the same float32 values (the weights lie on a 1/64 grid)', () => {
    const f32 = readWeightFile(fixture('resnet18-w8.pth')).tensors;
    for (const file of ['resnet18-w8-fp16.safetensors', 'resnet18-w8-bf16.pth']) {
      const t = readWeightFile(fixture(file)).tensors;
      const w = t.get('layer4.1.conv2.weight')!;
      expect(w.dtype).toBe(file.includes('fp16') ? 'float16' : 'bfloat16');
      expect(Array.from(w.data)).toEqual(Array.from(f32.get('layer4.1.conv2.weight')!.data));
    }
  });

  it('finds the state dict under state_dict in an mmseg checkpoint and lists the other entries', () => {
    const mm = readWeightFile(fixture('resnet18-w8-mmseg.pth'));
    expect(mm.stateDictKey).toBe('state_dict');
    expect(mm.metadata).toEqual({ meta: 'a dict of 4' });
    expect(mm.tensors.has('backbone.layer1.0.conv1.weight')).toBe(true);
    expect(mm.tensors.get('decode_head.conv_seg.weight')!.shape).toEqual([2, 64, 1, 1]);
  });

  it('decodes strided and offset views of a shared storage, and float16 edge values, exactly', () => {
    const v = readWeightFile(fixture('views.pth')).tensors;
    // arange(6).reshape(2,3).t() = [[0,3],[1,4],[2,5]]; arange(12)[6:].reshape(3,2) = 6…11.
    expect(v.get('transposed')).toMatchObject({ shape: [3, 2] });
    expect(Array.from(v.get('transposed')!.data)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(v.get('offset')!.data)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(Array.from(v.get('half')!.data)).toEqual([1.5, -2, 65504, 2 ** -24]);
    expect([halfToFloat(0x7c00), halfToFloat(0xfc00), halfToFloat(0x8000)]).toEqual([Infinity, -Infinity, -0]);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('refuses bad files in one line naming the file and the problem', () => {
    const write = (name: string, bytes: Uint8Array) => {
      const f = path.join(tmp, name);
      fs.writeFileSync(f, bytes);
      return f;
    };
    const pth = fs.readFileSync(fixture('resnet18-w8.pth'));
    const safe = fs.readFileSync(fixture('resnet18-w8.safetensors'));
    const cases: [string, RegExp][] = [
      [path.join(tmp, 'missing.pth'), /missing\.pth: no such file \(expected a \.safetensors or a torch\.save \.pth\/\.pt file\)$/],
      [write('cut.pth', pth.subarray(0, pth.length / 2)), /cut\.pth: the zip archive cannot be read .*truncated or damaged$/],
      [write('cut.safetensors', safe.subarray(0, safe.length - 100)), /cut\.safetensors: tensor 'fc\.weight' ends at byte \d+ of \d+: the file is truncated$/],
      [write('text.pth', Buffer.from('hello world, not weights')), /text\.pth: the file starts with bytes 68 65 6c 6c, neither a zip \(torch\.save\) nor a safetensors header$/],
      [write('legacy.pth', Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e])), /legacy \(PyTorch < 1\.6\) torch\.save format/],
      [fixture('not-a-checkpoint.pth'), /not-a-checkpoint\.pth: the pickle holds a tuple\/list of 3 and no state dict of tensors/],
    ];
    for (const [file, message] of cases) {
      let err: unknown;
      try {
        readWeightFile(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WeightFileError);
      expect((err as Error).message).toMatch(/^\[@gpl\/weights\] /);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});

describe('readPickle', () => {
  it('keeps globals it does not know inert: os.system is never called, only named', () => {
    // PROTO 2, GLOBAL os system, BINUNICODE 'echo pwned', TUPLE1, REDUCE, STOP.
    const cmd = Buffer.from('echo pwned');
    const bytes = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cos\nsystem\n', 'latin1'), Buffer.from([0x58, cmd.length, 0, 0, 0]), cmd, Buffer.from([0x85, 0x52, 0x2e])]);
    const v = readPickle(bytes, () => null);
    expect(v).toBeInstanceOf(Opaque);
    expect((v as Opaque).name).toBe('os.system(…)');
  });

  it('names the byte where a stream ends early', () => {
    expect(() => readPickle(Buffer.from([0x80, 0x02, 0x58, 0x10, 0, 0, 0, 0x61]), () => null)).toThrow('at byte 7: the stream ends inside an opcode (needs 16 more bytes, 1 left): the file is truncated');
  });
});

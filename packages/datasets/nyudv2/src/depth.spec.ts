import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { isDataError, readUint16Png } from '@gpl/data';
import { encodeDepthPng, readNyuDepth } from './depth';

describe('NYU depth PNGs', () => {
  let dir: string;
  const ctx = { pkg: '@gpl/nyudv2' };
  const file = (name: string, data: Uint8Array | Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, data);
    return f;
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-depth-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sharp reads 16-bit grayscale PNGs bit-exactly (written by sharp and by encodeDepthPng)', async () => {
    const w = 7;
    const h = 5;
    const mm = Uint16Array.from({ length: w * h }, (_, i) => (i * 1877 + 13) % 65536);
    mm.set([0, 65535, 1, 256, 255, 10000]);
    const bySharp = await sharp(mm, { raw: { width: w, height: h, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    expect([bySharp[24], bySharp[25]]).toEqual([16, 0]); // IHDR: bit depth 16, colour type 0 (grey)
    expect(Array.from((await readUint16Png(file('sharp16.png', bySharp), ctx)).data)).toEqual(Array.from(mm));
    const d = await readNyuDepth(file('ours16.png', encodeDepthPng(Float32Array.from(mm, (v) => v / 1000), w, h, 'u16-mm')), 'u16-mm', ctx);
    expect([d.width, d.height]).toEqual([w, h]);
    expect(Array.from(d.data, (v) => Math.round(v * 1000))).toEqual(Array.from(mm));
    expect(d.data[0]).toBe(0); // invalid stays 0
    expect(d.data[5]).toBeCloseTo(10, 6); // 10000 mm
  });

  it('8-bit train depth: metres = v/255·10', async () => {
    const v = Uint8Array.from([0, 1, 51, 128, 255, 200]);
    const png = await sharp(v, { raw: { width: 3, height: 2, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect([png[24], png[25]]).toEqual([8, 0]);
    const d = await readNyuDepth(file('d8.png', png), 'u8-10m', ctx);
    expect(Array.from(d.data)).toEqual(Array.from(v, (x) => Math.fround((x / 255) * 10)));
    expect([d.data[0], d.data[2], d.data[4]]).toEqual([0, expect.closeTo(2, 6), expect.closeTo(10, 6)]);
  });

  it('encodeDepthPng inverts reading up to quantisation and never turns a valid depth into 0', async () => {
    const depth = Float32Array.from([0, 0.0001, 1.234, 3.3333, 9.9, 12]);
    const d16 = await readNyuDepth(file('e16.png', encodeDepthPng(depth, 3, 2, 'u16-mm')), 'u16-mm', ctx);
    expect(Array.from(d16.data)).toEqual([0, 0.001, 1.234, 3.333, 9.9, 12].map(Math.fround));
    const d8 = await readNyuDepth(file('e8.png', encodeDepthPng(depth, 3, 2, 'u8-10m')), 'u8-10m', ctx);
    expect(Array.from(d8.data, (v) => Math.round((v / 10) * 255))).toEqual([0, 1, 31, 85, 252, 255]);
    expect(() => encodeDepthPng(depth, 4, 2, 'u8-10m')).toThrow(/depth has 6 values, expected 4·2 = 8/);
  });

  it('a map of the wrong bit depth, a truncated PNG or a JPEG: errors name the file', async () => {
    const e8 = await readNyuDepth(file('as16.png', encodeDepthPng(new Float32Array(6).fill(1), 3, 2, 'u8-10m')), 'u16-mm', ctx).catch((e) => e);
    expect(isDataError(e8)).toBe(true);
    expect(e8.message).toMatch(/unreadable-image: .*as16\.png: expected a 16-bit single-channel PNG, received 8-bit grey/);
    const good = encodeDepthPng(Float32Array.from({ length: 64 * 64 }, (_, i) => 1 + (i % 97) / 10), 64, 64, 'u16-mm');
    const cut = await readNyuDepth(file('cut.png', good.subarray(0, good.length - 40)), 'u16-mm', ctx).catch((e) => e);
    expect([cut.code, path.basename(cut.file)]).toEqual(['unreadable-image', 'cut.png']);
    const jpg = await sharp(new Uint8Array(18), { raw: { width: 3, height: 2, channels: 3 } }).jpeg().toBuffer();
    const j = await readNyuDepth(file('d.jpg', jpg), 'u8-10m', ctx).catch((e) => e);
    expect(j.message).toMatch(/d\.jpg: expected an 8-bit single-channel PNG, received a file without the PNG signature/);
  });
});

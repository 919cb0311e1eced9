import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { DataError } from './errors';
import {
  checkLabelRange,
  checkSameSize,
  labelLut,
  mapLabels,
  peekImageSize,
  peekLabelPng,
  readImage,
  readIndexFile,
  readLabelPng,
  readUint16Png,
  readGrey8Png,
  resolveInside,
} from './io';
import { encodePng } from './png';
import { vocColormap } from './palette';
import { makeTempDir, removeTempDir } from './testing';

const ctx = { pkg: '@gpl/test' };
let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeTempDir(dir));

async function writeJpeg(file: string, w: number, h: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 3) % 200;
  const buf = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  fs.writeFileSync(file, buf);
  return buf;
}

async function expectDataError(p: Promise<unknown> | (() => unknown), code: string, ...patterns: RegExp[]): Promise<DataError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DataError);
  const e = err as DataError;
  expect(e.code).toBe(code);
  for (const re of patterns) expect(e.message).toMatch(re);
  return e;
}

describe('readImage', () => {
  it('decodes JPEG and PNG (grey and RGBA too) to 8-bit RGB', async () => {
    await writeJpeg(path.join(dir, 'a.jpg'), 20, 10);
    const img = await readImage(path.join(dir, 'a.jpg'), ctx);
    expect([img.height, img.width, img.channels, img.data.length]).toEqual([10, 20, 3, 600]);
    fs.writeFileSync(path.join(dir, 'g.png'), encodePng({ width: 4, height: 3, channels: 1, bitDepth: 8, data: new Uint8Array(12).fill(77) }));
    const g = await readImage(path.join(dir, 'g.png'), ctx);
    expect(Array.from(g.data.slice(0, 3))).toEqual([77, 77, 77]);
    const rgba = Uint8Array.from({ length: 4 * 3 * 4 }, (_, i) => (i % 4 === 3 ? 128 : i));
    fs.writeFileSync(path.join(dir, 'rgba.png'), encodePng({ width: 4, height: 3, channels: 4, bitDepth: 8, data: rgba }));
    const c = await readImage(path.join(dir, 'rgba.png'), ctx);
    expect([c.channels, c.data[4]]).toEqual([3, 5]);
  });

  it('names the file when it is missing', async () => {
    await expectDataError(readImage(path.join(dir, 'nope.jpg'), { pkg: '@gpl/test', root: dir }), 'missing-file', /^\[@gpl\/test\] missing-file: nope\.jpg: expected an RGB image/);
  });

  it('rejects a truncated JPEG and a non-image', async () => {
    const buf = await writeJpeg(path.join(dir, 'full.jpg'), 64, 64);
    fs.writeFileSync(path.join(dir, 'trunc.jpg'), buf.subarray(0, Math.floor(buf.length / 2)));
    await expectDataError(readImage(path.join(dir, 'trunc.jpg'), ctx), 'unreadable-image', /trunc\.jpg: expected a decodable JPEG or PNG image, received /);
    fs.writeFileSync(path.join(dir, 'text.png'), 'hello');
    await expectDataError(readImage(path.join(dir, 'text.png'), ctx), 'unreadable-image', /text\.png/);
  });
});

describe('label and depth PNGs', () => {
  it('reads palette PNGs as indices, never colours', async () => {
    const idx = Uint8Array.from({ length: 30 }, (_, i) => [0, 15, 255, 20][i % 4]);
    fs.writeFileSync(path.join(dir, 'p.png'), encodePng({ width: 6, height: 5, channels: 1, bitDepth: 8, data: idx, palette: vocColormap() }));
    const l = await readLabelPng(path.join(dir, 'p.png'), ctx);
    expect(Array.from(l.data)).toEqual(Array.from(idx));
    expect(l.palette).toEqual(vocColormap());
  });

  it('reads 8-bit grey PNGs through sharp as values', async () => {
    const v = Uint8Array.from({ length: 30 }, (_, i) => i * 8);
    fs.writeFileSync(path.join(dir, 'g8.png'), encodePng({ width: 6, height: 5, channels: 1, bitDepth: 8, data: v }));
    expect(Array.from((await readLabelPng(path.join(dir, 'g8.png'), ctx)).data)).toEqual(Array.from(v));
    expect(Array.from((await readGrey8Png(path.join(dir, 'g8.png'), ctx)).data)).toEqual(Array.from(v));
  });

  it('rejects colour label PNGs with a hint', async () => {
    fs.writeFileSync(path.join(dir, 'rgb.png'), encodePng({ width: 2, height: 2, channels: 3, bitDepth: 8, data: new Uint8Array(12) }));
    await expectDataError(readLabelPng(path.join(dir, 'rgb.png'), ctx), 'unreadable-image', /expected a single-channel label PNG \(8-bit grey or palette\), received 8-bit RGB\. Convert/);
  });

  it('reads 16-bit depth exactly and rejects 8-bit files', async () => {
    const d = Uint16Array.from({ length: 12 }, (_, i) => i * 5000 + 1);
    fs.writeFileSync(path.join(dir, 'd.png'), encodePng({ width: 4, height: 3, channels: 1, bitDepth: 16, data: d }));
    const r = await readUint16Png(path.join(dir, 'd.png'), ctx);
    expect(Array.from(r.data)).toEqual(Array.from(d));
    await expectDataError(readUint16Png(path.join(dir, 'g8.png'), ctx), 'unreadable-image', /expected a 16-bit single-channel PNG, received 8-bit grey/);
  });

  it('rejects a truncated palette PNG', async () => {
    const f = encodePng({ width: 30, height: 30, channels: 1, bitDepth: 8, data: new Uint8Array(900).fill(1), palette: vocColormap() });
    fs.writeFileSync(path.join(dir, 'tp.png'), f.subarray(0, f.length - 30));
    await expectDataError(readLabelPng(path.join(dir, 'tp.png'), ctx), 'unreadable-image', /tp\.png: expected a complete palette PNG, received a truncated PNG \(the file ends inside its IDAT chunk: \d+ of at least \d+ bytes\)\. Re-export or re-download the file\.$/);
  });
});

describe('checks', () => {
  it('reports size mismatches with both sizes', async () => {
    await expectDataError(() => checkSameSize({ height: 4, width: 6 }, { height: 4, width: 5 }, '/r/a.jpg', '/r/a.png', { pkg: '@gpl/x', root: '/r' }), 'size-mismatch', /a\.png: expected 6×4 to match a\.jpg, received 5×4/);
  });

  it('maps labels through a LUT and names the first bad pixel', async () => {
    const lut = labelLut([[0, 255], [7, 0], [8, 1]]);
    const raw = { data: Uint8Array.of(7, 8, 0, 7, 9, 8), height: 2, width: 3 };
    await expectDataError(() => mapLabels(raw, lut, 'x.png', ctx, 'ids 0, 7, 8'), 'label-out-of-range', /x\.png: expected ids 0, 7, 8, received value 9 at pixel \(x=1, y=1\)/);
    expect(Array.from(mapLabels({ ...raw, data: Uint8Array.of(7, 8, 0, 7, 0, 8) }, lut, 'x.png', ctx, '').data)).toEqual([0, 1, 255, 0, 255, 1]);
    await expectDataError(() => checkLabelRange({ data: Uint8Array.of(0, 2, 3), height: 1, width: 3 }, 3, 255, 'y.png', ctx), 'label-out-of-range', /received value 3 at pixel \(x=2, y=0\)/);
  });

  it('keeps index paths inside the root', async () => {
    const root = path.join(dir, 'root');
    expect(resolveInside(root, 'a/b.jpg', ctx, 'list.txt', 3)).toBe(path.join(root, 'a', 'b.jpg'));
    await expectDataError(() => resolveInside(root, '../../etc/passwd', ctx, 'list.txt', 3), 'path-escape', /list\.txt row 3: expected a path inside the dataset root .*, received '\.\.\/\.\.\/etc\/passwd'/);
    await expectDataError(() => resolveInside(root, '/etc/passwd', ctx, 'list.txt', 4), 'path-escape', /row 4/);
  });

  it('reads index files with row numbers, skipping blanks and comments', async () => {
    fs.writeFileSync(path.join(dir, 'list.txt'), 'a\n\n# c\n  b  \r\nc');
    expect(await readIndexFile(path.join(dir, 'list.txt'), ctx)).toEqual([{ text: 'a', row: 1 }, { text: 'b', row: 4 }, { text: 'c', row: 5 }]);
  });
});

describe('header checks at open (no pixel decoded)', () => {
  it('tells PNG and JPEG sizes, also behind 10 KiB of JPEG metadata, and nothing for other bytes', async () => {
    const png = path.join(dir, 'peek.png');
    fs.writeFileSync(png, encodePng({ width: 7, height: 3, channels: 1, bitDepth: 8, data: new Uint8Array(21) }));
    expect(peekImageSize(png, ctx)).toEqual({ width: 7, height: 3 });
    const jpg = path.join(dir, 'peek.jpg');
    await writeJpeg(jpg, 33, 17);
    expect(peekImageSize(jpg, ctx)).toEqual({ width: 33, height: 17 });
    // An APP1 segment of 10 KiB before the frame header: the 64 KiB read finds it.
    const bytes = fs.readFileSync(jpg);
    const app1 = Buffer.alloc(10240 + 4);
    app1.writeUInt16BE(0xffe1, 0);
    app1.writeUInt16BE(10240 + 2, 2);
    fs.writeFileSync(jpg, Buffer.concat([bytes.subarray(0, 2), app1, bytes.subarray(2)]));
    expect(peekImageSize(jpg, ctx)).toEqual({ width: 33, height: 17 });
    fs.writeFileSync(path.join(dir, 'peek.txt'), 'no image');
    expect(peekImageSize(path.join(dir, 'peek.txt'), ctx)).toBeUndefined();
  });

  it('refuses a label that is no class-index PNG from its header alone', async () => {
    const rgb = path.join(dir, 'peek-rgb.png');
    fs.writeFileSync(rgb, encodePng({ width: 2, height: 2, channels: 3, bitDepth: 8, data: new Uint8Array(12) }));
    await expectDataError(() => peekLabelPng(rgb, ctx), 'unreadable-image', /peek-rgb\.png: expected a single-channel label PNG .* received 8-bit RGB\. Convert colour-coded labels/);
    fs.writeFileSync(path.join(dir, 'peek-short.png'), 'x');
    await expectDataError(() => peekLabelPng(path.join(dir, 'peek-short.png'), ctx), 'unreadable-image', /without the PNG signature/);
    await expectDataError(() => peekLabelPng(path.join(dir, 'nope.png'), ctx), 'missing-file', /nope\.png: expected a label PNG, received no such file/);
  });
});

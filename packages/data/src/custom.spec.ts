import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { openCustomFolder, readCustomClasses } from './custom';
import { DataError } from './errors';
import { encodePng } from './png';
import { vocColormap } from './palette';
import { makeTempDir, removeTempDir } from './testing';
import type { DepthSample, SegmentationSample } from './types';

let root: string;
beforeEach(() => {
  root = makeTempDir('gpl-custom-');
});
afterEach(() => removeTempDir(root));

function write(rel: string, data: Uint8Array | string): void {
  const f = path.join(root, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, data);
}

async function jpeg(w: number, h: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3, 90);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer();
}

function labelPng(w: number, h: number, f: (x: number, y: number) => number, palette = false): Uint8Array {
  const data = Uint8Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w)));
  return encodePng({ width: w, height: h, channels: 1, bitDepth: 8, data, ...(palette ? { palette: vocColormap() } : {}) });
}

async function segFolder(split?: string): Promise<void> {
  write('classes.json', JSON.stringify({ names: ['bg', 'cat', 'dog'], palette: [[0, 0, 0], [255, 0, 0], [0, 255, 0]], ignoreIndex: 255 }));
  const sub = split ? `${split}/` : '';
  write(`images/${sub}a.jpg`, await jpeg(8, 6));
  write(`labels/${sub}a.png`, labelPng(8, 6, (x) => (x < 4 ? 1 : 2)));
  write(`images/${sub}b.png`, encodePng({ width: 8, height: 6, channels: 3, bitDepth: 8, data: new Uint8Array(144).fill(30) }));
  write(`labels/${sub}b.png`, labelPng(8, 6, (x, y) => (y === 0 ? 255 : 0), true));
}

async function expectDataError(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(DataError);
  expect((e as DataError).code).toBe(code);
  expect((e as DataError).message).toMatch(re);
}

describe('custom folder: segmentation', () => {
  it('reads images/, labels/ and classes.json', async () => {
    await segFolder();
    const ds = await openCustomFolder({ root });
    expect(ds.length).toBe(2);
    expect(ds.classNames).toEqual(['bg', 'cat', 'dog']);
    expect(ds.palette[1]).toEqual([255, 0, 0]);
    expect(ds.ignoreIndex).toBe(255);
    const a = (await ds.get(0)) as SegmentationSample;
    expect([a.id, a.kind, a.image.width, a.label.data[0], a.label.data[7]]).toEqual(['a', 'segmentation', 8, 1, 2]);
    const b = (await ds.get(1)) as SegmentationSample;
    expect([b.label.data[0], b.label.data[8]]).toEqual([255, 0]);
  });

  it('reads split subfolders and split lists', async () => {
    await segFolder('train');
    expect((await openCustomFolder({ root, split: 'train' })).length).toBe(2);
    write('splits/val.txt', 'train/b\n');
    const val = await openCustomFolder({ root, split: 'val' });
    expect([val.length, val.entries[0].id]).toEqual([1, 'b']);
  });

  it('defaults the palette to the VOC colormap', async () => {
    write('classes.json', JSON.stringify({ names: ['a', 'b'] }));
    expect((await readCustomClasses(root)).palette).toEqual([[0, 0, 0], [128, 0, 0]]);
  });

  it.each([
    ['not JSON', '{names:', /classes\.json: expected valid JSON/],
    ['no names', '{"names": []}', /expected a non-empty "names" array/],
    ['short palette', '{"names": ["a","b"], "palette": [[0,0,0]]}', /expected "palette" to be 2 \[r, g, b\] triples/],
    ['ignore inside classes', '{"names": ["a","b"], "ignoreIndex": 1}', /expected "ignoreIndex" outside the class indices 0\.\.1/],
  ])('rejects a malformed classes.json (%s)', async (_n, text, re) => {
    write('classes.json', text);
    write('images/a.jpg', await jpeg(4, 4));
    await expectDataError(openCustomFolder({ root }), 'malformed-json', re);
  });

  it('reports a missing label, or skips and counts it', async () => {
    await segFolder();
    fs.rmSync(path.join(root, 'labels', 'b.png'));
    await expectDataError(openCustomFolder({ root }), 'missing-file', /labels\/b\.png: expected an existing file for sample 'b'/);
    const ds = await openCustomFolder({ root, skipInvalid: true });
    expect(ds.length).toBe(1);
    expect(ds.skipped).toHaveLength(1);
    expect(ds.skipped[0]).toMatchObject({ code: 'missing-file', file: path.join('labels', 'b.png') });
  });

  it('reports an empty split', async () => {
    write('classes.json', '{"names": ["a"]}');
    fs.mkdirSync(path.join(root, 'images'));
    await expectDataError(openCustomFolder({ root }), 'empty-split', /images: expected at least one image/);
  });

  it('reports size mismatch at open (from the headers), out-of-range labels and truncated images on decode', async () => {
    await segFolder();
    write('labels/a.png', labelPng(7, 6, () => 1));
    await expectDataError(openCustomFolder({ root }), 'size-mismatch', /labels\/a\.png: expected 8×6 to match images\/a\.jpg, received 7×6/);
    write('labels/a.png', labelPng(8, 6, (x, y) => (x === 5 && y === 2 ? 3 : 0)));
    const ds = await openCustomFolder({ root });
    await expectDataError(ds.get(0), 'label-out-of-range', /labels\/a\.png: expected class indices 0\.\.2 or 255 \(ignore\), received value 3 at pixel \(x=5, y=2\)/);
    const full = await jpeg(64, 64);
    write('images/a.jpg', full.subarray(0, 200));
    await expectDataError(ds.get(0), 'unreadable-image', /images\/a\.jpg: expected a decodable JPEG or PNG image/);
  });

  it('rejects split-list paths that escape the root', async () => {
    await segFolder();
    write('splits/evil.txt', 'a\n../../../etc/passwd\n');
    await expectDataError(openCustomFolder({ root, split: 'evil' }), 'path-escape', /splits\/evil\.txt row 2: expected a path inside the dataset root/);
  });
});

describe('custom folder: depth', () => {
  it('reads 16-bit depth in metres via depthScale, 0 = invalid', async () => {
    write('classes.json', JSON.stringify({ task: 'depth', depthScale: 1000, depthRange: [0.1, 10] }));
    write('images/r.png', encodePng({ width: 4, height: 2, channels: 3, bitDepth: 8, data: new Uint8Array(24).fill(50) }));
    write('depth/r.png', encodePng({ width: 4, height: 2, channels: 1, bitDepth: 16, data: Uint16Array.of(0, 1000, 2500, 9999, 1, 2, 3, 4) }));
    const ds = await openCustomFolder({ root });
    expect(ds.depthRange).toEqual([0.1, 10]);
    const s = (await ds.get(0)) as DepthSample;
    expect(s.kind).toBe('depth');
    expect(Array.from(s.depth.data.slice(0, 4))).toEqual([0, 1, 2.5, Math.fround(9.999)]);
    expect(s.label).toBeUndefined();
  });

  it('reports a depth PNG that is not 16-bit', async () => {
    write('classes.json', JSON.stringify({ task: 'depth' }));
    write('images/r.png', encodePng({ width: 2, height: 2, channels: 3, bitDepth: 8, data: new Uint8Array(12) }));
    write('depth/r.png', labelPng(2, 2, () => 3));
    const ds = await openCustomFolder({ root });
    await expectDataError(ds.get(0), 'unreadable-image', /depth\/r\.png: expected a 16-bit single-channel PNG, received 8-bit grey/);
  });
});

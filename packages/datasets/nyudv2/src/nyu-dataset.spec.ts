import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { isDataError, shardDataset, type DataError } from '@gpl/data';
import { NYU_INTRINSICS } from './camera';
import { encodeDepthPng } from './depth';
import { openNyuDepthV2 } from './nyu-dataset';

const MINI = path.resolve(__dirname, '../../../../datasets/nyudv2-mini');

describe('NYU Depth v2 loader on nyudv2-mini', () => {
  it('train split: 40 frames, 8-bit depth in metres (v/255·10), the DenseDepth paths', async () => {
    const ds = await openNyuDepthV2({ root: MINI, split: 'train' });
    expect([ds.name, ds.length, ds.skipped.length, ds.depthEncoding]).toEqual(['nyudv2/train', 40, 0, 'u8-10m']);
    expect(ds.classNames).toEqual([]);
    expect(ds.depthRange).toEqual([1e-3, 10]);
    expect(ds.rows[0]).toEqual({ rgb: 'data/nyu2_train/bedroom_0004_out/1.jpg', depth: 'data/nyu2_train/bedroom_0004_out/1.png', row: 1 });
    const s = await ds.get(0);
    expect(s.kind).toBe('depth');
    expect(s.id).toBe('bedroom_0004_1');
    expect(s.files).toEqual(['data/nyu2_train/bedroom_0004_out/1.jpg', 'data/nyu2_train/bedroom_0004_out/1.png']);
    expect([s.image.width, s.image.height, s.image.channels, s.image.data.length]).toEqual([160, 120, 3, 160 * 120 * 3]);
    expect([s.depth.width, s.depth.height]).toEqual([160, 120]);
    // a known pixel: PNG value 111 at (x 80, y 60) → 111/255·10 m
    expect(s.depth.data[60 * 160 + 80]).toBeCloseTo((111 / 255) * 10, 6);
    // every value is a multiple of 10/255 m; window glass gives invalid (0) pixels
    let zeros = 0;
    for (const v of s.depth.data) {
      const q = (v / 10) * 255;
      expect(Math.abs(q - Math.round(q))).toBeLessThan(1e-3);
      if (v === 0) zeros++;
      else expect(v).toBeGreaterThan(0.5);
    }
    expect(zeros).toBe(421);
    // ids are unique plain file stems (soft-label files are named after them)
    const ids = await Promise.all(Array.from({ length: ds.length }, (_, i) => ds.get(i).then((x) => x.id)));
    expect(new Set(ids).size).toBe(40);
    expect(ids.filter((id) => /[/\\]/.test(id))).toEqual([]);
    expect(ids.slice(0, 3)).toEqual(['bedroom_0004_1', 'bedroom_0004_4', 'bedroom_0004_7']);
  });

  it('test split: 12 frames, 16-bit depth in millimetres', async () => {
    const ds = await openNyuDepthV2({ root: MINI, split: 'test' });
    expect([ds.length, ds.depthEncoding]).toEqual([12, 'u16-mm']);
    expect(ds.rows[0]).toEqual({ rgb: 'data/nyu2_test/00000_colors.png', depth: 'data/nyu2_test/00000_depth.png', row: 1 });
    const s = await ds.get(0);
    expect(s.id).toBe('00000');
    expect(s.depth.data[60 * 160 + 80]).toBeCloseTo(6.669, 6);
    expect(s.depth.data[115 * 160 + 80]).toBeCloseTo(3.126, 6);
    let max = 0;
    for (const v of s.depth.data) max = Math.max(max, v);
    expect(max).toBeLessThan(10);
    expect(max).toBeGreaterThan(3);
  });

  it('sharding covers every frame exactly once', async () => {
    const ds = await openNyuDepthV2({ root: MINI, split: 'test' });
    const all = await Promise.all(Array.from({ length: ds.length }, (_, i) => ds.get(i).then((s) => s.id)));
    expect(new Set(all).size).toBe(12);
    for (const count of [1, 4, 5]) {
      const ids: string[] = [];
      for (let k = 0; k < count; k++) {
        const shard = shardDataset(ds, k, count);
        for (let i = 0; i < shard.length; i++) ids.push((await shard.get(i)).id);
      }
      expect(ids.sort()).toEqual([...all].sort());
    }
  });

  it('intrinsics are the NYU camera scaled to the image, Eigen crop likewise', async () => {
    const ds = await openNyuDepthV2({ root: MINI, split: 'test' });
    const k = ds.intrinsics(160, 120);
    expect([k.fx, k.fy, k.cx, k.cy].map((v) => v * 4)).toEqual([NYU_INTRINSICS.fx, NYU_INTRINSICS.fy, NYU_INTRINSICS.cx, NYU_INTRINSICS.cy].map((v) => expect.closeTo(v, 9)));
    expect(ds.eigenCrop(120, 160)).toEqual({ top: 11, bottom: 118, left: 10, right: 150 });
  });
});

describe('NYU Depth v2 loader on bad input', () => {
  let root: string;
  const W = 8;
  const H = 6;

  async function writeFrame(name: string, opts: { depthW?: number; truncate?: boolean; sixteen?: boolean } = {}): Promise<string> {
    const rgb = await sharp(new Uint8Array(W * H * 3).fill(90), { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer();
    const dw = opts.depthW ?? W;
    const depth = await encodeDepthPng(new Float32Array(dw * H).fill(2), dw, H, opts.sixteen ? 'u16-mm' : 'u8-10m');
    const dir = path.join(root, 'data/nyu2_train/room_out');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.jpg`), opts.truncate ? rgb.subarray(0, rgb.length >> 1) : rgb);
    fs.writeFileSync(path.join(dir, `${name}.png`), depth);
    return `data/nyu2_train/room_out/${name}.jpg,data/nyu2_train/room_out/${name}.png`;
  }

  const writeCsv = (lines: string[]) => fs.writeFileSync(path.join(root, 'data/nyu2_train.csv'), lines.join('\n') + '\n');

  async function error(p: Promise<unknown>): Promise<DataError> {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isDataError(e)).toBe(true);
    return e as DataError;
  }

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-nyu-'));
    fs.mkdirSync(path.join(root, 'data'), { recursive: true });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('a missing index file', async () => {
    const e = await error(openNyuDepthV2({ root, split: 'test' }));
    expect([e.code, e.file]).toEqual(['missing-file', 'data/nyu2_test.csv']);
  });

  it('a missing image file names the file and the CSV row', async () => {
    writeCsv([await writeFrame('1'), 'data/nyu2_train/room_out/2.jpg,data/nyu2_train/room_out/2.png']);
    const e = await error(openNyuDepthV2({ root }));
    expect([e.code, e.file, e.row]).toEqual(['missing-file', 'data/nyu2_train/room_out/2.jpg', 2]);
    expect(e.message).toMatch(/^\[@gpl\/nyudv2\] missing-file: data\/nyu2_train\/room_out\/2\.jpg row 2: expected the file listed in data\/nyu2_train\.csv, received nothing at /);
  });

  it('a truncated image fails in get() with the file name', async () => {
    writeCsv([await writeFrame('1', { truncate: true })]);
    const ds = await openNyuDepthV2({ root });
    const e = await error(ds.get(0));
    expect([e.code, e.file]).toEqual(['unreadable-image', 'data/nyu2_train/room_out/1.jpg']);
    expect(e.message).toMatch(/expected a decodable JPEG or PNG image, received .*premature end of JPEG/);
  });

  it('image/depth size mismatch', async () => {
    writeCsv([await writeFrame('1', { depthW: 5 })]);
    const e = await error((await openNyuDepthV2({ root })).get(0));
    expect([e.code, e.file]).toEqual(['size-mismatch', 'data/nyu2_train/room_out/1.png']);
    expect(e.message).toMatch(/expected 8×6 to match data\/nyu2_train\/room_out\/1\.jpg, received 5×6/);
  });

  it('a 16-bit depth map where the train split wants 8-bit', async () => {
    writeCsv([await writeFrame('1', { sixteen: true })]);
    const e = await error((await openNyuDepthV2({ root })).get(0));
    expect([e.code, e.file]).toEqual(['unreadable-image', 'data/nyu2_train/room_out/1.png']);
    expect(e.message).toMatch(/expected an 8-bit single-channel PNG, received 16-bit grey/);
  });

  it('an empty split', async () => {
    writeCsv(['']);
    const e = await error(openNyuDepthV2({ root }));
    expect([e.code, e.file]).toEqual(['empty-split', 'data/nyu2_train.csv']);
    expect(e.message).toMatch(/expected at least one usable rgb_path,depth_path row, received no rows/);
  });

  it('malformed CSV rows name the row', async () => {
    const good = await writeFrame('1');
    writeCsv([good, 'data/a.jpg,data/a.png,extra']);
    let e = await error(openNyuDepthV2({ root }));
    expect([e.code, e.file, e.row]).toEqual(['malformed-row', 'data/nyu2_train.csv', 2]);
    expect(e.message).toMatch(/expected 2 non-empty fields rgb_path,depth_path, received 3 field\(s\)/);
    writeCsv([good, 'data/a.jpg,']);
    e = await error(openNyuDepthV2({ root }));
    expect([e.code, e.row]).toEqual(['malformed-row', 2]);
    writeCsv([good, '"data/a.jpg,data/a.png']);
    e = await error(openNyuDepthV2({ root }));
    expect(e.code).toBe('malformed-row');
    expect(e.message).toMatch(/unparsable text/);
  });

  it('paths escaping the dataset root', async () => {
    const good = await writeFrame('1');
    writeCsv([good, '../outside.jpg,data/nyu2_train/room_out/1.png']);
    let e = await error(openNyuDepthV2({ root }));
    expect([e.code, e.file, e.row]).toEqual(['path-escape', 'data/nyu2_train.csv', 2]);
    expect(e.message).toMatch(/expected a path inside the dataset root .*, received '\.\.\/outside\.jpg'/);
    writeCsv(['/etc/passwd,data/nyu2_train/room_out/1.png']);
    e = await error(openNyuDepthV2({ root }));
    expect([e.code, e.row]).toEqual(['path-escape', 1]);
    expect(e.message).toMatch(/received '\/etc\/passwd'/);
  });

  it('skipInvalid skips and counts bad rows; CRLF line endings and blank lines are fine', async () => {
    const good = await writeFrame('1');
    const good2 = await writeFrame('2');
    fs.writeFileSync(
      path.join(root, 'data/nyu2_train.csv'),
      [good, 'only-one-field', '', '../x.jpg,../x.png', 'data/nyu2_train/room_out/9.jpg,data/nyu2_train/room_out/9.png', good2].join('\r\n'),
    );
    const ds = await openNyuDepthV2({ root, skipInvalid: true });
    expect(ds.length).toBe(2);
    expect(ds.rows.map((r) => r.row)).toEqual([1, 6]);
    expect(ds.skipped.map((s) => [s.code, s.row])).toEqual([
      ['malformed-row', 2],
      ['path-escape', 4],
      ['missing-file', 5],
    ]);
    expect((await ds.get(1)).depth.data[0]).toBeCloseTo((51 / 255) * 10, 6);
    writeCsv(['../x.jpg,../x.png']);
    const e = await error(openNyuDepthV2({ root, skipInvalid: true }));
    expect(e.message).toMatch(/empty-split: .* received no usable rows \(1 skipped\)/);
  });
});

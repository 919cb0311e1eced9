import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { DataError, decodePng, encodePng } from '@gpl/data';
import { ADE20K_REDUCE_ZERO_LABEL, openAde20k } from './ade20k';
import { ADE20K_CLASSES, ADE20K_PALETTE } from './classes';

const MINI = path.resolve(__dirname, '../../../../datasets/ade20k-mini');

describe('ADE20K tables', () => {
  it('150 classes in the MMS order (REFERENCE.md §3), one colour each', () => {
    expect(ADE20K_CLASSES).toHaveLength(150);
    expect(ADE20K_PALETTE).toHaveLength(150);
    expect(ADE20K_CLASSES.slice(0, 10)).toEqual(['wall', 'building', 'sky', 'floor', 'tree', 'ceiling', 'road', 'bed', 'windowpane', 'grass']);
    expect(ADE20K_CLASSES.slice(-2)).toEqual(['clock', 'flag']);
    expect(new Set(ADE20K_CLASSES).size).toBe(150);
  });

  it('reduce-zero-label: 0 → 255, v → v − 1', () => {
    expect([ADE20K_REDUCE_ZERO_LABEL[0], ADE20K_REDUCE_ZERO_LABEL[1], ADE20K_REDUCE_ZERO_LABEL[150], ADE20K_REDUCE_ZERO_LABEL[255]]).toEqual([255, 0, 149, 255]);
    expect(ADE20K_REDUCE_ZERO_LABEL[151]).toBe(-1);
  });
});

describe('openAde20k on ade20k-mini', () => {
  it('finds 64 training and 24 validation images with ADE file names', async () => {
    const train = await openAde20k({ root: MINI });
    const val = await openAde20k({ root: MINI, split: 'val' });
    expect([train.length, val.length]).toEqual([64, 24]);
    expect(train.entries[0].id).toBe('ADE_train_00000001');
    expect(val.entries[23].id).toBe('ADE_val_00000024');
    expect([train.classNames.length, train.ignoreIndex]).toEqual([150, 255]);
  });

  it('applies reduce-zero-label to every pixel', async () => {
    const ds = await openAde20k({ root: MINI, split: 'validation' });
    const seen = new Set<number>();
    let zeros = 0;
    for (let k = 0; k < ds.length; k++) {
      const s = await ds.get(k);
      const raw = decodePng(fs.readFileSync(ds.entries[k].label));
      expect(raw.colorType).toBe(0);
      const expected = Uint8Array.from(raw.data, (v) => (v === 0 ? 255 : v - 1));
      expect(Buffer.compare(Buffer.from(s.label.data), Buffer.from(expected))).toBe(0);
      raw.data.forEach((v) => {
        if (v === 0) zeros++;
        seen.add(v);
      });
    }
    expect(zeros).toBeGreaterThan(0);
    // wall, building, sky, floor, tree, road, person, car all appear (values = index + 1).
    for (const name of ['wall', 'building', 'sky', 'floor', 'tree', 'road']) expect(seen.has(ADE20K_CLASSES.indexOf(name) + 1)).toBe(true);
  });
});

describe('bad input', () => {
  let root: string;
  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-ade-'));
    const base = path.join(root, 'ADEChallengeData2016');
    fs.mkdirSync(path.join(base, 'images/training'), { recursive: true });
    fs.mkdirSync(path.join(base, 'annotations/training'), { recursive: true });
    const jpg = await sharp(Buffer.alloc(16 * 12 * 3, 100), { raw: { width: 16, height: 12, channels: 3 } }).jpeg().toBuffer();
    for (const n of [1, 2]) {
      fs.writeFileSync(path.join(base, `images/training/ADE_train_0000000${n}.jpg`), jpg);
      fs.writeFileSync(path.join(base, `annotations/training/ADE_train_0000000${n}.png`), encodePng({ width: 16, height: 12, channels: 1, bitDepth: 8, data: new Uint8Array(192).fill(3) }));
    }
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const ann = (n: number): string => path.join(root, 'ADEChallengeData2016', `annotations/training/ADE_train_0000000${n}.png`);

  async function err(p: Promise<unknown>): Promise<DataError> {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }

  it('an annotation value above 150', async () => {
    const data = new Uint8Array(192).fill(3);
    data[16 * 4 + 2] = 151;
    fs.writeFileSync(ann(1), encodePng({ width: 16, height: 12, channels: 1, bitDepth: 8, data }));
    const ds = await openAde20k({ root });
    expect((await err(ds.get(0))).message).toMatch(/^\[@gpl\/ade20k\] label-out-of-range: annotations\/training\/ADE_train_00000001\.png: expected annotation values 0\.\.150, received value 151 at pixel \(x=2, y=4\)/);
  });

  it('a missing annotation (or skipped), an empty split, a bad split name', async () => {
    fs.rmSync(ann(2));
    expect((await err(openAde20k({ root }))).message).toMatch(/missing-file: annotations\/training\/ADE_train_00000002\.png: expected the annotation of images\/training\/ADE_train_00000002\.jpg/);
    expect((await openAde20k({ root, skipInvalid: true })).skipped).toHaveLength(1);
    fs.mkdirSync(path.join(root, 'ADEChallengeData2016/images/validation'));
    expect((await err(openAde20k({ root, split: 'validation' }))).code).toBe('empty-split');
    await expect(openAde20k({ root, split: 'test' })).rejects.toThrow(RangeError);
  });

  it('a size mismatch, found when the split is opened (headers only)', async () => {
    fs.writeFileSync(ann(1), encodePng({ width: 12, height: 16, channels: 1, bitDepth: 8, data: new Uint8Array(192) }));
    expect((await err(openAde20k({ root }))).message).toMatch(/size-mismatch: annotations\/training\/ADE_train_00000001\.png: expected 16×12 to match images\/training\/ADE_train_00000001\.jpg, received 12×16/);
  });
});

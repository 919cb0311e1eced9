import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataError, decodePng, encodePng, type SegmentationSample } from '@gpl/data';
import { openCityscapes } from './cityscapes';
import { CITYSCAPES_CLASSES, CITYSCAPES_LABEL_ID_TO_TRAIN_ID, CITYSCAPES_PALETTE, CITYSCAPES_TRAIN_ID_TO_LABEL_ID } from './labels';

const MINI = path.resolve(__dirname, '../../../../datasets/cityscapes-mini');

/** REFERENCE.md §1, as (trainId, name, labelId, RGB) rows. */
const REFERENCE_TABLE: readonly [number, string, number, [number, number, number]][] = [
  [0, 'road', 7, [128, 64, 128]], [1, 'sidewalk', 8, [244, 35, 232]], [2, 'building', 11, [70, 70, 70]], [3, 'wall', 12, [102, 102, 156]],
  [4, 'fence', 13, [190, 153, 153]], [5, 'pole', 17, [153, 153, 153]], [6, 'traffic light', 19, [250, 170, 30]], [7, 'traffic sign', 20, [220, 220, 0]],
  [8, 'vegetation', 21, [107, 142, 35]], [9, 'terrain', 22, [152, 251, 152]], [10, 'sky', 23, [70, 130, 180]], [11, 'person', 24, [220, 20, 60]],
  [12, 'rider', 25, [255, 0, 0]], [13, 'car', 26, [0, 0, 142]], [14, 'truck', 27, [0, 0, 70]], [15, 'bus', 28, [0, 60, 100]],
  [16, 'train', 31, [0, 80, 100]], [17, 'motorcycle', 32, [0, 0, 230]], [18, 'bicycle', 33, [119, 11, 32]],
];

describe('Cityscapes label tables', () => {
  it('match REFERENCE.md §1', () => {
    expect(CITYSCAPES_LABEL_ID_TO_TRAIN_ID).toEqual([255, 255, 255, 255, 255, 255, 255, 0, 1, 255, 255, 2, 3, 4, 255, 255, 255, 5, 255, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 16, 17, 18]);
    for (const [trainId, name, labelId, rgb] of REFERENCE_TABLE) {
      expect([CITYSCAPES_CLASSES[trainId], CITYSCAPES_PALETTE[trainId], CITYSCAPES_LABEL_ID_TO_TRAIN_ID[labelId], CITYSCAPES_TRAIN_ID_TO_LABEL_ID[trainId]]).toEqual([name, rgb, trainId, labelId]);
    }
    expect(CITYSCAPES_CLASSES).toHaveLength(19);
  });
});

describe('openCityscapes on cityscapes-mini', () => {
  it('finds 48 train and 16 val images across the cities, with the 19 classes', async () => {
    const train = await openCityscapes({ root: MINI });
    const val = await openCityscapes({ root: MINI, split: 'val' });
    expect([train.length, val.length]).toEqual([48, 16]);
    expect([...new Set(train.entries.map((e) => e.city))]).toEqual(['aachen', 'bochum', 'bremen']);
    expect([...new Set(val.entries.map((e) => e.city))]).toEqual(['frankfurt', 'lindau', 'munster']);
    expect(train.entries[0].id).toBe('aachen_000001_000019');
    expect(path.basename(train.entries[0].label)).toBe('aachen_000001_000019_gtFine_labelIds.png');
    expect([train.classNames.length, train.ignoreIndex, train.skipped.length]).toEqual([19, 255, 0]);
    expect((await openCityscapes({ root: MINI, cities: ['bochum'] })).length).toBe(16);
  });

  it('maps every labelId pixel through the REFERENCE table, and the ego-vehicle hood is ignored', async () => {
    const ds = await openCityscapes({ root: MINI, split: 'val' });
    const s: SegmentationSample = await ds.get(3);
    expect([s.image.width, s.image.height, s.image.channels, s.label.width, s.label.height]).toEqual([256, 128, 3, 256, 128]);
    const raw = decodePng(fs.readFileSync(ds.entries[3].label));
    const expected = Uint8Array.from(raw.data, (v) => CITYSCAPES_LABEL_ID_TO_TRAIN_ID[v]);
    expect(Buffer.compare(Buffer.from(s.label.data), Buffer.from(expected))).toBe(0);
    // Known pixels: bottom centre is the ego vehicle (labelId 1 → 255).
    expect(raw.data[127 * 256 + 128]).toBe(1);
    expect(s.label.data[127 * 256 + 128]).toBe(255);
  });

  it('has street structure: sky above road, many classes, thin poles', async () => {
    const ds = await openCityscapes({ root: MINI });
    const rows = new Map<number, number[]>();
    const seen = new Set<number>();
    for (let k = 0; k < 12; k++) {
      const s = await ds.get(k);
      s.label.data.forEach((v, i) => {
        seen.add(v);
        const r = rows.get(v) ?? [0, 0];
        r[0] += Math.floor(i / 256);
        r[1]++;
        rows.set(v, r);
      });
    }
    const meanRow = (t: number): number => rows.get(t)![0] / rows.get(t)![1];
    expect(meanRow(10)).toBeLessThan(meanRow(2)); // sky above building
    expect(meanRow(2)).toBeLessThan(meanRow(0)); // building above road
    for (const t of [0, 1, 2, 5, 7, 8, 10, 11, 13]) expect(seen.has(t)).toBe(true);
  });

  it('reads labelTrainIds files when asked', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-cs-'));
    try {
      fs.mkdirSync(path.join(dir, 'leftImg8bit/val/x'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'gtFine/val/x'), { recursive: true });
      fs.copyFileSync(path.join(MINI, 'leftImg8bit/val/lindau/lindau_000001_000019_leftImg8bit.png'), path.join(dir, 'leftImg8bit/val/x/x_000001_000019_leftImg8bit.png'));
      const train = new Uint8Array(256 * 128).fill(13);
      train[0] = 255;
      fs.writeFileSync(path.join(dir, 'gtFine/val/x/x_000001_000019_gtFine_labelTrainIds.png'), encodePng({ width: 256, height: 128, channels: 1, bitDepth: 8, data: train }));
      const ds = await openCityscapes({ root: dir, split: 'val', labelType: 'labelTrainIds' });
      const s = await ds.get(0);
      expect([s.label.data[0], s.label.data[1]]).toEqual([255, 13]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bad input', () => {
  let dir: string;
  const src = path.join(MINI, 'leftImg8bit/train/aachen/aachen_000001_000019_leftImg8bit.png');
  const lab = path.join(MINI, 'gtFine/train/aachen/aachen_000001_000019_gtFine_labelIds.png');
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-cs-'));
    fs.mkdirSync(path.join(dir, 'leftImg8bit/train/ulm'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'gtFine/train/ulm'), { recursive: true });
    for (const k of ['000001', '000002']) {
      fs.copyFileSync(src, path.join(dir, `leftImg8bit/train/ulm/ulm_${k}_000019_leftImg8bit.png`));
      fs.copyFileSync(lab, path.join(dir, `gtFine/train/ulm/ulm_${k}_000019_gtFine_labelIds.png`));
    }
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const img = (k: string): string => path.join(dir, `leftImg8bit/train/ulm/ulm_${k}_000019_leftImg8bit.png`);
  const gt = (k: string): string => path.join(dir, `gtFine/train/ulm/ulm_${k}_000019_gtFine_labelIds.png`);

  async function err(p: Promise<unknown>): Promise<DataError> {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }

  it('missing label: error naming it, or skipped and counted', async () => {
    fs.rmSync(gt('000002'));
    const e = await err(openCityscapes({ root: dir }));
    expect(e.message).toMatch(/^\[@gpl\/cityscapes\] missing-file: gtFine\/train\/ulm\/ulm_000002_000019_gtFine_labelIds\.png: expected the gtFine label of leftImg8bit\/train\/ulm\/ulm_000002_000019_leftImg8bit\.png/);
    const ds = await openCityscapes({ root: dir, skipInvalid: true });
    expect([ds.length, ds.skipped.length, ds.skipped[0].code]).toEqual([1, 1, 'missing-file']);
  });

  it('empty split and missing split folder', async () => {
    fs.rmSync(img('000001'));
    fs.rmSync(img('000002'));
    expect((await err(openCityscapes({ root: dir }))).message).toMatch(/empty-split: leftImg8bit\/train: expected \*_leftImg8bit\.png images/);
    expect((await err(openCityscapes({ root: dir, split: 'val' }))).message).toMatch(/missing-file: leftImg8bit\/val: expected the leftImg8bit\/val folder/);
  });

  it('size mismatch between image and label, found when the split is opened (headers only)', async () => {
    fs.writeFileSync(gt('000001'), encodePng({ width: 128, height: 64, channels: 1, bitDepth: 8, data: new Uint8Array(128 * 64).fill(7) }));
    expect((await err(openCityscapes({ root: dir }))).message).toMatch(/size-mismatch: gtFine\/train\/ulm\/ulm_000001_000019_gtFine_labelIds\.png: expected 256×128 to match .*, received 128×64/);
  });

  it('label id outside 0..33', async () => {
    const data = new Uint8Array(256 * 128).fill(7);
    data[5 * 256 + 9] = 40;
    fs.writeFileSync(gt('000001'), encodePng({ width: 256, height: 128, channels: 1, bitDepth: 8, data }));
    const ds = await openCityscapes({ root: dir });
    const e = await err(ds.get(0));
    expect(e.code).toBe('label-out-of-range');
    expect(e.message).toMatch(/ulm_000001_000019_gtFine_labelIds\.png: expected label ids 0\.\.33 or 255, received value 40 at pixel \(x=9, y=5\)/);
  });

  it('truncated image', async () => {
    const buf = fs.readFileSync(img('000002'));
    fs.writeFileSync(img('000002'), buf.subarray(0, buf.length >> 1));
    const ds = await openCityscapes({ root: dir });
    const e = await err(ds.get(1));
    expect(e.code).toBe('unreadable-image');
    expect(e.message).toMatch(/leftImg8bit\/train\/ulm\/ulm_000002_000019_leftImg8bit\.png: expected a decodable JPEG or PNG image/);
  });

  it('rejects a bad labelType and root kind', async () => {
    await expect(openCityscapes({ root: dir, labelType: 'color' as never })).rejects.toThrow(RangeError);
    await expect(openCityscapes({ root: 3 as never })).rejects.toThrow(TypeError);
  });
});

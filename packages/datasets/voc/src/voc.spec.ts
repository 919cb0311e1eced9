import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { DataError, decodePng, encodePng, vocColormap } from '@gpl/data';
import { openVoc, resolveVocRoot, VOC_CLASSES, VOC_PALETTE } from './voc';

const MINI = path.resolve(__dirname, '../../../../datasets/voc-mini');
const VOC = path.join(MINI, 'VOCdevkit', 'VOC2012');

describe('VOC tables', () => {
  it('match REFERENCE.md §2', () => {
    expect(VOC_CLASSES).toEqual(['background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor']);
    expect(VOC_PALETTE.slice(0, 5)).toEqual([[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128]]);
    expect(VOC_PALETTE[15]).toEqual([192, 128, 128]);
    expect(VOC_PALETTE[20]).toEqual([0, 64, 128]);
    expect(vocColormap(256)[255]).toEqual([224, 224, 192]);
  });
});

describe('openVoc on voc-mini', () => {
  it('reads the ImageSets lists (and SBD aug)', async () => {
    const lens = await Promise.all(['train', 'val', 'trainval'].map(async (split) => (await openVoc({ root: MINI, split })).length));
    expect(lens).toEqual([40, 20, 60]);
    const aug = await openVoc({ root: MINI, split: 'train', aug: true });
    expect(aug.length).toBe(80);
    expect(aug.entries.filter((e) => e.label.includes('SegmentationClassAug'))).toHaveLength(40);
    expect(resolveVocRoot(VOC)).toBe(VOC);
    expect((await openVoc({ root: VOC, split: 'val' })).entries[0].id).toMatch(/^20(0[7-9]|1[01])_\d{6}$/);
  });

  it('reads palette indices (never colours), with the 255 boundary band', async () => {
    const ds = await openVoc({ root: MINI, split: 'val' });
    const counts = new Map<number, number>();
    for (let k = 0; k < ds.length; k++) {
      const s = await ds.get(k);
      expect([s.label.width, s.label.height]).toEqual([s.image.width, s.image.height]);
      const file = fs.readFileSync(ds.entries[k].label);
      const raw = decodePng(file);
      expect(raw.colorType).toBe(3);
      expect(Buffer.compare(Buffer.from(s.label.data), Buffer.from(raw.data as Uint8Array))).toBe(0);
      s.label.data.forEach((v) => counts.set(v, (counts.get(v) ?? 0) + 1));
      if (k === 0) {
        // A known pixel: where the label holds index v, sharp's RGB expansion holds the colormap colour of v.
        const rgb = await sharp(file).removeAlpha().raw().toBuffer();
        const i = s.label.data.findIndex((v) => v !== 0 && v !== 255);
        const v = s.label.data[i];
        expect([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]]).toEqual([...vocColormap(256)[v]]);
      }
    }
    expect(counts.get(255)).toBeGreaterThan(0);
    expect(counts.get(0)).toBeGreaterThan(counts.get(255)!);
    expect([...counts.keys()].filter((v) => v > 0 && v < 21).length).toBeGreaterThanOrEqual(6);
  });

  it('SBD aug labels are grey class maps without boundaries', async () => {
    const ds = await openVoc({ root: MINI, aug: true });
    const k = ds.entries.findIndex((e) => e.label.includes('SegmentationClassAug'));
    const s = await ds.get(k);
    expect(decodePng(fs.readFileSync(ds.entries[k].label)).colorType).toBe(0);
    expect(s.label.data.includes(255)).toBe(false);
  });
});

describe('bad input', () => {
  let root: string;
  const ids = ['2007_000001', '2007_000002'];
  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-voc-'));
    const voc = path.join(root, 'VOCdevkit', 'VOC2012');
    for (const d of ['JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation']) fs.mkdirSync(path.join(voc, d), { recursive: true });
    const jpg = await sharp(Buffer.alloc(20 * 10 * 3, 100), { raw: { width: 20, height: 10, channels: 3 } }).jpeg().toBuffer();
    for (const id of ids) {
      fs.writeFileSync(path.join(voc, 'JPEGImages', `${id}.jpg`), jpg);
      fs.writeFileSync(path.join(voc, 'SegmentationClass', `${id}.png`), encodePng({ width: 20, height: 10, channels: 1, bitDepth: 8, data: new Uint8Array(200).fill(15), palette: vocColormap() }));
    }
    fs.writeFileSync(path.join(voc, 'ImageSets/Segmentation/train.txt'), ids.join('\n') + '\n');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const voc = (...p: string[]): string => path.join(root, 'VOCdevkit', 'VOC2012', ...p);

  async function err(p: Promise<unknown>): Promise<DataError> {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }

  it('a list path escaping the root names the list and row', async () => {
    fs.appendFileSync(voc('ImageSets/Segmentation/train.txt'), '../../../../etc/passwd\n');
    const e = await err(openVoc({ root }));
    expect(e.code).toBe('path-escape');
    expect(e.message).toMatch(/^\[@gpl\/voc\] path-escape: ImageSets\/Segmentation\/train\.txt row 3: expected a path inside the dataset root/);
    const ds = await openVoc({ root, skipInvalid: true });
    expect([ds.length, ds.skipped[0].row]).toEqual([2, 3]);
  });

  it('a listed id without its image names the file and the list row', async () => {
    fs.rmSync(voc('JPEGImages', '2007_000002.jpg'));
    expect((await err(openVoc({ root }))).message).toMatch(/missing-file: JPEGImages\/2007_000002\.jpg: expected the file of id '2007_000002' listed in ImageSets\/Segmentation\/train\.txt row 2/);
  });

  it('an empty list and a missing list', async () => {
    fs.writeFileSync(voc('ImageSets/Segmentation/train.txt'), '\n');
    expect((await err(openVoc({ root }))).message).toMatch(/empty-split: ImageSets\/Segmentation\/train\.txt: expected one image id per line, received no ids/);
    expect((await err(openVoc({ root, split: 'val' }))).message).toMatch(/missing-file: ImageSets\/Segmentation\/val\.txt: expected an index file/);
  });

  it('a class index above 20 (not 255)', async () => {
    const data = new Uint8Array(200).fill(0);
    data[13] = 21;
    fs.writeFileSync(voc('SegmentationClass', '2007_000001.png'), encodePng({ width: 20, height: 10, channels: 1, bitDepth: 8, data, palette: vocColormap() }));
    const ds = await openVoc({ root });
    expect((await err(ds.get(0))).message).toMatch(/label-out-of-range: SegmentationClass\/2007_000001\.png: expected class indices 0\.\.20 or 255 \(void\), received value 21 at pixel \(x=13, y=0\)/);
  });

  it('image/label size mismatch (found at open, from the headers) and a truncated JPEG (found on read)', async () => {
    const label = voc('SegmentationClass', '2007_000001.png');
    const good = fs.readFileSync(label);
    fs.writeFileSync(label, encodePng({ width: 10, height: 10, channels: 1, bitDepth: 8, data: new Uint8Array(100), palette: vocColormap() }));
    expect((await err(openVoc({ root }))).code).toBe('size-mismatch');
    fs.writeFileSync(label, good);
    const ds = await openVoc({ root });
    const jpg = fs.readFileSync(voc('JPEGImages', '2007_000002.jpg'));
    fs.writeFileSync(voc('JPEGImages', '2007_000002.jpg'), jpg.subarray(0, 100));
    expect((await err(ds.get(1))).message).toMatch(/unreadable-image: JPEGImages\/2007_000002\.jpg/);
  });
});

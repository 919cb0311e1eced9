import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { flipSample, isDataError, shardDataset, type DataError } from '@gpl/data';
import { annotationToRle, openCoco } from './coco-dataset';
import { encodeMask, rleArea, rleToBbox } from './rle';

const MINI = path.resolve(__dirname, '../../../../datasets/coco-mini');
const MINI_NAMES = ['person', 'car', 'stop sign', 'frisbee', 'sports ball', 'kite', 'bottle', 'tv'];

describe('COCO loader on coco-mini', () => {
  it('train: 40 images, 8 real categories mapped to 0..7 by id', async () => {
    const ds = await openCoco({ root: MINI, split: 'train' });
    expect([ds.name, ds.length, ds.skipped.length, ds.ignoreIndex]).toEqual(['coco/train', 40, 0, 255]);
    expect(ds.classNames).toEqual(MINI_NAMES);
    expect(ds.categoryMap.categories.map((c) => c.id)).toEqual([1, 3, 13, 34, 37, 38, 44, 72]);
    expect([ds.categoryMap.indexOf(44), ds.categoryMap.indexOf(72), ds.categoryMap.indexOf(2)]).toEqual([6, 7, undefined]);
    expect(ds.palette[0]).toEqual([220, 20, 60]);
    expect(ds.images[0].file_name).toBe('000000001001.jpg');
  });

  it('a known image: instances, boxes, masks and a pixel’s label', async () => {
    const ds = await openCoco({ root: MINI, split: 'train' });
    const s = await ds.get(0);
    expect([s.kind, s.id, s.files]).toEqual(['instances', '000000001001', ['train2017/000000001001.jpg']]);
    expect([s.image.width, s.image.height, s.image.channels]).toEqual([256, 192, 3]);
    expect(s.originalSize).toEqual({ height: 192, width: 256 });
    expect(s.instances.map((i) => [i.annotationId, i.categoryId, i.classIndex, i.crowd, [...i.box]])).toEqual([
      [1, 44, 6, false, [161, 105, 179, 161]],
      [2, 1, 0, false, [135, 48, 234, 156]],
    ]);
    for (const inst of s.instances) expect(inst.mask.length).toBe(256 * 192);
    const at = (x: number, y: number) => s.instances.map((i) => i.mask[y * 256 + x]);
    expect(at(185, 80)).toEqual([0, 1]); // the person's body
    expect(at(170, 140)).toEqual([1, 0]); // the bottle in front of the person
    expect(at(10, 10)).toEqual([0, 0]); // sky
  });

  it('every annotation is consistent: area and bbox from the mask, polygons for objects, uncompressed RLE for crowds', async () => {
    for (const [split, n, crowds] of [
      ['train', 40, 6],
      ['val', 12, 2],
    ] as const) {
      const ds = await openCoco({ root: MINI, split });
      expect(ds.length).toBe(n);
      let crowd = 0;
      const seen = new Set<number>();
      for (let i = 0; i < ds.length; i++) {
        const { width, height } = ds.images[i];
        const anns = ds.annotations(i);
        const objects = anns.filter((a) => a.iscrowd === 0);
        expect(objects.length).toBeGreaterThanOrEqual(2);
        expect(objects.length).toBeLessThanOrEqual(6);
        for (const a of anns) {
          const rle = annotationToRle(a.segmentation, height, width);
          expect([a.id, a.area]).toEqual([a.id, rleArea(rle)]);
          expect([a.id, a.bbox]).toEqual([a.id, rleToBbox(rle)]);
          expect(Array.isArray(a.segmentation)).toBe(a.iscrowd === 0);
          if (a.iscrowd) expect(Array.isArray((a.segmentation as { counts: unknown }).counts)).toBe(true);
          crowd += a.iscrowd;
          seen.add(a.category_id);
        }
      }
      expect([split, crowd]).toEqual([split, crowds]);
      expect([split, seen.size]).toEqual([split, 8]);
    }
  });

  it('crowd annotations load as crowd instances of class person', async () => {
    const ds = await openCoco({ root: MINI, split: 'train' });
    const s = await ds.get(3); // every 7th image from the 4th has a crowd
    const crowd = s.instances.filter((i) => i.crowd);
    expect(crowd).toHaveLength(1);
    expect([crowd[0].classIndex, crowd[0].categoryId]).toEqual([0, 1]);
    expect(crowd[0].mask.reduce((a, b) => a + b, 0)).toBe(ds.annotations(3).find((a) => a.iscrowd === 1)!.area);
  });

  it('sharding covers every image exactly once', async () => {
    const ds = await openCoco({ root: MINI, split: 'val' });
    for (const count of [1, 3, 5]) {
      const ids: string[] = [];
      for (let k = 0; k < count; k++) {
        const shard = shardDataset(ds, k, count);
        for (let i = 0; i < shard.length; i++) ids.push((await shard.get(i)).id);
      }
      expect(ids.sort()).toEqual(ds.images.map((im) => im.file_name.replace('.jpg', '')).sort());
    }
  });

  it('instances move with the image under a geometric transform (flip)', async () => {
    const ds = await openCoco({ root: MINI, split: 'train' });
    const s = await ds.get(0);
    const f = flipSample(s);
    const W = 256;
    f.instances.forEach((inst, k) => {
      const src = s.instances[k];
      expect(inst.annotationId).toBe(src.annotationId);
      expect([...inst.box]).toEqual([W - src.box[2], src.box[1], W - src.box[0], src.box[3]]);
      for (const [x, y] of [
        [185, 80],
        [170, 140],
      ]) {
        expect(inst.mask[y * W + (W - 1 - x)]).toBe(src.mask[y * W + x]);
      }
    });
  });

  it('keepEmpty: false drops images without annotations', async () => {
    const ds = await openCoco({ root: MINI, split: 'val', keepEmpty: false });
    expect(ds.length).toBe(12); // every mini image has instances
  });
});

describe('COCO loader on bad input', () => {
  let root: string;

  function write(patch: (j: any) => void = () => {}): void {
    const j: any = {
      images: [
        { id: 7, width: 16, height: 8, file_name: '000000000007.jpg' },
        { id: 8, width: 16, height: 8, file_name: '000000000008.jpg' },
      ],
      annotations: [
        { id: 100, image_id: 7, category_id: 18, segmentation: [[1, 1, 6, 1, 6, 6, 1, 6]], area: 25, bbox: [1, 1, 5, 5], iscrowd: 0 },
        { id: 101, image_id: 8, category_id: 1, segmentation: { counts: [0, 128], size: [8, 16] }, area: 128, bbox: [0, 0, 16, 8], iscrowd: 1 },
      ],
      categories: [
        { id: 1, name: 'person', supercategory: 'person' },
        { id: 18, name: 'dog', supercategory: 'animal' },
      ],
    };
    patch(j);
    fs.writeFileSync(path.join(root, 'annotations/instances_val2017.json'), JSON.stringify(j));
  }

  async function image(name: string, w = 16, h = 8, truncate = false): Promise<void> {
    const jpg = await sharp(new Uint8Array(w * h * 3).fill(120), { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer();
    fs.writeFileSync(path.join(root, 'val2017', name), truncate ? jpg.subarray(0, jpg.length >> 1) : jpg);
  }

  async function error(p: Promise<unknown>): Promise<DataError> {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isDataError(e)).toBe(true);
    return e as DataError;
  }

  const open = (extra: object = {}) => openCoco({ root, split: 'val', ...extra });

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-coco-'));
    fs.mkdirSync(path.join(root, 'annotations'));
    fs.mkdirSync(path.join(root, 'val2017'));
    await image('000000000007.jpg');
    await image('000000000008.jpg');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('a valid file loads, with the crowd RLE decoded and masks of the image size', async () => {
    write();
    const ds = await open();
    const [a, b] = [await ds.get(0), await ds.get(1)];
    expect(a.instances[0]).toMatchObject({ classIndex: 1, categoryId: 18, box: [1, 1, 6, 6], crowd: false, annotationId: 100 });
    expect(a.instances[0].mask.reduce((s, v) => s + v, 0)).toBe(25);
    expect(b.instances[0]).toMatchObject({ classIndex: 0, crowd: true });
    expect(b.instances[0].mask.every((v) => v === 1)).toBe(true);
  });

  it('a missing annotation file', async () => {
    const e = await error(open());
    expect([e.code, e.file]).toEqual(['missing-file', 'annotations/instances_val2017.json']);
  });

  it('a missing image file names it (and skipInvalid counts it)', async () => {
    write();
    fs.rmSync(path.join(root, 'val2017/000000000008.jpg'));
    const e = await error(open());
    expect([e.code, e.file]).toEqual(['missing-file', 'val2017/000000000008.jpg']);
    expect(e.message).toMatch(/expected the image file of image id 8 listed in annotations\/instances_val2017\.json, received nothing at /);
    const ds = await open({ skipInvalid: true });
    expect([ds.length, ds.skipped.map((s) => s.code)]).toEqual([1, ['missing-file']]);
  });

  it('a truncated image fails in get() naming the file', async () => {
    write();
    await image('000000000008.jpg', 16, 8, true);
    const e = await error((await open()).get(1));
    expect([e.code, e.file]).toEqual(['unreadable-image', 'val2017/000000000008.jpg']);
  });

  it('an image whose size differs from the JSON', async () => {
    write();
    await image('000000000007.jpg', 12, 8);
    const e = await error((await open()).get(0));
    expect([e.code, e.file]).toEqual(['size-mismatch', 'val2017/000000000007.jpg']);
    expect(e.message).toMatch(/expected 16×8 as listed for image id 7 in annotations\/instances_val2017\.json, received 12×8/);
  });

  it('an empty split', async () => {
    write((j) => ((j.images = []), (j.annotations = [])));
    const e = await error(open());
    expect([e.code, e.file]).toEqual(['empty-split', 'annotations/instances_val2017.json']);
    expect(e.message).toMatch(/received an empty "images" list/);
  });

  it('malformed JSON', async () => {
    fs.writeFileSync(path.join(root, 'annotations/instances_val2017.json'), '{"images": [}');
    const e = await error(open());
    expect([e.code, e.file]).toEqual(['malformed-json', 'annotations/instances_val2017.json']);
  });

  it('a bad annotation throws naming file and annotation id; skipInvalid skips its image', async () => {
    write((j) => (j.annotations[0].bbox = [10, 2, 9, 3]));
    const e = await error(open());
    expect([e.code, e.file, e.annotationId]).toEqual(['malformed-annotation', 'annotations/instances_val2017.json', 100]);
    expect(e.message).toMatch(/annotation id 100: expected a bbox inside the 16×8 image/);
    const ds = await open({ skipInvalid: true });
    expect(ds.images.map((i) => i.id)).toEqual([8]);
    expect(ds.skipped).toEqual([expect.objectContaining({ code: 'malformed-annotation', annotationId: 100 })]);
  });

  it('unknown category and polygon problems, skipped and counted together', async () => {
    write((j) => {
      j.annotations[0].category_id = 5;
      j.annotations.push({ id: 102, image_id: 8, category_id: 1, segmentation: [[1, 1, 2]], area: 1, bbox: [1, 1, 1, 1], iscrowd: 0 });
    });
    const e = await error(open());
    expect(e.message).toMatch(/annotation id 100: expected category_id to be one of the file's categories \(1, 18\), received unknown category 5/);
    const err = await error(open({ skipInvalid: true }));
    expect(err.code).toBe('empty-split');
    expect(err.message).toMatch(/none of 2 images usable \(2 skipped\)/);
  });

  it('a file_name escaping the image folder', async () => {
    write((j) => (j.images[1].file_name = '../annotations/instances_val2017.json'));
    const e = await error(open());
    expect([e.code, e.file]).toEqual(['path-escape', 'annotations/instances_val2017.json']);
    expect(e.message).toMatch(/expected image id 8 to have a file_name inside the image folder/);
  });

  it('annotationToRle handles polygons, uncompressed and compressed RLE', () => {
    const mask = Uint8Array.from({ length: 12 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const rle = encodeMask(mask, 3, 4);
    expect(annotationToRle(rle, 3, 4)).toBe(rle);
    expect(annotationToRle({ size: [3, 4], counts: '<' }, 3, 4).counts).toEqual([12]);
    expect(rleArea(annotationToRle([[0, 0, 2, 0, 2, 2, 0, 2]], 3, 4))).toBe(4);
  });
});

// Ground truth for evaluation: what COCOeval needs is checked, with one-line messages naming file, index and field.
import { parseEvalGroundTruth, toEvalGroundTruth } from './ground-truth';

const base = () => ({
  images: [{ id: 2, width: 10, height: 8 }, { id: 1, width: 10, height: 8 }],
  categories: [{ id: 7, name: 'b' }, { id: 3, name: 'a' }],
  annotations: [{ id: 5, image_id: 1, category_id: 3, bbox: [-2, 0, 14, 3], area: 42, iscrowd: 0, segmentation: [[0, 0, 1, 1]] }],
});

describe('toEvalGroundTruth', () => {
  it('keeps what pycocotools accepts: boxes beyond the image, short polygons; sorts categories by id', () => {
    const gt = toEvalGroundTruth(base(), 'gt.json');
    expect(gt.categories.map((c) => c.id)).toEqual([3, 7]);
    expect(gt.images.map((im) => im.id)).toEqual([2, 1]);
    expect(gt.annotations[0]).toMatchObject({ id: 5, index: 0, imageId: 1, categoryId: 3, area: 42, iscrowd: false, bbox: [-2, 0, 14, 3] });
  });

  const broken: [string, (j: ReturnType<typeof base>) => unknown, RegExp][] = [
    ['a repeated image id', (j) => ({ ...j, images: [...j.images, { id: 2, width: 1, height: 1 }] }), /gt\.json: expected images\[2\]\.id to be unique, received 2/],
    ['a zero width', (j) => ({ ...j, images: [{ id: 2, width: 0, height: 8 }] }), /expected images\[0\]\.width to be a positive integer, received 0/],
    ['category id 0', (j) => ({ ...j, categories: [{ id: 0, name: 'x' }] }), /expected categories\[0\]\.id to be a positive integer, received 0/],
    ['an unknown image', (j) => ({ ...j, annotations: [{ ...j.annotations[0], image_id: 9 }] }), /expected annotations\[0\]\.image_id to be the id of an entry of "images", received 9/],
    ['an unknown category', (j) => ({ ...j, annotations: [{ ...j.annotations[0], category_id: 4 }] }), /expected annotations\[0\]\.category_id to be the id of an entry of "categories", received 4/],
    ['a 3-number bbox', (j) => ({ ...j, annotations: [{ ...j.annotations[0], bbox: [0, 0, 1] }] }), /expected annotations\[0\]\.bbox to be \[x, y, width, height\] of finite numbers, received \[0,0,1\]/],
    ['no iscrowd', (j) => ({ ...j, annotations: [{ ...j.annotations[0], iscrowd: undefined }] }), /expected annotations\[0\]\.iscrowd to be 0 or 1, received nothing \(field missing\)/],
    ['a string area', (j) => ({ ...j, annotations: [{ ...j.annotations[0], area: '12' }] }), /expected annotations\[0\]\.area to be a finite number, received "12"/],
    ['a repeated annotation id', (j) => ({ ...j, annotations: [j.annotations[0], j.annotations[0]] }), /expected annotations\[1\]\.id to be unique/],
  ];
  it.each(broken)('rejects %s in one line', (_name, edit, message) => {
    let err: Error | undefined;
    try {
      toEvalGroundTruth(edit(base()), 'gt.json');
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(message);
    expect(err?.message).toMatch(/^\[@gpl\/coco\] malformed-json: gt\.json: /);
    expect(err?.message.split('\n')).toHaveLength(1);
  });

  it('names the file when the text is not JSON', () => {
    expect(() => parseEvalGroundTruth('{"images": [', 'instances.json')).toThrow(/instances\.json: expected COCO instances JSON, received text that is not JSON/);
  });
});

import { isDataError, type DataError } from '@gpl/data';
import { parseInstancesJson, validateInstances } from './instances';

const FILE = 'annotations/instances_val2017.json';

/** A minimal valid file; `patch` edits a deep copy. */
function instances(patch: (j: any) => void = () => {}): any {
  const j = {
    images: [
      { id: 7, width: 20, height: 10, file_name: '000000000007.jpg' },
      { id: 8, width: 20, height: 10, file_name: '000000000008.jpg' },
    ],
    annotations: [
      { id: 100, image_id: 7, category_id: 18, segmentation: [[1, 1, 6, 1, 6, 6, 1, 6]], area: 25, bbox: [1, 1, 5, 5], iscrowd: 0 },
      { id: 101, image_id: 7, category_id: 1, segmentation: { counts: [0, 200], size: [10, 20] }, area: 200, bbox: [0, 0, 20, 10], iscrowd: 1 },
      { id: 102, image_id: 8, category_id: 1, segmentation: { counts: 'X6', size: [10, 20] }, area: 0, bbox: [0, 0, 0, 0], iscrowd: 0 },
    ],
    categories: [
      { id: 18, name: 'dog', supercategory: 'animal' },
      { id: 1, name: 'person', supercategory: 'person' },
    ],
  };
  const copy = JSON.parse(JSON.stringify(j));
  patch(copy);
  return copy;
}

const validate = (j: unknown) => validateInstances(j, FILE, { tolerance: 1 });

/** The single problem of an otherwise valid file. */
function problem(patch: (j: any) => void): DataError {
  const v = validate(instances(patch));
  expect(v.problems).toHaveLength(1);
  expect(isDataError(v.problems[0].error)).toBe(true);
  return v.problems[0].error;
}

function thrown(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    expect(isDataError(e)).toBe(true);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

describe('instances JSON validation', () => {
  it('accepts a valid file: categories sorted by id, annotations grouped by image, iscrowd kept', () => {
    const v = validate(instances());
    expect(v.problems).toEqual([]);
    expect(v.categoryMap.names).toEqual(['person', 'dog']);
    expect(v.annotationsByImage.get(7)!.map((a) => [a.id, a.iscrowd])).toEqual([
      [100, 0],
      [101, 1],
    ]);
    expect(v.annotationsByImage.get(8)!.map((a) => a.id)).toEqual([102]);
  });

  it('malformed JSON text and structure (file-level: always thrown)', () => {
    let e = thrown(() => parseInstancesJson('{"images": [', FILE, { tolerance: 1 }));
    expect([e.code, e.file]).toEqual(['malformed-json', FILE]);
    expect(e.message).toMatch(/expected COCO instances JSON, received text that is not JSON/);
    e = thrown(() => validate([]));
    expect(e.message).toMatch(/expected a JSON object with "images", "annotations" and "categories", received \[\]/);
    e = thrown(() => validate(instances((j) => delete j.annotations)));
    expect(e.message).toMatch(/expected "annotations" to be an array, received nothing \(field missing\)/);
    e = thrown(() => validate(instances((j) => (j.categories[0].id = 0))));
    expect(e.message).toMatch(/expected categories\[0\]\.id to be a positive integer .* received 0/);
    e = thrown(() => validate(instances((j) => (j.categories[1].id = 18))));
    expect(e.message).toMatch(/expected unique category ids, received id 18 twice/);
    e = thrown(() => validate(instances((j) => (j.images[1].id = 7))));
    expect(e.message).toMatch(/expected unique image ids, received id 7 twice/);
  });

  it('bad polygons name the annotation id', () => {
    let e = problem((j) => (j.annotations[0].segmentation = [[1, 1, 6, 1, 6]]));
    expect([e.code, e.file, e.annotationId]).toEqual(['malformed-annotation', FILE, 100]);
    expect(e.message).toBe(
      `[@gpl/coco] malformed-annotation: ${FILE} annotation id 100: expected polygon 0 to have ≥ 3 points (an even count ≥ 6 of numbers), received 5 numbers.`,
    );
    e = problem((j) => (j.annotations[0].segmentation = [[1, 1, 6, 1]]));
    expect(e.message).toMatch(/received 4 numbers/);
    e = problem((j) => (j.annotations[0].segmentation = [[1, 1, 6, 1, 6, 'x']]));
    expect(e.message).toMatch(/expected polygon 0 to hold finite numbers, received "x"/);
    e = problem((j) => (j.annotations[0].segmentation = [[1, 1, 6, 1, 6, 6], [1, 1, 30, 1, 6, 6]]));
    expect(e.message).toMatch(/expected polygon 1 inside the 20×10 image \(tolerance 1 px\), received point 1 at \(30, 1\)/);
    e = problem((j) => (j.annotations[0].segmentation = []));
    expect(e.message).toMatch(/expected at least one polygon/);
  });

  it('a box outside the image, negative sizes, wrong shape', () => {
    let e = problem((j) => (j.annotations[0].bbox = [15, 2, 8, 3]));
    expect(e.message).toMatch(/annotation id 100: expected a bbox inside the 20×10 image \(tolerance 1 px\), received \[15,2,8,3\], which lies outside/);
    expect(validate(instances((j) => (j.annotations[0].bbox = [-0.5, 0, 20.5, 10]))).problems).toEqual([]); // within tolerance
    e = problem((j) => (j.annotations[0].bbox = [1, 1, -2, 3]));
    expect(e.message).toMatch(/expected a bbox with non-negative width and height/);
    e = problem((j) => (j.annotations[0].bbox = [1, 1, 2]));
    expect(e.message).toMatch(/expected bbox to be \[x, y, width, height\] of finite numbers, received \[1,1,2\]/);
  });

  it('an unknown category or image, a repeated annotation id, bad iscrowd / area', () => {
    let e = problem((j) => (j.annotations[0].category_id = 3));
    expect(e.message).toMatch(/annotation id 100: expected category_id to be one of the file's categories \(1, 18\), received unknown category 3/);
    const v = validate(instances((j) => (j.annotations[1].image_id = 99)));
    expect(v.problems[0].imageId).toBeUndefined();
    expect(v.problems[0].error.message).toMatch(/annotation id 101: expected image_id to name an entry of "images", received 99, which is not listed/);
    e = problem((j) => (j.annotations[1].id = 100));
    expect(e.message).toMatch(/annotation id 100: expected unique annotation ids, received id 100 again/);
    e = problem((j) => (j.annotations[0].iscrowd = true));
    expect(e.message).toMatch(/expected iscrowd to be 0 or 1, received true/);
    e = problem((j) => delete j.annotations[0].area);
    expect(e.message).toMatch(/expected area to be a non-negative number, received nothing/);
  });

  it('crowd RLE: size must be the image size, counts must cover it', () => {
    let e = problem((j) => (j.annotations[1].segmentation.size = [20, 10]));
    expect(e.message).toMatch(/annotation id 101: expected an RLE size equal to the image's \[height, width\] = \[10, 20\], received \[20,10\]/);
    e = problem((j) => (j.annotations[1].segmentation.counts = [0, 150]));
    expect(e.message).toMatch(/expected RLE counts summing to height·width = 200, received a sum of 150/);
    e = problem((j) => (j.annotations[1].segmentation.counts = [0, -5, 205]));
    expect(e.message).toMatch(/expected RLE counts to be non-negative integers, received counts\[1\] = -5/);
    e = problem((j) => (j.annotations[2].segmentation.counts = 'a!'));
    expect(e.message).toMatch(/annotation id 102: expected a compressed RLE string/);
    e = problem((j) => (j.annotations[1].segmentation = 'person'));
    expect(e.message).toMatch(/expected segmentation to be a list of polygons or an RLE \{size, counts\}, received "person"/);
  });

  it('image entries: bad size and file names escaping the image folder invalidate that image', () => {
    let v = validate(instances((j) => (j.images[0].file_name = '../../etc/passwd')));
    expect(v.problems.map((p) => [p.imageId, p.error.code])).toEqual([[7, 'path-escape']]);
    expect(v.problems[0].error.message).toMatch(/expected image id 7 to have a file_name inside the image folder, received "\.\.\/\.\.\/etc\/passwd", which escapes it/);
    expect(v.images.map((i) => i.id)).toEqual([8]);
    expect(v.annotationsByImage.has(7)).toBe(false);
    v = validate(instances((j) => (j.images[1].height = 0)));
    expect(v.problems[0].error.message).toMatch(/expected image id 8 to have a positive integer height, received 0/);
    v = validate(instances((j) => (j.images[1].file_name = '/abs/x.jpg')));
    expect(v.problems[0].error.code).toBe('path-escape');
  });
});

// Results files: writer → reader round trip, loadRes' rules, and one-line errors naming file, index and field.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { toEvalGroundTruth } from './eval/ground-truth';
import { parseCocoResults, readCocoResults, toCocoResult, toEvalDetections, writeCocoResults } from './results';
import { countsFromString, decodeRle } from './rle';

const gt = toEvalGroundTruth(
  {
    images: [{ id: 3, width: 6, height: 4 }],
    categories: [{ id: 5, name: 'x' }],
    annotations: [],
  },
  'gt.json',
);

describe('results files', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coco-results-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips masks, boxes and scores through a compressed-RLE JSON file', async () => {
    // an L shape: pixels (1,1), (1,2), (2,2) in a 4×6 image
    const mask = new Uint8Array(24);
    for (const [x, y] of [[1, 1], [1, 2], [2, 2]]) mask[y * 6 + x] = 1;
    const r = toCocoResult({ imageId: 3, categoryId: 5, score: 0.75, mask, height: 4, width: 6 });
    expect(r.bbox).toEqual([1, 1, 2, 2]);
    expect(typeof r.segmentation!.counts).toBe('string');
    expect(r.segmentation!.size).toEqual([4, 6]);
    const file = path.join(dir, 'results.json');
    await writeCocoResults(file, [r, toCocoResult({ imageId: 3, categoryId: 5, score: 0.5, bbox: [0, 0, 2, 3] })]);
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(raw[0]).toEqual({ image_id: 3, category_id: 5, bbox: [1, 1, 2, 2], score: 0.75, segmentation: r.segmentation });
    expect(Array.from(decodeRle({ size: [4, 6], counts: countsFromString(raw[0].segmentation.counts) }))).toEqual(Array.from(mask));
    const loaded = readCocoResults(file, gt);
    expect(loaded.kind).toBe('bbox');
    // box results: area = w·h (4 for the L, whose mask has 3 px), ids 1-based, the box-only one gets its polygon
    expect(loaded.detections.map((d) => [d.id, d.area, d.score])).toEqual([[1, 4, 0.75], [2, 6, 0.5]]);
    expect(loaded.detections[1].segmentation).toEqual([[0, 0, 0, 3, 2, 3, 2, 0]]);
  });

  it('reads mask-only results with the mask area and box (loadRes without bbox)', () => {
    const mask = new Uint8Array(24);
    mask[2 * 6 + 4] = 1;
    mask[3 * 6 + 4] = 1;
    const { bbox: _bbox, ...maskOnly } = toCocoResult({ imageId: 3, categoryId: 5, score: 0.1, mask, height: 4, width: 6 });
    const loaded = toEvalDetections([maskOnly], 'dt.json', gt);
    expect(loaded.kind).toBe('segm');
    expect(loaded.detections[0].area).toBe(2);
    expect(loaded.detections[0].bbox).toEqual([4, 2, 1, 2]);
  });

  it('accepts an empty list (no detections)', () => {
    expect(toEvalDetections([], 'dt.json', gt).detections).toEqual([]);
  });

  it.each([
    ['{"a": 1}', /dt\.json: expected a JSON array of results/],
    ['[1, 2', /dt\.json: expected a JSON array of COCO results, received text that is not JSON/],
    ['[{"image_id": 9, "category_id": 5, "bbox": [0,0,1,1], "score": 1}]', /dt\.json: expected \[0\]\.image_id to be an image id of gt\.json, received 9, which it does not list/],
    ['[{"image_id": 3, "category_id": 5, "bbox": [0,0,1,1], "score": 1}, {"image_id": 3, "category_id": 6, "bbox": [0,0,1,1], "score": 1}]', /expected \[1\]\.category_id to be a category id of gt\.json \(5\), received 6/],
    ['[{"image_id": 3, "category_id": 5, "bbox": [0,0,1], "score": 1}]', /expected \[0\]\.bbox to be \[x, y, width, height\]/],
    ['[{"image_id": 3, "category_id": 5, "bbox": [0,0,1,1], "score": "high"}]', /expected \[0\]\.score to be a finite number, received "high"/],
    ['[{"image_id": 3, "category_id": 5, "bbox": [0,0,1,1], "score": 1}, {"image_id": 3, "category_id": 5, "score": 1, "segmentation": {"size": [4,6], "counts": "8"}}]', /expected \[1\]\.bbox, as result \[0\] has one/],
    ['[{"image_id": 3, "category_id": 5, "score": 1, "segmentation": {"size": [4,6], "counts": "0"}}]', /expected \[0\]\.segmentation to be an RLE .* received RLE counts sum to 0, expected h·w = 4·6 = 24/],
  ])('rejects %s with a one-line message', (text, message) => {
    let err: Error | undefined;
    try {
      parseCocoResults(text, 'dt.json', gt);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(message);
    expect(err?.message.split('\n')).toHaveLength(1);
  });
});

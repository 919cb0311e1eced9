// cocoEvaluate against pycocotools itself on coco-mini and on seeded synthetic sets (crowd RLEs, multi-part polygons,
// JSON areas that disagree with the masks, empty images, a category without ground truth, tied scores,
// duplicates, an image with 120 detections), bit for bit: the 12 stats and every precision and recall
// entry. Runs where a python3 on PATH imports pycocotools (`pip install pycocotools`); skipped elsewhere.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cocoEvaluate, type IouType } from './cocoeval';
import { createRng } from '@gpl/data';
import { toEvalGroundTruth } from './ground-truth';
import { cocoRleArea, cocoRleBbox, rleIouMatrix } from './iou';
import { annotationToRle } from '../coco-dataset';
import { toCocoResult, toEvalDetections } from '../results';
import { decodeRle, type Rle } from '../rle';
import { findPycocotoolsPython, syntheticCoco } from '../testing';

const python = findPycocotoolsPython();
const maybe = python ? describe : describe.skip;
if (!python) console.log('cocoeval-pycocotools.spec: no python3 on PATH imports pycocotools; the comparison is skipped.');

interface Job {
  readonly name: string;
  readonly gt: object;
  readonly dt: object[];
  readonly iouType: IouType;
}

maybe('cocoEvaluate equals pycocotools', () => {
  const a = syntheticCoco({ seed: 11, images: 25, crowdedEvery: 13 });
  const b = syntheticCoco({ seed: 12, images: 25, crowdedEvery: 13, resultBoxes: false });
  // box-only results: loadRes gives each the polygon of its box for segm evaluation
  const boxesOnly = a.results.map((r) => {
    const { segmentation: _s, ...rest } = r as Record<string, unknown>;
    return rest;
  });
  // coco-mini's own polygons and crowd RLEs; detections = each mask shifted by −1, 0 or +1 px, boxes
  // jittered, every 10th given another category, scores in steps of 0.1
  const miniGt = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../../../datasets/coco-mini/annotations/instances_val2017.json'), 'utf8'));
  const miniDt = (miniGt.annotations as { id: number; image_id: number; category_id: number; bbox: number[]; iscrowd: number; segmentation: number[][] }[])
    .filter((a) => !a.iscrowd)
    .map((a, n) => {
      const im = (miniGt.images as { id: number; height: number; width: number }[]).find((i) => i.id === a.image_id)!;
      const [h, w] = [im.height, im.width];
      const mask = decodeRle(annotationToRle(a.segmentation, h, w));
      const shifted = new Uint8Array(h * w);
      const dx = (n % 3) - 1;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (x - dx >= 0 && x - dx < w) shifted[y * w + x] = mask[y * w + x - dx];
      const bbox = a.bbox.map((v, i) => v + ((n * (i + 3)) % 5) - 2) as [number, number, number, number];
      return toCocoResult({ imageId: a.image_id, categoryId: n % 10 === 9 ? 1 : a.category_id, score: (n * 7) % 10 / 10, bbox, mask: shifted, height: h, width: w });
    });
  const jobs: Job[] = [
    { name: 'coco-mini val, bbox', gt: miniGt, dt: miniDt, iouType: 'bbox' },
    { name: 'coco-mini val, segm', gt: miniGt, dt: miniDt, iouType: 'segm' },
    { name: 'boxes + masks, bbox', gt: a.gt, dt: a.results, iouType: 'bbox' },
    { name: 'boxes + masks, segm', gt: a.gt, dt: a.results, iouType: 'segm' },
    { name: 'masks only, bbox', gt: b.gt, dt: b.results, iouType: 'bbox' },
    { name: 'masks only, segm', gt: b.gt, dt: b.results, iouType: 'segm' },
    { name: 'boxes only, segm', gt: a.gt, dt: boxesOnly, iouType: 'segm' },
  ];
  let reference: { stats: number[]; precision: number[]; recall: number[] }[];
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coco-pycocotools-'));
    const spec = jobs.map((j, k) => {
      const gt = path.join(dir, `gt-${k}.json`);
      const dt = path.join(dir, `dt-${k}.json`);
      fs.writeFileSync(gt, JSON.stringify(j.gt));
      fs.writeFileSync(dt, JSON.stringify(j.dt));
      return { gt, dt, iouType: j.iouType };
    });
    fs.writeFileSync(path.join(dir, 'jobs.json'), JSON.stringify(spec));
    const out = execFileSync(python!, [path.join(__dirname, 'pycocotools-reference.py'), path.join(dir, 'jobs.json')], { maxBuffer: 1 << 28 });
    reference = JSON.parse(out.toString());
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives the same mask IoU, box and area on random RLEs with empty runs and mismatched sizes', () => {
    const rle = (h: number, w: number): Rle => {
      const counts: number[] = [];
      for (let left = h * w; left > 0; ) {
        const c = rng.next() < 0.2 ? 0 : Math.min(left, 1 + Math.floor(rng.next() * 6));
        counts.push(c);
        left -= c;
      }
      return { size: [h, w], counts };
    };
    const rng = createRng(5);
    const cases = Array.from({ length: 150 }, () => {
      const [h, w] = [2 + Math.floor(rng.next() * 5), 2 + Math.floor(rng.next() * 5)];
      const dts = Array.from({ length: 1 + Math.floor(rng.next() * 3) }, () => (rng.next() < 0.15 ? rle(h + 1, w) : rle(h, w)));
      const gts = Array.from({ length: 1 + Math.floor(rng.next() * 3) }, () => rle(h, w));
      return { dts, gts, iscrowd: gts.map(() => (rng.next() < 0.3 ? 1 : 0)) };
    });
    fs.writeFileSync(path.join(dir, 'masks.json'), JSON.stringify(cases));
    const ref: { iou: number[]; bbox: number[][]; area: number[] }[] = JSON.parse(
      execFileSync(python!, [path.join(__dirname, 'pycocotools-reference.py'), path.join(dir, 'masks.json')]).toString(),
    );
    cases.forEach((c, k) => {
      expect(Array.from(rleIouMatrix(c.dts, c.gts, c.iscrowd.map(Boolean)))).toEqual(ref[k].iou);
      expect(c.dts.map(cocoRleBbox)).toEqual(ref[k].bbox);
      expect(c.dts.map(cocoRleArea)).toEqual(ref[k].area);
    });
  });

  it.each(jobs.map((j, k) => [j.name, k] as const))('%s', (_name, k) => {
    const job = jobs[k];
    const gt = toEvalGroundTruth(job.gt, 'gt.json');
    const r = cocoEvaluate(gt, toEvalDetections(job.dt, 'dt.json', gt), { iouType: job.iouType });
    const ref = reference[k];
    expect(r.stats).toEqual(ref.stats);
    // a set where nothing is matched would make this comparison weak
    expect(ref.stats[0]).toBeGreaterThan(0.02);
    expect(Array.from(r.precision)).toEqual(ref.precision);
    expect(Array.from(r.recall)).toEqual(ref.recall);
  });
});

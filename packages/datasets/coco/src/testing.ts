/**
 * Seeded synthetic COCO ground truth and results for tests and the evaluator benchmark: polygons
 * (some in two parts), crowd RLEs, JSON areas that disagree with the mask, images
 * without annotations, a category without ground truth, quantised (tied) scores, duplicates and
 * images with more than 100 detections — the cases where COCOeval's rules matter. Also finds a
 * python3 with pycocotools, for the comparisons against it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createRng, type SeededRng } from '@gpl/data';
import { cocoRleArea, cocoRleBbox, segmentationToRle } from './eval/iou';
import { compressRle, encodeMask, type Rle } from './rle';

/** Options of {@link syntheticCoco}. */
export interface SyntheticCocoOptions {
  readonly seed: number;
  readonly images: number;
  /** Image side range in pixels. */
  readonly minSide?: number;
  readonly maxSide?: number;
  /** Ground-truth objects per image: 0..maxObjects. */
  readonly maxObjects?: number;
  /** Extra false positives per image: 0..maxFalsePositives. */
  readonly maxFalsePositives?: number;
  /** Every `crowdedEvery`-th image gets 120 detections (0: none). */
  readonly crowdedEvery?: number;
  /** Results carry `bbox` (detectron2 style) as well as masks. */
  readonly resultBoxes?: boolean;
}

/** A synthetic instances JSON and results list. */
export interface SyntheticCoco {
  readonly gt: { images: object[]; categories: object[]; annotations: object[] };
  readonly results: object[];
}

const CATEGORIES = [1, 2, 5, 9]; // 9 never gets ground truth

function starPolygon(rng: SeededRng, cx: number, cy: number, r: number, points: number): number[] {
  const xy: number[] = [];
  for (let k = 0; k < points; k++) {
    const a = (2 * Math.PI * k) / points;
    const rr = r * (0.5 + 0.5 * rng.next());
    xy.push(round2(cx + rr * Math.cos(a)), round2(cy + rr * Math.sin(a)));
  }
  return xy;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

function jitter(rng: SeededRng, xy: readonly number[], amount: number): number[] {
  return xy.map((v) => round2(v + (rng.next() - 0.5) * 2 * amount));
}

function rectRle(h: number, w: number, x: number, y: number, bw: number, bh: number): Rle {
  const m = new Uint8Array(h * w);
  for (let r = y; r < Math.min(h, y + bh); r++) for (let c = x; c < Math.min(w, x + bw); c++) m[r * w + c] = 1;
  return encodeMask(m, h, w);
}

/** Builds a seeded synthetic evaluation set. */
export function syntheticCoco(o: SyntheticCocoOptions): SyntheticCoco {
  const rng = createRng(o.seed);
  const minSide = o.minSide ?? 48;
  const maxSide = o.maxSide ?? 160;
  const maxObjects = o.maxObjects ?? 6;
  const maxFp = o.maxFalsePositives ?? 3;
  const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
  const score = () => Math.round(rng.next() * 20) / 20; // steps of 0.05: many ties
  const images: object[] = [];
  const annotations: object[] = [];
  const results: object[] = [];
  const detection = (imageId: number, categoryId: number, seg: unknown, h: number, w: number) => {
    const rle = segmentationToRle(seg, h, w);
    const entry: Record<string, unknown> = { image_id: imageId, category_id: categoryId, score: score(), segmentation: compressRle(rle) };
    if (o.resultBoxes ?? true) entry.bbox = cocoRleBbox(rle).map((v, i) => (i < 2 ? v : v) + round2((rng.next() - 0.5) * 2));
    results.push(entry);
  };
  for (let i = 0; i < o.images; i++) {
    const id = 1000 + ((i * 7919) % (o.images * 3)); // ids not in file order
    const h = int(minSide, maxSide);
    const w = int(minSide, maxSide);
    images.push({ id, width: w, height: h, file_name: `${id}.jpg` });
    const objects = i % 5 === 4 ? 0 : int(0, maxObjects); // every 5th image has no annotation
    for (let n = 0; n < objects; n++) {
      const cat = CATEGORIES[int(0, 2)];
      const r = int(3, Math.floor(Math.min(h, w) / 2));
      const cx = int(0, w - 1);
      const cy = int(0, h - 1);
      const kind = rng.next();
      let segmentation: unknown;
      let iscrowd = 0;
      if (kind < 0.1) {
        const rle = rectRle(h, w, Math.max(0, cx - r), Math.max(0, cy - r), 2 * r, 2 * r);
        segmentation = { size: rle.size, counts: rle.counts };
        iscrowd = 1;
      } else {
        segmentation = [starPolygon(rng, cx, cy, r, int(3, 9))];
        if (kind > 0.9) (segmentation as number[][]).push(starPolygon(rng, cx + r, cy, r / 2, 5));
      }
      const rle = segmentationToRle(segmentation, h, w);
      const area = rng.next() < 0.1 ? int(1, 12000) : cocoRleArea(rle); // sometimes the JSON area disagrees
      annotations.push({ id: annotations.length + 1, image_id: id, category_id: cat, segmentation, area, bbox: cocoRleBbox(rle), iscrowd });
      const copies = int(0, 3);
      for (let c = 0; c < copies; c++) {
        const base = Array.isArray(segmentation) && (segmentation as number[][])[0].length > 4 ? (segmentation as number[][])[0] : starPolygon(rng, cx, cy, r, 6);
        detection(id, rng.next() < 0.9 ? cat : CATEGORIES[int(0, 3)], [jitter(rng, base, c === 0 ? 1 : r / 3)], h, w);
      }
    }
    const fps = o.crowdedEvery && i % o.crowdedEvery === 0 ? 120 : int(0, maxFp);
    for (let n = 0; n < fps; n++) {
      detection(id, CATEGORIES[int(0, 3)], [starPolygon(rng, int(0, w - 1), int(0, h - 1), int(2, 20), 5)], h, w);
    }
  }
  return { gt: { images, categories: CATEGORIES.map((id) => ({ id, name: `cat${id}`, supercategory: 'thing' })), annotations }, results };
}

/**
 * The interpreter of the first python3 on PATH that imports pycocotools (nx puts /usr/bin ahead of
 * pyenv's shims), if any, as its real executable (a pyenv shim costs about 2 s per start).
 */
export function findPycocotoolsPython(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const candidates = [...new Set(dirs.map((d) => path.join(d, 'python3')).filter((f) => fs.existsSync(f)))];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import sys, pycocotools.cocoeval; print(sys.executable)'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

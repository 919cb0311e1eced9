/**
 * Ground truth for evaluation: an instances JSON read the way `pycocotools.coco.COCO` reads it
 * for COCOeval (`createIndex`), with validation of exactly the fields COCOeval uses.
 *
 * This is more lenient than `validateInstances` (the training loader) on purpose: COCOeval accepts
 * boxes reaching outside the image and polygons of fewer than 3 points (real COCO files have a
 * few), and its results must be the same on such files. Checked: images `{id, width, height}`
 * (unique integer ids), categories `{id > 0, name}`, annotations `{id, image_id, category_id,
 * bbox, area, iscrowd}` naming a listed image and category. Segmentations are read only for segm
 * evaluation (see `cocoEvaluate`). A JSON `ignore` field is not read: `_prepare` overwrites it
 * with `iscrowd`.
 */
import * as fs from 'fs';
import { DataError } from '@gpl/data';
import type { BboxXywh } from '../rle';

/** An image as COCOeval needs it. */
export interface EvalImage {
  readonly id: number;
  readonly width: number;
  readonly height: number;
}

/** A category. */
export interface EvalCategory {
  readonly id: number;
  readonly name: string;
}

/** A ground-truth annotation as COCOeval needs it. */
export interface EvalGtAnnotation {
  readonly id: number;
  /** Position in the file's `annotations` list (for messages). */
  readonly index: number;
  readonly imageId: number;
  readonly categoryId: number;
  readonly bbox: BboxXywh;
  /** The JSON `area`: what the area ranges test (not the mask's pixel count). */
  readonly area: number;
  readonly iscrowd: boolean;
  /** As in the file; read only by segm evaluation. */
  readonly segmentation: unknown;
}

/** A parsed ground-truth file. */
export interface EvalGroundTruth {
  /** The file name used in messages. */
  readonly file: string;
  /** Images in file order. */
  readonly images: readonly EvalImage[];
  readonly imageById: ReadonlyMap<number, EvalImage>;
  /** Categories sorted by id (COCOeval's `catIds` order). */
  readonly categories: readonly EvalCategory[];
  /** Annotations in file order. */
  readonly annotations: readonly EvalGtAnnotation[];
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A received value, shortened for a one-line message. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing (field missing)';
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** Reads a file's text, with a one-line `DataError` naming it when it is missing or a folder. */
export function readTextFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const received = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder' : (e as Error).message;
    throw new DataError({ pkg: '@gpl/coco', code: 'missing-file', file, expected: what, received });
  }
}

/** `JSON.parse` with a one-line `DataError` naming the file. */
export function parseJsonText(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError({ pkg: '@gpl/coco', code: 'malformed-json', file, expected: what, received: `text that is not JSON (${(e as Error).message})` });
  }
}

/** Parses and checks an instances JSON for evaluation. `file` names it in messages. */
export function parseEvalGroundTruth(text: string, file: string): EvalGroundTruth {
  return toEvalGroundTruth(parseJsonText(text, file, 'COCO instances JSON'), file);
}

/** Reads an instances JSON for evaluation (see {@link parseEvalGroundTruth}). */
export function readEvalGroundTruth(file: string): EvalGroundTruth {
  return parseEvalGroundTruth(readTextFile(file, 'a COCO instances JSON file'), file);
}

/** Checks parsed instances JSON for evaluation. */
export function toEvalGroundTruth(json: unknown, file: string): EvalGroundTruth {
  const fail = (expected: string, received: unknown): never => {
    throw new DataError({ pkg: '@gpl/coco', code: 'malformed-json', file, expected, received: showValue(received) });
  };
  if (!isObj(json)) fail('a JSON object with "images", "annotations" and "categories"', json);
  const top = json as Record<string, unknown>;
  for (const key of ['images', 'annotations', 'categories']) if (!Array.isArray(top[key])) fail(`"${key}" to be an array`, top[key]);

  const images: EvalImage[] = [];
  const imageById = new Map<number, EvalImage>();
  (top.images as unknown[]).forEach((im, i) => {
    if (!isObj(im)) fail(`images[${i}] to be an object {id, width, height}`, im);
    const o = im as Record<string, unknown>;
    if (!isInt(o.id)) fail(`images[${i}].id to be an integer`, o.id);
    if (imageById.has(o.id as number)) fail(`images[${i}].id to be unique`, o.id);
    for (const k of ['width', 'height']) if (!isInt(o[k]) || (o[k] as number) <= 0) fail(`images[${i}].${k} to be a positive integer`, o[k]);
    const e: EvalImage = { id: o.id as number, width: o.width as number, height: o.height as number };
    images.push(e);
    imageById.set(e.id, e);
  });

  const categories: EvalCategory[] = [];
  const catIds = new Set<number>();
  (top.categories as unknown[]).forEach((c, i) => {
    if (!isObj(c)) fail(`categories[${i}] to be an object {id, name}`, c);
    const o = c as Record<string, unknown>;
    if (!isInt(o.id) || (o.id as number) <= 0) fail(`categories[${i}].id to be a positive integer`, o.id);
    if (catIds.has(o.id as number)) fail(`categories[${i}].id to be unique`, o.id);
    if (typeof o.name !== 'string') fail(`categories[${i}].name to be a string`, o.name);
    catIds.add(o.id as number);
    categories.push({ id: o.id as number, name: o.name as string });
  });
  categories.sort((a, b) => a.id - b.id);

  const annotations: EvalGtAnnotation[] = [];
  const annIds = new Set<number>();
  (top.annotations as unknown[]).forEach((a, i) => {
    const l = `annotations[${i}]`;
    if (!isObj(a)) fail(`${l} to be an object {id, image_id, category_id, bbox, area, iscrowd, segmentation}`, a);
    const o = a as Record<string, unknown>;
    if (!isInt(o.id)) fail(`${l}.id to be an integer`, o.id);
    if (annIds.has(o.id as number)) fail(`${l}.id to be unique (pycocotools indexes annotations by id)`, o.id);
    if (!isInt(o.image_id) || !imageById.has(o.image_id)) fail(`${l}.image_id to be the id of an entry of "images"`, o.image_id);
    if (!isInt(o.category_id) || !catIds.has(o.category_id)) fail(`${l}.category_id to be the id of an entry of "categories"`, o.category_id);
    const bb = o.bbox;
    if (!Array.isArray(bb) || bb.length !== 4 || !bb.every(isNum)) fail(`${l}.bbox to be [x, y, width, height] of finite numbers`, bb);
    if (!isNum(o.area)) fail(`${l}.area to be a finite number`, o.area);
    if (!(o.iscrowd === 0 || o.iscrowd === 1 || o.iscrowd === true || o.iscrowd === false)) fail(`${l}.iscrowd to be 0 or 1`, o.iscrowd);
    annIds.add(o.id as number);
    annotations.push({
      id: o.id as number,
      index: i,
      imageId: o.image_id as number,
      categoryId: o.category_id as number,
      bbox: bb as unknown as BboxXywh,
      area: o.area as number,
      iscrowd: o.iscrowd === 1 || o.iscrowd === true,
      segmentation: o.segmentation,
    });
  });
  return { file, images, imageById, categories, annotations };
}

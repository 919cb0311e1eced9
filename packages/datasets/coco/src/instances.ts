/**
 * COCO instances JSON (`annotations/instances_{train,val}2017.json`): types and validation.
 *
 * File-level problems (not JSON, a missing or mistyped top-level array, a bad category, a
 * repeated image id) always throw. Image-level problems (bad size, a file name escaping the
 * image folder) and annotation-level problems (bad polygon, box outside the image, unknown
 * category, unknown image) are collected, so a loader can throw the first one or skip the
 * affected images (`skipInvalid`). Every problem is a `DataError` from `@gpl/data` whose
 * message names the file and annotation id and says what was expected and what was found.
 */
import * as path from 'path';
import { DataError, type DataErrorCode } from '@gpl/data';
import { CategoryMap, type CocoCategory } from './categories';
import { countsFromString, type BboxXywh, type CompressedRle, type Rle } from './rle';

/** An `images[]` entry (fields GPL reads; others are kept untouched). */
export interface CocoImage {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly file_name: string;
  readonly [extra: string]: unknown;
}

/** A segmentation: polygons (non-crowd) or RLE (crowd: uncompressed counts; compressed also accepted). */
export type CocoSegmentation = readonly (readonly number[])[] | Rle | CompressedRle;

/** An `annotations[]` entry. */
export interface CocoAnnotation {
  readonly id: number;
  readonly image_id: number;
  readonly category_id: number;
  readonly segmentation: CocoSegmentation;
  readonly area: number;
  readonly bbox: BboxXywh;
  readonly iscrowd: 0 | 1;
  readonly [extra: string]: unknown;
}

/** The whole file. */
export interface CocoInstancesJson {
  readonly images: readonly CocoImage[];
  readonly annotations: readonly CocoAnnotation[];
  readonly categories: readonly CocoCategory[];
  readonly [extra: string]: unknown;
}

/** An image- or annotation-level problem and the image it makes invalid (undefined: none known). */
export interface InstancesProblem {
  readonly imageId: number | undefined;
  readonly error: DataError;
}

/** Validated content, indexed for loading. */
export interface ValidatedInstances {
  /** Valid images in file order. */
  readonly images: readonly CocoImage[];
  /** Valid annotations of each valid image, in file order (images without any map to []). */
  readonly annotationsByImage: ReadonlyMap<number, readonly CocoAnnotation[]>;
  /** The file's categories, sorted by id, with contiguous indices. */
  readonly categoryMap: CategoryMap;
  /** Image- and annotation-level problems, in file order. */
  readonly problems: readonly InstancesProblem[];
}

/** Options of {@link validateInstances}. */
export interface ValidateInstancesOptions {
  /** How far (pixels) boxes and polygon points may reach outside the image before they count as invalid. */
  readonly tolerance: number;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Short JSON-ish rendering of a received value for messages. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing (field missing)';
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** Thrown inside a check, turned into a DataError by the caller that knows the context. */
class Problem {
  constructor(
    readonly code: DataErrorCode,
    readonly expected: string,
    readonly received: string,
  ) {}
}

function need(ok: boolean, expected: string, received: () => string, code: DataErrorCode = 'malformed-annotation'): void {
  if (!ok) throw new Problem(code, expected, received());
}

/** Parses and validates an instances file's text. `file` names the file in messages. */
export function parseInstancesJson(text: string, file: string, options: ValidateInstancesOptions): ValidatedInstances {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataError({
      pkg: '@gpl/coco',
      code: 'malformed-json',
      file,
      expected: 'COCO instances JSON',
      received: `text that is not JSON (${(e as Error).message})`,
    });
  }
  return validateInstances(json, file, options);
}

/**
 * Validates parsed instances JSON. Throws a `DataError` (code `malformed-json`) for file-level
 * problems; returns image- and annotation-level problems in `problems`.
 */
export function validateInstances(json: unknown, file: string, options: ValidateInstancesOptions): ValidatedInstances {
  const fileError = (p: Problem | Error): DataError =>
    p instanceof Problem
      ? new DataError({ pkg: '@gpl/coco', code: 'malformed-json', file, expected: p.expected, received: p.received })
      : (p as DataError);
  let categoryMap: CategoryMap;
  try {
    need(isObj(json), 'a JSON object with "images", "annotations" and "categories"', () => show(json), 'malformed-json');
    const top = json as Record<string, unknown>;
    for (const key of ['images', 'annotations', 'categories']) {
      need(Array.isArray(top[key]), `"${key}" to be an array`, () => show(top[key]), 'malformed-json');
    }
    const categories: CocoCategory[] = [];
    (top.categories as unknown[]).forEach((c, i) => {
      const label = `categories[${i}]`;
      need(isObj(c), `${label} to be an object {id, name, supercategory}`, () => show(c), 'malformed-json');
      const cat = c as Record<string, unknown>;
      need(isInt(cat.id) && cat.id > 0, `${label}.id to be a positive integer (0 means "unmatched" in COCOeval)`, () => show(cat.id), 'malformed-json');
      need(typeof cat.name === 'string', `${label}.name to be a string`, () => show(cat.name), 'malformed-json');
      need(!categories.some((p) => p.id === cat.id), `unique category ids`, () => `id ${cat.id} twice`, 'malformed-json');
      categories.push({ id: cat.id as number, name: cat.name as string, supercategory: typeof cat.supercategory === 'string' ? cat.supercategory : '' });
    });
    categoryMap = new CategoryMap(categories);
  } catch (e) {
    throw fileError(e as Problem | Error);
  }
  const top = json as Record<string, unknown[]>;
  const problems: InstancesProblem[] = [];

  const images: CocoImage[] = [];
  const byId = new Map<number, CocoImage>();
  const badImages = new Set<number>();
  top.images.forEach((im, i) => {
    const id = isObj(im) && isInt(im.id) ? im.id : undefined;
    if (id !== undefined && (byId.has(id) || badImages.has(id))) {
      throw fileError(new Problem('malformed-json', 'unique image ids', `id ${id} twice`));
    }
    try {
      checkImage(im, i);
      byId.set(id as number, im as CocoImage);
      images.push(im as CocoImage);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      if (id !== undefined) badImages.add(id);
      problems.push({ imageId: id, error: new DataError({ pkg: '@gpl/coco', code: e.code, file, expected: e.expected, received: e.received }) });
    }
  });

  const annotationsByImage = new Map<number, CocoAnnotation[]>(images.map((im) => [im.id, []]));
  const seen = new Set<number>();
  top.annotations.forEach((a, i) => {
    const annotationId = isObj(a) && isInt(a.id) ? a.id : undefined;
    const imageId = isObj(a) && isInt(a.image_id) ? a.image_id : undefined;
    if (imageId !== undefined && badImages.has(imageId)) return; // the image is already rejected
    try {
      checkAnnotation(a, i, byId, categoryMap, options.tolerance, seen);
      annotationsByImage.get(imageId as number)!.push(a as CocoAnnotation);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      problems.push({
        imageId: imageId !== undefined && byId.has(imageId) ? imageId : undefined,
        error: new DataError({ pkg: '@gpl/coco', code: e.code, file, annotationId, expected: e.expected, received: e.received }),
      });
    }
    if (annotationId !== undefined) seen.add(annotationId);
  });
  return { images, annotationsByImage, categoryMap, problems };
}

function checkImage(im: unknown, i: number): void {
  const label = `images[${i}]`;
  need(isObj(im), `${label} to be an object {id, width, height, file_name}`, () => show(im), 'malformed-json');
  const o = im as Record<string, unknown>;
  need(isInt(o.id), `${label}.id to be an integer`, () => show(o.id), 'malformed-json');
  const l = `image id ${o.id}`;
  for (const k of ['width', 'height']) need(isInt(o[k]) && (o[k] as number) > 0, `${l} to have a positive integer ${k}`, () => show(o[k]), 'malformed-json');
  need(typeof o.file_name === 'string' && o.file_name.length > 0, `${l} to have a non-empty file_name`, () => show(o.file_name), 'malformed-json');
  const normal = path.posix.normalize((o.file_name as string).replace(/\\/g, '/'));
  need(
    !path.posix.isAbsolute(normal) && !path.win32.isAbsolute(o.file_name as string) && normal !== '..' && !normal.startsWith('../'),
    `${l} to have a file_name inside the image folder`,
    () => `${show(o.file_name)}, which escapes it`,
    'path-escape',
  );
}

function checkAnnotation(
  a: unknown,
  i: number,
  images: ReadonlyMap<number, CocoImage>,
  categoryMap: CategoryMap,
  tol: number,
  seen: ReadonlySet<number>,
): void {
  need(isObj(a), `annotations[${i}] to be an object {id, image_id, category_id, segmentation, area, bbox, iscrowd}`, () => show(a));
  const o = a as Record<string, unknown>;
  need(isInt(o.id), `annotations[${i}].id to be an integer`, () => show(o.id));
  need(!seen.has(o.id as number), 'unique annotation ids', () => `id ${o.id} again`);
  need(isInt(o.image_id) && images.has(o.image_id), 'image_id to name an entry of "images"', () => `${show(o.image_id)}, which is not listed`);
  const image = images.get(o.image_id as number)!;
  need(
    isInt(o.category_id) && categoryMap.indexOf(o.category_id) !== undefined,
    `category_id to be one of the file's categories (${categoryMap.categories.map((c) => c.id).join(', ')})`,
    () => `unknown category ${show(o.category_id)}`,
  );
  need(o.iscrowd === 0 || o.iscrowd === 1, 'iscrowd to be 0 or 1', () => show(o.iscrowd));
  need(isNum(o.area) && o.area >= 0, 'area to be a non-negative number', () => show(o.area));
  const { width: W, height: H } = image;
  const bb = o.bbox;
  need(Array.isArray(bb) && bb.length === 4 && bb.every(isNum), 'bbox to be [x, y, width, height] of finite numbers', () => show(bb));
  const [x, y, w, h] = bb as number[];
  need(w >= 0 && h >= 0, 'a bbox with non-negative width and height', () => show(bb));
  need(
    x >= -tol && y >= -tol && x + w <= W + tol && y + h <= H + tol,
    `a bbox inside the ${W}×${H} image (tolerance ${tol} px)`,
    () => `${show(bb)}, which lies outside`,
  );
  const seg = o.segmentation;
  if (Array.isArray(seg)) {
    need(seg.length > 0, 'at least one polygon in segmentation', () => 'an empty list');
    seg.forEach((poly: unknown, p) => {
      const l = `polygon ${p}`;
      need(Array.isArray(poly), `${l} to be a list [x1, y1, x2, y2, …]`, () => show(poly));
      const xy = poly as unknown[];
      need(xy.length >= 6 && xy.length % 2 === 0, `${l} to have ≥ 3 points (an even count ≥ 6 of numbers)`, () => `${xy.length} numbers`);
      need(xy.every(isNum), `${l} to hold finite numbers`, () => show(xy.find((v) => !isNum(v))));
      for (let j = 0; j < xy.length; j += 2) {
        const [px, py] = [xy[j] as number, xy[j + 1] as number];
        need(
          px >= -tol && px <= W + tol && py >= -tol && py <= H + tol,
          `${l} inside the ${W}×${H} image (tolerance ${tol} px)`,
          () => `point ${j / 2} at (${px}, ${py})`,
        );
      }
    });
  } else if (isObj(seg) && (Array.isArray(seg.counts) || typeof seg.counts === 'string')) {
    const size = seg.size;
    need(Array.isArray(size) && size[0] === H && size[1] === W, `an RLE size equal to the image's [height, width] = [${H}, ${W}]`, () => show(size));
    let counts: unknown[];
    try {
      counts = typeof seg.counts === 'string' ? countsFromString(seg.counts) : (seg.counts as unknown[]);
    } catch (e) {
      throw new Problem('malformed-annotation', 'a compressed RLE string', (e as Error).message.replace(/^\[@gpl\/coco\] countsFromString: /, ''));
    }
    const bad = counts.findIndex((c) => !isInt(c) || c < 0);
    need(bad < 0, 'RLE counts to be non-negative integers', () => `counts[${bad}] = ${show(counts[bad])}`);
    const total = (counts as number[]).reduce((s, c) => s + c, 0);
    need(total === H * W, `RLE counts summing to height·width = ${H * W}`, () => `a sum of ${total}`);
  } else {
    throw new Problem('malformed-annotation', 'segmentation to be a list of polygons or an RLE {size, counts}', show(seg));
  }
}

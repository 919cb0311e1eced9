/**
 * A folder format for users' own data:
 *
 *   <root>/classes.json                  {"task": "segmentation"|"depth", "names": [...],
 *                                         "palette": [[r,g,b],...], "ignoreIndex": 255,
 *                                         "depthScale": 1000, "depthRange": [0.001, 10]}
 *   <root>/images/[<split>/]<stem>.jpg|.jpeg|.png
 *   <root>/labels/[<split>/]<stem>.png   8-bit grey or palette PNG of class indices (segmentation;
 *                                         optional for depth)
 *   <root>/depth/[<split>/]<stem>.png    16-bit grey PNG, metres = value / depthScale, 0 = invalid
 *   <root>/splits/<split>.txt            optional: one stem (or path under images/) per line
 *
 * `names` is required for segmentation; `palette` defaults to the VOC colormap, `ignoreIndex` to
 * 255, `depthScale` to 1000 (millimetres), `task` to "segmentation".
 */
import * as fs from 'fs';
import * as path from 'path';
import { createDataset, type IndexedDataset } from './dataset';
import { DataError, throwOrSkip } from './errors';
import {
  checkLabelRange,
  checkLayout,
  checkSameSize,
  displayPath,
  listDir,
  peekLabelPng,
  peekImageSize,
  readImage,
  readIndexFile,
  readJsonFile,
  readLabelPng,
  readUint16Png,
  resolveInside,
  type ReadContext,
} from './io';
import { vocColormap, type ExpectedPalette } from './palette';
import type { DepthSample, Rgb, SegmentationSample, SkippedSample } from './types';

const PKG = '@gpl/data';
const IMAGE_EXTS = ['.jpg', '.jpeg', '.png'];

/** Options of `openCustomFolder`. */
export interface CustomFolderConfig {
  /** Dataset root holding classes.json, images/, labels/ or depth/. */
  readonly root: string;
  /** Split: `splits/<split>.txt` if present, else the `images/<split>/` subfolder; omitted: `images/` itself. */
  readonly split?: string;
  /** Skip samples with missing files at open (recorded in `dataset.skipped`) instead of throwing. */
  readonly skipInvalid: boolean;
}

/** Defaults of `CustomFolderConfig` (root has none). */
export const defaultCustomFolderConfig: Readonly<Omit<CustomFolderConfig, 'root'>> = Object.freeze({
  // No split: read images/ directly.
  split: undefined,
  // Fail on the first bad sample.
  skipInvalid: false,
});

/** Parsed classes.json. */
export interface CustomClasses {
  readonly task: 'segmentation' | 'depth';
  readonly names: readonly string[];
  readonly palette: readonly Rgb[];
  readonly ignoreIndex: number;
  readonly depthScale: number;
  readonly depthRange?: readonly [number, number];
}

function badJson(file: string, expected: string, received: unknown): DataError {
  return new DataError({ pkg: PKG, code: 'malformed-json', file, expected, received: JSON.stringify(received) ?? String(received) });
}

/** Reads and validates `<root>/classes.json`. */
export async function readCustomClasses(root: string): Promise<CustomClasses> {
  const file = path.join(root, 'classes.json');
  const shown = displayPath(file, root);
  const j = (await readJsonFile(file, { pkg: PKG, root }, 'classes.json')) as Record<string, unknown>;
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw badJson(shown, 'an object with "names"', j);
  const task = j.task ?? 'segmentation';
  if (task !== 'segmentation' && task !== 'depth') throw badJson(shown, '"task" to be "segmentation" or "depth"', task);
  const names = j.names ?? [];
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw badJson(shown, '"names" to be an array of strings', names);
  if (task === 'segmentation' && names.length === 0) throw badJson(shown, 'a non-empty "names" array for segmentation', names);
  const ignoreIndex = j.ignoreIndex ?? 255;
  if (!Number.isInteger(ignoreIndex) || (ignoreIndex as number) < 0 || (ignoreIndex as number) > 255) {
    throw badJson(shown, '"ignoreIndex" to be an integer 0..255', ignoreIndex);
  }
  if (task === 'segmentation' && (ignoreIndex as number) < names.length) {
    throw badJson(shown, `"ignoreIndex" outside the class indices 0..${names.length - 1}`, ignoreIndex);
  }
  if (names.length > 255) throw badJson(shown, 'at most 255 classes (8-bit label PNGs)', names.length);
  let palette: Rgb[];
  if (j.palette === undefined) palette = vocColormap(names.length);
  else {
    const p = j.palette;
    const ok = Array.isArray(p) && p.length === names.length &&
      p.every((c) => Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
    if (!ok) throw badJson(shown, `"palette" to be ${names.length} [r, g, b] triples of integers 0..255`, p);
    palette = (p as number[][]).map((c) => [c[0], c[1], c[2]] as const);
  }
  const depthScale = j.depthScale ?? 1000;
  if (typeof depthScale !== 'number' || !(depthScale > 0)) throw badJson(shown, '"depthScale" > 0 (PNG units per metre)', depthScale);
  let depthRange: [number, number] | undefined;
  if (j.depthRange !== undefined) {
    const r = j.depthRange;
    if (!Array.isArray(r) || r.length !== 2 || !(r[0] >= 0) || !(r[1] > r[0])) throw badJson(shown, '"depthRange" to be [min, max] metres with max > min ≥ 0', r);
    depthRange = [r[0], r[1]];
  }
  return { task, names, palette, ignoreIndex: ignoreIndex as number, depthScale, ...(depthRange ? { depthRange } : {}) };
}

/**
 * The colours a palette label must show: classes.json's palette (or the VOC colormap), index for
 * index; the ignore value keeps the VOC colormap's colour when the palette is the default one.
 */
function expectedLabelPalette(c: CustomClasses): ExpectedPalette {
  const colours: (Rgb | undefined)[] = [...c.palette];
  const byDefault = c.palette.every((rgb, i) => { const v = vocColormap(i + 1)[i]; return rgb[0] === v[0] && rgb[1] === v[1] && rgb[2] === v[2]; });
  colours[c.ignoreIndex] = byDefault ? vocColormap(c.ignoreIndex + 1)[c.ignoreIndex] : undefined;
  const names: (string | undefined)[] = [...c.names];
  names[c.ignoreIndex] = 'ignore';
  return { name: 'the classes.json palette', colours, names };
}

interface Entry {
  readonly id: string;
  readonly image: string;
  readonly label?: string;
  readonly depth?: string;
}

function exists(p: string): boolean {
  return fs.existsSync(p);
}

async function imageStems(dir: string, ctx: ReadContext): Promise<{ stem: string; file: string }[]> {
  const entries = await listDir(dir, ctx, 'an images/ folder');
  return entries
    .filter((e) => e.isFile() && IMAGE_EXTS.includes(path.extname(e.name).toLowerCase()))
    .map((e) => ({ stem: path.basename(e.name, path.extname(e.name)), file: path.join(dir, e.name) }));
}

/**
 * Opens a custom-folder dataset (segmentation or depth, per classes.json). Decoding checks image
 * and target sizes and label ranges, throwing `DataError`s that name the file.
 */
export async function openCustomFolder(
  config: Partial<CustomFolderConfig> & Pick<CustomFolderConfig, 'root'>,
): Promise<IndexedDataset<Entry, SegmentationSample | DepthSample>> {
  const cfg = { ...defaultCustomFolderConfig, ...config };
  if (typeof cfg.root !== 'string' || !cfg.root) throw new TypeError('[@gpl/data] openCustomFolder: root must be a directory path.');
  const root = path.resolve(cfg.root);
  const ctx: ReadContext = { pkg: PKG, root };
  checkLayout(root, ['classes.json', 'images'], ctx, 'custom-folder');
  const classes = await readCustomClasses(root);
  const labelPalette = expectedLabelPalette(classes);
  const listFile = cfg.split ? path.join(root, 'splits', `${cfg.split}.txt`) : undefined;
  const useList = listFile !== undefined && exists(listFile);
  // Each image's path under images/ without extension; labels and depth mirror it.
  let images: { rel: string; file: string; row?: number }[];
  if (useList) {
    images = [];
    for (const { text, row } of await readIndexFile(listFile, ctx)) {
      const base = resolveInside(path.join(root, 'images'), text, ctx, listFile, row);
      const file = path.extname(text) ? base : (IMAGE_EXTS.map((e) => base + e).find(exists) ?? base + '.jpg');
      const rel = path.relative(path.join(root, 'images'), file);
      images.push({ rel: rel.slice(0, rel.length - path.extname(rel).length), file, row });
    }
  } else {
    const dir = cfg.split ? path.join(root, 'images', cfg.split) : path.join(root, 'images');
    images = (await imageStems(dir, ctx)).map((im) => ({ rel: cfg.split ? path.join(cfg.split, im.stem) : im.stem, file: im.file }));
  }
  const skipped: SkippedSample[] = [];
  if (images.length === 0) {
    const where = useList ? listFile : path.join(root, 'images', cfg.split ?? '');
    throw new DataError({ pkg: PKG, code: 'empty-split', file: displayPath(where, root), expected: 'at least one image (.jpg, .jpeg or .png)', received: 'none' });
  }
  const isDepth = classes.task === 'depth';
  const hasLabels = !isDepth || exists(path.join(root, 'labels'));
  const entries: Entry[] = [];
  for (const im of images) {
    const label = hasLabels ? path.join(root, 'labels', `${im.rel}.png`) : undefined;
    const depth = isDepth ? path.join(root, 'depth', `${im.rel}.png`) : undefined;
    const id = path.basename(im.rel);
    const missing = [im.file, label, depth].find((f) => f !== undefined && !exists(f));
    if (missing) {
      throwOrSkip(
        new DataError({ pkg: PKG, code: 'missing-file', file: displayPath(missing, root), ...(im.row !== undefined ? { row: im.row } : {}), expected: `an existing file for sample '${id}'`, received: 'no such file' }),
        cfg.skipInvalid,
        skipped,
      );
      continue;
    }
    if (label) {
      try {
        // Headers only (no pixels): a label that is no class-index PNG, or of another size than a PNG image, fails here.
        const l = peekLabelPng(label, ctx);
        const size = peekImageSize(im.file, ctx);
        if (size) checkSameSize(size, l, im.file, label, ctx);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        throwOrSkip(e, cfg.skipInvalid, skipped);
        continue;
      }
    }
    entries.push({ id, image: im.file, ...(label ? { label } : {}), ...(depth ? { depth } : {}) });
  }
  if (entries.length === 0) {
    throw new DataError({ pkg: PKG, code: 'empty-split', file: displayPath(useList ? listFile : path.join(root, 'images'), root), expected: 'at least one valid sample', received: `none (${skipped.length} skipped)` });
  }
  const numClasses = classes.names.length;
  return createDataset<Entry, SegmentationSample | DepthSample>({
    name: `custom:${path.basename(root)}${cfg.split ? `/${cfg.split}` : ''}`,
    entries,
    classNames: classes.names,
    palette: classes.palette,
    ignoreIndex: classes.ignoreIndex,
    skipped,
    ...(classes.depthRange ? { depthRange: classes.depthRange } : {}),
    load: async (e) => {
      const image = await readImage(e.image, ctx);
      let label;
      if (e.label) {
        label = await readLabelPng(e.label, ctx, labelPalette);
        checkSameSize(image, label, e.image, e.label, ctx);
        checkLabelRange(label, numClasses, classes.ignoreIndex, displayPath(e.label, root), { pkg: PKG });
      }
      const files = [e.image, e.label, e.depth].filter((f): f is string => !!f).map((f) => displayPath(f, root));
      if (!isDepth) return { kind: 'segmentation', id: e.id, image, label: label!, files };
      const raw = await readUint16Png(e.depth!, ctx);
      checkSameSize(image, raw, e.image, e.depth!, ctx);
      const data = new Float32Array(raw.data.length);
      for (let i = 0; i < data.length; i++) data[i] = raw.data[i] / classes.depthScale;
      return { kind: 'depth', id: e.id, image, depth: { data, height: raw.height, width: raw.width }, ...(label ? { label } : {}), files };
    },
  });
}

/**
 * The NYU Depth v2 loader in DenseDepth's layout (REFERENCE.md §4): a CSV index per split and
 * RGB + depth PNG pairs, read into `DepthSample`s of `@gpl/data` with depth in metres
 * (Float32, 0 = invalid).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  DataError,
  checkSameSize,
  readFileChecked,
  readImage,
  type Dataset,
  type DepthSample,
  type ReadContext,
  type Rgb,
  type SkippedSample,
} from '@gpl/data';
import { NYU_INTRINSICS, eigenCrop, scaleIntrinsics, type CameraIntrinsics, type CropBox } from './camera';
import { parseNyuIndex, type NyuIndexRow } from './csv-index';
import { readNyuDepth, type NyuDepthEncoding } from './depth';

const PKG = '@gpl/nyudv2';

/** Split names of the DenseDepth release. */
export type NyuSplit = 'train' | 'test';

/** Options of {@link openNyuDepthV2}. */
export interface NyuDepthV2Config {
  /** Dataset root: the folder that holds `data/` (DenseDepth's `nyu_data.zip` unpacked). */
  readonly root: string;
  /** Which split to read. */
  readonly split: NyuSplit;
  /** Index CSV of each split, relative to the root. */
  readonly indexFiles: Readonly<Record<NyuSplit, string>>;
  /** How each split stores depth: train 8-bit (metres = v/255·10), test 16-bit millimetres. */
  readonly depthEncoding: Readonly<Record<NyuSplit, NyuDepthEncoding>>;
  /** Valid depth range in metres for training and evaluation ([1e-3, 10]: BTS's evaluation bounds). */
  readonly depthRange: readonly [number, number];
  /** Camera intrinsics at their native resolution; scaled to the image size by `intrinsics()`. */
  readonly intrinsics: CameraIntrinsics;
  /** Skip (and list in `skipped`) malformed rows, escaping paths and missing files instead of throwing. */
  readonly skipInvalid: boolean;
  /** Check when opening that every listed file exists (two `stat`s per row). */
  readonly checkFiles: boolean;
}

/** Defaults for everything but `root`. */
export const defaultNyuDepthV2Config: Readonly<Omit<NyuDepthV2Config, 'root'>> = Object.freeze({
  split: 'train',
  indexFiles: Object.freeze({ train: 'data/nyu2_train.csv', test: 'data/nyu2_test.csv' }),
  depthEncoding: Object.freeze({ train: 'u8-10m', test: 'u16-mm' } as const),
  depthRange: Object.freeze([1e-3, 10] as const),
  intrinsics: NYU_INTRINSICS,
  skipInvalid: false,
  checkFiles: true,
});

/**
 * Sample id from the RGB path, a plain file stem (soft-label files are named after it):
 * `data/nyu2_train/bedroom_0004_out/7.jpg` → `bedroom_0004_7`, `data/nyu2_test/00003_colors.png` → `00003`.
 */
function sampleId(rgb: string): string {
  return rgb
    .replace(/^(\.\/)?data\/(nyu2_train|nyu2_test)\//, '')
    .replace(/\.[^./]*$/, '')
    .replace(/_colors$/, '')
    .replace(/_out\//, '_')
    .replace(/[/\\]/g, '_');
}

/** An opened NYU Depth v2 split. */
export class NyuDepthV2Dataset implements Dataset<DepthSample> {
  readonly name: string;
  readonly classNames: readonly string[] = [];
  readonly palette: readonly Rgb[] = [];
  readonly ignoreIndex = 255;
  readonly depthRange: readonly [number, number];

  /** @internal use {@link openNyuDepthV2}. */
  constructor(
    readonly config: NyuDepthV2Config,
    /** The kept index rows (paths relative to the root, 1-based CSV rows). */
    readonly rows: readonly NyuIndexRow[],
    readonly skipped: readonly SkippedSample[],
  ) {
    this.name = `nyudv2/${config.split}`;
    this.depthRange = config.depthRange;
  }

  get length(): number {
    return this.rows.length;
  }

  async sampleIds(): Promise<readonly string[]> {
    return this.rows.map((r) => sampleId(r.rgb));
  }

  /** How this split's depth PNGs are encoded. */
  get depthEncoding(): NyuDepthEncoding {
    return this.config.depthEncoding[this.config.split];
  }

  /** Camera intrinsics for an image of `width`×`height` (the configured camera, scaled). */
  intrinsics(width: number, height: number): CameraIntrinsics {
    return scaleIntrinsics(this.config.intrinsics, width, height);
  }

  /** The Eigen evaluation crop for an image of `height`×`width`. */
  eigenCrop(height: number, width: number): CropBox {
    return eigenCrop(height, width);
  }

  /**
   * Decodes row `i`: RGB (uint8 H×W×3) and depth in metres (float32 H×W, 0 = invalid). Bad
   * files (missing, truncated, wrong bit depth, image and depth of different sizes) throw a
   * `DataError` naming the file.
   */
  async get(i: number): Promise<DepthSample> {
    if (!Number.isInteger(i) || i < 0 || i >= this.rows.length) {
      throw new RangeError(`[@gpl/nyudv2] ${this.name}: sample index must be an integer in 0..${this.rows.length - 1}, received ${i}.`);
    }
    const row = this.rows[i];
    const ctx: ReadContext = { pkg: PKG, root: this.config.root };
    const rgbFile = path.resolve(this.config.root, row.rgb);
    const depthFile = path.resolve(this.config.root, row.depth);
    const [image, depth] = await Promise.all([readImage(rgbFile, ctx), readNyuDepth(depthFile, this.depthEncoding, ctx)]);
    checkSameSize(image, depth, rgbFile, depthFile, ctx);
    return { kind: 'depth', id: sampleId(row.rgb), image, depth, files: [row.rgb, row.depth] };
  }
}

/**
 * Opens a split: parses its CSV index, rejects malformed rows and paths that escape the root,
 * checks that the files exist, and applies `skipInvalid`. Throws a `DataError` naming the file
 * (and CSV row); `empty-split` when no row remains. Decoding errors (truncated or corrupt
 * images, size mismatches) surface in `get`.
 */
export async function openNyuDepthV2(config: Partial<NyuDepthV2Config> & { root: string }): Promise<NyuDepthV2Dataset> {
  const cfg: NyuDepthV2Config = { ...defaultNyuDepthV2Config, ...config };
  if (typeof cfg.root !== 'string' || cfg.root === '') throw new TypeError('[@gpl/nyudv2] openNyuDepthV2: expected root to be a dataset folder path.');
  if (cfg.split !== 'train' && cfg.split !== 'test') {
    throw new RangeError(`[@gpl/nyudv2] openNyuDepthV2: split must be 'train' or 'test', received ${JSON.stringify(cfg.split)}.`);
  }
  const indexFile = cfg.indexFiles[cfg.split];
  const ctx: ReadContext = { pkg: PKG, root: cfg.root };
  const text = (await readFileChecked(path.resolve(cfg.root, indexFile), ctx, 'a CSV index of rgb_path,depth_path rows')).toString('utf8');
  const parsed = parseNyuIndex(text, indexFile, cfg.root, ctx);
  const skipped: SkippedSample[] = [];
  const fail = (err: DataError) => {
    if (!cfg.skipInvalid) throw err;
    skipped.push(err.toSkipped());
  };
  parsed.problems.forEach(fail);
  const rows: NyuIndexRow[] = [];
  for (const row of parsed.rows) {
    if (cfg.checkFiles) {
      const missing = [row.rgb, row.depth].find((f) => !fs.existsSync(path.resolve(cfg.root, f)));
      if (missing !== undefined) {
        fail(
          new DataError({
            pkg: PKG,
            code: 'missing-file',
            file: missing,
            row: row.row,
            expected: `the file listed in ${indexFile}`,
            received: `nothing at ${path.resolve(cfg.root, missing)}`,
          }),
        );
        continue;
      }
    }
    rows.push(row);
  }
  if (rows.length === 0) {
    throw new DataError({
      pkg: PKG,
      code: 'empty-split',
      file: indexFile,
      expected: 'at least one usable rgb_path,depth_path row',
      received: parsed.rows.length + parsed.problems.length === 0 ? 'no rows' : `no usable rows (${skipped.length} skipped)`,
    });
  }
  return new NyuDepthV2Dataset(cfg, rows, skipped);
}

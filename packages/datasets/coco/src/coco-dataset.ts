/**
 * The COCO instances loader: `<root>/annotations/instances_<split><year>.json` and images in
 * `<root>/<split><year>/`, as in COCO 2017 (REFERENCE.md §8), read into `InstanceSample`s of
 * `@gpl/data`: the RGB image plus one `Instance` per annotation with a full-image binary mask,
 * an [x0, y0, x1, y1] box, the contiguous class index, the COCO category id and `crowd`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DataError, readFileChecked, readImage, type Dataset, type Instance, type InstanceSample, type ReadContext, type Rgb, type SkippedSample } from '@gpl/data';
import { categoryColour, type CategoryMap } from './categories';
import { parseInstancesJson, type CocoAnnotation, type CocoImage, type CocoSegmentation } from './instances';
import { polygonsToRle } from './polygon';
import { checkRle, decodeRle, decompressRle, type CompressedRle, type Rle } from './rle';

const PKG = '@gpl/coco';

/** Options of {@link openCoco}. */
export interface CocoConfig {
  /** Dataset root: the folder holding `annotations/` and the image folders. */
  readonly root: string;
  /** Split name as in the file names: `train` → `annotations/instances_train2017.json` and `train2017/`. */
  readonly split: string;
  /** Year suffix of the file names (`2017`; `2014` for the older release). */
  readonly year: string;
  /** Pixels a box or polygon point may reach outside its image before the annotation counts as invalid. */
  readonly tolerance: number;
  /** Skip (and list in `skipped`) images with a missing file or an invalid annotation, instead of throwing. */
  readonly skipInvalid: boolean;
  /** Keep images without any annotation (detectron2 drops them for training; evaluation keeps them). */
  readonly keepEmpty: boolean;
  /** Check when opening that every image file exists (one `stat` per image). */
  readonly checkFiles: boolean;
}

/** Defaults for everything but `root`. */
export const defaultCocoConfig: Readonly<Omit<CocoConfig, 'root'>> = Object.freeze({
  split: 'train',
  year: '2017',
  tolerance: 1,
  skipInvalid: false,
  keepEmpty: true,
  checkFiles: true,
});

/**
 * The mask of one annotation as RLE (pycocotools `annToRLE`): polygons are rasterised and
 * merged, uncompressed counts taken as they are, compressed strings decoded.
 */
export function annotationToRle(segmentation: CocoSegmentation, height: number, width: number): Rle {
  if (Array.isArray(segmentation)) return polygonsToRle(segmentation as number[][], height, width);
  const seg = segmentation as Rle | CompressedRle;
  if (typeof seg.counts === 'string') return decompressRle(seg as CompressedRle);
  checkRle(seg as Rle, 'annotationToRle');
  return seg as Rle;
}

/** Sample id of an image: its file name without folder and extension. */
function imageId(im: CocoImage): string {
  return path.posix.basename(im.file_name).replace(/\.[^.]*$/, '');
}

/** An opened COCO split. */
export class CocoDataset implements Dataset<InstanceSample> {
  readonly name: string;
  readonly classNames: readonly string[];
  readonly palette: readonly Rgb[];
  readonly ignoreIndex = 255;

  /** @internal use {@link openCoco}. */
  constructor(
    readonly config: CocoConfig,
    /** Category ids ↔ contiguous class indices (sorted by id). */
    readonly categoryMap: CategoryMap,
    /** The kept images, in file order. */
    readonly images: readonly CocoImage[],
    private readonly annotationsByImage: ReadonlyMap<number, readonly CocoAnnotation[]>,
    readonly skipped: readonly SkippedSample[],
  ) {
    this.name = `coco/${config.split}`;
    this.classNames = categoryMap.names;
    this.palette = categoryMap.categories.map((c) => categoryColour(c.id));
  }

  get length(): number {
    return this.images.length;
  }

  async sampleIds(): Promise<readonly string[]> {
    return this.images.map(imageId);
  }

  /** The validated annotations of image `i` (as in the JSON). */
  annotations(i: number): readonly CocoAnnotation[] {
    return this.annotationsByImage.get(this.image(i).id) ?? [];
  }

  /** Image folder relative to the root, e.g. `train2017`. */
  get imageDir(): string {
    return `${this.config.split}${this.config.year}`;
  }

  private image(i: number): CocoImage {
    if (!Number.isInteger(i) || i < 0 || i >= this.images.length) {
      throw new RangeError(`[@gpl/coco] ${this.name}: sample index must be an integer in 0..${this.images.length - 1}, received ${i}.`);
    }
    return this.images[i];
  }

  /**
   * Decodes image `i` and its instances. Masks are full-image H×W; `box` is the annotation's
   * `bbox` as [x, y, x + w, y + h] (what detectors train on); `crowd` is `iscrowd`.
   */
  async get(i: number): Promise<InstanceSample> {
    const im = this.image(i);
    const shown = `${this.imageDir}/${im.file_name}`;
    const image = await readImage(path.join(this.config.root, this.imageDir, im.file_name), { pkg: PKG, root: this.config.root });
    if (image.width !== im.width || image.height !== im.height) {
      throw new DataError({
        pkg: PKG,
        code: 'size-mismatch',
        file: shown,
        expected: `${im.width}×${im.height} as listed for image id ${im.id} in ${this.annotationFile}`,
        received: `${image.width}×${image.height}`,
      });
    }
    const instances: Instance[] = this.annotations(i).map((a) => ({
      classIndex: this.categoryMap.indexOf(a.category_id)!,
      categoryId: a.category_id,
      box: [a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3]],
      mask: decodeRle(annotationToRle(a.segmentation, im.height, im.width)),
      crowd: a.iscrowd === 1,
      annotationId: a.id,
    }));
    return {
      kind: 'instances',
      id: imageId(im),
      image,
      instances,
      originalSize: { height: im.height, width: im.width },
      files: [shown],
    };
  }

  /** The annotation file relative to the root. */
  get annotationFile(): string {
    return `annotations/instances_${this.config.split}${this.config.year}.json`;
  }
}

/**
 * Opens a COCO split: reads and validates the instances JSON, maps category ids to contiguous
 * indices, checks the image files, and applies `skipInvalid`. Throws a `DataError` naming the
 * file (and annotation id) for bad input; `empty-split` when no image remains.
 */
export async function openCoco(config: Partial<CocoConfig> & { root: string }): Promise<CocoDataset> {
  const cfg: CocoConfig = { ...defaultCocoConfig, ...config };
  if (typeof cfg.root !== 'string' || cfg.root === '') throw new TypeError('[@gpl/coco] openCoco: expected root to be a dataset folder path.');
  if (!(cfg.tolerance >= 0)) throw new RangeError(`[@gpl/coco] openCoco: tolerance must be ≥ 0, received ${cfg.tolerance}.`);
  const annFile = `annotations/instances_${cfg.split}${cfg.year}.json`;
  const ctx: ReadContext = { pkg: PKG, root: cfg.root };
  const text = (await readFileChecked(path.join(cfg.root, annFile), ctx, 'a COCO instances JSON file')).toString('utf8');
  const v = parseInstancesJson(text, annFile, { tolerance: cfg.tolerance });
  const skipped: SkippedSample[] = [];
  const rejected = new Set<number>();
  for (const p of v.problems) {
    if (!cfg.skipInvalid) throw p.error;
    skipped.push(p.error.toSkipped());
    if (p.imageId !== undefined) rejected.add(p.imageId);
  }
  const imageDir = `${cfg.split}${cfg.year}`;
  const images: CocoImage[] = [];
  for (const im of v.images) {
    if (rejected.has(im.id)) continue;
    if (!cfg.keepEmpty && (v.annotationsByImage.get(im.id)?.length ?? 0) === 0) continue;
    if (cfg.checkFiles) {
      const shown = `${imageDir}/${im.file_name}`;
      const abs = path.join(cfg.root, imageDir, im.file_name);
      if (!fs.existsSync(abs)) {
        const err = new DataError({
          pkg: PKG,
          code: 'missing-file',
          file: shown,
          expected: `the image file of image id ${im.id} listed in ${annFile}`,
          received: `nothing at ${abs}`,
        });
        if (!cfg.skipInvalid) throw err;
        skipped.push(err.toSkipped());
        continue;
      }
    }
    images.push(im);
  }
  if (images.length === 0) {
    throw new DataError({
      pkg: PKG,
      code: 'empty-split',
      file: annFile,
      expected: 'at least one usable image',
      received: v.images.length === 0 ? 'an empty "images" list' : `none of ${v.images.length} images usable (${skipped.length} skipped)`,
    });
  }
  return new CocoDataset(cfg, v.categoryMap, images, v.annotationsByImage, skipped);
}

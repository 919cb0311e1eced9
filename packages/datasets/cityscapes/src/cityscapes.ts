/**
 * Cityscapes semantic segmentation, read from the layout the official zips unpack to
 * (`leftImg8bit_trainvaltest.zip`, `gtFine_trainvaltest.zip`, REFERENCE §1):
 *
 *   <root>/leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png
 *   <root>/gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png
 *
 * `labelIds` are mapped to the 19 train ids on load (255 ignore); `labelTrainIds` files (from
 * cityscapesScripts' createTrainIdLabelImgs, what MMS reads) can be read instead.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  DataError,
  checkLayout,
  checkSameSize,
  createDataset,
  displayPath,
  listDir,
  mapLabels,
  peekLabelPng,
  peekImageSize,
  readImage,
  readLabelPng,
  throwOrSkip,
  mmsegAugment,
  type AugmentConfig,
  type ExpectedPalette,
  type IndexedDataset,
  type ReadContext,
  type SegmentationSample,
  type SkippedSample,
} from '@gpl/data';
import { CITYSCAPES_CLASSES, CITYSCAPES_IGNORE_INDEX, CITYSCAPES_PALETTE, LABEL_IDS_LUT, LABEL_TRAIN_IDS_LUT } from './labels';

const PKG = '@gpl/cityscapes';

/** A palette labelTrainIds PNG's indices must show the train ids' colours (gtFine ships grey files). */
const TRAIN_ID_PALETTE: ExpectedPalette = Object.freeze({ name: 'the Cityscapes train-id colours', colours: CITYSCAPES_PALETTE, names: CITYSCAPES_CLASSES });
const IMAGE_SUFFIX = '_leftImg8bit.png';

/** Options of `openCityscapes`. */
export interface CityscapesConfig {
  /** Folder holding `leftImg8bit/` and `gtFine/`. */
  readonly root: string;
  /** `train`, `val` or `test` (test labels are not public: their files are placeholders). */
  readonly split: string;
  /** Which gtFine file to read: raw `labelIds` (mapped here) or pre-mapped `labelTrainIds`. */
  readonly labelType: 'labelIds' | 'labelTrainIds';
  /** Only these cities (folder names); empty: all. */
  readonly cities: readonly string[];
  /** Skip samples whose label file is missing (listed in `dataset.skipped`) instead of throwing. */
  readonly skipInvalid: boolean;
}

/** Defaults of `CityscapesConfig` (root has none). */
export const defaultCityscapesConfig: Readonly<Omit<CityscapesConfig, 'root'>> = Object.freeze({
  // The 2975-image training split.
  split: 'train',
  // Raw label ids, as shipped in gtFine.
  labelType: 'labelIds',
  // Every city of the split.
  cities: Object.freeze([]) as readonly string[],
  // Fail on the first bad sample.
  skipInvalid: false,
});

/** Training augmentation of the GPL paper / MMS cityscapes_769x769 (REFERENCE §9). */
export const cityscapesAugment: AugmentConfig = mmsegAugment([769, 769], [2049, 1025]);

/** The same recipe scaled to cityscapes-mini (256×128 images): crop 128×128, ratio relative to the image. */
export const cityscapesMiniAugment: AugmentConfig = mmsegAugment([128, 128]);

/** One sample's files. */
export interface CityscapesEntry {
  /** `<city>_<seq>_<frame>`. */
  readonly id: string;
  readonly city: string;
  readonly image: string;
  readonly label: string;
}

/** A Cityscapes split. */
export type CityscapesDataset = IndexedDataset<CityscapesEntry, SegmentationSample>;

/**
 * Opens a split: lists every `*_leftImg8bit.png` under `leftImg8bit/<split>/<city>/` (sorted by
 * city, then name) and pairs it with its gtFine label. Pixels are decoded lazily in `get`.
 */
export async function openCityscapes(config: Partial<CityscapesConfig> & Pick<CityscapesConfig, 'root'>): Promise<CityscapesDataset> {
  const cfg = { ...defaultCityscapesConfig, ...config };
  if (typeof cfg.root !== 'string' || !cfg.root) throw new TypeError(`[${PKG}] openCityscapes: root must be a directory path, received ${String(cfg.root)}.`);
  if (cfg.labelType !== 'labelIds' && cfg.labelType !== 'labelTrainIds') {
    throw new RangeError(`[${PKG}] openCityscapes: labelType must be 'labelIds' or 'labelTrainIds', received '${String(cfg.labelType)}'.`);
  }
  const root = path.resolve(cfg.root);
  const ctx: ReadContext = { pkg: PKG, root };
  checkLayout(root, ['leftImg8bit', 'gtFine'], ctx, 'Cityscapes');
  const imgSplit = path.join(root, 'leftImg8bit', cfg.split);
  const cities = (await listDir(imgSplit, ctx, `the leftImg8bit/${cfg.split} folder`)).filter((e) => e.isDirectory()).map((e) => e.name);
  const wanted = cfg.cities.length ? cities.filter((c) => cfg.cities.includes(c)) : cities;
  const entries: CityscapesEntry[] = [];
  const skipped: SkippedSample[] = [];
  for (const city of wanted) {
    const files = await listDir(path.join(imgSplit, city), ctx);
    for (const f of files) {
      if (!f.isFile() || !f.name.endsWith(IMAGE_SUFFIX)) continue;
      const id = f.name.slice(0, -IMAGE_SUFFIX.length);
      const image = path.join(imgSplit, city, f.name);
      const label = path.join(root, 'gtFine', cfg.split, city, `${id}_gtFine_${cfg.labelType}.png`);
      if (!fs.existsSync(label)) {
        throwOrSkip(
          new DataError({ pkg: PKG, code: 'missing-file', file: displayPath(label, root), expected: `the gtFine label of ${displayPath(image, root)}`, received: 'no such file' }),
          cfg.skipInvalid,
          skipped,
        );
        continue;
      }
      try {
        // Headers only (no pixels): a label that is no class-index PNG, or of another size than its image, fails here.
        const size = peekLabelPng(label, ctx);
        checkSameSize(peekImageSize(image, ctx) ?? size, size, image, label, ctx);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        throwOrSkip(e, cfg.skipInvalid, skipped);
        continue;
      }
      entries.push({ id, city, image, label });
    }
  }
  if (entries.length === 0) {
    throw new DataError({
      pkg: PKG,
      code: 'empty-split',
      file: displayPath(imgSplit, root),
      expected: `*${IMAGE_SUFFIX} images with gtFine labels${cfg.cities.length ? ` in cities ${cfg.cities.join(', ')}` : ''}`,
      received: skipped.length ? `none usable (${skipped.length} skipped)` : 'none',
    });
  }
  const lut = cfg.labelType === 'labelIds' ? LABEL_IDS_LUT : LABEL_TRAIN_IDS_LUT;
  // Label ids have no colour table of their own here: their palette files are read by index.
  const palette = cfg.labelType === 'labelTrainIds' ? TRAIN_ID_PALETTE : undefined;
  const accepted = cfg.labelType === 'labelIds' ? 'label ids 0..33 or 255' : 'train ids 0..18 or 255';
  return createDataset<CityscapesEntry, SegmentationSample>({
    name: `cityscapes/${cfg.split}`,
    entries,
    classNames: CITYSCAPES_CLASSES,
    palette: CITYSCAPES_PALETTE,
    ignoreIndex: CITYSCAPES_IGNORE_INDEX,
    skipped,
    load: async (e) => {
      const [image, raw] = await Promise.all([readImage(e.image, ctx), readLabelPng(e.label, ctx, palette)]);
      checkSameSize(image, raw, e.image, e.label, ctx);
      const label = mapLabels(raw, lut, displayPath(e.label, root), { pkg: PKG }, accepted);
      return { kind: 'segmentation', id: e.id, image, label, files: [displayPath(e.image, root), displayPath(e.label, root)] };
    },
  });
}

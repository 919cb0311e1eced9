/**
 * Pascal VOC 2012 segmentation, read from the layout `VOCtrainval_11-May-2012.tar` unpacks to
 * (REFERENCE §2), plus the optional SBD augmentation in the MMS convention:
 *
 *   <root>/VOCdevkit/VOC2012/JPEGImages/<id>.jpg
 *   <root>/VOCdevkit/VOC2012/SegmentationClass/<id>.png         palette PNG; indices = classes, 255 = void
 *   <root>/VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val,trainval}.txt
 *   <root>/VOCdevkit/VOC2012/SegmentationClassAug/<id>.png      SBD labels (MMS voc_aug.py output)
 *   <root>/VOCdevkit/VOC2012/ImageSets/Segmentation/aug.txt     SBD ids minus VOC train and val
 *
 * Labels are read as raw palette indices — never by mapping colours back; a palette whose used
 * indices show other colours than the VOC colormap's (an editor reordered it) is refused.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  DataError,
  checkLayout,
  checkSameSize,
  createDataset,
  displayPath,
  labelLut,
  mapLabels,
  peekImageSize,
  peekLabelPng,
  readImage,
  readIndexFile,
  readLabelPng,
  resolveInside,
  throwOrSkip,
  vocColormap,
  mmsegAugment,
  type AugmentConfig,
  type ExpectedPalette,
  type IndexedDataset,
  type ReadContext,
  type Rgb,
  type SegmentationSample,
  type SkippedSample,
} from '@gpl/data';

const PKG = '@gpl/voc';

/** The 21 VOC classes, index = label value (REFERENCE §2). */
export const VOC_CLASSES: readonly string[] = Object.freeze([
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
]);

/** VOC colormap entries of the 21 classes. */
export const VOC_PALETTE: readonly Rgb[] = Object.freeze(vocColormap(21));

/** VOC void / boundary value. */
export const VOC_IGNORE_INDEX = 255;

/**
 * What a palette label's indices must look like: the VOC colormap, index for index (an editor's
 * reordered palette would turn the shown classes into others; such files are refused).
 */
const VOC_LABEL_PALETTE: ExpectedPalette = Object.freeze({
  name: 'the VOC colormap',
  colours: vocColormap(256),
  names: Array.from({ length: 256 }, (_, i) => (i === VOC_IGNORE_INDEX ? 'void' : VOC_CLASSES[i])),
});

const LUT = labelLut([...VOC_CLASSES.map((_, i) => [i, i] as const), [255, 255] as const]);

/** Options of `openVoc`. */
export interface VocConfig {
  /** Folder holding `VOCdevkit/VOC2012` (the VOC2012 folder itself is accepted too). */
  readonly root: string;
  /** List name in `ImageSets/Segmentation/` without `.txt`: `train`, `val`, `trainval`, … */
  readonly split: string;
  /** Add the SBD augmentation list (`augList`, labels from `augLabelDir`) — MMS voc12aug. */
  readonly aug: boolean;
  /** SBD list in `ImageSets/Segmentation/`, ids not in the main split. */
  readonly augList: string;
  /** Folder (under VOC2012) of the SBD label PNGs. */
  readonly augLabelDir: string;
  /** Skip list entries whose files are missing (listed in `dataset.skipped`) instead of throwing. */
  readonly skipInvalid: boolean;
}

/** Defaults of `VocConfig` (root has none). */
export const defaultVocConfig: Readonly<Omit<VocConfig, 'root'>> = Object.freeze({
  // VOC 2012 train (1464 images).
  split: 'train',
  // No SBD augmentation.
  aug: false,
  // MMS tools/convert_datasets/voc_aug.py output name.
  augList: 'aug.txt',
  // MMS SBD label folder.
  augLabelDir: 'SegmentationClassAug',
  // Fail on the first bad sample.
  skipInvalid: false,
});

/** Training augmentation of the GPL paper / MMS voc12aug 512×512 (REFERENCE §2, §9). */
export const vocAugment: AugmentConfig = mmsegAugment([512, 512], [2048, 512]);

/** The same recipe scaled to voc-mini (≈160×120 images). */
export const vocMiniAugment: AugmentConfig = mmsegAugment([112, 112]);

/** One sample's files. */
export interface VocEntry {
  readonly id: string;
  readonly image: string;
  readonly label: string;
  /** The list file and row it came from. */
  readonly list: string;
  readonly row: number;
}

/** A VOC split. */
export type VocDataset = IndexedDataset<VocEntry, SegmentationSample>;

/** Finds the VOC2012 folder under `root`. */
export function resolveVocRoot(root: string): string {
  const r = path.resolve(root);
  const nested = path.join(r, 'VOCdevkit', 'VOC2012');
  return fs.existsSync(nested) ? nested : r;
}

/**
 * Opens a split (plus SBD when `aug`). Ids come from the list files; each must stay inside the
 * dataset (`../` escapes are rejected with the list file and row).
 */
export async function openVoc(config: Partial<VocConfig> & Pick<VocConfig, 'root'>): Promise<VocDataset> {
  const cfg = { ...defaultVocConfig, ...config };
  if (typeof cfg.root !== 'string' || !cfg.root) throw new TypeError(`[${PKG}] openVoc: root must be a directory path, received ${String(cfg.root)}.`);
  const voc = resolveVocRoot(cfg.root);
  const ctx: ReadContext = { pkg: PKG, root: voc };
  checkLayout(voc, [path.join('ImageSets', 'Segmentation'), 'JPEGImages', 'SegmentationClass'], ctx, 'Pascal VOC 2012');
  const lists: { file: string; labelDir: string }[] = [
    { file: path.join(voc, 'ImageSets', 'Segmentation', `${cfg.split}.txt`), labelDir: 'SegmentationClass' },
  ];
  if (cfg.aug) lists.push({ file: path.join(voc, 'ImageSets', 'Segmentation', cfg.augList), labelDir: cfg.augLabelDir });
  const entries: VocEntry[] = [];
  const skipped: SkippedSample[] = [];
  const seen = new Set<string>();
  for (const list of lists) {
    const lines = await readIndexFile(list.file, ctx);
    if (lines.length === 0) {
      throw new DataError({ pkg: PKG, code: 'empty-split', file: displayPath(list.file, voc), expected: 'one image id per line', received: 'no ids' });
    }
    for (const { text, row } of lines) {
      try {
        const id = text.split(/\s+/)[0];
        const image = resolveInside(path.join(voc, 'JPEGImages'), `${id}.jpg`, ctx, list.file, row);
        const label = resolveInside(path.join(voc, list.labelDir), `${id}.png`, ctx, list.file, row);
        if (seen.has(id)) continue;
        for (const f of [image, label]) {
          if (!fs.existsSync(f)) {
            throw new DataError({ pkg: PKG, code: 'missing-file', file: displayPath(f, voc), expected: `the file of id '${id}' listed in ${displayPath(list.file, voc)} row ${row}`, received: 'no such file' });
          }
        }
        // Headers only (no pixels): a label that is no class-index PNG, or of another size than its image, fails at open.
        const size = peekLabelPng(label, ctx);
        checkSameSize(peekImageSize(image, ctx) ?? size, size, image, label, ctx);
        seen.add(id);
        entries.push({ id, image, label, list: list.file, row });
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        throwOrSkip(e, cfg.skipInvalid, skipped);
      }
    }
  }
  if (entries.length === 0) {
    throw new DataError({ pkg: PKG, code: 'empty-split', file: displayPath(lists[0].file, voc), expected: 'at least one usable id', received: `none (${skipped.length} skipped)` });
  }
  return createDataset<VocEntry, SegmentationSample>({
    name: `voc/${cfg.split}${cfg.aug ? '+aug' : ''}`,
    entries,
    classNames: VOC_CLASSES,
    palette: VOC_PALETTE,
    ignoreIndex: VOC_IGNORE_INDEX,
    skipped,
    load: async (e) => {
      const [image, raw] = await Promise.all([readImage(e.image, ctx), readLabelPng(e.label, ctx, VOC_LABEL_PALETTE)]);
      checkSameSize(image, raw, e.image, e.label, ctx);
      const label = mapLabels(raw, LUT, displayPath(e.label, voc), { pkg: PKG }, 'class indices 0..20 or 255 (void)');
      return { kind: 'segmentation', id: e.id, image, label, files: [displayPath(e.image, voc), displayPath(e.label, voc)] };
    },
  });
}

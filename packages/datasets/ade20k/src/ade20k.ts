/**
 * ADE20K SceneParsing (ADEChallengeData2016.zip, REFERENCE §3):
 *
 *   <root>/ADEChallengeData2016/images/{training,validation}/ADE_{train,val}_%08d.jpg
 *   <root>/ADEChallengeData2016/annotations/{training,validation}/ADE_{train,val}_%08d.png   uint8 0..150
 *
 * reduce-zero-label (fixed on in MMS): 0 "other" → 255 ignore, v → v − 1, so 1..150 → 0..149.
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
  listDir,
  mapLabels,
  peekImageSize,
  peekLabelPng,
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
import { ADE20K_CLASSES, ADE20K_PALETTE } from './classes';

const PKG = '@gpl/ade20k';

/** ADE20K ignore value (annotation 0 after reduce-zero-label). */
export const ADE20K_IGNORE_INDEX = 255;

/** Annotation value → train index: 0 → 255, v → v − 1 (1..150), 255 stays ignore (as MMS's 254 → 255). */
export const ADE20K_REDUCE_ZERO_LABEL: readonly number[] = Object.freeze(
  Array.from({ length: 256 }, (_, v) => (v === 0 || v === 255 ? 255 : v <= 150 ? v - 1 : -1)),
);

/**
 * The colours of annotation values in a palette annotation PNG (the official files are 8-bit grey):
 * value v (1..150) shows MMS's colour of class v − 1; 0 ("other") any colour not of a class.
 */
const ADE20K_LABEL_PALETTE: ExpectedPalette = Object.freeze({
  name: 'the ADE20K palette (value v = class v − 1)',
  colours: [undefined, ...ADE20K_PALETTE],
  names: ['other', ...ADE20K_CLASSES],
});

const LUT = labelLut(ADE20K_REDUCE_ZERO_LABEL.map((t, v) => [v, t] as const).filter(([, t]) => t >= 0));

const SPLIT_DIRS: Record<string, string> = { training: 'training', train: 'training', validation: 'validation', val: 'validation' };

/** Options of `openAde20k`. */
export interface Ade20kConfig {
  /** Folder holding `ADEChallengeData2016/` (that folder itself is accepted too). */
  readonly root: string;
  /** `training` or `validation` (`train` / `val` accepted). */
  readonly split: string;
  /** Skip images whose annotation is missing (listed in `dataset.skipped`) instead of throwing. */
  readonly skipInvalid: boolean;
}

/** Defaults of `Ade20kConfig` (root has none). */
export const defaultAde20kConfig: Readonly<Omit<Ade20kConfig, 'root'>> = Object.freeze({
  // 20,210 training images.
  split: 'training',
  // Fail on the first bad sample.
  skipInvalid: false,
});

/** Training augmentation of the GPL paper / MMS ade20k 512×512 (REFERENCE §3, §9). */
export const ade20kAugment: AugmentConfig = mmsegAugment([512, 512], [2048, 512]);

/** The same recipe scaled to ade20k-mini (≈192×144 images). */
export const ade20kMiniAugment: AugmentConfig = mmsegAugment([128, 128]);

/** One sample's files. */
export interface Ade20kEntry {
  readonly id: string;
  readonly image: string;
  readonly label: string;
}

/** An ADE20K split. */
export type Ade20kDataset = IndexedDataset<Ade20kEntry, SegmentationSample>;

/** Finds the ADEChallengeData2016 folder under `root`. */
export function resolveAde20kRoot(root: string): string {
  const r = path.resolve(root);
  const nested = path.join(r, 'ADEChallengeData2016');
  return fs.existsSync(nested) ? nested : r;
}

/** Opens a split: every `*.jpg` in `images/<split>/` paired with `annotations/<split>/<stem>.png`. */
export async function openAde20k(config: Partial<Ade20kConfig> & Pick<Ade20kConfig, 'root'>): Promise<Ade20kDataset> {
  const cfg = { ...defaultAde20kConfig, ...config };
  if (typeof cfg.root !== 'string' || !cfg.root) throw new TypeError(`[${PKG}] openAde20k: root must be a directory path, received ${String(cfg.root)}.`);
  const dir = SPLIT_DIRS[cfg.split];
  if (!dir) throw new RangeError(`[${PKG}] openAde20k: split must be 'training' or 'validation', received '${cfg.split}'.`);
  const root = resolveAde20kRoot(cfg.root);
  const ctx: ReadContext = { pkg: PKG, root };
  checkLayout(root, ['images', 'annotations'], ctx, 'ADE20K SceneParsing');
  const imgDir = path.join(root, 'images', dir);
  const entries: Ade20kEntry[] = [];
  const skipped: SkippedSample[] = [];
  for (const f of await listDir(imgDir, ctx, `the images/${dir} folder`)) {
    if (!f.isFile() || path.extname(f.name).toLowerCase() !== '.jpg') continue;
    const id = path.basename(f.name, path.extname(f.name));
    const label = path.join(root, 'annotations', dir, `${id}.png`);
    if (!fs.existsSync(label)) {
      throwOrSkip(
        new DataError({ pkg: PKG, code: 'missing-file', file: displayPath(label, root), expected: `the annotation of images/${dir}/${f.name}`, received: 'no such file' }),
        cfg.skipInvalid,
        skipped,
      );
      continue;
    }
    try {
      // Headers only (no pixels): an annotation that is no class-index PNG, or of another size than its image, fails at open.
      const size = peekLabelPng(label, ctx);
      checkSameSize(peekImageSize(path.join(imgDir, f.name), ctx) ?? size, size, path.join(imgDir, f.name), label, ctx);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      throwOrSkip(e, cfg.skipInvalid, skipped);
      continue;
    }
    entries.push({ id, image: path.join(imgDir, f.name), label });
  }
  if (entries.length === 0) {
    throw new DataError({ pkg: PKG, code: 'empty-split', file: displayPath(imgDir, root), expected: '*.jpg images with annotations', received: skipped.length ? `none usable (${skipped.length} skipped)` : 'none' });
  }
  return createDataset<Ade20kEntry, SegmentationSample>({
    name: `ade20k/${dir}`,
    entries,
    classNames: ADE20K_CLASSES,
    palette: ADE20K_PALETTE,
    ignoreIndex: ADE20K_IGNORE_INDEX,
    skipped,
    load: async (e) => {
      const [image, raw] = await Promise.all([readImage(e.image, ctx), readLabelPng(e.label, ctx, ADE20K_LABEL_PALETTE)]);
      checkSameSize(image, raw, e.image, e.label, ctx);
      const label = mapLabels(raw, LUT, displayPath(e.label, root), { pkg: PKG }, 'annotation values 0..150');
      return { kind: 'segmentation', id: e.id, image, label, files: [displayPath(e.image, root), displayPath(e.label, root)] };
    },
  });
}

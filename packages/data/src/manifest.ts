/**
 * The manifest of a soft-label folder: the contract between whoever writes teacher soft labels
 * (`teacher:generate`) and the tasks that train on them, beside the `.gplsoft` file format it
 * describes. A task refuses labels made for another dataset, split or class list, or whose files
 * fail their checksum.
 *
 *   <out>/manifest.json            written last, once every sample of the split has a file
 *   <out>/generation.json          what is being generated (checked when generation resumes)
 *   <out>/<id>.gplsoft             one file per sample, written atomically
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '@gpl/core';
import { softLabelHeader } from './soft-labels';

export const MANIFEST_FORMAT = 'gpl-soft-labels/1';

/** One sample's entry: file name, stored shape, SHA-256 of the file. */
export interface SoftLabelFileEntry {
  readonly file: string;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly sha256: string;
}

/** What a generation run produces; fixed when it starts, so a resumed run cannot mix sources. */
export interface GenerationSpec {
  /** Model registry key (from the checkpoint's state.json) or the model.json name. */
  readonly model: string;
  /** Checkpoint folder the probabilities come from. */
  readonly checkpoint: string;
  /** SHA-256 of the checkpoint's weights (a retrained teacher in the same folder is another source). */
  readonly weightsSha256: string;
  readonly dataset: string;
  readonly dataRoot: string;
  /** The dataset's own split name (e.g. ADE20K 'training'). */
  readonly split: string;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** Input pixels per soft-label pixel. */
  readonly stride: number;
}

export interface SoftLabelManifest extends GenerationSpec {
  readonly format: typeof MANIFEST_FORMAT;
  readonly createdAt: string;
  /** Quantisation of the stored probabilities. */
  readonly encoding: 'uint8';
  readonly files: Readonly<Record<string, SoftLabelFileEntry>>;
}

/** SHA-256 of bytes, hex. */
export function sha256(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** JSON file written atomically (temporary name, then rename). */
export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(value, null, 1) + '\n');
}

/** Checks every file of a manifest against its checksum; returns the ids that fail. */
export function verifyManifest(dir: string, m: SoftLabelManifest): string[] {
  return Object.entries(m.files)
    .filter(([, e]) => {
      const p = path.join(dir, e.file);
      return !fs.existsSync(p) || sha256(fs.readFileSync(p)) !== e.sha256;
    })
    .map(([id]) => id);
}

/** The spec fields whose change makes existing files stale, as `field: a there, b here`. */
export function specDifferences(a: GenerationSpec, b: GenerationSpec): string[] {
  const keys: (keyof GenerationSpec)[] = ['model', 'checkpoint', 'weightsSha256', 'dataset', 'dataRoot', 'split', 'numClasses', 'classNames', 'stride'];
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k}: ${JSON.stringify(a[k])} there, ${JSON.stringify(b[k])} here`);
}

/** What a training run expects of its soft labels. */
export interface ExpectedSoftLabels {
  /** Dataset name as the run knows it (e.g. 'cityscapes'). */
  readonly dataset: string;
  /** The dataset's own split name. */
  readonly split: string;
  readonly classNames: readonly string[];
  /** Sample ids the run will read, in any order. */
  readonly ids: readonly string[];
}

/**
 * Reads `<dir>/manifest.json` and checks it against the dataset a run trains on: format, dataset
 * name, split, classes, and an entry with a matching checksum for every sample. Throws a
 * RangeError naming the file, the field and both values, with the fix.
 */
export function checkSoftLabelManifest(dir: string, expected: ExpectedSoftLabels): SoftLabelManifest {
  const file = path.join(dir, 'manifest.json');
  const fail = (what: string): never => {
    throw new RangeError(`[@gpl/data] soft labels ${file}: ${what}. Regenerate them with teacher:generate for this dataset, or pass --soft-labels none.`);
  };
  if (!fs.existsSync(file)) fail('manifest.json is missing (is the folder complete? teacher:generate writes it last)');
  let m: SoftLabelManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as SoftLabelManifest;
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  if (m === null || typeof m !== 'object') fail(`expected a JSON object, received ${JSON.stringify(m)}`);
  if (m.format !== MANIFEST_FORMAT) fail(`field 'format' is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`);
  if (m.dataset !== expected.dataset) fail(`made for dataset '${m.dataset}', the run trains on '${expected.dataset}'`);
  if (m.split !== expected.split) fail(`made for split '${m.split}', the run trains on '${expected.split}'`);
  if (m.numClasses !== expected.classNames.length) fail(`has ${m.numClasses} classes, the dataset has ${expected.classNames.length}`);
  if (JSON.stringify(m.classNames) !== JSON.stringify(expected.classNames)) {
    fail(`class names differ from the dataset's (${(m.classNames ?? []).slice(0, 3).join(', ')}, … vs ${expected.classNames.slice(0, 3).join(', ')}, …)`);
  }
  const missing = expected.ids.filter((id) => !m.files?.[id]);
  if (missing.length) fail(`no soft labels for ${missing.length} of ${expected.ids.length} samples (first: '${missing[0]}')`);
  const narrow = expected.ids.map((id) => m.files[id]).find((e) => e.channels !== m.numClasses);
  if (narrow) fail(`'${narrow.file}' has ${narrow.channels} channels, expected ${m.numClasses}`);
  // Each file is read once: its header against its entry (a stored size the manifest does not
  // describe is refused by name), then its checksum.
  let bad = 0;
  let firstBad = '';
  for (const id of expected.ids) {
    const e = m.files[id];
    const p = path.join(dir, e.file);
    const bytes = fs.existsSync(p) ? fs.readFileSync(p) : undefined;
    const h = bytes && softLabelHeader(bytes);
    if (h && (h.height !== e.height || h.width !== e.width || h.channels !== e.channels)) {
      fail(`'${e.file}' stores ${h.width}×${h.height}×${h.channels} (width×height×channels), its manifest entry says ${e.width}×${e.height}×${e.channels}`);
    }
    if (!bytes || sha256(bytes) !== e.sha256) {
      bad++;
      firstBad ||= e.file;
    }
  }
  if (bad) fail(`'${firstBad}' has checksum not matching the manifest (missing, corrupt or stale file; ${bad} such)`);
  return m;
}

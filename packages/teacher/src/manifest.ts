/**
 * The manifest of a soft-label folder. Tasks read it to refuse labels made for another dataset,
 * split or class list; it is the only contract besides the `@gpl/data` `.gplsoft` file format.
 *
 *   <out>/manifest.json            written last, once every sample of the split has a file
 *   <out>/generation.json          what is being generated (checked when generation resumes)
 *   <out>/<id>.gplsoft             one file per sample, written atomically
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '@gpl/data';

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

export function sha256(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** JSON file written atomically (temporary name, then rename). */
export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(value, null, 1) + '\n');
}

/** Reads `<dir>/manifest.json`; throws naming the file when it is missing or malformed. */
export function readManifest(dir: string): SoftLabelManifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) throw new Error(`[@gpl/teacher] ${file} is missing: generation has not finished every shard yet.`);
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as SoftLabelManifest;
  if (m.format !== MANIFEST_FORMAT) throw new Error(`[@gpl/teacher] ${file}: field 'format' is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}".`);
  return m;
}

/** Checks every file of a manifest against its checksum; returns the ids that fail. */
export function verifyManifest(dir: string, m: SoftLabelManifest = readManifest(dir)): string[] {
  return Object.entries(m.files)
    .filter(([, e]) => {
      const p = path.join(dir, e.file);
      return !fs.existsSync(p) || sha256(fs.readFileSync(p)) !== e.sha256;
    })
    .map(([id]) => id);
}

/** The spec fields whose change makes existing files stale. */
export function specDifferences(a: GenerationSpec, b: GenerationSpec): string[] {
  const keys: (keyof GenerationSpec)[] = ['model', 'checkpoint', 'weightsSha256', 'dataset', 'dataRoot', 'split', 'numClasses', 'classNames', 'stride'];
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k}: ${JSON.stringify(a[k])} there, ${JSON.stringify(b[k])} here`);
}

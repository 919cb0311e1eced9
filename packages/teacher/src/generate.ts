/**
 * Soft-label generation: a trained teacher's class probabilities for every sample of a split, at
 * the model's output stride, 8 bits per class (`@gpl/data` `.gplsoft` files). Work is split by
 * `shard` (sample k goes to shard k mod n), resumes by skipping samples whose file is already
 * complete, and each file is written atomically. The process that finds every sample done writes
 * manifest.json (checksums of all files).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
// The backbone packages register their custom layers (resize, input checks) on import, so a
// checkpoint's model.json can be deserialised without a model registry.
import '@gpl/core';
import '@gpl/resnet';
import '@gpl/pspnet';
import '@gpl/hrnet';
import '@gpl/deeplabv3plus';
import { Progress, folderIOHandler } from '@gpl/core';
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  MANIFEST_FORMAT,
  SOFT_LABEL_EXT,
  decodeSoftLabels,
  normalizeImage,
  sha256,
  shardIndices,
  softLabelPath,
  specDifferences,
  writeJsonAtomic,
  writeSoftLabels,
  type Dataset,
  type GenerationSpec,
  type SegmentationSample,
  type SoftLabelManifest,
  type SoftLabels,
} from '@gpl/data';
import { predictPadded, resolveCheckpointPath } from '@gpl/engine';

/** `i/n` → { index: i, count: n } with 0 ≤ i < n. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(String(text).trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count)) {
    throw new RangeError(`[@gpl/teacher] option 'shard': expected 'i/n' with 0 ≤ i < n (e.g. 0/4), received '${text}'.`);
  }
  return { index, count };
}

/** Loads a checkpoint's tfjs-layers model and what its state.json says about it. */
export async function loadTeacher(checkpoint: string): Promise<{ model: tfl.LayersModel; dir: string; name: string; state: Record<string, unknown> }> {
  // The best checkpoint of a run when it has one (a teacher is chosen by its validation score).
  const { dir, state } = resolveCheckpointPath(checkpoint, { prefer: 'best', hint: 'Train a teacher first: npx nx run teacher:train.' });
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(folderIOHandler(dir));
  } catch (e) {
    const why = (e as Error).message;
    if (/^\[/.test(why)) throw e;
    throw new RangeError(`[@gpl/teacher] --checkpoint ${dir}: the model does not load (${why.split('\n')[0]}); the checkpoint is damaged or not a tfjs-layers model. Train the teacher again: npx nx run teacher:train.`);
  }
  return { model, dir, name: typeof state.model === 'string' ? state.model : model.name, state };
}

/**
 * Class probabilities of one image at `stride`: softmax of the main logits (full resolution),
 * block-averaged over stride×stride pixels (bilinear when the size is not a multiple).
 * @returns [ceil(H/stride), ceil(W/stride), K] float32.
 */
export function softLabelsOf(model: tfl.LayersModel, sample: SegmentationSample, stride: number, sizeDivisor = 32): SoftLabels {
  const img = normalizeImage(sample.image, IMAGENET_MEAN, IMAGENET_STD);
  const { height: h, width: w } = img;
  const oh = Math.ceil(h / stride);
  const ow = Math.ceil(w / stride);
  const probs = tf.tidy(() => {
    const x = tf.tensor4d(img.data as Float32Array, [1, h, w, 3]);
    const p = tf.softmax(predictPadded(model, x, sizeDivisor)) as tf.Tensor4D;
    if (stride === 1) return p;
    if (h % stride === 0 && w % stride === 0) return tf.avgPool(p, stride, stride, 'valid');
    return tf.image.resizeBilinear(p, [oh, ow], false, true);
  });
  try {
    const channels = probs.shape[3];
    return { data: probs.dataSync() as Float32Array, height: oh, width: ow, channels };
  } finally {
    probs.dispose();
  }
}

export interface GenerateOptions {
  readonly checkpoint: string;
  /** Dataset name for the manifest (e.g. 'cityscapes'), and the opened split. */
  readonly dataset: string;
  readonly dataRoot: string;
  /** The dataset's own split name. */
  readonly split: string;
  readonly ds: Dataset<SegmentationSample>;
  readonly out: string;
  /** Input pixels per stored pixel (default 8, the output stride of PSPNet). */
  readonly stride?: number;
  readonly shard?: { readonly index: number; readonly count: number };
  readonly log?: (line: string) => void;
  readonly progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Stop after writing this many files (tests of resuming). */
  readonly limit?: number;
}

export interface GenerateResult {
  readonly written: number;
  readonly skipped: number;
  /** Whether manifest.json now exists (every shard done). */
  readonly complete: boolean;
  readonly manifest?: SoftLabelManifest;
}

/** The file's bytes and shape when it is a complete soft-label file with `numClasses` channels. */
async function completeFile(file: string, numClasses: number): Promise<{ bytes: Uint8Array; height: number; width: number; channels: number } | undefined> {
  if (!fs.existsSync(file)) return undefined;
  const bytes = fs.readFileSync(file);
  try {
    const s = await decodeSoftLabels(bytes, file);
    return s.channels === numClasses ? { bytes, height: s.height, width: s.width, channels: s.channels } : undefined;
  } catch {
    return undefined;
  }
}

/** Generates (this shard's part of) the soft labels of a split; see the module comment. */
export async function generateSoftLabels(o: GenerateOptions): Promise<GenerateResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const stride = o.stride ?? 8;
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`[@gpl/teacher] option 'stride': expected a positive integer, received ${stride}.`);
  const shard = o.shard ?? { index: 0, count: 1 };
  if (fs.existsSync(o.out) && !fs.statSync(o.out).isDirectory()) {
    throw new RangeError(`[@gpl/teacher] option 'out': ${o.out} is a file, expected a soft-label folder; choose another --out.`);
  }
  const { model, dir, name, state } = await loadTeacher(o.checkpoint);
  try {
    const numClasses = (model.outputs[0].shape[3] as number) ?? 0;
    if (numClasses !== o.ds.classNames.length) {
      throw new RangeError(`[@gpl/teacher] checkpoint ${dir} predicts ${numClasses} classes, ${o.ds.name} has ${o.ds.classNames.length}: use a teacher trained on this dataset.`);
    }
    if (typeof state.dataset === 'string' && state.dataset !== o.dataset) {
      throw new RangeError(`[@gpl/teacher] checkpoint ${dir} was trained on '${state.dataset}', not '${o.dataset}'.`);
    }
    const spec: GenerationSpec = {
      model: name,
      checkpoint: path.resolve(dir),
      weightsSha256: sha256(fs.readFileSync(path.join(dir, 'weights.bin'))),
      dataset: o.dataset,
      dataRoot: path.resolve(o.dataRoot),
      split: o.split,
      numClasses,
      classNames: o.ds.classNames,
      stride,
    };
    const createdOut = !fs.existsSync(o.out);
    fs.mkdirSync(o.out, { recursive: true });
    try {
      return await generateInto(o, { model, spec, shard, ids: await o.ds.sampleIds(), log });
    } catch (e) {
      // A generation that fails before its first file leaves nothing behind; files already written stay for a resume.
      if (createdOut && !fs.readdirSync(o.out).some((f) => f.endsWith(SOFT_LABEL_EXT))) fs.rmSync(o.out, { recursive: true, force: true });
      throw e;
    }
  } finally {
    model.dispose();
  }
}

/** The generation proper, into an existing `o.out`. */
async function generateInto(
  o: GenerateOptions,
  c: { model: tfl.LayersModel; spec: GenerationSpec; shard: { index: number; count: number }; ids: readonly string[]; log: (line: string) => void },
): Promise<GenerateResult> {
  const { model, spec, shard, ids, log } = c;
  const { numClasses, stride } = spec;
  const specFile = path.join(o.out, 'generation.json');
  if (fs.existsSync(specFile)) {
    const diff = specDifferences(JSON.parse(fs.readFileSync(specFile, 'utf8')) as GenerationSpec, spec);
    if (diff.length) throw new RangeError(`[@gpl/teacher] ${o.out} holds soft labels of another generation (${diff.join('; ')}). Use another --out or delete it.`);
  } else {
    await writeJsonAtomic(specFile, spec);
  }

  const mine = shardIndices(Array.from({ length: o.ds.length }, (_, i) => i), shard.index, shard.count);
  const progress = new Progress({ total: mine.length, label: `soft labels ${shard.index}/${shard.count}`, unit: 'img', ...(o.progressStream ? { stream: o.progressStream } : {}) });
  let written = 0;
  let skipped = 0;
  for (let k = 0; k < mine.length; k++) {
    const i = mine[k];
    if (await completeFile(softLabelPath(o.out, ids[i]), numClasses)) {
      skipped++;
    } else {
      if (o.limit !== undefined && written >= o.limit) break;
      const sample = await o.ds.get(i);
      await writeSoftLabels(o.out, sample.id, softLabelsOf(model, sample, stride));
      written++;
    }
    progress.update(k + 1);
  }
  progress.finish();
  log(`shard ${shard.index}/${shard.count}: ${written} written, ${skipped} already done (${mine.length} in this shard)`);

  // Whoever sees every sample done writes the manifest (each file read once: completeness, shape, checksum).
  const files: Record<string, SoftLabelManifest['files'][string]> = {};
  let done = 0;
  for (const id of ids) {
    const p = softLabelPath(o.out, id);
    const s = await completeFile(p, numClasses);
    if (!s) continue;
    done++;
    files[id] = { file: path.basename(p), height: s.height, width: s.width, channels: s.channels, sha256: sha256(s.bytes) };
  }
  if (done < ids.length) {
    log(`${done}/${ids.length} samples done; manifest.json is written when every shard has finished.`);
    return { written, skipped, complete: false };
  }
  const manifest: SoftLabelManifest = { format: MANIFEST_FORMAT, ...spec, createdAt: new Date().toISOString(), encoding: 'uint8', files };
  await writeJsonAtomic(path.join(o.out, 'manifest.json'), manifest);
  log(`manifest: ${path.join(o.out, 'manifest.json')} (${ids.length} files)`);
  return { written, skipped, complete: true, manifest };
}

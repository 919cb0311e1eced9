/**
 * Checkpoints in the standard TensorFlow.js format (model.json + binary weights), written to a
 * local folder without tfjs-node, atomically, together with optimizer state and run state.
 *
 * Layout of a checkpoint root:
 *   <root>/step-00000100/ model.json, weights.bin        (tfjs-layers model, loadable by tf.loadLayersModel)
 *                         variables.json, variables.bin  (named variables, tfjs weights-manifest format)
 *                         optimizer.json, optimizer.bin  (optimizer.getWeights(): iterations and slots)
 *                         state.json                     (step, RNG states, anything JSON)
 *   <root>/latest, <root>/best                          (one line: the name of the folder they point at)
 *
 * A checkpoint folder is complete before it gets its final name (written under a temporary
 * name, then renamed), and a pointer file is replaced by rename, so a crash at any moment
 * leaves `latest` pointing at a complete checkpoint: the previous one or the new one.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { syncedWriter, writeFileAtomic, type FileWriter } from './atomic';

/** A tensor with the name it is saved under. */
export interface NamedTensor {
  readonly name: string;
  readonly tensor: tf.Tensor;
}
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** What a checkpoint may hold; every part is optional. */
export interface CheckpointContent {
  /** A tfjs-layers model: saved as model.json + weights.bin. */
  readonly model?: LayersModel;
  /** Named tensors or variables (models built from raw variables). */
  readonly variables?: tf.NamedTensorMap;
  /** Optimizer whose slots (momentum, Adam moments) and iteration count are saved. */
  readonly optimizer?: tf.Optimizer;
  /** JSON-serializable run state (step, RNG states, metrics). */
  readonly state?: Record<string, unknown>;
}

/** Minimal file-writing surface; tests substitute it to simulate a failure mid-write. */
export type CheckpointWriter = FileWriter;

export interface SaveCheckpointOptions {
  /** Folder name; default `step-<8-digit step>` from `state.step`, else `ckpt`. */
  readonly name?: string;
  /** Pointer files to update after the folder is in place. Default ['latest']. */
  readonly tags?: readonly string[];
  /** Keep this many `step-*` folders (newest by step); tagged folders are never removed. Default 3. */
  readonly keep?: number;
  /** File writer; default writes and fsyncs with node's fs. */
  readonly writer?: CheckpointWriter;
}

const defaultWriter: CheckpointWriter = syncedWriter;

function toBytes(data: tf.io.WeightData): Uint8Array {
  return new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]));
}

async function writeWeightGroup(
  dir: string,
  stem: string,
  tensors: tf.NamedTensorMap | NamedTensor[],
  writer: CheckpointWriter,
): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const manifest: tf.io.WeightsManifestConfig = [{ paths: [`${stem}.bin`], weights: specs }];
  await writer.writeFile(path.join(dir, `${stem}.bin`), toBytes(data));
  await writer.writeFile(path.join(dir, `${stem}.json`), JSON.stringify({ weightsManifest: manifest }, null, 1));
}

/** Writes a tfjs-layers model's artifacts as model.json + weights.bin. */
async function writeModelArtifacts(dir: string, a: tf.io.ModelArtifacts, writer: CheckpointWriter): Promise<void> {
  const json: tf.io.ModelJSON = {
    modelTopology: a.modelTopology as object,
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
  };
  if (a.trainingConfig != null) json.trainingConfig = a.trainingConfig;
  if (a.userDefinedMetadata != null) json.userDefinedMetadata = a.userDefinedMetadata;
  await writer.writeFile(path.join(dir, 'weights.bin'), a.weightData ? toBytes(a.weightData) : new Uint8Array(0));
  await writer.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
}

/**
 * An IOHandler over a local folder (model.json + weights.bin), for `model.save(...)` and
 * `tf.loadLayersModel(...)` without tfjs-node. Saving is atomic.
 */
export function folderIOHandler(dir: string, writer: CheckpointWriter = defaultWriter): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await writeFolderAtomically(dir, (tmp) => writeModelArtifacts(tmp, artifacts, writer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
    load: () => readModelArtifacts(dir),
  };
}

async function writeFolderAtomically(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  await fs.promises.mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await fs.promises.mkdir(tmp);
  try {
    await fill(tmp);
  } catch (err) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (fs.existsSync(dir)) {
    // Replacing a folder of the same name: move the old one aside first; rename cannot
    // replace a non-empty directory.
    const trash = path.join(parent, `.${path.basename(dir)}.old-${process.pid}-${Date.now()}`);
    await fs.promises.rename(dir, trash);
    await fs.promises.rename(tmp, dir);
    await fs.promises.rm(trash, { recursive: true, force: true });
  } else {
    await fs.promises.rename(tmp, dir);
  }
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`[@gpl/core] checkpoint: ${file} is missing (${what}).`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`[@gpl/core] checkpoint: ${file} is not valid JSON (${what}): ${(err as Error).message}`);
  }
}

function readManifestWeights(dir: string, manifest: tf.io.WeightsManifestConfig, file: string): {
  specs: tf.io.WeightsManifestEntry[];
  data: ArrayBuffer;
} {
  if (!Array.isArray(manifest)) {
    throw new Error(`[@gpl/core] checkpoint: ${file}: field 'weightsManifest' must be an array of groups.`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const binPath = path.resolve(dir, p);
      if (path.relative(dir, binPath).startsWith('..')) {
        throw new Error(`[@gpl/core] checkpoint: ${file}: weight path '${p}' leaves the checkpoint folder.`);
      }
      let bin: Buffer;
      try {
        bin = fs.readFileSync(binPath);
      } catch {
        throw new Error(`[@gpl/core] checkpoint: ${binPath} is missing (listed in ${file}).`);
      }
      buffers.push(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer);
    }
  }
  const data = tf.io.concatenateArrayBuffers(buffers);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPerElement(s.dtype), 0);
  if (data.byteLength !== expected) {
    throw new Error(
      `[@gpl/core] checkpoint: weights listed in ${file} need ${expected} bytes, the .bin files hold ${data.byteLength}.`,
    );
  }
  return { specs, data };
}

function bytesPerElement(dtype: string): number {
  return dtype === 'bool' || dtype === 'uint8' ? 1 : dtype === 'float16' ? 2 : 4;
}

async function readModelArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const file = path.join(dir, 'model.json');
  const json = readJson(file, 'tfjs model topology and weights manifest') as tf.io.ModelJSON;
  if (json == null || typeof json !== 'object' || json.modelTopology == null) {
    throw new Error(`[@gpl/core] checkpoint: ${file}: field 'modelTopology' is missing.`);
  }
  const { specs, data } = readManifestWeights(dir, json.weightsManifest, file);
  return tf.io.getModelArtifactsForJSONSync(json, specs, data);
}

function readWeightGroup(dir: string, stem: string): NamedTensor[] | undefined {
  const file = path.join(dir, `${stem}.json`);
  if (!fs.existsSync(file)) return undefined;
  const json = readJson(file, `${stem} weights manifest`) as { weightsManifest: tf.io.WeightsManifestConfig };
  const { specs, data } = readManifestWeights(dir, json?.weightsManifest, file);
  const map = tf.io.decodeWeights(data, specs);
  // decodeWeights returns a map; keep manifest order, which is the save order.
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}

function stepName(state: Record<string, unknown> | undefined): string {
  const step = state?.step;
  return typeof step === 'number' ? `step-${String(step).padStart(8, '0')}` : 'ckpt';
}

/** Saves a checkpoint atomically and returns its folder. */
export async function saveCheckpoint(
  root: string,
  content: CheckpointContent,
  options: SaveCheckpointOptions = {},
): Promise<string> {
  const writer = options.writer ?? defaultWriter;
  const name = options.name ?? stepName(content.state);
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) {
    throw new RangeError(`[@gpl/core] saveCheckpoint: name '${name}' must be a plain folder name.`);
  }
  const dir = path.join(root, name);
  // Read everything from the tensors first, so a failure cannot leave a half-written folder.
  let modelArtifacts: tf.io.ModelArtifacts | undefined;
  if (content.model) {
    await content.model.save(
      tf.io.withSaveHandler(async (a) => {
        modelArtifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  }
  const optimizerWeights = content.optimizer ? await content.optimizer.getWeights() : undefined;
  try {
    await writeParts(dir, content, modelArtifacts, optimizerWeights, writer);
  } finally {
    // getWeights() creates a fresh scalar for the iteration count; the slots are the optimizer's own variables.
    tf.dispose((optimizerWeights ?? []).map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
  }
  for (const tag of options.tags ?? ['latest']) {
    await writeFileAtomic(path.join(root, tag), `${name}\n`, writer);
  }
  await pruneCheckpoints(root, options.keep ?? 3);
  return dir;
}

async function writeParts(
  dir: string,
  content: CheckpointContent,
  modelArtifacts: tf.io.ModelArtifacts | undefined,
  optimizerWeights: NamedTensor[] | undefined,
  writer: CheckpointWriter,
): Promise<void> {
  await writeFolderAtomically(dir, async (tmp) => {
    if (modelArtifacts) await writeModelArtifacts(tmp, modelArtifacts, writer);
    if (content.variables) await writeWeightGroup(tmp, 'variables', content.variables, writer);
    if (optimizerWeights) {
      await writeWeightGroup(tmp, 'optimizer', optimizerWeights, writer);
    }
    await writer.writeFile(
      path.join(tmp, 'state.json'),
      JSON.stringify({ savedAt: new Date().toISOString(), optimizer: content.optimizer?.getClassName(), ...content.state }, null, 1),
    );
  });
}

async function pruneCheckpoints(root: string, keep: number): Promise<void> {
  const entries = await fs.promises.readdir(root, { withFileTypes: true });
  const tagged = new Set<string>();
  for (const e of entries) {
    if (e.isFile() && !e.name.startsWith('.')) {
      tagged.add(fs.readFileSync(path.join(root, e.name), 'utf8').trim());
    }
  }
  const steps = entries
    .filter((e) => e.isDirectory() && /^step-\d+$/.test(e.name))
    .map((e) => e.name)
    .sort();
  for (const name of steps.slice(0, Math.max(0, steps.length - keep))) {
    if (!tagged.has(name)) await fs.promises.rm(path.join(root, name), { recursive: true, force: true });
  }
}

/** Folder a pointer (`latest`, `best`) refers to, or undefined if there is none yet. */
export function resolveCheckpoint(root: string, tag = 'latest'): string | undefined {
  const pointer = path.join(root, tag);
  if (!fs.existsSync(pointer)) return undefined;
  const name = fs.readFileSync(pointer, 'utf8').trim();
  const dir = path.join(root, name);
  if (!name || !fs.existsSync(dir)) {
    throw new Error(`[@gpl/core] checkpoint: ${pointer} points at '${name}', which does not exist.`);
  }
  return dir;
}

/** A checkpoint read back from disk. The caller owns (and disposes) every tensor. */
export interface LoadedCheckpoint {
  readonly dir: string;
  readonly modelArtifacts?: tf.io.ModelArtifacts;
  readonly variables?: NamedTensor[];
  readonly optimizerWeights?: NamedTensor[];
  readonly state: Record<string, unknown>;
}

/**
 * Reads a checkpoint folder (a `step-*` folder with state.json). Turning a run folder or a
 * `latest`/`best` pointer into that folder is `resolveCheckpoint`'s (and, for any path a user
 * types, `@gpl/engine`'s `resolveCheckpointPath`).
 */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  if (!fs.existsSync(path.join(dir, 'state.json'))) {
    throw new Error(`[@gpl/core] loadCheckpoint: ${dir} is not a checkpoint folder (no state.json); pass a step-* folder, e.g. resolveCheckpoint(root).`);
  }
  const state = readJson(path.join(dir, 'state.json'), 'run state') as Record<string, unknown>;
  const modelArtifacts = fs.existsSync(path.join(dir, 'model.json')) ? await readModelArtifacts(dir) : undefined;
  return {
    dir,
    state,
    modelArtifacts,
    variables: readWeightGroup(dir, 'variables'),
    optimizerWeights: readWeightGroup(dir, 'optimizer'),
  };
}

function assignInOrder(
  what: string,
  dir: string,
  targets: { name: string; shape: number[]; assign: (t: tf.Tensor) => void }[],
  saved: NamedTensor[],
): void {
  if (targets.length !== saved.length) {
    throw new RangeError(
      `[@gpl/core] restoreCheckpoint: ${dir} holds ${saved.length} ${what} tensors, the target has ${targets.length}.`,
    );
  }
  targets.forEach((t, i) => {
    const s = saved[i].tensor;
    if (s.shape.join() !== t.shape.join()) {
      throw new RangeError(
        `[@gpl/core] restoreCheckpoint: ${dir}: ${what} '${saved[i].name}' has shape [${s.shape}], ` +
          `the target '${t.name}' has [${t.shape}].`,
      );
    }
  });
  targets.forEach((t, i) => t.assign(saved[i].tensor));
}

/**
 * Restores a checkpoint into live objects: model weights (matched by order and shape, so a
 * freshly built model of the same architecture works even though tfjs renamed its layers),
 * named variables (by name), optimizer slots and iteration count. Returns the run state.
 */
export async function restoreCheckpoint(
  dir: string,
  target: { model?: LayersModel; variables?: Record<string, tf.Variable>; optimizer?: tf.Optimizer },
): Promise<{ dir: string; state: Record<string, unknown> }> {
  const ck = await loadCheckpoint(dir);
  const owned: tf.Tensor[] = [
    ...(ck.variables ?? []).map((v) => v.tensor),
    ...(ck.optimizerWeights ?? []).map((v) => v.tensor),
  ];
  try {
    if (target.model) {
      if (!ck.modelArtifacts?.weightSpecs || !ck.modelArtifacts.weightData) {
        throw new Error(`[@gpl/core] restoreCheckpoint: ${ck.dir} has no model.json, but a model was given.`);
      }
      const specs = ck.modelArtifacts.weightSpecs;
      const map = tf.io.decodeWeights(ck.modelArtifacts.weightData, specs);
      const saved = specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
      owned.push(...saved.map((s) => s.tensor));
      const weights = target.model.weights;
      assignInOrder(
        'model weight',
        ck.dir,
        weights.map((w) => ({ name: w.name, shape: w.shape as number[], assign: (t) => void w.write(t) })),
        saved,
      );
    }
    if (target.variables) {
      const saved = new Map((ck.variables ?? []).map((v) => [v.name, v.tensor]));
      for (const [name, v] of Object.entries(target.variables)) {
        const t = saved.get(name);
        if (!t) throw new RangeError(`[@gpl/core] restoreCheckpoint: ${ck.dir}/variables.json has no variable '${name}'.`);
        if (t.shape.join() !== v.shape.join()) {
          throw new RangeError(
            `[@gpl/core] restoreCheckpoint: variable '${name}' has shape [${t.shape}] in ${ck.dir}, [${v.shape}] in the target.`,
          );
        }
        v.assign(t);
      }
    }
    if (target.optimizer) {
      if (!ck.optimizerWeights) {
        throw new Error(`[@gpl/core] restoreCheckpoint: ${ck.dir} has no optimizer.json, but an optimizer was given.`);
      }
      // setWeights copies into new variables it owns; our decoded tensors are disposed below.
      await target.optimizer.setWeights(ck.optimizerWeights);
    }
  } finally {
    tf.dispose(owned);
  }
  return { dir: ck.dir, state: ck.state };
}

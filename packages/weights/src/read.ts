/**
 * One entry point for weight files: `readWeightFile(path)` recognises safetensors and torch.save
 * archives by their first bytes, finds the state dict (the object itself, or its `state_dict` /
 * `model` / `module` entry as mmseg, mmdet and many training scripts save it), and returns its
 * tensors as float32 with the names it found. Every failure is a `WeightFileError` of one line
 * naming the file, what was found and what was expected.
 */
import * as fs from 'fs';
import { Opaque, PickleError, describe, isTensorRef, type PickleValue } from './pickle';
import { isSafetensors, readSafetensors } from './safetensors';
import { isLegacyTorch, isZip, readTorchZip } from './torch-file';
import type { WeightTensor } from './tensor';

/** A weight file that cannot be used, with the file named. */
export class WeightFileError extends Error {
  constructor(readonly file: string, why: string) {
    super(`[@gpl/weights] ${file}: ${why}`);
    this.name = 'WeightFileError';
  }
}

/** What a weight file holds. */
export interface WeightFile {
  readonly file: string;
  readonly format: 'safetensors' | 'torch';
  /** Tensors by their key in the state dict, in file order. */
  readonly tensors: ReadonlyMap<string, WeightTensor>;
  /** Where the state dict was found: '' (the saved object) or the key holding it ('state_dict', …). */
  readonly stateDictKey: string;
  /** Entries of the state dict that are not tensors (skipped), e.g. mmcv metadata. */
  readonly nonTensors: readonly string[];
  /** safetensors `__metadata__`, or the other top-level keys of a torch checkpoint. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Keys that hold the state dict inside a checkpoint dict, in the order they are tried. */
export const STATE_DICT_KEYS: readonly string[] = Object.freeze(['state_dict', 'model', 'module', 'model_state_dict', 'state_dict_ema', 'params', 'params_ema']);

function hasTensors(v: PickleValue): v is Map<PickleValue, PickleValue> {
  return v instanceof Map && [...v.values()].some((x) => isTensorRef(x));
}

/** Reads `file` (see the module comment). */
export function readWeightFile(file: string): WeightFile {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WeightFileError(file, code === 'ENOENT' ? 'no such file (expected a .safetensors or a torch.save .pth/.pt file)' : `cannot be read (${code ?? (e as Error).message})`);
  }
  try {
    if (isZip(bytes)) return readTorch(file, bytes);
    if (isSafetensors(bytes)) {
      const { tensors, metadata } = readSafetensors(bytes);
      if (tensors.size === 0) throw new RangeError('the safetensors header lists no tensors');
      return { file, format: 'safetensors', tensors, stateDictKey: '', nonTensors: [], metadata };
    }
    if (isLegacyTorch(bytes)) {
      throw new RangeError('this is the legacy (PyTorch < 1.6) torch.save format; re-save it with torch.save(torch.load(f), f2) under PyTorch ≥ 1.6, or convert it to safetensors');
    }
    throw new RangeError(`the file starts with bytes ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}, neither a zip (torch.save) nor a safetensors header`);
  } catch (e) {
    if (e instanceof WeightFileError) throw e;
    if (e instanceof RangeError || e instanceof PickleError) throw new WeightFileError(file, e.message);
    throw e;
  }
}

function readTorch(file: string, bytes: Uint8Array): WeightFile {
  const { root, materialize } = readTorchZip(bytes);
  let dict: Map<PickleValue, PickleValue> | undefined;
  let stateDictKey = '';
  const metadata: Record<string, string> = {};
  if (hasTensors(root)) {
    dict = root;
  } else if (root instanceof Map) {
    for (const key of STATE_DICT_KEYS) {
      const v = root.get(key);
      if (v !== undefined && hasTensors(v)) {
        dict = v;
        stateDictKey = key;
        break;
      }
    }
    for (const [k, v] of root) if (String(k) !== stateDictKey) metadata[String(k)] = describe(v);
  }
  if (!dict) {
    const what = root instanceof Map ? `a dict with keys ${[...root.keys()].slice(0, 8).map(String).join(', ')}` : root instanceof Opaque ? `an object of ${root.name}` : describe(root);
    throw new RangeError(`the pickle holds ${what} and no state dict of tensors (expected tensors at the top level or under one of ${STATE_DICT_KEYS.join(', ')})`);
  }
  const tensors = new Map<string, WeightTensor>();
  const nonTensors: string[] = [];
  for (const [k, v] of dict) {
    const name = String(k);
    if (isTensorRef(v)) tensors.set(name, materialize(v, name));
    else nonTensors.push(name);
  }
  return { file, format: 'torch', tensors, stateDictKey, nonTensors, metadata };
}

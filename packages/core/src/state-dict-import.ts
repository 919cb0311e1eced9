/**
 * Importing a PyTorch state dict (read from a .pth or .safetensors file by `@gpl/weights`) into a
 * tfjs model: each encoder weight's PyTorch name comes from the backbone's naming rule
 * (`toPyTorchName`), the tensor is found under that name (after the prefix the file uses:
 * mmseg's `backbone.`, DataParallel's `module.`, …), converted from PyTorch's layout (OIHW
 * kernels → HWIO, depthwise (C,1,H,W) → (H,W,C,1), linear (out,in) → (in,out)) and checked.
 * Nothing is written unless every encoder weight is present and fits, so a refused file leaves
 * the model as it was; the refusal names the first mismatch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { WeightFile, WeightTensor } from '@gpl/weights';

/** Prefixes a state dict's keys may carry before the backbone's own names, tried in this order. */
export const STATE_DICT_PREFIXES: readonly string[] = Object.freeze(['', 'backbone.', 'module.', 'module.backbone.', 'encoder.', 'model.', 'backbone.body.']);

/** One imported weight. */
export interface StateDictRow {
  /** The model's `layer/weight`. */
  readonly key: string;
  /** The file's key. */
  readonly source: string;
  /** The model's shape (after the layout change). */
  readonly shape: readonly number[];
  readonly dtype: string;
}

/** What an import matched and what it skipped, and why. */
export interface StateDictImportReport {
  readonly file: string;
  /** The prefix the file's keys carry. */
  readonly prefix: string;
  readonly loaded: readonly StateDictRow[];
  /** Model weights outside the encoder, left as initialised. */
  readonly notEncoder: readonly string[];
  /** File entries the model does not use, with the reason. */
  readonly skipped: readonly { readonly name: string; readonly why: string }[];
}

export interface StateDictImportOptions {
  /** Whether a `layer/weight` key belongs to the encoder (what a pretrained file must supply). */
  readonly isEncoderWeight: (weightKey: string) => boolean;
  /** The PyTorch name of a `layer/weight` key (the backbone's `toPyTorchName`). */
  readonly toTorchName: (weightKey: string) => string;
  /** Message prefix, e.g. '[@gpl/resnet] loadBackboneWeights'. */
  readonly caller: string;
  /** What a matching file is, e.g. 'a torchvision ResNet-50 state dict'. */
  readonly expectedSource: string;
}

/** PyTorch layout → tfjs layout for a weight of tfjs shape `target`, or why it does not fit. */
function convert(t: WeightTensor, weightName: string, target: readonly number[]): { data: Float32Array } | { why: string } {
  const s = t.shape;
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  const transpose = (perm: number[], from: readonly number[]) => {
    const x = tf.tensor(t.data, [...from]);
    const y = tf.transpose(x, perm);
    const data = y.dataSync() as Float32Array;
    tf.dispose([x, y]);
    return data;
  };
  if (target.length === 4 && s.length === 4) {
    if (weightName === 'depthwise_kernel') {
      // (C, 1, H, W) → (H, W, C, 1)
      const want = [s[2], s[3], s[0], s[1]];
      return same(want, target) ? { data: transpose([2, 3, 0, 1], s) } : { why: `[${s}] becomes [${want}], the model has [${target}]` };
    }
    const want = [s[2], s[3], s[1], s[0]];
    return same(want, target) ? { data: transpose([2, 3, 1, 0], s) } : { why: `[${s}] (OIHW) becomes [${want}], the model has [${target}]` };
  }
  if (target.length === 2 && s.length === 2) {
    const want = [s[1], s[0]];
    return same(want, target) ? { data: transpose([1, 0], s) } : { why: `[${s}] (out, in) becomes [${want}], the model has [${target}]` };
  }
  return same(s, target) ? { data: t.data } : { why: `[${s}] in the file, [${target}] in the model` };
}

/** `layer/weight` → the model's variable, for every weight of `model`. */
function modelWeights(model: tfl.LayersModel): Map<string, tfl.LayerVariable> {
  const out = new Map<string, tfl.LayerVariable>();
  for (const layer of model.layers) for (const w of layer.weights) out.set(`${layer.name}/${w.originalName.split('/').pop()}`, w);
  return out;
}

/** Imports the encoder weights of `file` into `model` (see the module comment). */
export function importStateDict(model: tfl.LayersModel, file: WeightFile, o: StateDictImportOptions): StateDictImportReport {
  const weights = modelWeights(model);
  const encoder = [...weights.keys()].filter(o.isEncoderWeight);
  const names = new Map(encoder.map((k) => [k, o.toTorchName(k)]));
  const prefix = STATE_DICT_PREFIXES.map((p) => ({ p, n: encoder.filter((k) => file.tensors.has(p + names.get(k)!)).length })).reduce((a, b) => (b.n > a.n ? b : a)).p;
  const missing = encoder.filter((k) => !file.tensors.has(prefix + names.get(k)!));
  if (missing.length === encoder.length) {
    const sample = [...file.tensors.keys()].slice(0, 3).join(', ');
    throw new RangeError(`${o.caller}: ${file.file} has none of the encoder's weights (expected e.g. ${names.get(encoder[0])}; the file has ${sample}, …). It must be ${o.expectedSource}.`);
  }
  if (missing.length) {
    throw new RangeError(`${o.caller}: ${file.file} lacks ${missing.length} of ${encoder.length} encoder weights, first ${prefix}${names.get(missing[0])} (for ${missing[0]}). It must be ${o.expectedSource}.`);
  }
  const loaded: StateDictRow[] = [];
  const writes: [tfl.LayerVariable, Float32Array][] = [];
  for (const key of encoder) {
    const source = prefix + names.get(key)!;
    const t = file.tensors.get(source)!;
    const w = weights.get(key)!;
    const c = convert(t, key.slice(key.lastIndexOf('/') + 1), w.shape as number[]);
    if ('why' in c) throw new RangeError(`${o.caller}: ${file.file}: '${source}' does not fit ${key}: ${c.why}. It must be ${o.expectedSource}.`);
    loaded.push({ key, source, shape: w.shape as number[], dtype: t.dtype });
    writes.push([w, c.data]);
  }
  for (const [w, data] of writes) {
    const t = tf.tensor(data, w.shape as number[]);
    w.write(t);
    t.dispose();
  }
  const used = new Set(loaded.map((r) => r.source));
  const skipped = [...file.tensors.keys()]
    .filter((n) => !used.has(n))
    .map((name) => ({
      name,
      why: name.endsWith('num_batches_tracked') ? 'BatchNorm step counter (no counterpart)' : !name.startsWith(prefix) ? `outside '${prefix}' (not the backbone)` : 'not in this model (e.g. an ImageNet classifier)',
    }));
  return { file: file.file, prefix, loaded, notEncoder: [...weights.keys()].filter((k) => !o.isEncoderWeight(k)), skipped };
}

/** The report as a table: what was matched (PyTorch name → tfjs weight, shape, dtype) and what was skipped and why. */
export function formatStateDictReport(r: StateDictImportReport, maxRows = Infinity): string {
  const width = Math.max(...r.loaded.map((row) => row.source.length), 10);
  const rows = r.loaded.slice(0, maxRows).map((row) => `  ${row.source.padEnd(width)}  → ${row.key}  [${row.shape.join('×')}] ${row.dtype}`);
  const more = r.loaded.length > maxRows ? [`  … ${r.loaded.length - maxRows} more`] : [];
  const reasons = new Map<string, string[]>();
  for (const s of r.skipped) reasons.set(s.why, [...(reasons.get(s.why) ?? []), s.name]);
  const skipped = [...reasons].map(([why, names]) => `  ${names.length} skipped: ${why} (e.g. ${names.slice(0, 3).join(', ')})`);
  return [
    `pretrained: ${r.loaded.length} encoder weights from ${r.file}${r.prefix ? ` (keys prefixed '${r.prefix}')` : ''}; ${r.notEncoder.length} weights outside the encoder keep their initialisation`,
    ...rows,
    ...more,
    ...skipped,
  ].join('\n');
}

/**
 * `model` with its encoder imported from `file` (when there is one) and the table written to
 * `log`: what a task's `buildModel` does for `--pretrained`. A refused file disposes the model
 * before the error goes on.
 */
export function withPretrainedEncoder(model: tfl.LayersModel, file: WeightFile | undefined, o: StateDictImportOptions, log?: (line: string) => void): tfl.LayersModel {
  if (!file) return model;
  try {
    // The import runs whether or not there is a log to write its table to.
    const report = importStateDict(model, file, o);
    log?.(formatStateDictReport(report, 0));
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

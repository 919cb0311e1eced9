/**
 * Pretrained encoder weights, as the backbones import them: the PyTorch state-dict key of each
 * weight (for converting a state dict into a tfjs model), and the import of a converted encoder
 * from a TensorFlow.js layers-model folder. Each backbone supplies what is its own: which
 * layers belong to the encoder, and the names its messages use.
 */
import * as fs from 'fs';
import * as tfl from '@tensorflow/tfjs-layers';
import { readWeightFile } from '@gpl/weights';
import { importWeightsByName, type ImportReport } from './backbone';
import { folderIOHandler } from './checkpoint';
import { importStateDict, type StateDictImportReport } from './state-dict-import';

/** tfjs weight name → PyTorch parameter or buffer name. */
const WEIGHT_NAMES: Readonly<Record<string, string>> = Object.freeze({
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
});

/**
 * The PyTorch state-dict key of a weight given as `layer/weight` (the key `importWeightsByName`
 * reports), for models whose layers carry their PyTorch module paths and name the BatchNorm
 * after a convolution `<conv>.bn` (as `convUnit` does):
 *
 *   'conv1/kernel'                  → 'conv1.weight'
 *   'conv1.bn/moving_mean'          → 'bn1.running_mean'          (`bnK` after `convK`)
 *   'layer1.0.downsample.0.bn/beta' → 'layer1.0.downsample.1.bias' (next Sequential index)
 *
 * Kernels are HWIO here and OIHW in PyTorch (an OIHW tensor becomes HWIO by transposing with
 * [2, 3, 1, 0]); PyTorch's `num_batches_tracked` buffers have no counterpart. `packageName`
 * is the package the errors name (a backbone passes its own).
 */
export function toPyTorchName(weightKey: string, packageName = '@gpl/core'): string {
  const where = `[${packageName}] toPyTorchName`;
  const slash = weightKey.lastIndexOf('/');
  if (slash < 0) throw new RangeError(`${where}: expected 'layer/weight', received '${weightKey}'.`);
  const layer = weightKey.slice(0, slash);
  const weight = WEIGHT_NAMES[weightKey.slice(slash + 1)];
  if (!weight) {
    throw new RangeError(`${where}: unknown weight '${weightKey.slice(slash + 1)}' in '${weightKey}'; known: ${Object.keys(WEIGHT_NAMES).join(', ')}.`);
  }
  if (!layer.endsWith('.bn')) return `${layer}.${weight}`;
  const parts = layer.slice(0, -3).split('.');
  const last = parts[parts.length - 1];
  const convK = /^conv(\d+)$/.exec(last);
  if (convK) parts[parts.length - 1] = `bn${convK[1]}`;
  else if (/^\d+$/.test(last)) parts[parts.length - 1] = String(Number(last) + 1);
  else throw new RangeError(`${where}: no PyTorch name for the BatchNorm after '${parts.join('.')}' (expected 'convK' or an index).`);
  return `${parts.join('.')}.${weight}`;
}

/** `layer/weight` keys of a model, as `importWeightsByName` matches and reports them. */
export function weightKeys(model: tfl.LayersModel): string[] {
  return model.layers.flatMap((l) => l.weights.map((w) => `${l.name}/${w.originalName.split('/').pop()}`));
}

export interface LoadEncoderWeightsOptions {
  /** Whether a `layer/weight` key of the model belongs to the encoder (the part a pretrained source must supply). */
  readonly isEncoderWeight: (weightKey: string) => boolean;
  /** How the errors begin: package and function, e.g. "[@gpl/resnet] loadBackboneWeights". */
  readonly caller: string;
  /** What a matching source is, for the error, e.g. 'the same variant and width, with the layer names documented in hrnet.ts'. */
  readonly expectedSource: string;
  /** Accept a source that lacks some encoder weights (they keep their initialisation). Default false. */
  readonly allowPartial?: boolean;
}

/**
 * Copies encoder weights (e.g. an ImageNet-initialised backbone a user converted) from a
 * TensorFlow.js layers-model folder (`model.json` + weights, as `folderIOHandler` writes) into
 * `model`, matching layer and weight names; other layers (a decode head) stay as initialised
 * unless the source has them too. Throws, copying nothing, if an encoder weight is missing from
 * the source (another variant, or a naming mismatch) unless `allowPartial`, if nothing matches
 * at all, or if a shape differs (another width). Source weights the model lacks (an ImageNet
 * classifier) are reported as `unused`. The source model is disposed before returning.
 */
export async function loadEncoderWeights(model: tfl.LayersModel, folder: string, options: LoadEncoderWeightsOptions): Promise<ImportReport> {
  const source = await tfl.loadLayersModel(folderIOHandler(folder));
  try {
    // Checked before anything is copied, so a refused import leaves the model untouched.
    const available = new Set(weightKeys(source));
    const wanted = weightKeys(model);
    const missing = wanted.filter((k) => !available.has(k) && options.isEncoderWeight(k));
    const matching = wanted.filter((k) => available.has(k)).length;
    if (matching === 0 || (missing.length > 0 && !options.allowPartial)) {
      throw new RangeError(
        `${options.caller}: ${missing.length} encoder weights are missing from ${folder} ` +
          `(e.g. ${missing.slice(0, 3).join(', ')}); ${matching} match. The source must be ${options.expectedSource}; ` +
          'pass { allowPartial: true } to accept a partial import.',
      );
    }
    // Shapes are checked in there, again before any weight is written.
    return importWeightsByName(model, source);
  } finally {
    source.dispose();
  }
}

export interface LoadBackboneWeightsOptions {
  /** Accept a source that lacks some encoder weights (they keep their initialisation). Default false; layers-model folders only. */
  readonly allowPartial?: boolean;
}

/** What a backbone import did; `stateDict` holds the per-weight table when the source was a .pth/.safetensors file. */
export interface BackboneImportReport extends ImportReport {
  readonly stateDict?: StateDictImportReport;
}

/**
 * A backbone package's `loadBackboneWeights(model, source, options?)`: `source` is a TensorFlow.js
 * layers-model folder, or a PyTorch weight file (torch.save `.pth`/`.pt`, `.safetensors`, an
 * mmseg/mmdet checkpoint) read by `@gpl/weights`.
 */
export type BackboneWeightsLoader = (model: tfl.LayersModel, source: string, options?: LoadBackboneWeightsOptions) => Promise<BackboneImportReport>;

/**
 * The `loadBackboneWeights` of one backbone package: `loadEncoderWeights` (folders) or
 * `importStateDict` (weight files) with that package's encoder test, PyTorch names and messages
 * fixed, and only `allowPartial` left to the caller.
 */
export function backboneWeightsLoader(spec: Omit<LoadEncoderWeightsOptions, 'allowPartial'> & { readonly toTorchName: (weightKey: string) => string }): BackboneWeightsLoader {
  return async (model, source, options = {}) => {
    if (!fs.existsSync(source)) {
      throw new RangeError(`${spec.caller}: ${source} does not exist (expected a TensorFlow.js layers-model folder, a .safetensors file or a torch.save .pth/.pt file).`);
    }
    if (fs.statSync(source).isDirectory()) return loadEncoderWeights(model, source, { ...spec, allowPartial: options.allowPartial });
    const report = importStateDict(model, readWeightFile(source), spec);
    return { loaded: report.loaded.map((r) => r.key), missing: [], unused: report.skipped.map((s) => s.name), stateDict: report };
  };
}

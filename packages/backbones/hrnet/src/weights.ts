/**
 * Pretrained weights: the PyTorch name of each weight (for converting a state dict) and the
 * import of a converted encoder from a TensorFlow.js layers-model folder.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { folderIOHandler, importWeightsByName, type ImportReport } from '@gpl/core';
// Registers the custom layers so that folders saved from models built here load.
import './resize';

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
 * reports), e.g. 'stage2.0.branches.1.0.conv1.bn/gamma' → 'stage2.0.branches.1.0.bn1.weight',
 * 'transition1.1.0.0.bn/moving_mean' → 'transition1.1.0.1.running_mean',
 * 'last_layer.0/kernel' → 'last_layer.0.weight'.
 *
 * Rule: a convolution keeps its module path; its BatchNorm `<conv>.bn` becomes `bnK` when the
 * conv is `convK`, else the next index of the enclosing Sequential. Kernels are HWIO here and
 * OIHW in PyTorch (an OIHW tensor becomes HWIO by transposing with [2, 3, 1, 0]). PyTorch's
 * `num_batches_tracked` buffers have no counterpart, nor has the bias of HR's `last_layer.0`
 * (see `buildHRNetSegmenter`): when converting an HR segmentation checkpoint, subtract it from
 * `last_layer.1.running_mean`, which leaves the function unchanged.
 */
export function toPyTorchName(weightKey: string): string {
  const slash = weightKey.lastIndexOf('/');
  if (slash < 0) throw new RangeError(`[@gpl/hrnet] toPyTorchName: expected 'layer/weight', received '${weightKey}'.`);
  const layer = weightKey.slice(0, slash);
  const weight = WEIGHT_NAMES[weightKey.slice(slash + 1)];
  if (!weight) throw new RangeError(`[@gpl/hrnet] toPyTorchName: unknown weight '${weightKey.slice(slash + 1)}' in '${weightKey}'.`);
  if (!layer.endsWith('.bn')) return `${layer}.${weight}`;
  const parts = layer.slice(0, -3).split('.');
  const last = parts[parts.length - 1];
  const conv = /^conv(\d+)$/.exec(last);
  if (conv) parts[parts.length - 1] = `bn${conv[1]}`;
  else if (/^\d+$/.test(last)) parts[parts.length - 1] = String(Number(last) + 1);
  else throw new RangeError(`[@gpl/hrnet] toPyTorchName: no PyTorch name for the BatchNorm after '${parts.join('.')}'.`);
  return `${parts.join('.')}.${weight}`;
}

export interface LoadBackboneWeightsOptions {
  /** Accept a source that lacks some encoder weights (they keep their initialisation). Default false. */
  readonly allowPartial?: boolean;
}

/** `layer/weight` keys of a model, as `importWeightsByName` matches and reports them. */
function weightKeys(model: tfl.LayersModel): string[] {
  return model.layers.flatMap((l) => l.weights.map((w) => `${l.name}/${w.originalName.split('/').pop()}`));
}

/** Head layers: not part of an encoder checkpoint. */
const isHeadWeight = (key: string) => key.startsWith('last_layer.');

/**
 * Copies encoder weights (e.g. an ImageNet-initialised HRNet that a user converted) from a
 * TensorFlow.js layers-model folder (`model.json` + weights, as `folderIOHandler` writes) into
 * `model`, matching layer and weight names. The head (`last_layer.*`) stays as initialised.
 * Throws, copying nothing, if an encoder weight is missing from the source (another variant,
 * or a naming mismatch) unless `allowPartial`, or if a shape differs (another width). Source
 * weights the model lacks (an ImageNet classifier) are reported as `unused`. The source model
 * is disposed before returning.
 */
export async function loadBackboneWeights(
  model: tfl.LayersModel,
  folder: string,
  options: LoadBackboneWeightsOptions = {},
): Promise<ImportReport> {
  const source = await tfl.loadLayersModel(folderIOHandler(folder));
  try {
    // Checked before anything is copied, so a refused import leaves the model untouched.
    const available = new Set(weightKeys(source));
    const wanted = weightKeys(model);
    const missing = wanted.filter((k) => !available.has(k) && !isHeadWeight(k));
    const matching = wanted.filter((k) => available.has(k)).length;
    if (matching === 0 || (missing.length > 0 && !options.allowPartial)) {
      throw new RangeError(
        `[@gpl/hrnet] loadBackboneWeights: ${missing.length} encoder weights are missing from ${folder} ` +
          `(e.g. ${missing.slice(0, 3).join(', ')}); ${matching} match. The source must be the same variant ` +
          'and width, with the layer names documented in hrnet.ts; pass { allowPartial: true } to accept a partial import.',
      );
    }
    // Shapes are checked here, again before any weight is written.
    return importWeightsByName(model, source);
  } finally {
    source.dispose();
  }
}

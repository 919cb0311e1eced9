/**
 * Pretrained weights: the PyTorch name of each weight (for converting a torchvision or
 * MMSegmentation state dict) and the import of a converted encoder from a TensorFlow.js
 * layers-model folder.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { folderIOHandler, importWeightsByName, type ImportReport } from '@gpl/core';
import { isResNetLayer } from './resnet';
// Registers the custom layer, so that folders saved from models built here load.
import './input-check';

const WEIGHT_NAMES: Readonly<Record<string, string>> = Object.freeze({
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
});

/**
 * The PyTorch state-dict key of a weight given as `layer/weight` (the key
 * `importWeightsByName` reports):
 *   'conv1/kernel'                       → 'conv1.weight'               (torchvision stem)
 *   'conv1.bn/moving_mean'               → 'bn1.running_mean'
 *   'stem.3.bn/gamma'                    → 'stem.4.weight'              (MMSegmentation ResNetV1c)
 *   'layer3.5.conv2.bn/beta'             → 'layer3.5.bn2.bias'
 *   'layer2.0.downsample.0.bn/moving_variance' → 'layer2.0.downsample.1.running_var'
 * Rule: a convolution keeps its module path; its BatchNorm `<conv>.bn` becomes `bnK` when
 * the conv is `convK`, else the next index of the enclosing Sequential. Kernels are HWIO here
 * and OIHW in PyTorch (an OIHW array becomes HWIO by transposing with [2, 3, 1, 0]).
 * `num_batches_tracked` and the ImageNet classifier `fc.*` have no counterpart.
 * MMSegmentation checkpoints prefix every key with `backbone.`.
 */
export function toPyTorchName(weightKey: string): string {
  const slash = weightKey.lastIndexOf('/');
  if (slash < 0) throw new RangeError(`[@gpl/resnet] toPyTorchName: expected 'layer/weight', received '${weightKey}'.`);
  const layer = weightKey.slice(0, slash);
  const weight = WEIGHT_NAMES[weightKey.slice(slash + 1)];
  if (!weight) throw new RangeError(`[@gpl/resnet] toPyTorchName: unknown weight '${weightKey.slice(slash + 1)}' in '${weightKey}'.`);
  if (!layer.endsWith('.bn')) return `${layer}.${weight}`;
  const parts = layer.slice(0, -3).split('.');
  const last = parts[parts.length - 1];
  const convK = /^conv(\d+)$/.exec(last);
  if (convK) parts[parts.length - 1] = `bn${convK[1]}`;
  else if (/^\d+$/.test(last)) parts[parts.length - 1] = String(Number(last) + 1);
  else throw new RangeError(`[@gpl/resnet] toPyTorchName: no PyTorch name for the BatchNorm after '${parts.join('.')}'.`);
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

/**
 * Copies ResNet encoder weights (e.g. an ImageNet-initialised backbone a user converted) from
 * a TensorFlow.js layers-model folder (`model.json` + weights, as `folderIOHandler` writes)
 * into `model` — a bare encoder, or a PSPNet / DeepLabV3+ built on one — matching layer and
 * weight names. Layers outside the encoder (a decode head) stay as initialised unless the
 * source has them too. Throws, copying nothing, if an encoder weight is missing from the
 * source (another variant or stem, or a naming mismatch) unless `allowPartial`, or if a shape
 * differs (another width). Source weights the model lacks (an ImageNet classifier) are
 * reported as `unused`. The source model is disposed before returning.
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
    const missing = wanted.filter((k) => !available.has(k) && isResNetLayer(k.slice(0, k.lastIndexOf('/'))));
    const matching = wanted.filter((k) => available.has(k)).length;
    if (matching === 0 || (missing.length > 0 && !options.allowPartial)) {
      throw new RangeError(
        `[@gpl/resnet] loadBackboneWeights: ${missing.length} encoder weights are missing from ${folder} ` +
          `(e.g. ${missing.slice(0, 3).join(', ')}); ${matching} match. The source must be the same variant, stem ` +
          'and width, with the layer names documented in resnet.ts; pass { allowPartial: true } to accept a partial import.',
      );
    }
    // Shapes are checked in there, again before any weight is written.
    return importWeightsByName(model, source);
  } finally {
    source.dispose();
  }
}

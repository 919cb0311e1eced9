/**
 * Pretrained weights: the PyTorch name of each weight (for converting a state dict) and the
 * import of a converted encoder from a TensorFlow.js layers-model folder. The naming rule and
 * the import are @gpl/core's; what is HRNet's own is that the head (`last_layer.*`) is not part
 * of an encoder checkpoint.
 */
import { backboneWeightsLoader, toPyTorchName as torchName, type BackboneWeightsLoader } from '@gpl/core';

/**
 * The PyTorch state-dict key of a weight given as `layer/weight` (the key `importWeightsByName`
 * reports), e.g. 'stage2.0.branches.1.0.conv1.bn/gamma' → 'stage2.0.branches.1.0.bn1.weight',
 * 'transition1.1.0.0.bn/moving_mean' → 'transition1.1.0.1.running_mean',
 * 'last_layer.0/kernel' → 'last_layer.0.weight'.
 *
 * Rule (core's `toPyTorchName`): a convolution keeps its module path; its BatchNorm
 * `<conv>.bn` becomes `bnK` when the conv is `convK`, else the next index of the enclosing
 * Sequential. Kernels are HWIO here and OIHW in PyTorch (an OIHW tensor becomes HWIO by
 * transposing with [2, 3, 1, 0]). PyTorch's `num_batches_tracked` buffers have no
 * counterpart, nor has the bias of HR's `last_layer.0` (see `buildHRNetSegmenter`): when
 * converting an HR segmentation checkpoint, subtract it from `last_layer.1.running_mean`,
 * which leaves the function unchanged.
 */
export function toPyTorchName(weightKey: string): string {
  return torchName(weightKey, '@gpl/hrnet');
}

/**
 * Copies encoder weights (e.g. an ImageNet-initialised HRNet that a user converted) from a
 * TensorFlow.js layers-model folder (`model.json` + weights, as `folderIOHandler` writes) into
 * `model`, matching layer and weight names. The head (`last_layer.*`) stays as initialised.
 * Throws, copying nothing, if an encoder weight is missing from the source (another variant,
 * or a naming mismatch) unless `allowPartial`, or if a shape differs (another width). Source
 * weights the model lacks (an ImageNet classifier) are reported as `unused`. The source model
 * is disposed before returning.
 */
export const loadBackboneWeights: BackboneWeightsLoader = backboneWeightsLoader({
  toTorchName: toPyTorchName,
  isEncoderWeight: (key) => !key.startsWith('last_layer.'),
  caller: '[@gpl/hrnet] loadBackboneWeights',
  expectedSource: 'the same variant and width, with the layer names documented in hrnet.ts',
});

/**
 * Pretrained weights: the PyTorch name of each weight (for converting a torchvision or
 * MMSegmentation state dict) and the import of a converted encoder from a TensorFlow.js
 * layers-model folder. The naming rule and the import are @gpl/core's; what is ResNet's own is
 * which layers form the encoder (`isResNetLayer`).
 */
import { backboneWeightsLoader, toPyTorchName as torchName, type BackboneWeightsLoader } from '@gpl/core';
import { isResNetLayer } from './resnet';

/**
 * The PyTorch state-dict key of a weight given as `layer/weight` (the key
 * `importWeightsByName` reports):
 *   'conv1/kernel'                       → 'conv1.weight'               (torchvision stem)
 *   'conv1.bn/moving_mean'               → 'bn1.running_mean'
 *   'stem.3.bn/gamma'                    → 'stem.4.weight'              (MMSegmentation ResNetV1c)
 *   'layer3.5.conv2.bn/beta'             → 'layer3.5.bn2.bias'
 *   'layer2.0.downsample.0.bn/moving_variance' → 'layer2.0.downsample.1.running_var'
 * Rule (core's `toPyTorchName`): a convolution keeps its module path; its BatchNorm `<conv>.bn`
 * becomes `bnK` when the conv is `convK`, else the next index of the enclosing Sequential.
 * Kernels are HWIO here and OIHW in PyTorch (an OIHW array becomes HWIO by transposing with
 * [2, 3, 1, 0]). `num_batches_tracked` and the ImageNet classifier `fc.*` have no counterpart.
 * MMSegmentation checkpoints prefix every key with `backbone.`.
 */
export function toPyTorchName(weightKey: string): string {
  return torchName(weightKey, '@gpl/resnet');
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
export const loadBackboneWeights: BackboneWeightsLoader = backboneWeightsLoader({
  toTorchName: toPyTorchName,
  isEncoderWeight: (key) => isResNetLayer(key.slice(0, key.lastIndexOf('/'))),
  caller: '[@gpl/resnet] loadBackboneWeights',
  expectedSource: 'the same variant, stem and width, with the layer names documented in resnet.ts',
});

/**
 * What every decode head shares (MMSegmentation's BaseDecodeHead): resizing to another
 * tensor's size, and channel dropout followed by a 1×1 classifier. PSPNet and DeepLabV3+
 * build their middles on these; they live here because a decode head must not import another
 * model's package (dependency direction).
 *
 * Every resize here uses align_corners = true. There tfjs and PyTorch agree exactly, on the
 * native kernel, with a correct gradient (see resize.ts for why tfjs's align_corners = false
 * is neither). semseg's PSPNet and MMSegmentation's 769×769 Cityscapes configs use
 * align_corners = true as well; VainF's DeepLabV3+ uses false, a choice that moves the
 * upsampled maps by a fraction of a feature pixel and changes no parameter (the decoder
 * learns either alignment from scratch).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ResizeBilinear, layerSeed } from './layers';
import { ResizeLike } from './resize';

type ST = tfl.SymbolicTensor;

/**
 * x [N, h, w, C] resized bilinearly (align_corners) to the spatial size of `reference`
 * [N, H, W, *], as a layer named `name`: core's `ResizeBilinear` when that size is known when
 * the model is built, else `ResizeLike` (the same computation, sized when the model runs).
 */
export function resizeToReference(x: ST, reference: ST, name: string): ST {
  const [, h, w] = reference.shape;
  if (h != null && w != null) return new ResizeBilinear({ name, size: [h, w], alignCorners: true }).apply(x) as ST;
  return new ResizeLike({ name, mode: 'bilinear', alignCorners: true }).apply([x, reference]) as ST;
}

/**
 * Channel dropout (PyTorch Dropout2d: whole feature maps; left out when `dropout` is 0) then a
 * 1×1 classifier with bias: x [N, H, W, C] → logits [N, H, W, numClasses], layers named
 * `<prefix>.dropout` and `<prefix>.cls`. The kernel starts near zero (normal, σ 0.01, as
 * MMSegmentation's `conv_seg`, seeded from `seed` and the layer name), so the initial
 * cross-entropy is ≈ ln(numClasses).
 */
export function classifierHead(x: ST, prefix: string, numClasses: number, dropout: number, seed: number): ST {
  let y = x;
  if (dropout > 0) {
    // A null entry of noiseShape takes the input's size: one draw per (image, channel).
    const noiseShape = [null, 1, 1, null] as unknown as number[];
    y = tfl.layers.dropout({ rate: dropout, noiseShape, name: `${prefix}.dropout` }).apply(y) as ST;
  }
  return tfl.layers
    .conv2d({
      name: `${prefix}.cls`,
      filters: numClasses,
      kernelSize: 1,
      kernelInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 0.01, seed: layerSeed(seed, `${prefix}.cls`) }),
      biasInitializer: 'zeros',
    })
    .apply(y) as ST;
}

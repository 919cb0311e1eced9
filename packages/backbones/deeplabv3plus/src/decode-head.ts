/**
 * What every decode head of this package shares (MMSegmentation's BaseDecodeHead): channel
 * dropout and a 1×1 classifier, bilinear resizing to another tensor's size, per-layer seeds.
 *
 * @gpl/pspnet keeps a copy (its own layer class name): a decode head must not import another model's
 * package (dependency direction), and this is too small to be worth a package of its own.
 *
 * Every resize uses align_corners = true. There tfjs and PyTorch agree exactly; tfjs's
 * align_corners = false is TensorFlow 1's asymmetric mapping (output o reads input o·in/out),
 * not PyTorch's half-pixel one, and its ResizeBilinearGrad kernels ignore `halfPixelCenters`,
 * so a half-pixel resize would not differentiate correctly. VainF's DeepLabV3+ uses
 * align_corners = false; the choice moves the upsampled maps by a fraction of a feature
 * pixel and changes no parameter (the decoder learns either alignment from scratch).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ResizeBilinear, Rng, deriveSeed } from '@gpl/core';

type ST = tfl.SymbolicTensor;
type Kwargs = Record<string, unknown>;

/** Seed of one layer, from the model seed and the layer name: independent of build order. */
export function layerSeed(seed: number, name: string): number {
  return deriveSeed(new Rng(seed).fork(name));
}

/**
 * Two inputs [x, reference]: resizes x [N, h, w, C] bilinearly (align_corners) to the spatial
 * size of `reference` (whose values are not read). Used where that size is unknown when the
 * model is built (models for any input size); with a known size core's ResizeBilinear does
 * the same computation.
 */
export class ResizeLike extends tfl.layers.Layer {
  static readonly className = 'GplDeepLabV3PlusResizeLike';

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [x, ref] = inputShape as tfl.Shape[];
    return [x[0], ref[1], ref[2], x[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [x, ref] = inputs as tf.Tensor4D[];
      const size: [number, number] = [ref.shape[1], ref.shape[2]];
      if (x.shape[1] === size[0] && x.shape[2] === size[1]) return tf.clone(x);
      return tf.image.resizeBilinear(x, size, true);
    });
  }
}
tf.serialization.registerClass(ResizeLike);

/** x resized to the spatial size of `reference`: core's ResizeBilinear when that size is known now, else ResizeLike. */
export function resizeLike(x: ST, reference: ST, name: string): ST {
  const [, h, w] = reference.shape;
  if (h != null && w != null) return new ResizeBilinear({ name, size: [h, w], alignCorners: true }).apply(x) as ST;
  return new ResizeLike({ name }).apply([x, reference]) as ST;
}

/**
 * Channel dropout (PyTorch Dropout2d: whole feature maps) then a 1×1 classifier with bias,
 * named `<prefix>.dropout` and `<prefix>.cls`. The kernel starts near zero (normal, σ 0.01,
 * as MMSegmentation's `conv_seg`), so the initial cross-entropy is ≈ ln(numClasses).
 */
export function classifier(x: ST, prefix: string, numClasses: number, dropout: number, seed: number): ST {
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

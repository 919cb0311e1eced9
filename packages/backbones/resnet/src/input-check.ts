/**
 * A weightless layer that checks the image size when a model built for any input size runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkInputSize } from '@gpl/core';

type Kwargs = Record<string, unknown>;

export interface InputSizeCheckArgs {
  readonly name?: string;
  /** Height and width must be multiples of this. */
  readonly divisor: number;
}

/**
 * Identity on the image [N, H, W, C] that throws a RangeError naming the nearest valid size
 * when H or W is not a multiple of `divisor`. Sizes known when the model is built are checked
 * then instead; this catches the rest at run time.
 */
export class InputSizeCheck extends tfl.layers.Layer {
  static readonly className = 'GplResNetInputSizeCheck';
  readonly divisor: number;

  constructor(args: InputSizeCheckArgs) {
    super(args);
    this.divisor = args.divisor;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    checkInputSize('@gpl/resnet', x.shape[1], x.shape[2], this.divisor);
    // A new handle on the same data: a layer must not return its input tensor, which the
    // model executor would otherwise dispose as an intermediate.
    return tf.clone(x);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), divisor: this.divisor };
  }
}
tf.serialization.registerClass(InputSizeCheck);

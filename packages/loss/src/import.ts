/**
 * Supplied networks (paper Table 1, 'T' rows): a sequential tfjs-layers model such as an
 * ImageNet VGG16 converted with tensorflowjs_converter, read through the layer API only, so that
 * @gpl/loss needs no dependency on tfjs-layers. A frozen 1×1 adapter maps the task's channels to
 * the model's input channels (3 for RGB networks).
 */
import * as tf from '@tensorflow/tfjs-core';
import { KernelRng, drawKernel, type InitScheme } from './init';
import type { ConvWeights } from './network';
import type { NetworkSpec, NodeSpec, Padding } from './spec';

/** The part of a tfjs-layers `LayersModel` this package reads. */
export interface LayersModelLike {
  readonly name?: string;
  readonly layers: readonly LayerLike[];
}

export interface LayerLike {
  readonly name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  getWeights(): tf.Tensor[];
}

const STOP = new Set(['Flatten', 'Dense', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Dropout']);

function fail(message: string): never {
  throw new RangeError(`[@gpl/loss] layersModel: ${message}`);
}

function pair(value: unknown, what: string, layer: string): number {
  const v = Array.isArray(value) ? value : [value, value];
  if (v.length !== 2 || v[0] !== v[1] || !Number.isInteger(v[0])) fail(`layer '${layer}': ${what} ${JSON.stringify(value)} is not square; only square kernels and strides are supported.`);
  return v[0] as number;
}

/**
 * Converts the model's convolutional front (up to its first Flatten/Dense/global pooling) into a
 * NetworkSpec with the model's kernels. Taps: the input of every max pooling and the last layer,
 * i.e. the end of every VGG block.
 */
export function specFromLayersModel(
  model: LayersModelLike,
  inChannels: number,
  init: InitScheme,
  seed: number,
): { spec: NetworkSpec; supplied: (ConvWeights | null)[] } {
  if (!model || !Array.isArray(model.layers)) fail('expected a tfjs-layers model (an object with a `layers` array).');
  const nodes: NodeSpec[] = [{ op: 'input', name: 'input', channels: inChannels }];
  const weights: (ConvWeights | null)[] = [null];
  const taps: number[] = [];
  let channels = inChannels;
  let adapterChecked = false;
  try {
    for (const layer of model.layers) {
      const kind = layer.getClassName();
      const config = layer.getConfig();
      if (kind === 'InputLayer') continue;
      if (STOP.has(kind)) break;
      if (kind === 'Conv2D') {
        const [kernel, bias] = layer.getWeights();
        const [kh, , cin, cout] = kernel.shape;
        if (!adapterChecked) {
          adapterChecked = true;
          if (cin !== inChannels) {
            // 1×1 adapter from the task's channels to the network's input channels, drawn with the
            // configured scheme and never trained (the paper's 'T' rows).
            const values = drawKernel(inChannels * cin, init, inChannels, cin, new KernelRng(seed, 0));
            nodes.push(adapterNode(inChannels, cin));
            weights.push({ kernel: tf.tensor4d(values, [1, 1, inChannels, cin]), bias: null });
            channels = cin;
          }
        }
        if (cin !== channels) fail(`layer '${layer.name}' expects ${cin} input channels but receives ${channels}.`);
        if (pair(config.dilationRate ?? 1, 'dilation', layer.name) !== 1) fail(`layer '${layer.name}': dilated convolutions are not supported.`);
        const activation = config.activation === 'relu' ? 'relu' : config.activation === 'linear' || config.activation == null ? 'linear' : null;
        if (!activation) fail(`layer '${layer.name}': activation '${String(config.activation)}' is not supported (relu or linear).`);
        const pad: Padding = config.padding === 'same' ? 'same' : 'valid';
        nodes.push({
          op: 'conv',
          name: layer.name,
          input: nodes.length - 1,
          kernel: kh,
          stride: pair(config.strides ?? 1, 'strides', layer.name),
          pad,
          inChannels: cin,
          outChannels: cout,
          depthwise: false,
          activation,
          bias: Boolean(bias),
          batchNormEps: null,
        });
        weights.push({ kernel: tf.tidy(() => tf.cast(kernel, 'float32').clone() as tf.Tensor4D), bias: bias ? tf.tidy(() => tf.cast(bias, 'float32').clone() as tf.Tensor1D) : null });
        channels = cout;
      } else if (kind === 'MaxPooling2D') {
        if (nodes.length > 1 && taps[taps.length - 1] !== nodes.length - 1) taps.push(nodes.length - 1);
        const size = pair(config.poolSize ?? 2, 'poolSize', layer.name);
        nodes.push({ op: 'maxpool', name: layer.name, input: nodes.length - 1, size, stride: pair(config.strides ?? size, 'strides', layer.name), pad: config.padding === 'same' ? 'same' : 'valid' });
        weights.push(null);
      } else if ((kind === 'Activation' && config.activation === 'relu') || (kind === 'ReLU' && config.maxValue == null)) {
        const prev = nodes[nodes.length - 1];
        if (prev.op !== 'conv' || prev.activation !== 'linear') fail(`layer '${layer.name}': a ReLU must directly follow a linear Conv2D.`);
        nodes[nodes.length - 1] = { ...prev, activation: 'relu' };
      } else {
        fail(`layer '${layer.name}' of class ${kind} is not supported; expected Conv2D, MaxPooling2D and ReLU layers before the first Flatten/Dense/global pooling.`);
      }
    }
  } catch (e) {
    tf.dispose(weights.flatMap((w) => (w ? [w.kernel, ...(w.bias ? [w.bias] : [])] : [])));
    throw e;
  }
  // The last pooling has no parameters and would only coarsen the final embedding.
  while (nodes.length > 1 && nodes[nodes.length - 1].op === 'maxpool') {
    nodes.pop();
    weights.pop();
  }
  if (!nodes.some((n) => n.op === 'conv' && n.name !== 'adapter')) fail('the model has no Conv2D layer before its first Flatten/Dense layer.');
  if (taps[taps.length - 1] !== nodes.length - 1) taps.push(nodes.length - 1);
  const label = `layers:${model.name ?? 'model'}`;
  return { spec: { family: 'supplied', label, nodes, taps: taps.filter((t) => t < nodes.length) }, supplied: weights };
}

function adapterNode(inChannels: number, outChannels: number): NodeSpec {
  return {
    op: 'conv',
    name: 'adapter',
    input: 0,
    kernel: 1,
    stride: 1,
    pad: 'valid',
    inChannels,
    outChannels,
    depthwise: false,
    activation: 'linear',
    bias: false,
    batchNormEps: null,
  };
}

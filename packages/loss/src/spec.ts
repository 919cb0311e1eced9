/**
 * Loss networks as data: a small graph of convolutions, poolings, additions and concatenations
 * with named taps (the outputs a multi-level loss compares). Every family of the paper's Table 1
 * and every VGG structure of Table 2 is written as a builder over this graph, so one forward and
 * one hand-written backward serve them all.
 */

export type Activation = 'relu' | 'relu6' | 'linear';
/** 'same' follows TensorFlow's rule; a number pads that many zeros on every side (PyTorch style). */
export type Padding = 'same' | 'valid' | number;

export type NodeSpec =
  | { readonly op: 'input'; readonly name: string; readonly channels: number }
  | {
      readonly op: 'conv';
      readonly name: string;
      readonly input: number;
      readonly kernel: number;
      readonly stride: number;
      readonly pad: Padding;
      readonly inChannels: number;
      readonly outChannels: number;
      /** One filter per input channel (MobileNetV2); outChannels = inChannels. */
      readonly depthwise: boolean;
      readonly activation: Activation;
      /** Whether the layer owns a bias (zero unless supplied). */
      readonly bias: boolean;
      /** Batch norm after the convolution, in its random-init form (γ=1, β=0, μ=0, σ²=1). */
      readonly batchNormEps: number | null;
    }
  | { readonly op: 'maxpool'; readonly name: string; readonly input: number; readonly size: number; readonly stride: number; readonly pad: Padding }
  | { readonly op: 'add'; readonly name: string; readonly inputs: readonly [number, number]; readonly activation: Activation }
  | { readonly op: 'concat'; readonly name: string; readonly inputs: readonly number[] };

export type ConvNode = Extract<NodeSpec, { op: 'conv' }>;

export interface NetworkSpec {
  /** 'vgg' or a family of Table 1. */
  readonly family: string;
  /** Short label, e.g. 'vgg16', 'vgg[1,1,1,1,1]', 'resnet18'. */
  readonly label: string;
  readonly nodes: readonly NodeSpec[];
  /** Node indices whose outputs are the levels of a multi-level loss, shallow to deep; the last is the final layer. */
  readonly taps: readonly number[];
}

export const VGG_PRESETS = {
  vgg11: [1, 1, 2, 2, 2],
  vgg13: [2, 2, 2, 2, 2],
  vgg16: [2, 2, 3, 3, 3],
  vgg19: [2, 2, 4, 4, 4],
} as const;
export type VggPreset = keyof typeof VGG_PRESETS;

export const FAMILIES = ['resnet18', 'alexnet', 'googlenet', 'mobilenetv2'] as const;
export type Family = (typeof FAMILIES)[number];

export type Preset = VggPreset | Family;
export const PRESETS: readonly Preset[] = [...(Object.keys(VGG_PRESETS) as VggPreset[]), ...FAMILIES];

/** VGG channels per block (paper Sec. 3.2). */
export const DEFAULT_VGG_CHANNELS = [64, 128, 256, 512, 512] as const;

/** Accumulates nodes; each method returns the index of the node it added. */
class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  private readonly channels: number[] = [];

  constructor(inChannels: number) {
    this.push({ op: 'input', name: 'input', channels: inChannels }, inChannels);
  }

  private push(node: NodeSpec, channels: number): number {
    this.nodes.push(node);
    this.channels.push(channels);
    return this.nodes.length - 1;
  }

  channelsOf(index: number): number {
    return this.channels[index];
  }

  conv(
    name: string,
    input: number,
    outChannels: number,
    kernel: number,
    options: { stride?: number; pad?: Padding; activation?: Activation; bias?: boolean; batchNormEps?: number | null; depthwise?: boolean } = {},
  ): number {
    const inChannels = this.channels[input];
    const depthwise = options.depthwise ?? false;
    const node: NodeSpec = {
      op: 'conv',
      name,
      input,
      kernel,
      stride: options.stride ?? 1,
      pad: options.pad ?? 'same',
      inChannels,
      outChannels: depthwise ? inChannels : outChannels,
      depthwise,
      activation: options.activation ?? 'relu',
      bias: options.bias ?? false,
      batchNormEps: options.batchNormEps ?? null,
    };
    return this.push(node, node.outChannels);
  }

  maxpool(name: string, input: number, size: number, stride: number, pad: Padding = 'valid'): number {
    return this.push({ op: 'maxpool', name, input, size, stride, pad }, this.channels[input]);
  }

  add(name: string, a: number, b: number, activation: Activation): number {
    return this.push({ op: 'add', name, inputs: [a, b], activation }, this.channels[a]);
  }

  concat(name: string, inputs: number[]): number {
    return this.push({ op: 'concat', name, inputs }, inputs.reduce((s, i) => s + this.channels[i], 0));
  }

  get last(): number {
    return this.nodes.length - 1;
  }
}

/**
 * The paper's VGG-like network: `blocks[b]` convolutions of `kernel`×`kernel` with `channels[b]`
 * filters and ReLU, 2×2 max pooling between blocks, zero bias. A tap at the end of every block
 * (after its last ReLU, before pooling), so the final layer is the last block's last ReLU.
 */
export function vggSpec(inChannels: number, blocks: readonly number[], channels: readonly number[], kernel: number, label: string): NetworkSpec {
  const g = new GraphBuilder(inChannels);
  const taps: number[] = [];
  let x = 0;
  blocks.forEach((count, b) => {
    if (b > 0) x = g.maxpool(`pool${b}`, x, 2, 2, 'valid');
    for (let i = 0; i < count; i++) x = g.conv(`conv${b + 1}_${i + 1}`, x, channels[b], kernel, { bias: true });
    taps.push(x);
  });
  return { family: 'vgg', label, nodes: g.nodes, taps };
}

const TORCH_BN_EPS = 1e-5;

/** torchvision's ResNet-18 feature extractor (no pooling head); taps: stem and layer1…layer4. */
function resnet18Spec(inChannels: number): NetworkSpec {
  const g = new GraphBuilder(inChannels);
  const bn = { batchNormEps: TORCH_BN_EPS };
  const stem = g.conv('conv1', 0, 64, 7, { stride: 2, pad: 3, ...bn });
  const taps = [stem];
  let x = g.maxpool('maxpool', stem, 3, 2, 1);
  [64, 128, 256, 512].forEach((width, stage) => {
    for (let block = 0; block < 2; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const prefix = `layer${stage + 1}.${block}`;
      const a = g.conv(`${prefix}.conv1`, x, width, 3, { stride, pad: 1, ...bn });
      const b = g.conv(`${prefix}.conv2`, a, width, 3, { pad: 1, activation: 'linear', ...bn });
      const shortcut =
        stride !== 1 || g.channelsOf(x) !== width ? g.conv(`${prefix}.downsample`, x, width, 1, { stride, pad: 0, activation: 'linear', ...bn }) : x;
      x = g.add(`${prefix}.add`, b, shortcut, 'relu');
    }
    taps.push(x);
  });
  return { family: 'resnet18', label: 'resnet18', nodes: g.nodes, taps };
}

/** torchvision's AlexNet `features` (biases, no batch norm); taps after each of its five ReLUs. */
function alexnetSpec(inChannels: number): NetworkSpec {
  const g = new GraphBuilder(inChannels);
  const taps: number[] = [];
  let x = g.conv('conv1', 0, 64, 11, { stride: 4, pad: 2, bias: true });
  taps.push(x);
  x = g.maxpool('pool1', x, 3, 2);
  x = g.conv('conv2', x, 192, 5, { pad: 2, bias: true });
  taps.push(x);
  x = g.maxpool('pool2', x, 3, 2);
  for (const [i, width] of [384, 256, 256].entries()) {
    x = g.conv(`conv${i + 3}`, x, width, 3, { pad: 1, bias: true });
    taps.push(x);
  }
  return { family: 'alexnet', label: 'alexnet', nodes: g.nodes, taps };
}

/** Inception module widths: 1×1, 3×3 reduce, 3×3, "5×5" reduce, "5×5" (3×3 in torchvision), pool projection. */
const INCEPTION: Record<string, readonly [number, number, number, number, number, number]> = {
  '3a': [64, 96, 128, 16, 32, 32],
  '3b': [128, 128, 192, 32, 96, 64],
  '4a': [192, 96, 208, 16, 48, 64],
  '4b': [160, 112, 224, 24, 64, 64],
  '4c': [128, 128, 256, 24, 64, 64],
  '4d': [112, 144, 288, 32, 64, 64],
  '4e': [256, 160, 320, 32, 128, 128],
  '5a': [256, 160, 320, 32, 128, 128],
  '5b': [384, 192, 384, 48, 128, 128],
};

/**
 * torchvision's GoogLeNet without auxiliary classifiers or head: every convolution is
 * conv + BN(eps 1e-3) + ReLU. Its ceil-mode poolings are written as 'same' poolings, which give
 * the same output sizes on the even input sizes used here. Taps at strides 2, 4, 8, 16, 32.
 */
function googlenetSpec(inChannels: number): NetworkSpec {
  const g = new GraphBuilder(inChannels);
  const bn = { batchNormEps: 1e-3 };
  const taps: number[] = [];
  let x = g.conv('conv1', 0, 64, 7, { stride: 2, pad: 3, ...bn });
  taps.push(x);
  x = g.maxpool('maxpool1', x, 3, 2, 'same');
  x = g.conv('conv2', x, 64, 1, { pad: 0, ...bn });
  x = g.conv('conv3', x, 192, 3, { pad: 1, ...bn });
  taps.push(x);
  x = g.maxpool('maxpool2', x, 3, 2, 'same');
  const inception = (name: string, input: number): number => {
    const [c1, r3, c3, r5, c5, pp] = INCEPTION[name];
    const b1 = g.conv(`inception${name}.branch1`, input, c1, 1, { pad: 0, ...bn });
    const b2 = g.conv(`inception${name}.branch2.1`, g.conv(`inception${name}.branch2.0`, input, r3, 1, { pad: 0, ...bn }), c3, 3, { pad: 1, ...bn });
    const b3 = g.conv(`inception${name}.branch3.1`, g.conv(`inception${name}.branch3.0`, input, r5, 1, { pad: 0, ...bn }), c5, 3, { pad: 1, ...bn });
    const b4 = g.conv(`inception${name}.branch4.1`, g.maxpool(`inception${name}.branch4.0`, input, 3, 1, 'same'), pp, 1, { pad: 0, ...bn });
    return g.concat(`inception${name}`, [b1, b2, b3, b4]);
  };
  x = inception('3b', inception('3a', x));
  taps.push(x);
  x = g.maxpool('maxpool3', x, 3, 2, 'same');
  for (const name of ['4a', '4b', '4c', '4d', '4e']) x = inception(name, x);
  taps.push(x);
  x = g.maxpool('maxpool4', x, 2, 2, 'same');
  x = inception('5b', inception('5a', x));
  taps.push(x);
  return { family: 'googlenet', label: 'googlenet', nodes: g.nodes, taps };
}

/** MobileNetV2 inverted-residual settings: expansion t, channels c, repeats n, first stride s. */
const MOBILENET_V2: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** torchvision's MobileNetV2 `features` (width 1.0); taps at strides 2, 4, 8, 16 and the final 1×1 conv (stride 32). */
function mobilenetv2Spec(inChannels: number): NetworkSpec {
  const g = new GraphBuilder(inChannels);
  const bn = { batchNormEps: TORCH_BN_EPS };
  let x = g.conv('features.0', 0, 32, 3, { stride: 2, pad: 1, activation: 'relu6', ...bn });
  const taps = [x];
  let stride = 2;
  let index = 1;
  MOBILENET_V2.forEach(([t, c, n, s], group) => {
    for (let i = 0; i < n; i++) {
      const blockStride = i === 0 ? s : 1;
      const prefix = `features.${index++}`;
      const input = x;
      const hidden = g.channelsOf(input) * t;
      let y = t === 1 ? input : g.conv(`${prefix}.expand`, input, hidden, 1, { pad: 0, activation: 'relu6', ...bn });
      y = g.conv(`${prefix}.depthwise`, y, hidden, 3, { stride: blockStride, pad: 1, depthwise: true, activation: 'relu6', ...bn });
      y = g.conv(`${prefix}.project`, y, c, 1, { pad: 0, activation: 'linear', ...bn });
      x = blockStride === 1 && g.channelsOf(input) === c ? g.add(`${prefix}.add`, y, input, 'linear') : y;
      stride *= blockStride;
    }
    // The last block of each resolution is a tap (strides 4, 8, 16); stride 32 is tapped below.
    const next = MOBILENET_V2[group + 1];
    if (stride < 32 && (!next || next[3] === 2) && stride > 2) taps.push(x);
  });
  x = g.conv(`features.${index}`, x, 1280, 1, { pad: 0, activation: 'relu6', ...bn });
  taps.push(x);
  return { family: 'mobilenetv2', label: 'mobilenetv2', nodes: g.nodes, taps };
}

export function familySpec(family: Family, inChannels: number): NetworkSpec {
  switch (family) {
    case 'resnet18':
      return resnet18Spec(inChannels);
    case 'alexnet':
      return alexnetSpec(inChannels);
    case 'googlenet':
      return googlenetSpec(inChannels);
    case 'mobilenetv2':
      return mobilenetv2Spec(inChannels);
  }
}

/** Explicit zero padding [top, bottom, left, right] of a conv or pool on an H×W input, and its output size. */
export function resolvePadding(
  h: number,
  w: number,
  kernel: number,
  stride: number,
  pad: Padding,
): { top: number; bottom: number; left: number; right: number; outH: number; outW: number } {
  const axis = (size: number): [number, number, number] => {
    if (pad === 'same') {
      const out = Math.ceil(size / stride);
      const total = Math.max((out - 1) * stride + kernel - size, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2), out];
    }
    const p = pad === 'valid' ? 0 : pad;
    return [p, p, Math.floor((size + 2 * p - kernel) / stride) + 1];
  };
  const [top, bottom, outH] = axis(h);
  const [left, right, outW] = axis(w);
  return { top, bottom, left, right, outH, outW };
}

/** Spatial size [H, W] and channels of every node for an H×W input; null where a size drops below 1. */
export function inferShapes(spec: NetworkSpec, h: number, w: number): ([number, number, number] | null)[] {
  const shapes: ([number, number, number] | null)[] = [];
  for (const node of spec.nodes) {
    switch (node.op) {
      case 'input':
        shapes.push([h, w, node.channels]);
        break;
      case 'conv':
      case 'maxpool': {
        const s = shapes[node.input];
        const size = node.op === 'conv' ? node.kernel : node.size;
        if (!s) {
          shapes.push(null);
          break;
        }
        const { outH, outW } = resolvePadding(s[0], s[1], size, node.stride, node.pad);
        const channels = node.op === 'conv' ? node.outChannels : s[2];
        // A 'valid' pooling window must fit the input (the pooled map cannot be empty).
        shapes.push(outH >= 1 && outW >= 1 ? [outH, outW, channels] : null);
        break;
      }
      case 'add':
        shapes.push(shapes[node.inputs[0]]);
        break;
      case 'concat': {
        const parts = node.inputs.map((i) => shapes[i]);
        shapes.push(parts.every((p) => p) ? [parts[0]![0], parts[0]![1], parts.reduce((c, p) => c + p![2], 0)] : null);
        break;
      }
    }
  }
  return shapes;
}

/** Smallest square input (in steps of 1) for which every node has a non-empty output. */
export function minimumInputSize(spec: NetworkSpec): number {
  for (let size = 1; size <= 4096; size++) {
    if (inferShapes(spec, size, size).every((s) => s !== null)) return size;
  }
  return Infinity;
}

/** Parameters of one conv node: kernel, bias if present, and γ, β of its batch norm. */
export function convParameters(node: ConvNode): number {
  const kernel = node.kernel * node.kernel * (node.depthwise ? node.inChannels : node.inChannels * node.outChannels);
  return kernel + (node.bias ? node.outChannels : 0) + (node.batchNormEps !== null ? 2 * node.outChannels : 0);
}

/**
 * How a level's squared embedding difference is reduced: 'mean' over every element (Eq. 1,
 * 1/(N·C·H·W)), or 'sum' over each sample's C·H·W elements, averaged over the batch (Eq. 3, 1/N).
 */
export type LossReduction = 'mean' | 'sum';

export const LOSS_REDUCTIONS: readonly LossReduction[] = Object.freeze(['mean', 'sum'] as LossReduction[]);

/**
 * The factor of a level's mean squared difference under `reduction`: 1 for 'mean', the elements
 * of one sample's embedding (C·H·W) for 'sum'.
 * @param shape the level's embedding shape [N, H, W, C] (any layout: only the product matters).
 */
export function reductionFactor(reduction: LossReduction, shape: readonly number[]): number {
  return reduction === 'sum' ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
}

/**
 * Pretrained loss networks (paper Table 1, 'T' column): the torchvision ImageNet weights of VGG11/
 * 13/16/19, ResNet-18, AlexNet, GoogLeNet and MobileNetV2, given as a state dict (names → float32
 * tensors in PyTorch's layout, e.g. from `@gpl/weights`' `readWeightFile(...).tensors`). The
 * network is the family's own graph for 3 input channels, behind a frozen 1×1 adapter from the
 * task's channels to RGB (drawn with the configured initialisation, never trained) — or, for
 * image outputs (`rgbInput`: super-resolution), fed the ImageNet-normalised RGB images directly. BatchNorm is
 * folded into each convolution: k' = k·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε).
 *
 * Each family's torchvision names are written out below (`torchvisionKeys`); every tensor a node
 * needs must be present with its exact shape, or the import stops naming the first one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { KernelRng, drawKernel, type InitScheme } from './init';
import type { ConvWeights } from './network';
import { VGG_PRESETS, familySpec, vggSpec, DEFAULT_VGG_CHANNELS, FAMILIES, type ConvNode, type Family, type NetworkSpec, type NodeSpec, type Preset } from './spec';

/** A tensor of a state dict: shape and row-major float32 values (PyTorch's layout). */
export interface StateDictTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Names → tensors (a `Map`, as `@gpl/weights` returns them). */
export type StateDict = ReadonlyMap<string, StateDictTensor>;

/** The presets with torchvision weights. */
export const PRETRAINED_PRESETS: readonly Preset[] = Object.freeze(['vgg11', 'vgg13', 'vgg16', 'vgg19', ...FAMILIES]);

/** Where a conv node's parameters live in a torchvision state dict. */
export interface TorchKeys {
  readonly weight: string;
  readonly bias?: string;
  /** Prefix of the BatchNorm after it (`<bn>.weight`, `.bias`, `.running_mean`, `.running_var`). */
  readonly bn?: string;
}

function fail(message: string): never {
  throw new RangeError(`[@gpl/loss] pretrained: ${message}`);
}

/** torchvision keys of every conv node of `spec` (built by `vggSpec`/`familySpec` with torchvision's names), in node order. */
export function torchvisionKeys(spec: NetworkSpec, preset: Preset): Map<number, TorchKeys> {
  const out = new Map<number, TorchKeys>();
  const convs = spec.nodes.map((n, i) => [n, i] as const).filter(([n]) => n.op === 'conv') as (readonly [ConvNode, number])[];
  if (spec.family === 'vgg') {
    // features: conv, ReLU per convolution; a MaxPool after each block.
    const blocks = VGG_PRESETS[preset as keyof typeof VGG_PRESETS];
    let index = 0;
    let k = 0;
    for (const count of blocks) {
      for (let c = 0; c < count; c++) {
        out.set(convs[k++][1], { weight: `features.${index}.weight`, bias: `features.${index}.bias` });
        index += 2;
      }
      index += 1;
    }
    return out;
  }
  const alexnet = ['features.0', 'features.3', 'features.6', 'features.8', 'features.10'];
  for (const [node, i] of convs) {
    const n = node.name;
    switch (spec.family as Family) {
      case 'alexnet':
        out.set(i, { weight: `${alexnet[Number(n.slice(4)) - 1]}.weight`, bias: `${alexnet[Number(n.slice(4)) - 1]}.bias` });
        break;
      case 'resnet18': {
        if (n === 'conv1') out.set(i, { weight: 'conv1.weight', bn: 'bn1' });
        else if (n.endsWith('.downsample')) out.set(i, { weight: `${n}.0.weight`, bn: `${n}.1` });
        else out.set(i, { weight: `${n}.weight`, bn: n.replace(/conv(\d)$/, 'bn$1') });
        break;
      }
      case 'googlenet':
        // BasicConv2d: <name>.conv, <name>.bn.
        out.set(i, { weight: `${n}.conv.weight`, bn: `${n}.bn` });
        break;
      case 'mobilenetv2': {
        // features.0 and the last 1×1: Conv2dNormActivation (.0 conv, .1 bn). Inverted residuals:
        // conv.0 (expand, if any), conv.1 (depthwise) as Conv2dNormActivation, then conv.2/conv.3
        // (project conv and bn) — one index lower in the first block, which has no expansion.
        const m = /^(features\.\d+)\.(expand|depthwise|project)$/.exec(n);
        if (!m) {
          out.set(i, { weight: `${n}.0.weight`, bn: `${n}.1` });
          break;
        }
        const expands = spec.nodes.some((x) => x.name === `${m[1]}.expand`);
        const at = { expand: 0, depthwise: expands ? 1 : 0, project: expands ? 2 : 1 }[m[2] as 'expand' | 'depthwise' | 'project'];
        out.set(i, m[2] === 'project' ? { weight: `${m[1]}.conv.${at}.weight`, bn: `${m[1]}.conv.${at + 1}` } : { weight: `${m[1]}.conv.${at}.0.weight`, bn: `${m[1]}.conv.${at}.1` });
        break;
      }
    }
  }
  return out;
}

/** `spec` (for 3 channels) with a 1×1 adapter from `inChannels` in front; node indices shift by one. */
function withAdapter(spec: NetworkSpec, inChannels: number): NetworkSpec {
  const shift = (i: number) => i + 1;
  const nodes: NodeSpec[] = [
    { op: 'input', name: 'input', channels: inChannels },
    { op: 'conv', name: 'adapter', input: 0, kernel: 1, stride: 1, pad: 'valid', inChannels, outChannels: 3, depthwise: false, activation: 'linear', bias: false, batchNormEps: null },
  ];
  for (const node of spec.nodes.slice(1)) {
    if (node.op === 'conv' || node.op === 'maxpool') nodes.push({ ...node, input: shift(node.input) });
    else if (node.op === 'add') nodes.push({ ...node, inputs: [shift(node.inputs[0]), shift(node.inputs[1])] });
    else if (node.op === 'concat') nodes.push({ ...node, inputs: node.inputs.map(shift) });
  }
  return { ...spec, label: `${spec.label} (pretrained)`, nodes, taps: spec.taps.map(shift) };
}

/** The state dict's prefix ('', 'module.', 'features.'-less never): the one under which the first key is found. */
function findPrefix(dict: StateDict, first: string): string {
  for (const p of ['', 'module.', 'model.', 'backbone.']) if (dict.has(p + first)) return p;
  const sample = [...dict.keys()].slice(0, 3).join(', ');
  return fail(`the state dict has no '${first}' (its keys begin ${sample || '(none)'}, …): expected torchvision's layout of this network.`);
}

/**
 * The network of `preset` with torchvision's weights from `dict`, behind the adapter (or, with
 * `adapter` false, fed RGB directly). Kernels become HWIO ([k, k, C, 1] for depthwise); BatchNorm
 * is folded in.
 */
export function pretrainedNetwork(
  preset: Preset,
  inChannels: number,
  dict: StateDict,
  init: InitScheme,
  seed: number,
  adapter = true,
): { spec: NetworkSpec; supplied: (ConvWeights | null)[] } {
  if (!adapter && inChannels !== 3) fail(`'rgbInput' feeds the network RGB images directly; it needs inChannels 3, received ${inChannels}.`);
  if (!PRETRAINED_PRESETS.includes(preset)) fail(`no torchvision weights for '${preset}'; expected one of ${PRETRAINED_PRESETS.join(', ')}.`);
  const isVgg = preset in VGG_PRESETS;
  const base = isVgg ? vggSpec(3, VGG_PRESETS[preset as keyof typeof VGG_PRESETS], VGG_PRESETS[preset as keyof typeof VGG_PRESETS].map((_, b) => DEFAULT_VGG_CHANNELS[Math.min(b, 4)]), 3, preset) : familySpec(preset as Family, 3);
  const keys = torchvisionKeys(base, preset);
  if (isVgg && dict.has('features.1.running_mean')) fail(`the state dict is torchvision's ${preset}_bn (batch norm after each convolution); the loss network is the plain ${preset}.`);
  const prefix = findPrefix(dict, keys.values().next().value!.weight);
  const get = (name: string, shape: readonly number[], node: string): Float32Array => {
    const t = dict.get(prefix + name);
    if (!t) fail(`the state dict lacks '${prefix}${name}' (for ${node}).`);
    if (t.shape.join() !== shape.join()) fail(`'${prefix}${name}' (for ${node}) has shape [${t.shape}], torchvision's ${preset} has [${shape}].`);
    return t.data;
  };
  const spec = adapter ? withAdapter(base, inChannels) : { ...base, label: `${base.label} (pretrained)` };
  // Node i of the torchvision graph is node i + 1 behind the adapter.
  const offset = adapter ? 1 : 0;
  const supplied: (ConvWeights | null)[] = spec.nodes.map(() => null);
  if (adapter) supplied[1] = { kernel: tf.tensor4d(drawKernel(inChannels * 3, init, inChannels, 3, new KernelRng(seed, 0)), [1, 1, inChannels, 3]), bias: null };
  try {
    for (const [i, k] of keys) {
      const node = spec.nodes[i + offset] as ConvNode;
      const cin = node.depthwise ? 1 : node.inChannels;
      const cout = node.outChannels;
      const kk = node.kernel;
      const w = get(k.weight, [cout, cin, kk, kk], node.name);
      const scale = new Float32Array(cout).fill(1);
      const bias = new Float32Array(cout);
      if (k.bias) bias.set(get(k.bias, [cout], node.name));
      if (k.bn) {
        const gamma = get(`${k.bn}.weight`, [cout], node.name);
        const beta = get(`${k.bn}.bias`, [cout], node.name);
        const mean = get(`${k.bn}.running_mean`, [cout], node.name);
        const variance = get(`${k.bn}.running_var`, [cout], node.name);
        const eps = node.batchNormEps ?? 1e-5;
        for (let o = 0; o < cout; o++) {
          scale[o] = gamma[o] / Math.sqrt(variance[o] + eps);
          bias[o] = beta[o] + (bias[o] - mean[o]) * scale[o];
        }
      }
      // OIHW (out, in, kh, kw) → HWIO; a depthwise (C, 1, kh, kw) → (kh, kw, C, 1).
      const hwio = new Float32Array(kk * kk * cin * cout);
      for (let o = 0; o < cout; o++) {
        for (let c = 0; c < cin; c++) {
          for (let y = 0; y < kk; y++) {
            for (let x = 0; x < kk; x++) {
              const v = w[((o * cin + c) * kk + y) * kk + x] * scale[o];
              hwio[node.depthwise ? (y * kk + x) * cout + o : ((y * kk + x) * cin + c) * cout + o] = v;
            }
          }
        }
      }
      const kernel = tf.tensor4d(hwio, node.depthwise ? [kk, kk, cout, 1] : [kk, kk, cin, cout]);
      supplied[i + offset] = { kernel, bias: bias.some((b) => b !== 0) ? tf.tensor1d(bias) : null };
    }
  } catch (e) {
    tf.dispose(supplied.flatMap((w) => (w ? [w.kernel, ...(w.bias ? [w.bias] : [])] : [])));
    throw e;
  }
  return { spec, supplied };
}

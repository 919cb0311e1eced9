/**
 * A frozen network over a NetworkSpec: constant kernels, a forward pass, and a hand-written
 * backward pass for the input gradient only.
 *
 * Why by hand: the loss needs d loss / d prediction and never a weight gradient. Generic
 * autodiff would record every kernel on the tape, keep inputs it does not need and, on some
 * backends, run slow or missing backprop kernels. Here the input gradient of a convolution is a
 * forward convolution of the (zero-dilated) output gradient with the flipped, transposed kernel,
 * which every backend runs at its fastest, and the flipped kernels are built once.
 */
import * as tf from '@tensorflow/tfjs-core';
import { KernelRng, drawKernel, type InitScheme } from './init';
import { resolvePadding, type Activation, type ConvNode, type NetworkSpec, type NodeSpec } from './spec';

export interface ConvWeights {
  /** [k, k, in, out] (HWIO), or [k, k, C, 1] for a depthwise convolution; batch norm folded in. */
  readonly kernel: tf.Tensor4D;
  /** [out], or null when the layer has no bias or its bias is all zero. */
  readonly bias: tf.Tensor1D | null;
}

/** Kernels supplied by the user for each conv node of a spec, in node order (HWIO). */
export interface SuppliedConvWeights {
  readonly kernel: tf.Tensor;
  readonly bias?: tf.Tensor | null;
}

/** Draws every kernel of `spec` from `init`, one RNG stream per conv node, and folds identity batch norm in. */
export function initialiseWeights(spec: NetworkSpec, init: InitScheme, seed: number): (ConvWeights | null)[] {
  return spec.nodes.map((node, index) => {
    if (node.op !== 'conv') return null;
    const k = node.kernel;
    const fanIn = k * k * (node.depthwise ? 1 : node.inChannels);
    const fanOut = k * k * (node.depthwise ? 1 : node.outChannels);
    const shape: [number, number, number, number] = node.depthwise ? [k, k, node.inChannels, 1] : [k, k, node.inChannels, node.outChannels];
    const values = drawKernel(shape[0] * shape[1] * shape[2] * shape[3], init, fanIn, fanOut, new KernelRng(seed, index));
    const bnScale = batchNormScale(node);
    if (bnScale !== 1) for (let i = 0; i < values.length; i++) values[i] *= bnScale;
    return { kernel: tf.tensor4d(values, shape), bias: null };
  });
}

/** Random-init batch norm in inference form: x·γ/√(σ²+ε) + β with γ=1, β=0, μ=0, σ²=1. */
function batchNormScale(node: ConvNode): number {
  return node.batchNormEps === null ? 1 : 1 / Math.sqrt(1 + node.batchNormEps);
}

type Saved = { readonly node: number; readonly role: 'input' | 'output' };

export class FrozenNetwork {
  /** Per node: the flipped kernel for the input gradient, made on first backward. */
  private readonly backKernels: (tf.Tensor4D | null)[];
  /** Number of nodes that read each node's output; the final taps are read by the loss. */
  private readonly consumers: number[];
  /** Tensors the backward pass reads, by node: a ReLU mask needs the output, max pooling both. */
  private readonly needed: Saved[];

  constructor(
    readonly spec: NetworkSpec,
    readonly weights: readonly (ConvWeights | null)[],
  ) {
    this.backKernels = spec.nodes.map(() => null);
    this.consumers = spec.nodes.map(() => 0);
    for (const node of spec.nodes) for (const i of inputsOf(node)) this.consumers[i]++;
    this.needed = [];
    spec.nodes.forEach((node, i) => {
      if (node.op === 'maxpool') this.needed.push({ node: node.input, role: 'input' }, { node: i, role: 'output' });
      else if ((node.op === 'conv' || node.op === 'add') && node.activation !== 'linear') this.needed.push({ node: i, role: 'output' });
    });
  }

  /**
   * Runs the network and returns the outputs of `keep` nodes (plus those the backward needs, when
   * `forBackward`); every other intermediate is disposed as soon as its last reader has run.
   */
  forward(x: tf.Tensor4D, keep: readonly number[], forBackward: boolean): Map<number, tf.Tensor4D> {
    const nodes = this.spec.nodes;
    const retained = new Set<number>(keep);
    if (forBackward) for (const s of this.needed) retained.add(s.node);
    const live = new Map<number, tf.Tensor4D>();
    const remaining = [...this.consumers];
    const release = (i: number) => {
      if (--remaining[i] === 0 && !retained.has(i) && i !== 0) {
        live.get(i)!.dispose();
        live.delete(i);
      }
    };
    live.set(0, x);
    for (let i = 1; i < nodes.length; i++) {
      const node = nodes[i];
      live.set(i, this.runNode(node, i, live));
      for (const j of inputsOf(node)) release(j);
    }
    const out = new Map<number, tf.Tensor4D>();
    for (const i of retained) out.set(i, live.get(i)!);
    for (const [i, t] of live) if (!retained.has(i) && i !== 0) t.dispose();
    return out;
  }

  private runNode(node: NodeSpec, index: number, live: Map<number, tf.Tensor4D>): tf.Tensor4D {
    switch (node.op) {
      case 'input':
        throw new Error('unreachable: the input node is not run');
      case 'conv': {
        const x = live.get(node.input)!;
        const w = this.weights[index]!;
        const pad = node.pad;
        const activation = node.activation === 'linear' ? 'linear' : node.activation;
        if (node.depthwise) {
          return tf.fused.depthwiseConv2d({ x, filter: w.kernel, strides: node.stride, pad, bias: w.bias ?? undefined, activation });
        }
        return tf.fused.conv2d({ x, filter: w.kernel, strides: node.stride, pad, bias: w.bias ?? undefined, activation });
      }
      case 'maxpool':
        return tf.maxPool(live.get(node.input)!, node.size, node.stride, node.pad);
      case 'add': {
        const sum = tf.add(live.get(node.inputs[0])!, live.get(node.inputs[1])!) as tf.Tensor4D;
        if (node.activation === 'linear') return sum;
        const y = node.activation === 'relu' ? tf.relu(sum) : tf.relu6(sum);
        sum.dispose();
        return y;
      }
      case 'concat':
        return tf.concat(
          node.inputs.map((i) => live.get(i)!),
          3,
        );
    }
  }

  /** The tensors `forward(…, forBackward=true)` retained that `backward` reads, in a fixed order (for customGrad's save). */
  savedFor(outputs: Map<number, tf.Tensor4D>): tf.Tensor4D[] {
    return this.needed.map((s) => outputs.get(s.node)!);
  }

  /**
   * d(loss)/d(input) given d(loss)/d(node output) for some nodes (the taps). `saved` is what
   * savedFor returned; `shapes` are the node output shapes of the forward pass.
   */
  backward(seeds: Map<number, tf.Tensor4D>, saved: readonly tf.Tensor[], shapes: readonly number[][]): tf.Tensor4D {
    const nodes = this.spec.nodes;
    const value = new Map<number, tf.Tensor4D>();
    this.needed.forEach((s, k) => value.set(s.node, saved[k] as tf.Tensor4D));
    const grads = new Map<number, tf.Tensor4D>();
    const accumulate = (i: number, g: tf.Tensor4D) => {
      const prev = grads.get(i);
      if (!prev) {
        grads.set(i, g);
        return;
      }
      grads.set(i, tf.add(prev, g) as tf.Tensor4D);
      prev.dispose();
      g.dispose();
    };
    for (const [i, g] of seeds) accumulate(i, tf.clone(g));
    for (let i = nodes.length - 1; i >= 1; i--) {
      const g = grads.get(i);
      if (!g) continue;
      grads.delete(i);
      const node = nodes[i];
      switch (node.op) {
        case 'conv': {
          const pre = activationGrad(g, value.get(i), node.activation);
          accumulate(node.input, this.convInputGrad(pre, node, i, shapes[node.input]));
          if (pre !== g) pre.dispose();
          break;
        }
        case 'maxpool': {
          const x = value.get(node.input)!;
          const dx = tf.engine().runKernel('MaxPoolGrad', { dy: g, input: x, output: value.get(i)! }, {
            filterSize: node.size,
            strides: node.stride,
            pad: node.pad,
          }) as tf.Tensor4D;
          accumulate(node.input, dx);
          break;
        }
        case 'add': {
          const pre = activationGrad(g, value.get(i), node.activation);
          accumulate(node.inputs[0], tf.clone(pre));
          accumulate(node.inputs[1], tf.clone(pre));
          if (pre !== g) pre.dispose();
          break;
        }
        case 'concat': {
          const sizes = node.inputs.map((j) => shapes[j][3]);
          tf.split(g, sizes, 3).forEach((part, k) => accumulate(node.inputs[k], part as tf.Tensor4D));
          break;
        }
        case 'input':
          break;
      }
      g.dispose();
    }
    return grads.get(0) ?? tf.zeros(shapes[0] as [number, number, number, number]);
  }

  /**
   * Input gradient of a convolution: zero-dilate the output gradient by the stride, pad it by
   * (k−1−pad) on the leading side, and correlate with the spatially flipped kernel whose in/out
   * axes are swapped. Pads that come out negative crop instead (rows that only reach outside the input).
   */
  private convInputGrad(g: tf.Tensor4D, node: ConvNode, index: number, inputShape: readonly number[]): tf.Tensor4D {
    const back = this.backKernel(node, index);
    const [, h, w] = inputShape;
    const k = node.kernel;
    const s = node.stride;
    const p = resolvePadding(h, w, k, s, node.pad);
    const conv = (t: tf.Tensor4D, pad: 'same' | 'valid') =>
      node.depthwise ? tf.depthwiseConv2d(t, back, 1, pad) : tf.conv2d(t, back, 1, pad);
    if (s === 1 && k % 2 === 1 && p.top === (k - 1) / 2 && p.bottom === p.top && p.left === p.top && p.right === p.top) {
      return conv(g, 'same');
    }
    return tf.tidy(() => {
      let up = s > 1 ? zeroDilate(g, s) : g;
      const rows = padOrCrop(1, k - 1 - p.top, h + k - 1 - (k - 1 - p.top) - up.shape[1]);
      const cols = padOrCrop(2, k - 1 - p.left, w + k - 1 - (k - 1 - p.left) - up.shape[2]);
      up = cols(rows(up));
      return conv(up, 'valid');
    });
  }

  private backKernel(node: ConvNode, index: number): tf.Tensor4D {
    let back = this.backKernels[index];
    if (!back) {
      const kernel = this.weights[index]!.kernel;
      back = tf.tidy(() => {
        const flipped = tf.reverse(kernel, [0, 1]);
        return (node.depthwise ? flipped : tf.transpose(flipped, [0, 1, 3, 2])) as tf.Tensor4D;
      });
      // Kept across calls (and outside any caller's tidy): built once, freed by dispose().
      tf.keep(back);
      this.backKernels[index] = back;
    }
    return back;
  }

  /** Builds every flipped kernel now (so that the first backward is not slower than the rest). */
  prepareBackward(): void {
    this.spec.nodes.forEach((node, i) => {
      if (node.op === 'conv') this.backKernel(node, i);
    });
  }

  dispose(): void {
    for (const w of this.weights) {
      w?.kernel.dispose();
      w?.bias?.dispose();
    }
    for (const b of this.backKernels) b?.dispose();
  }
}

export function inputsOf(node: NodeSpec): readonly number[] {
  switch (node.op) {
    case 'input':
      return [];
    case 'conv':
    case 'maxpool':
      return [node.input];
    case 'add':
    case 'concat':
      return node.inputs;
  }
}

function activationGrad(g: tf.Tensor4D, y: tf.Tensor4D | undefined, activation: Activation): tf.Tensor4D {
  if (activation === 'linear') return g;
  return tf.tidy(() => {
    const active = activation === 'relu' ? tf.step(y!) : tf.mul(tf.step(y!), tf.step(tf.sub(6, y!)));
    return tf.mul(g, active) as tf.Tensor4D;
  });
}

/** Inserts s−1 zeros after every row and column: [N, h, w, C] → [N, h·s, w·s, C]. */
function zeroDilate(g: tf.Tensor4D, s: number): tf.Tensor4D {
  const [n, h, w, c] = g.shape;
  const rows = tf.reshape(tf.pad(tf.reshape(g, [n, h, 1, w * c]), [[0, 0], [0, 0], [0, s - 1], [0, 0]]), [n * h * s, w, 1, c]);
  return tf.reshape(tf.pad(rows, [[0, 0], [0, 0], [0, s - 1], [0, 0]]), [n, h * s, w * s, c]);
}

/** Pads (positive) or crops (negative) `before` and `after` entries on one spatial axis. */
function padOrCrop(axis: 1 | 2, before: number, after: number): (t: tf.Tensor4D) => tf.Tensor4D {
  return (t) => {
    const cropBefore = Math.max(0, -before);
    const cropAfter = Math.max(0, -after);
    let out = t;
    if (cropBefore || cropAfter) {
      const begin = [0, 0, 0, 0];
      const size = [-1, -1, -1, -1];
      begin[axis] = cropBefore;
      size[axis] = t.shape[axis] - cropBefore - cropAfter;
      out = tf.slice(out, begin, size);
    }
    const padBefore = Math.max(0, before);
    const padAfter = Math.max(0, after);
    if (padBefore || padAfter) {
      const pads: [number, number][] = [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ];
      pads[axis] = [padBefore, padAfter];
      out = tf.pad(out, pads);
    }
    return out;
  };
}

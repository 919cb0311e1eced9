/**
 * One ONNX inference graph for the loss and, optionally, its input gradient, built from a
 * NetworkSpec and its frozen kernels for one input shape.
 *
 * The backward is written with inference ops, mirroring FrozenNetwork.backward: the input
 * gradient of a convolution is a ConvTranspose with the same (OIHW) kernel, which is exactly the
 * adjoint of Conv with the same strides and pads (output_padding restores the rows a strided
 * forward never read), or for stride 1 (with `flippedConv`) a Conv with the flipped kernel;
 * ReLU/ReLU6 gradients are masks of the saved outputs (Where, or for ReLU with `convMasks` a
 * product with a clipped 1×1 Conv of them); max pooling
 * routes each output gradient to the input its forward chose (MaxPool's Indices), with MaxUnpool
 * where windows cannot overlap and a ScatterElements add where they can; a ReLU that only feeds
 * a max pooling is masked on the pooled side. Tensors are NCHW inside
 * the graph and NHWC at its edges, so the graph's inputs and outputs are tfjs's own layout.
 */
import { OnnxAttributeType, OnnxDataType, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-proto';
import { inferShapes, reductionFactor, resolvePadding, type Activation, type ConvNode, type LossReduction, type NetworkSpec } from './spec';
import { inputsOf } from './network';

/** A conv node's kernel as ONNX wants it: OIHW float32 ([C, 1, k, k] for depthwise), bias or null. */
export interface OnnxConvWeights {
  readonly kernel: Float32Array;
  readonly bias: Float32Array | null;
}

export interface LossGraphOptions {
  /** [N, H, W, C] of pred and target. */
  readonly shape: readonly [number, number, number, number];
  /** Channels of the mask (1 or C), or null without a mask. */
  readonly maskChannels: number | null;
  /** Loss weight per tap of `spec.taps`; taps with weight 0 are not computed. */
  readonly tapWeights: readonly number[];
  /** Each level's reduction: 'mean' over its elements (default) or 'sum' per sample, batch-averaged. */
  readonly reduction?: LossReduction;
  /** Whether the graph also outputs d loss / d pred (`grad`). */
  readonly withGradient: boolean;
  /** Stride-1 input gradients as Conv with in/out-swapped, flipped kernels (true) or ConvTranspose (false, default). */
  readonly flippedConv?: boolean;
  /**
   * ReLU gradients as gy · Clip(2^126·y, 0, 1) (true) instead of Where(y > 0, gy, 0) (false, default).
   * The mask is a depthwise 1×1 Conv with Clip, which onnxruntime fuses and, with the Mul, keeps in
   * its blocked (NCHWc) layout, so the backward's convolutions need no reorders between them. It is
   * exactly 0 at y = 0 and exactly 1 for every normal float y > 0 (2^126 · 2^-126 = 1, larger
   * products clip, overflow to +Inf clips); only a subnormal y (< 1.2e-38) gets a fraction.
   */
  readonly convMasks?: boolean;
}

/** Names of the graph's inputs and outputs. */
export const LOSS_GRAPH_IO = { pred: 'pred', target: 'target', mask: 'mask', loss: 'loss', grad: 'grad' } as const;

const attrInts = (name: string, ints: readonly number[]): OnnxAttribute => ({ name, type: OnnxAttributeType.INTS, ints });
const attrInt = (name: string, i: number): OnnxAttribute => ({ name, type: OnnxAttributeType.INT, i });
const attrString = (name: string, s: string): OnnxAttribute => ({ name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(s) });

function bytesOf(values: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function valueInfo(name: string, dims: readonly number[], elemType: number = OnnxDataType.FLOAT): OnnxValueInfo {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

/** Accumulates nodes and initializers; every method returns the name of the value it made. */
class GraphWriter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private count = 0;
  private readonly made = new Map<string, string>();

  op(opType: string, input: readonly string[], attribute: OnnxAttribute[] = [], outputs = 1): string[] {
    const id = this.count++;
    const output = Array.from({ length: outputs }, (_, k) => `${opType.toLowerCase()}_${id}${outputs > 1 ? `_${k}` : ''}`);
    this.nodes.push({ opType, name: `${opType}_${id}`, input, output, attribute });
    return output;
  }

  one(opType: string, input: readonly string[], attribute: OnnxAttribute[] = []): string {
    return this.op(opType, input, attribute)[0];
  }

  /** The value made under `key` by an earlier call, or `make()`'s, made now (constants shared by several nodes). */
  once(key: string, make: () => string): string {
    let name = this.made.get(key);
    if (!name) this.made.set(key, (name = make()));
    return name;
  }

  floats(name: string, dims: readonly number[], values: Float32Array): string {
    this.initializers.push({ name, dims, dataType: OnnxDataType.FLOAT, rawData: bytesOf(values) });
    return name;
  }

  int64s(name: string, values: readonly number[]): string {
    this.initializers.push({ name, dims: [values.length], dataType: OnnxDataType.INT64, rawData: bytesOf(BigInt64Array.from(values.map(BigInt))) });
    return name;
  }

  scalar(name: string, value: number): string {
    this.initializers.push({ name, dims: [], dataType: OnnxDataType.FLOAT, rawData: bytesOf(Float32Array.of(value)) });
    return name;
  }
}

/** Indices of the nodes the used taps depend on (the rest of the network need not run). */
function ancestors(spec: NetworkSpec, roots: readonly number[]): Set<number> {
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const i = stack.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    stack.push(...inputsOf(spec.nodes[i]));
  }
  return seen;
}

/**
 * The loss graph: inputs `pred`, `target` [N, H, W, C] (and `mask` [N, H, W, 1|C]), outputs `loss`
 * (a scalar, Σ_l w_l·mean((f_l(pred·mask) − f_l(target·mask))²), each mean times C_l·H_l·W_l
 * under `reduction: 'sum'`) and, with `withGradient`, `grad`
 * = d loss / d pred [N, H, W, C].
 * @param weights per node of `spec`, the OIHW kernel of each conv node (null elsewhere).
 */
export function buildLossGraph(spec: NetworkSpec, weights: readonly (OnnxConvWeights | null)[], options: LossGraphOptions): OnnxModel {
  const [n, h, w, c] = options.shape;
  const shapes = inferShapes(spec, h, w).map((s) => [n, s![2], s![0], s![1]]);
  const used = spec.taps.map((t, l) => ({ t, w: options.tapWeights[l] })).filter((u) => u.w > 0);
  const live = ancestors(
    spec,
    used.map((u) => u.t),
  );
  const g = new GraphWriter();
  const io = LOSS_GRAPH_IO;

  // Kernels are shared by both passes and the backward; biases only by the forward.
  const kernelName: string[] = [];
  const biasName: (string | null)[] = [];
  spec.nodes.forEach((node, i) => {
    if (node.op !== 'conv' || !live.has(i)) return;
    const k = weights[i]!;
    const dims = node.depthwise ? [node.inChannels, 1, node.kernel, node.kernel] : [node.outChannels, node.inChannels, node.kernel, node.kernel];
    kernelName[i] = g.floats(`w${i}`, dims, k.kernel);
    biasName[i] = k.bias ? g.floats(`b${i}`, [node.outChannels], k.bias) : null;
  });
  const activations = new Set(spec.nodes.filter((node, i) => live.has(i) && 'activation' in node).map((node) => (node as { activation: Activation }).activation));
  /** The backward kernel of a stride-1 conv: in/out swapped, spatially flipped (made on first use). */
  const flipped = (i: number): string =>
    g.once(`wf${i}`, () => {
      const node = spec.nodes[i] as ConvNode;
      const k = node.kernel;
      const src = weights[i]!.kernel;
      const [o, c] = node.depthwise ? [node.inChannels, 1] : [node.outChannels, node.inChannels];
      const out = new Float32Array(src.length);
      for (let a = 0; a < o; a++)
        for (let b = 0; b < c; b++)
          for (let y = 0; y < k; y++)
            for (let x = 0; x < k; x++) {
              const from = ((a * c + b) * k + y) * k + x;
              const to = node.depthwise ? ((a * c + b) * k + (k - 1 - y)) * k + (k - 1 - x) : ((b * o + a) * k + (k - 1 - y)) * k + (k - 1 - x);
              out[to] = src[from];
            }
      return g.floats(`wf${i}`, node.depthwise ? [o, 1, k, k] : [c, o, k, k], out);
    });
  const zero = activations.has('relu6') || (options.withGradient && activations.has('relu')) ? g.scalar('zero', 0) : '';
  const six = activations.has('relu6') ? g.scalar('six', 6) : '';

  const toNCHW = (x: string) => g.one('Transpose', [x], [attrInts('perm', [0, 3, 1, 2])]);
  const maskNCHW = options.maskChannels !== null ? toNCHW(io.mask) : null;
  const inputOf = (x: string) => (maskNCHW ? g.one('Mul', [toNCHW(x), maskNCHW]) : toNCHW(x));

  const activate = (x: string, activation: Activation) =>
    activation === 'relu' ? g.one('Relu', [x]) : activation === 'relu6' ? g.one('Clip', [x, zero, six]) : x;

  /** Forward pass; with `indices`, max poolings also output the routing the backward needs. */
  const forward = (x: string, indices: Map<number, string> | null): string[] => {
    const out: string[] = [x];
    spec.nodes.forEach((node, i) => {
      if (i === 0) return;
      if (!live.has(i)) {
        out.push('');
        return;
      }
      switch (node.op) {
        case 'input':
          break;
        case 'conv': {
          const [, , ih, iw] = shapes[node.input];
          const p = resolvePadding(ih, iw, node.kernel, node.stride, node.pad);
          const inputs = [out[node.input], kernelName[i], ...(biasName[i] ? [biasName[i]!] : [])];
          const y = g.one('Conv', inputs, [
            attrInts('kernel_shape', [node.kernel, node.kernel]),
            attrInts('strides', [node.stride, node.stride]),
            attrInts('pads', [p.top, p.left, p.bottom, p.right]),
            attrInt('group', node.depthwise ? node.inChannels : 1),
          ]);
          out.push(activate(y, node.activation));
          break;
        }
        case 'maxpool': {
          const [, , ih, iw] = shapes[node.input];
          const p = resolvePadding(ih, iw, node.size, node.stride, node.pad);
          const attrs = [attrInts('kernel_shape', [node.size, node.size]), attrInts('strides', [node.stride, node.stride]), attrInts('pads', [p.top, p.left, p.bottom, p.right])];
          if (indices) {
            const [y, idx] = g.op('MaxPool', [out[node.input]], attrs, 2);
            indices.set(i, idx);
            out.push(y);
          } else {
            out.push(g.one('MaxPool', [out[node.input]], attrs));
          }
          break;
        }
        case 'add':
          out.push(activate(g.one('Add', [out[node.inputs[0]], out[node.inputs[1]]]), node.activation));
          break;
        case 'concat':
          out.push(g.one('Concat', node.inputs.map((j) => out[j]), [attrInt('axis', 1)]));
          break;
      }
    });
    return out;
  };

  // A ReLU whose only consumer is a max pooling (and which is not a tap) is differentiated on the
  // pooled side: the input a window routes its gradient to holds the window's output value, so
  // the mask of the pooled output equals the mask at the routed inputs, at a quarter of the size.
  const consumers = spec.nodes.map(() => 0);
  spec.nodes.forEach((node, i) => live.has(i) && inputsOf(node).forEach((j) => consumers[j]++));
  const tapped = new Set(used.map((u) => u.t));
  const maskedAtPool = new Set(
    spec.nodes.flatMap((node, i) => {
      if (node.op !== 'maxpool' || !live.has(i)) return [];
      const before = spec.nodes[node.input];
      const activation = 'activation' in before ? before.activation : 'linear';
      return activation !== 'linear' && consumers[node.input] === 1 && !tapped.has(node.input) ? [node.input] : [];
    }),
  );

  // onnxruntime infers no shape for MaxUnpool's output (it is given as a tensor): stated here, the
  // layers after it keep their shapes, which its blocked-layout (NCHWc) pass needs to keep the
  // gradient masks' products in that layout.
  const shapeOf: OnnxValueInfo[] = [];
  const indices = options.withGradient ? new Map<number, string>() : null;
  const fp = forward(inputOf(io.pred), indices);
  const ft = forward(inputOf(io.target), null);
  const diffs = used.map((u) => g.one('Sub', [fp[u.t], ft[u.t]]));
  // The level weight times the reduction's factor (C·H·W of one sample for 'sum'), as in loss.ts.
  const coefficients = used.map((u) => u.w * reductionFactor(options.reduction ?? 'mean', shapes[u.t]));
  const terms = used.map((u, l) => {
    const mean = g.one('ReduceMean', [g.one('Mul', [diffs[l], diffs[l]])], [attrInt('keepdims', 0)]);
    return coefficients[l] === 1 ? mean : g.one('Mul', [mean, g.scalar(`level_weight_${l}`, coefficients[l])]);
  });
  g.nodes.push({ opType: terms.length > 1 ? 'Sum' : 'Identity', name: 'loss', input: terms, output: [io.loss], attribute: [] });

  if (options.withGradient) {
    writeBackward(g, spec, shapes, fp, indices!, kernelName, six, zero, (grads) => {
      used.forEach((u, l) => {
        // d/dx mean(x²) = 2x / numel, times the level's coefficient.
        const numel = shapes[u.t].reduce((a, b) => a * b, 1);
        grads.add(u.t, g.one('Mul', [diffs[l], g.scalar(`seed_${l}`, (2 * coefficients[l]) / numel)]));
      });
    });
  }

  const outputs = [valueInfo(io.loss, [])];
  if (options.withGradient) outputs.push(valueInfo(io.grad, [n, h, w, c]));
  const inputs = [valueInfo(io.pred, [n, h, w, c]), valueInfo(io.target, [n, h, w, c])];
  if (options.maskChannels !== null) inputs.push(valueInfo(io.mask, [n, h, w, options.maskChannels]));
  return {
    irVersion: 8,
    producerName: '@gpl/loss',
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: spec.label, node: g.nodes, initializer: g.initializers, input: inputs, output: outputs, valueInfo: shapeOf },
  };

  function writeBackward(
    w: GraphWriter,
    net: NetworkSpec,
    nchw: readonly number[][],
    values: readonly string[],
    routing: Map<number, string>,
    kernels: readonly string[],
    sixName: string,
    zeroName: string,
    seed: (grads: { add(node: number, value: string): void }) => void,
  ): void {
    const pending = new Map<number, string[]>();
    const grads = {
      add(node: number, value: string) {
        pending.set(node, [...(pending.get(node) ?? []), value]);
      },
    };
    seed(grads);
    const take = (i: number): string | null => {
      const parts = pending.get(i);
      if (!parts) return null;
      pending.delete(i);
      return parts.length === 1 ? parts[0] : w.one('Sum', parts);
    };
    const activationGrad = (gy: string, y: string, activation: Activation, channels: number) => {
      if (activation === 'linear') return gy;
      if (activation === 'relu' && options.convMasks) {
        const scale = w.once(`mask_scale_${channels}`, () => w.floats(`mask_scale_${channels}`, [channels, 1, 1, 1], new Float32Array(channels).fill(2 ** 126)));
        const scaled = w.one('Conv', [y, scale], [attrInts('kernel_shape', [1, 1]), attrInt('group', channels)]);
        return w.one('Mul', [gy, w.one('Clip', [scaled, zeroName, w.once('one', () => w.scalar('one', 1))])]);
      }
      const positive = w.one('Greater', [y, zeroName]);
      const active = activation === 'relu' ? positive : w.one('And', [positive, w.one('Less', [y, sixName])]);
      return w.one('Where', [active, gy, zeroName]);
    };
    for (let i = net.nodes.length - 1; i >= 1; i--) {
      let gy = take(i);
      if (!gy) continue;
      const node = net.nodes[i];
      switch (node.op) {
        case 'conv':
          grads.add(node.input, convInputGrad(w, node, maskedAtPool.has(i) ? gy : activationGrad(gy, values[i], node.activation, nchw[i][1]), kernels[i], nchw[node.input], options.flippedConv && node.stride === 1 ? flipped(i) : null));
          break;
        case 'maxpool': {
          const before = net.nodes[node.input];
          if (maskedAtPool.has(node.input) && 'activation' in before) gy = activationGrad(gy, values[i], before.activation, nchw[i][1]);
          const inShape = nchw[node.input];
          const idx = routing.get(i)!;
          const p = resolvePadding(inShape[2], inShape[3], node.size, node.stride, node.pad);
          if (node.stride >= node.size && p.top + p.bottom + p.left + p.right === 0) {
            // Windows never overlap: each input is chosen by at most one output.
            const unpooled = w.one('MaxUnpool', [gy, idx, w.int64s(`unpool_shape_${i}`, inShape)], [attrInts('kernel_shape', [node.size, node.size]), attrInts('strides', [node.stride, node.stride])]);
            shapeOf.push(valueInfo(unpooled, inShape));
            grads.add(node.input, unpooled);
          } else {
            // Overlapping windows may choose the same input twice: their gradients add up.
            const size = inShape.reduce((a, b) => a * b, 1);
            const flat = w.int64s(`flat_${i}`, [-1]);
            const zeros = w.one('ConstantOfShape', [w.int64s(`zeros_shape_${i}`, [size])]);
            const scattered = w.one('ScatterElements', [zeros, w.one('Reshape', [idx, flat]), w.one('Reshape', [gy, flat])], [attrInt('axis', 0), attrString('reduction', 'add')]);
            const routed = w.one('Reshape', [scattered, w.int64s(`pool_in_shape_${i}`, inShape)]);
            shapeOf.push(valueInfo(routed, inShape));
            grads.add(node.input, routed);
          }
          break;
        }
        case 'add': {
          const pre = maskedAtPool.has(i) ? gy : activationGrad(gy, values[i], node.activation, nchw[i][1]);
          grads.add(node.inputs[0], pre);
          grads.add(node.inputs[1], pre);
          break;
        }
        case 'concat': {
          const sizes = node.inputs.map((j) => nchw[j][1]);
          const parts = w.op('Split', [gy, w.int64s(`split_${i}`, sizes)], [attrInt('axis', 1)], sizes.length);
          parts.forEach((part, k) => grads.add(node.inputs[k], part));
          break;
        }
        case 'input':
          break;
      }
    }
    let gx = take(0) ?? w.one('ConstantOfShape', [w.int64s('grad_shape', nchw[0])]);
    if (maskNCHW) gx = w.one('Mul', [gx, maskNCHW]);
    w.nodes.push({ opType: 'Transpose', name: 'grad', input: [gx], output: [io.grad], attribute: [attrInts('perm', [0, 2, 3, 1])] });
  }
}

/**
 * Input gradient of a convolution: ConvTranspose with the forward kernel, strides and pads;
 * output_padding adds the trailing rows/columns that a strided forward skipped (their gradient is 0).
 */
function convInputGrad(g: GraphWriter, node: ConvNode, gy: string, kernel: string, inShape: readonly number[], flippedKernel: string | null): string {
  const [, , ih, iw] = inShape;
  const k = node.kernel;
  const s = node.stride;
  const p = resolvePadding(ih, iw, k, s, node.pad);
  const group = attrInt('group', node.depthwise ? node.inChannels : 1);
  if (flippedKernel && s === 1 && Math.max(p.top, p.bottom, p.left, p.right) <= k - 1) {
    return g.one('Conv', [gy, flippedKernel], [
      attrInts('kernel_shape', [k, k]),
      attrInts('pads', [k - 1 - p.top, k - 1 - p.left, k - 1 - p.bottom, k - 1 - p.right]),
      group,
    ]);
  }
  const extraH = ih - (s * (p.outH - 1) + k - p.top - p.bottom);
  const extraW = iw - (s * (p.outW - 1) + k - p.left - p.right);
  return g.one('ConvTranspose', [gy, kernel], [
    attrInts('kernel_shape', [k, k]),
    attrInts('strides', [s, s]),
    attrInts('pads', [p.top, p.left, p.bottom, p.right]),
    attrInts('output_padding', [extraH, extraW]),
    group,
  ]);
}

/**
 * The hand-written tfjs backward pass (engine 'tfjs'; engine.spec.ts holds the onnxruntime
 * engine to it) against two references: central finite differences, and
 * TensorFlow.js autodiff through the same network written with plain ops.
 */
import { initBackend } from '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkGradients, maxAbsDiff, seededTensor } from '@gpl/core/testing';
import { GenericPerceptualLoss, type GenericPerceptualLossConfig } from './loss';
import type { NetworkSpec } from './spec';
import type { ConvWeights } from './network';

/** The loss written with ordinary differentiable ops, from the same spec and kernels. */
function referenceLoss(spec: NetworkSpec, weights: readonly (ConvWeights | null)[], levelWeights: number[], pred: tf.Tensor4D, target: tf.Tensor4D, mask?: tf.Tensor4D): tf.Scalar {
  const embed = (x: tf.Tensor4D): tf.Tensor4D[] => {
    const out: tf.Tensor4D[] = [];
    for (const node of spec.nodes) {
      switch (node.op) {
        case 'input':
          out.push(x);
          break;
        case 'conv': {
          const w = weights[out.length]!;
          const input = out[node.input];
          let y = node.depthwise ? tf.depthwiseConv2d(input, w.kernel, node.stride, node.pad) : tf.conv2d(input, w.kernel, node.stride, node.pad);
          if (w.bias) y = tf.add(y, w.bias);
          if (node.activation === 'relu') y = tf.relu(y);
          if (node.activation === 'relu6') y = tf.relu6(y);
          out.push(y);
          break;
        }
        case 'maxpool':
          out.push(tf.maxPool(out[node.input], node.size, node.stride, node.pad));
          break;
        case 'add': {
          const s = tf.add(out[node.inputs[0]], out[node.inputs[1]]) as tf.Tensor4D;
          out.push(node.activation === 'relu' ? tf.relu(s) : node.activation === 'relu6' ? tf.relu6(s) : s);
          break;
        }
        case 'concat':
          out.push(tf.concat(node.inputs.map((i) => out[i]), 3));
          break;
      }
    }
    return spec.taps.map((t) => out[t]);
  };
  const p = embed(mask ? tf.mul(pred, mask) : pred);
  const t = embed(mask ? tf.mul(target, mask) : target);
  return levelWeights.reduce<tf.Scalar>((acc, w, l) => (w ? tf.add(acc, tf.mul(w, tf.mean(tf.square(tf.sub(p[l], t[l]))))) : acc), tf.scalar(0));
}

async function useWasm(): Promise<void> {
  const report = await initBackend({ prefer: 'wasm' });
  expect(report.backend).toBe('wasm');
}

function internals(gpl: GenericPerceptualLoss): { weights: readonly (ConvWeights | null)[]; levelWeights: number[] } {
  const g = gpl as unknown as { network: { weights: (ConvWeights | null)[] }; weightsPerTap: number[] };
  return { weights: g.network.weights, levelWeights: g.weightsPerTap };
}

/** Relative max difference of the two gradients, against the reference's largest entry. */
function compareWithAutodiff(config: Partial<GenericPerceptualLossConfig> & { inChannels: number }, shape: [number, number, number, number], withMask = false): number {
  const gpl = new GenericPerceptualLoss({ ...config, engine: 'tfjs' });
  try {
    return tf.tidy(() => {
      const pred = tf.sigmoid(seededTensor(shape, 1)) as tf.Tensor4D;
      const target = tf.sigmoid(seededTensor(shape, 2)) as tf.Tensor4D;
      const mask = withMask ? (tf.cast(tf.greater(seededTensor([shape[0], shape[1], shape[2], 1], 3), -0.3), 'float32') as tf.Tensor4D) : undefined;
      const { weights, levelWeights } = internals(gpl);
      const ours = tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, target, mask))(pred);
      const ref = tf.grad((x: tf.Tensor) => referenceLoss(gpl.spec, weights, levelWeights, x as tf.Tensor4D, target, mask))(pred);
      const lossDiff = Math.abs(gpl.compute(pred, target, mask).dataSync()[0] - referenceLoss(gpl.spec, weights, levelWeights, pred, target, mask).dataSync()[0]);
      const scale = tf.max(tf.abs(ref)).dataSync()[0];
      expect(scale).toBeGreaterThan(0);
      expect(lossDiff).toBeLessThan(1e-5 * Math.max(1, Math.abs(referenceLoss(gpl.spec, weights, levelWeights, pred, target, mask).dataSync()[0])));
      return maxAbsDiff(ours, ref) / scale;
    });
  } finally {
    gpl.dispose();
  }
}

describe('gradient with respect to the prediction', () => {
  // Finite differences need the exact, deterministic cpu kernels; the autodiff comparisons run
  // on wasm (the default backend here) because the reference pass is costly on plain JS.
  beforeEach(async () => {
    await tf.setBackend('cpu');
  });

  it('matches central finite differences (VGG [1,1], 3×3, final layer)', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 3, blocks: [1, 1], channels: [8, 8], seed: 3, engine: 'tfjs' });
    const target = tf.sigmoid(seededTensor([2, 8, 8, 3], 5)) as tf.Tensor4D;
    const pred = tf.sigmoid(seededTensor([2, 8, 8, 3], 6)) as tf.Tensor4D;
    const [result] = checkGradients((x) => gpl.compute(x as tf.Tensor4D, target), [pred], { epsilon: 1e-3, maxEntries: 64 });
    expect(result.checked).toBeGreaterThanOrEqual(64);
    expect(result.maxRelError).toBeLessThan(2e-2);
    tf.dispose([target, pred]);
    gpl.dispose();
  });

  it('matches central finite differences with a mask and all levels', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 2, blocks: [1, 2], channels: [6, 6], levels: 'all', seed: 4, engine: 'tfjs' });
    const target = tf.sigmoid(seededTensor([1, 8, 8, 2], 7)) as tf.Tensor4D;
    const pred = tf.sigmoid(seededTensor([1, 8, 8, 2], 8)) as tf.Tensor4D;
    const mask = tf.cast(tf.greater(seededTensor([1, 8, 8, 1], 9), 0), 'float32') as tf.Tensor4D;
    const [result] = checkGradients((x) => gpl.compute(x as tf.Tensor4D, target, mask), [pred], { epsilon: 1e-3, maxEntries: 128 });
    expect(result.maxRelError).toBeLessThan(2e-2);
    tf.dispose([target, pred, mask]);
    gpl.dispose();
  });

  it.each([
    ['vgg16, final layer', { inChannels: 3, preset: 'vgg16' as const, seed: 1 }, [1, 16, 16, 3]],
    ['vgg [1,1,1,1,1], kernel 5, weighted levels', { inChannels: 4, blocks: [1, 1, 1, 1, 1], kernelSize: 5, levels: 'weighted' as const, seed: 2 }, [2, 16, 16, 4]],
    ['vgg [2,2], kernel 1, xavier, all levels', { inChannels: 3, blocks: [2, 2], channels: [8, 16], kernelSize: 1, init: { kind: 'xavier' as const }, levels: 'all' as const }, [1, 8, 12, 3]],
    ['resnet18 (strided convs, residual adds, padded max pool)', { inChannels: 2, preset: 'resnet18' as const, levels: 'all' as const }, [1, 32, 32, 2]],
    ['alexnet (11×11 stride 4)', { inChannels: 2, preset: 'alexnet' as const, levels: 'all' as const }, [1, 67, 67, 2]],
    ['googlenet (inception concat, same max pools)', { inChannels: 2, preset: 'googlenet' as const, levels: 'all' as const }, [1, 32, 32, 2]],
    ['mobilenetv2 (depthwise stride 2, relu6, linear bottlenecks)', { inChannels: 2, preset: 'mobilenetv2' as const, levels: 'all' as const }, [1, 32, 32, 2]],
  ])('matches TensorFlow.js autodiff: %s', async (_name, config, shape) => {
    await useWasm();
    expect(compareWithAutodiff(config, shape as [number, number, number, number])).toBeLessThan(1e-4);
  });

  it('matches autodiff with a mask', async () => {
    await useWasm();
    expect(compareWithAutodiff({ inChannels: 3, blocks: [1, 2, 2], channels: [8, 8, 16], levels: 'weighted' }, [2, 16, 16, 3], true)).toBeLessThan(1e-4);
  });

  it('matches autodiff on odd sizes where "same" pads unevenly', async () => {
    await useWasm();
    expect(compareWithAutodiff({ inChannels: 2, preset: 'resnet18', levels: 'all' }, [1, 35, 41, 2])).toBeLessThan(1e-4);
    expect(compareWithAutodiff({ inChannels: 2, preset: 'googlenet', levels: 'all' }, [1, 37, 33, 2])).toBeLessThan(1e-4);
  });

  it('scales with the upstream gradient (d(λ·ℓ)/dx = λ·dℓ/dx)', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 2, blocks: [1, 1], channels: [4, 4], engine: 'tfjs' });
    tf.tidy(() => {
      const t = tf.sigmoid(seededTensor([1, 8, 8, 2], 1)) as tf.Tensor4D;
      const p = tf.sigmoid(seededTensor([1, 8, 8, 2], 2)) as tf.Tensor4D;
      const g1 = tf.grad((x: tf.Tensor) => gpl.compute(x as tf.Tensor4D, t))(p);
      const g3 = tf.grad((x: tf.Tensor) => tf.mul(gpl.compute(x as tf.Tensor4D, t), 0.1))(p);
      expect(maxAbsDiff(tf.mul(g1, 0.1), g3)).toBeLessThan(1e-9 + 1e-6 * tf.max(tf.abs(g1)).dataSync()[0]);
    });
    gpl.dispose();
  });
});

/**
 * The CPU-width PSPNet learns: on the wasm backend (the default where no native library is
 * installed), a width-reduced PSPNet on a dilated ResNet-18 overfits one small batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { installGradientCompleteness } from '@gpl/core';
import { crossEntropyWithIgnore, formatOverfit, overfitOneBatch, overfitProblems } from '@gpl/core/testing';
import { createResNet } from '@gpl/resnet';
import { defaultPSPNetConfig } from './config';
import { splitOutputs } from '@gpl/engine';
import { buildPSPNet } from './pspnet';

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  installGradientCompleteness();
});

it('width-reduced PSPNet-R18 (d8) overfits one batch on wasm: cross-entropy falls by 90% within 60 Adam steps', () => {
  const classes = 4;
  const backbone = createResNet('resnet18', { outputStride: 8, deepStem: true, widthMultiplier: 0.25, seed: 3 });
  const model = buildPSPNet(backbone, { numClasses: classes, widthMultiplier: 0.25, seed: 4 });
  const r = overfitOneBatch({
    model,
    batch: [2, 64, 64],
    classes,
    learningRate: 0.005,
    maxSteps: 60,
    targetFraction: 0.1,
    logitsOf: (out) => splitOutputs(out).logits,
    // The training objective of PSPNet: main + 0.4 · auxiliary cross-entropy (the main one is monitored).
    extraLoss: (out, labels) => tf.mul(defaultPSPNetConfig.auxLossWeight, crossEntropyWithIgnore(splitOutputs(out).auxLogits!, labels)) as tf.Scalar,
  });
  // Finite losses from ≈ ln(4) (a near-zero classifier) down to the target, ≥ 90% of the labelled
  // pixels right (dropout stays on), and a flat tensor count once Adam's slots exist.
  expect(overfitProblems(r, { classes, minAccuracy: 0.9 })).toEqual([]);
  console.log(formatOverfit('PSPNet', r));
  model.dispose();
});

/**
 * The CPU-width DeepLabV3+ learns: on the wasm backend (the default where no native library is
 * installed), a width-reduced DeepLabV3+ on ResNet-50 at output stride 16 overfits one small batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { installGradientCompleteness } from '@gpl/core';
import { formatOverfit, overfitOneBatch, overfitProblems } from '@gpl/core/testing';
import { createResNet } from '@gpl/resnet';
import { buildDeepLabV3Plus } from './deeplabv3plus';

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  installGradientCompleteness();
});

it('width-reduced DeepLabV3+-R50 (OS16) overfits one batch on wasm: cross-entropy falls by 90% within 60 Adam steps', () => {
  const classes = 4;
  const backbone = createResNet('resnet50', { outputStride: 16, widthMultiplier: 0.25, seed: 3 });
  const model = buildDeepLabV3Plus(backbone, { numClasses: classes, widthMultiplier: 0.25, seed: 4 });
  const r = overfitOneBatch({ model, batch: [2, 64, 64], classes, learningRate: 0.005, maxSteps: 60, targetFraction: 0.1 });
  // Finite losses from ≈ ln(4) (a near-zero classifier) down to the target, ≥ 90% of the labelled
  // pixels right (dropout stays on), and a flat tensor count once Adam's slots exist.
  expect(overfitProblems(r, { classes, minAccuracy: 0.9 })).toEqual([]);
  console.log(formatOverfit('DeepLabV3+', r));
  model.dispose();
});

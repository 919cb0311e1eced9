/**
 * The CPU-width HRNet learns: on the wasm backend (the default where no native library is
 * installed), a width-reduced model overfits one small batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { installGradientCompleteness } from '@gpl/core';
import { formatOverfit, overfitOneBatch, overfitProblems } from '@gpl/core/testing';
import { buildHRNetSegmenter } from './hrnet';

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  installGradientCompleteness();
});

it('width-reduced HRNet-W18-small overfits one batch on wasm: cross-entropy falls by 90% within 60 Adam steps', () => {
  const classes = 4;
  const model = buildHRNetSegmenter('hrnet-w18-small', { widthMultiplier: 0.25, numClasses: classes, seed: 5 });
  const r = overfitOneBatch({ model, batch: [2, 64, 64], classes, learningRate: 0.01, maxSteps: 60, targetFraction: 0.1 });
  // Finite losses from ≈ ln(4) (a near-zero classifier) down to the target, ≥ 95% of the labelled
  // pixels right (no dropout in HRNet), and a flat tensor count once Adam's slots exist.
  expect(overfitProblems(r, { classes, minAccuracy: 0.95 })).toEqual([]);
  console.log(formatOverfit('HRNet', r));
  model.dispose();
});

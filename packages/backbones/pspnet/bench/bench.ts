/**
 * pspnet:bench — forward and training-step time of PSPNet at 2×128×256, at full width and at
 * the CPU default width, on the backend @gpl/core picks (or --backend). The encoder is the
 * reference one, ResNetV1c at output stride 8. Forward runs the inference model (no auxiliary
 * head); a training step is SGD with momentum on cross-entropy + 0.4 · auxiliary cross-entropy.
 * Prints a table and writes bench-results/pspnet.json. Each model runs in a child process of
 * its own (see `runModelGrid`); a model that does not fit in the wasm heap is reported, not fatal.
 *
 * Flags: --backend auto|wasm|cpu|tensorflow, --reps N (timed runs after one warm-up, default 2),
 * --models pspnet-r18,pspnet-r50,pspnet-r101 (default: all three), --widths 1,0.25.
 */
import * as tf from '@tensorflow/tfjs-core';
import { benchListFlag, benchNumberFlag, runModelBench, timeSegmenter, timedRowColumns, type TimedRow } from '@gpl/core/bench';
import { createResNet, type ResNetName } from '@gpl/resnet';
import { splitOutputs } from '@gpl/engine';
import { buildPSPNet, defaultPSPNetConfig, inferenceModel, summarizePSPNet } from '@gpl/pspnet';

const INPUT: [number, number, number, number] = [2, 128, 256, 3];
const CLASSES = 19;
const ENCODERS: Record<string, ResNetName> = { 'pspnet-r18': 'resnet18', 'pspnet-r50': 'resnet50', 'pspnet-r101': 'resnet101' };
const reps = benchNumberFlag('reps', 2);

/** Mean cross-entropy with every pixel labelled; logits and one-hot targets [N, H, W, C]. */
const crossEntropy = (logits: tf.Tensor, oneHot: tf.Tensor) => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), -1))) as tf.Scalar;

async function measure(key: string, width: number): Promise<TimedRow> {
  const encoder = ENCODERS[key];
  if (!encoder) throw new RangeError(`pspnet:bench: unknown model '${key}'; known: ${Object.keys(ENCODERS).join(', ')}.`);
  const backbone = createResNet(encoder, { widthMultiplier: width, outputStride: 8, deepStem: true });
  const model = buildPSPNet(backbone, { numClasses: CLASSES, widthMultiplier: width });
  const infer = inferenceModel(model);
  try {
    const times = await timeSegmenter({
      model,
      input: INPUT,
      classes: CLASSES,
      forward: (x) => infer.predict(x) as tf.Tensor,
      loss: (x, target) => {
        const { logits, auxLogits } = splitOutputs(model.apply(x, { training: true }) as tf.Tensor[]);
        return tf.add(crossEntropy(logits, target), tf.mul(defaultPSPNetConfig.auxLossWeight, crossEntropy(auxLogits!, target))) as tf.Scalar;
      },
      timing: { reps },
    });
    return { model: `${key} (${backbone.name})`, width, parameters: summarizePSPNet(model).inference, ...times };
  } finally {
    model.dispose();
  }
}

void runModelBench<TimedRow>({
  name: 'pspnet',
  intro: [`input ${INPUT.join('×')}, ${CLASSES} classes, params = inference model, median of ${reps} runs after one warm-up, one process per model`],
  columns: timedRowColumns(34),
  models: benchListFlag('models', Object.keys(ENCODERS)),
  widths: benchListFlag('widths', ['1', String(defaultPSPNetConfig.widthMultiplier)]).map(Number),
  measure,
  results: { input: INPUT, classes: CLASSES, reps },
});

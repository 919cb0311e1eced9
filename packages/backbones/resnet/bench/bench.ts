/**
 * resnet:bench — forward and training-step time of the ResNet encoders at 2×128×256, at full
 * width and at the CPU default width, on the backend @gpl/core picks (or --backend).
 * Prints a table and writes bench-results/resnet.json. Each model runs in a child process of
 * its own (see `runModelGrid`); a model that does not fit in the wasm heap is reported, not fatal.
 *
 * Flags: --backend auto|wasm|cpu|tensorflow, --reps N (timed runs after one warm-up, default 2),
 * --models resnet18-d32,resnet50-d8,… (default: every variant at output stride 32 and 8),
 * --widths 1,0.25.
 */
import * as tf from '@tensorflow/tfjs-core';
import { benchListFlag, benchNumberFlag, runModelBench, timeForwardAndStep, timedRowColumns, type TimedRow } from '@gpl/core/bench';
import { trainableVariables } from '@gpl/core/testing';
import { RESNET_NAMES, buildResNetModel, createResNet, defaultResNetConfig, summarizeResNet, type OutputStride, type ResNetName } from '@gpl/resnet';

const INPUT: [number, number, number, number] = [2, 128, 256, 3];
const reps = benchNumberFlag('reps', 2);

/** One model ('resnet50-d8': variant and output stride) at one width. */
async function measure(key: string, width: number): Promise<TimedRow> {
  const m = /^(resnet\d+)-d(8|16|32)$/.exec(key);
  if (!m || !RESNET_NAMES.includes(m[1] as ResNetName)) throw new RangeError(`resnet:bench: unknown model '${key}' (e.g. resnet50-d8).`);
  const backbone = createResNet(m[1] as ResNetName, { widthMultiplier: width, outputStride: Number(m[2]) as OutputStride });
  const model = buildResNetModel(backbone);
  const x = tf.randomNormal(INPUT);
  try {
    const times = await timeForwardAndStep({
      forward: () => model.predict(x) as tf.Tensor[],
      // A stand-in loss on c5 (an encoder has no head); batch norm in training mode.
      loss: () => tf.mean(tf.square((model.apply(x, { training: true }) as tf.Tensor[])[4])) as tf.Scalar,
      variables: trainableVariables(model),
      timing: { reps },
    });
    return { model: backbone.name, width, parameters: summarizeResNet(model).trainable, ...times };
  } finally {
    x.dispose();
    model.dispose();
  }
}

void runModelBench<TimedRow>({
  name: 'resnet',
  intro: [`input ${INPUT.join('×')}, median of ${reps} runs after one warm-up, one process per model`],
  columns: timedRowColumns(18),
  models: benchListFlag('models', RESNET_NAMES.flatMap((n) => [`${n}-d32`, `${n}-d8`])),
  widths: benchListFlag('widths', ['1', String(defaultResNetConfig.widthMultiplier)]).map(Number),
  measure,
  results: { input: INPUT, reps },
});

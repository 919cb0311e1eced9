/**
 * deeplabv3plus:bench — forward and training-step time of DeepLabV3+ at 2×128×256, at full
 * width and at the CPU default width, on the backend @gpl/core picks (or --backend). The
 * encoder is the reference one, ResNet at output stride 16. A training step is SGD with
 * momentum on cross-entropy. Prints a table and writes bench-results/deeplabv3plus.json. Each
 * model runs in a child process of its own (see `runModelGrid`); a model that does not fit in
 * the wasm heap is reported, not fatal.
 *
 * Flags: --backend auto|wasm|cpu|tensorflow, --reps N (timed runs after one warm-up, default 2),
 * --models deeplabv3plus-r50,deeplabv3plus-r101 (default: both), --widths 1,0.25.
 */
import { benchListFlag, benchNumberFlag, runModelBench, timeSegmenter, timedRowColumns, type TimedRow } from '@gpl/core/bench';
import { createResNet, type ResNetName } from '@gpl/resnet';
import { buildDeepLabV3Plus, defaultDeepLabV3PlusConfig, summarizeDeepLabV3Plus } from '@gpl/deeplabv3plus';

const INPUT: [number, number, number, number] = [2, 128, 256, 3];
const CLASSES = 19;
const ENCODERS: Record<string, ResNetName> = { 'deeplabv3plus-r50': 'resnet50', 'deeplabv3plus-r101': 'resnet101' };
const reps = benchNumberFlag('reps', 2);

async function measure(key: string, width: number): Promise<TimedRow> {
  const encoder = ENCODERS[key];
  if (!encoder) throw new RangeError(`deeplabv3plus:bench: unknown model '${key}'; known: ${Object.keys(ENCODERS).join(', ')}.`);
  const backbone = createResNet(encoder, { widthMultiplier: width, outputStride: 16 });
  const model = buildDeepLabV3Plus(backbone, { numClasses: CLASSES, widthMultiplier: width });
  try {
    // Mean cross-entropy against random labels of every pixel.
    const times = await timeSegmenter({ model, input: INPUT, classes: CLASSES, timing: { reps } });
    return { model: `${key} (${backbone.name})`, width, parameters: summarizeDeepLabV3Plus(model).trainable, ...times };
  } finally {
    model.dispose();
  }
}

void runModelBench<TimedRow>({
  name: 'deeplabv3plus',
  intro: [`input ${INPUT.join('×')}, ${CLASSES} classes, median of ${reps} runs after one warm-up, one process per model`],
  columns: timedRowColumns(36),
  models: benchListFlag('models', Object.keys(ENCODERS)),
  widths: benchListFlag('widths', ['1', String(defaultDeepLabV3PlusConfig.widthMultiplier)]).map(Number),
  measure,
  results: { input: INPUT, classes: CLASSES, reps },
});

/**
 * hrnet:bench — forward and training-step time of each HRNet segmentation model at
 * 2×128×256, at full width and at the CPU default width. Prints a table and writes
 * bench-results/hrnet.json (workspace root).
 *
 * Flags: --backend wasm|cpu|tensorflow|auto (default wasm), --models a,b (default: the four
 * variants), --widths 1,0.5 (default: 1 and the CPU default), --batch N (2), --height H (128),
 * --width W (256), --min-seconds S (2; each figure is a median of at least 3 timed runs after
 * a warm-up).
 *
 * Each (model, width) runs in a child process (see `runModelGrid`): a wasm heap exhausted by
 * one configuration (full-width W48 training does not fit) aborts the wasm module for good, and
 * must not take the other measurements with it. A failed measurement keeps its forward time
 * and is recorded with its error.
 */
import * as tf from '@tensorflow/tfjs-core';
import { benchListFlag, benchNumberFlag, runModelBench, timeSegmenter, type BenchColumn, type TimedRow } from '@gpl/core/bench';
import { HRNET_NAMES, buildHRNetSegmenter, createHRNet, defaultHRNetConfig, summarizeHRNet, type HRNetName } from '@gpl/hrnet';

const batch = benchNumberFlag('batch', 2);
const height = benchNumberFlag('height', 128);
const width = benchNumberFlag('width', 256);
const minSeconds = benchNumberFlag('min-seconds', 2);
const NUM_CLASSES = 19;

interface Row extends TimedRow {
  readonly branchChannels: number[];
  /** wasm heap after the measurements (MiB; wasm only: it never shrinks, so this is the peak). */
  readonly wasmHeapMiB: number | null;
}

function wasmHeapMiB(): number | null {
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap ? Math.round(heap.length / 2 ** 20) : null;
}

async function measure(key: string, widthMultiplier: number, report: (partial: Row) => void): Promise<Row> {
  if (!HRNET_NAMES.includes(key as HRNetName)) throw new RangeError(`hrnet:bench: unknown model '${key}'; known: ${HRNET_NAMES.join(', ')}.`);
  const model = key as HRNetName;
  const net = buildHRNetSegmenter(model, { widthMultiplier, numClasses: NUM_CLASSES });
  const row: Row = {
    model,
    width: widthMultiplier,
    branchChannels: Object.values(createHRNet(model, { widthMultiplier }).featureSpecs()).map((f) => f!.channels),
    parameters: summarizeHRNet(net).trainable,
    wasmHeapMiB: null,
  };
  try {
    const times = await timeSegmenter({
      model: net,
      input: [batch, height, width, 3],
      classes: NUM_CLASSES,
      timing: { reps: 3, minSeconds },
      // A later failure (out of memory) still leaves the forward figure.
      onForward: (forwardSeconds) => report({ ...row, forwardSeconds, wasmHeapMiB: wasmHeapMiB() }),
    });
    return { ...row, ...times, wasmHeapMiB: wasmHeapMiB() };
  } finally {
    net.dispose();
  }
}

const ms = (s: number | undefined) => (s == null ? 'failed' : `${(s * 1000).toFixed(0)} ms`);
const columns: BenchColumn<Row>[] = [
  { title: 'model', width: 20, left: true, cell: (r) => r.model },
  { title: 'width', width: 6, cell: (r) => String(r.width) },
  { title: '  branches', width: 18, left: true, cell: (r) => `  ${(r.branchChannels ?? []).join(',')}` },
  { title: 'params', width: 9, cell: (r) => (r.parameters == null ? '' : `${(r.parameters / 1e6).toFixed(2)}M`) },
  { title: 'forward', width: 11, cell: (r) => ms(r.forwardSeconds) },
  { title: 'train step', width: 12, cell: (r) => ms(r.trainStepSeconds) },
  { title: 'wasm heap', width: 11, cell: (r) => (r.wasmHeapMiB == null ? '' : `${r.wasmHeapMiB} MiB`) },
];

void runModelBench<Row>({
  name: 'hrnet',
  defaultBackend: 'wasm',
  intro: [`input ${batch}×${height}×${width}×3, ${NUM_CLASSES} classes; median of ≥3 runs after a warm-up; one process per row`],
  columns,
  models: benchListFlag('models', ['hrnet-w18-small-v1', 'hrnet-w18-small', 'hrnet-w18', 'hrnet-w48']),
  widths: benchListFlag('widths', ['1', String(defaultHRNetConfig.widthMultiplier)]).map(Number),
  measure,
  results: { input: [batch, height, width, 3], numClasses: NUM_CLASSES, cpuDefaultWidth: defaultHRNetConfig.widthMultiplier },
});

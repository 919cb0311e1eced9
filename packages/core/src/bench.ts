/**
 * What every `nx run <project>:bench` script shares: command-line flags, the timing loop (a
 * warm-up, then the median of timed runs), one child process per measured configuration, a
 * printed table and the JSON file in `bench-results/`. Imported as `@gpl/core/bench`, by bench
 * scripts only: it reads `process.argv` and writes files, which library code never does.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { formatBackendReport, initBackend, parseBackendPreference } from './backend';

/** The value after `--name` on the command line, or `fallback` when the flag is absent or has no value. */
export function benchFlag(name: string, fallback: string, argv: readonly string[] = process.argv): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[i + 1] : fallback;
}

/** A comma-separated flag as a list, e.g. `--widths 1,0.25`. */
export function benchListFlag(name: string, fallback: readonly string[], argv: readonly string[] = process.argv): string[] {
  return benchFlag(name, fallback.join(','), argv).split(',').filter((s) => s !== '');
}

/** A numeric flag; throws, naming the flag and the value, unless it is a finite number. */
export function benchNumberFlag(name: string, fallback: number, argv: readonly string[] = process.argv): number {
  const raw = benchFlag(name, String(fallback), argv);
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new RangeError(`[@gpl/core] bench: --${name} must be a number, received '${raw}'.`);
  return v;
}

export interface TimingOptions {
  /** Timed runs at the least, after the warm-up. Default 3. */
  readonly reps?: number;
  /** Keep timing until this many seconds have passed in all (the runs still stop at `reps` when that takes longer). Default 0. */
  readonly minSeconds?: number;
}

/**
 * Median seconds of one call of `run`: one untimed warm-up call (kernel set-up, buffer
 * allocation, optimizer slots), then at least `reps` timed calls, more until `minSeconds` have
 * passed. `run` must finish its work before it resolves (see `settle`).
 */
export async function medianSeconds(run: () => Promise<unknown> | unknown, options: TimingOptions = {}): Promise<number> {
  const reps = Math.max(1, options.reps ?? 3);
  const minSeconds = options.minSeconds ?? 0;
  await run();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < reps || (performance.now() - start) / 1000 < minSeconds) {
    const t0 = performance.now();
    await run();
    samples.push((performance.now() - t0) / 1000);
  }
  return median(samples);
}

/** The median of `samples` (the upper one of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}

/**
 * Median seconds of each of `runs`, timed in turn: after `warmups` untimed rounds, each round
 * calls every run once, in order, `reps` rounds in all. Two configurations compared as a ratio
 * then share the machine's drifts and bursts instead of one of them meeting them alone (timed one
 * after the other, a seg baseline measured first came out slower than the same step with GPL).
 */
export async function interleavedMedians(runs: readonly (() => Promise<unknown> | unknown)[], options: { reps?: number; warmups?: number } = {}): Promise<number[]> {
  const reps = Math.max(1, options.reps ?? 3);
  for (let w = 0; w < (options.warmups ?? 1); w++) for (const run of runs) await run();
  const samples = runs.map((): number[] => []);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < runs.length; i++) {
      const t0 = performance.now();
      await runs[i]();
      samples[i].push((performance.now() - t0) / 1000);
    }
  }
  return samples.map(median);
}

/** Waits until every tensor in `out` is computed (its data downloaded), then disposes them. */
export async function settle(out: tf.TensorContainer | null | void): Promise<void> {
  const tensors: tf.Tensor[] = [];
  const collect = (c: unknown): void => {
    if (c instanceof tf.Tensor) tensors.push(c);
    else if (Array.isArray(c)) c.forEach(collect);
    else if (c != null && typeof c === 'object') Object.values(c).forEach(collect);
  };
  collect(out);
  try {
    await Promise.all(tensors.map((t) => t.data()));
  } finally {
    tf.dispose(tensors);
  }
}

/** A configuration that could not be measured, and why (e.g. it does not fit in the wasm heap). */
export interface FailedRow {
  readonly model: string;
  readonly width: number;
  readonly error: string;
}

const ROW_PREFIX = 'ROW ';

/** Why a child process failed, from its output: an exhausted wasm heap by name, else its last message line. */
function childError(status: number | null, output: string): string {
  if (/Aborted\(\)|memory access out of bounds|Cannot allocate|out of memory/i.test(output)) return 'out of wasm memory (4 GB heap)';
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ') && !l.startsWith(ROW_PREFIX));
  return lines.pop() ?? `exit code ${status}`;
}

export interface ModelGridOptions<R extends object> {
  /** Model keys, measured in this order (`--models` usually). */
  readonly models: readonly string[];
  /** Width multipliers, each measured for every model (`--widths` usually). */
  readonly widths: readonly number[];
  /**
   * Measures one configuration, in a child process of its own. `report` may be called with a
   * partial row first (e.g. after the forward timing), so that a later crash still leaves it.
   */
  readonly measure: (model: string, width: number, report: (partial: R) => void) => Promise<R>;
  /** Called in the parent with each row as it arrives (to print it). */
  readonly onRow?: (row: R | FailedRow | (R & { error: string })) => void;
  /** The bench script (default: the running one, `process.argv[1]`). */
  readonly script?: string;
  /** Flags for the children (default: this process's own flags, which the children read as well). */
  readonly childArgs?: readonly string[];
}

/**
 * Runs a bench over models × widths, each configuration in a child process of its own: the
 * wasm heap (at most 4 GB) never shrinks, so configurations measured one after another in one
 * process would inherit each other's fragmentation, and one that does not fit aborts its
 * process; here it becomes a row with an `error` instead.
 *
 * In the parent, returns every row in order (the last row a child reported, with `error` when
 * the child failed). In a child (the script started again with `--one <model> --one-width <w>`),
 * measures that configuration, prints it for the parent and returns null: the script should
 * then end.
 */
export async function runModelGrid<R extends object>(options: ModelGridOptions<R>): Promise<(R | FailedRow | (R & { error: string }))[] | null> {
  const argv = process.argv;
  if (argv.includes('--one')) {
    const report = (row: R) => console.log(`${ROW_PREFIX}${JSON.stringify(row)}`);
    report(await options.measure(benchFlag('one', ''), benchNumberFlag('one-width', 1), report));
    return null;
  }
  const script = options.script ?? argv[1];
  const childArgs = options.childArgs ?? argv.slice(2);
  const rows: (R | FailedRow | (R & { error: string }))[] = [];
  for (const model of options.models) {
    for (const width of options.widths) {
      const child = spawnSync(process.execPath, [...process.execArgv, script, ...childArgs, '--one', model, '--one-width', String(width)], {
        encoding: 'utf8',
        maxBuffer: 64 * 2 ** 20,
      });
      const stdout = child.stdout ?? '';
      const reported = stdout.split('\n').filter((l) => l.startsWith(ROW_PREFIX));
      const last = reported.length ? (JSON.parse(reported[reported.length - 1].slice(ROW_PREFIX.length)) as R) : undefined;
      let row: R | FailedRow | (R & { error: string });
      if (child.status === 0 && last) row = last;
      else {
        const error = childError(child.status, `${child.stderr ?? ''}\n${stdout}${child.error ? `\n${child.error.message}` : ''}`);
        row = last ? { ...last, error } : { model, width, error };
      }
      rows.push(row);
      options.onRow?.(row);
    }
  }
  return rows;
}

/** One column of a printed table. */
export interface BenchColumn<R> {
  readonly title: string;
  /** Characters, padding included. */
  readonly width: number;
  /** Left-aligned (default: right-aligned, as numbers are). */
  readonly left?: boolean;
  /** The cell text; '' where the row has no value (a failed measurement). */
  readonly cell: (row: R) => string;
}

/** A fixed-width table: its header line, and the line of a row (an `error` on the row is appended to it). */
export function benchTable<R extends object>(columns: readonly BenchColumn<R>[]): { header: string; line: (row: R) => string } {
  const pad = (c: BenchColumn<R>, text: string) => (c.left ? text.padEnd(c.width) : text.padStart(c.width));
  return {
    header: columns.map((c) => pad(c, c.title)).join(''),
    line: (row) => {
      const error = (row as { error?: unknown }).error;
      return columns.map((c) => pad(c, c.cell(row))).join('') + (error ? `   ${String(error)}` : '');
    },
  };
}

/** The nearest folder at or above `from` that holds nx.json (the workspace root), or `from` itself. */
function workspaceRoot(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from);
  }
}

/**
 * Writes `{ date, ...data }` atomically to `bench-results/<name>.json` at the workspace root
 * (found from the bench script's folder) and returns the file's path.
 */
export function writeBenchResults(name: string, data: Record<string, unknown>, from = path.dirname(process.argv[1] ?? '.')): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new RangeError(`[@gpl/core] writeBenchResults: name must be kebab-case, received '${name}'.`);
  const out = path.join(workspaceRoot(from), 'bench-results', `${name}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ date: new Date().toISOString(), ...data }, null, 2));
  fs.renameSync(tmp, out);
  return out;
}

export interface ForwardAndStepOptions {
  /** One inference pass (e.g. `() => model.predict(x)`). */
  readonly forward: () => tf.TensorContainer;
  /** The training loss of one batch (applies the model with `{ training: true }`). */
  readonly loss: () => tf.Scalar;
  /** The variables a step updates. */
  readonly variables: tf.Variable[];
  /** As `medianSeconds`. */
  readonly timing?: TimingOptions;
  /** Called with the forward time before the steps are timed (so that a crash in them still leaves it). */
  readonly onForward?: (forwardSeconds: number) => void;
}

/**
 * Median seconds of a forward pass and of one training step (SGD with momentum 0.9, learning
 * rate 0.01: forward in training mode, backward, update), each after its own warm-up.
 */
export async function timeForwardAndStep(o: ForwardAndStepOptions): Promise<{ forwardSeconds: number; trainStepSeconds: number }> {
  const forwardSeconds = await medianSeconds(() => settle(o.forward()), o.timing);
  o.onForward?.(forwardSeconds);
  const opt = tf.train.momentum(0.01, 0.9);
  try {
    const trainStepSeconds = await medianSeconds(() => settle(opt.minimize(o.loss, true, o.variables)), o.timing);
    return { forwardSeconds, trainStepSeconds };
  } finally {
    opt.dispose();
  }
}

export interface SegmenterTimingOptions {
  readonly model: tfl.LayersModel;
  /** Input [N, H, W, 3]: random images, and random labels of every pixel. */
  readonly input: readonly [number, number, number, number];
  readonly classes: number;
  /** One inference pass on the images. Default `model.predict(images)`. */
  readonly forward?: (images: tf.Tensor4D) => tf.TensorContainer;
  /** The training loss. Default: mean softmax cross-entropy of `model.apply(images, { training: true })` against `oneHot`. */
  readonly loss?: (images: tf.Tensor4D, oneHot: tf.Tensor4D) => tf.Scalar;
  readonly timing?: TimingOptions;
  readonly onForward?: (forwardSeconds: number) => void;
}

/** `timeForwardAndStep` for a segmentation model on a random batch, which it frees afterwards. */
export async function timeSegmenter(o: SegmenterTimingOptions): Promise<{ forwardSeconds: number; trainStepSeconds: number }> {
  const images = tf.randomNormal([...o.input]) as tf.Tensor4D;
  const oneHot = tf.tidy(() => tf.oneHot(tf.randomUniform([o.input[0], o.input[1], o.input[2]], 0, o.classes, 'int32') as tf.Tensor3D, o.classes)) as tf.Tensor4D;
  const forward = o.forward ?? ((x) => o.model.predict(x) as tf.Tensor);
  const loss = o.loss ?? ((x, y) => tf.losses.softmaxCrossEntropy(y, o.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
  try {
    return await timeForwardAndStep({
      forward: () => forward(images),
      loss: () => loss(images, oneHot),
      variables: o.model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
      timing: o.timing,
      onForward: o.onForward,
    });
  } finally {
    tf.dispose([images, oneHot]);
  }
}

/** The row most model benches print: a model at a width, its parameters and its two times. */
export interface TimedRow {
  readonly model: string;
  readonly width: number;
  readonly parameters?: number;
  readonly forwardSeconds?: number;
  readonly trainStepSeconds?: number;
  /** Why the configuration could not be measured. */
  readonly error?: string;
}

const milliseconds = (s: number | null | undefined) => (s == null ? '' : (s * 1000).toFixed(0));

/** Columns of a `TimedRow` table: model (`modelWidth` characters), width, params, forward ms, train ms. */
export function timedRowColumns(modelWidth: number): BenchColumn<TimedRow>[] {
  return [
    { title: 'model', width: modelWidth, left: true, cell: (r) => r.model },
    { title: 'width', width: 6, cell: (r) => String(r.width) },
    { title: 'params', width: 13, cell: (r) => r.parameters?.toLocaleString('en-US') ?? '' },
    { title: 'forward ms', width: 12, cell: (r) => milliseconds(r.forwardSeconds) },
    { title: 'train ms', width: 12, cell: (r) => milliseconds(r.trainStepSeconds) },
  ];
}

export interface ModelBenchOptions<R extends object> {
  /** Results file `bench-results/<name>.json`. */
  readonly name: string;
  /** `--backend` when not given. Default 'auto'. */
  readonly defaultBackend?: string;
  /** Lines printed under the backend, before the table (input size, what is timed). */
  readonly intro: readonly string[];
  readonly columns: readonly BenchColumn<R>[];
  readonly models: readonly string[];
  readonly widths: readonly number[];
  readonly measure: ModelGridOptions<R>['measure'];
  /** Extra fields of the JSON file (the rows and the backend are added). */
  readonly results?: Record<string, unknown>;
}

/**
 * A whole model bench: picks the backend (`--backend`), prints it, the intro and a table with a
 * line per configuration as it is measured (`runModelGrid`), and writes the rows to
 * `bench-results/<name>.json`. In a child process it only measures. An error is printed and
 * sets the exit code (the promise does not reject).
 */
export async function runModelBench<R extends object>(o: ModelBenchOptions<R>): Promise<void> {
  try {
    await modelBench(o);
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  }
}

async function modelBench<R extends object>(o: ModelBenchOptions<R>): Promise<void> {
  const prefer = parseBackendPreference(benchFlag('backend', o.defaultBackend ?? 'auto'), '--backend');
  const backend = formatBackendReport(await initBackend({ prefer }));
  const table = benchTable(o.columns);
  const child = process.argv.includes('--one');
  if (!child) console.log([`backend: ${backend}`, ...o.intro, '', table.header].join('\n'));
  const rows = await runModelGrid<R>({
    models: o.models,
    widths: o.widths,
    measure: o.measure,
    onRow: (r) => console.log(table.line(r as R)),
  });
  if (rows) console.log(`\nwrote ${writeBenchResults(o.name, { backend, ...o.results, rows })}`);
}

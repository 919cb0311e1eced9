import './setup';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { benchFlag, benchListFlag, benchNumberFlag, benchTable, interleavedMedians, medianSeconds, runModelBench, runModelGrid, settle, timeForwardAndStep, timeSegmenter, timedRowColumns, writeBenchResults } from './bench';

/** A scratch folder per test file, removed at the end. */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-core-bench-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeAll(() => tf.setBackend('cpu'));

describe('flags', () => {
  const argv = ['node', 'bench.ts', '--reps', '1', '--widths', '1,0.25', '--quiet', '--backend'];

  it('reads a value after its flag, else the fallback (also for a flag given without a value)', () => {
    expect(benchFlag('reps', '2', argv)).toBe('1');
    expect(benchFlag('models', 'all', argv)).toBe('all');
    expect(benchFlag('quiet', 'x', argv)).toBe('x');
    expect(benchFlag('backend', 'auto', argv)).toBe('auto');
    expect(benchListFlag('widths', ['1'], argv)).toEqual(['1', '0.25']);
    expect(benchListFlag('models', ['a', 'b'], argv)).toEqual(['a', 'b']);
    expect(benchNumberFlag('reps', 2, argv)).toBe(1);
    expect(benchNumberFlag('batch', 2, argv)).toBe(2);
    expect(() => benchNumberFlag('widths', 1, argv)).toThrow("[@gpl/core] bench: --widths must be a number, received '1,0.25'.");
  });
});

describe('timing', () => {
  /** A fake clock: each call of the returned `run` advances it by the next duration (ms). */
  function fakeRuns(durations: number[]) {
    let now = 0;
    let calls = 0;
    const spy = jest.spyOn(performance, 'now').mockImplementation(() => now);
    const run = () => {
      now += durations[Math.min(calls, durations.length - 1)];
      calls++;
    };
    return { run, calls: () => calls, restore: () => spy.mockRestore() };
  }

  it('warms up once, then times at least `reps` calls and reports the median', async () => {
    const fake = fakeRuns([500, 10, 90, 50]); // warm-up, then three timed calls
    try {
      expect(await medianSeconds(fake.run, { reps: 3 })).toBe(0.05);
      expect(fake.calls()).toBe(4);
    } finally {
      fake.restore();
    }
  });

  it('interleaves several runs round by round after the warm-up rounds, one median each', async () => {
    let now = 0;
    const order: string[] = [];
    const spy = jest.spyOn(performance, 'now').mockImplementation(() => now);
    // a takes 10, 30, 20 ms…; b 5 ms, except a burst of 100 ms in its second timed call.
    const durations = { a: [999, 10, 30, 20], b: [999, 5, 100, 5] };
    const calls = { a: 0, b: 0 };
    const run = (k: 'a' | 'b') => () => {
      order.push(k);
      now += durations[k][calls[k]++];
    };
    try {
      expect(await interleavedMedians([run('a'), run('b')], { reps: 3, warmups: 1 })).toEqual([0.02, 0.005]);
      expect(order.join('')).toBe('abababab');
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps timing until minSeconds have passed', async () => {
    const fake = fakeRuns([100, 20]);
    try {
      expect(await medianSeconds(fake.run, { reps: 1, minSeconds: 0.1 })).toBe(0.02);
      expect(fake.calls()).toBe(1 + 5);
    } finally {
      fake.restore();
    }
  });

  it('settle waits for and disposes every tensor of a container, and accepts nothing', async () => {
    const before = tf.memory().numTensors;
    const a = tf.ones([2]);
    const b = tf.zeros([3]);
    await settle({ a, list: [b, null] } as unknown as tf.TensorContainer);
    expect(a.isDisposed && b.isDisposed).toBe(true);
    await settle(null);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('timeForwardAndStep', () => {
  it('times a forward pass and an SGD-momentum step, reports the forward time first, and frees its intermediates', async () => {
    const w = tf.variable(tf.ones([4]));
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const t = await timeForwardAndStep({
      forward: () => tf.mul(w, 2),
      loss: () => tf.sum(tf.square(w)) as tf.Scalar,
      variables: [w],
      timing: { reps: 2 },
      onForward: (s) => seen.push(s),
    });
    expect(seen).toEqual([t.forwardSeconds]);
    expect(t.trainStepSeconds).toBeGreaterThan(0);
    // Three steps (warm-up and two timed) of lr 0.01 moved w downhill from 1.
    expect(w.dataSync()[0]).toBeLessThan(1);
    // tfjs 4.22's MomentumOptimizer.dispose frees its slots and momentum but not the learning-rate
    // scalar of its SGD base class: one tensor per optimizer, not per step.
    expect(tf.memory().numTensors).toBe(before + 1);
    w.dispose();
  });
});

describe('timeSegmenter', () => {
  it('times a segmentation model on a random batch of the given size and frees the batch', async () => {
    const input = tfl.input({ shape: [null, null, 3] });
    const model = tfl.model({ inputs: input, outputs: tfl.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input) as tfl.SymbolicTensor });
    const shapes: number[][] = [];
    const before = tf.memory().numTensors;
    const t = await timeSegmenter({
      model,
      input: [2, 8, 6, 3],
      classes: 4,
      forward: (x) => {
        shapes.push(x.shape);
        return model.predict(x) as tf.Tensor;
      },
      timing: { reps: 1 },
    });
    expect(shapes).toEqual([[2, 8, 6, 3], [2, 8, 6, 3]]);
    expect(t.forwardSeconds).toBeGreaterThan(0);
    expect(t.trainStepSeconds).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before + 1); // the momentum optimizer's learning rate (see above)
    model.dispose();
  });
});

describe('table and results', () => {
  it('formats the usual timing row, with blanks where a failed row has no value', () => {
    const t = benchTable(timedRowColumns(10));
    expect(t.header).toBe('model      width       params  forward ms    train ms');
    expect(t.line({ model: 'r18', width: 0.25, parameters: 702096, forwardSeconds: 0.0274, trainStepSeconds: 0.354 })).toBe(
      'r18         0.25      702,096          27         354',
    );
    expect(t.line({ model: 'r101', width: 1, error: 'out of wasm memory (4 GB heap)' })).toBe(
      'r101           1                                        out of wasm memory (4 GB heap)',
    );
  });

  it('pads columns and appends the error of a failed row', () => {
    const t = benchTable<{ model: string; ms?: number; error?: string }>([
      { title: 'model', width: 8, left: true, cell: (r) => r.model },
      { title: 'ms', width: 6, cell: (r) => (r.ms == null ? '' : r.ms.toFixed(0)) },
    ]);
    expect(t.header).toBe('model       ms');
    expect(t.line({ model: 'r18', ms: 12.4 })).toBe('r18         12');
    expect(t.line({ model: 'r101', error: 'out of wasm memory' })).toBe('r101             out of wasm memory');
  });

  it('writes { date, ...data } to bench-results/<name>.json at the nearest workspace root', () => {
    const root = path.join(dir, 'ws');
    const benchDir = path.join(root, 'packages', 'x', 'bench');
    fs.mkdirSync(benchDir, { recursive: true });
    fs.writeFileSync(path.join(root, 'nx.json'), '{}');
    const out = writeBenchResults('x-bench', { rows: [1, 2] }, benchDir);
    expect(out).toBe(path.join(root, 'bench-results', 'x-bench.json'));
    const json = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(Object.keys(json)).toEqual(['date', 'rows']);
    expect(json.rows).toEqual([1, 2]);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['x-bench.json']); // no temporary file left
    expect(() => writeBenchResults('../evil', {}, benchDir)).toThrow(RangeError);
  });
});

describe('runModelGrid', () => {
  /** A stand-in bench: reports a partial row then a full one; 'oom' aborts after its partial row, 'bad' throws. */
  const script = () => {
    const file = path.join(dir, 'child.js');
    fs.writeFileSync(
      file,
      `const a = process.argv; const at = (f) => a[a.indexOf(f) + 1];
       const model = at('--one'), width = Number(at('--one-width')), scale = Number(at('--scale'));
       console.log('ROW ' + JSON.stringify({ model, width, forward: width * scale }));
       if (model === 'oom') { console.error('RuntimeError: Aborted()'); process.exit(7); }
       if (model === 'bad') { console.error('RangeError: unknown model bad'); console.error('    at main (child.js:1:1)'); process.exit(1); }
       console.log('ROW ' + JSON.stringify({ model, width, forward: width * scale, step: 2 * width * scale }));`,
    );
    return file;
  };

  it('runs one child per model and width, in order, keeping partial rows of failed children with their error', async () => {
    const seen: unknown[] = [];
    const rows = await runModelGrid<{ model: string; width: number; forward: number; step?: number }>({
      models: ['ok', 'oom', 'bad'],
      widths: [1, 0.5],
      script: script(),
      childArgs: ['--scale', '10'],
      measure: () => Promise.reject(new Error('not in a child')),
      onRow: (r) => seen.push(r),
    });
    expect(rows).toEqual([
      { model: 'ok', width: 1, forward: 10, step: 20 },
      { model: 'ok', width: 0.5, forward: 5, step: 10 },
      { model: 'oom', width: 1, forward: 10, error: 'out of wasm memory (4 GB heap)' },
      { model: 'oom', width: 0.5, forward: 5, error: 'out of wasm memory (4 GB heap)' },
      { model: 'bad', width: 1, forward: 10, error: 'RangeError: unknown model bad' },
      { model: 'bad', width: 0.5, forward: 5, error: 'RangeError: unknown model bad' },
    ]);
    expect(seen).toEqual(rows);
  });

  it('runModelBench in a child picks the backend from --backend and only measures', async () => {
    const argv = process.argv;
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    process.argv = ['node', 'bench.ts', '--backend', 'cpu', '--one', 'm', '--one-width', '2'];
    try {
      await runModelBench({
        name: 'x',
        intro: ['never printed in a child'],
        columns: timedRowColumns(8),
        models: ['m'],
        widths: [2],
        measure: async (model, width) => ({ model, width, parameters: width * 10 }),
      });
      expect(tf.getBackend()).toBe('cpu');
      expect(log.mock.calls.map((c) => c[0])).toEqual(['ROW {"model":"m","width":2,"parameters":20}']);
    } finally {
      process.argv = argv;
      log.mockRestore();
    }
  });

  it('in a child (--one), measures that configuration, prints its rows and returns null', async () => {
    const argv = process.argv;
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    process.argv = ['node', 'bench.ts', '--one', 'r18', '--one-width', '0.25'];
    try {
      const result = await runModelGrid({
        models: [],
        widths: [],
        measure: async (model, width, report) => {
          report({ model, width });
          return { model, width, done: true };
        },
      });
      expect(result).toBeNull();
      expect(log.mock.calls.map((c) => c[0])).toEqual(['ROW {"model":"r18","width":0.25}', 'ROW {"model":"r18","width":0.25,"done":true}']);
    } finally {
      process.argv = argv;
      log.mockRestore();
    }
  });
});

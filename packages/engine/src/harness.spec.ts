/**
 * The engine's small parts: checkpoint-path resolution, config differences, flags → config, the
 * error surface, the metrics log, EMA smoothing, the perceptual option, compare statistics and
 * sample panels.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { saveCheckpoint } from '@gpl/core';
import { mergeFlags, parseBackend, validateLoopConfig } from './cli';
import { formatMeanStd, meanCurve, meanStd, runVariants } from './compare';
import { NonFiniteLossError, exitCodeOf, formatError, isExpectedError } from './errors';
import { MetricsLog, emaSmooth } from './metrics-log';
import { renderPanels } from './panels';
import { perceptualOption } from './perceptual';
import { configDifferences, newestRun, openRunFolder, resolveCheckpointPath } from './run-folder';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-harness-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('resolveCheckpointPath', () => {
  const run = path.join(tmp, 'run');
  beforeAll(async () => {
    fs.mkdirSync(run, { recursive: true });
    fs.writeFileSync(path.join(run, 'config.json'), JSON.stringify({ model: 'm', lr: 0.1 }));
    const root = path.join(run, 'checkpoints');
    await saveCheckpoint(root, { state: { step: 1, tag: 'one' } }, { tags: ['latest', 'best'] });
    await saveCheckpoint(root, { state: { step: 2, tag: 'two' } }, { tags: ['latest'] });
  });

  it('finds the same checkpoint from a run folder, its checkpoints/ folder, a pointer and the step folder', () => {
    const step2 = path.join(run, 'checkpoints', 'step-00000002');
    for (const p of [run, path.join(run, 'checkpoints'), path.join(run, 'checkpoints', 'latest'), step2]) {
      const r = resolveCheckpointPath(p);
      expect({ p, dir: r.dir, tag: r.state.tag, runDir: r.runDir, lr: r.config?.lr }).toEqual({ p, dir: step2, tag: 'two', runDir: run, lr: 0.1 });
    }
  });

  it("prefers 'best' when asked (falling back to latest) and reads a pointer file directly", () => {
    expect(resolveCheckpointPath(run, { prefer: 'best' }).state.tag).toBe('one');
    expect(resolveCheckpointPath(path.join(run, 'checkpoints', 'best')).state.tag).toBe('one');
  });

  it('names the path and what was expected when there is no checkpoint', () => {
    expect(() => resolveCheckpointPath(path.join(tmp, 'nope'))).toThrow(/--checkpoint .*nope: does not exist \(expected a run folder, its checkpoints\/ folder, a step-\* folder or a latest\/best pointer\)/);
    fs.mkdirSync(path.join(tmp, 'empty'));
    expect(() => resolveCheckpointPath(path.join(tmp, 'empty'), { option: '--teacher' })).toThrow(/--teacher .*empty: no checkpoint there/);
  });

  it('finds the newest run by its latest pointer', () => {
    expect(newestRun(tmp)).toBe(run);
    expect(newestRun(path.join(tmp, 'missing'))).toBeUndefined();
  });
});

describe('run folder', () => {
  it('lists differing fields, ignoring the ones that do not change a run', () => {
    expect(configDifferences({ a: 1, b: [1, 2], out: 'x' }, { a: 1, b: [1, 3], out: 'y', c: true }, ['out'])).toEqual(['b ([1,2] there, [1,3] here)', 'c (undefined there, true here)']);
  });

  it('reads an option absent from an older config.json as the value such runs used', () => {
    const old = { lr: 0.01 };
    expect(configDifferences(old, { lr: 0.01, percepReduction: 'mean', percepScale: 1 }, [], { percepReduction: 'mean', percepScale: 1 })).toEqual([]);
    expect(configDifferences(old, { lr: 0.01, percepReduction: 'sum' }, [], { percepReduction: 'mean' })).toEqual(['percepReduction (undefined there, "sum" here)']);
  });

  it('refuses an --out that is a file, naming it', async () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x');
    await expect(openRunFolder({ out: file, resume: false }, { task: 't' })).rejects.toThrow(`[t] option 'out': ${file} is a file, expected a run folder`);
  });
});

describe('mergeFlags', () => {
  const defaults = { lr: 0.01, weightDecay: 5e-4, model: 'a' };

  it('maps kebab-case flags onto the config and lets typed flags win over --config', () => {
    const file = path.join(tmp, 'cfg.json');
    fs.writeFileSync(file, JSON.stringify({ lr: 0.5, model: 'b' }));
    // yargs reports defaults for every flag; only `--weight-decay` was typed.
    const argv = { config: file, lr: 0.01, 'weight-decay': 1e-3, model: 'a' };
    expect(mergeFlags(argv, new Set(['config', 'weight-decay']), defaults, 't')).toEqual({ lr: 0.5, weightDecay: 1e-3, model: 'b' });
    expect(mergeFlags({ lr: 0.2 }, new Set(['lr']), defaults, 't')).toEqual({ lr: 0.2, weightDecay: 5e-4, model: 'a' });
  });

  it.each([
    ['null', 'expected a JSON object of options, received null'],
    ['[1]', 'expected a JSON object of options, received [1]'],
    ['{"lr": 1, "lrr": 2}', 'unknown option(s) lrr'],
    ['{', 'expected a JSON object of options'],
  ])('refuses a config file holding %s', (text, message) => {
    const file = path.join(tmp, `bad-${Math.random()}.json`);
    fs.writeFileSync(file, text);
    expect(() => mergeFlags({ config: file }, new Set(['config']), defaults, 't')).toThrow(message);
  });

  it('names a missing config file', () => {
    expect(() => mergeFlags({ config: path.join(tmp, 'none.json') }, new Set(['config']), defaults, 't')).toThrow('none.json: no such file');
  });
});

describe('validateLoopConfig and the perceptual option', () => {
  const ok = { batch: 2, iters: 3, lr: 0.01, polyPower: 0.9, momentum: 0.9, weightDecay: 0, seed: 1, evalEvery: 0, checkpointEvery: 0, resume: false, out: 'x', backend: 'auto' as const, percep: 'vgg16', percepLambda: 0.1, percepKernel: 3, percepInit: 'he', percepLevels: 'final' as const };

  it.each([
    [{ lr: 0 }, "[t] option 'lr': expected a finite learning rate > 0, received 0"],
    [{ lr: -1 }, "[t] option 'lr': expected a finite learning rate > 0, received -1"],
    [{ iters: 1.5 }, "option 'iters': expected a positive integer"],
    [{ momentum: 1 }, "option 'momentum': expected a value in [0, 1)"],
    [{ percep: 'vgg17' }, "[t] option 'percep': expected a preset"],
    [{ percepInit: 'gauss' }, "[t] option 'percepInit': expected 'he', 'xavier'"],
    [{ percepKernel: 4 }, "option 'percepKernel': expected one of 1, 3, 5, 7"],
  ])('refuses %j', (patch, message) => {
    expect(() => validateLoopConfig({ ...ok, ...patch } as typeof ok, 't')).toThrow(message);
  });

  it('parses presets and structures with @gpl/loss, and none as null', () => {
    expect(perceptualOption(ok, 't')).toMatchObject({ network: { preset: 'vgg16' }, lambda: 0.1, init: { kind: 'he' } });
    expect(perceptualOption({ ...ok, percep: '1,1,1,1,1', percepInit: 'normal:0.01' }, 't')).toMatchObject({ network: { blocks: [1, 1, 1, 1, 1] }, init: { kind: 'normal', std: 0.01 } });
    expect(perceptualOption({ ...ok, percep: 'none' }, 't')).toBeNull();
    expect(perceptualOption({ ...ok, percepLambda: 0 }, 't')).toBeNull();
  });

  it('reports a bad GPL_BACKEND as the environment variable, a bad --backend as the flag', () => {
    const saved = process.env.GPL_BACKEND;
    try {
      process.env.GPL_BACKEND = 'nosuch';
      expect(() => parseBackend('nosuch', false)).toThrow("environment variable GPL_BACKEND = 'nosuch' is not a backend");
      expect(parseBackend('cpu', true)).toBe('cpu');
      delete process.env.GPL_BACKEND;
      expect(() => parseBackend('gpu', true)).toThrow("--backend = 'gpu' is not a backend");
    } finally {
      if (saved === undefined) delete process.env.GPL_BACKEND;
      else process.env.GPL_BACKEND = saved;
    }
  });
});

describe('error surface', () => {
  it('prints expected errors as their message and anything else with its stack', () => {
    const expected = new RangeError("[@gpl/data] labels/a.png: expected 8-bit, received 16-bit.");
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(isExpectedError(expected)).toBe(true);
    expect(isExpectedError(bug)).toBe(false);
    expect(formatError(expected)).toBe(expected.message);
    expect(formatError(expected, true)).toContain('at ');
    expect(formatError(bug)).toContain('at ');
    const nan = new NonFiniteLossError('seg', 3, NaN, undefined);
    expect(exitCodeOf(nan)).toBe(3);
    expect(exitCodeOf(expected)).toBe(1);
    expect(formatError(nan)).toBe(nan.message);
  });
});

describe('MetricsLog', () => {
  it('writes columns in order of first appearance and reads a CSV back up to a step', async () => {
    const file = path.join(tmp, 'metrics.csv');
    const log = new MetricsLog(file);
    log.step(1, { lr: 0.1, loss: 2, seconds: 0.5, terms: { loss_ce: 1.5, loss_gpl: 5 } });
    log.step(2, { lr: 0.09, loss: 1.8, seconds: 0.4, terms: { loss_ce: 1.3, loss_aux: 1, loss_gpl: 4 } });
    log.evaluation(2, { val_miou: 0.25 });
    await log.write();
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toBe('step,lr,loss,loss_ce,loss_gpl,loss_aux,seconds,val_miou\n1,0.1,2,1.5,5,,0.5,\n2,0.09,1.8,1.3,4,1,0.4,0.25\n');
    const back = await MetricsLog.resume(file, 1);
    expect(back.all).toEqual([{ step: 1, lr: 0.1, loss: 2, loss_ce: 1.5, loss_gpl: 5, seconds: 0.5 }]);
  });

  it('smooths with a bias-corrected EMA (starts at the first value)', () => {
    const s = emaSmooth([2, 4, 4], 0.5);
    expect(s[0]).toBeCloseTo(2, 12);
    // (0.5·(0.5·2) + 0.5·4) … : s2 = (0.25·2·… ) computed by hand: m1 = 1, m2 = 0.5 + 2 = 2.5, m2/(1−0.25) = 10/3.
    expect(s[1]).toBeCloseTo(10 / 3, 12);
    // m3 = 1.25 + 2 = 3.25, /(1 − 0.125) = 26/7.
    expect(s[2]).toBeCloseTo(26 / 7, 12);
  });
});

describe('compare statistics', () => {
  it('mean ± sample std, and mean curves over the steps every run has', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0 });
    expect(formatMeanStd([0.1, 0.2, 0.3], 100)).toBe('20.00 ± 10.00');
    const a = [{ step: 10, metrics: { m: 0.2 } }, { step: 20, metrics: { m: 0.4 } }];
    const b = [{ step: 10, metrics: { m: 0.4 } }];
    expect(meanCurve([a, b], 'm', 100)).toEqual({ x: [10], y: [30.000000000000004] });
  });

  it('runVariants resumes a run with a checkpoint and starts again one that stopped before its first', async () => {
    const root = path.join(tmp, 'variants');
    // 'a' stopped after writing its config but before any checkpoint; 'b' has a step folder.
    fs.mkdirSync(path.join(root, 'a-seed1'), { recursive: true });
    fs.writeFileSync(path.join(root, 'a-seed1', 'config.json'), '{}');
    fs.writeFileSync(path.join(root, 'a-seed1', 'metrics.csv'), 'step\n1\n');
    fs.mkdirSync(path.join(root, 'b-seed1', 'checkpoints', 'step-00000002'), { recursive: true });
    fs.writeFileSync(path.join(root, 'b-seed1', 'config.json'), '{}');
    const calls: [string, boolean, boolean][] = [];
    const lines: string[] = [];
    await runVariants(
      root,
      ['a', 'b', 'c'],
      [1],
      async (variant, _seed, out, resume) => {
        calls.push([variant, resume, fs.existsSync(path.join(out, 'metrics.csv'))]);
        return { history: [{ step: 1, metrics: { m: 1 } }], metrics: { m: 1 } };
      },
      (l) => lines.push(l),
    );
    // a: started afresh (its partial folder removed), b: resumed, c: new.
    expect(calls).toEqual([
      ['a', false, false],
      ['b', true, false],
      ['c', false, false],
    ]);
    expect(lines.some((l) => /a-seed1 has no checkpoint to resume from; starting that run again$/.test(l))).toBe(true);
  });
});

describe('renderPanels', () => {
  it('places titled panels side by side above a legend', async () => {
    const red = { title: 'image', rgb: new Uint8Array(4 * 3 * 3).fill(0).map((_, i) => (i % 3 === 0 ? 255 : 0)), width: 4, height: 3 };
    const blue = { title: 'prediction', rgb: new Uint8Array(4 * 3 * 3).map((_, i) => (i % 3 === 2 ? 255 : 0)), width: 4, height: 3 };
    const png = await renderPanels([red, blue], [{ name: 'road', color: [128, 64, 128] }]);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(4 + 4 + 4);
    // Pixel (0, 18) is the first panel's top-left, (8, 18) the second's.
    const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    expect(at(0, 18)).toEqual([255, 0, 0]);
    expect(at(8, 18)).toEqual([0, 0, 255]);
    expect(info.height).toBeGreaterThan(18 + 3);
    await expect(renderPanels([{ ...red, rgb: new Uint8Array(5) }])).rejects.toThrow("panel 'image' has 5 bytes for 4×3×3");
  });
});

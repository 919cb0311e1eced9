/**
 * The `condinst` command line as a user runs it (a child process through tsx, wasm backend, tiny
 * sizes on coco-mini): help, one-line refusals of bad options, a smoke training run, and `eval`
 * printing pycocotools' summary and writing a COCO results file that the evaluator reads back.
 */
import { spawnSync, type SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cocoEvaluate, readCocoResults, readEvalGroundTruth } from '@gpl/coco';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const TSX = path.join(WORKSPACE_ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(WORKSPACE_ROOT, 'packages/tasks/condinst/src/main.ts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'condinst-cli-'));
const env = { ...process.env, GPL_BACKEND: 'wasm', FORCE_COLOR: '0' };
const TINY = ['--backbone', 'resnet18', '--width', '0.125', '--eval-every', '0', '--teacher', 'none', '--percep-engine', 'tfjs'];

function condinst(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(TSX, ['--tsconfig', 'tsconfig.base.json', MAIN, ...args], { cwd: WORKSPACE_ROOT, env, encoding: 'utf8', maxBuffer: 32 * 2 ** 20 });
}

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('condinst CLI', () => {
  it('prints help naming the task flags', () => {
    const r = condinst(['train', '--help']);
    expect(r.status).toBe(0);
    for (const f of ['--data-root', '--backbone', '--canvas', '--max-proposals', '--radius', '--teacher', '--percep', '--resume']) expect(r.stdout).toContain(f);
  });

  it('refuses bad options in one line each, without a stack, creating nothing', () => {
    const cases: [string[], RegExp][] = [
      [['--canvas', '100,128'], /^\[condinst\] option 'canvas': expected height,width as positive multiples of 32.*received \[100,128\]\.$/],
      [['--backbone', 'vgg16'], /Invalid values:\s+Argument: backbone, Given: "vgg16"/],
      [['--iters', '1', '--iters', '2'], /^\[condinst\] --iters was given 2 times \(1, 2\); give it once\.$/],
      [['--max-proposals', '0'], /^\[condinst\] option 'maxProposals': expected a positive integer, received 0\.$/],
      [['--teacher', path.join(tmp, 'nope')], /^\[@gpl\/engine\] --teacher .*nope: does not exist .*condinst:train-teacher/],
    ];
    for (const [args, message] of cases) {
      const out = path.join(tmp, `bad-${args[0].slice(2)}`);
      // The case's flag replaces TINY's (a flag given twice is refused on its own).
      const base: string[] = [];
      for (let i = 0; i < TINY.length; i += 2) if (TINY[i] !== args[0]) base.push(TINY[i], TINY[i + 1]);
      const r = condinst(['train', ...base, ...args, '--out', out]);
      const err = r.stderr.trim();
      expect({ args, status: r.status }).toEqual({ args, status: 1 });
      expect(err).toMatch(message);
      expect(err).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  it('trains one step, then evaluates the checkpoint: summary lines and a results file pycocotools-style tools read', () => {
    const run = path.join(tmp, 'run');
    const t = condinst(['train', ...TINY, '--iters', '1', '--out', run]);
    expect(t.stderr.split('\n').filter((l) => /error|Error/.test(l))).toEqual([]);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/box {2}AP .*\nmask AP /);
    const evalDir = path.join(tmp, 'eval');
    // After one step few locations pass 0.05 (the class prior is 0.01): threshold 0 keeps 100 per image.
    const e = condinst(['eval', '--checkpoint', run, '--out', evalDir, '--drawings', '1', '--score-threshold', '0', '--backend', 'wasm']);
    expect(e.status).toBe(0);
    expect(e.stdout).toContain(' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = ');
    expect(e.stdout).toContain('per-category mask AP');
    const gt = readEvalGroundTruth(path.join(WORKSPACE_ROOT, 'datasets/coco-mini/annotations/instances_val2017.json'));
    const results = readCocoResults(path.join(evalDir, 'results.json'), gt);
    expect(results.detections.length).toBe(12 * 100);
    // The printed mask AP is what the evaluator computes from the written file.
    const ap = cocoEvaluate(gt, results, { iouType: 'segm' }).stats[0];
    expect(e.stdout).toContain(`segm:\n Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = ${ap.toFixed(3)}`);
    expect(fs.readdirSync(path.join(evalDir, 'samples')).length).toBe(1);
  });
});

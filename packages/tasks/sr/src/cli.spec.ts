/**
 * The `sr` command line as a user runs it (a child process through tsx, wasm backend, toy sizes
 * on voc-mini): a bad flag is one line naming it and exit 1; `train` writes the table (rows not
 * run say why: not requested, or no weights supplied) and the PNGs; `eval` re-measures the run
 * from its checkpoints to the same numbers.
 */
import { spawnSync, type SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { configFromFlags } from './main';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const TSX = path.join(WORKSPACE_ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(WORKSPACE_ROOT, 'packages/tasks/sr/src/main.ts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-cli-'));
const env = { ...process.env, GPL_BACKEND: 'wasm', FORCE_COLOR: '0' };
const TINY = ['--iters', '2', '--batch', '2', '--patch', '16', '--features', '4', '--blocks', '1', '--eval-every', '0', '--val-images', '2', '--percep', '1,1,1,1,1', '--variants', 'pixel,pretrained-vgg', '--data-roots', 'datasets/voc-mini'];

function sr(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(TSX, ['--tsconfig', 'tsconfig.base.json', MAIN, ...args], { cwd: WORKSPACE_ROOT, env, encoding: 'utf8', maxBuffer: 32 * 2 ** 20 });
}

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('sr CLI', () => {
  it('validates flags: each message names the option, what it received and what it expects', () => {
    const flags = (extra: Record<string, unknown>) => configFromFlags({ out: path.join(tmp, 'x'), ...extra });
    expect(() => flags({ patch: 30 })).toThrow("[sr] option 'patch': expected a multiple of 4 (the LR patch is patch/4), received 30.");
    expect(() => flags({ variants: 'pixel,gan' })).toThrow("[sr] option 'variants': expected some of pixel, random-vgg, pretrained-vgg, received [\"pixel\",\"gan\"].");
    expect(() => flags({ iters: 0 })).toThrow("[sr] option 'iters': expected an integer ≥ 1, received 0.");
    expect(() => flags({ beta2: 1 })).toThrow("[sr] option 'beta2': expected a value in [0, 1), received 1.");
    expect(() => flags({ 'percep-lambda': -1 })).toThrow("[sr] option 'percepLambda': expected a finite number ≥ 0, received -1.");
    expect(() => flags({ percep: '1,1,1,1,1', 'percep-pretrained': 'vgg16.pth' })).toThrow(
      "[sr] option 'percep': expected a network with torchvision weights (vgg11, vgg13, vgg16, vgg19, resnet18, alexnet, googlenet, mobilenetv2) for --percep-pretrained, received \"1,1,1,1,1\".",
    );
    expect(flags({ 'data-roots': 'a, b' }).dataRoots).toEqual(['a', 'b']);
  });

  it('a bad flag ends the process with one line and exit 1, no stack', () => {
    const r = sr(['train', '--blocks', '-2', '--out', path.join(tmp, 'bad')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("[sr] option 'blocks': expected an integer ≥ 0, received -2.");
    expect(fs.existsSync(path.join(tmp, 'bad'))).toBe(false);
  });

  it('train writes the table and side-by-side PNGs; eval re-measures the checkpoints', () => {
    const out = path.join(tmp, 'smoke');
    const r = sr(['train', ...TINY, '--out', out]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| bicubic \(MATLAB imresize\) \| \d+\.\d{2} \| 0\.\d{4} \|/);
    expect(r.stdout).toContain('| L1 + 1·random 1,1,1,1,1 | not requested (--variants) | |');
    expect(r.stdout).toContain('| L1 + 1·pretrained 1,1,1,1,1 | skipped (no weights supplied) | |');
    const table = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(fs.readdirSync(path.join(out, 'samples'))).toHaveLength(2);
    const e = sr(['eval', '--run', out]);
    expect(e.status).toBe(0);
    const rows = (t: string) => t.split('\n').filter((l) => l.startsWith('| '));
    expect(rows(fs.readFileSync(path.join(out, 'results.md'), 'utf8'))).toEqual(rows(table));
  });
});

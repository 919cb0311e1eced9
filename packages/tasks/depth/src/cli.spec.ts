/**
 * The `depth` command line as a user runs it (a child process through tsx, wasm backend, tiny
 * sizes on nyudv2-mini): flag errors as one line and exit 1, a smoke training run, `eval` with
 * both reductions and `--export` (16-bit PNG in millimetres + PLY point clouds).
 */
import { spawnSync, type SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodePng } from '@gpl/data';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const TSX = path.join(WORKSPACE_ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(WORKSPACE_ROOT, 'packages/tasks/depth/src/main.ts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'depth-cli-'));
const env = { ...process.env, GPL_BACKEND: 'wasm', FORCE_COLOR: '0' };
const TINY = ['--width', '0.125', '--crop', '32', '--batch', '2', '--eval-every', '0', '--eval-limit', '2', '--backend', 'wasm'];

function depth(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(TSX, ['--tsconfig', 'tsconfig.base.json', MAIN, ...args], { cwd: WORKSPACE_ROOT, env, encoding: 'utf8', maxBuffer: 32 * 2 ** 20 });
}

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('depth CLI', () => {
  it('rejects bad input with one line naming the option, exit 1, no stack', () => {
    // The rest of the validation is covered through configFromFlags in config.spec.ts.
    const cases: [string[], string][] = [
      [['--losses', 'vnl'], "[depth] option 'losses': expected 'wce' plus any of vnl, gpl"],
      [['--data-root', path.join(tmp, 'nowhere')], `[depth] option 'dataRoot': no folder at ${path.join(tmp, 'nowhere')}`],
      [['--gpl-input', 'raw'], 'Invalid values'],
    ];
    for (const [args, message] of cases) {
      const r = depth(['train', '--iters', '1', '--out', path.join(tmp, 'bad'), ...args]);
      expect({ args, status: r.status }).toEqual({ args, status: 1 });
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(fs.existsSync(path.join(tmp, 'bad', 'checkpoints'))).toBe(false);
  });

  it('trains (smoke run), then evaluates with both reductions and exports PNG + PLY', () => {
    const out = path.join(tmp, 'smoke');
    const r = depth(['train', '--iters', '2', '--out', out, ...TINY]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('losses: wce + vnl + gpl (VNL weight 6) (GPL λ 0.1 on metric depth)');
    expect(r.stdout).toMatch(/\| abs rel \| \d\.\d{4} \| \d\.\d{4} \|/);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'))).toMatchObject({ losses: ['wce', 'vnl', 'gpl'], vnlWeight: 6, percepLambda: 0.1, gplInput: 'metric', iters: 2 });

    const exportDir = path.join(tmp, 'export');
    const e = depth(['eval', '--checkpoint', out, '--export', exportDir, '--max-depth', '0', '--backend', 'wasm']);
    expect(e.status).toBe(0);
    expect(e.stdout).toContain('| metric | pooled over pixels (VNL) | mean per image (BTS) |');
    expect(e.stdout).toContain('depth cap none');
    expect(e.stdout).toContain('(12 images,');
    const files = fs.readdirSync(exportDir).sort();
    expect(files.filter((f) => f.endsWith('.png')).length).toBe(12);
    expect(files.filter((f) => f.endsWith('.ply')).length).toBe(12);
    const png = decodePng(fs.readFileSync(path.join(exportDir, '00000.png')));
    expect([png.width, png.height, png.channels, png.bitDepth]).toEqual([160, 120, 1, 16]);
    // Millimetres: decoded depth lies in the bins' range, 0.1 m … 17 m.
    const mm = Array.from(png.data as Uint16Array);
    expect(Math.min(...mm)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...mm)).toBeLessThanOrEqual(17000);
    const ply = fs.readFileSync(path.join(exportDir, '00000.ply'), 'utf8').split('\n');
    expect(ply.slice(0, 4)).toEqual(['ply', 'format ascii 1.0', expect.stringContaining('fx 129.714'), 'element vertex 19200']);
    // Pixel (0, 0) back-projects with the NYU toolbox intrinsics at 160×120 (cx 81.3956, cy 63.43405).
    const [x, y, z] = ply[ply.indexOf('end_header') + 1].split(' ').map(Number);
    expect(z).toBeCloseTo(mm[0] / 1000, 2);
    expect(x).toBeCloseTo(((0 - 81.3956) * z) / 129.714475, 2);
    expect(y).toBeCloseTo(((0 - 63.43405) * z) / 129.8674, 2);
  });
});

/**
 * The ablation CLI as processes: two shards started at once on one output root (as the
 * Kubernetes Indexed Job and the Slurm array do on a shared volume), then `merge`, give the table
 * of a single-process run; and bad --table / --shard values end in one line.
 * The cells are the fake executor's (testing/fake-cli.ts); seg-cell.spec.ts runs a real one.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCliMain } from '@gpl/engine';
import { main } from './main';
import { fakeExecutor } from './testing/fake-executor';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const FAKE_CLI = path.join(__dirname, 'testing', 'fake-cli.ts');

function cli(args: readonly string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, ['--tsconfig', 'tsconfig.base.json', FAKE_CLI, ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ablate-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const common = ['--table', '4', '--seeds', '1,2', '--iters', '4', '--soft-labels', 'none'];

/** Runs `main` in this process with the fake executor; returns the exit code and what it printed. */
async function inProcess(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((l: unknown) => void err.push(String(l)));
  try {
    const code = await runCliMain((a) => main(a, { executor: fakeExecutor(), checkSegFlags: false, log: (l) => out.push(l) }), args, {});
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    spy.mockRestore();
  }
}

describe('ablate CLI', () => {
  it('two shard processes on one root, merged, give the single run’s table', async () => {
    const shared = path.join(tmp, 'shared');
    const shards = await Promise.all([0, 1].map((i) => cli([...common, '--out', shared, '--shard', `${i}/2`])));
    for (const s of shards) expect(s).toMatchObject({ code: 0 });
    expect(shards[1].out).toContain('ablate table4: 18 cells (9 settings × 2 seeds) (shard 1/2: 9 of 18 cells)');
    expect(shards[1].out).toMatch(/9\/9 cells done, ETA 0s/);
    const merged = await inProcess(['merge', '--table', '4', '--seeds', '1,2', '--out', path.join(tmp, 'merged'), '--from', shared]);
    expect(merged.code).toBe(0);

    const single = await inProcess([...common, '--out', path.join(tmp, 'single')]);
    expect(single.code).toBe(0);
    const csv = (root: string) => fs.readFileSync(path.join(root, 'table4', 'results.csv'), 'utf8');
    expect(csv(path.join(tmp, 'merged'))).toBe(csv(path.join(tmp, 'single')));
    expect(csv(shared)).not.toContain('not run');

    // Repeating a shard runs nothing.
    const again = await inProcess([...common, '--out', shared, '--shard', '1/2']);
    expect(again.out).toContain('ran 0 cells (0 diverged), 9 already done or skipped');
  });

  it('refuses a bad --table, --shard or --from in one line', async () => {
    const cases: [string[], RegExp][] = [
      [['--table', '5'], /^\[ablate\] option 'table': expected one of 1, 2, 3, 4, levels, lambda, resolution, received '5'\.$/],
      [['--table', '2', '--shard', '3/3'], /^\[ablate\] option 'shard': expected i\/n with 0 ≤ i < n \(shards are 0-based: 0\/4 … 3\/4\), received '3\/3'\.$/],
      [['--table', '2', '--shard', '-1/3'], /^\[ablate\] option 'shard': .*received '-1\/3'\.$/],
      [['--shard', '0/2'], /^Missing required argument: table\. Run with --help for the options\.$/],
      [['merge', '--table', '2', '--from', path.join(tmp, 'absent')], /^\[ablate\] merge --from: .*absent is not a folder; expected output roots holding table2\/\.$/],
    ];
    for (const [args, message] of cases) {
      const r = await inProcess(args);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
    }
  });

  it('refuses GPL cells without soft labels, naming teacher:generate', async () => {
    const r = await inProcess(['--table', '2', '--soft-labels', path.join(tmp, 'no-labels'), '--out', path.join(tmp, 'x')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^\[ablate\] no teacher soft labels at .*no-labels \(manifest\.json\): run `npx nx run teacher:generate` first/);
    expect(r.err.split('\n')).toHaveLength(1);
  });
});

/**
 * The runner on the fake executor, in this process: cells already finished or diverged are not
 * run again, a cell with checkpoints is resumed, one made with other flags is refused, diverged
 * cells are marked and never averaged, 'T' rows run only with weights, and a merge of shards
 * gives the single run's table.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import { TABLES, parseShard } from './grids';
import { runGrid, writeTable, type CellRun, type GridOptions } from './runner';
import { fakeExecutor } from './testing/fake-executor';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ablate-runner-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const quiet = () => undefined;
const grid = (runs: CellRun[], over: Partial<GridOptions> = {}): GridOptions => ({
  table: TABLES['4'],
  seeds: [1, 2],
  shard: parseShard('0/1'),
  out: path.join(tmp, 'out'),
  commonArgs: ['--iters', '4', '--soft-labels', 'none'],
  pretrainedDir: '',
  command: 'npx nx run tools:ablate -- --table 4',
  executor: fakeExecutor(runs),
  log: quiet,
  ...over,
});
const csvRows = (file: string) => parse(fs.readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];

describe('runGrid', () => {
  it('runs every cell once, marks diverged ones, and skips finished and diverged cells on repeat', async () => {
    const runs: CellRun[] = [];
    const first = await runGrid(grid(runs));
    expect(first).toMatchObject({ total: 18, ran: 18, diverged: 4, skipped: 0 });
    const dir = path.join(tmp, 'out', 'table4');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'normal-1-seed1', 'diverged.json'), 'utf8'))).toMatchObject({ step: 3 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'he-seed2', 'cell.json'), 'utf8'))).toMatchObject({ table: '4', setting: 'he', seed: 2, command: 'npx nx run tools:ablate -- --table 4' });
    const rows = Object.fromEntries(csvRows(path.join(dir, 'results.csv')).map((r) => [r.setting, r]));
    expect(rows['normal-1']).toMatchObject({ status: 'diverged', n: '0', mean: '', seed_1: 'diverged', seed_2: 'diverged', paper: 'diverges' });
    expect(rows.he).toMatchObject({ status: 'ok', n: '2', paper: '71.3', step_time_vs_baseline: '1.5000' });
    expect(Number(rows.he.grad_ratio)).toBeGreaterThan(0);
    expect(rows.baseline.grad_ratio).toBe('');
    const md = fs.readFileSync(path.join(dir, 'results.md'), 'utf8');
    expect(md).toContain('| N(0, 1) | diverged | diverges | diverged | diverged |');
    expect(md).toContain('- command: `npx nx run tools:ablate -- --table 4`');
    expect(md).toContain('- backend: fake (test executor)');
    expect(fs.statSync(path.join(dir, 'curves.png')).size).toBeGreaterThan(1000);

    runs.length = 0;
    const again = await runGrid(grid(runs));
    expect(again).toMatchObject({ ran: 0, skipped: 18 });
    expect(runs).toEqual([]);
  });

  it('resumes a cell that holds checkpoints and reports a partly finished row', async () => {
    const cell = path.join(tmp, 'out', 'table4', 'he-seed1');
    fs.mkdirSync(path.join(cell, 'checkpoints', 'step-2'), { recursive: true });
    fs.writeFileSync(path.join(cell, 'checkpoints', 'latest'), 'step-2');
    const runs: CellRun[] = [];
    // One shard of two: he-seed1 is cell 16, he-seed2 (cell 17) is the other shard's.
    await runGrid(grid(runs, { shard: parseShard('0/2') }));
    expect(runs.find((r) => r.cell.name === 'he-seed1')?.resume).toBe(true);
    expect(runs.filter((r) => r.resume)).toHaveLength(1);
    const he = csvRows(path.join(tmp, 'out', 'table4', 'results.csv')).find((r) => r.setting === 'he')!;
    expect(he).toMatchObject({ status: 'partial', n: '1', note: 'not run: seed 2', seed_2: 'not run' });
  });

  it('refuses a cell folder made with other seg flags before running anything', async () => {
    await runGrid(grid([], { seeds: [1] }));
    const runs: CellRun[] = [];
    await expect(runGrid(grid(runs, { seeds: [1], commonArgs: ['--iters', '8', '--soft-labels', 'none'] }))).rejects.toThrow(
      /^\[ablate\] .*baseline-seed1 was made with other seg flags \(--seed 1 --percep none --iters 4 --soft-labels none\), not this command's \(.*--iters 8.*\); give the same flags/,
    );
    expect(runs).toEqual([]);
  });

  it("runs Table 1's T rows only with weights, marking them skipped otherwise", async () => {
    const runs: CellRun[] = [];
    await runGrid(grid(runs, { table: TABLES['1'], seeds: [1] }));
    expect(runs.map((r) => r.cell.name)).not.toContain('vgg16-pretrained-seed1');
    const md = fs.readFileSync(path.join(tmp, 'out', 'table1', 'results.md'), 'utf8');
    expect(md).toContain('| VGG16 (T) | skipped (no weights supplied) | 70.71 | skipped |');

    const weights = path.join(tmp, 'weights');
    fs.mkdirSync(weights);
    fs.writeFileSync(path.join(weights, 'vgg16.safetensors'), '');
    runs.length = 0;
    await runGrid(grid(runs, { table: TABLES['1'], seeds: [1], pretrainedDir: weights }));
    expect(runs.map((r) => r.cell.name)).toEqual(['vgg16-pretrained-seed1']);
    expect(runs[0].segArgs).toEqual(expect.arrayContaining(['--percep', 'vgg16', '--percep-pretrained', path.join(weights, 'vgg16.safetensors')]));
    const row = csvRows(path.join(tmp, 'out', 'table1', 'results.csv')).find((r) => r.setting === 'vgg16-pretrained')!;
    expect(row.status).toBe('ok');
  });

  it('merges shards run into separate roots into the single run’s table', async () => {
    await runGrid(grid([], { out: path.join(tmp, 'single') }));
    for (const i of [0, 1, 2]) await runGrid(grid([], { out: path.join(tmp, `shard${i}`), shard: parseShard(`${i}/3`) }));
    const roots = [0, 1, 2].map((i) => path.join(tmp, `shard${i}`));
    await writeTable({ table: TABLES['4'], seeds: [1, 2], roots: roots.slice(0, 2), out: path.join(tmp, 'two'), pretrainedDir: '' });
    await writeTable({ table: TABLES['4'], seeds: [1, 2], roots, out: path.join(tmp, 'merged'), pretrainedDir: '' });
    const read = (root: string) => fs.readFileSync(path.join(root, 'table4', 'results.csv'), 'utf8');
    expect(read(path.join(tmp, 'merged'))).toBe(read(path.join(tmp, 'single')));
    expect(csvRows(path.join(tmp, 'two', 'table4', 'results.csv')).find((r) => r.setting === 'he')).toMatchObject({ status: 'partial', note: 'not run: seed 2' });
  });
});

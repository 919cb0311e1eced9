/**
 * One real cell end to end: the ablation CLI runs the seg CLI as a child process (2 steps on
 * 64×64 crops, wasm), and the table reads the engine's run folder — final.json, metrics.csv and
 * the backend lines of the log. A repeat finds the cell finished and starts no training.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'csv-parse/sync';
import { main } from './main';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ablate-seg-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a real seg cell', () => {
  it('trains through the seg CLI and lands in the table; a repeat skips it', async () => {
    const out = path.join(tmp, 'out');
    // Table 2 at one seed has 7 cells; shard 1/7 is cell 1, the [1,1,1,1,1] row.
    const args = ['--table', '2', '--seeds', '1', '--shard', '1/7', '--iters', '2', '--batch', '2', '--crop', '64,64', '--soft-labels', 'none', '--backend', 'wasm', '--out', out];
    const lines: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await main(args, { log: (l) => lines.push(l) });
      const cell = path.join(out, 'table2', '1-1-1-1-1-seed1');
      expect(JSON.parse(fs.readFileSync(path.join(cell, 'final.json'), 'utf8'))).toMatchObject({ step: 2 });
      expect(JSON.parse(fs.readFileSync(path.join(cell, 'config.json'), 'utf8'))).toMatchObject({ percep: '1,1,1,1,1', iters: 2, seed: 1, softLabels: '', backend: 'wasm' });
      expect(fs.readFileSync(path.join(cell, 'train.log'), 'utf8')).toMatch(/^backend: wasm/m);
      const rows = parse(fs.readFileSync(path.join(out, 'table2', 'results.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
      const row = rows.find((r) => r.setting === '1-1-1-1-1')!;
      expect(row).toMatchObject({ status: 'ok', n: '1', paper: '70.88' });
      expect(Number(row.mean)).toBeGreaterThanOrEqual(0);
      expect(Number(row.seconds_per_step)).toBeGreaterThan(0);
      expect(rows.find((r) => r.setting === 'baseline')).toMatchObject({ status: 'not run', seed_1: 'not run' });
      const md = fs.readFileSync(path.join(out, 'table2', 'results.md'), 'utf8');
      expect(md).toMatch(/^- backend: wasm/m);
      expect(md).toContain('- a cell runs: `npx tsx --tsconfig tsconfig.base.json packages/tasks/seg/src/main.ts train --seed 1 --percep 1,1,1,1,1');
      expect(lines.join('\n')).toMatch(/1\/1 cells done, ETA 0s/);

      lines.length = 0;
      await main(args, { log: (l) => lines.push(l) });
      expect(lines.join('\n')).toContain('#1 1-1-1-1-1-seed1: finished');
      expect(lines.join('\n')).toContain('ran 0 cells (0 diverged), 1 already done or skipped');
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});

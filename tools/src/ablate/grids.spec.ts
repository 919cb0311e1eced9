/**
 * The grids as data: every table's rows and flags, cell names and order, and sharding (a
 * partition of the cells for any n), with one-line errors for bad --table, --shard and --seeds.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseInitSpec, parseNetworkSpec } from '@gpl/loss';
import { BASELINE, TABLES, TABLE_NAMES, cellsOf, parseSeeds, parseShard, pretrainedWeightsFile, shardCells, tableSpec } from './grids';

const keys = (name: keyof typeof TABLES) => TABLES[name].settings.map((s) => s.key);

describe('ablation grids', () => {
  it('list the rows of the paper, the baseline first', () => {
    expect(keys('1')).toEqual([
      'baseline',
      ...['googlenet', 'alexnet', 'mobilenetv2', 'resnet18', 'vgg16', 'vgg19'].flatMap((f) => [`${f}-random`, `${f}-pretrained`]),
    ]);
    expect(keys('2')).toEqual(['baseline', '1-1-1-1-1', 'vgg11', 'vgg13', 'vgg16', 'vgg19', '3-3-4-4-4']);
    expect(keys('3')).toEqual(['baseline', 'kernel-1', 'kernel-3', 'kernel-5', 'kernel-7']);
    expect(keys('4')).toEqual(['baseline', 'normal-1', 'normal-0.1', 'normal-0.01', 'uniform-1', 'uniform-0.1', 'uniform-0.01', 'xavier', 'he']);
    expect(keys('levels')).toEqual(['baseline', 'final', 'all', 'weighted']);
    expect(keys('lambda')).toEqual(['baseline', 'lambda-0.1', 'lambda-1', 'lambda-10', 'lambda-100', 'sum-lambda-0.1']);
    expect(keys('resolution')).toEqual(['baseline', 'scale-1', 'scale-0.5', 'scale-0.25', 'scale-0.125']);
    for (const name of TABLE_NAMES) expect(TABLES[name].settings[0]).toBe(BASELINE);
  });

  it('give flags that @gpl/loss accepts, and the paper’s numbers', () => {
    for (const name of TABLE_NAMES) {
      for (const s of TABLES[name].settings.slice(1)) {
        expect(() => parseNetworkSpec(String(s.flags.percep))).not.toThrow();
        expect(() => parseInitSpec(String(s.flags['percep-init']))).not.toThrow();
      }
    }
    const t4 = Object.fromEntries(TABLES['4'].settings.map((s) => [s.key, s]));
    expect(t4['normal-1'].flags['percep-init']).toBe('normal:1');
    expect(t4['normal-1'].paper).toBe('diverges');
    expect(t4.he.paper).toBe(71.3);
    const t1 = Object.fromEntries(TABLES['1'].settings.map((s) => [s.key, s]));
    expect(t1['vgg19-random']).toMatchObject({ flags: { percep: 'vgg19' }, paper: 71.25 });
    expect(t1['vgg19-pretrained']).toMatchObject({ flags: { percep: 'vgg19' }, paper: 71.19, pretrained: 'vgg19' });
    expect(t1['vgg19-random'].pretrained).toBeUndefined();
    expect(TABLES['3'].settings.map((s) => s.flags['percep-kernel'])).toEqual([undefined, 1, 3, 5, 7]);
    expect(TABLES.lambda.settings.at(-1)!.flags).toMatchObject({ 'percep-lambda': 0.1, 'percep-reduction': 'sum' });
    expect(TABLES.resolution.settings.map((s) => s.flags['percep-scale'])).toEqual([undefined, 1, 0.5, 0.25, 0.125]);
    expect(BASELINE.flags).toEqual({ percep: 'none' });
  });

  it('name and number cells setting-major, seeds inside', () => {
    const cells = cellsOf(TABLES['2'], [1, 2, 3]);
    expect(cells).toHaveLength(21);
    expect(cells.slice(0, 4).map((c) => c.name)).toEqual(['baseline-seed1', 'baseline-seed2', 'baseline-seed3', '1-1-1-1-1-seed1']);
    expect(cells.map((c) => c.index)).toEqual([...Array(21).keys()]);
    expect(cells[20]).toMatchObject({ table: '2', name: '3-3-4-4-4-seed3', seed: 3 });
  });

  it('shard the cells into a partition for any n', () => {
    const cells = cellsOf(TABLES['1'], [1, 2, 3]);
    for (const n of [1, 2, 3, 4, 7, 39, 50]) {
      const parts = [...Array(n).keys()].map((i) => shardCells(cells, parseShard(`${i}/${n}`)).map((c) => c.name));
      const union = parts.flat();
      expect(union.sort()).toEqual(cells.map((c) => c.name).sort());
      expect(new Set(union).size).toBe(cells.length);
      expect(Math.max(...parts.map((p) => p.length)) - Math.min(...parts.map((p) => p.length))).toBeLessThanOrEqual(1);
    }
  });

  it('refuse bad --table, --shard and --seeds in one line', () => {
    expect(() => tableSpec('5')).toThrow(/^\[ablate\] option 'table': expected one of 1, 2, 3, 4, levels, lambda, resolution, received '5'\.$/);
    for (const bad of ['2/2', '1', '-1/2', 'a/b', '0/0', '1/2/3']) expect(() => parseShard(bad)).toThrow(/^\[ablate\] option 'shard': expected i\/n with 0 ≤ i < n .*received/);
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    expect(() => parseSeeds('1,,2')).toThrow(/option 'seeds'/);
    expect(() => parseSeeds('1,1')).toThrow(/distinct/);
    expect(parseSeeds('4, 5')).toEqual([4, 5]);
  });

  it('find torchvision weights as <preset>.safetensors, else <preset>.pth', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ablate-weights-'));
    try {
      fs.writeFileSync(path.join(dir, 'vgg16.pth'), '');
      expect(pretrainedWeightsFile(dir, 'vgg16')).toBe(path.join(dir, 'vgg16.pth'));
      fs.writeFileSync(path.join(dir, 'vgg16.safetensors'), '');
      expect(pretrainedWeightsFile(dir, 'vgg16')).toBe(path.join(dir, 'vgg16.safetensors'));
      expect(pretrainedWeightsFile(dir, 'vgg19')).toBeUndefined();
      expect(pretrainedWeightsFile('', 'vgg16')).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

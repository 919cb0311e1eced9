/**
 * The ablation grids of the paper (Liu et al., CVPR 2021, Tables 1–4 and Sec. 4.1.2) and of the
 * questions it leaves open (λ and Eq. 3's reduction, the resolution of the loss), as data: a
 * table is a list of settings, each a set of seg flags; a cell is one setting at one seed. Cells
 * are listed setting-major in table order, the baseline first, so an index names the same cell
 * on every machine, which is what sharding relies on.
 */
import * as fs from 'fs';
import * as path from 'path';

export const TABLE_NAMES = ['1', '2', '3', '4', 'levels', 'lambda', 'resolution'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** A flag value of the seg CLI (`--percep-lambda 10`). */
export type FlagValue = string | number;

/** One row of a table: what it changes in the seg run and the paper's number for it. */
export interface Setting {
  /** Folder-safe key, unique in its table ('vgg16', 'normal-0.1'). */
  readonly key: string;
  /** Row label of results.md. */
  readonly label: string;
  /** seg flags (kebab-case, without `--`) over the ablation's common flags. */
  readonly flags: Readonly<Record<string, FlagValue>>;
  /** The paper's mIoU (%) or its verdict ('diverges'); undefined where the paper has no such run. */
  readonly paper?: number | string;
  /**
   * Loss-network preset whose torchvision weights this row needs (Table 1's 'T' rows): the cell
   * runs only when `--percep-pretrained-dir` holds them.
   */
  readonly pretrained?: string;
}

/** A table: caption, what its rows vary, and the rows (the baseline first). */
export interface TableSpec {
  readonly name: TableName;
  /** Folder under `--out` ('table2', 'levels'). */
  readonly folder: string;
  readonly caption: string;
  readonly settings: readonly Setting[];
}

/** The row without a perceptual term, which every table compares against (paper: 69.60). */
export const BASELINE: Setting = Object.freeze({ key: 'baseline', label: 'baseline (cross-entropy only)', flags: Object.freeze({ percep: 'none' }), paper: 69.6 });

// Every GPL row names the paper's defaults it keeps, so a grid does not move when seg's defaults do.
const PAPER = Object.freeze({ percep: '1,1,1,1,1', 'percep-lambda': 0.1, 'percep-kernel': 3, 'percep-init': 'he', 'percep-levels': 'final' });
const gpl = (key: string, label: string, flags: Record<string, FlagValue>, paper?: number | string, pretrained?: string): Setting =>
  Object.freeze({ key, label, flags: Object.freeze({ ...PAPER, ...flags }), ...(paper !== undefined ? { paper } : {}), ...(pretrained ? { pretrained } : {}) });

/** Table 1's families: preset name, label, paper mIoU with random (R) and torchvision (T) weights. */
const FAMILIES: readonly (readonly [string, string, number, number])[] = [
  ['googlenet', 'GoogLeNet', 68.91, 68.9],
  ['alexnet', 'AlexNet', 69.8, 69.87],
  ['mobilenetv2', 'MobileNetV2', 69.98, 70.01],
  ['resnet18', 'ResNet-18', 70.16, 70.14],
  ['vgg16', 'VGG16', 70.68, 70.71],
  ['vgg19', 'VGG19', 71.25, 71.19],
];

const INITS: readonly (readonly [string, string, number | string])[] = [
  ['normal:1', 'N(0, 1)', 'diverges'],
  ['normal:0.1', 'N(0, 0.1)', 45.6],
  ['normal:0.01', 'N(0, 0.01)', 68.5],
  ['uniform:1', 'U[−1, 1]', 'diverges'],
  ['uniform:0.1', 'U[−0.1, 0.1]', 51.7],
  ['uniform:0.01', 'U[−0.01, 0.01]', 69.2],
  ['xavier', 'Xavier-normal', 69.8],
  ['he', 'He-style N(0, √(2/n_l)) (paper)', 71.3],
];

const spec = (name: TableName, folder: string, caption: string, settings: Setting[]): TableSpec => Object.freeze({ name, folder, caption, settings: Object.freeze([BASELINE, ...settings]) });

/** Every table, by name. */
export const TABLES: Readonly<Record<TableName, TableSpec>> = Object.freeze({
  '1': spec('1', 'table1', 'Table 1: loss-network families, random (R) and torchvision ImageNet (T) weights', [
    ...FAMILIES.flatMap(([preset, label, r, t]) => [
      gpl(`${preset}-random`, `${label} (R)`, { percep: preset }, r),
      gpl(`${preset}-pretrained`, `${label} (T)`, { percep: preset }, t, preset),
    ]),
  ]),
  '2': spec('2', 'table2', 'Table 2: structure of the loss network (convolutions per block), random weights', [
    gpl('1-1-1-1-1', '[1,1,1,1,1]', { percep: '1,1,1,1,1' }, 70.88),
    gpl('vgg11', 'VGG11', { percep: 'vgg11' }, 70.18),
    gpl('vgg13', 'VGG13', { percep: 'vgg13' }, 70.64),
    gpl('vgg16', 'VGG16', { percep: 'vgg16' }, 70.68),
    gpl('vgg19', 'VGG19', { percep: 'vgg19' }, 71.25),
    gpl('3-3-4-4-4', '[3,3,4,4,4]', { percep: '3,3,4,4,4' }, 70.89),
  ]),
  '3': spec('3', 'table3', 'Table 3: kernel size of the loss network [1,1,1,1,1]', [
    gpl('kernel-1', 'kernel 1×1', { 'percep-kernel': 1 }, 70.71),
    gpl('kernel-3', 'kernel 3×3', { 'percep-kernel': 3 }, 70.88),
    gpl('kernel-5', 'kernel 5×5', { 'percep-kernel': 5 }, 70.93),
    gpl('kernel-7', 'kernel 7×7', { 'percep-kernel': 7 }, 71.16),
  ]),
  '4': spec('4', 'table4', 'Table 4: initialisation of the loss network [1,1,1,1,1]', INITS.map(([init, label, paper]) => gpl(init.replace(':', '-'), label, { 'percep-init': init }, paper))),
  levels: spec('levels', 'levels', 'Sec. 4.1.2: which levels of the loss network [1,1,1,1,1] enter the loss', [
    gpl('final', 'final layer only', { 'percep-levels': 'final' }, 70.88),
    gpl('all', 'five block outputs, equal weights', { 'percep-levels': 'all' }, 70.73),
    gpl('weighted', 'five block outputs, weights 1/16, 1/8, 1/4, 1/2, 1', { 'percep-levels': 'weighted' }, 70.93),
  ]),
  lambda: spec('lambda', 'lambda', 'Beyond the paper: the weight λ of the GPL term, and Eq. 3’s sum reduction beside Eq. 1’s mean ([1,1,1,1,1])', [
    gpl('lambda-0.1', 'λ 0.1 (paper)', { 'percep-lambda': 0.1 }, 70.88),
    gpl('lambda-1', 'λ 1', { 'percep-lambda': 1 }),
    gpl('lambda-10', 'λ 10', { 'percep-lambda': 10 }),
    gpl('lambda-100', 'λ 100', { 'percep-lambda': 100 }),
    gpl('sum-lambda-0.1', 'λ 0.1, Eq. 3 (sum over the embedding, per sample)', { 'percep-lambda': 0.1, 'percep-reduction': 'sum' }),
  ]),
  resolution: spec('resolution', 'resolution', 'Beyond the paper: the resolution at which prediction and soft labels enter the loss network [1,1,1,1,1]', [
    gpl('scale-1', 'input resolution (paper)', { 'percep-scale': 1 }, 70.88),
    gpl('scale-0.5', '1/2', { 'percep-scale': 0.5 }),
    gpl('scale-0.25', '1/4', { 'percep-scale': 0.25 }),
    gpl('scale-0.125', '1/8 (the output stride of PSPNet)', { 'percep-scale': 0.125 }),
  ]),
});

/** The table named by `--table`; a RangeError of one line for anything else. */
export function tableSpec(name: unknown): TableSpec {
  const t = String(name) as TableName;
  if (!TABLE_NAMES.includes(t)) throw new RangeError(`[ablate] option 'table': expected one of ${TABLE_NAMES.join(', ')}, received '${String(name)}'.`);
  return TABLES[t];
}

/** seg flags that are newer than the grids: a table using one needs a seg CLI that has it. */
export const NEWER_SEG_FLAGS: readonly string[] = Object.freeze(['percep-reduction', 'percep-scale']);

/** One run of a grid. */
export interface Cell {
  /** Position in the table's cell list (stable: the order of TABLES, seeds inside each setting). */
  readonly index: number;
  readonly table: TableName;
  readonly setting: Setting;
  readonly seed: number;
  /** Folder name under the table's folder: `<setting key>-seed<seed>`. */
  readonly name: string;
}

/** The cells of a table: every setting (baseline first) at every seed. */
export function cellsOf(table: TableSpec, seeds: readonly number[]): Cell[] {
  return table.settings.flatMap((setting) => seeds.map((seed) => ({ table: table.name, setting, seed, name: `${setting.key}-seed${seed}` }))).map((c, index) => ({ ...c, index }));
}

/** A shard: this process's part `index` of `count` (0 ≤ index < count). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/**
 * Parses `--shard i/n`, 0-based like teacher:generate's `--shard` and Kubernetes'
 * JOB_COMPLETION_INDEX: shards 0/4, 1/4, 2/4 and 3/4 together run every cell once.
 */
export function parseShard(text: unknown): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(String(text).trim());
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(count >= 1 && index < count)) {
    throw new RangeError(`[ablate] option 'shard': expected i/n with 0 ≤ i < n (shards are 0-based: 0/4 … 3/4), received '${String(text)}'.`);
  }
  return { index, count };
}

/** The cells of a shard: cell k belongs to shard k mod n. */
export function shardCells<T extends { readonly index: number }>(cells: readonly T[], shard: Shard): T[] {
  return cells.filter((c) => c.index % shard.count === shard.index);
}

/** Parses `--seeds 1,2,3`: distinct integers. */
export function parseSeeds(text: unknown): number[] {
  const parts = String(text).split(',').map((s) => (s.trim() === '' ? NaN : Number(s.trim())));
  if (!parts.length || parts.some((s) => !Number.isInteger(s)) || new Set(parts).size !== parts.length) {
    throw new RangeError(`[ablate] option 'seeds': expected distinct integers like 1,2,3, received '${String(text)}'.`);
  }
  return parts;
}

/**
 * The torchvision weights of a preset in `dir`: `<preset>.safetensors`, else `<preset>.pth`
 * (preset names as @gpl/loss spells them: googlenet, alexnet, mobilenetv2, resnet18, vgg16, vgg19);
 * undefined when neither is there or no folder is given.
 */
export function pretrainedWeightsFile(dir: string, preset: string): string | undefined {
  if (!dir) return undefined;
  return ['safetensors', 'pth'].map((ext) => path.join(dir, `${preset}.${ext}`)).find((f) => fs.existsSync(f));
}

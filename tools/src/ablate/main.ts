/**
 * `ablate`: the paper's ablation tables in miniature, one command per table (issue #16).
 *
 *   npx nx run tools:ablate -- --table 2 [--seeds 1,2,3] [--iters 300] [--shard 0/4] [--out runs/ablate]
 *   npx nx run tools:ablate -- merge --table 2 [--from runs/ablate-a --from runs/ablate-b]
 *
 * Every cell is a seg training run (`nx run seg:train` with the table's flags) in
 * `<out>/<table>/<setting>-seed<k>`; see docs/ablations.md.
 */
import * as fs from 'fs';
import * as path from 'path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { backendOption, explicitFlags, failOnUsage, parseBackend, prepareArgs, runCli, runNxTarget, verboseOption } from '@gpl/engine';
import { NEWER_SEG_FLAGS, TABLE_NAMES, cellsOf, parseSeeds, parseShard, shardCells, tableSpec, type TableSpec } from './grids';
import { isFolder, runGrid, writeTable, type CellExecutor } from './runner';
import { WORKSPACE_ROOT, missingSegFlags, segExecutor, shellQuote } from './seg-executor';

/** The folder teacher:generate writes the embedded Cityscapes soft labels to (packages/teacher/project.json). */
export const TEACHER_SOFT_LABELS = 'runs/soft-labels/cityscapes-mini-train';

/** seg flags an ablation passes to every cell when typed; the grid sets the perceptual ones. */
const PASS_THROUGH = [
  ['iters', 'number', 'optimizer steps per cell (seg default 300)'],
  ['batch', 'number', 'images per step (seg default 4)'],
  ['crop', 'string', 'training crop height,width (seg default 128,128)'],
  ['model', 'string', 'student model (seg default pspnet-r18)'],
  ['width', 'number', 'student width multiplier (seg default 0.25)'],
  ['lr', 'number', 'base learning rate (seg default 0.01)'],
  ['eval-every', 'number', 'validate every N steps: the points of curves.png (seg default 50)'],
  ['checkpoint-every', 'number', 'checkpoint every N steps (seg default 50)'],
  ['data-root', 'string', 'dataset folder (seg default datasets/cityscapes-mini)'],
] as const;
/** Passed through but not part of a cell's identity: they do not change what it computes. */
const NEUTRAL = ['backend', 'percep-engine'] as const;

/** A path as the seg child (run from the workspace root) should see it. */
function fromRoot(p: string): string {
  const abs = path.resolve(p);
  const rel = path.relative(WORKSPACE_ROOT, abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

function commonFlags<T>(y: Argv<T>) {
  return y
    .option('table', { type: 'string', requiresArg: true, demandOption: true, describe: `which table: ${TABLE_NAMES.join(', ')}` })
    .option('seeds', { type: 'string', requiresArg: true, default: '1,2,3', describe: 'seeds of every setting' })
    .option('out', { type: 'string', requiresArg: true, default: path.join('runs', 'ablate'), describe: 'root of the table folders' })
    .option('percep-pretrained-dir', { type: 'string', requiresArg: true, default: '', describe: "folder of torchvision weights for Table 1's T rows: <preset>.safetensors or <preset>.pth (vgg16, vgg19, resnet18, alexnet, googlenet, mobilenetv2)" })
    .option('verbose', verboseOption());
}

/** Options of `main`. */
export interface AblateMainOptions {
  /** What runs a cell (default: the seg CLI). */
  readonly executor?: CellExecutor;
  /** Check that seg knows the flags a table needs (default true; the fake executor of tests has no seg). */
  readonly checkSegFlags?: boolean;
  readonly log?: (line: string) => void;
}

/** The exact command, as a user would type it again. */
const commandText = (args: readonly string[]) => `npx nx run tools:ablate -- ${args.map(shellQuote).join(' ')}`.trim();

function checkTable(table: TableSpec, seeds: readonly number[], shardText: string, check: boolean): void {
  if (!check) return;
  const cells = shardCells(cellsOf(table, seeds), parseShard(shardText));
  const needed = NEWER_SEG_FLAGS.filter((f) => cells.some((c) => f in c.setting.flags));
  const missing = missingSegFlags(needed);
  if (missing.length) {
    throw new RangeError(`[ablate] table ${table.name} needs seg's ${missing.map((f) => `--${f}`).join(' and ')}, which this checkout's seg CLI does not have yet; run another table, or update the seg task.`);
  }
}

/** Soft labels every GPL cell trains against: made by --teacher-pipeline, else required to exist. */
function softLabelArgs(argv: Record<string, unknown>, table: TableSpec): string[] {
  const value = String(argv['soft-labels']);
  if (value === 'none') return ['--soft-labels', 'none'];
  const dir = fromRoot(value);
  const manifest = path.join(WORKSPACE_ROOT, dir, 'manifest.json');
  if (!fs.existsSync(manifest) && argv['teacher-pipeline'] && value === TEACHER_SOFT_LABELS && table.settings.some((s) => s.flags.percep !== 'none')) {
    console.log('teacher pipeline: npx nx run teacher:generate (teacher:train first; both cached by Nx)');
    runNxTarget('teacher:generate', { task: 'ablate', flag: '--teacher-pipeline', fix: 'Fix it and run again, or pass --soft-labels none to train on one-hot targets.', workspaceRoot: WORKSPACE_ROOT });
  }
  if (!fs.existsSync(path.isAbsolute(dir) ? path.join(dir, 'manifest.json') : manifest)) {
    throw new RangeError(
      `[ablate] no teacher soft labels at ${dir} (manifest.json): run \`npx nx run teacher:generate\` first (or pass --teacher-pipeline), or --soft-labels none to train on one-hot targets.`,
    );
  }
  return ['--soft-labels', dir];
}

/** The ablation CLI on `argv` (without node and the script). */
export async function main(argv: readonly string[], o: AblateMainOptions = {}): Promise<void> {
  const args = prepareArgs(argv, 'ablate');
  const explicit = explicitFlags(args);
  const log = o.log ?? ((l: string) => console.log(l));
  await yargs(args)
    .scriptName('ablate')
    .command(
      ['run', '$0'],
      'run a table of the paper (or one shard of its cells) and write <out>/<table>/results.md, results.csv and curves.png',
      (y) => {
        let c = commonFlags(y)
          .option('shard', { type: 'string', requiresArg: true, default: '0/1', describe: 'run the cells k with k mod n = i (0 ≤ i < n), e.g. 0/4 … 3/4' })
          .option('soft-labels', { type: 'string', requiresArg: true, default: TEACHER_SOFT_LABELS, describe: "teacher soft labels of the GPL target ('none' = one-hot ground truth)" })
          .option('teacher-pipeline', { type: 'boolean', default: false, describe: 'first make the soft labels (nx run teacher:generate, cached) when they are missing' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'list the cells of this shard and what would run' })
          .option('backend', backendOption())
          .option('percep-engine', { type: 'string', requiresArg: true, choices: ['auto', 'tfjs', 'onnxruntime'], describe: 'what runs the loss network (seg default auto)' });
        for (const [flag, type, describe] of PASS_THROUGH) c = c.option(flag, { type, requiresArg: true, describe }) as typeof c;
        return c;
      },
      async (a) => {
        const table = tableSpec(a.table);
        const seeds = parseSeeds(a.seeds);
        const shard = parseShard(a.shard);
        checkTable(table, seeds, a.shard, o.checkSegFlags !== false && !a['dry-run']);
        const rec = a as unknown as Record<string, unknown>;
        const passed = PASS_THROUGH.filter(([flag]) => explicit.has(flag) && rec[flag] !== undefined).flatMap(([flag]) => [`--${flag}`, flag === 'data-root' ? fromRoot(String(rec[flag])) : String(rec[flag])]);
        const neutral = NEUTRAL.filter((flag) => explicit.has(flag) || (flag === 'backend' && process.env.GPL_BACKEND)).flatMap((flag) => [`--${flag}`, flag === 'backend' ? parseBackend(rec.backend, explicit.has('backend')) : String(rec[flag])]);
        const summary = await runGrid({
          table,
          seeds,
          shard,
          out: a.out,
          commonArgs: [...passed, ...softLabelArgs(rec, table)],
          neutralArgs: neutral,
          pretrainedDir: a['percep-pretrained-dir'] ? fromRoot(a['percep-pretrained-dir']) : '',
          command: commandText(argv),
          executor: o.executor ?? segExecutor(),
          dryRun: a['dry-run'],
          log,
        });
        if (summary.markdown) log(`\n${summary.markdown}`);
        if (summary.files.length) log(`ran ${summary.ran} cells (${summary.diverged} diverged), ${summary.skipped} already done or skipped; ${summary.files.join(', ')}`);
      },
    )
    .command(
      'merge',
      'build a table from the finished cell folders of any set of output roots (shards run elsewhere); missing cells read "not run"',
      (y) => commonFlags(y).option('from', { type: 'string', array: true, requiresArg: true, describe: 'output roots to read, e.g. --from runs/a runs/b (default: --out); the best state of each cell wins' }),
      async (a) => {
        const table = tableSpec(a.table);
        const seeds = parseSeeds(a.seeds);
        const roots = a.from?.length ? a.from : [a.out];
        const absent = roots.filter((r) => !isFolder(r));
        if (absent.length) throw new RangeError(`[ablate] merge --from: ${absent.join(', ')} ${absent.length > 1 ? 'are not folders' : 'is not a folder'}; expected output roots holding ${table.folder}/.`);
        const r = await writeTable({ table, seeds, roots, out: a.out, pretrainedDir: a['percep-pretrained-dir'] ? fromRoot(a['percep-pretrained-dir']) : '' });
        log(r.markdown);
        log(r.files.join(', '));
      },
    )
    .strict()
    .help()
    .fail(failOnUsage)
    .exitProcess(false)
    .parseAsync();
}

if (require.main === module) runCli((a) => main(a), hideBin(process.argv));

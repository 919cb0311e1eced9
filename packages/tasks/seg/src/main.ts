/**
 * The `seg` command line: `train` (default), `eval` and `compare`, on the engine's flags, config
 * merge and error surface. Run it with `npx nx run seg:train -- --iters 50` or
 * `npx tsx --tsconfig tsconfig.base.json packages/tasks/seg/src/main.ts train --help`.
 */
import * as fs from 'fs';
import * as path from 'path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isMiniRoot } from '@gpl/data';
import {
  backendOption,
  explainDataRoot,
  explicitFlags,
  failOnUsage,
  mergeFlags,
  newestRun,
  parseBackend,
  prepareArgs,
  runCli,
  runNxTarget,
  startBackend,
  timestamp,
  trainFlags,
  verboseOption,
} from '@gpl/engine';
import { compare } from './compare';
import { defaultSegConfig, parseCrop, validateSegConfig, type SegConfig } from './config';
import { SEG_DATASET_NAMES, defaultSoftLabelDir, segDataset, type DatasetName } from './datasets';
import { formatClassTable } from './metrics';
import { SEG_MODEL_NAMES } from './models';
import { runEval, type RunEvalOptions } from './run-eval';
import { trainSeg } from './task';

const RUNS = path.join('runs', 'seg');

/** The seg flags beside the engine's. */
function segFlags<T>(y: Argv<T>) {
  const d = defaultSegConfig;
  return trainFlags(y, d)
    .option('dataset', { type: 'string', requiresArg: true, choices: SEG_DATASET_NAMES as unknown as string[], default: d.dataset, describe: 'dataset format' })
    .option('data-root', { type: 'string', requiresArg: true, describe: 'dataset folder (default: the embedded mini dataset)' })
    .option('model', { type: 'string', requiresArg: true, choices: SEG_MODEL_NAMES as string[], default: d.model, describe: 'model registry key' })
    .option('width', { type: 'number', requiresArg: true, default: d.width, describe: 'width multiplier (1 = published model)' })
    .option('crop', { type: 'string', requiresArg: true, default: d.crop.join(','), describe: 'training crop height,width (multiples of 32)' })
    .option('soft-labels', { type: 'string', requiresArg: true, default: d.softLabels, describe: "teacher soft-label folder; 'none' = one-hot ground truth; 'auto' = runs/soft-labels/<dataset>-mini-train if present" })
    .option('percep-scale', { type: 'number', requiresArg: true, default: d.percepScale, describe: 'resolution of the perceptual term as a fraction of the crop: 1, 0.5, 0.25 or 0.125 (block means of softmax and y_t)' })
    .option('pretrained', { type: 'string', requiresArg: true, default: d.pretrained, describe: "encoder weights: an mmseg checkpoint or a .pth/.safetensors state dict of the model's encoder ('' = from scratch)" })
    .option('teacher-pipeline', teacherPipelineOption)
    .option('verbose', verboseOption());
}

/** Options of `configFromFlags`. */
export interface ConfigFromFlagsOptions {
  /**
   * Called once the config is valid, when `--soft-labels auto` is about to look for the embedded
   * dataset's soft labels: a chance to make them first (`--teacher-pipeline`).
   */
  readonly beforeAutoSoftLabels?: (cfg: SegConfig) => void;
}

/** Flags (over --config, over the defaults) → a validated SegConfig. Exported for tests. */
export function configFromFlags(argv: Record<string, unknown>, explicit: ReadonlySet<string> = new Set(Object.keys(argv)), o: ConfigFromFlagsOptions = {}): SegConfig {
  // dataRoot's default depends on the dataset: filled in below.
  const merged = mergeFlags(argv, explicit, { ...defaultSegConfig, dataRoot: '' }, 'seg');
  if (typeof merged.crop === 'string') merged.crop = parseCrop(merged.crop);
  const ds = merged.dataset as DatasetName;
  if (!SEG_DATASET_NAMES.includes(ds)) return validateSegConfig(merged as unknown as SegConfig);
  if (!merged.dataRoot) {
    merged.dataRoot = segDataset(ds).miniRoot ? path.relative(process.cwd(), segDataset(ds).miniRoot!) : '';
    if (!merged.dataRoot) throw new RangeError(`[seg] option 'dataRoot': --dataset ${ds} has no embedded data; pass --data-root <folder>.`);
  }
  if (merged.softLabels === 'none') merged.softLabels = '';
  // 'auto' is resolved once everything else is known to be valid.
  const auto = merged.softLabels === 'auto';
  if (auto) merged.softLabels = '';
  if (!merged.out) {
    merged.out = merged.resume ? newestRun(RUNS) ?? '' : path.join(RUNS, `${ds}-${String(merged.model)}-${timestamp()}`);
    if (!merged.out) throw new RangeError(`[seg] --resume: no run with checkpoints under ${RUNS}; pass --out <run folder>.`);
  }
  merged.backend = parseBackend(merged.backend, explicit.has('backend'));
  const cfg = validateSegConfig(merged as unknown as SegConfig);
  if (!auto || !isMiniRoot(segDataset(ds), cfg.dataRoot)) return cfg;
  o.beforeAutoSoftLabels?.(cfg);
  const dir = defaultSoftLabelDir(ds);
  return fs.existsSync(path.join(dir, 'manifest.json')) ? { ...cfg, softLabels: dir } : cfg;
}

const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/**
 * `--teacher-pipeline` (what `nx run seg:train` and `seg:compare` pass): brings the teacher's soft
 * labels of the embedded Cityscapes dataset up to date through Nx — teacher:train, then
 * teacher:generate, each restored from Nx's cache when its inputs are unchanged — streaming their
 * progress and metrics. It runs after the flags are checked, so --help and a bad flag answer at once.
 */
function runTeacherPipeline(cfg: SegConfig): void {
  if (cfg.dataset !== 'cityscapes' || cfg.percep === 'none') return;
  console.log('teacher pipeline: npx nx run teacher:generate (teacher:train first; both cached by Nx)');
  runNxTarget('teacher:generate', {
    task: 'seg',
    flag: '--teacher-pipeline',
    fix: 'Fix it and run again, or pass --soft-labels none to train on one-hot targets.',
    workspaceRoot: WORKSPACE_ROOT,
  });
}

/** `--teacher-pipeline`, for train and compare. */
const teacherPipelineOption = {
  type: 'boolean' as const,
  default: false,
  describe: 'first bring the teacher soft labels of the embedded dataset up to date (nx run teacher:generate, cached), as nx run seg:train does',
};

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

async function trainCommand(argv: Record<string, unknown>, args: readonly string[]): Promise<void> {
  const cfg = configFromFlags(argv, explicitFlags(args), argv['teacher-pipeline'] ? { beforeAutoSoftLabels: runTeacherPipeline } : {});
  await startBackend(cfg.backend);
  console.log(`config: ${JSON.stringify(cfg)}`);
  if (!cfg.softLabels && cfg.percep !== 'none') console.log('GPL target y_t: one-hot ground truth (no teacher soft labels)');
  const started = Date.now();
  const r = await trainSeg(cfg).catch((e: unknown) => {
    throw explainDataRoot(e, cfg.dataset, SEG_DATASET_NAMES);
  });
  if (r.final) {
    console.log(formatClassTable(r.final, r.info.classNames));
    console.log(`val mIoU ${pct(r.final.mIoU)}  pixel accuracy ${pct(r.final.pixelAccuracy)}  (${r.step} steps, ${((Date.now() - started) / 1000).toFixed(0)} s, ${r.secondsPerStep.toFixed(2)} s/step)`);
  }
  console.log(`run folder: ${path.relative(process.cwd(), r.runDir) || r.runDir}`);
}

/** The seg CLI on `argv` (without node and the script); `runCli` turns its errors into exit codes. */
export async function main(argv: readonly string[]): Promise<void> {
  const args = prepareArgs(argv, 'seg');
  await yargs(args)
    .scriptName('seg')
    .command(['train', '$0'], 'train a segmentation model (paper Eq. 2: CE + λ·GPL against teacher soft labels)', (y) => segFlags(y), (argv) => trainCommand(argv, args))
    .command(
      'eval',
      'evaluate a checkpoint: mIoU, per-class IoU, pixel accuracy (whole image and sliding window)',
      (y) =>
        y
          .option('checkpoint', { type: 'string', requiresArg: true, describe: 'run folder, its checkpoints/ folder, a step-* folder or a latest/best pointer (default: the newest run under runs/seg)' })
          .option('dataset', { type: 'string', requiresArg: true, choices: SEG_DATASET_NAMES as unknown as string[], describe: "dataset format (default: the checkpoint's)" })
          .option('data-root', { type: 'string', requiresArg: true, describe: "dataset folder (default: the run's, else the embedded mini dataset)" })
          .option('split', { type: 'string', requiresArg: true, default: 'val', describe: 'split to evaluate' })
          .option('mode', { type: 'string', requiresArg: true, choices: ['whole', 'slide', 'both'], default: 'both', describe: 'inference mode' })
          .option('crop', { type: 'string', requiresArg: true, describe: "sliding-window size height,width (default: the run's training crop)" })
          .option('stride', { type: 'string', requiresArg: true, describe: 'sliding-window step height,width (default: 2/3 of the crop)' })
          .option('overlays', { type: 'number', requiresArg: true, default: 0, describe: 'draw this many samples (image / ground truth / prediction) to <run>/eval-samples' })
          .option('export', { type: 'string', requiresArg: true, describe: 'write every prediction as a palette PNG of class indices to <dir>/<mode>/<id>.png' })
          .option('backend', backendOption())
          .option('verbose', verboseOption()),
      async (argv) => {
        const options: RunEvalOptions = {
          checkpoint: argv.checkpoint ?? newestRun(RUNS) ?? '',
          dataset: argv.dataset as DatasetName | undefined,
          dataRoot: argv['data-root'],
          split: argv.split,
          mode: argv.mode as 'whole' | 'slide' | 'both',
          crop: argv.crop ? parseCrop(argv.crop) : undefined,
          stride: argv.stride ? parseCrop(argv.stride, 'stride') : undefined,
          overlays: argv.overlays,
          ...(argv.export ? { export: argv.export } : {}),
        };
        await startBackend(parseBackend(argv.backend, explicitFlags(args).has('backend')));
        await runEval(options);
      },
    )
    .command(
      'compare',
      'baseline vs +GPL over several seeds: Markdown table (mean ± std) and a plot of mIoU and pixel accuracy against iterations',
      (y) => segFlags(y).option('seeds', { type: 'string', requiresArg: true, default: '1,2,3', describe: 'comma-separated seeds' }).default('iters', 100).default('eval-every', 20),
      async (argv) => {
        const seeds = String(argv.seeds).split(',').map((s) => (s.trim() === '' ? NaN : Number(s.trim())));
        if (!seeds.length || seeds.some((s) => !Number.isInteger(s))) throw new RangeError(`[seg] option 'seeds': expected integers like 1,2,3, received '${argv.seeds}'.`);
        const flags: Record<string, unknown> = { ...argv };
        if (!flags.out) flags.out = path.join('runs', 'compare', timestamp());
        const cfg = configFromFlags(flags, explicitFlags(args), argv['teacher-pipeline'] ? { beforeAutoSoftLabels: runTeacherPipeline } : {});
        if (cfg.percep === 'none') throw new RangeError('[seg] compare: --percep none leaves nothing to compare; give a loss network (e.g. 1,1,1,1,1 or vgg16).');
        await startBackend(cfg.backend);
        const r = await compare(cfg, seeds).catch((e: unknown) => {
          throw explainDataRoot(e, cfg.dataset, SEG_DATASET_NAMES);
        });
        console.log(r.markdown);
        console.log(`table: ${r.tableFile}\nplot: ${r.plotFile}`);
      },
    )
    .strict()
    .help()
    .fail(failOnUsage)
    // --help and --version return instead of ending the process, so tests run the CLI in-process.
    .exitProcess(false)
    .parseAsync();
}

if (require.main === module) runCli(main, hideBin(process.argv));

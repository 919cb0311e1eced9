/**
 * The `seg` command line: `train` (default), `eval` and `compare`. Flags (and `--config
 * file.json`) are merged over `defaultSegConfig`, validated, logged and saved as the run's
 * config.json. Run it with `npx nx run seg:train -- --iters 50` or
 * `npx tsx --tsconfig tsconfig.base.json packages/tasks/seg/src/main.ts train --help`.
 */
import * as fs from 'fs';
import * as path from 'path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatBackendReport, initBackend, parseBackendPreference } from '@gpl/core';
import { BACKENDS, DATASETS, PERCEP_LEVELS, defaultSegConfig, parseCrop, validateSegConfig, type DatasetName, type SegConfig } from './config';
import { MINI_ROOTS, isMiniRoot } from './data';
import { compare } from './compare';
import { runEval } from './run-eval';
import { SEG_MODEL_NAMES } from './models';
import { NonFiniteLossError, train } from './train';
import { formatClassTable } from './metrics';

/** Folder teacher:generate writes for the embedded dataset of `dataset`. */
export function defaultSoftLabelDir(dataset: DatasetName): string {
  return path.join('runs', 'soft-labels', `${dataset}-mini-train`);
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** The newest run folder under `root` that has checkpoints (for --resume / eval without a path). */
export function latestRun(root: string): string | undefined {
  if (!fs.existsSync(root)) return undefined;
  const runs = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, 'checkpoints', 'latest')))
    .map((e) => ({ dir: path.join(root, e.name), t: fs.statSync(path.join(root, e.name, 'checkpoints', 'latest')).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  return runs[0]?.dir;
}

/** Options shared by `train` and `compare`. */
function trainFlags<T>(y: Argv<T>) {
  const d = defaultSegConfig;
  return y
    .option('config', { type: 'string', describe: 'JSON file of options (flags override it)' })
    .option('dataset', { type: 'string', choices: DATASETS as unknown as string[], default: d.dataset, describe: 'dataset format' })
    .option('data-root', { type: 'string', describe: 'dataset folder (default: the embedded mini dataset)' })
    .option('model', { type: 'string', choices: SEG_MODEL_NAMES as string[], default: d.model, describe: 'model registry key' })
    .option('width', { type: 'number', default: d.width, describe: 'width multiplier (1 = published model)' })
    .option('crop', { type: 'string', default: d.crop.join(','), describe: 'training crop height,width (multiples of 32)' })
    .option('batch', { type: 'number', default: d.batch, describe: 'images per step' })
    .option('iters', { type: 'number', default: d.iters, describe: 'optimizer steps' })
    .option('lr', { type: 'number', default: d.lr, describe: 'base learning rate' })
    .option('poly-power', { type: 'number', default: d.polyPower, describe: 'poly decay power' })
    .option('momentum', { type: 'number', default: d.momentum, describe: 'SGD momentum' })
    .option('weight-decay', { type: 'number', default: d.weightDecay, describe: 'L2 weight decay on kernels' })
    .option('seed', { type: 'number', default: d.seed, describe: 'seed of weights, data order, augmentation, dropout' })
    .option('percep', { type: 'string', default: d.percep, describe: "perceptual loss network: none, a preset (vgg16, vgg19, resnet18, …) or convolutions per block (1,1,1,1,1)" })
    .option('percep-lambda', { type: 'number', default: d.percepLambda, describe: 'λ of Eq. 2' })
    .option('percep-kernel', { type: 'number', default: d.percepKernel, describe: 'loss-network kernel size (1, 3, 5, 7)' })
    .option('percep-init', { type: 'string', default: d.percepInit, describe: "loss-network init: he, xavier, normal:<σ>, uniform:<a>" })
    .option('percep-levels', { type: 'string', choices: PERCEP_LEVELS as unknown as string[], default: d.percepLevels, describe: 'final layer, all blocks, or 1/16…1 weights' })
    .option('soft-labels', { type: 'string', default: d.softLabels, describe: "teacher soft-label folder; 'none' = one-hot ground truth; 'auto' = runs/soft-labels/<dataset>-mini-train if present" })
    .option('eval-every', { type: 'number', default: d.evalEvery, describe: 'validate every N steps (0: only at the end)' })
    .option('checkpoint-every', { type: 'number', default: d.checkpointEvery, describe: 'checkpoint every N steps (besides evaluations and the end)' })
    .option('resume', { type: 'boolean', default: d.resume, describe: 'continue the run in --out (default: the newest run) from its last checkpoint' })
    .option('out', { type: 'string', default: d.out, describe: 'run folder (default runs/seg/<dataset>-<model>-<time>)' })
    .option('backend', { type: 'string', choices: BACKENDS as unknown as string[], default: process.env.GPL_BACKEND ?? d.backend, describe: 'TensorFlow.js backend' });
}

type Flags = Record<string, unknown>;

/** Flags (over --config, over the defaults) → a validated SegConfig. Exported for tests. */
export function configFromFlags(argv: Flags, explicit: ReadonlySet<string> = new Set(Object.keys(argv))): SegConfig {
  // dataRoot's default depends on the dataset: filled in below.
  let base: Record<string, unknown> = { ...defaultSegConfig, dataRoot: '' };
  if (typeof argv.config === 'string') {
    let fileCfg: Record<string, unknown>;
    try {
      fileCfg = JSON.parse(fs.readFileSync(argv.config, 'utf8'));
    } catch (e) {
      throw new RangeError(`[seg] --config ${argv.config}: ${(e as Error).message}`);
    }
    const unknown = Object.keys(fileCfg).filter((k) => !(k in defaultSegConfig));
    if (unknown.length) throw new RangeError(`[seg] --config ${argv.config}: unknown option(s) ${unknown.join(', ')}; expected keys of SegConfig (${Object.keys(defaultSegConfig).join(', ')}).`);
    base = { ...base, ...fileCfg };
  }
  const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const merged: Record<string, unknown> = { ...base };
  for (const key of Object.keys(defaultSegConfig)) {
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    // A flag wins over --config only when given (yargs fills in defaults for the others).
    if (argv[flag] !== undefined && (explicit.has(flag) || explicit.has(key) || typeof argv.config !== 'string')) merged[camel(flag)] = argv[flag];
  }
  if (typeof merged.crop === 'string') merged.crop = parseCrop(merged.crop);
  if (merged.dataRoot === undefined || merged.dataRoot === '') {
    const ds = merged.dataset as DatasetName;
    merged.dataRoot = MINI_ROOTS[ds] ?? '';
    if (!merged.dataRoot) throw new RangeError(`[seg] option 'dataRoot': --dataset ${ds} has no embedded data; pass --data-root <folder>.`);
  }
  if (merged.softLabels === 'none') merged.softLabels = '';
  if (merged.softLabels === 'auto') {
    const ds = merged.dataset as DatasetName;
    const dir = defaultSoftLabelDir(ds);
    const mini = isMiniRoot(ds, merged.dataRoot as string);
    merged.softLabels = mini && fs.existsSync(path.join(dir, 'manifest.json')) ? dir : '';
  }
  if (!merged.out) {
    merged.out = merged.resume
      ? latestRun(path.join('runs', 'seg')) ?? ''
      : path.join('runs', 'seg', `${merged.dataset}-${merged.model}-${timestamp()}`);
    if (!merged.out) throw new RangeError("[seg] --resume: no run with checkpoints under runs/seg; pass --out <run folder>.");
  }
  parseBackendPreference(merged.backend as string, '--backend');
  return validateSegConfig(merged as unknown as SegConfig);
}

function explicitFlags(args: readonly string[]): Set<string> {
  return new Set(args.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0].replace(/^no-/, '')));
}

function pct(v: number): string {
  return `${(100 * v).toFixed(2)}%`;
}

async function trainCommand(argv: Flags, args: readonly string[]): Promise<void> {
  const cfg = configFromFlags(argv, explicitFlags(args));
  const report = await initBackend({ prefer: cfg.backend });
  console.log(`backend: ${formatBackendReport(report)}`);
  console.log(`config: ${JSON.stringify(cfg)}`);
  if (!cfg.softLabels && cfg.percep !== 'none') console.log('GPL target y_t: one-hot ground truth (no teacher soft labels)');
  const started = Date.now();
  const r = await train(cfg);
  if (r.final) {
    console.log(formatClassTable(r.final, r.classNames));
    console.log(`val mIoU ${pct(r.final.mIoU)}  pixel accuracy ${pct(r.final.pixelAccuracy)}  (${r.step} steps, ${((Date.now() - started) / 1000).toFixed(0)} s, ${r.secondsPerStep.toFixed(2)} s/step)`);
  }
  console.log(`run folder: ${path.relative(process.cwd(), r.runDir) || r.runDir}`);
}

async function main(): Promise<void> {
  const args = hideBin(process.argv);
  await yargs(args)
    .scriptName('seg')
    .command(
      ['train', '$0'],
      'train a segmentation model (paper Eq. 2: CE + λ·GPL against teacher soft labels)',
      (y) => trainFlags(y),
      async (argv) => trainCommand(argv as Flags, args),
    )
    .command(
      'eval',
      'evaluate a checkpoint: mIoU, per-class IoU, pixel accuracy (whole image and sliding window)',
      (y) =>
        y
          .option('checkpoint', { type: 'string', describe: 'run folder, its checkpoints/ folder or a step-* folder (default: the newest run under runs/seg)' })
          .option('dataset', { type: 'string', choices: DATASETS as unknown as string[], describe: "dataset format (default: the checkpoint's)" })
          .option('data-root', { type: 'string', describe: 'dataset folder (default: the run\'s, else the embedded mini dataset)' })
          .option('split', { type: 'string', default: 'val', describe: 'split to evaluate' })
          .option('mode', { type: 'string', choices: ['whole', 'slide', 'both'], default: 'both', describe: 'inference mode' })
          .option('crop', { type: 'string', describe: "sliding-window size height,width (default: the run's training crop)" })
          .option('stride', { type: 'string', describe: 'sliding-window step height,width (default: 2/3 of the crop)' })
          .option('overlays', { type: 'number', default: 0, describe: 'write this many prediction overlays to <checkpoint run>/eval-samples' })
          .option('backend', { type: 'string', choices: BACKENDS as unknown as string[], default: process.env.GPL_BACKEND ?? 'auto', describe: 'TensorFlow.js backend' }),
      async (argv) => {
        const report = await initBackend({ prefer: parseBackendPreference(argv.backend, '--backend') });
        console.log(`backend: ${formatBackendReport(report)}`);
        await runEval({
          checkpoint: argv.checkpoint ?? latestRun(path.join('runs', 'seg')) ?? '',
          dataset: argv.dataset as DatasetName | undefined,
          dataRoot: argv['data-root'],
          split: argv.split,
          mode: argv.mode as 'whole' | 'slide' | 'both',
          crop: argv.crop ? parseCrop(argv.crop) : undefined,
          stride: argv.stride ? parseCrop(argv.stride) : undefined,
          overlays: argv.overlays,
        });
      },
    )
    .command(
      'compare',
      'baseline vs +GPL over several seeds: Markdown table (mean ± std) and a plot of mIoU and pixel accuracy against iterations',
      (y) =>
        trainFlags(y)
          .option('seeds', { type: 'string', default: '1,2,3', describe: 'comma-separated seeds' })
          .default('iters', 100)
          .default('eval-every', 20),
      async (argv) => {
        const seeds = String(argv.seeds).split(',').map((s) => Number(s.trim()));
        if (!seeds.length || seeds.some((s) => !Number.isInteger(s))) throw new RangeError(`[seg] option 'seeds': expected integers like 1,2,3, received '${argv.seeds}'.`);
        const flags = { ...(argv as Flags) };
        if (!flags.out) flags.out = path.join('runs', 'compare', timestamp());
        const cfg = configFromFlags(flags, explicitFlags(args));
        if (cfg.percep === 'none') throw new RangeError("[seg] compare: --percep none leaves nothing to compare; give a loss network (e.g. 1,1,1,1,1 or vgg16).");
        const report = await initBackend({ prefer: cfg.backend });
        console.log(`backend: ${formatBackendReport(report)}`);
        const r = await compare(cfg, seeds);
        console.log(r.markdown);
        console.log(`table: ${r.tableFile}\nplot: ${r.plotFile}`);
      },
    )
    .strict()
    .help()
    .fail((msg, err) => {
      if (err) throw err;
      console.error(`${msg}\n\nRun with --help for the options.`);
      process.exit(1);
    })
    .parseAsync();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    const e = err as Error;
    console.error(e instanceof NonFiniteLossError || e instanceof RangeError || e instanceof TypeError ? e.message : e?.stack ?? String(err));
    process.exit(e instanceof NonFiniteLossError ? 3 : 1);
  });
}

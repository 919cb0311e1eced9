/**
 * The `depth` command line: `train` (default), `eval` and `compare`, on the engine's flags,
 * config merge and error surface. Run it with `npx nx run depth:train -- --iters 50` or
 * `npx tsx --tsconfig tsconfig.base.json packages/tasks/depth/src/main.ts train --help`.
 */
import * as fs from 'fs';
import * as path from 'path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { backendOption, explicitFlags, failOnUsage, mergeFlags, newestRun, parseBackend, prepareArgs, runCli, startBackend, timestamp, trainFlags, verboseOption } from '@gpl/engine';
import { TABLE7_NAMES, compareDepth } from './compare';
import { defaultDepthConfig, parseLosses, validateDepthConfig, type DepthConfig } from './config';
import { DEPTH_DATASET_NAMES, depthDataset } from './datasets';
import { GPL_INPUTS } from './losses';
import { formatDepthTable } from './metrics';
import { runDepthEval } from './run-eval';
import { trainDepth } from './task';

const RUNS = path.join('runs', 'depth');

/** The depth flags beside the engine's. */
function depthFlags<T>(y: Argv<T>) {
  const d = defaultDepthConfig;
  return trainFlags(y, d)
    .option('dataset', { type: 'string', requiresArg: true, choices: DEPTH_DATASET_NAMES as unknown as string[], default: d.dataset, describe: 'dataset format (nyudv2 CSV index, or a custom folder with "task": "depth")' })
    .option('data-root', { type: 'string', requiresArg: true, describe: 'dataset folder (default: the embedded nyudv2-mini)' })
    .option('losses', { type: 'string', requiresArg: true, default: d.losses.join(','), describe: 'loss terms (Table 7): wce | wce,gpl | wce,vnl | wce,vnl,gpl' })
    .option('vnl-weight', { type: 'number', requiresArg: true, default: d.vnlWeight, describe: 'weight of the virtual normal loss (VNL: 6)' })
    .option('gpl-input', { type: 'string', requiresArg: true, choices: GPL_INPUTS as unknown as string[], default: d.gplInput, describe: "depth representation the GPL loss network sees (metric = metres/10 as VNL's unit)" })
    .option('width', { type: 'number', requiresArg: true, default: d.width, describe: 'width multiplier of ResNet-50 and decoder (1 = full size)' })
    .option('output-stride', { type: 'number', choices: [8, 16, 32], default: d.outputStride, describe: 'encoder output stride (VNL: 16)' })
    .option('crop', { type: 'number', requiresArg: true, default: d.crop, describe: 'square training crop side, multiple of 32 (0 = the dataset recipe: 96 on nyudv2-mini)' })
    .option('max-depth', { type: 'number', requiresArg: true, default: d.maxDepth, describe: 'evaluation depth cap in metres (BTS 10; 0 = none, as VNL)' })
    .option('eval-limit', { type: 'number', requiresArg: true, default: d.evalLimit, describe: 'evaluate on the first n validation images only (0 = all)' })
    .option('pretrained', { type: 'string', requiresArg: true, default: d.pretrained, describe: "ResNet-50 encoder weights: torchvision .pth, timm .safetensors or an mmseg/mmdet checkpoint ('' = from scratch)" })
    .option('verbose', verboseOption());
}

/** Flags (over --config, over the defaults) → a validated DepthConfig. Exported for tests. */
export function configFromFlags(argv: Record<string, unknown>, explicit: ReadonlySet<string> = new Set(Object.keys(argv))): DepthConfig {
  const merged = mergeFlags(argv, explicit, { ...defaultDepthConfig, dataRoot: '' }, 'depth');
  merged.losses = parseLosses(merged.losses);
  const ds = String(merged.dataset);
  if (!(DEPTH_DATASET_NAMES as readonly string[]).includes(ds)) return validateDepthConfig(merged as unknown as DepthConfig);
  if (!merged.dataRoot) {
    const mini = depthDataset(ds).miniRoot;
    if (!mini) throw new RangeError(`[depth] option 'dataRoot': --dataset ${ds} has no embedded data; pass --data-root <folder>.`);
    merged.dataRoot = path.relative(process.cwd(), mini);
  }
  if (!fs.existsSync(String(merged.dataRoot))) throw new RangeError(`[depth] option 'dataRoot': no folder at ${String(merged.dataRoot)}; expected a ${ds} dataset root.`);
  // Without the gpl term the run builds no loss network (and says so in config.json).
  if (!(merged.losses as string[]).includes('gpl')) merged.percep = 'none';
  if (!merged.out) {
    merged.out = merged.resume ? newestRun(RUNS) ?? '' : path.join(RUNS, `${ds}-${(merged.losses as string[]).join('-')}-${timestamp()}`);
    if (!merged.out) throw new RangeError(`[depth] --resume: no run with checkpoints under ${RUNS}; pass --out <run folder>.`);
  }
  merged.backend = parseBackend(merged.backend, explicit.has('backend'));
  return validateDepthConfig(merged as unknown as DepthConfig);
}

async function trainCommand(argv: Record<string, unknown>, args: readonly string[]): Promise<void> {
  const cfg = configFromFlags(argv, explicitFlags(args));
  await startBackend(cfg.backend);
  console.log(`config: ${JSON.stringify(cfg)}`);
  const started = Date.now();
  const r = await trainDepth(cfg);
  if (r.final) {
    console.log(formatDepthTable(r.final));
    console.log(`val abs rel ${r.final.pooled.absRel.toFixed(4)} pooled, ${r.final.perImage.absRel.toFixed(4)} per image (${r.step} steps, ${((Date.now() - started) / 1000).toFixed(0)} s, ${r.secondsPerStep.toFixed(2)} s/step)`);
  }
  console.log(`run folder: ${path.relative(process.cwd(), r.runDir) || r.runDir}`);
}

function parseList(value: unknown, option: string, check: (s: string) => boolean, expected: string): string[] {
  const parts = String(value).split(',').map((s) => s.trim()).filter(Boolean);
  if (!parts.length || parts.some((p) => !check(p))) throw new RangeError(`[depth] option '${option}': expected ${expected}, received '${String(value)}'.`);
  return parts;
}

export async function main(argv0: readonly string[]): Promise<void> {
  const args = prepareArgs(argv0, 'depth');
  await yargs(args)
    .scriptName('depth')
    .command(['train', '$0'], 'train a monocular depth model (WCE over log-depth bins [+ virtual normal loss] [+ λ·GPL])', (y) => depthFlags(y), (argv) => trainCommand(argv, args))
    .command(
      'eval',
      'evaluate a checkpoint on the Eigen crop: abs rel, sq rel, rms, rms log, log10, δ1–3, SILog, pooled (VNL) and per image (BTS)',
      (y) =>
        y
          .option('checkpoint', { type: 'string', requiresArg: true, describe: 'run folder, its checkpoints/ folder, a step-* folder or a latest/best pointer (default: the newest run under runs/depth)' })
          .option('dataset', { type: 'string', requiresArg: true, choices: DEPTH_DATASET_NAMES as unknown as string[], describe: "dataset format (default: the checkpoint's)" })
          .option('data-root', { type: 'string', requiresArg: true, describe: "dataset folder (default: the run's, else the embedded mini dataset)" })
          .option('split', { type: 'string', requiresArg: true, default: 'val', describe: 'split to evaluate (val = NYU test)' })
          .option('max-depth', { type: 'number', requiresArg: true, describe: "depth cap in metres (default: the run's, 10 as BTS; 0 = none, as VNL)" })
          .option('overlays', { type: 'number', requiresArg: true, default: 0, describe: 'draw this many samples (image / ground truth / prediction) to <run>/eval-samples' })
          .option('export', { type: 'string', requiresArg: true, describe: 'write every prediction to <dir>/<id>.png (16-bit millimetres) and <dir>/<id>.ply (point cloud)' })
          .option('backend', backendOption())
          .option('verbose', verboseOption()),
      async (argv) => {
        const maxDepth = argv['max-depth'];
        if (maxDepth !== undefined && !(Number.isFinite(maxDepth) && maxDepth >= 0)) throw new RangeError(`[depth] option 'max-depth': expected a cap in metres ≥ 0 (0 = none), received ${String(maxDepth)}.`);
        await startBackend(parseBackend(argv.backend, explicitFlags(args).has('backend')));
        await runDepthEval({
          checkpoint: argv.checkpoint ?? newestRun(RUNS) ?? '',
          ...(argv.dataset ? { dataset: argv.dataset } : {}),
          ...(argv['data-root'] ? { dataRoot: argv['data-root'] } : {}),
          split: argv.split,
          ...(maxDepth !== undefined ? { maxDepth } : {}),
          overlays: argv.overlays,
          ...(argv.export ? { export: argv.export } : {}),
        });
      },
    )
    .command(
      'compare',
      "Table 7's four loss configurations over several seeds: Markdown table (mean ± std of abs rel) and curves",
      (y) =>
        depthFlags(y)
          .option('seeds', { type: 'string', requiresArg: true, default: '1,2,3', describe: 'comma-separated seeds' })
          .option('variants', { type: 'string', requiresArg: true, default: TABLE7_NAMES.join(','), describe: `which configurations (${TABLE7_NAMES.join(', ')})` }),
      async (argv) => {
        const seeds = parseList(argv.seeds, 'seeds', (s) => Number.isInteger(Number(s)), 'integers like 1,2,3').map(Number);
        const variants = parseList(argv.variants, 'variants', (s) => TABLE7_NAMES.includes(s), `some of ${TABLE7_NAMES.join(', ')}`);
        const flags: Record<string, unknown> = { ...argv, losses: 'wce,vnl,gpl' };
        if (!flags.out) flags.out = path.join('runs', 'depth-compare', timestamp());
        const cfg = configFromFlags(flags, explicitFlags(args));
        await startBackend(cfg.backend);
        const r = await compareDepth({ ...cfg, percep: typeof argv.percep === 'string' ? argv.percep : cfg.percep }, seeds, variants);
        console.log(r.markdown);
        console.log(`table: ${r.tableFile}\nplot: ${r.plotFile}`);
      },
    )
    .strict()
    .help()
    .fail(failOnUsage)
    .parseAsync();
}

if (require.main === module) runCli(main, hideBin(process.argv));

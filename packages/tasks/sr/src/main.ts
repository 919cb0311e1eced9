/**
 * The `sr` command line: `train` (default) trains the pilot's variants and writes the PSNR/SSIM
 * table and side-by-side PNGs; `eval` re-measures a run from its checkpoints. Run it with
 * `npx nx run sr:train -- --iters 100` or
 * `npx tsx --tsconfig tsconfig.base.json packages/tasks/sr/src/main.ts train --help`.
 */
import * as fs from 'fs';
import * as path from 'path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatDuration } from '@gpl/core';
import { backendOption, explicitFlags, failOnUsage, mergeFlags, parseBackend, perceptualFlags, prepareArgs, runCli, startBackend, timestamp, verboseOption } from '@gpl/engine';
import { defaultSrConfig, validateSrConfig, type SrConfig } from './config';
import { SR_VARIANTS } from './losses';
import { evalSr } from './run-eval';
import { trainSr } from './train';

const RUNS = path.join('runs', 'sr');

function srFlags<T>(y: Argv<T>) {
  const d = defaultSrConfig;
  // --percep* as every task declares them; `percep` names a VGG preset here (or blocks, random variant only).
  return perceptualFlags(y, d)
    .option('config', { type: 'string', requiresArg: true, describe: 'JSON file of options (flags override it)' })
    .option('variants', { type: 'string', requiresArg: true, default: d.variants.join(','), describe: `variants to train (${SR_VARIANTS.join(', ')}); pretrained-vgg runs only with --percep-pretrained` })
    .option('iters', { type: 'number', requiresArg: true, default: d.iters, describe: 'Adam steps per variant' })
    .option('batch', { type: 'number', requiresArg: true, default: d.batch, describe: 'HR patches per step' })
    .option('patch', { type: 'number', requiresArg: true, default: d.patch, describe: 'HR patch side in pixels (multiple of 4; BasicSR: 128)' })
    .option('features', { type: 'number', requiresArg: true, default: d.features, describe: 'MSRResNet feature channels (BasicSR: 64)' })
    .option('blocks', { type: 'number', requiresArg: true, default: d.blocks, describe: 'MSRResNet residual blocks (BasicSR: 16)' })
    .option('lr', { type: 'number', requiresArg: true, default: d.lr, describe: 'Adam learning rate (cosine-annealed to --lr-min)' })
    .option('lr-min', { type: 'number', requiresArg: true, default: d.lrMin, describe: 'learning rate at the last step' })
    .option('beta1', { type: 'number', requiresArg: true, default: d.beta1, describe: 'Adam β1' })
    .option('beta2', { type: 'number', requiresArg: true, default: d.beta2, describe: 'Adam β2' })
    .option('seed', { type: 'number', requiresArg: true, default: d.seed, describe: 'seed of weights, patches and loss network (shared by the variants)' })
    .option('pretrained', { type: 'string', requiresArg: true, default: d.pretrained, describe: "start from MSRResNet weights: BasicSR's MSRResNet_x4 .pth (with --features 64 --blocks 16) or a .safetensors state dict ('' = BasicSR init)" })
    .option('eval-every', { type: 'number', requiresArg: true, default: d.evalEvery, describe: 'validate every N steps (0: only at the end)' })
    .option('val-images', { type: 'number', requiresArg: true, default: d.valImages, describe: 'validation images (the first of the split)' })
    .option('data-roots', { type: 'string', requiresArg: true, alias: 'data-root', default: d.dataRoots.join(','), describe: 'comma-separated dataset folders whose RGB images are the HR source' })
    .option('out', { type: 'string', requiresArg: true, describe: `run folder (default ${RUNS}/<time>)` })
    .option('resume', { type: 'boolean', default: false, describe: 'continue the run in --out (default: the newest under runs/sr)' })
    .option('backend', backendOption())
    .option('verbose', verboseOption());
}

/** The newest run folder under `root` (by its config.json). */
function newestSrRun(root: string): string | undefined {
  if (!fs.existsSync(root)) return undefined;
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, 'config.json')))
    .map((e) => ({ dir: path.join(root, e.name), t: fs.statSync(path.join(root, e.name, 'config.json')).mtimeMs }))
    .sort((a, b) => b.t - a.t)[0]?.dir;
}

function splitList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : String(value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Flags (over --config, over the defaults) → a validated SrConfig. Exported for tests. */
export function configFromFlags(argv: Record<string, unknown>, explicit: ReadonlySet<string> = new Set(Object.keys(argv))): SrConfig {
  const merged = mergeFlags(argv, explicit, defaultSrConfig, 'sr');
  merged.variants = splitList(merged.variants);
  merged.dataRoots = splitList(merged.dataRoots);
  if (!merged.out) {
    merged.out = merged.resume ? newestSrRun(RUNS) ?? '' : path.join(RUNS, timestamp());
    if (!merged.out) throw new RangeError(`[sr] --resume: no run under ${RUNS}; pass --out <run folder>.`);
  }
  merged.backend = parseBackend(merged.backend, explicit.has('backend'));
  return validateSrConfig(merged as unknown as SrConfig);
}

async function trainCommand(argv: Record<string, unknown>, args: readonly string[]): Promise<void> {
  const cfg = configFromFlags(argv, explicitFlags(args));
  if (cfg.pretrained && !fs.existsSync(cfg.pretrained)) {
    throw new RangeError(`[sr] option 'pretrained': no file at ${cfg.pretrained}; expected MSRResNet weights (BasicSR .pth or .safetensors).`);
  }
  if (cfg.percepPretrained && !fs.existsSync(cfg.percepPretrained)) {
    throw new RangeError(`[sr] option 'percepPretrained': no file at ${cfg.percepPretrained}; expected torchvision's ${cfg.percep} weights (.pth or .safetensors).`);
  }
  if (!cfg.resume && fs.existsSync(path.join(cfg.out, 'config.json'))) {
    throw new RangeError(`[sr] option 'out': ${cfg.out} already holds a run; pass --resume to continue it, or choose another --out.`);
  }
  await startBackend(cfg.backend);
  console.log(`config: ${JSON.stringify(cfg)}`);
  const r = await trainSr(cfg);
  console.log(`\n${r.markdown}`);
  console.log(`wall time ${formatDuration(r.seconds)} (${r.results.map((v) => `${v.variant} ${v.secondsPerStep.toFixed(2)} s/step`).join(', ')})`);
  console.log(`run folder: ${path.relative(process.cwd(), r.runDir) || r.runDir} (results.md, results.csv, samples/)`);
}

export async function main(argv0: readonly string[]): Promise<void> {
  const args = prepareArgs(argv0, 'sr');
  await yargs(args)
    .scriptName('sr')
    .command(['train', '$0'], 'train MSRResNet ×4 with the pixel loss, + random VGG, + pretrained VGG; write the PSNR/SSIM table and PNGs', (y) => srFlags(y), (argv) => trainCommand(argv, args))
    .command(
      'eval',
      'PSNR/SSIM table and side-by-side PNGs of a run, from its checkpoints',
      (y) =>
        y
          .option('run', { type: 'string', requiresArg: true, describe: `run folder (default: the newest under ${RUNS})` })
          .option('val-images', { type: 'number', requiresArg: true, describe: "validation images (default: the run's)" })
          .option('backend', backendOption())
          .option('verbose', verboseOption()),
      async (argv) => {
        const run = argv.run ?? newestSrRun(RUNS);
        if (!run) throw new RangeError(`[sr] option 'run': no run under ${RUNS}; pass --run <folder>.`);
        const n = argv['val-images'];
        if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw new RangeError(`[sr] option 'valImages': expected an integer ≥ 1, received ${String(n)}.`);
        await startBackend(parseBackend(argv.backend, explicitFlags(args).has('backend')));
        console.log(await evalSr(run, n !== undefined ? { valImages: n } : {}));
      },
    )
    .strict()
    .help()
    .fail(failOnUsage)
    .parseAsync();
}

if (require.main === module) runCli(main, hideBin(process.argv));

/**
 * The `condinst` command line: `train` (default), `train-teacher` and `eval`, on the engine's
 * flags, config merge and error surface. Run it with `npx nx run condinst:train -- --iters 50` or
 * `npx tsx --tsconfig tsconfig.base.json packages/tasks/condinst/src/main.ts train --help`.
 */
import * as fs from 'fs';
import * as path from 'path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { IMAGENET_MEAN, IMAGENET_STD, isMiniRoot, recipeFor, type InstanceSample } from '@gpl/data';
import { CocoDataset, cocoDataset, instanceTestTransform, perCategoryTable, readEvalGroundTruth, summaryLines, writeCocoResults } from '@gpl/coco';
import {
  backendOption,
  explicitFlags,
  failOnUsage,
  mergeFlags,
  newestRun,
  parseBackend,
  resolveCheckpointPath,
  prepareArgs,
  runCli,
  runNxTarget,
  startBackend,
  timestamp,
  trainFlags,
  verboseOption,
} from '@gpl/engine';
import { RESNET_NAMES } from '@gpl/resnet';
import { compare } from './compare';
import { defaultCondInstConfig, validateCondInstConfig, type CondInstConfig } from './config';
import { formatMetrics, predictResults, scoreResults } from './eval';
import { writeInstanceDrawing } from './overlay';
import { loadCondInstModel, trainCondInst } from './task';

const RUNS = path.join('runs', 'condinst');
/** Where `condinst:train-teacher` writes the coco-mini teacher (and `--teacher auto` looks). */
export const MINI_TEACHER_RUN = path.join('runs', 'condinst-teacher', 'coco-mini');

/** Flags beside the engine's. */
function condInstFlags<T>(y: Argv<T>, d: CondInstConfig = defaultCondInstConfig) {
  return trainFlags(y, d)
    .option('data-root', { type: 'string', requiresArg: true, default: d.dataRoot, describe: 'COCO-format dataset folder (annotations/instances_<split>2017.json, <split>2017/)' })
    .option('backbone', { type: 'string', requiresArg: true, choices: RESNET_NAMES as unknown as string[], default: d.backbone, describe: 'encoder' })
    .option('width', { type: 'number', requiresArg: true, default: d.width, describe: 'width multiplier (1 = published network)' })
    .option('canvas', { type: 'string', requiresArg: true, default: '', describe: "training canvas height,width (multiples of 32); '' = the smallest that holds the recipe's largest resize" })
    .option('max-proposals', { type: 'number', requiresArg: true, default: d.maxProposals, describe: 'positive locations per batch drawn for the mask head' })
    .option('radius', { type: 'number', requiresArg: true, default: d.radius, describe: 'FCOS centre-sampling radius in strides (0: whole box)' })
    .option('pretrained', { type: 'string', requiresArg: true, default: d.pretrained, describe: "encoder weights: torchvision .pth, timm .safetensors or an mmdet/mmseg checkpoint ('' = from scratch)" })
    .option('teacher', { type: 'string', requiresArg: true, default: d.teacher, describe: `teacher checkpoint for the GPL target; 'none' = ground-truth masks; 'auto' = ${MINI_TEACHER_RUN} on coco-mini if present` })
    .option('verbose', verboseOption());
}

const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/**
 * `--teacher-pipeline` (what `nx run condinst:train` and `condinst:compare` pass): brings the
 * coco-mini teacher up to date through Nx (`condinst:train-teacher`, restored from Nx's cache when
 * its inputs are unchanged), streaming its progress, once the flags are known to be valid.
 */
function runTeacherPipeline(): void {
  console.log('teacher pipeline: npx nx run condinst:train-teacher (cached by Nx)');
  runNxTarget('condinst:train-teacher', { task: 'condinst', flag: '--teacher-pipeline', fix: 'Fix it and run again, or pass --teacher none to use the ground-truth masks.', workspaceRoot: WORKSPACE_ROOT });
}

/** Flags (over --config, over the defaults) → a validated config. Exported for tests. */
export function configFromFlags(
  argv: Record<string, unknown>,
  explicit: ReadonlySet<string> = new Set(Object.keys(argv)),
  defaults: CondInstConfig = defaultCondInstConfig,
  o: { readonly beforeAutoTeacher?: () => void } = {},
): CondInstConfig {
  const merged = mergeFlags(argv, explicit, defaults, 'condinst');
  if (typeof merged.canvas === 'string') {
    const text = merged.canvas.trim();
    merged.canvas = text ? text.split(/[,x]/).map((s) => Number(s.trim())) : [];
  }
  if (merged.teacher === 'none') merged.teacher = '';
  // 'auto' is resolved once everything else is known to be valid.
  const auto = merged.teacher === 'auto';
  if (auto) merged.teacher = '';
  if (!merged.out) {
    merged.out = merged.resume ? newestRun(RUNS) ?? '' : path.join(RUNS, `${path.basename(path.resolve(String(merged.dataRoot)))}-${String(merged.backbone)}-${timestamp()}`);
    if (!merged.out) throw new RangeError(`[condinst] --resume: no run with checkpoints under ${RUNS}; pass --out <run folder>.`);
  }
  merged.backend = parseBackend(merged.backend, explicit.has('backend'));
  const cfg = validateCondInstConfig(merged as unknown as CondInstConfig);
  if (!auto || cfg.percep === 'none' || !isMiniRoot(cocoDataset, cfg.dataRoot)) return cfg;
  o.beforeAutoTeacher?.();
  return fs.existsSync(path.join(MINI_TEACHER_RUN, 'checkpoints', 'latest')) ? { ...cfg, teacher: MINI_TEACHER_RUN } : cfg;
}

/**
 * The teacher's defaults: the student's network trained twice as long without the perceptual term
 * (the "longer-trained" teacher: at width 0.5 a step costs 2.3× as much on this machine),
 * written to MINI_TEACHER_RUN.
 */
export const teacherDefaults: CondInstConfig = Object.freeze({ ...defaultCondInstConfig, percep: 'none', teacher: '', iters: 2 * defaultCondInstConfig.iters, out: MINI_TEACHER_RUN });

/** `--teacher-pipeline`, for train and compare. */
const teacherPipelineOption = {
  type: 'boolean' as const,
  default: false,
  describe: `first bring the coco-mini teacher up to date (nx run condinst:train-teacher, cached), as nx run condinst:train does`,
};

const pipeline = (argv: Record<string, unknown>) => (argv['teacher-pipeline'] ? { beforeAutoTeacher: runTeacherPipeline } : {});

async function trainCommand(argv: Record<string, unknown>, args: readonly string[], defaults: CondInstConfig): Promise<void> {
  const cfg = configFromFlags(argv, explicitFlags(args), defaults, pipeline(argv));
  await startBackend(cfg.backend);
  console.log(`config: ${JSON.stringify(cfg)}`);
  const started = Date.now();
  const r = await trainCondInst(cfg);
  if (r.final) {
    console.log(formatMetrics(r.final));
    console.log(`(${r.step} steps, ${((Date.now() - started) / 1000).toFixed(0)} s, ${r.secondsPerStep.toFixed(2)} s/step)`);
  }
  console.log(`run folder: ${path.relative(process.cwd(), r.runDir) || r.runDir}`);
}

async function evalCommand(argv: { checkpoint?: string; dataRoot?: string; split: string; out?: string; drawings: number; scoreThreshold: number }): Promise<void> {
  if (!(argv.scoreThreshold >= 0 && argv.scoreThreshold < 1)) throw new RangeError(`[condinst] option 'score-threshold': expected a number in [0, 1), received ${argv.scoreThreshold}.`);
  const ck = resolveCheckpointPath(argv.checkpoint ?? newestRun(RUNS) ?? '', { prefer: 'best', option: '--checkpoint', hint: argv.checkpoint ? undefined : `No run with checkpoints under ${RUNS}: train one first (npx nx run condinst:train).` });
  const dataRoot = argv.dataRoot ?? (ck.config?.dataRoot as string | undefined) ?? defaultCondInstConfig.dataRoot;
  const ds = await cocoDataset.open(dataRoot, cocoDataset.splitName(argv.split));
  if (!(ds instanceof CocoDataset)) throw new TypeError('[condinst] the COCO descriptor opened something other than a CocoDataset.');
  const model = await loadCondInstModel(ck);
  try {
    const recipe = recipeFor(cocoDataset, dataRoot);
    const outDir = argv.out ?? path.join(ck.runDir ?? path.dirname(ck.dir), 'eval', `${argv.split}-${path.basename(ck.dir)}`);
    const results = await predictResults(model, ds, {
      numClasses: ds.classNames.length,
      scoreThreshold: argv.scoreThreshold,
      resize: instanceTestTransform(recipe),
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      onPrediction: async (s: InstanceSample, dets, i) => {
        if (i < argv.drawings) await writeInstanceDrawing(path.join(outDir, 'samples', `${s.id}.png`), s, dets, ds.classNames, ds.palette);
      },
    });
    const resultsFile = path.join(outDir, 'results.json');
    fs.mkdirSync(outDir, { recursive: true });
    await writeCocoResults(resultsFile, results);
    const gt = readEvalGroundTruth(path.join(dataRoot, ds.annotationFile));
    const m = scoreResults(gt, results, resultsFile, ds.length);
    console.log(`checkpoint ${path.relative(process.cwd(), ck.dir)} on ${ds.name} (${ds.length} images, ${results.length} detections)`);
    console.log('\nbbox:');
    console.log(summaryLines(m.box).join('\n'));
    console.log('\nsegm:');
    console.log(summaryLines(m.mask).join('\n'));
    console.log(`\nper-category mask AP:\n${perCategoryTable(m.mask).join('\n')}`);
    console.log(`\nresults: ${resultsFile} (COCO format: npx nx run coco:eval -- --gt ${path.join(dataRoot, ds.annotationFile)} --dt ${resultsFile} --iou-type segm)`);
  } finally {
    model.dispose();
  }
}

export async function main(argv0: readonly string[]): Promise<void> {
  const args = prepareArgs(argv0, 'condinst');
  await yargs(args)
    .scriptName('condinst')
    .command(['train', '$0'], 'train CondInst (FCOS + dynamic mask head), with λ·GPL on the sampled instances’ masks against a teacher', (y) => condInstFlags(y).option('teacher-pipeline', teacherPipelineOption), (argv) => trainCommand(argv, args, defaultCondInstConfig))
    .command('train-teacher', `train the teacher the default pipeline uses (${MINI_TEACHER_RUN}: width ${teacherDefaults.width}, no GPL)`, (y) => condInstFlags(y, teacherDefaults), (argv) => trainCommand(argv, args, teacherDefaults))
    .command(
      'compare',
      'baseline vs +GPL over several seeds: Markdown table of box and mask AP (mean ± std) and a plot against iterations',
      (y) => condInstFlags(y).option('teacher-pipeline', teacherPipelineOption).option('seeds', { type: 'string', requiresArg: true, default: '1,2,3', describe: 'comma-separated seeds' }),
      async (argv) => {
        const seeds = String(argv.seeds).split(',').map((s) => Number(s.trim()));
        if (!seeds.length || seeds.some((s) => !Number.isInteger(s))) throw new RangeError(`[condinst] option 'seeds': expected integers like 1,2,3, received '${argv.seeds}'.`);
        const flags: Record<string, unknown> = { ...argv };
        if (!flags.out) flags.out = path.join('runs', 'condinst-compare', timestamp());
        const cfg = configFromFlags(flags, explicitFlags(args), defaultCondInstConfig, pipeline(argv));
        if (cfg.percep === 'none') throw new RangeError('[condinst] compare: --percep none leaves nothing to compare; give a loss network (e.g. 1,1,1,1,1 or vgg16).');
        await startBackend(cfg.backend);
        const r = await compare(cfg, seeds);
        console.log(r.markdown);
        console.log(`table: ${r.tableFile}\nplot: ${r.plotFile}`);
      },
    )
    .command(
      'eval',
      'evaluate a checkpoint: pycocotools-equal box and mask AP, per-category AP, results.json in COCO format',
      (y) =>
        y
          .option('checkpoint', { type: 'string', requiresArg: true, describe: `run folder, checkpoints/ folder, step-* folder or a latest/best pointer (default: the newest run under ${RUNS})` })
          .option('data-root', { type: 'string', requiresArg: true, describe: "COCO-format dataset folder (default: the run's)" })
          .option('split', { type: 'string', requiresArg: true, default: 'val', describe: 'split to evaluate (train, val or a COCO split name)' })
          .option('out', { type: 'string', requiresArg: true, describe: 'folder for results.json and drawings (default: <run>/eval/<split>-<step>)' })
          .option('drawings', { type: 'number', requiresArg: true, default: 4, describe: 'draw this many samples (image / ground truth / prediction)' })
          .option('score-threshold', { type: 'number', requiresArg: true, default: 0.05, describe: 'keep locations whose class × centre-ness probability exceeds this (AdelaiDet INFERENCE_TH_TEST)' })
          .option('backend', backendOption())
          .option('verbose', verboseOption()),
      async (argv) => {
        await startBackend(parseBackend(argv.backend, explicitFlags(args).has('backend')));
        await evalCommand({ checkpoint: argv.checkpoint, dataRoot: argv['data-root'], split: argv.split, out: argv.out, drawings: argv.drawings, scoreThreshold: argv['score-threshold'] });
      },
    )
    .strict()
    .help()
    .fail(failOnUsage)
    .parseAsync();
}

if (require.main === module) runCli(main, hideBin(process.argv));

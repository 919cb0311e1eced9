/**
 * `teacher:generate`: soft labels of a trained teacher for a dataset split.
 *   npx tsx --tsconfig tsconfig.base.json packages/teacher/src/main.ts --checkpoint runs/teacher/cityscapes-mini \
 *     --dataset cityscapes --split train --out runs/soft-labels/cityscapes-mini-train [--shard 0/4]
 */
import * as path from 'path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { backendOption, explainDataRoot, explicitFlags, failOnUsage, parseBackend, prepareArgs, runCli, startBackend, verboseOption } from '@gpl/engine';
import { TEACHER_DATASETS, TEACHER_DATASET_NAMES, type TeacherDatasetName } from './datasets';
import { generateSoftLabels, parseShard } from './generate';

/** The teacher:generate CLI on `argv` (without node and the script). */
export async function main(argv0: readonly string[]): Promise<void> {
  const args = prepareArgs(argv0, '@gpl/teacher');
  const argv = await yargs(args)
    .scriptName('teacher-generate')
    .usage('$0 [options]: write teacher soft labels (8-bit class probabilities at the output stride) and a manifest')
    .option('checkpoint', { type: 'string', requiresArg: true, default: 'runs/teacher/cityscapes-mini', describe: 'teacher run folder, its checkpoints/ folder, a step-* folder or a latest/best pointer' })
    .option('dataset', { type: 'string', requiresArg: true, choices: TEACHER_DATASET_NAMES as unknown as string[], default: 'cityscapes', describe: 'dataset format' })
    .option('data-root', { type: 'string', requiresArg: true, describe: 'dataset folder (default: the embedded mini dataset)' })
    .option('split', { type: 'string', requiresArg: true, default: 'train', describe: 'split to label' })
    .option('out', { type: 'string', requiresArg: true, describe: 'output folder (default runs/soft-labels/<dataset>-mini-<split>)' })
    .option('stride', { type: 'number', requiresArg: true, default: 8, describe: 'input pixels per stored pixel (the model output stride)' })
    .option('shard', { type: 'string', requiresArg: true, default: '0/1', describe: "this process's share i/n of the samples (sample k goes to shard k mod n)" })
    .option('backend', backendOption())
    .option('verbose', verboseOption())
    .strict()
    .help()
    .fail(failOnUsage)
    // --help and --version return instead of ending the process, so tests run the CLI in-process.
    .exitProcess(false)
    .parseAsync();
  if (argv.help || argv.version) return;
  const dataset = argv.dataset as TeacherDatasetName;
  const d = TEACHER_DATASETS[dataset];
  const dataRoot = argv['data-root'] ?? (d.miniRoot ? path.relative(process.cwd(), d.miniRoot) : undefined);
  if (!dataRoot) throw new RangeError(`[@gpl/teacher] --dataset ${dataset} has no embedded data; pass --data-root.`);
  const shard = parseShard(argv.shard);
  const out = argv.out ?? path.join('runs', 'soft-labels', `${dataset}-mini-${argv.split}`);
  await startBackend(parseBackend(argv.backend, explicitFlags(args).has('backend')));
  const split = d.splitName(argv.split);
  const ds = await d.open(dataRoot, split).catch((e: unknown) => {
    throw explainDataRoot(e, dataset, TEACHER_DATASET_NAMES);
  });
  const started = Date.now();
  const r = await generateSoftLabels({ checkpoint: argv.checkpoint, dataset, dataRoot, split, ds, out, stride: argv.stride, shard });
  console.log(`${r.written} files written, ${r.skipped} skipped in ${((Date.now() - started) / 1000).toFixed(1)} s → ${out}${r.complete ? '' : ' (incomplete: other shards pending)'}`);
}

if (require.main === module) runCli(main, hideBin(process.argv));

/**
 * `teacher:generate`: soft labels of a trained teacher for a dataset split.
 *   npx tsx --tsconfig tsconfig.base.json packages/teacher/src/main.ts --checkpoint runs/teacher/cityscapes-mini \
 *     --dataset cityscapes --split train --out runs/soft-labels/cityscapes-mini-train [--shard 0/4]
 */
import * as path from 'path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_PREFERENCES, formatBackendReport, initBackend, parseBackendPreference } from '@gpl/core';
import { MINI_DATASET_ROOTS, TEACHER_DATASETS, datasetSplit, openSplit, type TeacherDatasetName } from './datasets';
import { generateSoftLabels, parseShard } from './generate';

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('teacher-generate')
    .usage('$0 [options]: write teacher soft labels (8-bit class probabilities at the output stride) and a manifest')
    .option('checkpoint', { type: 'string', default: 'runs/teacher/cityscapes-mini', describe: 'teacher run folder, its checkpoints/ folder or a step-* folder' })
    .option('dataset', { type: 'string', choices: TEACHER_DATASETS as unknown as string[], default: 'cityscapes', describe: 'dataset format' })
    .option('data-root', { type: 'string', describe: 'dataset folder (default: the embedded mini dataset)' })
    .option('split', { type: 'string', default: 'train', describe: 'split to label' })
    .option('out', { type: 'string', describe: 'output folder (default runs/soft-labels/<dataset>-mini-<split>)' })
    .option('stride', { type: 'number', default: 8, describe: 'input pixels per stored pixel (the model output stride)' })
    .option('shard', { type: 'string', default: '0/1', describe: "this process's share i/n of the samples (sample k goes to shard k mod n)" })
    .option('backend', { type: 'string', choices: BACKEND_PREFERENCES as unknown as string[], default: process.env.GPL_BACKEND ?? 'auto', describe: 'TensorFlow.js backend' })
    .strict()
    .help()
    .fail((msg, err) => {
      if (err) throw err;
      console.error(`${msg}\n\nRun with --help for the options.`);
      process.exit(1);
    })
    .parseAsync();
  const dataset = argv.dataset as TeacherDatasetName;
  const dataRoot = argv['data-root'] ?? MINI_DATASET_ROOTS[dataset];
  if (!dataRoot) throw new RangeError(`[@gpl/teacher] --dataset ${dataset} has no embedded data; pass --data-root.`);
  const shard = parseShard(argv.shard);
  const out = argv.out ?? path.join('runs', 'soft-labels', `${dataset}-mini-${argv.split}`);
  const report = await initBackend({ prefer: parseBackendPreference(argv.backend, '--backend') });
  console.log(`backend: ${formatBackendReport(report)}`);
  const ds = await openSplit(dataset, dataRoot, argv.split);
  const started = Date.now();
  const r = await generateSoftLabels({ checkpoint: argv.checkpoint, dataset, dataRoot, split: datasetSplit(dataset, argv.split), ds, out, stride: argv.stride, shard });
  console.log(`${r.written} files written, ${r.skipped} skipped in ${((Date.now() - started) / 1000).toFixed(1)} s → ${out}${r.complete ? '' : ' (incomplete: other shards pending)'}`);
}

main().catch((err: unknown) => {
  const e = err as Error;
  console.error(e instanceof RangeError || e instanceof TypeError ? e.message : e?.stack ?? String(err));
  process.exit(1);
});
